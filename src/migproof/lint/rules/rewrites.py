"""MP3xx: statements that rewrite a whole table (or scan it) under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from migproof.findings import Finding, Severity
from migproof.lint.context import StatementContext
from migproof.lint.pgsql import ast, enums, iter_nodes
from migproof.lint.registry import rule
from migproof.lint.schema import SqlType, qualified, sql_type

AT = enums.AlterTableType
CT = enums.ConstrType


_TEMPORAL = frozenset({"time", "timetz", "timestamp", "timestamptz"})
_TIMESTAMPS = frozenset({"timestamp", "timestamptz"})
_MAX_PRECISION = 6  # what time, timestamp and interval keep without a precision
_INTERVAL_FULL_RANGE = 32767  # the parser's fields mask for an interval without YEAR TO ...


def binary_compatible(  # noqa: PLR0911
    old: SqlType, new: SqlType, pg_version: int, *, utc: bool = False
) -> bool:
    """True when PostgreSQL changes the type without rewriting or scanning the table.

    ``utc``: the migration set the session TimeZone to UTC, under which PostgreSQL 12+
    converts between timestamp and timestamptz in place.
    """
    if old.array != new.array:
        return False
    if old.name == new.name and old.mods == new.mods:
        return True
    text_like = ("varchar", "text")
    if old.name in text_like and new.name == "text":
        return True
    if old.name in text_like and new.name == "varchar" and not new.mods:
        return True
    if old.name == "varchar" == new.name and old.mods and new.mods:
        return new.mods[0] >= old.mods[0]
    if old.name == "numeric" == new.name:
        if not new.mods:
            return True
        if len(old.mods) >= 1 and len(new.mods) >= 1:
            old_scale = old.mods[1] if len(old.mods) > 1 else 0
            new_scale = new.mods[1] if len(new.mods) > 1 else 0
            return old_scale == new_scale and new.mods[0] >= old.mods[0]
    if old.name == "varbit" == new.name:
        return not new.mods or (bool(old.mods) and new.mods[0] >= old.mods[0])
    if old.name in _TEMPORAL and (
        old.name == new.name or (utc and pg_version >= 12 and {old.name, new.name} == _TIMESTAMPS)
    ):  # a precision kept or raised is a no-op (time_support, timestamp_support)
        return _precision(new) >= _precision(old)
    if old.name == "interval" == new.name:
        old_range, old_precision = _interval_mods(old)
        new_range, new_precision = _interval_mods(new)
        return new_range in (_INTERVAL_FULL_RANGE, old_range) and new_precision >= old_precision
    if old.name == "xml" and (new.name == "text" or (new.name == "varchar" and not new.mods)):
        return True
    return old.name == "cidr" and new.name == "inet"


def _using_expression(cmd: Any, column: str) -> bool:
    """Whether ``ALTER ... TYPE ... USING expr`` computes the values: anything but the
    column itself (or a cast of it)."""
    expr = cmd.def_.raw_default if cmd.def_ is not None else None
    while isinstance(expr, ast.TypeCast):
        expr = expr.arg
    if expr is None:
        return False
    if isinstance(expr, ast.ColumnRef):
        fields = [f.sval for f in expr.fields or () if isinstance(f, ast.String)]
        return fields[-1:] != [column]
    return True


def _precision(type_: SqlType) -> int:
    return type_.mods[0] if type_.mods else _MAX_PRECISION


def _interval_mods(type_: SqlType) -> tuple[int, int]:
    """(fields mask, precision) of an interval type: ``interval(3)`` is (32767, 3)."""
    mods = type_.mods
    return (
        mods[0] if mods else _INTERVAL_FULL_RANGE,
        mods[1] if len(mods) > 1 else _MAX_PRECISION,
    )


@rule(
    "MP301",
    "column-type-change-rewrites-table",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_AlterColumnType,),
    summary="ALTER COLUMN ... TYPE that rewrites (or scans) an existing table",
    aliases=("changing-column-type",),
)
def column_type_change_rewrites_table(cmd: Any, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER COLUMN ... TYPE` on an existing table, unless the column's old type is
    known (from this migration, an earlier one or the setup SQL) and the change is one
    PostgreSQL makes without touching rows: `varchar(n)` to a longer `varchar`, `varchar` or
    `text`; `numeric(p,s)` to a larger precision with the same scale or to plain `numeric`;
    `varbit(n)` to a longer one; `time`, `timetz`, `timestamp`, `timestamptz` and
    `interval` to the same type with the same or a higher precision; `xml` to `text`;
    `cidr` to `inet`.

    ## Why is this bad?
    Any other change rewrites the table and all its indexes under an ACCESS EXCLUSIVE
    lock: reads and writes wait for the whole rewrite.

    ## How to fix
    Add a new column of the new type, write to both, backfill in batches, move reads to the
    new column, then drop the old one.

    For statements recorded while `migproof verify` ran a revision, a change after which
    the table kept its relfilenode (no rewrite happened) is not reported.

    ## PostgreSQL versions
    All supported versions. Since PostgreSQL 12, `timestamp` to `timestamptz` (and back)
    skips the rewrite only when the session TimeZone is UTC: it is reported unless the
    migration itself sets `SET TIME ZONE 'UTC'` (or `timezone = 'UTC'`) before it.

    ## With Alembic
    `op.alter_column(..., type_=...)` emits this statement.
    """
    if cmd.subtype != AT.AT_AlterColumnType or cmd.def_ is None or cmd.def_.typeName is None:
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    new = sql_type(cmd.def_.typeName)
    column = ctx.schema.column(table, cmd.name)
    old = column.type if column else None
    utc = ctx.state.timezone_utc
    converts = _using_expression(cmd, cmd.name)  # USING name + 1: every row computed again
    if not converts and old is not None and binary_compatible(old, new, ctx.pg_version, utc=utc):
        return
    if ctx.cleared_by_facts(table):
        return  # it ran in the sandbox and the table kept its relfilenode: no rewrite
    seen = ctx.facts is not None and table in ctx.facts.rewritten  # the sandbox saw it
    if old is not None and (old.name, old.mods, old.array) == (new.name, new.mods, new.array):
        verdict = f"to its own type {new} with a USING expression rewrites {table}"
    elif old is not None:
        verdict = f"from {old} to {new} rewrites {table}"
    elif seen:
        verdict = f"to {new} rewrites {table}"
    else:  # the old type is not in the migrations migproof saw
        verdict = f"to {new} rewrites {table} (unless its current type converts in place)"
    yield ctx.finding(
        f"changing {table}.{cmd.name} {verdict} under ACCESS EXCLUSIVE: reads and writes wait",
        fix="add a new column, backfill it in batches, switch reads, then drop the old column",
    )


_STABLE_FUNCTIONS = frozenset(
    {
        "now",
        "transaction_timestamp",
        "statement_timestamp",
        "current_setting",
        "current_database",
        "current_schema",
        "lower",
        "upper",
        "coalesce",
        "jsonb_build_object",
        "json_build_object",
        "jsonb_build_array",
        "array",
        "to_jsonb",
        "make_interval",
        "interval",
        # date and time arithmetic: synapse's DEFAULT extract(epoch from now()) * 1000
        "extract",
        "date_part",
        "date_trunc",
        "to_timestamp",
        "timezone",
        "make_date",
        "make_timestamp",
        "make_timestamptz",
        "current_user",
        "session_user",
        "concat",
        "concat_ws",
        "md5",
        "to_char",
    }
)


_VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
        "gen_random_bytes",
    }
)


def _volatile_part(expr: Any) -> str | None:
    """The name of a function that may be volatile in a default, or None if it is not."""
    for node in iter_nodes(expr):
        if isinstance(node, ast.FuncCall):
            name = node.funcname[-1].sval if node.funcname else "?"
            if name.lower() not in _STABLE_FUNCTIONS:
                return name
        elif isinstance(node, ast.SubLink):
            return "a subquery"
    return None


def _existing_add_column(cmd: ast.AlterTableCmd, ctx: StatementContext) -> tuple[str, Any] | None:
    if cmd.subtype != AT.AT_AddColumn or not isinstance(cmd.def_, ast.ColumnDef):
        return None
    table = ctx.existing_alter_table()
    return None if table is None else (table, cmd.def_)


@rule(
    "MP302",
    "column-default-rewrites-table",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_AddColumn,),
    summary="ADD COLUMN with a default that rewrites the table (volatile; any before 11)",
    aliases=("adding-field-with-default",),
)
def column_default_rewrites_table(
    cmd: ast.AlterTableCmd, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ADD COLUMN ... DEFAULT` on an existing table when the default makes PostgreSQL
    rewrite the table: a volatile default (`random()`, `gen_random_uuid()`,
    `clock_timestamp()`, `nextval()`, a function migproof cannot prove stable) on any
    version, and any non-NULL default before PostgreSQL 11.

    ## Why is this bad?
    The rewrite holds an ACCESS EXCLUSIVE lock: reads and writes wait while every row is
    written again.

    ## How to fix
    Add the column without a default (or with a constant one), then `ALTER COLUMN ... SET
    DEFAULT` for new rows, and backfill existing rows in batches.

    ## PostgreSQL versions
    Since PostgreSQL 11, a constant or stable default (`now()`, `'pending'`) is stored in
    the catalog and costs nothing; before 11, every non-NULL default rewrites the table.

    ## With Alembic
    `op.add_column(..., sa.Column(..., server_default=...))` emits this statement.
    """
    found = _existing_add_column(cmd, ctx)
    if found is None:
        return
    table, column = found
    for constraint in column.constraints or ():
        if constraint.contype != CT.CONSTR_DEFAULT or constraint.raw_expr is None:
            continue
        expr = constraint.raw_expr
        if isinstance(expr, ast.A_Const) and expr.isnull:
            return
        volatile = _volatile_part(expr)
        if ctx.cleared_by_facts(table):
            return
        if volatile is not None:
            known = volatile.lower() in _VOLATILE_FUNCTIONS
            unless = "" if known else f"unless {volatile}() is STABLE or IMMUTABLE, "
            yield ctx.finding(
                f"{unless}adding {table}.{column.colname} with default {volatile}(...) rewrites"
                f" {table} under ACCESS EXCLUSIVE: reads and writes wait",
                fix="add the column without a default, SET DEFAULT, then backfill in batches",
            )
        elif ctx.pg_version < 11:
            yield ctx.finding(
                f"before PostgreSQL 11, adding {table}.{column.colname} with a default rewrites"
                f" {table} under ACCESS EXCLUSIVE",
                fix="add the column without a default, SET DEFAULT, then backfill in batches",
            )


@rule(
    "MP303",
    "stored-generated-column-rewrites-table",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_SetExpression, AT.AT_AddColumn),
    summary="ADD COLUMN ... GENERATED ALWAYS AS (...) STORED on an existing table",
)
def stored_generated_column_rewrites_table(
    cmd: ast.AlterTableCmd, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags a stored generated column added to an existing table, and
    `ALTER COLUMN ... SET EXPRESSION` on one.

    ## Why is this bad?
    PostgreSQL computes the value for every row by rewriting the table under an ACCESS
    EXCLUSIVE lock.

    ## How to fix
    Add a plain column, fill it with a trigger for new rows and a batched backfill for old
    ones; or, on PostgreSQL 18, use a virtual generated column.

    ## PostgreSQL versions
    Stored generated columns exist since PostgreSQL 12; `SET EXPRESSION` since 17; virtual
    generated columns (no rewrite) since 18.
    """
    table = ctx.existing_alter_table()
    if table is None:
        return
    if cmd.subtype == AT.AT_SetExpression:
        yield ctx.finding(
            f"changing the expression of {table}.{cmd.name} rewrites {table} under ACCESS"
            " EXCLUSIVE",
            fix="add a new column and backfill it in batches instead",
        )
        return
    found = _existing_add_column(cmd, ctx)
    if found is None:
        return
    _, column = found
    for constraint in column.constraints or ():
        if constraint.contype == CT.CONSTR_GENERATED and constraint.generated_kind != "v":
            yield ctx.finding(
                f"adding stored generated column {table}.{column.colname} rewrites {table}"
                " under ACCESS EXCLUSIVE",
                fix="add a plain column, fill it with a trigger and a batched backfill",
            )


@rule(
    "MP304",
    "serial-column-rewrites-table",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_AddColumn,),
    summary="ADD COLUMN serial / GENERATED AS IDENTITY on an existing table",
)
def serial_column_rewrites_table(
    cmd: ast.AlterTableCmd, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags a `serial`, `bigserial` or identity column added to an existing table.

    ## Why is this bad?
    Every existing row needs a value from the sequence, so PostgreSQL rewrites the table
    under an ACCESS EXCLUSIVE lock.

    ## How to fix
    Add a plain `bigint` column, attach a sequence default for new rows, backfill old rows
    in batches, then add the constraint you need.

    ## PostgreSQL versions
    All supported versions.
    """
    found = _existing_add_column(cmd, ctx)
    if found is None:
        return
    table, column = found
    identity = any(c.contype == CT.CONSTR_IDENTITY for c in column.constraints or ())
    if identity or (column.typeName is not None and sql_type(column.typeName).is_serial):
        yield ctx.finding(
            f"adding auto-incrementing column {table}.{column.colname} rewrites {table} under"
            " ACCESS EXCLUSIVE",
            fix="add a plain bigint column, default it from a sequence, backfill in batches",
        )


@rule(
    "MP305",
    "vacuum-full-or-cluster",
    severity=Severity.ERROR,
    nodes=(ast.VacuumStmt, ast.ClusterStmt),
    summary="VACUUM FULL or CLUSTER: a table rewrite under ACCESS EXCLUSIVE",
    aliases=("prefer-repack",),
)
def vacuum_full_or_cluster(node: object, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `VACUUM FULL` and `CLUSTER` on existing tables (or on the whole database).

    ## Why is this bad?
    Both rewrite the table and its indexes while holding ACCESS EXCLUSIVE: nothing can read
    or write the table until they finish.

    ## How to fix
    Use `pg_repack` (or `pg_squeeze`), which rebuilds the table online; plain `VACUUM` is
    enough to make dead space reusable.

    ## PostgreSQL versions
    All supported versions.
    """
    if isinstance(node, ast.VacuumStmt):
        if not any(o.defname == "full" for o in node.options or ()):
            return
        relations = [v.relation for v in node.rels or () if v.relation is not None]
        what = "VACUUM FULL"
    elif isinstance(node, ast.ClusterStmt):
        relations = [node.relation] if node.relation is not None else []
        what = "CLUSTER"
    else:
        return
    existing = [qualified(r) for r in relations if ctx.is_existing(r)]
    if relations and not existing:
        return
    target = ", ".join(existing) if existing else "every table"
    yield ctx.finding(
        f"{what} rewrites {target} under ACCESS EXCLUSIVE: reads and writes wait",
        fix="use pg_repack for an online rebuild, or plain VACUUM",
    )


_STORAGE_CHANGES = {
    AT.AT_SetLogged: "SET LOGGED",
    AT.AT_SetUnLogged: "SET UNLOGGED",
    AT.AT_SetTableSpace: "SET TABLESPACE",
    AT.AT_SetAccessMethod: "SET ACCESS METHOD",
}


@rule(
    "MP306",
    "storage-change-rewrites-table",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(*_STORAGE_CHANGES,),
    summary="SET LOGGED / UNLOGGED / TABLESPACE / ACCESS METHOD on an existing table",
)
def storage_change_rewrites_table(
    cmd: ast.AlterTableCmd, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TABLE ... SET LOGGED`, `SET UNLOGGED`, `SET TABLESPACE` and
    `SET ACCESS METHOD` on an existing table.

    ## Why is this bad?
    Each copies the whole table (and, for a tablespace, its files) while holding ACCESS
    EXCLUSIVE: nothing reads or writes the table until the copy ends.

    ## How to fix
    Do it in a maintenance window, or build a new table with the wanted storage, copy the
    rows in batches and swap the names.

    ## PostgreSQL versions
    `SET LOGGED` / `SET UNLOGGED` exist since 9.5, `SET ACCESS METHOD` since 15.
    """
    what = _STORAGE_CHANGES.get(cmd.subtype) if cmd.subtype is not None else None
    table = ctx.existing_alter_table()
    if what is None or table is None:
        return
    if ctx.cleared_by_facts(table):
        return
    yield ctx.finding(
        f"{what} rewrites {table} under ACCESS EXCLUSIVE: reads and writes wait",
        fix="use a maintenance window, or copy into a new table in batches and swap names",
    )
