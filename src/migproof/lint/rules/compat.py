"""MP4xx: changes that break the application code still running during and after a deploy."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migproof.findings import Finding, Severity
from migproof.lint.context import StatementContext
from migproof.lint.pgsql import Deferred, ast, enums
from migproof.lint.registry import rule
from migproof.lint.schema import dropped_names, drops_default, qualified, sql_type

AT = enums.AlterTableType
CT = enums.ConstrType
OT = enums.ObjectType

_RUNNING_CODE = "application code still running during the deploy (or after a rollback)"


@rule(
    "MP401",
    "rename-column",
    severity=Severity.ERROR,
    nodes=(ast.RenameStmt,),
    summary="RENAME COLUMN breaks code that uses the old name",
    aliases=("renaming-column",),
)
def rename_column(stmt: ast.RenameStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TABLE ... RENAME COLUMN` on an existing table.

    ## Why is this bad?
    The code still running during the deploy (and any version you roll back to) reads and
    writes the old name: its queries fail until every instance runs the new code.

    ## How to fix
    Expand and contract: add the new column, write to both, backfill, move reads, stop
    writing the old one, then drop it in a later release. Or ship a view under the old name.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.alter_column(..., new_column_name=...)` emits this statement.
    """
    if stmt.renameType != OT.OBJECT_COLUMN or not ctx.is_existing(stmt.relation):
        return
    table = qualified(stmt.relation)
    yield ctx.finding(
        f"renaming {table}.{stmt.subname} to {stmt.newname} breaks {_RUNNING_CODE}",
        fix="add the new column, dual-write, backfill, switch reads, drop the old one later",
    )


@rule(
    "MP402",
    "rename-table",
    severity=Severity.ERROR,
    nodes=(ast.RenameStmt, ast.AlterObjectSchemaStmt),
    summary="RENAME of a table or view, or a move to another schema, breaks code that uses it",
    aliases=("renaming-table", "ban-set-schema"),
)
def rename_table(
    stmt: ast.RenameStmt | ast.AlterObjectSchemaStmt, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TABLE ... RENAME TO` and `ALTER TABLE ... SET SCHEMA` (and the same for
    views and materialized views) on an existing relation.

    ## Why is this bad?
    Every query of the running application names the old table: they fail from the moment
    the rename (or the move to another schema) commits until all instances run the new code.

    ## How to fix
    Create the new table, write to both, backfill, move reads, then drop the old one; or
    rename and leave a view with the old name for one release.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.rename_table(...)` emits this statement.
    """
    kinds = (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW)
    if isinstance(stmt, ast.AlterObjectSchemaStmt):
        kind, to = stmt.objectType, f"schema {stmt.newschema}"
    else:
        kind, to = stmt.renameType, str(stmt.newname)
    if kind not in kinds or stmt.relation is None or not ctx.is_existing(stmt.relation):
        return
    old = qualified(stmt.relation)
    verb = "moving" if isinstance(stmt, ast.AlterObjectSchemaStmt) else "renaming"
    yield ctx.finding(
        f"{verb} {old} to {to} breaks {_RUNNING_CODE}",
        fix="create the new table and migrate to it over two releases, or leave a view",
    )


@rule(
    "MP403",
    "drop-column",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_DropColumn,),
    summary="DROP COLUMN breaks code that still reads or writes it",
    aliases=("ban-drop-column",),
)
def drop_column(cmd: ast.AlterTableCmd, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TABLE ... DROP COLUMN` on an existing table.

    ## Why is this bad?
    Code still running during the deploy selects or inserts the column and fails; ORMs
    that list every mapped column (SQLAlchemy, Active Record) fail on every query of the
    table. The data is gone: a rollback cannot bring it back.

    ## How to fix
    First release code that no longer uses the column (for SQLAlchemy: remove it from the
    model, or `deferred` it), then drop it in a later migration and suppress this finding
    with the reason.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.drop_column(...)` emits this statement.
    """
    if cmd.subtype != AT.AT_DropColumn:
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    yield ctx.finding(
        f"dropping {table}.{cmd.name} breaks {_RUNNING_CODE} if it still uses the column",
        fix="release code that no longer uses the column first, then drop it"
        " (suppress with the reason)",
    )


@rule(
    "MP404",
    "drop-table",
    severity=Severity.ERROR,
    nodes=(ast.DropStmt,),
    summary="DROP TABLE, or DROP SCHEMA / TYPE / DOMAIN / EXTENSION ... CASCADE, of data",
    aliases=("ban-drop-table",),
)
def drop_table(stmt: ast.DropStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `DROP TABLE` of a table that existed before this migration, and
    `DROP SCHEMA ... CASCADE` of a schema this migration did not create. Also
    `DROP TYPE`, `DROP DOMAIN` and `DROP EXTENSION` with `CASCADE`, which drop every column
    of the type (or of the extension's types, such as `citext` or `hstore`) without naming
    them; without CASCADE they fail while a column uses the type (MP410 covers those). A
    type an earlier migration created is not flagged when no column the linted migrations
    made uses it.

    ## Why is this bad?
    Running code that still queries it fails, and the data is gone for good: a rollback of
    the application cannot restore it.

    ## How to fix
    Stop using the table in a release first, take a backup, then drop it in a later
    migration with a suppression that says so.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.drop_table(...)` emits this statement.
    """
    cascade = stmt.behavior == enums.DropBehavior.DROP_CASCADE
    if stmt.removeType == OT.OBJECT_SCHEMA and cascade:
        yield from _drop_schema_cascade(stmt, ctx)
        return
    if stmt.removeType in _TYPE_CARRIERS and cascade:
        yield from _drop_type_cascade(stmt, ctx)
        return
    if stmt.removeType != OT.OBJECT_TABLE:
        return
    for name in dropped_names(stmt):
        if ctx.schema.is_new(name) or ctx.drops_nothing(name):
            continue
        if stmt.missing_ok and name not in ctx.schema.tables and _made_again(ctx, name):
            continue  # "DROP TABLE IF EXISTS x; CREATE TABLE x": a script made idempotent
        yield ctx.finding(
            f"dropping {name} destroys its data and breaks {_RUNNING_CODE} if it still uses it",
            fix="release code that no longer uses it, back it up, then drop it"
            " (suppress with the reason)",
        )


def _made_again(ctx: StatementContext, name: str) -> bool:
    """Whether a statement after the current one creates table ``name`` again (synapse's
    scratch tables: a delta that can run twice drops what an earlier run left)."""
    script = ctx.state.script
    later = next((i + 1 for i, s in enumerate(script) if s is ctx.statement), len(script))
    for statement in script[later:]:
        node = statement.node
        relation = (
            node.relation
            if isinstance(node, ast.CreateStmt)
            else node.into.rel
            if isinstance(node, ast.CreateTableAsStmt) and node.into is not None
            else None
        )
        if relation is not None and qualified(relation) == name:
            return True
    return False


# What DROP ... CASCADE drops columns of: the columns of the type (or the extension's types)
_TYPE_CARRIERS = {
    OT.OBJECT_TYPE: "type",
    OT.OBJECT_DOMAIN: "domain",
    OT.OBJECT_EXTENSION: "extension",
}


def _drop_type_cascade(stmt: ast.DropStmt, ctx: StatementContext) -> Iterator[Finding]:
    kind = _TYPE_CARRIERS.get(stmt.removeType) if stmt.removeType is not None else None
    if kind is None:
        return
    of = "its types" if kind == "extension" else "that type"
    for name in dropped_names(stmt):
        if ctx.schema.created_here(name):
            continue
        if kind != "extension" and name in ctx.schema.types and not ctx.schema.type_in_use(name):
            continue  # an earlier migration made it, and no column of those seen uses it
        yield ctx.finding(
            f"DROP {kind.upper()} {name} CASCADE drops every column of {of}, with its data",
            fix=f"drop or convert those columns by name first, then drop the {kind} without"
            " CASCADE",
        )


def _drop_schema_cascade(stmt: ast.DropStmt, ctx: StatementContext) -> Iterator[Finding]:
    created = {
        n.schemaname
        for s in ctx.state.statements
        if isinstance(n := s.node, ast.CreateSchemaStmt) and n.schemaname
    }
    for name in dropped_names(stmt):
        if name in created:
            continue
        yield ctx.finding(
            f"DROP SCHEMA {name} CASCADE drops every table in it, with its data",
            fix="drop the tables you mean to drop by name, after their code is gone"
            " (suppress with the reason)",
        )


@rule(
    "MP405",
    "drop-database",
    severity=Severity.ERROR,
    nodes=(ast.DropdbStmt,),
    summary="DROP DATABASE in a migration",
    aliases=("ban-drop-database",),
)
def drop_database(stmt: ast.DropdbStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `DROP DATABASE`.

    ## Why is this bad?
    A migration runs against production; dropping a database there loses everything in it.

    ## How to fix
    Drop databases by hand, deliberately, outside the migration chain.

    ## PostgreSQL versions
    All supported versions.
    """
    yield ctx.finding(
        f"DROP DATABASE {stmt.dbname} in a migration destroys a database",
        fix="drop databases by hand, outside migrations",
    )


@rule(
    "MP406",
    "drop-not-null",
    severity=Severity.WARNING,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_DropNotNull,),
    summary="DROP NOT NULL lets NULLs reach code that assumes none",
    aliases=("ban-drop-not-null",),
)
def drop_not_null(cmd: ast.AlterTableCmd, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER COLUMN ... DROP NOT NULL` on an existing table, unless the column is known
    to allow NULL already (Alembic emits the statement whenever `alter_column` is given
    `nullable=True`, whatever the column was).

    ## Why is this bad?
    Once new code writes NULLs, the previous application version (during the deploy, or
    after a rollback) reads values it was written never to see.

    ## How to fix
    Make sure every running version handles NULL in this column before dropping the
    constraint; then suppress with the reason.

    ## PostgreSQL versions
    All supported versions.
    """
    if cmd.subtype != AT.AT_DropNotNull:
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    column = ctx.schema.column(table, cmd.name or "")
    if column is not None and not column.not_null:
        return  # nullable already: the statement changes nothing
    yield ctx.finding(
        f"dropping NOT NULL on {table}.{cmd.name} lets NULLs reach code that"
        " assumes there are none",
        fix="release code that handles NULL first, then suppress with the reason",
    )


@rule(
    "MP407",
    "truncate-cascade",
    severity=Severity.ERROR,
    nodes=(ast.TruncateStmt,),
    summary="TRUNCATE ... CASCADE empties every table that references it",
    aliases=("ban-truncate-cascade",),
)
def truncate_cascade(stmt: ast.TruncateStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `TRUNCATE ... CASCADE`.

    ## Why is this bad?
    CASCADE also empties every table with a foreign key to the truncated ones, and the
    tables referencing those, recursively: far more data than the statement names.

    ## How to fix
    Name every table to truncate explicitly, without CASCADE.

    ## PostgreSQL versions
    All supported versions.
    """
    if stmt.behavior != enums.DropBehavior.DROP_CASCADE:
        return
    names = ", ".join(qualified(r) for r in stmt.relations or ())
    yield ctx.finding(
        f"TRUNCATE {names} CASCADE also empties every table that references them",
        fix="list the tables to truncate explicitly, without CASCADE",
    )


@rule(
    "MP408",
    "add-required-column",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_AddColumn,),
    summary="ADD COLUMN ... NOT NULL without a default on an existing table",
    aliases=("adding-required-field",),
)
def add_required_column(cmd: ast.AlterTableCmd, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ADD COLUMN ... NOT NULL` without a `DEFAULT` (nor identity, serial or generated
    value) on an existing table.

    ## Why is this bad?
    The statement fails if the table has any row; if it is empty now, every INSERT from the
    code still running (which does not know the column) fails afterwards.

    ## How to fix
    Add the column nullable (or with a default), backfill it, then add the NOT NULL
    constraint safely (see MP207).

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.add_column(..., sa.Column(..., nullable=False))` without `server_default`.
    """
    if cmd.subtype != AT.AT_AddColumn or not isinstance(cmd.def_, ast.ColumnDef):
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    column = cmd.def_
    kinds = {c.contype for c in column.constraints or ()}
    if CT.CONSTR_NOTNULL not in kinds and CT.CONSTR_PRIMARY not in kinds:
        return
    if kinds & {CT.CONSTR_DEFAULT, CT.CONSTR_IDENTITY, CT.CONSTR_GENERATED}:
        return
    if column.typeName is not None and sql_type(column.typeName).is_serial:
        return
    if _emptied_before(ctx, table):  # airflow's: DELETE FROM dag_code, then the column
        yield ctx.finding(
            f"adding NOT NULL column {table}.{column.colname} without a default breaks inserts"
            f" from {_RUNNING_CODE} (the migration empties {table} first, so the ADD passes)",
            fix="give it a default, or make the code that inserts set it before this runs",
        )
        return
    yield ctx.finding(
        f"adding NOT NULL column {table}.{column.colname} without a default fails on a"
        f" non-empty {table} and breaks inserts from {_RUNNING_CODE}",
        fix="add it nullable or with a default, backfill, then set NOT NULL safely",
    )


_EMPTIES_OR_FILLS = re.compile(
    r"\s*(?:DELETE\s+FROM|TRUNCATE|INSERT\s+INTO|COPY|MERGE\s+INTO)\b", re.IGNORECASE
)


def _emptied_before(ctx: StatementContext, table: str) -> bool:
    """Whether an earlier statement of the migration deleted every row of ``table``
    (``DELETE FROM t`` without WHERE, ``TRUNCATE t``) and none put rows back since."""
    emptied = False
    for statement in ctx.state.statements:
        node = statement.node
        if isinstance(node, Deferred):  # a data statement left unparsed: most are not these
            if not _EMPTIES_OR_FILLS.match(statement.text):
                continue
            node = node.parse()
        if isinstance(node, ast.DeleteStmt) and node.whereClause is None and node.relation:
            emptied = emptied or qualified(node.relation) == table
        elif isinstance(node, ast.TruncateStmt):
            emptied = emptied or any(qualified(r) == table for r in node.relations or ())
        elif (
            isinstance(node, ast.InsertStmt | ast.CopyStmt | ast.MergeStmt)
            and node.relation
            and qualified(node.relation) == table
        ):  # rows put back: the ADD meets them
            emptied = False
    return emptied


@rule(
    "MP412",
    "drop-default-of-required-column",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_ColumnDefault,),
    summary="DROP DEFAULT of a NOT NULL column breaks inserts that leave it out",
    aliases=("ban-drop-default",),
)
def drop_default_of_required_column(
    cmd: ast.AlterTableCmd, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER COLUMN ... DROP DEFAULT` (or `SET DEFAULT NULL`) of a `NOT NULL` column with
    a default, both known from this migration, an earlier one or the setup SQL, on an
    existing table.

    ## Why is this bad?
    Every INSERT that leaves the column out (the code still running, which relied on the
    default) fails with a NOT NULL violation from the moment the change commits: the mirror
    image of MP408.

    ## How to fix
    Release code that always sets the column first, then drop the default; or keep it.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.alter_column(..., server_default=None)` emits this statement.
    """
    if cmd.subtype != AT.AT_ColumnDefault or not cmd.name or not drops_default(cmd.def_):
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    column = ctx.schema.column(table, cmd.name)
    if column is None or not column.not_null or not column.has_default:
        return  # unknown, nullable, or it had no default: dropping one changes nothing
    yield ctx.finding(
        f"dropping the default of NOT NULL column {table}.{cmd.name} breaks inserts that leave"
        f" it out, from {_RUNNING_CODE}",
        fix="release code that always sets the column, then drop the default (suppress with"
        " the reason)",
    )


_OTHER_OBJECTS = {
    OT.OBJECT_SCHEMA: "schema",
    OT.OBJECT_TYPE: "type",
    OT.OBJECT_DOMAIN: "domain",
    OT.OBJECT_FUNCTION: "function",
    OT.OBJECT_PROCEDURE: "procedure",
    OT.OBJECT_SEQUENCE: "sequence",
    OT.OBJECT_VIEW: "view",
    OT.OBJECT_MATVIEW: "materialized view",
    OT.OBJECT_TRIGGER: "trigger",
    OT.OBJECT_EXTENSION: "extension",
    OT.OBJECT_POLICY: "policy",
}


@rule(
    "MP409",
    "rename-object",
    severity=Severity.WARNING,
    nodes=(ast.RenameStmt,),
    summary="RENAME of a schema, type, function, sequence or other object",
    aliases=("renaming-object",),
    enabled=False,
)
def rename_object(stmt: ast.RenameStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags renaming a schema, type, domain, function, procedure, sequence, trigger or
    policy (tables, views and columns have their own rules). Off by default.

    ## Why is this bad?
    Code and other database objects that name the old one (function bodies, defaults using
    a sequence by name, search paths) break until they are changed too.

    ## How to fix
    Create the new object, move its users over, then drop the old one in a later release.

    ## PostgreSQL versions
    All supported versions.
    """
    kind = _OTHER_OBJECTS.get(stmt.renameType) if stmt.renameType is not None else None
    if kind is None or stmt.renameType in (OT.OBJECT_VIEW, OT.OBJECT_MATVIEW):
        return
    yield ctx.finding(
        f"renaming this {kind} to {stmt.newname} breaks code and objects that use the old name",
        fix="create the new one, move its users, drop the old one later",
    )


@rule(
    "MP410",
    "drop-object",
    severity=Severity.WARNING,
    nodes=(ast.DropStmt,),
    summary="DROP of a view, function, type, schema, sequence, trigger, extension or policy",
    aliases=(
        "ban-drop-view",
        "ban-drop-function",
        "ban-drop-type",
        "ban-drop-schema",
        "ban-drop-sequence",
        "ban-drop-domain",
        "ban-drop-trigger",
        "ban-drop-extension",
        "ban-drop-policy",
    ),
    enabled=False,
)
def drop_object(stmt: ast.DropStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags dropping objects other than tables, columns and indexes: views, functions,
    procedures, types, domains, schemas, sequences, triggers, extensions and policies.
    Off by default.

    ## Why is this bad?
    The previous application version may still call the function, query the view or rely
    on the trigger's side effects; after an application-only rollback it breaks.

    ## How to fix
    Remove every use in a release first, then drop the object and suppress with the reason.

    ## PostgreSQL versions
    All supported versions.
    """
    kind = _OTHER_OBJECTS.get(stmt.removeType) if stmt.removeType is not None else None
    if kind is None:
        return
    for name in dropped_names(stmt):
        if ctx.schema.created_here(name):
            continue  # nothing outside this migration can use it yet
        yield ctx.finding(
            f"dropping {kind} {name} breaks code that still uses it",
            fix="remove its uses in a release first, then drop it (suppress with the reason)",
        )


@rule(
    "MP411",
    "drop-constraint",
    severity=Severity.WARNING,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_DropConstraint,),
    summary="DROP CONSTRAINT removes a guarantee running code may rely on",
    aliases=("ban-drop-constraint",),
    enabled=False,
)
def drop_constraint(cmd: ast.AlterTableCmd, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TABLE ... DROP CONSTRAINT` of a constraint that existed before this
    migration. Off by default.

    ## Why is this bad?
    Once the constraint is gone, new code can write rows the old code never expected
    (duplicates, orphans, out-of-range values); after an application rollback the old code
    meets them. Dropping a primary key or unique constraint also drops its index.

    ## How to fix
    Make sure every running version tolerates the rows the constraint used to forbid, then
    drop it and suppress with the reason; replace a dropped unique constraint's index first
    if queries use it.

    ## PostgreSQL versions
    All supported versions.
    """
    if cmd.subtype != AT.AT_DropConstraint or not cmd.name:
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    known = ctx.schema.constraint(table, cmd.name)
    if known is not None and known.new:
        return
    yield ctx.finding(
        f"dropping constraint {cmd.name} on {table} lets in rows that running code may not expect",
        fix="check every running release tolerates them, then suppress with the reason",
    )
