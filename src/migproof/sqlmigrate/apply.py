"""Running migrations: ``migrate``, ``status`` and ``dry_run`` on the database they are given.

Each migration runs in its own transaction with its tracker row, under ``lock_timeout`` and
``statement_timeout`` from the config, statement by statement (split by PostgreSQL's parser)
so that a failure names the statement and its line. A migration marked to run outside a
transaction runs statement by statement in autocommit, its row written after the last one.
The whole run holds a session advisory lock keyed on the tracker's name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from migproof.config import Config
from migproof.errors import DatabaseError, mask_password
from migproof.findings import Finding, Location, Report, Severity
from migproof.lint.pgsql import SqlSyntaxError, ast, enums, line_and_column, parse_statements
from migproof.progress import NullProgress, Progress
from migproof.sandbox.databases import connection_failure_reason, first_line
from migproof.sqlmigrate import diagnostics as diag
from migproof.sqlmigrate.layout import Layout, Migration, scan_directory
from migproof.sqlmigrate.plan import Plan, State, make_plan
from migproof.sqlmigrate.tracker import AppliedRow, LegacyState, Tracker, read_legacy

__all__ = ["Script", "Step", "dry_run", "migrate", "prepare_script", "status"]

Connection = psycopg.Connection[tuple[object, ...]]

_CONNECT_TIMEOUT = 10
# A killed deployer must not leave its backend running the migration (PostgreSQL 14+):
# the server checks the client socket every second and aborts the transaction if it is gone.
_CONNECTION_CHECK_MS = "1000"
_STATEMENT_SHOWN = 2000
_BEGIN = {enums.TransactionStmtKind.TRANS_STMT_BEGIN, enums.TransactionStmtKind.TRANS_STMT_START}
_COMMIT = {enums.TransactionStmtKind.TRANS_STMT_COMMIT}


@dataclass(frozen=True, slots=True)
class Step:
    """One statement to send; ``line`` is its 1-based line in the migration's file."""

    text: str
    line: int


@dataclass(frozen=True, slots=True)
class Script:
    """A migration's up SQL as steps, and whether it may run in one transaction."""

    steps: tuple[Step, ...]
    transactional: bool


def prepare_script(migration: Migration) -> Script:
    """Split the up SQL into statements; a file's own BEGIN … COMMIT wrapper is dropped.

    Other transaction control inside a file (a COMMIT halfway) means the file manages its
    own transactions, so it runs like a no-transaction migration. SQL PostgreSQL's parser (as
    pglast ships it) rejects is sent whole and the server reports the error.
    """
    try:
        statements = parse_statements(migration.up_sql)
    except SqlSyntaxError:
        text = migration.up_sql.strip()
        whole: tuple[Step, ...] = (Step(text, migration.up_line),) if text else ()
        return Script(whole, not migration.no_transaction)
    kinds = [s.node.kind if isinstance(s.node, ast.TransactionStmt) else None for s in statements]
    if len(statements) >= 2 and kinds[0] in _BEGIN and kinds[-1] in _COMMIT:
        statements, kinds = statements[1:-1], kinds[1:-1]
    manages_own = any(kind is not None for kind in kinds)
    steps = tuple(Step(s.text, s.line + migration.up_line - 1) for s in statements)
    return Script(steps, not (migration.no_transaction or manages_own))


@dataclass(frozen=True, slots=True)
class _Settings:
    directory: Path
    url: str
    layout: str | None
    schema: str
    table: str
    strict_order: bool
    lock_wait: float
    legacy_table: str | None
    lock_timeout: float
    statement_timeout: float
    setting: Callable[[str], str]  # where the project sets an option, for fix lines

    @property
    def tracker_name(self) -> str:
        return f"{self.schema}.{self.table}"


def _settings(config: Config, directory: Path, url: str) -> _Settings:
    m = config.migrate
    return _Settings(
        directory=directory,
        url=url,
        layout=m.layout,
        schema=m.tracker_schema,
        table=m.tracker_table,
        strict_order=m.strict_order,
        lock_wait=m.lock_wait,
        legacy_table=m.legacy_table,
        lock_timeout=config.lock_timeout,
        statement_timeout=config.statement_timeout,
        setting=config.setting,
    )


class _StepFailedError(Exception):
    def __init__(self, step: Step, error: psycopg.Error, done: int) -> None:
        super().__init__(str(error))
        self.step = step
        self.error = error
        self.done = done


# Public entry points ---------------------------------------------------------------------------


def migrate(
    config: Config, directory: Path, url: str, *, progress: Progress | None = None
) -> Report:
    """Apply every pending migration of ``directory`` to the database at ``url``.

    >>> migrate(load_config(), Path("db/migrations"), "postgresql:///app")  # doctest: +SKIP
    """
    progress = progress or NullProgress()
    s = _settings(config, directory, url)
    report = Report("migrate")
    layout, migrations = scan_directory(directory, s.layout, setting=s.setting)
    with _connect(url, "migproof migrate", s.setting) as conn:
        tracker = Tracker(conn, s.schema, s.table, setting=s.setting)
        with tracker.locked(s.lock_wait):
            tracker.ensure()
            applied = tracker.rows()
            if not applied:
                legacy = _legacy(conn, layout, migrations, s, report)
                if legacy is None:
                    return report
                if legacy.rows:
                    with conn.transaction():
                        tracker.insert_bootstrapped(legacy.rows)
                    applied = tracker.rows()
            plan = _runnable_plan(migrations, applied, s, report)
            if plan is None:
                return report
            report.extend(
                diag.missing_finding(r, s.tracker_name, Severity.INFO) for r in plan.missing
            )
            if plan.unfilled:
                with conn.transaction():
                    tracker.fill_checksums(plan.unfilled)
            _apply_pending(conn, tracker, plan.pending, s, report=report, progress=progress)
            late = {m.key for m in plan.out_of_order}
            for record in report.records:
                if record["version"] in late:
                    record["out_of_order"] = True
    return report


def status(config: Config, directory: Path, url: str, *, check: bool = False) -> Report:
    """List applied, pending, missing and changed migrations; with ``check``, report drift.

    Reads only: the tracker is not created, a legacy tracker is read, not copied.
    """
    s = _settings(config, directory, url)
    report = Report("status")
    layout, migrations = scan_directory(directory, s.layout, setting=s.setting)
    with _connect(url, "migproof status", s.setting) as conn:
        applied = _read_applied(
            conn, Tracker(conn, s.schema, s.table, setting=s.setting), layout, migrations, s, report
        )
        if applied is None:
            return report
    plan = make_plan(migrations, applied)
    report.records.extend(_status_records(plan, migrations))
    if check:
        report.extend(diag.check_findings(plan, s.tracker_name))
    return report


def dry_run(
    config: Config, directory: Path, url: str, *, progress: Progress | None = None
) -> Report:
    """Run every pending migration inside one BEGIN … ROLLBACK; report the first failure."""
    progress = progress or NullProgress()
    s = _settings(config, directory, url)
    report = Report("dry-run")
    layout, migrations = scan_directory(directory, s.layout, setting=s.setting)
    with _connect(url, "migproof dry-run", s.setting) as conn:
        tracker = Tracker(conn, s.schema, s.table, setting=s.setting)
        with tracker.locked(s.lock_wait):
            applied = _read_applied(conn, tracker, layout, migrations, s, report)
            if applied is None:
                return report
            plan = _runnable_plan(migrations, applied, s, report)
            if plan is None:
                return report
            _dry_run_pending(conn, plan.pending, s, report, progress)
    return report


def _runnable_plan(
    migrations: Sequence[Migration], applied: dict[str, AppliedRow], s: _Settings, report: Report
) -> Plan | None:
    """The plan for migrate and dry-run; None, with the findings why, when it must not run."""
    plan = make_plan(migrations, applied)
    blockers = list(diag.plan_findings(plan, s.tracker_name, strict_order=s.strict_order))
    report.extend(blockers)
    return None if blockers else plan


# Connection and legacy -------------------------------------------------------------------------


@contextmanager
def _connect(url: str, application: str, setting: Callable[[str], str]) -> Iterator[Connection]:
    url = _libpq_url(url)
    try:
        conn = psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=_CONNECT_TIMEOUT,
            application_name=application,
            prepare_threshold=None,
        )
    except psycopg.Error as exc:
        raise DatabaseError(
            f"cannot connect to {mask_password(url)} ({connection_failure_reason(exc)})",
            fix="check the host, port, database name and credentials in --database-url",
        ) from exc
    try:
        conn.execute(
            "SELECT set_config('client_connection_check_interval', %s, false)"
            " WHERE current_setting('server_version_num')::int >= 140000",
            (_CONNECTION_CHECK_MS,),
        )
        yield conn
    except psycopg.Error as exc:
        if conn.broken:
            raise DatabaseError(
                f"lost the connection to {mask_password(url)} ({connection_failure_reason(exc)})",
                fix="check the server; the migration that was running was rolled back, run again",
            ) from exc
        # Not a migration's statement (those are findings): the tracker or the lock.
        raise DatabaseError(
            f"PostgreSQL refused migproof's own bookkeeping on {mask_password(url)}: "
            f"{exc.diag.message_primary or first_line(exc)}",
            fix="grant the role the privileges on the tracking table's schema "
            f"(USAGE, CREATE), or set {setting('migrate.tracker-schema')} to one it may use",
        ) from exc
    finally:
        conn.close()


def _libpq_url(url: str) -> str:
    """Accept SQLAlchemy URLs too: ``postgresql+psycopg://`` -> ``postgresql://``."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.startswith(("postgresql+", "postgres+")):
        return "postgresql://" + rest
    return url


def _read_applied(
    conn: Connection,
    tracker: Tracker,
    layout: Layout,
    migrations: Sequence[Migration],
    s: _Settings,
    report: Report,
) -> dict[str, AppliedRow] | None:
    """The tracker's applied set, else the legacy tracker's (read, not copied); None when dirty."""
    applied = tracker.read()
    if applied:
        return applied
    legacy = _legacy(conn, layout, migrations, s, report)
    return None if legacy is None else {row.key: row for row in legacy.rows}


def _legacy(
    conn: Connection,
    layout: Layout,
    migrations: Sequence[Migration],
    s: _Settings,
    report: Report,
) -> LegacyState | None:
    """The legacy tracker's state (an empty one when there is none); None when it is dirty."""
    state = read_legacy(conn, layout, migrations, table=s.legacy_table, schema=s.schema)
    if state is None:
        return LegacyState("none", "", (), "no legacy tracker")
    if state.problem is not None:
        report.extend(
            [
                Finding(
                    check=diag.DIRTY_LEGACY,
                    severity=Severity.ERROR,
                    message=f"{state.problem}; nothing was applied",
                    fix="recover, then run again:\n" + (state.recovery or ""),
                )
            ]
        )
        return None
    if state.rows:
        report.extend(
            [
                Finding(
                    check=diag.LEGACY_BOOTSTRAP,
                    severity=Severity.INFO,
                    message=f"applied set read from {state.summary}: {len(state.rows)} versions",
                )
            ]
        )
    return state


# Applying --------------------------------------------------------------------------------------


def _timeouts(s: _Settings) -> tuple[str, str]:
    return f"{int(s.lock_timeout * 1000)}ms", f"{int(s.statement_timeout * 1000)}ms"


def _set_timeouts(conn: Connection, s: _Settings, *, local: bool) -> None:
    lock, statement = _timeouts(s)
    conn.execute(
        "SELECT set_config('lock_timeout', %s, %s), set_config('statement_timeout', %s, %s)",
        (lock, local, statement, local),
    )


def _run_steps(conn: Connection, steps: Sequence[Step]) -> None:
    for index, step in enumerate(steps):
        try:
            conn.execute(step.text)
        except psycopg.Error as exc:
            if conn.broken:
                raise
            raise _StepFailedError(step, exc, index) from exc


def _apply_pending(
    conn: Connection,
    tracker: Tracker,
    pending: Sequence[Migration],
    s: _Settings,
    *,
    report: Report,
    progress: Progress,
) -> None:
    progress.start("migrate", total=len(pending))
    try:
        for migration in pending:
            script = prepare_script(migration)
            try:
                if script.transactional:
                    started = time.perf_counter()
                    with conn.transaction():
                        _set_timeouts(conn, s, local=True)
                        _run_steps(conn, script.steps)
                        elapsed = (time.perf_counter() - started) * 1000
                        tracker.record(migration, elapsed)
                else:
                    elapsed = _apply_outside_transaction(conn, tracker, migration, script, s)
            except _StepFailedError as failed:
                report.extend([_failure(migration, script, failed, mode="migrate")])
                return
            report.records.append(_applied_record(migration, elapsed))
            progress.advance(migration.label)
    finally:
        progress.finish()


def _apply_outside_transaction(
    conn: Connection, tracker: Tracker, migration: Migration, script: Script, s: _Settings
) -> float:
    """Run the steps in autocommit and record the migration; returns the milliseconds recorded."""
    _set_timeouts(conn, s, local=False)
    started = time.perf_counter()
    try:
        _run_steps(conn, script.steps)
        elapsed = (time.perf_counter() - started) * 1000
        tracker.record(migration, elapsed)
        return elapsed
    finally:
        if not conn.broken:
            conn.execute("RESET lock_timeout")
            conn.execute("RESET statement_timeout")


def _dry_run_pending(
    conn: Connection,
    pending: Sequence[Migration],
    s: _Settings,
    report: Report,
    progress: Progress,
) -> None:
    progress.start("dry-run", total=len(pending))
    try:
        with conn.transaction(force_rollback=True):
            _set_timeouts(conn, s, local=True)
            for migration in pending:
                progress.advance(migration.label)
                script = prepare_script(migration)
                if not script.transactional:
                    report.extend([_not_dry_runnable(migration)])
                    report.records.append(_record(migration, "not dry-runnable"))
                    continue
                try:
                    _run_steps(conn, script.steps)
                except _StepFailedError as failed:
                    report.extend([_failure(migration, script, failed, mode="dry-run")])
                    report.records.append(_record(migration, "failed"))
                    return
                report.records.append(_record(migration, "ok"))
    finally:
        progress.finish()


# Findings and records --------------------------------------------------------------------------


def _failure(
    migration: Migration, script: Script, failed: _StepFailedError, *, mode: str
) -> Finding:
    error = failed.error
    primary = error.diag.message_primary or first_line(error)
    line = failed.step.line
    position = error.diag.statement_position
    if position and position.isdigit():
        line += line_and_column(failed.step.text, int(position) - 1)[0] - 1
    statement = failed.step.text
    if len(statement) > _STATEMENT_SHOWN:
        statement = statement[:_STATEMENT_SHOWN] + " …"
    return Finding(
        check=diag.FAILED,
        severity=Severity.ERROR,
        message=f"{migration.path.name} failed: {primary}",
        fix=_failure_fix(error, script, failed.done, mode),
        location=Location(path=migration.path, line=line),
        revision=migration.key,
        statement=statement,
        context=(("PostgreSQL error", _error_text(error)),),
    )


def _failure_fix(error: psycopg.Error, script: Script, done: int, mode: str) -> str:
    if isinstance(error, psycopg.errors.LockNotAvailable):
        head = "it waited longer than lock_timeout for a lock another session holds; "
    elif isinstance(error, psycopg.errors.QueryCanceled):
        head = "it ran longer than statement_timeout; "
    else:
        head = "fix the statement; "
    if mode == "dry-run":
        return head + "nothing was changed (dry-run rolls back)"
    if script.transactional:
        return head + "the migration was rolled back, nothing of it was applied: run again"
    return head + (
        f"it runs outside a transaction and its first {done} statement(s) were committed: "
        "make them idempotent (IF NOT EXISTS) or finish it by hand, then run again"
        if done
        else "nothing of it was applied (it runs outside a transaction): run again"
    )


def _error_text(error: psycopg.Error) -> str:
    d = error.diag
    lines = [f"{d.severity or 'ERROR'}:  {d.message_primary or first_line(error)}"]
    if d.sqlstate:
        lines[0] += f"  (SQLSTATE {d.sqlstate})"
    for label, value in (("DETAIL", d.message_detail), ("HINT", d.message_hint)):
        if value:
            lines.append(f"{label}:  {value}")
    if d.context:
        lines.append(f"CONTEXT:  {d.context.strip()}")
    return "\n".join(lines)


def _not_dry_runnable(migration: Migration) -> Finding:
    return Finding(
        check=diag.NOT_DRY_RUNNABLE,
        severity=Severity.INFO,
        message=f"{migration.path.name} runs outside a transaction: not dry-run",
        location=Location(path=migration.path, line=1),
        revision=migration.key,
    )


def _record(migration: Migration, state: str) -> dict[str, object]:
    return {
        "version": migration.key,
        "name": migration.name,
        "path": str(migration.path),
        "state": state,
    }


def _applied_record(migration: Migration, elapsed_ms: float) -> dict[str, object]:
    return {**_record(migration, "applied"), "duration_ms": round(elapsed_ms, 3)}


def _status_records(plan: Plan, migrations: Sequence[Migration]) -> list[dict[str, object]]:
    rows: dict[int, tuple[State, AppliedRow | None]] = {}
    for bucket, state in (
        (plan.applied, State.APPLIED),
        (plan.changed, State.CHANGED),
        (plan.renamed, State.RENAMED),
    ):
        for migration, applied_row in bucket:
            rows[id(migration)] = (state, applied_row)
    for group in plan.duplicates:
        for migration in group:
            rows[id(migration)] = (State.DUPLICATE, None)
    out_of_order = {id(m) for m in plan.out_of_order}
    records = []
    for migration in migrations:
        state, row = rows.get(id(migration), (State.PENDING, None))
        record = _record(migration, state.value)
        record["applied_at"] = row.applied_at.isoformat() if row and row.applied_at else None
        record["duration_ms"] = row.duration_ms if row else None
        if id(migration) in out_of_order:
            record["out_of_order"] = True
        records.append(record)
    for row in plan.missing:
        records.append(
            {
                "version": row.key,
                "name": row.name,
                "path": None,
                "state": State.MISSING.value,
                "applied_at": row.applied_at.isoformat() if row.applied_at else None,
                "duration_ms": row.duration_ms,
            }
        )
    return records
