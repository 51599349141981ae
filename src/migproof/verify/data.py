"""Rows survive round trips: seed every table, then find each seeded row again, value for value.

``seed_rows`` puts a few rows into every table of a snapshot, parents before children, and
reads them back as text (``RETURNING col::text``), keyed by the primary key (else a unique key
of NOT NULL columns, else the whole row). ``compare_rows`` reads the same rows again after a
downgrade and an upgrade and reports, for the tables and columns that exist on both sides,
rows that are gone and values that changed. Only rows migproof inserted are compared, so a
data migration that adds, updates or deletes other rows is never a finding.

Speed: one multi-row ``INSERT … RETURNING`` per table when the first candidates pass (they
usually do), trial inserts of one row only after a failure; every read is a few ``UNION ALL``
queries over five tables each, sent together in one pipeline. Seeding is cumulative: passed
the previous result as ``existing``, ``seed_rows`` re-reads the rows it still tracks
(catching what a data migration did to them) and only seeds tables that have none, as
production data lives through every revision.

>>> seeded = seed_rows(conn, after)                                   # doctest: +SKIP
>>> # ... downgrade and upgrade the revision again ...
>>> problems = compare_rows(conn, take_snapshot(conn), seeded, before=before)  # doctest: +SKIP
>>> findings = row_findings(problems, revision="a1b2", location=None)          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from migproof.catalog.model import Column, Constraint, Snapshot, Table, quote_ident
from migproof.findings import Finding, Location, Severity
from migproof.sandbox.databases import pg_message
from migproof.verify._register import verify_check
from migproof.verify.rows import (
    Literals,
    TypeCatalog,
    candidates,
    check_literals,
    column_literals,
    columns_in_expression,
)

__all__ = [
    "FAILS_WITH_ROWS",
    "ROWS_LOST",
    "VALUES_CHANGED",
    "VALUES_LOST",
    "RowProblem",
    "RowTracker",
    "SeedResult",
    "SeededRow",
    "SeededTable",
    "SkippedTable",
    "compare_rows",
    "fails_with_rows_finding",
    "is_value_independent",
    "refresh_rows",
    "row_findings",
    "rows_note",
    "seed_rows",
]

ROWS_LOST = verify_check(
    "MP101",
    "rows-lost-by-downgrade",
    "rows are gone after a revision's downgrade and upgrade",
    what="Puts rows into every table before each round trip (values made from the column "
    "types, defaults, foreign keys and checks) and looks for each of them, by its key, after "
    "the revision's downgrade and upgrade again.",
    why="A downgrade that drops and recreates a table (or deletes rows) passes every schema "
    "comparison and loses production data on the day it is run.",
    fix="Change the table in place (`ALTER TABLE`, `op.alter_column`, `op.batch_alter_table`) "
    "instead of dropping and recreating it; copy the rows when a table must be rebuilt.",
)
VALUES_CHANGED = verify_check(
    "MP102",
    "values-changed-by-downgrade",
    "column values differ after a revision's downgrade and upgrade",
    what="Compares every value of the seeded rows, as text, before and after the round trip, "
    "for the columns that exist on both sides.",
    why="A column restored with another type (numeric as integer, timestamp as date, "
    "varchar(64) as varchar(8)) silently rounds or truncates every row.",
    fix="Restore the column's exact type in `downgrade()`; use `ALTER COLUMN … TYPE … USING` "
    "rather than dropping and re-adding it.",
)
VALUES_LOST = verify_check(
    "MP103",
    "column-emptied-by-downgrade",
    "a column's values are NULL after a revision's downgrade and upgrade",
    what="Reports columns whose seeded values are all NULL after the round trip.",
    why="A downgrade that drops a column and adds it back restores the schema exactly and "
    "loses every value in it.",
    fix="Alter the column in place instead of `op.drop_column` + `op.add_column`; when the "
    "downgrade must rebuild it, copy the values into the new column first.",
)

FAILS_WITH_ROWS = verify_check(
    "MP104",
    "migration-fails-with-rows",
    "a revision's upgrade or downgrade fails once its tables hold rows",
    what="Reports a revision whose upgrade (or downgrade) fails on the database holding the "
    "rows migproof seeded, passes on the same schema with empty tables, and would fail on any "
    "rows: a NOT NULL column added without a default, or one a downgrade brings back that "
    "way. An upgrade's failures that depend on the values (a foreign key, CHECK or cast "
    "added over existing columns, which real rows may satisfy) are noted as skipped; a "
    "downgrade's are a warning, since the rows were valid after the upgrade (an enum value "
    "or CHECK it widened, which the downgrade narrows again).",
    why="Production tables are not empty: `ADD COLUMN … NOT NULL` without a default passes CI "
    "on an empty database and stops the deploy, or the rollback when a downgrade does it.",
    fix="Give the new column a server default, or add it nullable, backfill it, then "
    "`SET NOT NULL`.",
)

_ROW_LIMIT = 2000  # rows read per keyless table: scratch tables hold migproof's and migrations'
_TRIALS = 40  # single-row attempts per table after the multi-row INSERT failed
_CHUNK = 5  # tables per UNION ALL: a DDL step makes the server plan again only its chunk


@dataclass(frozen=True, slots=True)
class SeededRow:
    """A row migproof inserted: its key values and every column's value, as text."""

    key: tuple[str | None, ...]
    values: Mapping[str, str | None]

    def describe(self, key_columns: Sequence[str]) -> str:
        """``(id)=(1)`` as PostgreSQL writes keys, or the row's first values when it has none."""
        if key_columns:
            values = ", ".join("NULL" if v is None else v for v in self.key)
            return f"({', '.join(key_columns)})=({values})"
        shown = list(self.values.items())[:4]
        return "(" + ", ".join(f"{k}={_show(v)}" for k, v in shown) + ")"


@dataclass(frozen=True, slots=True)
class SeededTable:
    """The rows migproof tracks in one table and how it finds them again."""

    table: str
    key_columns: tuple[str, ...]  # empty: the whole row is the key
    partitioned: bool
    rows: tuple[SeededRow, ...]
    adopted: bool = False  # rows a migration put there, not migproof: never deleted by it
    # the columns the table had when the rows were made: one added since is NULL in them
    # (unless a default or an UPDATE filled it), as in production's older rows
    columns: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SkippedTable:
    """A table where no valid row could be made, and PostgreSQL's reason."""

    table: str
    reason: str
    definition: Table  # seeding is tried again only when the table changes

    @property
    def item(self) -> tuple[str, str]:
        """As ``Report.skipped`` holds it: (what, why)."""
        return (f"rows for {self.table}", self.reason)


@dataclass(frozen=True, slots=True)
class SeedResult:
    """What ``seed_rows`` inserted and tracks, what it skipped, and the next row number."""

    tables: Mapping[str, SeededTable] = field(default_factory=dict)
    skipped: Mapping[str, SkippedTable] = field(default_factory=dict)
    new_skips: tuple[SkippedTable, ...] = ()  # skipped by this call (report these)
    next_number: int = 1

    @property
    def row_count(self) -> int:
        return sum(len(t.rows) for t in self.tables.values())


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A seeded row that is gone, or a column whose values changed, after a round trip."""

    check: str  # MP101, MP102 or MP103
    table: str
    column: str | None
    example: str  # the row, as ``(id)=(1)``
    before: str | None
    after: str | None
    count: int  # rows affected
    total: int  # rows compared


# -- seeding ------------------------------------------------------------------------------


def seed_rows(
    conn: psycopg.Connection[Any],
    snapshot: Snapshot,
    *,
    rows_per_table: int = 2,
    existing: SeedResult | None = None,
    reread: bool = True,
) -> SeedResult:
    """Insert ``rows_per_table`` rows into every table of ``snapshot`` that has no tracked rows.

    ``conn`` is an autocommit connection to the scratch database. With ``existing``, the rows
    it tracks are first read again (``reread``; skip it when ``refresh_rows`` or
    ``compare_rows`` just read them), and only tables without rows are seeded; a table
    skipped before is tried again only when its definition changed.
    """
    if existing is None:
        tracked: dict[str, SeededTable] = {}
    elif reread:
        tracked = dict(_reread(conn, snapshot, existing.tables))
    else:
        tracked = {k: t for k, t in existing.tables.items() if k in snapshot.tables and t.rows}
    skipped: dict[str, SkippedTable] = {}
    new_skips: list[SkippedTable] = []
    deferred: list[tuple[str, Constraint]] = []
    number = existing.next_number if existing else 1
    types = TypeCatalog.from_snapshot(snapshot)
    for key in _dependency_order(snapshot):
        table = snapshot.tables[key]
        if key in tracked or not _is_seedable(table):
            continue
        previous = existing.skipped.get(key) if existing else None
        if previous is not None and previous.definition == table:
            skipped[key] = previous
            continue
        seeder = _TableSeeder(conn, snapshot, table, types, tracked, number, rows_per_table)
        result = seeder.run()
        number = seeder.number
        if isinstance(result, SeededTable):
            tracked[key] = result
            deferred += [(key, fk) for fk in seeder.deferred]
        elif result.startswith("duplicate key value") and (
            adopted := _adopt(conn, table, key, rows_per_table)
        ):
            tracked[key] = adopted  # its own rows were in the way (a key made of two FKs)
        else:
            skip = SkippedTable(key, result, table)
            skipped[key] = skip
            new_skips.append(skip)
    _close_cycles(conn, snapshot, tracked, deferred)
    return SeedResult(tracked, skipped, tuple(new_skips), number)


def seed_allowed(
    conn: psycopg.Connection[Any], before: Snapshot, after: Snapshot, existing: SeedResult
) -> SeedResult:
    """One more row in each tracked table a revision let new values into, holding one:
    a label its enum gained, a string its widened CHECK lets in, or NULL where it dropped
    NOT NULL. The round trip then meets a row the old schema refuses, as production will
    once the new code writes one (phoenix's 2f9d1a65945f narrows its CHECK again in the
    downgrade). A row no value fits is not made, and not said: the table keeps its rows."""
    tracked = dict(existing.tables)
    number = existing.next_number
    types: TypeCatalog | None = None
    for key, table in after.tables.items():
        old = before.tables.get(key)
        if old is None or old is table or key not in tracked or tracked[key].adopted:
            continue
        forced = _newly_allowed(old, table, before, after)
        if not forced:
            continue
        types = types or TypeCatalog.from_snapshot(after)
        seeder = _TableSeeder(conn, after, table, types, tracked, number, 1, forced=forced)
        result = seeder.run()
        number = seeder.number
        if isinstance(result, SeededTable):
            tracked[key] = dataclasses.replace(tracked[key], rows=tracked[key].rows + result.rows)
    return SeedResult(tracked, existing.skipped, (), number)


def _newly_allowed(
    old: Table, new: Table, before: Snapshot, after: Snapshot
) -> dict[str, str | None]:
    """One column and a value the new table takes and the old one refused, or {}."""
    for column in new.columns:
        was = old.column(column.name)
        if was is None or column.generated or _is_generated_by_database(column):
            continue
        if was.not_null and not column.not_null:
            return {column.name: None}
        labels_before = before.enums.get(was.type)
        labels_after = after.enums.get(column.type)
        if labels_before is not None and labels_after is not None:
            gained = [v for v in labels_after.labels if v not in labels_before.labels]
            if gained:
                return {column.name: gained[0]}
        strings = column_literals(column, new).strings
        if strings:
            known = set(column_literals(was, old).strings)
            gained = [v for v in strings if v not in known]
            if gained:
                return {column.name: gained[0]}
    return {}


def _adopt(conn: psycopg.Connection[Any], table: Table, key: str, rows: int) -> SeededTable | None:
    """Rows a migration put in a table migproof could not seed, tracked as they are (phoenix's
    and argilla's link tables, filled by ``INSERT … SELECT`` over a key of two foreign keys
    that migproof's own rows then collided with); None when the table has none."""
    readable = [c.name for c in table.columns if not c.generated]
    schema, name = _split_key(key)
    query = sql.SQL("SELECT {} FROM {} LIMIT {}").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in readable),
        sql.Identifier(schema, name),
        sql.Literal(rows),
    )
    try:
        found = conn.execute(query).fetchall()
    except psycopg.Error:
        return None
    if not found:
        return None
    key_columns = _key_columns(table)
    seeded = []
    for row in found:
        values = dict(zip(readable, row, strict=True))
        seeded.append(SeededRow(tuple(values.get(c) for c in key_columns), values))
    partitioned = table.kind == "partitioned table"
    return SeededTable(
        key, key_columns, partitioned, tuple(seeded), adopted=True, columns=frozenset(readable)
    )


def refresh_rows(
    conn: psycopg.Connection[Any], snapshot: Snapshot, seeded: SeedResult
) -> SeedResult:
    """The tracked rows as they are now (one query): what a revision's upgrade did to them
    becomes the reference its round trip is compared with; rows that are gone are dropped."""
    tables = dict(_reread(conn, snapshot, seeded.tables))
    return SeedResult(tables, seeded.skipped, (), seeded.next_number)


def _is_seedable(table: Table) -> bool:
    # Partitions get their rows through the partitioned parent; foreign tables are elsewhere;
    # a table without columns (CREATE TABLE t ()) has no value to keep.
    return (
        table.partition_of is None
        and table.kind != "foreign table"
        and any(not c.generated for c in table.columns)
    )


def _dependency_order(snapshot: Snapshot) -> list[str]:
    """Table keys, parents before children.

    A cycle is broken at a nullable foreign key (its rows get NULL there); a cycle of NOT NULL
    foreign keys cannot be seeded and is broken anywhere (the table is skipped with a reason).
    """
    edges = {
        key: [
            (fk.references, _is_nullable(table, fk))
            for fk in table.foreign_keys
            if fk.references and fk.references != key and fk.references in snapshot.tables
        ]
        for key, table in snapshot.tables.items()
    }
    order: list[str] = []
    state: dict[str, int] = {}

    def reaches(start: str, goal: str) -> bool:
        seen, stack = {start}, [start]
        while stack:
            for parent, _ in edges[stack.pop()]:
                if parent == goal:
                    return True
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return False

    def visit(key: str) -> None:
        if state.get(key):
            return
        state[key] = 1
        for parent, nullable in edges[key]:
            if not (nullable and reaches(parent, key)):
                visit(parent)
        state[key] = 2
        order.append(key)

    for key in sorted(snapshot.tables):
        visit(key)
    return order


def _is_nullable(table: Table, fk: Constraint) -> bool:
    columns = [table.column(name) for name in fk.columns]
    return all(c is not None and not c.not_null for c in columns)


def _key_columns(table: Table) -> tuple[str, ...]:
    """Primary key, else the first unique constraint of NOT NULL columns, else () (whole row)."""
    if table.primary_key is not None:
        return table.primary_key.columns
    for constraint in sorted(table.unique_constraints, key=lambda c: c.name):
        columns = [table.column(name) for name in constraint.columns]
        if constraint.columns and all(c is not None and c.not_null for c in columns):
            return constraint.columns
    return ()


def _is_generated_by_database(column: Column) -> bool:
    """Identity, serial and generated columns: their values are left to PostgreSQL."""
    return bool(
        column.identity
        or column.generated
        or (column.default is not None and "nextval(" in column.default)
    )


class _TableSeeder:
    """Find values PostgreSQL accepts for one table and insert its rows."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        snapshot: Snapshot,
        table: Table,
        types: TypeCatalog,
        tracked: Mapping[str, SeededTable],
        number: int,
        rows: int,
        forced: Mapping[str, str | None] | None = None,
    ) -> None:
        self.conn, self.snapshot, self.table, self.types = conn, snapshot, table, types
        self.tracked, self.number, self.count = tracked, number, rows
        self.forced = forced or {}  # column -> the one value it gets (``seed_allowed``)
        self.key = _table_key(table)
        self.key_columns = _key_columns(table)
        self.readable = [c.name for c in table.columns if not c.generated]
        self.fk_values: dict[str, list[str | None]] = {}  # FK column -> its value per row
        self.fk_columns: set[str] = set()
        # the columns given values (FK columns among them); the others are PostgreSQL's
        self.filled = [c for c in table.columns if not _is_generated_by_database(c)]
        self.extra = self._partition_literals()
        # candidate values per column per row number; a choice is an index per column
        self.candidates: dict[str, dict[int, list[str | None]]] = {}

    # -- plan ---------------------------------------------------------------------------

    def run(self) -> SeededTable | str:
        """The rows inserted, or PostgreSQL's reason why no row could be made."""
        problem = self._plan_foreign_keys()
        if problem is not None:
            return problem
        numbers = list(range(self.number, self.number + self.count))
        self.number += self.count
        self.candidates = {
            c.name: self._candidates(c, numbers)
            for c in self.filled
            if c.name not in self.fk_columns
        }
        choice = dict.fromkeys(self.candidates, 0)
        rows, error = self._insert(numbers, choice)
        if error is not None:
            found, error = self._search(numbers[0], choice)
            if found is None:
                return _reason(error)
            choice, first = found
            rows = first
            if len(numbers) > 1:
                more, _ = self._insert(numbers[1:], choice, offset=1)
                rows += more
                if not more:
                    rows += self._insert_one_by_one(numbers[1:], choice)
        rows = self._link_self_references(rows)
        return SeededTable(
            self.key,
            self.key_columns,
            self.table.kind == "partitioned table",
            tuple(rows),
            columns=frozenset(c.name for c in self.table.columns),
        )

    def _candidates(self, column: Column, numbers: list[int]) -> dict[int, list[str | None]]:
        if column.name in self.forced:
            return {n: [self.forced[column.name]] for n in numbers}
        out: dict[int, list[str | None]] = {}
        literals = column_literals(column, self.table, self.extra.get(column.name))
        for n in numbers:
            values: list[str | None] = list(candidates(column.type, self.types, n, literals))
            if not column.not_null:
                values.append(None)  # NULL satisfies every CHECK
            out[n] = values
        return out

    def _partition_literals(self) -> dict[str, Literals]:
        """Bounds of a partitioned table's partitions: values that route rows somewhere."""
        if self.table.kind != "partitioned table" or not self.table.partition_key:
            return {}
        literals = Literals(prefer_strings=True)  # stays so: ``+`` keeps prefer_strings
        for child in self.snapshot.tables.values():
            if child.partition_of == self.key and child.partition_bound:
                literals = literals + check_literals(child.partition_bound)
        columns = columns_in_expression(self.table.partition_key, self.table)
        return dict.fromkeys(columns, literals)

    def _plan_foreign_keys(self) -> str | None:
        """Values of FK columns from the parents' rows; a reason when a NOT NULL FK has none.

        Wider foreign keys first: where two share a column (keystone's federated_user:
        idp_id alone, and (protocol_id, idp_id) together), the wider one's parent row gives
        all its columns, and the narrower one is met through that parent's own reference.
        Two keys to the same parent point at different rows of it in each row.
        """
        planned: dict[str, int] = {}  # parent table -> its foreign keys planned so far
        for fk in sorted(self.table.foreign_keys, key=lambda fk: -len(fk.columns)):
            if not fk.references or any(c in self.fk_columns for c in fk.columns):
                continue
            nullable = _is_nullable(self.table, fk)
            if fk.references == self.key:
                # self-reference: NULL now, linked to the first row once it exists
                if nullable:
                    self._set_fk(fk, [[None] * len(fk.columns)] * self.count)
                    continue
                if all(
                    (col := self.table.column(ref)) is not None
                    and not _is_generated_by_database(col)
                    for ref in fk.referenced_columns
                ):
                    continue  # NOT NULL self-reference: filled from the row's own key below
                return (
                    f"foreign key {fk.name} references the row's own "
                    f"{', '.join(fk.referenced_columns)}, which PostgreSQL generates, and its "
                    "columns are NOT NULL"
                )
            parents = self._parent_values(fk)
            if not parents:
                if nullable:
                    self._set_fk(fk, [[None] * len(fk.columns)] * self.count)
                    continue
                return f"foreign key {fk.name}: the referenced table {fk.references} has no rows"
            # a second key to the same parent starts at its next row: prefect's
            # block_document_reference checks that its two references differ
            shift = planned.get(fk.references, 0)
            planned[fk.references] = shift + 1
            self._set_fk(fk, [parents[(i + shift) % len(parents)] for i in range(self.count)])
        return None

    def _set_fk(self, fk: Constraint, values: list[list[str | None]]) -> None:
        for index, name in enumerate(fk.columns):
            self.fk_columns.add(name)
            self.fk_values[name] = [row[index] for row in values]

    def _parent_values(self, fk: Constraint) -> list[list[str | None]]:
        parent = self.tracked.get(fk.references or "")
        if parent is not None and all(c in parent.rows[0].values for c in fk.referenced_columns):
            return [[row.values[c] for c in fk.referenced_columns] for row in parent.rows]
        schema, name = _split_key(fk.references or "")
        query = sql.SQL("SELECT {} FROM {} WHERE {} LIMIT {}").format(
            sql.SQL(", ").join(
                sql.SQL("{}::text").format(sql.Identifier(c)) for c in fk.referenced_columns
            ),
            sql.Identifier(schema, name),
            sql.SQL(" AND ").join(
                sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in fk.referenced_columns
            ),
            sql.Literal(self.count),
        )
        try:
            return [list(row) for row in self.conn.execute(query).fetchall()]
        except psycopg.Error:
            return []

    # -- inserting ------------------------------------------------------------------------

    def _row(self, n: int, index: int, choice: Mapping[str, int]) -> dict[str, str | None]:
        row: dict[str, str | None] = {}
        for column in self.filled:
            name = column.name
            if name in self.fk_values:
                row[name] = self.fk_values[name][index % len(self.fk_values[name])]
            elif name in self.candidates:
                options = self.candidates[name][n]
                row[name] = options[min(choice[name], len(options) - 1)]
        for fk in self.table.foreign_keys:  # NOT NULL self-reference: point at itself
            if fk.references == self.key and fk.columns[0] not in self.fk_values:
                for col, ref in zip(fk.columns, fk.referenced_columns, strict=False):
                    row[col] = row.get(ref)
        return row

    def _insert(
        self, numbers: Sequence[int], choice: Mapping[str, int], offset: int = 0
    ) -> tuple[list[SeededRow], psycopg.Error | None]:
        rows = [self._row(n, offset + i, choice) for i, n in enumerate(numbers)]
        names = list(rows[0]) if rows and rows[0] else []
        target = sql.Identifier(self.table.schema, self.table.name)
        returning = sql.SQL(", ").join(
            sql.SQL("{}::text").format(sql.Identifier(c)) for c in self.readable
        )
        if names:
            values = sql.SQL(", ").join(
                sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(names)))
                for _ in rows
            )
            query = sql.SQL("INSERT INTO {} ({}) VALUES {} RETURNING {}").format(
                target, sql.SQL(", ").join(map(sql.Identifier, names)), values, returning
            )
            params: list[str | None] = [row[name] for row in rows for name in names]
        else:
            first = sql.Identifier(self.table.columns[0].name)
            query = sql.SQL("INSERT INTO {} ({}) VALUES {} RETURNING {}").format(
                target, first, sql.SQL(", ").join(sql.SQL("(DEFAULT)") for _ in rows), returning
            )
            params = []
        try:
            fetched = self.conn.execute(query, params).fetchall()
        except psycopg.Error as exc:
            return [], exc
        return [self._seeded(values) for values in fetched], None

    def _seeded(self, values: Sequence[str | None]) -> SeededRow:
        row = dict(zip(self.readable, values, strict=True))
        return SeededRow(tuple(row.get(k) for k in self.key_columns), row)

    def _search(
        self, n: int, choice: dict[str, int], offset: int = 0
    ) -> tuple[tuple[dict[str, int], list[SeededRow]] | None, psycopg.Error | None]:
        """Try other candidates, one row at a time, for the columns each error names."""
        frontier = [dict(choice)]
        seen = {tuple(sorted(choice.items()))}
        error: psycopg.Error | None = None
        for _ in range(_TRIALS):
            if not frontier:
                break
            attempt = frontier.pop(0)
            rows, failure = self._insert([n], attempt, offset=offset)
            if failure is None:
                return (attempt, rows), None
            error = error or failure
            culprits = self._culprits(failure, attempt, n)
            if culprits[:1] == ["*"]:
                culprits = culprits[1:]
                nulls = {
                    name: len(self.candidates[name][n]) - 1
                    for name in culprits
                    if self.candidates[name][n][-1] is None
                }
                if nulls and {**attempt, **nulls} != attempt:
                    new = {**attempt, **nulls}
                    seen.add(tuple(sorted(new.items())))
                    frontier.insert(0, new)
            for name in culprits:
                if name not in self.candidates:
                    continue
                following = attempt[name] + 1
                if following >= len(self.candidates[name][n]):
                    continue
                new = {**attempt, name: following}
                signature = tuple(sorted(new.items()))
                if signature not in seen:
                    seen.add(signature)
                    frontier.append(new)
        return None, error

    def _insert_one_by_one(
        self, numbers: Sequence[int], choice: Mapping[str, int]
    ) -> list[SeededRow]:
        """The rows the multi-row INSERT could not take, each searched for on its own."""
        rows: list[SeededRow] = []
        for offset, n in enumerate(numbers, start=1):
            inserted, error = self._insert([n], choice, offset=offset)
            if error is not None:
                found, _ = self._search(n, dict(choice), offset=offset)
                inserted = found[1] if found else []
            rows += inserted
        return rows

    def _culprits(self, error: psycopg.Error, attempt: Mapping[str, int], n: int) -> list[str]:
        """The columns an error is about, as far as PostgreSQL's diagnostics tell."""
        diag = error.diag
        names = [c.name for c in self.filled if c.name in self.candidates]
        if diag.column_name and diag.column_name in names:
            return [diag.column_name]
        constraint = diag.constraint_name
        if constraint:
            found = self._constraint_columns(constraint, diag.datatype_name)
            if found:
                return [name for name in names if name in found]
        if diag.sqlstate == "23514" and self.table.partition_key:  # no partition for the row
            keys = columns_in_expression(self.table.partition_key, self.table)
            return [name for name in names if name in keys] or names
        message = (diag.message_primary or "").lower()
        row = self._row(n, 0, attempt)
        by_value = [n for n in names if row.get(n) is not None and f'"{row[n]}"'.lower() in message]
        if by_value:
            return by_value
        by_type = [n for n in names if _type_word(self.table, n) in message]
        if by_type:
            return by_type
        # nothing says which column: first try every nullable one as NULL at once
        return ["*", *names]

    def _constraint_columns(self, name: str, datatype: str | None) -> set[str]:
        for constraint in self.table.constraints:
            if constraint.name == name:
                if constraint.columns:
                    return set(constraint.columns)
                return columns_in_expression(constraint.expression or "", self.table)
        for index in self.snapshot.indexes_of(self.key):
            if index.name == name:
                return columns_in_expression(" ".join(index.keys), self.table)
        if datatype:  # a domain's CHECK: every column of that domain (or an array of it)
            return {
                c.name
                for c in self.table.columns
                if c.type.removesuffix("[]").rsplit(".", 1)[-1].strip('"') == datatype
            }
        return set()

    def _link_self_references(self, rows: list[SeededRow]) -> list[SeededRow]:
        """Point the second row's nullable self-reference at the first row."""
        links = [
            fk
            for fk in self.table.foreign_keys
            if fk.references == self.key
            and all(self.fk_values.get(c, [0])[0] is None for c in fk.columns)
        ]
        if not links or len(rows) < 2:
            return rows
        updated = _point_at(self.conn, self.table, rows[1], links, rows[0])
        return rows if updated is None else [rows[0], updated, *rows[2:]]

    @property
    def deferred(self) -> list[Constraint]:
        """Nullable FKs left NULL because their parent had no rows yet (a cycle)."""
        return [
            fk
            for fk in self.table.foreign_keys
            if fk.references != self.key
            and fk.columns
            and all(self.fk_values.get(c, [0])[0] is None for c in fk.columns)
        ]


def _point_at(
    conn: psycopg.Connection[Any],
    table: Table,
    row: SeededRow,
    fks: Sequence[Constraint],
    parent: SeededRow,
) -> SeededRow | None:
    """Set ``row``'s ``fks`` to the referenced values of ``parent``; the updated row, or None."""
    key = _key_columns(table)
    if not key or any(v is None for v in row.key):
        return None
    readable = [c.name for c in table.columns if not c.generated]
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(col), sql.Literal(parent.values.get(ref)))
        for fk in fks
        for col, ref in zip(fk.columns, fk.referenced_columns, strict=False)
    )
    where = sql.SQL(" AND ").join(
        sql.SQL("{}::text = {}").format(sql.Identifier(k), sql.Literal(v))
        for k, v in zip(key, row.key, strict=True)
    )
    returning = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in readable)
    query = sql.SQL("UPDATE {} SET {} WHERE {} RETURNING {}").format(
        sql.Identifier(table.schema, table.name), assignments, where, returning
    )
    try:
        updated = conn.execute(query).fetchall()
    except psycopg.Error:
        return None
    if len(updated) != 1:
        return None
    values = dict(zip(readable, updated[0], strict=True))
    return SeededRow(tuple(values.get(k) for k in key), values)


def _close_cycles(
    conn: psycopg.Connection[Any],
    snapshot: Snapshot,
    tracked: dict[str, SeededTable],
    deferred: list[tuple[str, Constraint]],
) -> None:
    """Point the first row of each table whose FK was left NULL at its parent's first row."""
    for key, fk in deferred:
        child, parent = tracked.get(key), tracked.get(fk.references or "")
        if child is None or parent is None or not child.rows or not parent.rows:
            continue
        updated = _point_at(conn, snapshot.tables[key], child.rows[0], [fk], parent.rows[0])
        if updated is not None:
            tracked[key] = dataclasses.replace(child, rows=(updated, *child.rows[1:]))


def _delete_rows(conn: psycopg.Connection[Any], seeded: SeededTable) -> bool:
    """Delete a table's tracked rows by key (by every value when it has none); False when
    PostgreSQL refused some (referenced by rows still there, or the table is gone)."""
    done = True
    target = sql.Identifier(*_split_key(seeded.table))
    for row in seeded.rows:
        columns = seeded.key_columns or tuple(row.values)
        values = row.key if seeded.key_columns else tuple(row.values.values())
        where = sql.SQL(" AND ").join(
            sql.SQL("{}::text IS NOT DISTINCT FROM {}").format(sql.Identifier(c), sql.Literal(v))
            for c, v in zip(columns, values, strict=True)
        )
        try:
            conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(target, where))
        except psycopg.Error:
            done = False
    return done


def _type_word(table: Table, name: str) -> str:
    """A column's type as an error message names it (``character varying(3)``, ``xml``)."""
    column = table.column(name)
    if column is None:
        return "\x00"
    return " " + column.type.removesuffix("[]").rsplit(".", 1)[-1].strip('"').lower()


def _reason(error: psycopg.Error | None) -> str:
    if error is None:
        return "no candidate values to try"
    return pg_message(error)


# -- reading ------------------------------------------------------------------------------


def _table_key(table: Table) -> str:
    return f"{quote_ident(table.schema)}.{quote_ident(table.name)}"


def _split_key(key: str) -> tuple[str, str]:
    """``public."Order"`` -> (``public``, ``Order``)."""
    parts: list[str] = []
    current, quoted, i = "", False, 0
    while i < len(key):
        char = key[i]
        if char == '"':
            if quoted and i + 1 < len(key) and key[i + 1] == '"':
                current += '"'
                i += 1
            else:
                quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
        i += 1
    parts.append(current)
    return parts[0], parts[-1]


@dataclass(frozen=True, slots=True)
class _Read:
    """Which columns to read from a table, and which rows (by key, or all of them)."""

    seeded: SeededTable
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]  # empty: read every row (up to _ROW_LIMIT)

    @property
    def shape(self) -> _Shape:
        return (self.seeded.table, self.columns, self.key_columns, self.seeded.partitioned)

    def key_params(self) -> list[list[str | None]]:
        """One array per key column: the wanted rows' key values."""
        return [[row.key[i] for row in self.seeded.rows] for i in range(len(self.key_columns))]


def _read_plan(snapshot: Snapshot, tables: Mapping[str, SeededTable]) -> list[_Read]:
    plan = []
    for key, seeded in sorted(tables.items()):
        table = snapshot.tables.get(key)
        if table is None or not seeded.rows:
            continue
        columns = tuple(c.name for c in table.columns if not c.generated)
        usable = all(k in columns for k in seeded.key_columns)
        plan.append(_Read(seeded, columns, seeded.key_columns if usable else ()))
    return plan


def _read(
    conn: psycopg.Connection[Any], plan: list[_Read]
) -> dict[str, list[dict[str, str | None]]]:
    """Every planned table's rows as {column: text}, in one query per _CHUNK tables.

    The query text depends only on the tables' shapes (the wanted keys are parameters), so
    it is composed once and, run again at every revision, prepared by psycopg; a step that
    changes one table makes the server plan only that table's chunk again.
    """
    out: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    chunks = [plan[start : start + _CHUNK] for start in range(0, len(plan), _CHUNK)]
    with conn.pipeline():  # one round trip for all chunks
        cursors = [
            conn.execute(
                _chunk_query(conn, tuple(read.shape for read in chunk)),
                [values for read in chunk for values in read.key_params()],
                prepare=True,
            )
            for chunk in chunks
        ]
    for chunk, cursor in zip(chunks, cursors, strict=True):
        for index, values in cursor.fetchall():
            read = chunk[index]
            out[read.seeded.table].append(dict(zip(read.columns, values, strict=True)))
    return out


_Shape = tuple[str, tuple[str, ...], tuple[str, ...], bool]
_QUERIES: dict[tuple[_Shape, ...], bytes] = {}


def _chunk_query(conn: psycopg.Connection[Any], shapes: tuple[_Shape, ...]) -> bytes:
    query = _QUERIES.get(shapes)
    if query is None:
        if len(_QUERIES) > 256:
            _QUERIES.clear()
        composed = sql.SQL(" UNION ALL ").join(
            _select(index, shape) for index, shape in enumerate(shapes)
        )
        query = _QUERIES[shapes] = composed.as_bytes(conn)
    return query


def _select(index: int, shape: _Shape) -> sql.Composable:
    table, columns, key_columns, partitioned = shape
    schema, name = _split_key(table)
    source = sql.SQL("{}" if partitioned else "ONLY {}").format(sql.Identifier(schema, name))
    values = sql.SQL("ARRAY[{}]::text[]").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns)
    )
    if not key_columns:
        return sql.SQL("(SELECT {}, {} FROM {} LIMIT {})").format(
            sql.Literal(index), values, source, sql.Literal(_ROW_LIMIT)
        )
    if len(key_columns) == 1:  # the common case: a scan with a filter, no join
        return sql.SQL("(SELECT {}, {} FROM {} WHERE {}::text = ANY(%s::text[]))").format(
            sql.Literal(index), values, source, sql.Identifier(key_columns[0])
        )
    key = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(k)) for k in key_columns)
    arrays = sql.SQL(", ").join(sql.SQL("%s::text[]") for _ in key_columns)
    return sql.SQL("(SELECT {}, {} FROM {} WHERE ({}) IN (SELECT * FROM unnest({})))").format(
        sql.Literal(index), values, source, key, arrays
    )


def _match(
    seeded: SeededTable, key_columns: tuple[str, ...], found: list[dict[str, str | None]]
) -> Iterator[tuple[SeededRow, dict[str, str | None] | None]]:
    """Each seeded row with the row read now that is the same row, or None."""
    if key_columns:
        by_key = {tuple(row.get(k) for k in key_columns): row for row in found}
        for row in seeded.rows:
            yield row, by_key.get(row.key)
        return
    pool = list(found)
    for row in seeded.rows:
        common = [c for c in row.values if pool and c in pool[0]]
        match = next(
            (i for i, cand in enumerate(pool) if all(cand[c] == row.values[c] for c in common)),
            None,
        )
        yield row, pool.pop(match) if match is not None else None


def _reread(
    conn: psycopg.Connection[Any], snapshot: Snapshot, tables: Mapping[str, SeededTable]
) -> Iterator[tuple[str, SeededTable]]:
    """The tracked rows as they are now; rows that are gone are forgotten."""
    plan = _read_plan(snapshot, tables)
    found = _read(conn, plan)
    for read in plan:
        seeded = read.seeded
        rows = []
        for _row, now in _match(seeded, read.key_columns, found[seeded.table]):
            if now is not None:
                rows.append(SeededRow(tuple(now.get(k) for k in seeded.key_columns), now))
        if rows:
            yield seeded.table, dataclasses.replace(seeded, rows=tuple(rows))


# -- comparing ----------------------------------------------------------------------------


def compare_rows(
    conn: psycopg.Connection[Any],
    snapshot_now: Snapshot,
    seeded: SeedResult,
    *,
    before: Snapshot | None = None,
    since: dt.datetime | None = None,
) -> list[RowProblem]:
    """Seeded rows that are gone or changed, in the tables and columns on both sides.

    ``before`` is the schema before the revision's first upgrade: tables and columns the
    revision itself creates are not expected to keep their rows through its downgrade.
    ``since`` is when the walk began: a timestamp that changed from one value after it to
    another (``updated_at`` set by a trigger or by ``now()`` in a data migration) is the
    clock, not lost data, and is not reported.
    """
    tables = {
        key: t
        for key, t in seeded.tables.items()
        if key in snapshot_now.tables and (before is None or key in before.tables)
    }
    plan = _read_plan(snapshot_now, tables)
    found = _read(conn, plan)
    problems: list[RowProblem] = []
    for read in plan:
        columns = set(read.columns)
        if before is not None:
            old = before.tables[read.seeded.table]
            columns &= {c.name for c in old.columns if not c.generated}
        problems += _compare_table(read, found[read.seeded.table], columns, since)
    return problems


def _compare_table(
    read: _Read,
    found: list[dict[str, str | None]],
    columns: set[str],
    since: dt.datetime | None = None,
) -> list[RowProblem]:
    seeded = read.seeded
    key_columns = read.key_columns
    if not key_columns:
        # keyless: a row is found when every compared column is equal
        found = [{c: row.get(c) for c in columns} for row in found]
        narrowed = tuple(
            SeededRow(r.key, {c: v for c, v in r.values.items() if c in columns})
            for r in seeded.rows
        )
        seeded = dataclasses.replace(seeded, key_columns=(), rows=narrowed)
    lost: list[SeededRow] = []
    changed: dict[str, list[tuple[SeededRow, str | None, str | None]]] = defaultdict(list)
    for row, now in _match(seeded, key_columns, found):
        if now is None:
            lost.append(row)
            continue
        for column in sorted(columns):
            old, new = row.values.get(column), now.get(column)
            if column in row.values and old != new and not _is_clock(old, new, since):
                changed[column].append((row, old, new))
    total = len(seeded.rows)
    problems = []
    if lost:
        problems.append(
            RowProblem(
                ROWS_LOST.code,
                seeded.table,
                None,
                lost[0].describe(seeded.key_columns),
                None,
                None,
                len(lost),
                total,
            )
        )
    for column, rows in sorted(changed.items()):
        emptied = all(after is None for _, _, after in rows)
        first_row, first_before, first_after = rows[0]
        problems.append(
            RowProblem(
                VALUES_LOST.code if emptied else VALUES_CHANGED.code,
                seeded.table,
                column,
                first_row.describe(seeded.key_columns),
                first_before,
                first_after,
                len(rows),
                total,
            )
        )
    return problems


def _is_clock(old: str | None, new: str | None, since: dt.datetime | None) -> bool:
    """Both values are timestamps taken during the walk (migproof seeds 2024 and 2080)."""
    if since is None or old is None or new is None:
        return False
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    moments = [_timestamp(v) for v in (old, new)]
    return all(m is not None and since <= m <= until for m in moments)


def _timestamp(text: str) -> dt.datetime | None:
    """A timestamp(tz) as PostgreSQL prints it with DateStyle ISO, as UTC; else None."""
    value = text.strip()
    if len(value) < 19 or value[4] != "-" or value[10] != " ":
        return None
    if value[-3] in "+-" and value[-3:].replace("+", "").replace("-", "").isdigit():
        value += ":00"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # timestamp without time zone: as written
    return moment.astimezone(dt.UTC)


def row_findings(
    problems: Iterable[RowProblem], *, revision: str | None, location: Location | None
) -> list[Finding]:
    """Findings for the problems of one revision's round trip."""
    return [_finding(p, revision, location) for p in problems]


def _finding(problem: RowProblem, revision: str | None, location: Location | None) -> Finding:
    trip = f"the downgrade and upgrade again of {revision}" if revision else "the round trip"
    of = f"{problem.count} of {problem.total}"
    match problem.check:
        case ROWS_LOST.code:
            message = (
                f"{of} rows put into {problem.table} are gone after {trip}, "
                f"e.g. the row {problem.example}"
            )
            fix = (
                f"the downgrade drops and recreates {problem.table} or deletes its rows: alter "
                "the table in place, or copy the rows back"
            )
        case VALUES_LOST.code:
            message = (
                f"column {problem.table}.{problem.column} is NULL in {of} rows after {trip} "
                f"(the row {problem.example} had {_show(problem.before)})"
            )
            fix = (
                f"the downgrade drops and re-adds {problem.column}, or resets it: alter it in "
                "place, or copy its values back"
            )
        case _:
            message = (
                f"column {problem.table}.{problem.column} changed in {of} rows by {trip}: "
                f"{_show(problem.before)} became {_show(problem.after)} "
                f"in the row {problem.example}"
            )
            fix = (
                f"restore {problem.column}'s exact type in downgrade(), and convert values "
                "with ALTER COLUMN … TYPE … USING rather than dropping the column"
            )
    return Finding(
        check=problem.check,
        severity=ROWS_LOST.severity,
        message=message,
        fix=fix,
        location=location,
        revision=revision,
    )


def _show(value: str | None) -> str:
    if value is None:
        return "NULL"
    shown = value if len(value) <= 60 else value[:57] + "..."
    return "'" + shown.replace("'", "''") + "'"


def fails_with_rows_finding(
    *,
    revision: str,
    direction: str,
    error: str,
    statement: str | None,
    location: Location | None,
    seeded: SeedResult,
    before: Snapshot | None = None,
    after: Snapshot | None = None,
    history: Sequence[str] = (),
    sqlstate: str | None = None,
    passed_empty: bool = True,
) -> Finding | None:
    """MP104 when ``direction`` ("upgrade" or "downgrade") of ``revision`` failed with rows in
    the tables and not without them (``passed_empty``: it passed; else it failed later on),
    and any rows at all make it fail; else None.

    Only failures that do not depend on the values are findings: a NOT NULL column added
    without a default fails on every non-empty table, and a statement PostgreSQL rejects
    whatever the data (``sqlstate`` of class 42: an operator that does not exist, a type
    mismatch) that the revision runs only for existing rows (a loop over a SELECT: zenml's
    ``is_service_account = 0``) never ran on empty tables. A foreign key, CHECK or cast added
    over existing columns fails on the values migproof made up, which production rows may
    well satisfy: not a finding (``rows_note`` says what happened instead).
    """
    # only when it passed on empty tables: failing there too, it is just wrong (MP010/MP011)
    per_row = passed_empty and sqlstate in _WRONG_WHATEVER_THE_DATA
    if not per_row and not is_value_independent(
        error,
        statement,
        before=before,
        after=after,
        seeded=seeded,
        history=history,
    ):
        return None
    text = (statement or "").lower()
    # the tables the statement names first: the one it alters is the one that matters
    ranked = sorted(seeded.tables, key=lambda t: (t.rpartition(".")[2].lower() not in text, t))
    tables = ", ".join(ranked[:5]) + (" …" if len(ranked) > 5 else "")
    return Finding(
        check=FAILS_WITH_ROWS.code,
        severity=FAILS_WITH_ROWS.severity,
        revision=revision,
        message=(
            f"{direction} of {revision} fails when the tables hold rows ("
            + (
                "it passes on empty tables"
                if passed_empty
                else "on empty tables it gets past this, then fails further on"
            )
            + f"): {error}"
        ),
        fix=_PER_ROW_FIX
        if per_row
        else "production tables hold rows: give the column the downgrade brings back a "
        "server default, or add it nullable, fill it, then SET NOT NULL"
        if direction == "downgrade"
        else FAILS_WITH_ROWS_FIX,
        statement=statement,
        location=location,
        context=(("tables holding rows", tables),) if tables else (),
    )


# SQLSTATEs of statements PostgreSQL rejects whatever the rows hold: an undefined function
# or operator, an undefined column or table, a syntax error (not a type mismatch: a value
# computed from migproof's made-up rows may have the wrong type where production's has not)
_WRONG_WHATEVER_THE_DATA = frozenset({"42883", "42703", "42P01", "42601", "42725", "42P18"})
_PER_ROW_FIX = (
    "the statement runs only when the tables hold rows (once per row a query returned), so it"
    " never ran on an empty database, and PostgreSQL rejects it whatever the data: correct it"
)
_NULLS_IN = re.compile(r'column "(?P<column>[^"]+)" of relation "(?P<table>[^"]+)" contains null')
_CHECK_VIOLATED = re.compile(
    r'check constraint "(?P<name>[^"]+)" of relation "(?P<table>[^"]+)" is violated by some row'
)


def is_value_independent(
    error: str,
    statement: str | None,
    *,
    before: Snapshot | None = None,
    after: Snapshot | None = None,
    seeded: SeedResult | None = None,
    history: Sequence[str] = (),
) -> bool:
    """A failure any row causes: ``ADD COLUMN … NOT NULL`` without a default, or, in two
    steps, a column the revision added (NULL in every existing row) then made NOT NULL, a
    primary key, or checked ``IS NOT NULL`` (rucio's, and Alembic's usual add_column then
    alter_column(nullable=False)). ``before`` and ``after`` are the schema before the
    revision and after it passed on empty tables: the columns it added are the difference.
    ``history``: every statement the walk ran before the failing one; a column one of
    them fills (``UPDATE t SET c = …``, letta's backfill from a joined table) is NULL only
    where the backfill found nothing for migproof's made-up values: that depends on the
    values. With ``seeded`` (the rows' tables), a column an earlier revision added after
    the rows were made, and no statement filled, is NULL in them as in every older
    production row (glance's ``visibility``, added in one revision, required in a later
    one): that depends on no value either.
    """
    from migproof.verify.hints import mentions

    text = " ".join((statement or "").upper().split())
    if "contains null values" in error and "ADD COLUMN" in text and "NOT NULL" in text:
        return True
    if before is None or after is None:
        return False
    if (match := _NULLS_IN.search(error)) is not None:
        column, table = match["column"], match["table"]
        if any(_fills(sql, table, column) for sql in history):
            return False
        return column in _added_columns(before, after, table) or _added_since_seeded(
            seeded, table, column
        )
    if (match := _CHECK_VIOLATED.search(error)) is not None:
        added = _added_columns(before, after, match["table"])
        for table in _tables_named(after, match["table"]):
            for constraint in table.constraints:
                expression = constraint.expression or ""
                if constraint.name == match["name"] and "IS NOT NULL" in expression.upper():
                    return any(mentions(expression, column) for column in added)
    return False


def _added_since_seeded(seeded: SeedResult | None, table: str, column: str) -> bool:
    """Whether the rows of the tables named ``table`` were made before ``column`` existed."""
    tables = [
        t for key, t in (seeded.tables.items() if seeded else ()) if _split_key(key)[1] == table
    ]
    return bool(tables) and all(t.columns and column not in t.columns for t in tables)


def _fills(sql: str, table: str, column: str) -> bool:
    """Whether ``sql`` is an UPDATE of ``table`` that sets ``column``.

    >>> _fills('UPDATE messages SET organization_id = users.organization_id FROM users',
    ...        "messages", "organization_id")
    True
    >>> _fills('WITH o AS (SELECT 1) UPDATE "public"."t" SET w = 1', "t", "w")
    True
    """
    match = _UPDATE_SET.search(sql)
    if match is None or match["table"].rpartition(".")[2].strip('"') != table:
        return False
    name = re.escape(column)
    return re.search(rf'(?:^|,)\s*"?{name}"?\s*=', match["rest"], re.IGNORECASE) is not None


# the UPDATE of a statement, a CTE's (WITH … UPDATE) too
_UPDATE_SET = re.compile(
    r'\bUPDATE\s+(?:ONLY\s+)?(?P<table>[\w."]+)(?:\s+(?:AS\s+)?\w+)?\s+SET\s+(?P<rest>.*)',
    re.IGNORECASE | re.DOTALL,
)


def _tables_named(snapshot: Snapshot, name: str) -> list[Table]:
    return [t for t in snapshot.tables.values() if t.name == name]


def _added_columns(before: Snapshot, after: Snapshot, table: str) -> set[str]:
    """The columns of the tables named ``table`` that are in ``after`` and not in ``before``
    (tables that existed before only: a new table has no rows)."""
    added: set[str] = set()
    for key, now in after.tables.items():
        then = before.tables.get(key)
        if now.name == table and then is not None:
            added |= {c.name for c in now.columns} - {c.name for c in then.columns}
    return added


def downgrade_rows_finding(
    *, revision: str, error: str, statement: str | None, location: Location | None
) -> Finding:
    """MP104, a warning, for a downgrade that fails on the rows in the tables and passes
    without them, on values that do not fail any rows: the rows were valid after the
    upgrade (a value its widened CHECK or enum lets in: phoenix's 'CODE', rucio's 'P'),
    and production will have such rows once the new code writes them."""
    return Finding(
        check=FAILS_WITH_ROWS.code,
        severity=Severity.WARNING,
        revision=revision,
        message=(
            f"downgrade of {revision} fails on rows the schema after {revision} allows (it "
            f"passes on empty tables): {error}"
        ),
        fix="make the downgrade convert (or delete) the rows the upgrade lets in before it "
        f"restores what refuses them; until then a rollback past {revision} fails once such "
        "rows exist",
        statement=statement,
        location=location,
    )


def rows_note(revision: str, direction: str, error: str) -> tuple[str, str]:
    """A ``Report.skipped`` item for a failure caused by made-up values, not a finding."""
    return (
        f"rows during the {direction} of {revision}",
        f"it fails on the values migproof made up ({error}) and passes on empty tables; "
        "the rows were removed for it and the tables seeded again after it",
    )


FAILS_WITH_ROWS_FIX = (
    "production tables hold rows: give the new NOT NULL column a server default, or add it "
    "nullable, backfill it, then SET NOT NULL"
)


class RowTracker:
    """Data preservation for one walk: three calls per revision, findings out.

    >>> tracker = RowTracker(conn)                                   # doctest: +SKIP
    >>> # per revision R, ``before`` being the snapshot before R's first upgrade:
    >>> tracker.after_upgrade(after)                                 # doctest: +SKIP
    >>> findings = tracker.after_round_trip(now, before=before, revision=rid,
    ...                                      location=where)         # doctest: +SKIP
    >>> report.skipped.extend(tracker.take_skipped())                # doctest: +SKIP

    A revision without a round trip (irreversible, or its downgrade failed) calls
    ``after_upgrade`` and then ``seed(snapshot)``. After the walk rebuilds its database, hand
    the new connection to ``reconnect``: the rows are gone and are forgotten at the next
    ``after_upgrade``.
    """

    def __init__(self, conn: psycopg.Connection[Any], *, rows_per_table: int = 2) -> None:
        self.conn = conn
        self.rows_per_table = rows_per_table
        self.tracked = SeedResult()
        self._skipped: list[tuple[str, str]] = []
        self._lost_track = False  # some rows were forgotten (they may still be there)
        # a minute of slack: the server's clock, not ours, wrote the values
        self.since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

    def seed(self, snapshot: Snapshot) -> None:
        """Put rows into the tables of ``snapshot`` that have none (no re-read)."""
        self.tracked = seed_rows(
            self.conn,
            snapshot,
            rows_per_table=self.rows_per_table,
            existing=self.tracked,
            reread=False,
        )
        self._skipped += [skip.item for skip in self.tracked.new_skips]

    def after_upgrade(self, snapshot: Snapshot, *, before: Snapshot | None = None) -> None:
        """Take the tracked rows, as the upgrade left them, as the reference; with the
        schema ``before`` the upgrade, add a row holding a value it newly allows
        (``seed_allowed``)."""
        self._refresh(snapshot)
        if before is not None and before is not snapshot:
            self.tracked = seed_allowed(self.conn, before, snapshot, self.tracked)

    def _refresh(self, snapshot: Snapshot) -> None:
        """Re-read the tracked rows; the ones not found by their key are forgotten, though
        they may still be there under another key (a downgrade that renumbered them)."""
        count = self.tracked.row_count
        self.tracked = refresh_rows(self.conn, snapshot, self.tracked)
        self._lost_track |= self.tracked.row_count < count

    def after_round_trip(
        self,
        snapshot: Snapshot,
        *,
        before: Snapshot,
        revision: str | None,
        location: Location | None,
    ) -> list[Finding]:
        """Findings for rows lost or changed by the round trip; then seed new tables."""
        problems = compare_rows(self.conn, snapshot, self.tracked, before=before, since=self.since)
        if any(p.check == ROWS_LOST.code for p in problems):  # forget them: seed those tables
            self._refresh(snapshot)
        self.seed(snapshot)
        return row_findings(problems, revision=revision, location=location)

    def clear(self) -> bool:
        """Delete the rows migproof put in (children first) and forget them; False when some
        may be left: rows it lost track of, or rows PostgreSQL would not delete.

        For retrying a step that failed with rows in the tables, when the failed step left
        the schema as it was (else, or when this returns False, rebuild the database).
        """
        pending = [t for t in self.tracked.tables.values() if not t.adopted][::-1]
        for _ in range(len(pending)):  # a parent refused while its child has rows: next pass
            pending = [t for t in pending if not _delete_rows(self.conn, t)]
            if not pending:
                break
        complete = not pending and not self._lost_track
        self.forget()
        return complete

    def forget(self) -> None:
        """Track no rows (the database was made anew, or they were deleted)."""
        self.tracked = SeedResult(
            skipped=self.tracked.skipped, next_number=self.tracked.next_number
        )
        self._lost_track = False

    def reconnect(self, conn: psycopg.Connection[Any]) -> None:
        """The walk rebuilt its database: use ``conn`` from now on."""
        self.conn = conn

    def take_skipped(self) -> list[tuple[str, str]]:
        """Tables skipped since the last call, as ``Report.skipped`` items."""
        skipped, self._skipped = self._skipped, []
        return skipped
