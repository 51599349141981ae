"""MP5xx: migrations that leave the schema inconsistent, fail later, or reach too far."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from migproof.findings import Finding, Severity
from migproof.lint.context import AddedForeignKey, MigrationContext, StatementContext
from migproof.lint.pgsql import Statement, ast, enums, identifiers
from migproof.lint.registry import migration_rule, rule
from migproof.lint.rules.rewrites import binary_compatible
from migproof.lint.schema import SqlType, dropped_names, qualified, qualified_list, sql_type

CT = enums.ConstrType
OT = enums.ObjectType
TS = enums.TransactionStmtKind


def _declared_type(ctx: StatementContext, column: str) -> SqlType | None:
    """The type the statement itself declares for ``column`` (CREATE TABLE, ADD COLUMN)."""
    node = ctx.node
    if isinstance(node, ast.CreateStmt):
        elements: Iterable[Any] = node.tableElts or ()
    elif isinstance(node, ast.AlterTableStmt):
        elements = (c.def_ for c in node.cmds or ())
    else:
        return None
    for element in elements:
        if isinstance(element, ast.ColumnDef) and element.colname == column and element.typeName:
            return sql_type(element.typeName)
    return None


def _base(t: SqlType) -> tuple[str, bool]:
    return t.name, t.array


@rule(
    "MP501",
    "fk-type-mismatch",
    severity=Severity.ERROR,
    nodes=(ast.Constraint,),
    kinds=(CT.CONSTR_FOREIGN,),
    summary="foreign key column type differs from the referenced column's type",
)
def fk_type_mismatch(constraint: ast.Constraint, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Compares each foreign key column's type with the referenced column's, when both are
    visible in this migration, an earlier one, or the setup SQL.

    ## Why is this bad?
    Incompatible types (`integer` to `uuid`) make PostgreSQL refuse the constraint ("Key
    columns ... are of incompatible types"), failing the deploy. Compatible but narrower
    ones (an `integer` column to a `bigint` key, `varchar(32)` to `varchar(64)`) work until
    the referenced key outgrows the referencing column. A wider column (`bigint` to an
    `integer` key, `text` to a `varchar` one) can hold every key and is compared with the
    same operators: not reported.

    ## How to fix
    Declare the referencing column with exactly the referenced column's type (`bigint` for
    a `bigserial` key).

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    In the model, give the `ForeignKey` column the referenced column's type:
    `sa.Column(PG_UUID(as_uuid=True), sa.ForeignKey("service_accounts.id"))`.
    """
    if constraint.contype != CT.CONSTR_FOREIGN or constraint.pktable is None:
        return
    table = ctx.statement_table()
    if table is None:
        return
    column_def = ctx.parent(ast.ColumnDef)
    columns = [n.sval for n in constraint.fk_attrs or ()]
    if not columns and column_def is not None:
        columns = [column_def.colname]
    referenced = qualified(constraint.pktable)
    ref_columns = [n.sval for n in constraint.pk_attrs or ()]
    if not ref_columns:
        ref_columns = list(ctx.schema.primary_key(referenced))
    if len(ref_columns) != len(columns):
        return
    for column, ref_column in zip(columns, ref_columns, strict=True):
        mine = _declared_type(ctx, column) or _known_type(ctx, table, column)
        theirs = _known_type(ctx, referenced, ref_column)
        if table == referenced and theirs is None:
            theirs = _declared_type(ctx, ref_column)
        if mine is None or theirs is None:
            continue
        if _base(mine) == _base(theirs) and (mine.mods == theirs.mods or not theirs.mods):
            continue
        # a column that holds every key as it is (text to varchar, varchar(64) to varchar(32)):
        # what a type change does in place, the other way round
        if binary_compatible(theirs, mine, ctx.pg_version) or _wider_integer(mine, theirs):
            continue
        yield ctx.finding(
            f"foreign key column {table}.{column} is {mine} but {referenced}.{ref_column} is"
            f" {theirs}",
            fix=f"declare {table}.{column} as {theirs}",
        )


_INTEGER_WIDTH = {"int2": 2, "int4": 4, "int8": 8}


def _wider_integer(mine: SqlType, theirs: SqlType) -> bool:
    """A ``bigint`` column referencing an ``integer`` key (phoenix's 37): the key can never
    outgrow it, and int2, int4 and int8 share one btree operator family, so neither the
    check nor a join casts. Narrower is the hazard: an ``integer`` to a ``bigint`` key."""
    width, key_width = _INTEGER_WIDTH.get(mine.name), _INTEGER_WIDTH.get(theirs.name)
    return (
        width is not None
        and key_width is not None
        and width >= key_width
        and mine.array == theirs.array
    )


def _known_type(ctx: StatementContext, table: str, column: str) -> SqlType | None:
    info = ctx.schema.column(table, column)
    return info.type if info else None


@migration_rule(
    "MP502",
    "fk-without-index",
    severity=Severity.WARNING,
    summary="foreign key without an index on its referencing columns",
)
def fk_without_index(ctx: MigrationContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags a foreign key added in this migration when no index (this migration's, the next
    migration's, or an existing one that migproof knows of) starts with its referencing
    columns. A unique index (not partial) on some of them is enough: a lookup by all of
    the key's columns finds its one row through it. A partial index counts only when its
    `WHERE` is `col IS NOT NULL` on the key's columns, which the key's lookup implies; one
    with any other condition (`WHERE status = 'doing'`) cannot serve it.

    ## Why is this bad?
    PostgreSQL indexes the referenced key, never the referencing columns. Every DELETE or
    key UPDATE on the referenced table then scans the referencing table (holding locks
    while it does), and joins along the key cannot use an index.

    ## How to fix
    Create an index on the referencing columns in the same migration; on a table that
    already holds data, `CREATE INDEX CONCURRENTLY` in the next migration (a file of its own
    where the runner needs one).

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.create_index("ix_child_parent_id", "child", ["parent_id"])` next to the
    `ForeignKey`, or `index=True` on the column in the model.
    """
    for finding, _ in unindexed_foreign_keys(ctx):
        yield finding


def unindexed_foreign_keys(ctx: MigrationContext) -> Iterator[tuple[Finding, AddedForeignKey]]:
    """MP502's findings, each with its key (the engine holds them until the next migration)."""
    dropped = _dropped_tables(ctx) if ctx.state.foreign_keys else set()
    for fk in ctx.state.foreign_keys:
        table = ctx.schema.current_name(fk.table)  # renamed since: its indexes went along
        if not fk.columns or fk.table in dropped or table in dropped:
            continue
        if ctx.schema.has_index_on(table, fk.columns):
            continue
        columns = ", ".join(ctx.schema.current_columns(table, fk.columns))  # renamed since
        has_none = (
            f"has no index on {table} ({columns})"
            + (
                " but a partial one, which a lookup by the key alone cannot use"
                if ctx.schema.has_partial_index_on(table, fk.columns)
                else ""
            )
            if table in ctx.schema.tables
            # made before the files linted (synapse's deltas start from a schema): its
            # indexes are unknown
            else f"has no index on {table} ({columns}) that the files linted create"
        )
        finding = ctx.finding_at(
            fk.statement,
            f"foreign key {fk.table} ({columns}) -> {fk.referenced} {has_none}:"
            f" deletes on {fk.referenced} scan {table}",
            fix=f"CREATE INDEX ... ON {table} ({columns}) in this migration, or CONCURRENTLY"
            " in the next one",
        )
        yield finding, fk


def _dropped_tables(ctx: MigrationContext) -> set[str]:
    """Tables the migration drops (a temporary table, a rebuild)."""
    dropped: set[str] = set()
    for statement in ctx.statements:
        node = statement.node
        if isinstance(node, ast.DropStmt) and node.removeType == OT.OBJECT_TABLE:
            dropped.update(dropped_names(node))
    return dropped


@migration_rule(
    "MP503",
    "enum-left-by-downgrade",
    severity=Severity.ERROR,
    summary="a type or enum created in upgrade and not dropped in downgrade",
)
def enum_left_by_downgrade(ctx: MigrationContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags an enum, composite type or domain that the migration's upgrade creates and its
    downgrade does not drop (for migrations with a down file or section, and Alembic
    revisions run by `migproof verify`).

    ## Why is this bad?
    `DROP TABLE` does not drop the types its columns used. After a downgrade the type
    stays, and the next upgrade fails with `type "..." already exists`.

    ## How to fix
    End the downgrade with `DROP TYPE name;` for every type the upgrade created.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `sa.Enum(name="status_enum").drop(op.get_bind(), checkfirst=True)` after
    `op.drop_table(...)` in `downgrade()`.
    """
    if ctx.down_statements is None:
        return
    dropped: set[str] = set()
    dropped_schemas: set[str] = set()
    for statement in ctx.down_statements:
        node = statement.node
        if isinstance(node, ast.DropStmt):
            if node.removeType in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
                dropped.update(dropped_names(node))
            elif node.removeType == OT.OBJECT_SCHEMA:
                dropped_schemas.update(dropped_names(node))
    for name, statement in ctx.state.types_created.items():
        if name in dropped or name.split(".")[0] in dropped_schemas:
            continue
        bare = name.split(".")[-1]
        then = (
            "it stays after a downgrade (the upgrade looks for it first, and takes it as it is)"
            if _looked_up_before(ctx, bare, statement)
            else f'the next upgrade fails with type "{bare}" already exists'
        )
        yield ctx.finding_at(
            statement,
            f"type {name} is created here but the downgrade does not drop it: {then}",
            fix=f"add DROP TYPE {_quoted(name)}; to the downgrade",
        )


def _looked_up_before(ctx: MigrationContext, bare: str, created: Statement) -> bool:
    """Whether a query on ``pg_type`` for the type ran before its CREATE TYPE (SQLAlchemy's
    ``checkfirst``, as prefect's ``postgresql.ENUM(...).create(bind)`` does)."""
    literal = f"'{bare}'"
    for statement in ctx.statements:
        if statement is created:
            return False
        if "pg_type" in statement.text and literal in statement.text:
            return True
    return False


_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


def _quoted(name: str) -> str:
    """``public.Status_Type`` as SQL names it: ``public."Status_Type"``."""
    return ".".join(
        part if _PLAIN.match(part) else '"' + part.replace('"', '""') + '"'
        for part in name.split(".")
    )


def _protected_names(stmt: Any) -> list[str]:
    if isinstance(stmt, ast.TruncateStmt):
        return [qualified(r) for r in stmt.relations or ()]
    if isinstance(stmt, ast.DropStmt):
        if stmt.removeType == OT.OBJECT_SCHEMA:
            return [f"{name}." for name in dropped_names(stmt)]
        return dropped_names(stmt)
    return []


@rule(
    "MP504",
    "drop-in-protected-schema",
    severity=Severity.ERROR,
    nodes=(ast.DropStmt, ast.TruncateStmt),
    summary="DROP or TRUNCATE reaching a protected schema (lint.protected-schemas)",
    in_downgrade=True,
)
def drop_in_protected_schema(stmt: Any, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `DROP` (of anything, including the schema itself) and `TRUNCATE` of objects in a
    schema listed in `[tool.migproof.lint] protected-schemas`, in upgrades and downgrades
    alike. Unqualified names are taken to be in `public`.

    ## Why is this bad?
    Some schemas hold data no migration may destroy: tables another service owns, or that
    were loaded out of band. A downgrade or a cleanup script that reaches them loses it.

    ## How to fix
    Leave objects in protected schemas alone; drop them by hand if you really mean to.

    ## PostgreSQL versions
    All supported versions.
    """
    protected = ctx.settings.protected_schemas
    if not protected:
        return
    verb = "TRUNCATE" if isinstance(stmt, ast.TruncateStmt) else "DROP"
    for name in _protected_names(stmt):
        schema = name.split(".")[0]
        if schema in protected:
            what = f"schema {schema}" if name.endswith(".") else name
            yield ctx.finding(
                f"{verb} {what} reaches protected schema {schema}",
                fix=f"leave {schema} alone; it is listed in lint.protected-schemas",
            )


@rule(
    "MP505",
    "enum-value-added-in-transaction",
    severity=Severity.ERROR,
    nodes=(
        ast.AlterEnumStmt,
        ast.InsertStmt,
        ast.UpdateStmt,
        ast.DeleteStmt,
        ast.SelectStmt,
        ast.AlterTableStmt,
        ast.CreateStmt,
        ast.IndexStmt,
    ),
    summary="ALTER TYPE ... ADD VALUE in a transaction (fails before 12; unusable until commit)",
    data_only_when_held=True,
)
def enum_value_added_in_transaction(node: Any, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TYPE ... ADD VALUE` inside a transaction when the target is older than
    PostgreSQL 12, and, on any version, a later statement in the same transaction that uses
    the new value.

    ## Why is this bad?
    Before PostgreSQL 12, ADD VALUE cannot run in a transaction block at all. Since 12 it
    can, but the new value cannot be used until the transaction commits ("unsafe use of new
    value"): the migration fails at deploy.

    ## How to fix
    Add the value in its own migration (or outside the transaction), and use it in a later
    one.

    ## PostgreSQL versions
    Since PostgreSQL 12, ADD VALUE is allowed in a transaction block; the value is usable
    only after commit on every version.

    ## With Alembic
    Run `op.execute("ALTER TYPE ... ADD VALUE ...")` inside
    `with op.get_context().autocommit_block():`.
    """
    if not ctx.in_transaction:
        return
    if isinstance(node, ast.AlterEnumStmt):
        if node.newVal and ctx.pg_version < 12:
            name = qualified_list(node.typeName or ())
            yield ctx.finding(
                f"before PostgreSQL 12, ALTER TYPE {name} ADD VALUE cannot run inside a"
                " transaction block",
                fix="run it outside the transaction, in its own migration",
            )
        return
    assert ctx.statement is not None
    text = ctx.statement.text
    for value, type_name in ctx.state.enum_values_added.items():
        if f"'{value}'" in text:
            yield ctx.finding(
                f"the value '{value}' added to {type_name} in this transaction cannot be used"
                " before the transaction commits",
                fix="add the value in an earlier migration, or commit before using it",
            )


@rule(
    "MP506",
    "transaction-nesting",
    severity=Severity.WARNING,
    nodes=(ast.TransactionStmt,),
    summary="BEGIN/COMMIT inside a migration its runner already wraps in a transaction",
    aliases=("transaction-nesting",),
)
def transaction_nesting(stmt: ast.TransactionStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `BEGIN` when a transaction is already open (an earlier `BEGIN`, or a runner that
    wraps each migration: Alembic, Flyway, goose, dbmate, `assume-in-transaction`), and
    `COMMIT` / `ROLLBACK` in a migration the runner wraps.

    ## Why is this bad?
    A nested `BEGIN` is ignored with a warning, so the statements after the inner `COMMIT`
    run outside any transaction: a failure leaves the migration half applied and the
    runner's bookkeeping wrong.

    ## How to fix
    Let the runner manage the transaction and remove `BEGIN` / `COMMIT` from the file, or
    mark the migration as running without a transaction.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    Never `op.execute("COMMIT")`: use `op.get_context().autocommit_block()`.
    """
    begin = stmt.kind in (TS.TRANS_STMT_BEGIN, TS.TRANS_STMT_START)
    end = stmt.kind in (TS.TRANS_STMT_COMMIT, TS.TRANS_STMT_ROLLBACK)
    wrapped = ctx.in_transaction and not ctx.state.explicit_transaction
    if begin and ctx.in_transaction:
        yield ctx.finding(
            "BEGIN inside a transaction is ignored: statements after the next COMMIT run"
            " outside any transaction",
            fix="remove the BEGIN/COMMIT pair and let the runner manage the transaction",
        )
    elif end and wrapped:
        yield ctx.finding(
            "COMMIT/ROLLBACK ends the transaction the migration runner opened",
            fix="remove it and let the runner manage the transaction",
        )


@migration_rule(
    "MP507",
    "uncommitted-transaction",
    severity=Severity.ERROR,
    summary="BEGIN without a matching COMMIT",
    aliases=("ban-uncommitted-transaction",),
)
def uncommitted_transaction(ctx: MigrationContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags a migration that opens a transaction with `BEGIN` and never commits it.

    ## Why is this bad?
    Depending on the runner, the work is rolled back when the connection closes (the
    migration silently did nothing) or the connection is left idle in transaction, holding
    its locks.

    ## How to fix
    End the transaction with `COMMIT;`.

    ## PostgreSQL versions
    All supported versions.
    """
    if not ctx.state.explicit_transaction:
        return
    begins = [
        s
        for s in ctx.statements
        if isinstance(s.node, ast.TransactionStmt)
        and s.node.kind in (TS.TRANS_STMT_BEGIN, TS.TRANS_STMT_START)
    ]
    if begins:
        yield ctx.finding_at(
            begins[-1],
            "this transaction is never committed",
            fix="end the migration with COMMIT;",
        )


_MAX_IDENTIFIER = 63


@rule(
    "MP508",
    "identifier-too-long",
    severity=Severity.ERROR,
    nodes=(
        ast.CreateStmt,
        ast.CreateTableAsStmt,
        ast.ViewStmt,
        ast.AlterTableStmt,
        ast.IndexStmt,
        ast.RenameStmt,
        ast.CreateEnumStmt,
        ast.CreateSeqStmt,
        ast.CreateDomainStmt,
        ast.CompositeTypeStmt,
    ),
    summary="an identifier longer than 63 bytes, silently truncated by PostgreSQL",
    aliases=("identifier-too-long",),
)
def identifier_too_long(_node: Any, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags an identifier longer than 63 bytes (PostgreSQL's NAMEDATALEN - 1) in a statement
    that creates, alters or renames tables, indexes, types, sequences or views.

    ## Why is this bad?
    PostgreSQL truncates it with only a NOTICE. Two long names with the same first 63
    bytes collide, and tools that compare names (Alembic autogenerate, naming conventions,
    `DROP CONSTRAINT` by the long name) no longer find the object.

    ## How to fix
    Choose a shorter name, e.g. with an abbreviation in the naming convention.

    ## PostgreSQL versions
    All supported versions (unless the server was compiled with another NAMEDATALEN).
    """
    assert ctx.statement is not None
    for name in dict.fromkeys(identifiers(ctx.statement.text, longer_than=_MAX_IDENTIFIER)):
        raw = name.encode("utf-8")
        if len(raw) > _MAX_IDENTIFIER:
            short = raw[:_MAX_IDENTIFIER].decode("utf-8", "ignore")
            yield ctx.finding(
                f"identifier {name!r} is {len(raw)} bytes: PostgreSQL truncates it to {short!r}",
                fix="use a name of at most 63 bytes",
            )
