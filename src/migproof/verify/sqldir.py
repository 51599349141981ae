"""verify for directories of plain-SQL migrations with down files: the same walk as Alembic's.

Each versioned migration is a revision whose down revision is the previous version; its up
and down SQL are applied directly (in one transaction each, unless the migration says it
cannot run in one), and the walk compares the schema exactly as it does for Alembic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from migproof.chain.capture import RecordedStatement
from migproof.chain.graph import DowngradeKind, RevisionFile, RevisionGraph
from migproof.chain.stepper import TIMEOUT_STATES, StepFailure
from migproof.config import Config
from migproof.errors import MigproofError
from migproof.findings import Finding, Location
from migproof.sandbox.databases import pg_message
from migproof.verify.graph_checks import IRREVERSIBLE

if TYPE_CHECKING:
    from migproof.sandbox import DatabaseHost
    from migproof.verify.roundtrip import ChainStepper, StepperFactory

__all__ = ["SqlStepper", "is_sql_directory", "load"]


def is_sql_directory(directory: Path, layout: str | None = None) -> bool:
    """True when ``directory`` holds SQL migrations in a layout migproof knows (``layout``
    when set), or ``.sql`` files of its own in none: loading them then says what names
    migproof understands (procrastinate's ``00.00.00_01_initial.sql``), where "no
    alembic.ini" would send the user looking for an Alembic project."""
    from migproof.sqlmigrate import load_migrations

    if not directory.is_dir() or not any(directory.rglob("*.sql")):
        return False
    try:
        return bool(load_migrations(directory, layout))
    except MigproofError:
        return any(directory.glob("*.sql"))


def load(
    config: Config, directory: Path
) -> tuple[RevisionGraph, StepperFactory, set[str], list[Finding], list[tuple[str, str]]]:
    """The migrations as a revision graph, a stepper factory, the ones without down SQL,
    findings about them (a migration without down SQL is reported as irreversible) and what
    is not checked: a directory where none has down SQL (forward-only, procrastinate's) is
    said once, not as one finding per file."""
    from migproof.sqlmigrate import load_migrations

    migrations = [m for m in load_migrations(directory, config.migrate.layout) if not m.repeatable]
    files: list[RevisionFile] = []
    previous: str | None = None
    for migration in migrations:
        version = str(migration.version)
        files.append(
            RevisionFile(
                path=migration.path,
                revision=version,
                down_revisions=(previous,) if previous else (),
                message=migration.name,
                upgrade_line=migration.up_line,
                downgrade_line=migration.down_line if migration.down_sql is not None else None,
                downgrade=DowngradeKind.PRESENT
                if migration.down_sql is not None
                else DowngradeKind.IRREVERSIBLE,
                upgrade_is_empty=not migration.up_sql.strip(),
                down_path=migration.down_path,
            )
        )
        previous = version
    without_down = [m for m in migrations if m.down_sql is None]
    findings: list[Finding] = []
    skipped: list[tuple[str, str]] = []
    if len(migrations) > 1 and len(without_down) == len(migrations):  # forward-only: once
        skipped.append(
            (
                f"round trips of all {len(migrations)} migrations",
                "no migration has down SQL (a forward-only directory): each was upgraded, none"
                " downgraded",
            )
        )
    else:
        findings = [
            Finding(
                check=IRREVERSIBLE.code,
                severity=IRREVERSIBLE.severity,
                revision=str(m.version),
                message=f"migration {m.path.name} has no down SQL: its round trip is not checked",
                location=Location(path=m.path, line=1),
            )
            for m in without_down
        ]
    by_version = {str(m.version): m for m in migrations}

    def make(host: DatabaseHost, dbname: str, token: str) -> ChainStepper:
        del token  # plain SQL runs on migproof's own connection: nothing to prove
        return SqlStepper(by_version, [str(m.version) for m in migrations], host.url_for(dbname))

    return RevisionGraph(files), make, {str(m.version) for m in without_down}, findings, skipped


@dataclass(frozen=True, slots=True)
class SqlStep:
    """One migration's up or down SQL, as statements with their lines."""

    revision: str
    is_upgrade: bool
    path: Path
    statements: tuple[tuple[str, int], ...]
    transactional: bool


@dataclass
class _Recorder:
    statements: list[RecordedStatement] = field(default_factory=list)
    step: tuple[str, str] | None = None


class SqlStepper:
    """Applies SQL migrations' up and down scripts to one scratch database."""

    def __init__(self, migrations: dict[str, Any], order: list[str], libpq_url: str) -> None:
        self._migrations, self._order, self._url = migrations, order, libpq_url
        self.recorder = _Recorder()
        self.version_table: tuple[str | None, str] = (None, "")
        self.before_own_runs: Callable[[], None] | None = None  # SQL files have no env.py
        self._applied: list[str] = []
        self._conn: psycopg.Connection[Any] | None = None

    @contextmanager
    def session(self) -> Iterator[SqlStepper]:
        self._conn = psycopg.connect(self._url, autocommit=True)
        try:
            yield self
        finally:
            self._conn.close()
            self._conn = None

    def step(self, revision: str, *, up: bool) -> SqlStep:
        from migproof.sqlmigrate.apply import prepare_script

        migration = self._migrations[revision]
        if not up:
            migration = replace(
                migration, up_sql=migration.down_sql or "", up_line=migration.down_line
            )
        script = prepare_script(migration)
        path = migration.path if up else (migration.down_path or migration.path)
        return SqlStep(
            revision=revision,
            is_upgrade=up,
            path=path,
            statements=tuple((s.text, s.line) for s in script.steps),
            transactional=script.transactional,
        )

    def run_steps(self, steps: Iterator[SqlStep]) -> StepFailure | None:
        for step in steps:  # lazily: the walk looks at the database between steps
            failure = self._apply(step)
            if failure is not None:
                return failure
        return None

    def downgrade_to_base(self) -> StepFailure | None:
        return self.run_steps(self.step(rid, up=False) for rid in reversed(self._applied[:]))

    def upgrade_to(self, target: str | tuple[str, ...]) -> StepFailure | None:
        heads = {target} if isinstance(target, str) else set(target)
        last = max(
            (self._order.index(h) for h in heads if h in self._order), default=len(self._order) - 1
        )
        return self.run_steps(
            self.step(rid, up=True) for rid in self._order[: last + 1] if rid not in self._applied
        )

    def before_rebuild(self) -> None:
        """The walk is about to drop the database: let go of it."""
        if self._conn is not None:
            self._conn.close()

    def on_rebuild(self) -> None:
        """The walk recreated the database: reconnect, and start from nothing applied."""
        if self._conn is not None:
            self._conn = psycopg.connect(self._url, autocommit=True)
        self._applied = []

    def _apply(self, step: SqlStep) -> StepFailure | None:
        assert self._conn is not None, "use the stepper inside session()"
        direction = "upgrade" if step.is_upgrade else "downgrade"
        self.recorder.step = (step.revision, direction)
        current: tuple[str, int] | None = None
        try:
            if step.transactional:
                with self._conn.transaction():
                    for current in step.statements:
                        self._execute(step, direction, *current)
            else:
                for current in step.statements:
                    self._execute(step, direction, *current)
        except psycopg.Error as exc:
            return self._failure(step, direction, exc, current)
        finally:
            self.recorder.step = None
        if step.is_upgrade:
            self._applied.append(step.revision)
        elif step.revision in self._applied:
            self._applied.remove(step.revision)
        return None

    def _execute(self, step: SqlStep, direction: str, sql: str, line: int) -> None:
        assert self._conn is not None
        started = time.perf_counter()
        self._conn.execute(sql.encode())  # bytes: sent as is, no parameter parsing of % signs
        self.recorder.statements.append(
            RecordedStatement(
                revision=step.revision,
                direction=direction,
                sql=sql,
                duration_ms=(time.perf_counter() - started) * 1000,
                path=step.path,
                line=line,
            )
        )

    def _failure(
        self, step: SqlStep, direction: str, exc: psycopg.Error, current: tuple[str, int] | None
    ) -> StepFailure:
        message = pg_message(exc)
        statement, line = current if current else (None, None)
        return StepFailure(
            revision=step.revision,
            direction=direction,
            error=message,
            statement=statement,
            path=step.path,
            line=line,
            timeout=TIMEOUT_STATES.get(exc.sqlstate or ""),
            sqlstate=exc.sqlstate,
        )
