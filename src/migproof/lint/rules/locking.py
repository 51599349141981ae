"""MP2xx: statements that hold locks blocking reads or writes on tables already in use."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migproof.findings import Finding, Severity
from migproof.lint.context import MigrationContext, StatementContext
from migproof.lint.effects import WEAK_SUBCOMMANDS
from migproof.lint.pgsql import ast, enums
from migproof.lint.registry import migration_rule, rule
from migproof.lint.schema import qualified, qualified_list

AT = enums.AlterTableType


def _rewritten(ctx: StatementContext, pattern: str, replacement: str, fallback: str) -> str:
    """The user's own statement with the safe keyword added, for the finding's fix."""
    text = ctx.statement.text if ctx.statement is not None else ""
    fixed, count = re.subn(pattern, replacement, text, count=1, flags=re.IGNORECASE)
    return f"{fixed.rstrip(';')};" if count and "\n" not in fixed else fallback


CT = enums.ConstrType
OT = enums.ObjectType


@rule(
    "MP201",
    "index-without-concurrently",
    severity=Severity.ERROR,
    nodes=(ast.IndexStmt,),
    summary="CREATE INDEX on an existing table without CONCURRENTLY",
    aliases=("require-concurrent-index-creation",),
)
def index_without_concurrently(stmt: ast.IndexStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `CREATE INDEX` (and `CREATE UNIQUE INDEX`) on a table that existed before this
    migration, without `CONCURRENTLY`.

    ## Why is this bad?
    A plain `CREATE INDEX` holds a SHARE lock on the table until the build ends: every
    INSERT, UPDATE and DELETE waits, for minutes on a large table.

    ## How to fix
    Build it with `CREATE INDEX CONCURRENTLY`, outside a transaction block. Indexes on
    tables created in the same migration need nothing: nobody else uses them yet. On a
    partitioned table (where CONCURRENTLY is not supported), create the index `ON ONLY` the
    parent, build each partition's index concurrently and `ALTER INDEX ... ATTACH PARTITION`.

    ## PostgreSQL versions
    All supported versions. PostgreSQL 14.0 to 14.3 could corrupt indexes built
    concurrently: upgrade to 14.4 or later first.

    ## With Alembic
    `op.create_index(..., postgresql_concurrently=True)` inside
    `with op.get_context().autocommit_block():`.
    """
    if stmt.concurrent or not ctx.is_existing(stmt.relation):
        return
    if (
        stmt.relation is None or stmt.relation.inh is False
    ):  # ON ONLY a partitioned table: no build, nothing waits
        return
    table = qualified(stmt.relation)
    yield ctx.finding(
        f"CREATE INDEX on {table} blocks writes to {table} until the index is built",
        fix=_rewritten(
            ctx,
            r"\bINDEX\b",
            "INDEX CONCURRENTLY",
            f"CREATE INDEX CONCURRENTLY ... ON {table} ...",
        )
        + " (outside a transaction)",
    )


@rule(
    "MP202",
    "drop-index-without-concurrently",
    severity=Severity.WARNING,
    nodes=(ast.DropStmt,),
    summary="DROP INDEX of an existing index without CONCURRENTLY",
    aliases=("require-concurrent-index-deletion",),
)
def drop_index_without_concurrently(stmt: ast.DropStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `DROP INDEX` without `CONCURRENTLY` on an index that existed before this migration.

    ## Why is this bad?
    `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table: reads and writes
    wait, and the lock itself waits behind every long-running query on the table.

    ## How to fix
    `DROP INDEX CONCURRENTLY`, outside a transaction block.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.drop_index(..., postgresql_concurrently=True)` inside
    `with op.get_context().autocommit_block():`.
    """
    if stmt.removeType != OT.OBJECT_INDEX or stmt.concurrent:
        return
    for obj in stmt.objects or ():
        name = qualified_list(obj)
        index = ctx.schema.indexes.get(name)
        if index is not None and (index.new or ctx.schema.is_new(index.table)):
            continue
        if ctx.drops_nothing(name):
            continue
        on = f" {index.table}" if index else ""
        yield ctx.finding(
            f"DROP INDEX {name} locks its table{on} against reads and writes",
            fix=_rewritten(
                ctx, r"\bINDEX\b", "INDEX CONCURRENTLY", f"DROP INDEX CONCURRENTLY {name};"
            )
            + " (outside a transaction)",
        )


@rule(
    "MP203",
    "concurrently-in-transaction",
    severity=Severity.ERROR,
    nodes=(ast.IndexStmt, ast.DropStmt, ast.ReindexStmt, ast.PartitionCmd),
    summary="CONCURRENTLY inside a transaction block (it fails there)",
    aliases=("ban-concurrent-index-creation-in-transaction",),
)
def concurrently_in_transaction(node: object, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY`
    and `DETACH PARTITION CONCURRENTLY` in a transaction: after `BEGIN`, in a migration
    its runner wraps in one (Alembic, goose, dbmate; `assume-in-transaction`, unless its
    file holds only such statements and SETs, which Flyway runs without a transaction), or in a
    golang-migrate file with other statements (sent as one query, which PostgreSQL runs as
    one implicit transaction).

    ## Why is this bad?
    PostgreSQL refuses them inside a transaction block ("cannot run inside a transaction
    block"): the migration fails at deploy.

    ## How to fix
    Run the statement outside the transaction: its own migration file marked to run
    without one (`-- +goose NO TRANSACTION`, `-- migrate:up transaction:false`), or end the
    transaction first.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    Put the operation in `with op.get_context().autocommit_block():`.
    """
    concurrent = False
    if isinstance(node, ast.IndexStmt | ast.DropStmt | ast.PartitionCmd):
        concurrent = bool(node.concurrent)
    elif isinstance(node, ast.ReindexStmt):
        concurrent = any(p.defname == "concurrently" for p in node.params or ())
    if concurrent and ctx.in_transaction:
        yield ctx.finding(
            "CONCURRENTLY cannot run inside a transaction block: this statement fails",
            fix="run it outside the migration's transaction (autocommit)",
        )


@rule(
    "MP204",
    "foreign-key-without-not-valid",
    severity=Severity.ERROR,
    nodes=(ast.Constraint,),
    kinds=(CT.CONSTR_FOREIGN,),
    summary="ADD FOREIGN KEY on an existing table without NOT VALID",
    aliases=("adding-foreign-key-constraint",),
)
def foreign_key_without_not_valid(
    constraint: ast.Constraint, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags a foreign key added to an existing table (`ADD CONSTRAINT ... FOREIGN KEY`, or
    `ADD COLUMN ... REFERENCES` in a statement that gives a new column a default) without
    `NOT VALID`. A column added without a default is NULL in every row: PostgreSQL marks
    its foreign key valid without a scan.

    ## Why is this bad?
    Adding a validated foreign key checks every row while holding SHARE ROW EXCLUSIVE
    locks on both tables: writes to both wait until the whole table is scanned.

    ## How to fix
    Add it `NOT VALID` (new rows are checked from then on), then `VALIDATE CONSTRAINT` in
    a later migration: validation takes only SHARE UPDATE EXCLUSIVE, which lets writes run.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.create_foreign_key(..., postgresql_not_valid=True)`, then in the next revision
    `op.execute("ALTER TABLE ... VALIDATE CONSTRAINT ...")`.
    """
    if constraint.contype != CT.CONSTR_FOREIGN or constraint.skip_validation:
        return
    table = ctx.existing_alter_table()
    if table is None or _on_new_null_column(constraint, ctx):
        return
    target = qualified(constraint.pktable) if constraint.pktable else "the referenced table"
    blocked = table if target == table else f"{table} and {target}"  # a self-reference
    yield ctx.finding(
        f"adding a validated foreign key scans {table} and blocks writes to {blocked} until"
        " it is checked",
        fix=_not_valid_fix(ctx, table, target),
    )


def _on_new_null_column(constraint: ast.Constraint, ctx: StatementContext) -> bool:
    """A key declared on a column the statement adds, when no column it adds has a default:
    every row holds NULL there, and PostgreSQL skips the check (parse_utilcmd.c)."""
    column = ctx.parent(ast.ColumnDef)
    if column is None or not any(c is constraint for c in column.constraints or ()):
        return False
    statement = ctx.parent(ast.AlterTableStmt)
    added = [
        cmd.def_
        for cmd in (statement.cmds or () if statement is not None else ())
        if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef)
    ]
    return not any(
        new.raw_default is not None
        or any(
            c.contype in (CT.CONSTR_DEFAULT, CT.CONSTR_IDENTITY, CT.CONSTR_GENERATED)
            for c in new.constraints or ()
        )
        for new in added
    )


def _not_valid_fix(ctx: StatementContext, table: str, target: str) -> str:
    column = ctx.parent(ast.ColumnDef)
    if column is None:
        return (
            _rewritten(ctx, r"\s*;?\s*$", " NOT VALID", "add it NOT VALID")
            + " then, in a later migration, ALTER TABLE ... VALIDATE CONSTRAINT ..."
        )
    # NOT VALID is not allowed on a column's inline REFERENCES: add the column, then the key
    return (
        f"ADD COLUMN {column.colname} without REFERENCES, then ALTER TABLE {table} ADD"
        f" CONSTRAINT ... FOREIGN KEY ({column.colname}) REFERENCES {target} NOT VALID;"
        " and VALIDATE CONSTRAINT in a later migration"
    )


@rule(
    "MP205",
    "check-without-not-valid",
    severity=Severity.ERROR,
    nodes=(ast.Constraint,),
    kinds=(CT.CONSTR_CHECK,),
    summary="ADD CONSTRAINT ... CHECK on an existing table without NOT VALID",
    aliases=("constraint-missing-not-valid",),
)
def check_without_not_valid(constraint: ast.Constraint, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TABLE ... ADD CONSTRAINT ... CHECK (...)` on an existing table without
    `NOT VALID`.

    ## Why is this bad?
    PostgreSQL checks every row while holding an ACCESS EXCLUSIVE lock: reads and writes
    wait for the whole scan.

    ## How to fix
    Add the constraint `NOT VALID`, then `VALIDATE CONSTRAINT` in a later migration (or
    at least a later transaction): validation lets reads and writes continue.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.create_check_constraint(..., postgresql_not_valid=True)`, then
    `op.execute("ALTER TABLE ... VALIDATE CONSTRAINT ...")` in the next revision.
    """
    if constraint.contype != CT.CONSTR_CHECK or constraint.skip_validation:
        return
    cmd = ctx.parent(ast.AlterTableCmd)
    if cmd is None or cmd.subtype != AT.AT_AddConstraint:
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    yield ctx.finding(
        f"adding a CHECK constraint scans {table} under ACCESS EXCLUSIVE: reads and writes"
        " wait until every row is checked",
        fix=_rewritten(ctx, r"\s*;?\s*$", " NOT VALID", "add it NOT VALID")
        + " then, in a later migration, ALTER TABLE ... VALIDATE CONSTRAINT ...",
    )


@rule(
    "MP206",
    "validate-in-same-transaction",
    severity=Severity.WARNING,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_ValidateConstraint,),
    summary="VALIDATE CONSTRAINT under a lock its transaction or statement already holds",
)
def validate_in_same_transaction(
    cmd: ast.AlterTableCmd, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `VALIDATE CONSTRAINT` run in the same transaction as the `ADD CONSTRAINT ...
    NOT VALID` it validates, after another statement of its transaction locked the table
    (ADD COLUMN, CREATE INDEX ...), or in an `ALTER TABLE` with other subcommands.

    ## Why is this bad?
    VALIDATE alone takes SHARE UPDATE EXCLUSIVE, which lets reads and writes go on during
    its scan. But a lock already held is kept until the transaction ends (the ADD's ACCESS
    EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a foreign key), and one ALTER TABLE takes
    the strongest lock of its subcommands: the validation scan then runs under it, the
    same outage `NOT VALID` was meant to avoid.

    ## How to fix
    Validate in a statement of its own, in a later migration or after a `COMMIT`.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    Put the VALIDATE in the next revision, or in `autocommit_block()`.
    """
    if cmd.subtype != AT.AT_ValidateConstraint:
        return
    relation = ctx.alter_table_target()
    if relation is None:
        return
    table = qualified(relation)
    others = [
        c
        for c in getattr(ctx.node, "cmds", None) or ()
        if isinstance(c, ast.AlterTableCmd) and c.subtype not in WEAK_SUBCOMMANDS
    ]
    if others:  # the statement takes the strongest lock of its subcommands, for the scan too
        yield ctx.finding(
            f"constraint {cmd.name} is validated in the ALTER TABLE that also runs"
            f" {_subcommand(others[0])} on {table}: the scan runs under that subcommand's lock",
            fix=f"validate it in a statement of its own: ALTER TABLE {table} VALIDATE CONSTRAINT"
            f" {cmd.name};",
        )
        return
    if not ctx.in_transaction:
        return
    if (table, cmd.name) in ctx.state.not_valid_added:
        yield ctx.finding(
            f"constraint {cmd.name} is validated in the transaction that added it to {table}:"
            " the scan runs under the ADD's lock",
            fix="validate it in a later migration, or COMMIT first",
        )
        return
    holder = ctx.state.strong_locks.get(table)
    if holder is not None:
        taken = " ".join(holder.text.split())
        taken = taken if len(taken) <= 60 else taken[:57] + "..."
        yield ctx.finding(
            f"constraint {cmd.name} is validated while this transaction holds the lock on"
            f" {table} that `{taken}` took: the scan runs under it",
            fix="validate it in a later migration, or COMMIT first",
        )


def _subcommand(cmd: ast.AlterTableCmd) -> str:
    """``ADD COLUMN``, ``DROP COLUMN`` ...: a subcommand as a reader names it."""
    name = cmd.subtype.name.removeprefix("AT_") if cmd.subtype is not None else "ALTER"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).upper()


@rule(
    "MP207",
    "set-not-null-without-check",
    severity=Severity.ERROR,
    nodes=(ast.AlterTableCmd,),
    kinds=(AT.AT_SetNotNull,),
    summary="SET NOT NULL on an existing column without a validated CHECK first",
    aliases=("adding-not-nullable-field",),
)
def set_not_null_without_check(cmd: ast.AlterTableCmd, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER COLUMN ... SET NOT NULL` on an existing table, unless a validated
    `CHECK (column IS NOT NULL)` constraint already proves it (PostgreSQL 12+), or the
    column is already NOT NULL (then PostgreSQL does nothing).

    ## Why is this bad?
    PostgreSQL scans the whole table under an ACCESS EXCLUSIVE lock to prove there is no
    NULL: reads and writes wait.

    ## How to fix
    Add `CHECK (column IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT` it in a later
    migration, then `SET NOT NULL` (PostgreSQL 12+ skips the scan) and drop the check.

    ## PostgreSQL versions
    Since PostgreSQL 12 a validated CHECK constraint lets SET NOT NULL skip the scan.
    Before 12 there is no way around the scan: the check constraint alone is the fix.

    ## With Alembic
    `op.create_check_constraint(..., postgresql_not_valid=True)`; next revision: VALIDATE,
    then `op.alter_column(..., nullable=False)`.
    """
    if cmd.subtype != AT.AT_SetNotNull:
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    column = ctx.schema.column(table, cmd.name or "")
    if column is not None and column.not_null:
        return  # already NOT NULL (alter_column(nullable=False) says it again): no scan
    if ctx.pg_version >= 12:
        for constraint in ctx.schema.constraints_of(table):
            # validated even in this transaction (MP206 reports that scan): no scan here
            if constraint.not_null_of == cmd.name and constraint.valid:
                return
    yield ctx.finding(
        f"SET NOT NULL on {table}.{cmd.name} scans {table} under ACCESS EXCLUSIVE:"
        " reads and writes wait",
        fix=f"add CHECK ({cmd.name} IS NOT NULL) NOT VALID, validate it in a later migration,"
        " then SET NOT NULL",
    )


@rule(
    "MP208",
    "unique-constraint-without-index",
    severity=Severity.ERROR,
    nodes=(ast.Constraint,),
    kinds=(CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE),
    summary="ADD PRIMARY KEY / UNIQUE on an existing table that builds its index",
    aliases=("disallowed-unique-constraint", "adding-serial-primary-key-field"),
)
def unique_constraint_without_index(
    constraint: ast.Constraint, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ADD CONSTRAINT ... UNIQUE` / `PRIMARY KEY` (or `ADD COLUMN ... UNIQUE`) on an
    existing table, unless it is added `USING INDEX` of an index built beforehand.

    ## Why is this bad?
    The constraint builds its unique index under an ACCESS EXCLUSIVE lock: reads and writes
    wait for the whole build.

    ## How to fix
    `CREATE UNIQUE INDEX CONCURRENTLY` first, then
    `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX ...` (a quick catalog change).

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.create_index(..., unique=True, postgresql_concurrently=True)` in
    `autocommit_block()`, then `op.execute("ALTER TABLE ... ADD CONSTRAINT ... USING INDEX ...")`.
    """
    if constraint.contype not in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE) or constraint.indexname:
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    kind = "PRIMARY KEY" if constraint.contype == CT.CONSTR_PRIMARY else "UNIQUE"
    yield ctx.finding(
        f"adding {kind} to {table} builds its index under ACCESS EXCLUSIVE: reads and writes wait",
        fix=f"CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... {kind} USING INDEX",
    )


@rule(
    "MP209",
    "exclusion-constraint-on-existing-table",
    severity=Severity.ERROR,
    nodes=(ast.Constraint,),
    kinds=(CT.CONSTR_EXCLUSION,),
    summary="ADD CONSTRAINT ... EXCLUDE on an existing table",
)
def exclusion_constraint_on_existing_table(
    constraint: ast.Constraint, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags an exclusion constraint added to an existing table.

    ## Why is this bad?
    The constraint builds its index and checks every row under an ACCESS EXCLUSIVE lock,
    and unlike CHECK or UNIQUE there is no `NOT VALID` or `USING INDEX` way around it.

    ## How to fix
    Create the constraint with the table, or build a new table with it and move the data
    over; on a small table, accept it with a suppression that says why.

    ## PostgreSQL versions
    All supported versions.
    """
    if constraint.contype != CT.CONSTR_EXCLUSION:
        return
    table = ctx.existing_alter_table()
    if table is not None:
        yield ctx.finding(
            f"adding an exclusion constraint to {table} builds its index under ACCESS"
            " EXCLUSIVE: reads and writes wait",
            fix="create it with the table, or suppress with a reason if the table is small",
        )


@migration_rule(
    "MP210",
    "missing-lock-timeout",
    severity=Severity.WARNING,
    summary="lock-taking DDL on an existing table without SET lock_timeout first",
    aliases=("require-lock-timeout", "require-timeout-settings"),
)
def missing_lock_timeout(ctx: MigrationContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags the first statement that locks an existing table (ALTER, DROP, RENAME, TRUNCATE,
    CREATE INDEX, a foreign key to it) when the migration has not set `lock_timeout`.
    Statements whose lock lets reads and writes go on (`CREATE INDEX CONCURRENTLY`, an
    `ALTER TABLE` that only validates constraints or sets statistics or storage options)
    are left out.

    ## Why is this bad?
    The lock request queues behind any long-running query on the table, and every query
    that arrives afterwards queues behind the request: one slow report turns a millisecond
    ALTER into an outage. `lock_timeout` makes the migration give up instead.

    ## How to fix
    Start the migration with `SET lock_timeout = '2s';` (or `SET LOCAL` inside a
    transaction) and retry the deploy when it times out.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `op.execute("SET LOCAL lock_timeout = '2s'")` first in `upgrade()`, or set it for every
    revision in `env.py` (`connection.execute(text("SET lock_timeout = '2s'"))`, or `SET
    LOCAL` inside `with context.begin_transaction():`, where it covers every revision
    `alembic upgrade` runs in that one transaction).
    """
    for event in ctx.state.lock_events:
        if event.tables and not event.lock_timeout_set:
            yield ctx.finding_at(
                event.statement,
                f"this statement locks {', '.join(event.tables)} with no lock_timeout: it can queue"
                " behind a long query and block every query after it",
                fix="SET lock_timeout = '2s'; at the start of the migration",
            )
            return


@rule(
    "MP211",
    "reindex-without-concurrently",
    severity=Severity.WARNING,
    nodes=(ast.ReindexStmt,),
    summary="REINDEX without CONCURRENTLY",
    aliases=("require-concurrent-reindex",),
)
def reindex_without_concurrently(stmt: ast.ReindexStmt, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags `REINDEX` of an existing index, table, schema or database without `CONCURRENTLY`.

    ## Why is this bad?
    `REINDEX` locks out writes to the table (and reads that would use the index) for the
    whole rebuild.

    ## How to fix
    `REINDEX ... CONCURRENTLY`, outside a transaction block.

    ## PostgreSQL versions
    `REINDEX CONCURRENTLY` exists since PostgreSQL 12; on older servers build a new index
    concurrently and drop the old one instead.

    ## With Alembic
    `op.execute("REINDEX INDEX CONCURRENTLY ...")` inside `autocommit_block()`.
    """
    if any(p.defname == "concurrently" for p in stmt.params or ()):
        return
    if stmt.relation is not None:
        name = qualified(stmt.relation)
        index = ctx.schema.indexes.get(name)
        table = index.table if index else name
        if ctx.schema.is_new(table) or (index is not None and index.new):
            return
    else:
        name = stmt.name or "the database"
    fix = (
        _rewritten(
            ctx,
            r"\b(INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\b",
            r"\1 CONCURRENTLY",
            "REINDEX ... CONCURRENTLY",
        )
        + " (outside a transaction)"
        if ctx.pg_version >= 12
        else "CREATE INDEX CONCURRENTLY a replacement, then DROP INDEX CONCURRENTLY the old one"
    )
    yield ctx.finding(f"REINDEX of {name} blocks writes until the rebuild ends", fix=fix)


@rule(
    "MP212",
    "detach-partition-without-concurrently",
    severity=Severity.WARNING,
    nodes=(ast.PartitionCmd,),
    summary="DETACH PARTITION without CONCURRENTLY (PostgreSQL 14+)",
    aliases=("require-concurrent-partition-detach",),
)
def detach_partition_without_concurrently(
    cmd: ast.PartitionCmd, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY` on an existing table.

    ## Why is this bad?
    A plain detach takes ACCESS EXCLUSIVE on the partitioned table: every query on any
    partition waits.

    ## How to fix
    `ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY`, outside a transaction block.

    ## PostgreSQL versions
    `CONCURRENTLY` exists since PostgreSQL 14; the rule is silent for older targets, where
    there is no alternative.
    """
    alter = ctx.parent(ast.AlterTableCmd)
    if alter is None or alter.subtype != AT.AT_DetachPartition or cmd.concurrent:
        return
    table = ctx.existing_alter_table()
    if ctx.pg_version < 14 or table is None:
        return
    yield ctx.finding(
        f"DETACH PARTITION locks {table} against reads and writes",
        fix="DETACH PARTITION ... CONCURRENTLY, outside a transaction",
    )


_DML = (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)


@rule(
    "MP213",
    "backfill-in-ddl-transaction",
    severity=Severity.WARNING,
    nodes=_DML,
    summary="UPDATE/DELETE/INSERT ... SELECT in the transaction of lock-taking DDL",
    data_only_when_held=True,
)
def backfill_in_ddl_transaction(node: object, ctx: StatementContext) -> Iterator[Finding]:
    """
    ## What it does
    Flags an `UPDATE`, a `DELETE` or an `INSERT ... SELECT` on an existing table in a
    transaction that already holds a lock taken by DDL on an existing table (ALTER TABLE,
    CREATE INDEX, ...).

    ## Why is this bad?
    Locks are held until the transaction ends, so the DDL's lock is held for as long as the
    backfill runs: minutes of blocked reads or writes on a large table.

    ## How to fix
    Commit the DDL first; backfill in a separate migration (or outside the transaction), in
    batches of a few thousand rows.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    Move the data change to its own revision, or run it in `autocommit_block()` in batches.
    """
    if not ctx.in_transaction or not ctx.state.strong_locks:
        return
    relation = getattr(node, "relation", None)
    if relation is None or not ctx.is_existing(relation):
        return
    if relation.relname in ctx.settings.tracker_tables:
        return  # UPDATE alembic_version: the runner's bookkeeping, one row
    if isinstance(node, ast.InsertStmt):
        select = node.selectStmt
        if not isinstance(select, ast.SelectStmt) or not select.fromClause:
            return
    table = qualified(relation)
    # the lock on the table it changes, the strongest kind first (mlflow: ALTER TABLE jobs
    # on line 70, not the foreign key to jobs of a table created on line 52)
    state = ctx.state
    held = state.own_locks.get(table) or state.strong_locks.get(table)
    if held is not None:
        locked, statement = table, held
    else:
        locked, statement = next(iter(state.own_locks.items() or state.strong_locks.items()))
    where = ctx.location_of(statement)
    line = where.line if where is not None and where.line is not None else statement.line
    what = "delete from" if isinstance(node, ast.DeleteStmt) else "backfill of"
    yield ctx.finding(
        f"this {what} {table} runs while the transaction holds the lock on {locked}"
        f" taken on line {line}: that lock is held until it ends",
        fix="commit the DDL first and change the rows in batches in a separate migration",
    )


@rule(
    "MP214",
    "domain-constraint-without-not-valid",
    severity=Severity.WARNING,
    nodes=(ast.AlterDomainStmt,),
    summary="ALTER DOMAIN ... ADD CONSTRAINT without NOT VALID",
    aliases=("ban-alter-domain-with-add-constraint",),
)
def domain_constraint_without_not_valid(
    stmt: ast.AlterDomainStmt, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER DOMAIN ... ADD CONSTRAINT` without `NOT VALID`.

    ## Why is this bad?
    PostgreSQL checks every column of every table that uses the domain, locking each of
    those tables against writes while it scans.

    ## How to fix
    Add the constraint `NOT VALID`, then `ALTER DOMAIN ... VALIDATE CONSTRAINT` in a later
    migration.

    ## PostgreSQL versions
    All supported versions.
    """
    if stmt.subtype != "C" or not isinstance(stmt.def_, ast.Constraint):
        return
    if stmt.def_.skip_validation:
        return
    name = qualified_list(stmt.typeName or ())
    if ctx.schema.types.get(name):
        return  # created in this migration: no column uses it yet
    yield ctx.finding(
        f"adding a constraint to domain {name} scans every table that uses it, blocking writes",
        fix="add it NOT VALID, then VALIDATE CONSTRAINT in a later migration",
    )


@rule(
    "MP215",
    "primary-key-on-nullable-columns",
    severity=Severity.WARNING,
    nodes=(ast.Constraint,),
    kinds=(CT.CONSTR_PRIMARY,),
    summary="ADD PRIMARY KEY USING INDEX over columns that are not yet NOT NULL",
)
def primary_key_on_nullable_columns(
    constraint: ast.Constraint, ctx: StatementContext
) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ADD CONSTRAINT ... PRIMARY KEY USING INDEX` on an existing table when a column of
    the index is known to be nullable.

    ## Why is this bad?
    A primary key implies NOT NULL: PostgreSQL sets it on each nullable column, scanning the
    whole table under ACCESS EXCLUSIVE, the very lock the prebuilt index was meant to avoid.

    ## How to fix
    Make the columns NOT NULL the safe way first (a validated `CHECK (col IS NOT NULL)`, then
    `SET NOT NULL`, see MP207), then add the key using the index.

    ## PostgreSQL versions
    All supported versions; the CHECK shortcut for SET NOT NULL needs PostgreSQL 12.
    """
    if constraint.contype != CT.CONSTR_PRIMARY or not constraint.indexname:
        return
    table = ctx.existing_alter_table()
    if table is None:
        return
    index = ctx.schema.indexes.get(f"{table.split('.', 1)[0]}.{constraint.indexname}")
    if index is None:
        return
    nullable = []
    for name in index.columns:
        column = ctx.schema.column(table, name)
        if column is not None and not column.not_null:
            nullable.append(name)
    if nullable:
        yield ctx.finding(
            f"the primary key makes {', '.join(nullable)} NOT NULL, scanning {table} under"
            " ACCESS EXCLUSIVE",
            fix="SET NOT NULL first, after a validated CHECK (col IS NOT NULL)",
        )
