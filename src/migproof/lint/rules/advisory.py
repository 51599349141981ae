"""MP6xx: advice on types and style, off by default (turn on with ``lint.enable``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from migproof.findings import Finding, Severity
from migproof.lint.context import MigrationContext, StatementContext
from migproof.lint.pgsql import ast, enums
from migproof.lint.registry import migration_rule, rule
from migproof.lint.schema import qualified, qualified_list, sql_type


def _column_type(column: ast.ColumnDef) -> Any:
    return sql_type(column.typeName) if column.typeName is not None else None


def _new_column(column: ast.ColumnDef, ctx: StatementContext) -> str | None:
    """``table.column`` for a column being added, or None (composite types, ALTER TYPE)."""
    table = ctx.statement_table()
    if table is None or not column.colname:
        return None
    cmd = ctx.parent(ast.AlterTableCmd)
    if cmd is not None and cmd.subtype != enums.AlterTableType.AT_AddColumn:
        return None
    return f"{table}.{column.colname}"


@rule(
    "MP601",
    "prefer-jsonb",
    severity=Severity.WARNING,
    nodes=(ast.ColumnDef,),
    summary="a json column where jsonb would do",
    enabled=False,
)
def prefer_jsonb(column: ast.ColumnDef, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags new columns of type `json`. Off by default.

    ## Why is this bad?
    `json` has no equality operator: `SELECT DISTINCT`, `UNION` and `GROUP BY` over it fail,
    and every read re-parses the text. `jsonb` supports all of that and can be indexed.

    ## How to fix
    Use `jsonb` (keep `json` only when key order or duplicate keys must be preserved).

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `sa.dialects.postgresql.JSONB` instead of `sa.JSON`.
    """
    name = _new_column(column, ctx)
    kind = _column_type(column)
    if name and kind is not None and kind.name == "json":
        yield ctx.finding(f"{name} is json: DISTINCT and equality fail on it", fix="use jsonb")


@rule(
    "MP602",
    "prefer-text-over-varchar",
    severity=Severity.WARNING,
    nodes=(ast.ColumnDef,),
    summary="varchar(n) where text (with a CHECK if needed) would do",
    aliases=("prefer-text-field",),
    enabled=False,
)
def prefer_text_over_varchar(column: ast.ColumnDef, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags new columns of type `varchar(n)`. Off by default.

    ## Why is this bad?
    `varchar(n)` is stored like `text`; its only effect is the length limit, and raising
    that limit later is an `ALTER COLUMN TYPE` (cheap only when increasing). A CHECK on
    `length()` can be changed without touching the column type.

    ## How to fix
    Use `text`, with `CHECK (length(col) <= n)` added `NOT VALID` when a limit matters.

    ## PostgreSQL versions
    All supported versions.
    """
    name = _new_column(column, ctx)
    kind = _column_type(column)
    if name and kind is not None and kind.name == "varchar" and kind.mods:
        yield ctx.finding(f"{name} is {kind}", fix="use text, with a CHECK on length if needed")


@rule(
    "MP603",
    "prefer-timestamptz",
    severity=Severity.WARNING,
    nodes=(ast.ColumnDef,),
    summary="timestamp without time zone",
    aliases=("prefer-timestamptz", "prefer-timestamp-tz"),
    enabled=False,
)
def prefer_timestamptz(column: ast.ColumnDef, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags new columns of type `timestamp` (without time zone). Off by default.

    ## Why is this bad?
    The value carries no zone: what it means depends on the writer's settings, and
    arithmetic across daylight-saving changes is wrong.

    ## How to fix
    Use `timestamptz`; PostgreSQL stores UTC and converts on output.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `sa.DateTime(timezone=True)`.
    """
    name = _new_column(column, ctx)
    kind = _column_type(column)
    if name and kind is not None and kind.name == "timestamp":
        yield ctx.finding(f"{name} is timestamp without time zone", fix="use timestamptz")


@rule(
    "MP604",
    "prefer-bigint",
    severity=Severity.WARNING,
    nodes=(ast.ColumnDef,),
    summary="integer or smallint columns that may run out",
    aliases=("prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-big-int"),
    enabled=False,
)
def prefer_bigint(column: ast.ColumnDef, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags new `integer`, `smallint`, `serial` and `smallserial` columns. Off by default.

    ## Why is this bad?
    Ids and counters outgrow 2^31 sooner than expected, and widening the column later
    rewrites the table (and every table that references it).

    ## How to fix
    Use `bigint` (`bigserial`, or `bigint GENERATED ... AS IDENTITY`).

    ## PostgreSQL versions
    All supported versions.
    """
    name = _new_column(column, ctx)
    kind = _column_type(column)
    if name and kind is not None and kind.name in ("int4", "int2") and not kind.array:
        yield ctx.finding(f"{name} is {kind.written or kind}", fix="use bigint")


@rule(
    "MP605",
    "prefer-identity",
    severity=Severity.WARNING,
    nodes=(ast.ColumnDef,),
    summary="serial columns where an identity column would do",
    aliases=("prefer-identity",),
    enabled=False,
)
def prefer_identity(column: ast.ColumnDef, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags new `serial` / `bigserial` / `smallserial` columns. Off by default.

    ## Why is this bad?
    A serial's sequence is a separate object with its own permissions and ownership, and
    inserts can bypass it with explicit values that later collide.

    ## How to fix
    `bigint GENERATED ALWAYS AS IDENTITY` (or `BY DEFAULT`).

    ## PostgreSQL versions
    Identity columns exist since PostgreSQL 10.
    """
    name = _new_column(column, ctx)
    kind = _column_type(column)
    if name and kind is not None and kind.is_serial:
        yield ctx.finding(
            f"{name} is {kind.written}", fix="use bigint GENERATED ALWAYS AS IDENTITY"
        )


@rule(
    "MP606",
    "char-column",
    severity=Severity.WARNING,
    nodes=(ast.ColumnDef,),
    summary="char(n) columns",
    aliases=("ban-char-field",),
    enabled=False,
)
def char_column(column: ast.ColumnDef, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags new `char(n)` / `character(n)` columns. Off by default.

    ## Why is this bad?
    `char(n)` pads with spaces, compares ignoring them, and is no faster than `text`.

    ## How to fix
    Use `text` (with a CHECK if the length matters).

    ## PostgreSQL versions
    All supported versions.
    """
    name = _new_column(column, ctx)
    kind = _column_type(column)
    if name and kind is not None and kind.name == "bpchar":
        yield ctx.finding(f"{name} is {kind}", fix="use text")


@rule(
    "MP607",
    "non-idempotent-statement",
    severity=Severity.WARNING,
    nodes=(ast.CreateStmt, ast.IndexStmt, ast.DropStmt),
    summary="CREATE/DROP without IF [NOT] EXISTS outside a transaction",
    aliases=("prefer-robust-stmts",),
    enabled=False,
)
def non_idempotent_statement(node: Any, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `CREATE TABLE`, `CREATE INDEX` and `DROP ...` without `IF [NOT] EXISTS` when the
    migration does not run in a transaction. Off by default.

    ## Why is this bad?
    Without a transaction a migration that fails halfway leaves part of its work behind;
    re-running it then fails on the objects that already exist.

    ## How to fix
    Add `IF NOT EXISTS` / `IF EXISTS`, or run the migration in a transaction.

    ## PostgreSQL versions
    All supported versions.
    """
    if ctx.in_transaction:
        return
    if isinstance(node, ast.CreateStmt | ast.IndexStmt) and not node.if_not_exists:
        yield ctx.finding("a re-run after a partial failure fails here", fix="add IF NOT EXISTS")
    elif isinstance(node, ast.DropStmt) and not node.missing_ok:
        yield ctx.finding("a re-run after a partial failure fails here", fix="add IF EXISTS")


@rule(
    "MP608",
    "enum-type",
    severity=Severity.INFO,
    nodes=(ast.CreateEnumStmt,),
    summary="CREATE TYPE ... AS ENUM",
    enabled=False,
)
def enum_type(stmt: ast.CreateEnumStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags new enum types. Off by default.

    ## Why is this bad?
    Values cannot be removed or renamed cheaply, adding one has transaction restrictions
    (MP505), and no data can be attached to a value.

    ## How to fix
    A lookup table with a foreign key, or `text` with a CHECK constraint.

    ## PostgreSQL versions
    All supported versions.
    """
    name = qualified_list(stmt.typeName or ())
    yield ctx.finding(f"enum {name}: its values are hard to change later", fix="use a lookup table")


@migration_rule(
    "MP609",
    "repeated-alter-table",
    severity=Severity.INFO,
    summary="several ALTER TABLE statements on one table where one would do",
    enabled=False,
)
def repeated_alter_table(ctx: MigrationContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags a second `ALTER TABLE` on the same existing table in one migration. Off by default.

    ## Why is this bad?
    Each statement takes the lock again, and each one that scans or rewrites the table does
    so separately.

    ## How to fix
    Combine the actions into one `ALTER TABLE ... , ...` statement.

    ## PostgreSQL versions
    All supported versions.
    """
    seen: set[str] = set()
    for event in ctx.state.lock_events:
        statement, node = event.statement, event.statement.node
        if not isinstance(node, ast.AlterTableStmt) or node.relation is None:
            continue
        table = qualified(node.relation)
        if table not in event.tables:
            continue
        if table in seen:
            yield ctx.finding_at(
                statement, f"another ALTER TABLE {table} in this migration", fix="combine them"
            )
        seen.add(table)


@rule(
    "MP610",
    "statement-after-access-exclusive",
    severity=Severity.INFO,
    nodes=(
        ast.AlterTableStmt,
        ast.IndexStmt,
        ast.UpdateStmt,
        ast.InsertStmt,
        ast.DeleteStmt,
        ast.CreateStmt,
        ast.SelectStmt,
    ),
    summary="more statements in a transaction that already holds a strong table lock",
    enabled=False,
    data_only_when_held=True,
)
def statement_after_access_exclusive(_node: Any, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags each statement that runs in a transaction already holding an ACCESS EXCLUSIVE (or
    SHARE) lock on an existing table, taken by an earlier statement. Off by default.

    ## Why is this bad?
    The lock is held until commit, so every further statement lengthens the time the table
    is blocked.

    ## How to fix
    Commit right after the lock-taking statement; put other work in its own transaction.

    ## PostgreSQL versions
    All supported versions.
    """
    if not ctx.in_transaction or not ctx.state.strong_locks:
        return
    locked = ", ".join(ctx.state.strong_locks)
    yield ctx.finding(
        f"runs while this transaction holds a lock on {locked}",
        fix="commit before this statement",
    )


@migration_rule(
    "MP611",
    "missing-statement-timeout",
    severity=Severity.INFO,
    summary="lock-taking DDL without SET statement_timeout first",
    aliases=("require-statement-timeout",),
    enabled=False,
)
def missing_statement_timeout(ctx: MigrationContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags the first statement that locks an existing table when no `statement_timeout` was
    set before it. Off by default.

    ## Why is this bad?
    A statement that runs longer than planned keeps its lock for as long as it runs.

    ## How to fix
    `SET statement_timeout = '5min';` at the start of the migration.

    ## PostgreSQL versions
    All supported versions.
    """
    for event in ctx.state.lock_events:
        if event.tables and not event.statement_timeout_set:
            yield ctx.finding_at(
                event.statement,
                "no statement_timeout is set before this lock-taking statement",
                fix="SET statement_timeout = '5min'; at the start of the migration",
            )
            return


@rule(
    "MP612",
    "enum-value-without-position",
    severity=Severity.INFO,
    nodes=(ast.AlterEnumStmt,),
    summary="ALTER TYPE ... ADD VALUE without BEFORE/AFTER",
    aliases=("require-enum-value-ordering",),
    enabled=False,
)
def enum_value_without_position(
    stmt: ast.AlterEnumStmt, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TYPE ... ADD VALUE` without `BEFORE` or `AFTER`. Off by default.

    ## Why is this bad?
    Enum values sort by position: appending puts the value last, which is rarely what a
    status or level ordering means.

    ## How to fix
    Say where it goes: `ADD VALUE 'x' AFTER 'y'`.

    ## PostgreSQL versions
    All supported versions.
    """
    if stmt.newVal and not stmt.newValNeighbor:
        yield ctx.finding(
            f"value '{stmt.newVal}' is appended last", fix="add BEFORE or AFTER an existing value"
        )


@rule(
    "MP613",
    "unqualified-table",
    severity=Severity.INFO,
    nodes=(ast.CreateStmt, ast.AlterTableStmt),
    summary="CREATE/ALTER TABLE without a schema name",
    aliases=("require-table-schema",),
    enabled=False,
)
def unqualified_table(node: Any, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `CREATE TABLE` and `ALTER TABLE` naming a table without its schema. Off by default.

    ## Why is this bad?
    The table lands wherever the connection's `search_path` points, which differs between
    environments and roles.

    ## How to fix
    Qualify the name: `public.orders`.

    ## PostgreSQL versions
    All supported versions.
    """
    if node.relation is not None and not node.relation.schemaname:
        yield ctx.finding(
            f"table {node.relation.relname} has no schema", fix="qualify it: schema.table"
        )


@rule(
    "MP614",
    "wide-index",
    severity=Severity.INFO,
    nodes=(ast.IndexStmt,),
    summary="a non-unique index on more than three columns",
    enabled=False,
)
def wide_index(stmt: ast.IndexStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags non-unique indexes with more than three key columns. Off by default.

    ## Why is this bad?
    They rarely speed up more queries than their first columns would, and cost space and
    write time.

    ## How to fix
    Index the most selective columns only.

    ## PostgreSQL versions
    All supported versions.
    """
    width = len(stmt.indexParams or ())
    if not stmt.unique and width > 3:
        yield ctx.finding(f"index on {width} columns", fix="keep the most selective columns")


@rule(
    "MP615",
    "domain-with-constraint",
    severity=Severity.INFO,
    nodes=(ast.CreateDomainStmt,),
    summary="CREATE DOMAIN with a constraint",
    aliases=("ban-create-domain-with-constraint",),
    enabled=False,
)
def domain_with_constraint(stmt: ast.CreateDomainStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `CREATE DOMAIN ... CHECK (...)`. Off by default.

    ## Why is this bad?
    Changing a domain's constraint later validates every column that uses it, in every
    table, under locks (MP214); a table CHECK can be changed one table at a time.

    ## How to fix
    Put the CHECK on the columns' tables instead.

    ## PostgreSQL versions
    All supported versions.
    """
    if stmt.constraints:
        name = qualified_list(stmt.domainname or ())
        yield ctx.finding(f"domain {name} has a constraint", fix="use table CHECK constraints")
