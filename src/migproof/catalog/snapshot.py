"""Take a snapshot: a fixed set of catalog queries, sent in one pipeline, whatever the size.

Each object kind has one query in ``queries/``; all of them go to the server in a single
pipeline (one round trip), inside a transaction of their own that is always rolled back
(a savepoint when the caller already has a transaction open), so the caller's transaction
is neither committed nor rolled back, and the ``SET LOCAL``-style settings never leak out.
``bench/snapshot_bench.py`` measures it against ``pg_dump --schema-only``.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from migproof.catalog.model import (
    KINDS,
    CatalogObject,
    Column,
    Constraint,
    Snapshot,
    Table,
)
from migproof.config import Config
from migproof.memory import cyclic_gc_paused

__all__ = [
    "CHILD_QUERIES",
    "QUERIES",
    "Result",
    "SnapshotFilter",
    "collections",
    "drop_orphans",
    "oid_array",
    "oids",
    "read_catalog",
    "read_few",
    "snapshot_of",
    "take_snapshot",
]

# Output of pg_get_expr, format_type and pg_get_viewdef depends on these: with search_path
# set to pg_catalog alone every user object is printed schema-qualified, whatever the
# caller's session says, so two snapshots of one schema print the same text.
_SETTINGS = (
    "SELECT set_config('search_path', 'pg_catalog', true),"
    " set_config('DateStyle', 'ISO, MDY', true),"
    " set_config('IntervalStyle', 'postgres', true),"
    " set_config('extra_float_digits', '1', true),"
    " set_config('quote_all_identifiers', 'off', true),"
    # Compiling these queries would cost more than running them (servers built with LLVM).
    " set_config('jit', 'off', true),"
    # Planning the catalog joins costs more than running them: plan each prepared query once.
    " set_config('plan_cache_mode', 'force_generic_plan', true)"
)
# Read with their table, not as objects of their own.
CHILD_QUERIES = ("columns.sql", "constraints.sql")


@dataclass(frozen=True, slots=True)
class SnapshotFilter:
    """Which schemas and tables a snapshot covers.

    ``exclude_tables`` entries are either bare names (``alembic_version``: in any schema) or
    qualified ones (``audit.alembic_version``).
    """

    include_schemas: tuple[str, ...] = ()
    exclude_schemas: tuple[str, ...] = ()
    exclude_tables: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> SnapshotFilter:
        """The filter the configuration asks for (trackers' tables excluded by default)."""
        return cls(
            include_schemas=tuple(config.include_schemas),
            exclude_schemas=tuple(config.exclude_schemas),
            exclude_tables=tuple(config.exclude_tables),
        )

    def params(self) -> dict[str, list[str]]:
        return {
            "include_schemas": list(self.include_schemas),
            "exclude_schemas": list(self.exclude_schemas),
            "exclude_tables": list(self.exclude_tables),
        }


def _version_columns(major: int) -> dict[str, sql.Composable]:
    """Catalog columns newer than PostgreSQL 13, or the value they imply on older servers."""
    return {
        "indnullsnotdistinct": sql.SQL("i.indnullsnotdistinct" if major >= 15 else "false"),
        "conenforced": sql.SQL("k.conenforced" if major >= 18 else "true"),
        "conperiod": sql.SQL("k.conperiod" if major >= 18 else "false"),
        "has_sql_body": sql.SQL("p.prosqlbody IS NOT NULL" if major >= 14 else "false"),
        "colllocale": sql.SQL(
            "c.colllocale" if major >= 17 else "c.colliculocale" if major >= 15 else "NULL"
        ),
    }


# A line of a query file that starts with this is its filter for re-reading some objects only
# (catalog/watch.py): kept, uncommented, in the filtered variant; left out of the full one.
_ONLY = "-- only: "
QUERIES: tuple[str, ...] = (*(kind.query for kind in KINDS), *CHILD_QUERIES)


@functools.cache
def _query(name: str, major: int, only: bool = False) -> bytes:
    """A catalog query for a server major version; read from the package and rendered once
    per process (psycopg would render a ``Composed`` again at every execution).

    With ``only``, the variant that reads the objects whose oid is in ``%(only)s``.
    """
    text = (resources.files("migproof.catalog") / "queries" / name).read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines(keepends=True):
        indent, marker, condition = line.partition(_ONLY)
        if not marker:
            lines.append(line)
        elif only:
            lines.append(indent + condition)
    # The text is a file of this package, never user input: safe to treat as a literal.
    return sql.SQL("".join(lines)).format(**_version_columns(major)).as_bytes(None)


def take_snapshot(conn: psycopg.Connection[Any], filters: SnapshotFilter | None = None) -> Snapshot:
    """Read the catalog of the database ``conn`` is connected to.

    Works in autocommit mode and inside an open transaction (it then sees that
    transaction's uncommitted DDL); never commits or rolls back the caller's work.

    >>> with psycopg.connect(url, autocommit=True) as conn:    # doctest: +SKIP
    ...     snap = take_snapshot(conn, SnapshotFilter(exclude_tables=("alembic_version",)))
    """
    return snapshot_of(conn, read_catalog(conn, filters or SnapshotFilter()))


def snapshot_of(conn: psycopg.Connection[Any], results: dict[str, Result]) -> Snapshot:
    """The snapshot a full ``read_catalog`` of ``conn``'s database makes."""
    return drop_orphans(Snapshot(server_version=_major(conn), **sorted_collections(results)))


def read_catalog(
    conn: psycopg.Connection[Any],
    filters: SnapshotFilter,
    only: dict[str, list[int]] | None = None,
) -> dict[str, Result]:
    """Run the catalog queries, all of them or (``only``) the named ones on the given oids.

    Results by query file name, each row with an ``oid`` column for the object it reads
    (but columns and constraints, which are read with their table).
    """
    params = filters.params()
    major = _major(conn)
    names = list(QUERIES) if only is None else list(only)
    # Read-only work with SET LOCAL settings: when the caller has no transaction open, COMMIT
    # ends it as cleanly as ROLLBACK and keeps psycopg's prepared statements (it drops them
    # all on any rollback); inside the caller's transaction, a savepoint rolled back leaves
    # their session as it was.
    with conn.transaction(force_rollback=_in_transaction(conn)), conn.pipeline():
        conn.execute(_SETTINGS)
        # tuple_row whatever the caller's connection uses (dict_row, class_row …)
        cursors = [
            # prepared: verify snapshots hundreds of times, and planning these joins over the
            # catalog costs as much as running them
            conn.cursor(row_factory=tuple_row).execute(
                _query(name, major, only is not None),
                params if only is None else {**params, "only": oid_array(only[name])},
                prepare=True,
            )
            for name in names
        ]
        shape = (major, only is not None)
        return {
            name: Result.fetch(cur, (name, *shape))
            for name, cur in zip(names, cursors, strict=True)
        }


def oid_array(values: Iterable[int]) -> str:
    """An ``oid[]`` parameter as its literal: psycopg types a list of ints by their size
    (``int2[]``, ``int4[]``, unknown when empty) and prepares a query once per parameter
    type, so a list would plan one query again each time its oids cross 32767.

    >>> oid_array([16385, 40000])
    '{16385,40000}'
    """
    return "{" + ",".join(map(str, values)) + "}"


def read_few(
    conn: psycopg.Connection[Any], filters: SnapshotFilter, most: int
) -> dict[str, Result] | None:
    """``read_catalog(conn, filters)`` for a catalog of at most ``most`` objects, else None.

    A first query lists the objects of every kind (``queries/inventory.sql``); each query
    then reads only the objects listed for it, and the queries of the kinds the database
    has none of are not sent at all. A new connection plans every query it prepares, and
    planning these catalog joins costs several times more than running them: on the
    nearly empty database a verify run starts from, this skips most of that.
    """
    major = _major(conn)
    with conn.transaction(force_rollback=_in_transaction(conn)), conn.pipeline():
        conn.execute(_SETTINGS)
        inventory = conn.cursor(row_factory=tuple_row)
        listed = inventory.execute(_query("inventory.sql", major), prepare=True).fetchall()
    if sum(len(oids_) for _, oids_ in listed) > most:
        return None
    only: dict[str, list[int]] = {name: [] for name in QUERIES if not _reads_by_oid(name)}
    only.update(listed)
    if "tables.sql" in only:
        only.update(dict.fromkeys(CHILD_QUERIES, only["tables.sql"]))
    return read_catalog(conn, filters, only)


@functools.cache
def _reads_by_oid(name: str) -> bool:
    """Whether a query file can read objects by oid (it has an ``-- only:`` line)."""
    return _ONLY in (resources.files("migproof.catalog") / "queries" / name).read_text("utf-8")


def _in_transaction(conn: psycopg.Connection[Any]) -> bool:
    return conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def sorted_collections(results: dict[str, Result]) -> dict[str, dict[str, Any]]:
    """The objects of every kind read into ``results``, each kind's sorted by key."""
    with cyclic_gc_paused():  # thousands of small objects and no cycles
        return {
            attribute: dict(sorted(objects.items()))
            for attribute, objects in collections(results).items()
        }


def _major(conn: psycopg.Connection[Any]) -> int:
    return conn.info.server_version // 10000


@dataclass(frozen=True, slots=True)
class Result:
    """The rows of one catalog query and its column names."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    @classmethod
    def fetch(cls, cursor: psycopg.Cursor[Any], query: Hashable = None) -> Result:
        """The cursor's rows; ``query`` names a query whose columns never change (its
        text and the server's major version): they are read from the first result only
        (``cursor.description`` builds an object per column, every time)."""
        rows = cursor.fetchall()
        columns = _COLUMNS.get(query) if query is not None else None
        if columns is None:
            columns = tuple(d.name for d in cursor.description or ())
            if query is not None:
                _COLUMNS[query] = columns
        return cls(columns, rows)


_COLUMNS: dict[Hashable, tuple[str, ...]] = {}


_Reader = Callable[..., Any]


@functools.cache
def _reader(cls: type[CatalogObject], columns: tuple[str, ...], extras: tuple[str, ...]) -> _Reader:
    """Compile ``read(row, *extras) -> cls``, once per query shape: fields from the row's
    columns of the same name (arrays become tuples), then ``extras`` in order; other columns
    (``key``) are skipped.

    Building an object this way, by setting its slots, is five times faster than the frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` call per field); a 1,000-table
    snapshot builds some 13,000 objects. Every field must come from a column or an extra.
    """
    fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_tuple": tuple}
    lines = [
        f"def read(row, {', '.join(extras)}):" if extras else "def read(row):",
        "    o = _new(_cls)",
    ]
    sources = [(name, f"row[{i}]") for i, name in enumerate(columns) if name in fields]
    sources += [(name, name) for name in extras]
    for name, source in sources:
        env[f"_set_{name}"] = getattr(cls, name).__set__
        value = f"_tuple({source} or ())" if fields[name].startswith("tuple") else source
        lines.append(f"    _set_{name}(o, {value})")
    missing = fields.keys() - {name for name, _ in sources}
    if missing:
        raise AssertionError(f"{cls.__name__}: no column for {sorted(missing)}")
    lines.append("    return o")
    exec("\n".join(lines), env)  # noqa: S102 - generated from field names only
    read: _Reader = env["read"]
    return read


def collections(results: dict[str, Result]) -> dict[str, dict[str, Any]]:
    """The objects of every kind whose query is in ``results``, by key, unsorted.

    Tables take their columns and constraints from those two queries' results.
    """
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        result = results.get(kind.query)
        if result is None:
            continue
        key_at = result.columns.index("key")
        objects: dict[str, Any] = {}
        if kind.cls is Table:
            columns = _columns(results["columns.sql"])
            constraints = _constraints(results["constraints.sql"])
            read = _reader(Table, result.columns, ("columns", "constraints"))
            for row in result.rows:
                key = row[key_at]
                children = sorted(constraints.get(key, ()), key=_name)
                objects[key] = read(row, tuple(columns.get(key, ())), tuple(children))
        else:
            # A class is hashable; mypy checks its unbound __hash__ against Hashable instead.
            read = _reader(kind.cls, result.columns, ())  # type: ignore[arg-type]
            for row in result.rows:
                objects[row[key_at]] = read(row)
        by_kind[kind.attribute] = objects
    return by_kind


def oids(result: Result) -> dict[str, int]:
    """Key to oid of each object one query read."""
    key_at, oid_at = result.columns.index("key"), result.columns.index("oid")
    return {row[key_at]: row[oid_at] for row in result.rows}


def _constraints(result: Result) -> dict[str, list[Constraint]]:
    constraints: dict[str, list[Constraint]] = defaultdict(list)
    read = _reader(Constraint, result.columns, ())
    table_at = result.columns.index("table")
    for row in result.rows:
        constraints[row[table_at]].append(read(row))
    return constraints


def _name(obj: Constraint) -> str:
    return obj.name


def _columns(result: Result) -> dict[str, list[Column]]:
    """Columns by table key, numbered 1, 2, 3 … among live columns (dropped ones leave gaps)."""
    table_at, attnum_at = result.columns.index("table"), result.columns.index("position")
    names = tuple("attnum" if name == "position" else name for name in result.columns)
    read = _reader(Column, names, ("position",))
    out: dict[str, list[Column]] = defaultdict(list)
    for row in sorted(result.rows, key=operator.itemgetter(table_at, attnum_at)):
        siblings = out[row[table_at]]
        siblings.append(read(row, len(siblings) + 1))
    return out


def drop_orphans(snapshot: Snapshot) -> Snapshot:
    """Leave out what belongs to relations the filters excluded (indexes, triggers …)."""
    relations = snapshot.tables.keys() | snapshot.views.keys()
    return dataclasses.replace(
        snapshot,
        indexes={k: v for k, v in snapshot.indexes.items() if v.table in relations},
        triggers={k: v for k, v in snapshot.triggers.items() if v.table in relations},
        policies={k: v for k, v in snapshot.policies.items() if v.table in relations},
        statistics={k: v for k, v in snapshot.statistics.items() if v.table in relations},
    )
