"""Upgrade every revision, then down and up again, comparing the schema exactly each time.

One scratch database, one revision at a time in topological order. For revision R: the
snapshot before R, upgrade R, snapshot, downgrade R (must equal the snapshot before R),
upgrade R again (must equal the snapshot after R). Then the whole chain: downgrade to base
(must leave nothing) and upgrade to head (must equal head).

With a bootstrap file that stamps revisions (a project that builds fresh databases with
``metadata.create_all()`` and ``alembic stamp head``), the walk starts from the database the
file builds instead: the stamped revisions and their ancestors count as applied, every later
revision is walked as above, and the whole chain goes down to the stamped revisions.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from migproof.chain.graph import RevisionFile, RevisionGraph
from migproof.chain.project import AlembicProject, sqlalchemy_pin_fix
from migproof.chain.stepper import (
    StepFailure,
    StepInterrupt,
    Stepper,
    mark_scratch,
    remake_scratch,
)
from migproof.config import Config
from migproof.findings import CAUGHT_NOTE, Finding, Location, Report, Severity
from migproof.progress import NullProgress, Progress
from migproof.sandbox import DatabaseHost
from migproof.verify._register import verify_check
from migproof.verify.hints import (
    extension_type_fix,
    foreign_type_fix,
    import_fix,
    outside_schema_fix,
    signature_fix,
)


def diff_snapshots(a: Snapshot, b: Snapshot) -> list[Any]:
    from migproof.catalog import diff_snapshots as diff

    return list(diff(a, b))


def render_diff(differences: list[Any], a_label: str, b_label: str) -> str:
    from migproof.catalog import render_diff as render

    return str(render(differences, a_label, b_label))


if TYPE_CHECKING:
    from migproof.catalog import Snapshot

__all__ = ["RevisionRecord", "walk_chain"]

UPGRADE_FAILED = verify_check(
    "MP010",
    "upgrade-fails",
    "a revision's upgrade fails",
    what="Upgrades the chain from base to head one revision at a time and reports the first "
    "failure of each branch: the revision, its file and line, the statement and PostgreSQL's "
    "error.",
    why="The deploy stops halfway, with the schema at a revision nobody tested.",
    fix="Correct the statement; run `migproof verify` again until the chain upgrades.",
    alembic="A hung statement fails after `--statement-timeout`/`--lock-timeout` instead of "
    "wedging CI.",
)
DOWNGRADE_FAILED = verify_check(
    "MP011",
    "downgrade-fails",
    "a revision's downgrade fails",
    what="Runs each revision's `downgrade()` right after its `upgrade()`.",
    why="Downgrades are usually first run on the day they are needed: a typo in the downgrade SQL "
    "ships green and fails during an incident.",
    fix="Correct the downgrade; it must undo exactly what upgrade did.",
)
INCOMPLETE_DOWNGRADE = verify_check(
    "MP012",
    "incomplete-downgrade",
    "after downgrade, the schema differs from before the upgrade",
    what="Compares the schema after `downgrade()` with the schema before `upgrade()` and names "
    "every object left over or missing (an enum type, an index, an FK rule, a default).",
    why="Leftovers make the next upgrade fail (`type ... already exists`) or leave the schema "
    "different from what the revision id claims.",
    fix="Drop or restore what the diff names in `downgrade()` "
    "(e.g. `sa.Enum(name=...).drop(op.get_bind())`).",
)
REUPGRADE_FAILED = verify_check(
    "MP013",
    "upgrade-fails-after-downgrade",
    "upgrade fails when run again after its downgrade",
    what="Upgrades each revision a second time after its downgrade.",
    why="A rolled-back deploy cannot be rolled forward again: the classic cause is an enum type "
    "the downgrade left behind.",
    fix="Make the downgrade remove everything the upgrade creates.",
)
NOT_REPRODUCIBLE = verify_check(
    "MP014",
    "upgrade-not-reproducible",
    "upgrading again gives a different schema",
    what="Compares the schema after the second upgrade with the schema after the first.",
    why="The same revision produces two different schemas depending on history.",
    fix="Make the downgrade restore exactly the previous state so the upgrade starts from it.",
)
COLUMN_ORDER = verify_check(
    "MP016",
    "round-trip-column-order",
    "a round trip gives a table its columns back in another order",
    what="Reports a round trip whose only difference is the order of a table's columns: a "
    "downgrade that adds back a column the upgrade dropped (`op.add_column` appends it).",
    why="`SELECT *` and `INSERT` without a column list see the columns in another order after "
    "a rollback than on a database built from scratch. Nothing else differs, so this is a "
    "warning, and the checks that follow still run.",
    fix="Name the columns in queries; or, where the order matters, rebuild the table in the "
    "downgrade (create it anew, copy the rows, rename).",
    severity=Severity.WARNING,
)
NOT_REPEATABLE = verify_check(
    "MP015",
    "chain-not-repeatable",
    "downgrade to base and upgrade to head again fails or differs",
    what="Downgrades the whole chain to base, then upgrades it to head, and compares with head.",
    why="Fresh environments (CI, new developers, disaster recovery) build the schema this way.",
    fix="See the failing revision named in the finding.",
)


@dataclass
class RevisionRecord:
    """What happened to one revision, for the summary table and the reports."""

    revision: str
    message: str
    path: str
    upgrade: str = "not run"  # ok, failed, not run; FROM_BOOTSTRAP: the bootstrap file's
    roundtrip: str = "not run"  # ok, failed, skipped, not run
    upgrade_ms: float = 0.0
    downgrade_ms: float = 0.0
    statements: list[dict[str, object]] = field(default_factory=list)  # upgrade, then downgrade
    down_revisions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        record = dataclasses.asdict(self)
        record["upgrade_ms"] = round(self.upgrade_ms, 1)
        record["downgrade_ms"] = round(self.downgrade_ms, 1)
        return record


class ChainStepper(Protocol):
    """What the walk needs from a stepper: Alembic's (chain/stepper.py) or plain SQL's."""

    recorder: Any  # has .statements: list[RecordedStatement]
    version_table: tuple[str | None, str]
    # called when steps start to run one env.py run each (env.py holds an outer transaction),
    # after a run with no step committed what env.py makes itself
    before_own_runs: Callable[[], None] | None

    def session(self) -> AbstractContextManager[Any]: ...
    def step(self, revision: str, *, up: bool) -> Any: ...
    def run_steps(self, steps: Iterator[Any]) -> StepFailure | None: ...
    def downgrade_to_base(self) -> StepFailure | None: ...
    def upgrade_to(self, target: str | tuple[str, ...]) -> StepFailure | None: ...
    def before_rebuild(self) -> None: ...
    def on_rebuild(self) -> None: ...


# Builds a stepper for a scratch database: (host, dbname, token) -> stepper
StepperFactory = Callable[[DatabaseHost, str, str], ChainStepper]

# A revision's upgrade status when the bootstrap file stamped it: applied, never run here.
# One of the summary table's styled words (report/verify_table.py); neither passed nor failed.
FROM_BOOTSTRAP = "bootstrap"


@dataclass(frozen=True)
class _RepeatWords:
    """How the whole-chain repeatability names what it does, down to base or to a stamp."""

    what: str
    down_fails: str
    not_base: str
    base: str  # the label of the schema it must come back to
    after_down: str
    up_fails: str
    not_head: str


@dataclass
class Bootstrap:
    """The bootstrap file and the database loaded from it (``parity.load_bootstrap``), once
    per run: a walk from its stamp clones it, and again for each rebuild; MP112 clones it."""

    path: Path
    template: str
    # MP112's findings (upgrading the loaded database to head), once worked out
    upgrade_findings: list[Finding] | None = None


def alembic_stepper(project: AlembicProject, config: Config) -> StepperFactory:
    """Steppers that run ``project``'s revisions through its env.py."""

    def make(host: DatabaseHost, dbname: str, token: str) -> ChainStepper:
        return Stepper.on(project, config, host, dbname, token)

    return make


class _Walk:
    def __init__(
        self,
        graph: RevisionGraph,
        make_stepper: StepperFactory,
        config: Config,
        host: DatabaseHost,
        report: Report,
        progress: Progress,
        irreversible: set[str],
        *,
        database: tuple[str, str] | None = None,
        bootstrap: Bootstrap | None = None,
    ) -> None:
        self.graph, self.config, self.host, self.report = graph, config, host, report
        self.progress, self.irreversible = progress, irreversible
        self.bootstrap = bootstrap
        self.preloaded = 0  # order[:preloaded] came with the bootstrap file, stamped
        # (name, token) of a scratch database the caller created and will drop
        self.owns_db = database is None
        if database is None:
            template = bootstrap.template if bootstrap else None
            self.db = host.create_database(template=template)
            self.token = mark_scratch(host, self.db, config)
        else:
            self.db, self.token = database
        self.stepper = make_stepper(host, self.db, self.token)
        self.stepper.before_own_runs = self._resettle
        self._filters: tuple[tuple[str | None, str], Any] | None = None
        self.conn: Any = host.connect(self.db)
        self.watch = self._watch()
        self._watched = 0  # statements the watch has been told about
        self.applied: list[str] = []
        self.blocked: set[str] = set()
        self.rows: Any = None  # verify.data.RowTracker when data preservation is on
        # the step ("upgrade" or "downgrade") of order[index] that passed when retried
        # without rows: the walk goes on after it
        self.passed_by_retry: str | None = None
        self.downgraded: Snapshot | None = None  # the schema after R's downgrade
        self.downgrade_retried: set[str] = set()  # downgrades that failed with rows: rerun
        self.step_started = time.perf_counter()
        self.records: dict[str, RevisionRecord] = {}
        self.had_failure = False  # a step failed, or a round trip was not exact
        self.step_failed = False  # a step failed
        self.env_failed = False
        self._settled = False  # the base includes what env.py makes before the first step
        self.order_changed = False  # a round trip changed only the order of some columns
        self.skip_reason = "env.py failed"  # why the revisions left are not run
        self.stop = 0

    def close(self) -> None:
        self._close_watch()
        self.conn.close()
        if self.owns_db:
            self.host.drop_database(self.db)

    def _watch(self) -> Any:
        """catalog.watch.CatalogWatch on the scratch database, or None (full reads)."""
        if not self.config.verify.watch:
            return None
        from migproof.catalog.watch import CatalogWatch

        conn = self.host.connect(self.db)
        watch = CatalogWatch.install(conn)
        if watch is None:
            conn.close()
        return watch

    def _close_watch(self) -> None:
        if self.watch is not None:
            self.watch.close()
            self.watch = None

    def snapshot(self) -> Snapshot:
        from migproof.catalog import SnapshotFilter, take_snapshot

        version_table = self.stepper.version_table  # known once env.py has configured Alembic
        if self._filters is None or self._filters[0] != version_table:
            schema, table = version_table
            excluded = (
                *self.config.exclude_tables,
                table if schema is None else f"{schema}.{table}",
            )
            config = dataclasses.replace(self.config, exclude_tables=excluded)
            self._filters = (version_table, SnapshotFilter.from_config(config))
        if self.watch is not None:
            from migproof.catalog.watch import writes_catalog

            statements = self.recorder.statements
            if any(writes_catalog(s.sql) for s in statements[self._watched :]):
                self.watch.invalidate()  # no event trigger sees a write to pg_catalog
            self._watched = len(statements)
            return self.watch.snapshot(self._filters[1])  # type: ignore[no-any-return]
        return take_snapshot(self.conn, self._filters[1])

    def rebuild(self, *, seed: bool = True) -> None:
        """Recreate the database at exactly the applied revisions, after a failed round trip;
        with ``seed``, with rows in its tables again (the next upgrade must meet rows)."""
        self._recreate()
        walked = self.applied[self.preloaded :]
        failure = self.stepper.run_steps(self.stepper.step(rid, up=True) for rid in walked)
        if failure is not None:  # the walk cannot go on from a database it cannot rebuild
            self.env_failed = True
            self.skip_reason = f"the database could not be rebuilt ({failure.error})"
            return
        if self.rows is not None:
            self.rows.forget()
            if seed:
                self._seed(self.snapshot())

    def _recreate(self) -> None:
        """The scratch database dropped and created again (from the bootstrap file's template
        when there is one), empty of what the walk applied, under the same name and tag."""
        self._close_watch()
        self.conn.close()
        template = self.bootstrap.template if self.bootstrap else None
        remake_scratch(self.stepper, self.host, self.db, self.config, self.token, template=template)
        self.conn = self.host.connect(self.db)
        self.watch = self._watch()
        if self.rows is not None:
            self.rows.reconnect(self.conn)

    def begin(
        self, order: list[RevisionFile], start: int = 0, *, preloaded: bool = False
    ) -> StepFailure | None:
        """Take the schema as it stands as base; with ``start``, upgrade plainly (no
        snapshots, no round trips) through ``order[:start]``, which another worker walks, or,
        with ``preloaded``, take ``order[:start]`` as applied: the bootstrap file stamped them."""
        self.order, self.index = order, start
        self.base = self.before = self.after = self.snapshot()
        if self.config.verify.data:
            from migproof.verify.data import RowTracker

            self.rows = RowTracker(self.conn)
        if preloaded and start:
            self._take_stamped(order[:start])
        elif start:
            ids = [rev.revision or "" for rev in order[:start]]
            failure = self._plain_upgrade(ids)
            if failure is not None:
                return failure
            self.applied = ids
            self.before = self.after = self.snapshot()
            if self.rows is not None:
                self.rows.after_upgrade(self.before)  # the rows as the upgrades left them
        if self.rows is not None and start:
            self._seed(self.before)
        return None

    def read_stamp(self) -> tuple[str, ...]:
        """The revisions the database is stamped at, in the version table env.py configures.

        env.py runs once with no step to say which table that is (Alembic reads it in that run
        too); when env.py fails, () (the walk from an empty database reports the failure).
        """
        from migproof.verify.parity import stamped_revisions

        if self.stepper.run_steps(iter(())) is not None:
            return ()
        return stamped_revisions(self.conn, self.stepper.version_table)

    def _take_stamped(self, revisions: list[RevisionFile]) -> None:
        """Record ``revisions`` as the bootstrap file's: applied, neither upgraded nor
        round-tripped here."""
        assert self.bootstrap is not None
        self.preloaded = len(revisions)
        self.applied = [rev.revision or "" for rev in revisions]
        for rev in revisions:
            self._record(rev).upgrade = FROM_BOOTSTRAP
        stamped = ", ".join(self._stamped_heads())
        what = f"revision {stamped}"
        if len(revisions) > 1:
            what = f"revisions up to {stamped} ({len(revisions)})"
        self.report.skipped.append(
            (
                what,
                f"{self.bootstrap.path.name} is stamped at {stamped}: taken as applied, not "
                "upgraded or round-tripped",
            )
        )

    def _stamped_heads(self) -> list[str]:
        """The heads of the revisions the bootstrap file brought: the ids it is stamped at."""
        return self._heads_of(self.applied[: self.preloaded])

    def _heads_of(self, revisions: list[str]) -> list[str]:
        """Those of ``revisions`` no other of them requires (a revision another depends on
        is no target of its own: Alembic refuses targets that overlap)."""
        parents = {p for rid in revisions for p in self.graph.requires(self.graph.by_id[rid])}
        return [rid for rid in revisions if rid not in parents]

    def walk(self, stop: int) -> None:
        """Upgrade and round-trip ``order[index:stop]`` one revision at a time."""
        self.stop = stop
        while self.index < stop:
            if self.env_failed:  # every env.py run would fail the same way
                self._skip_rest()
                break
            try:
                failure = self.stepper.run_steps(self._steps())
            except _RebuildError:
                self._start_anew()
                continue
            if failure is None:
                break
            self._on_failure(failure)

    def finish(self) -> None:
        """The whole chain down to base and up to head again."""
        self._repeatability(self.base, self.before)

    def record_rows(self) -> list[dict[str, object]]:
        return [r.to_dict() for r in self.records.values()]

    def _plain_upgrade(self, ids: list[str]) -> StepFailure | None:
        """A worker's plain upgrade through ``ids``. A revision that fails only because the
        tables hold rows (airflow's NOT NULL column without a default: the walk of its part
        reports it, MP104) is run again without them, and the upgrade goes on; before, the
        worker gave its part up and this process walked it again."""
        left = ids
        while True:
            failure = self.stepper.run_steps(self._plain_upgrades(left))
            # cleared, the rows are no longer tracked: a second failure of the same
            # revision (no rows then) is its own, and returned
            retry = (
                failure is not None
                and not failure.in_env
                and failure.revision in left
                and self.rows is not None
                and bool(self.rows.tracked.tables)
                and self.rows.clear()
            )
            if not retry:
                return failure
            assert failure is not None
            left = left[left.index(failure.revision) :]

    def _plain_upgrades(self, ids: list[str]) -> Iterator[Any]:
        """The steps of a worker's plain upgrade to its part. A table is given rows right
        after the revision that creates it, as a walk in one process gives them: the
        revisions after it then meet rows with a history (a column added later is NULL in
        them), not rows made to fit the schema at the part's start."""
        self._settle_base()
        for rid in ids:
            count = len(self.recorder.statements)
            yield self.stepper.step(rid, up=True)
            made = self.recorder.statements[count:]
            if self.rows is not None and any(s.creates_table for s in made):
                self.rows.seed(self.snapshot())
                self.rows.take_skipped()  # said by the walk of the part those revisions are in

    def _settle_base(self) -> None:
        """Once env.py has run up to its first step: what it made itself before handing
        Alembic the connection (``CREATE SCHEMA IF NOT EXISTS`` for its version table, then
        a commit) belongs to the base schema, not to the first revision, whose downgrade
        cannot be expected to drop it."""
        if self._settled:
            return
        self._settled = True
        if len(self.applied) != self.preloaded:
            return
        snapshot = self.snapshot()
        if snapshot != self.base:
            self.base = self.before = self.after = snapshot

    def _resettle(self) -> None:
        """env.py holds an outer transaction: what it makes before the first step (its
        version table's schema) was rolled back with that step, then committed by a run with
        no step; it belongs to the base."""
        self._settled = False
        self._settle_base()

    def _steps(self) -> Iterator[Any]:
        """The walk, as the steps Alembic applies; between steps, snapshots and comparisons.

        Resumable: ``index`` and ``phase`` say where it is, so after a failed step (which
        ends the env.py run) ``walk`` handles the failure and starts a new run from there.
        Generators run lazily: this code runs inside the env.py run, as Alembic asks for steps.
        """
        self._settle_base()
        while self.index < self.stop:
            rev = self.order[self.index]
            rid = rev.revision or ""
            record = self._record(rev)
            if rid in self.blocked:
                self.report.skipped.append((f"revision {rid}", "an earlier revision failed"))
                self._next()
                continue
            retried, self.passed_by_retry = self.passed_by_retry, None
            if retried == "downgrade":  # it passed on empty tables: the round trip goes on
                yield from self._round_trip(rev, record, downgraded=True)
                self._round_trip_done(rev, record)
                continue
            if retried == "reupgrade":
                self._check_second_upgrade(rev)
                self._round_trip_done(rev, record)
                continue
            if retried is None:  # else the upgrade passed on empty tables: go on from it
                self.phase, started = "upgrade", time.perf_counter()
                self.step_started = started
                count = len(self.recorder.statements)
                yield self.stepper.step(rid, up=True)
                record.upgrade_ms = (time.perf_counter() - started) * 1000
                record.statements = [
                    s.to_dict() for s in self.recorder.statements[count:] if s.path is not None
                ]
            record.upgrade = "ok"
            self._note_caught(rid, record)
            self.applied.append(rid)
            self.after = self.snapshot()
            if self.rows is not None:
                self.rows.after_upgrade(self.after, before=self.before)
            if rid in self.irreversible:
                record.roundtrip = "skipped"
                self._seed(self.after)
                self._next()
                continue
            yield from self._round_trip(rev, record)
            self._round_trip_done(rev, record)

    def _note_caught(self, rid: str, record: RevisionRecord) -> None:
        """An upgrade that passed though statements of it failed: the revision caught the
        errors (privacyidea's try/except around each change, for databases that have it
        already). Said, so that "ok" is not read as "did its work"."""
        failed = [s for s in record.statements if s.get("failed")]
        if failed:
            error = failed[0].get("error") or "an error"
            count = f"{len(failed)} statement{'s' if len(failed) > 1 else ''}"
            self.report.skipped.append(
                (
                    f"{count} of the upgrade of {rid}",
                    f"{CAUGHT_NOTE} ({error}): what "
                    f"{'they' if len(failed) > 1 else 'it'} would have done was not checked",
                )
            )

    def _round_trip_done(self, rev: RevisionFile, record: RevisionRecord) -> None:
        if not any(
            f.revision == rev.revision and f.check in _ROUNDTRIP_CODES for f in self.report.findings
        ):
            record.roundtrip = "ok"
        self._next()

    def _record(self, rev: RevisionFile) -> RevisionRecord:
        """The revision's record, made the first time the walk reaches it."""
        rid = rev.revision or ""
        record = self.records.get(rid)
        if record is None:
            record = self.records[rid] = RevisionRecord(
                rid, rev.message, str(rev.path), down_revisions=list(rev.down_revisions)
            )
        return record

    def _round_trip(
        self, rev: RevisionFile, record: RevisionRecord, *, downgraded: bool = False
    ) -> Iterator[Any]:
        """Downgrade R and upgrade it again, comparing schema (and rows) each time;
        ``downgraded``: R's downgrade already ran (it passed when retried without rows)."""
        rid = rev.revision or ""
        record.roundtrip = "failed"
        if not downgraded:
            self.phase, started = "downgrade", time.perf_counter()
            self.step_started = started
            count = len(self.recorder.statements)
            yield self.stepper.step(rid, up=False)
            record.downgrade_ms = (time.perf_counter() - started) * 1000
            record.statements += [
                s.to_dict() for s in self.recorder.statements[count:] if s.path is not None
            ]
        self.downgraded = self.snapshot()
        differences = self._unless_order_only(
            diff_snapshots(self.before, self.downgraded), rev, "downgrade"
        )
        if differences:
            self._diff_finding(
                INCOMPLETE_DOWNGRADE.code,
                rev,
                differences,
                f"downgrade of {rid} does not restore the schema before it",
                "before upgrade",
                "after downgrade",
                line=rev.downgrade_line,
            )
        self.phase = "reupgrade"
        yield self.stepper.step(rid, up=True)
        self._check_second_upgrade(rev)

    def _check_second_upgrade(self, rev: RevisionFile) -> None:
        """The schema (and rows) after R's second upgrade, against its first."""
        rid = rev.revision or ""
        again = self.snapshot()
        differences = self._unless_order_only(diff_snapshots(self.after, again), rev, "upgrade")
        if not differences:
            self.after = again  # the same but for the order of columns: go on from it
        if not differences and self.rows is not None:
            self.report.extend(
                self.rows.after_round_trip(
                    again,
                    before=self.before,
                    revision=rid,
                    location=Location(path=rev.downgrade_path, line=rev.downgrade_line),
                )
            )
            self.report.skipped.extend(self._row_skips())
        if differences:
            self._diff_finding(
                NOT_REPRODUCIBLE.code,
                rev,
                differences,
                f"upgrading {rid} again gives a different schema",
                "first upgrade",
                "second upgrade",
                line=rev.upgrade_line,
            )
            self._next()
            raise _RebuildError

    def _seed(self, snapshot: Snapshot) -> None:
        """Rows into the tables that have none, for a revision without a round trip."""
        if self.rows is not None:
            self.rows.seed(snapshot)
            self.report.skipped.extend(self._row_skips())

    def _row_skips(self) -> list[tuple[str, str]]:
        """The tables that could not be given rows, each with the revision whose schema it
        was tried on (phoenix's three lines for one table said nothing of which was which)."""
        at = self.applied[-1] if self.applied else "base"
        return [(f"{what} (at {at})", why) for what, why in self.rows.take_skipped()]

    def _next(self) -> None:
        self.before = self.after
        self.index += 1
        self.progress.advance()

    def _on_failure(self, failure: StepFailure) -> None:
        """A step failed and its env.py run ended: report it, repair the state, go on."""
        rev = self.order[self.index]
        rid = rev.revision or ""
        if failure.in_env or rid not in self.records:
            self._env_failed(rev, failure)
            return
        record = self.records[rid]
        if self.phase in ("upgrade", "downgrade", "reupgrade"):
            retried = self._retry_without_rows(rev, failure)
            if retried is None:
                return
            failure = retried
        elapsed = (time.perf_counter() - self.step_started) * 1000
        if self.phase == "upgrade":
            record.upgrade_ms = elapsed
            record.upgrade = "failed"
            record.roundtrip = "not run"
            self._fail(UPGRADE_FAILED.code, rev, failure, "upgrade fails")
            self.blocked |= self.graph.descendants(rid)
            self.after = self.before
            repair = self.snapshot() != self.before
        elif self.phase == "downgrade":
            record.downgrade_ms = elapsed
            self._fail(DOWNGRADE_FAILED.code, rev, failure, "downgrade fails")
            repair = self.snapshot() != self.after
            if not repair:
                self._seed(self.after)
        else:
            self._fail(REUPGRADE_FAILED.code, rev, failure, "upgrade fails after its downgrade")
            repair = True
        self._next()
        if repair:
            self._start_anew()

    def _start_anew(self) -> None:
        """The database made again at the applied revisions, and the walk going on from its
        schema: the next revision is compared with what it finds there, not with a snapshot
        of the database given up (whose round trips had moved columns: false MP016/MP012 on
        cognee's next, unrelated revision)."""
        self.rebuild()
        if not self.env_failed:
            self.before = self.after = self.snapshot()

    def _env_failed(self, rev: RevisionFile, failure: StepFailure) -> None:
        """env.py fails before any revision runs: report it once; nothing more can run."""
        self._fail(UPGRADE_FAILED.code, rev, failure, f"env.py fails before {rev.revision} runs")
        self.blocked |= {later.revision or "" for later in self.order[self.index :]}
        self.env_failed = True

    def _skip_rest(self) -> None:
        """After env.py failed (or the database could not be rebuilt): the revisions left,
        reported as not run."""
        while self.index < self.stop:
            record = self._record(self.order[self.index])
            self.report.skipped.append((f"revision {record.revision}", self.skip_reason))
            self._next()

    def _retry_without_rows(self, rev: RevisionFile, failure: StepFailure) -> StepFailure | None:
        """An upgrade, downgrade or second upgrade (``phase``) that failed with migproof's
        rows in the tables, run again without them; None when it passes, else the failure to
        report.

        When it passes on empty tables, what the rows caused is reported (MP104 for a NOT NULL
        column without a default, which any real rows break, be it added by an upgrade or
        brought back by a downgrade; for a downgrade that fails on other values, MP104 as a
        warning: they were valid after the upgrade; for an upgrade, a note: the values were
        made up), and the walk goes on after the step. When it fails there too, that failure
        is the step's (it fails on any database), and MP104 is reported as well when the
        rows' failure is one any rows cause. A second upgrade whose rows cannot all be
        removed is not retried: the database cannot be made again at the downgraded state.
        """
        from migproof.verify.data import fails_with_rows_finding, rows_note

        phase = self.phase
        start = {"upgrade": self.before, "downgrade": self.after}.get(phase, self.downgraded)
        if self.rows is None or not self.rows.tracked.tables or self.snapshot() != start:
            return failure
        rid = rev.revision or ""
        up = phase != "downgrade"
        # what ran so far, the failed attempt's statements too (a backfill before the one
        # that failed): read before a rebuild below records the revisions it applies again
        history = [s.sql for s in self.recorder.statements if not s.failed]
        seeded = self.rows.tracked
        if not self.rows.clear():  # some of migproof's rows may be left: start anew
            if phase == "reupgrade":  # a rebuild applies R again: not R's downgraded state
                return failure
            self.rebuild(seed=False)
            if self.env_failed:
                return failure
        count, started = len(self.recorder.statements), time.perf_counter()
        retried = self.stepper.run_steps(iter([self.stepper.step(rid, up=up)]))
        record = self.records.get(rid)
        if retried is None and record is not None and phase != "reupgrade":  # the step the
            # walk goes on from (a second upgrade's statements are not kept: the first's are)
            statements = [
                s.to_dict() for s in self.recorder.statements[count:] if s.path is not None
            ]
            if phase == "upgrade":
                record.upgrade_ms = (time.perf_counter() - started) * 1000
                record.statements = statements
            else:
                record.downgrade_ms = (time.perf_counter() - started) * 1000
                record.statements += statements
        path = rev.path if up else rev.downgrade_path
        direction = "second upgrade" if phase == "reupgrade" else phase
        finding = fails_with_rows_finding(
            revision=rid,
            direction=direction,
            error=failure.error,
            statement=failure.statement,
            location=Location(path=failure.path or path, line=failure.line),
            seeded=seeded,
            before=start,
            after=self.snapshot() if retried is None else None,
            history=history,
            sqlstate=failure.sqlstate,
            passed_empty=retried is None,
        )
        if finding is None and retried is None and direction == "downgrade":
            finding = self._downgrade_rows_finding(failure, rev)
        if finding is not None:
            self.report.findings.append(finding)
        elif retried is None:
            self.report.skipped.append(rows_note(rid, direction, failure.error))
        if retried is not None:
            return retried
        self.passed_by_retry = phase
        if not up:
            self.downgrade_retried.add(rid)
        return None

    @property
    def recorder(self) -> Any:
        return self.stepper.recorder

    def _repeatability(self, base: Snapshot, head: Snapshot) -> None:
        """The whole chain down in one run, then up in one run, as ``alembic downgrade`` and
        ``alembic upgrade head`` do: down to base, or, from a bootstrap file, to the revisions
        it is stamped at (the schema the file builds)."""
        walked = self.applied[self.preloaded :]
        words = self._repeat_words()
        irreversible = bool(self.irreversible & set(walked))
        # inexact round trips: the way down would meet them again, but a fresh install
        # (airflow's, whose round trips are rarely exact) is still checked
        inexact = self.had_failure and bool(walked) and not self.step_failed
        if irreversible or (inexact and not self.preloaded):
            # the upgrade in one run starts from a database made anew: inexact round trips
            # (MP012, their findings) do not stand in its way, failed steps do
            if self.step_failed or self.preloaded:
                why = _why_not_repeated(self) if self.step_failed else _IRREVERSIBLE
                self.report.skipped.append((words.what, why))
                return
            chain = _IRREVERSIBLE_CHAIN if irreversible else _INEXACT_CHAIN
            self.report.skipped.append((_DOWN_TO_BASE, chain))
            self._upgrade_in_one_run(head, words)
            return
        if self.had_failure or not walked:
            after = self.preloaded and not self.had_failure
            self.report.skipped.append(
                (words.what, "no revision after them" if after else _why_not_repeated(self))
            )
            return
        down = list(reversed(walked))
        failure = self._down_in_one_run(down)
        if failure is not None and self.rows is not None and self.rows.tracked.tables:
            # a downgrade that fails only with rows was reported by the round trip that met
            # it (MP104): down to base, the schema is what is compared
            self.rows.clear()
            left = down[down.index(failure.revision) :] if failure.revision in down else down
            retried = self._down_in_one_run(left)
            if retried is None and failure.revision not in self.downgrade_retried:
                # met only here (another worker round-tripped that revision with other
                # rows, or rows seeded later): the rows were valid after its upgrade
                self.report.findings.append(self._downgrade_rows_finding(failure))
            failure = retried
        if failure is not None:
            self._chain_finding(failure, words.down_fails)
            return
        differences = self._chain_diffs(base, self.snapshot())
        if differences:
            self._chain_diff(differences, words.not_base, words.base, words.after_down)
            return
        failure = self.stepper.upgrade_to(tuple(self._heads_of(self.applied)))
        if failure is not None:
            self._chain_finding(failure, words.up_fails)
            return
        differences = self._chain_diffs(head, self.snapshot())
        if differences:
            self._chain_diff(differences, words.not_head, "first head", "second head")

    def _down_in_one_run(self, down: list[str]) -> StepFailure | None:
        """``down`` (head first) in one env.py run: from a bootstrap file, each walked
        revision (`alembic downgrade` to one stamp of several branches would leave the other
        branches' revisions applied); else ``alembic downgrade base``."""
        if self.preloaded:
            return self.stepper.run_steps(self.stepper.step(rid, up=False) for rid in down)
        return self.stepper.downgrade_to_base()  # from wherever it stopped, when run again

    def _downgrade_rows_finding(
        self, failure: StepFailure, rev: RevisionFile | None = None
    ) -> Finding:
        """MP104, a warning, for ``failure``: a downgrade (of ``rev``, else the revision
        the failure names) that failed on rows valid after its upgrade."""
        from migproof.verify.data import downgrade_rows_finding

        rev = rev or self.graph.by_id.get(failure.revision or "")
        path = failure.path or (rev.downgrade_path if rev else None)
        return downgrade_rows_finding(
            revision=(rev.revision if rev else None) or failure.revision or "",
            error=failure.error,
            statement=failure.statement,
            location=Location(path=path, line=failure.line) if path else None,
        )

    def _upgrade_in_one_run(
        self, head: Snapshot, words: _RepeatWords, applied: list[str] | None = None
    ) -> None:
        """Without a way down to base, the upgrade from base to head in one run (as
        `alembic upgrade head` on a fresh database) is still checked: on the database made
        anew. A migration's own session that waits on what an earlier revision's statements
        hold in that one transaction hangs here, not one revision at a time. ``applied``:
        the whole chain's, when this walk was one part of it."""
        # an empty database, or the one a bootstrap file that stamps nothing builds (a file
        # that stamps revisions skips this: the caller checks)
        self._recreate()
        failure = self.stepper.upgrade_to(tuple(self._heads_of(applied or self.applied)))
        if failure is not None:
            self._chain_finding(failure, words.up_fails)
            return
        differences = self._chain_diffs(head, self.snapshot())
        if differences:
            self._chain_diff(
                differences,
                "upgrading base to head in one run gives a different schema than one revision "
                "at a time",
                "one at a time",
                "in one run",
            )

    def _repeat_words(self) -> _RepeatWords:
        if not self.preloaded:
            words = _RepeatWords(
                what=_DOWN_AND_UP,
                down_fails="downgrading head to base in one run fails",
                not_base="after downgrading to base, the schema is not empty",
                base="base",
                after_down="after downgrade to base",
                up_fails="upgrading base to head in one run (`alembic upgrade head` on a fresh "
                "database) fails",
                not_head="upgrading to head again gives a different schema",
            )
            if self.bootstrap is None:
                return words
            name = self.bootstrap.path.name  # from a file that stamps nothing, at base
            return dataclasses.replace(
                words,
                not_base=f"after downgrading to base, the schema differs from the one {name}"
                " builds",
                base=name,
                up_fails=f"upgrading the database loaded from {name} from base to head in one"
                " run (`alembic upgrade head` on it) fails",
            )
        assert self.bootstrap is not None
        at, name = ", ".join(self._stamped_heads()), self.bootstrap.path.name
        return _RepeatWords(
            what=f"downgrade to {at} and upgrade to head",
            down_fails=f"downgrading head to {at} in one run fails",
            not_base=f"after downgrading to {at}, the schema differs from the one {name} builds",
            base=name,
            after_down=f"after downgrade to {at}",
            up_fails=f"upgrading the database loaded from {name} from {at} to head in one run"
            " (`alembic upgrade head` on it) fails",
            not_head=f"upgrading from {at} to head again gives a different schema",
        )

    # -- findings -------------------------------------------------------------------------

    def _fail(self, code: str, rev: RevisionFile, failure: StepFailure, what: str) -> None:
        from migproof.sandbox.extensions import explain_missing_extension

        problem = explain_missing_extension(failure.error, self.host)
        if problem is not None:  # the sandbox cannot run this chain: migproof cannot look (exit 2)
            raise problem
        self.had_failure = self.step_failed = True
        message = f"{what}: {failure.error}"
        if failure.timeout:
            message = f"{what}: {failure.timeout} ({failure.error})"
        path = failure.path or rev.path
        version_table = self.stepper.version_table[1]
        if failure.statement and version_table and version_table in failure.statement:
            # stamping alembic_version failed: the revision's id is what is wrong
            path, failure = (
                rev.path,
                dataclasses.replace(failure, path=rev.path, line=rev.revision_line),
            )
        line = (
            failure.line
            if failure.path
            else (rev.upgrade_line if failure.direction == "upgrade" else rev.downgrade_line)
        )
        fix = None
        if failure.timeout:
            fix = (
                "the statement ran past --statement-timeout or waited past --lock-timeout: make it "
                "faster; if the migration runs work on a connection or session of its own (an "
                "application's session, a second engine), one of the two waits on what the other "
                "holds: run all of it on Alembic's connection (op.get_bind())"
            )
        elif (
            code == UPGRADE_FAILED.code
            and self.bootstrap is not None
            and not self.preloaded
            and failure.sqlstate in _ALREADY_EXISTS
        ):  # a walk from a file that stamps nothing, at base: the file is past some revision
            name = self.bootstrap.path.name
            parents = " and ".join(p for p in rev.down_revisions if p) or "base"
            fix = (
                f"the walk started from {name} at base (it stamps no revision, and the first"
                f" revision cannot run on an empty database), and {name} already holds what"
                f" {rev.revision} makes: if its schema is that of a later revision, stamp it"
                " there (end it with a version table holding that revision id), so the walk"
                f" takes what it holds as applied; else leave that object out of it (it is"
                f" made by {rev.revision}, after {parents})"
            )
        elif code == UPGRADE_FAILED.code and (hint := foreign_type_fix(failure)):
            fix = hint
        elif code == UPGRADE_FAILED.code and _TYPE_EXISTS.search(failure.error):
            fix = (
                "SQLAlchemy creates a named Enum once per `alembic upgrade` run, so an upgrade of"
                " several revisions from base may pass while upgrading one revision at a time (as"
                " a deployed database does) fails: where the type already exists, use"
                " postgresql.ENUM(..., name=..., create_type=False)"
            )
        elif (
            not failure.from_database
            and (hint := import_fix(failure.error) or signature_fix(failure.error))
        ) or (
            failure.in_env
            and not failure.from_database
            and (hint := sqlalchemy_pin_fix(failure.error))
        ):
            fix = hint
        elif failure.in_env and not failure.from_database:
            fix = (
                "migproof gives env.py the scratch database as sqlalchemy.url, through the "
                "variables --url-env names, and (when it fails without one) as "
                "config.attributes['connection']: make env.py take one of them, or set up "
                "what it reads instead (the application's configuration) in the environment "
                "migproof runs in"
            )
        elif code == UPGRADE_FAILED.code and (
            hint := extension_type_fix(
                failure,
                bootstrap=self.config.verify.bootstrap_sql,
                option=self.config.setting("verify.bootstrap-sql"),
            )
        ):
            fix = hint
        elif code == UPGRADE_FAILED.code:
            fix = outside_schema_fix(
                rev,
                failure,
                before=self.before,
                statements=self.recorder.statements,
                bootstrap=self.config.verify.bootstrap_sql,
                stamped=self._stamped_heads() if self.preloaded else None,
                version_table=self.stepper.version_table,
                option=self.config.setting("verify.bootstrap-sql"),
            )
        self.report.findings.append(
            Finding(
                check=code,
                severity=UPGRADE_FAILED.severity,
                revision=failure.revision or rev.revision,
                message=message,
                fix=fix,
                statement=failure.statement,
                location=Location(path=path, line=line),
                context=() if failure.from_database else (("Python error", failure.error),),
            )
        )

    def _chain_diffs(self, a: Snapshot, b: Snapshot) -> list[Any]:
        """The whole chain's comparisons: without column order once a round trip changed it
        (MP016 said so; a chain built afresh has the first order)."""
        differences = diff_snapshots(a, b)
        if self.order_changed:
            differences = [d for d in differences if not d.is_order_only]
        return differences

    def _unless_order_only(self, differences: list[Any], rev: RevisionFile, step: str) -> list[Any]:
        """``differences``, or [] when they are of column order alone: then MP016 (once per
        revision) says so, and the whole-chain check compares without the order."""
        if not differences or not all(d.is_order_only for d in differences):
            return differences
        self.order_changed = True
        rid = rev.revision or ""
        if not any(
            f.revision == rid and f.check == COLUMN_ORDER.code for f in self.report.findings
        ):
            tables = ", ".join(sorted({d.name for d in differences}))
            self.report.findings.append(
                Finding(
                    check=COLUMN_ORDER.code,
                    severity=COLUMN_ORDER.severity,
                    revision=rid,
                    message=f"after the {step} of {rid}, the columns of {tables} are in another"
                    " order (nothing else differs)",
                    location=Location(
                        path=rev.downgrade_path if step == "downgrade" else rev.path,
                        line=rev.downgrade_line if step == "downgrade" else rev.upgrade_line,
                    ),
                    context=(("diff", render_diff(differences, "before", "after")),),
                )
            )
        return []

    def _diff_finding(
        self,
        code: str,
        rev: RevisionFile,
        differences: list[Any],
        message: str,
        a_label: str,
        b_label: str,
        *,
        line: int | None,
    ) -> None:
        self.had_failure = True
        rendered = render_diff(differences, a_label, b_label)
        lines = [_phrase(d, a_label, b_label) for d in differences]
        names = "; ".join(lines[:3]) + (f" (and {len(lines) - 3} more)" if len(lines) > 3 else "")
        self.report.findings.append(
            Finding(
                check=code,
                severity=INCOMPLETE_DOWNGRADE.severity,
                revision=rev.revision,
                message=f"{message}: {names}",
                location=Location(
                    path=rev.downgrade_path if code == INCOMPLETE_DOWNGRADE.code else rev.path,
                    line=line,
                ),
                context=(("diff", rendered),) if _needs_diff_block(differences) else (),
            )
        )

    def _chain_finding(self, failure: StepFailure, message: str) -> None:
        self.report.findings.append(
            Finding(
                check=NOT_REPEATABLE.code,
                severity=NOT_REPEATABLE.severity,
                revision=failure.revision,
                message=f"{message}: {failure.error}",
                statement=failure.statement,
                location=Location(path=failure.path, line=failure.line) if failure.path else None,
                fix=_one_run_fix(failure) if failure.revision in self.applied else None,
            )
        )

    def _chain_diff(self, differences: list[Any], message: str, a_label: str, b_label: str) -> None:
        names = "; ".join(d.describe(a_label, b_label) for d in differences[:3])
        self.report.findings.append(
            Finding(
                check=NOT_REPEATABLE.code,
                severity=NOT_REPEATABLE.severity,
                message=f"{message}: {names}",
                context=(("diff", render_diff(differences, a_label, b_label)),),
            )
        )


_TYPE_EXISTS = re.compile(r'type "[^"]+" already exists')
_ALREADY_EXISTS = frozenset(
    {"42P07", "42710", "42701", "42P06"}
)  # relation, object, column, schema


_DOWN_TO_BASE = "downgrade to base"
_DOWN_AND_UP = "downgrade to base and upgrade to head"
_IRREVERSIBLE_CHAIN = (
    "the chain has irreversible revisions (the upgrade from base to head in one run is checked)"
)
_INEXACT_CHAIN = (
    "earlier round trips were not exact (their findings say how): the way down would meet the"
    " same differences (the upgrade from base to head in one run is checked)"
)


def _one_run_fix(failure: StepFailure) -> str:
    """MP015's fix when the revision that fails in one run passed one revision at a time."""
    same_run = (
        "this revision passed when run alone: in one run, what the revisions before it did is"
        " in the same transaction (unless env.py sets transaction_per_migration=True)"
    )
    if "pending trigger events" in failure.error:
        return (
            f"{same_run}, and the deferred foreign-key checks their rows left are still pending"
            " when this revision alters the table: run `SET CONSTRAINTS ALL IMMEDIATE` first,"
            " or commit between revisions (transaction_per_migration=True)"
        )
    return (
        f"{same_run}, so a connection or session of the revision's own (`bind.engine`,"
        " `Inspector.from_engine`, a new Session) cannot see their uncommitted tables, and"
        " state kept in Python from one revision to the next (a module-level cache, an Enum"
        " SQLAlchemy created once) is shared: read and write through Alembic's connection"
        " (`op.get_bind()`, `sa.inspect(op.get_bind())`)"
    )


def _why_not_repeated(walk: _Walk | _Part) -> str:
    return (
        "earlier revisions failed"
        if walk.step_failed
        else "earlier round trips were not exact (their findings say how): the whole chain"
        " would meet the same differences"
    )


_HEAD_NOT_REACHED = ("comparisons with head", "head was not reached")
_IRREVERSIBLE = "the chain has irreversible revisions"


class _RebuildError(StepInterrupt):
    """The database no longer matches the applied revisions: rebuild it, then go on."""


def _needs_diff_block(differences: list[Any]) -> bool:
    """A diff block only when the message's one line per difference does not say it all."""
    return len(differences) > 3 or any(d.is_multiline for d in differences)


def _phrase(difference: Any, a_label: str, b_label: str) -> str:
    """One difference in the words of a round trip: left behind, not restored, changed."""
    if difference.property is None and a_label == "before upgrade":
        head = f"{difference.kind} {difference.name}"
        return f"{head} is left behind" if difference.b else f"{head} is not restored"
    return str(difference.describe(a_label, b_label))


_ROUNDTRIP_CODES = {
    DOWNGRADE_FAILED.code,
    INCOMPLETE_DOWNGRADE.code,
    REUPGRADE_FAILED.code,
    NOT_REPRODUCIBLE.code,
}


def walk_chain(
    graph: RevisionGraph,
    make_stepper: StepperFactory,
    config: Config,
    host: DatabaseHost,
    report: Report,
    progress: Progress,
    order: list[RevisionFile],
    irreversible: set[str],
    at_head: Callable[[AtHead], None] | None = None,
    bootstrap: Bootstrap | None = None,
    spare: tuple[str, str] | None = None,
) -> None:
    """Run the round trips on ``order`` and add the findings and records to ``report``.

    ``at_head`` is called while the walk's database stands at head (only when every revision
    upgraded), for the checks that compare head with something else. With ``verify.jobs``
    above 1 (the default on a multi-core Linux machine), worker processes walk later parts
    of the chain on databases of their own (verify/workers.py); the report is the same.
    With ``bootstrap`` stamped at revisions, the walk starts from it, in this process alone.
    ``spare``, a scratch database made ready already (``(name, token)``, marked; its creator
    drops it), serves the first walk that starts from an empty database.
    """
    from migproof.verify.workers import jobs_for, split

    chain = _Chain(graph, make_stepper, config, host, report, order, irreversible, at_head)
    if bootstrap is not None and chain.walk_from_bootstrap(progress, bootstrap):
        return
    starts = split(len(order), jobs_for(config.verify.jobs, len(order)))
    if len(starts) > 1:
        chain.walk_in_parts(progress, starts, spare)
        return
    walk = chain.new_walk(progress, spare)
    try:
        with walk.stepper.session():
            progress.start("verify", total=len(order))
            walk.begin(order)
            walk.walk(len(order))
            progress.finish()
            chain.finish(walk)
    finally:
        walk.close()


@dataclass
class _Part:
    """What a worker process found on its part of the chain, merged in chain order."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    records: list[dict[str, object]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    applied: list[str] = field(default_factory=list)
    had_failure: bool = False
    step_failed: bool = False
    order_changed: bool = False  # a round trip of the part changed only a column order
    # the last part's: the schema at head, what the head checks and the repeatability added
    # (None: not run)
    head_snapshot: Snapshot | None = None
    head: tuple[list[Finding], list[tuple[str, str]]] | None = None
    repeat: tuple[list[Finding], list[tuple[str, str]]] = ([], [])
    gave_up: str | None = None  # why the worker could not walk its part: this process will


class _Ticks(NullProgress):
    """A worker's progress: each revision walked is a tick for the parent's progress bar."""

    def __init__(self, tick: Callable[[], None]) -> None:
        self.tick = tick

    def advance(self, description: str | None = None) -> None:
        del description
        self.tick()


class _Recounted(NullProgress):
    """``progress``, but the first ``already`` revisions were counted by workers."""

    def __init__(self, progress: Progress, already: int) -> None:
        self.progress, self.already = progress, already

    def advance(self, description: str | None = None) -> None:
        if self.already:
            self.already -= 1
        else:
            self.progress.advance(description)


@dataclass
class _Chain:
    """One walk of the chain, in this process alone or split over worker processes."""

    graph: RevisionGraph
    make_stepper: StepperFactory
    config: Config
    host: DatabaseHost
    report: Report
    order: list[RevisionFile]
    irreversible: set[str]
    at_head: Callable[[AtHead], None] | None

    def new_walk(
        self,
        progress: Progress,
        database: tuple[str, str] | None = None,
        bootstrap: Bootstrap | None = None,
    ) -> _Walk:
        return _Walk(
            self.graph,
            self.make_stepper,
            self.config,
            self.host,
            self.report,
            progress,
            self.irreversible,
            database=database,
            bootstrap=bootstrap,
        )

    def walk_from_bootstrap(self, progress: Progress, bootstrap: Bootstrap) -> bool:
        """Walk from the database the bootstrap file builds: from its stamp when it stamps
        revisions; from base when it stamps none and the whole chain upgrades on it (mlflow
        makes its first tables with ``create_all()`` and upgrades from base, never stamping:
        its first revision alters one of them), or when it fails there but the first revision
        cannot run on an empty database either (mailman's drops a table of its pre-Alembic
        schema): the walk goes as far as the file lets it. False otherwise: the caller walks
        from an empty database, and MP112 says where the upgrade from the file fails.

        In this process alone (``verify.jobs`` does not apply): which revisions the file
        stamps is known only once env.py has run on the loaded database, and ``walk_in_parts``
        forks its workers before this process points env.py anywhere.
        """
        walk = self.new_walk(progress, bootstrap=bootstrap)
        try:
            with walk.stepper.session():
                stamped = walk.read_stamp()
            if not stamped and self._fails_from(bootstrap):
                if self._base_upgrades_empty():
                    return False  # the file is what fails: the walk starts empty, MP112 says so
                # neither runs the chain: the walk goes from the file, as far as it upgrades,
                # and its MP010 says where (MP112 would say it again)
                bootstrap.upgrade_findings = []
            with walk.stepper.session():
                start = 0
                if stamped:
                    self.order, start = self._stamped_first(stamped, walk, bootstrap.path)
                progress.start("verify", total=len(self.order) - start)
                walk.begin(self.order, start, preloaded=True)
                walk.walk(len(self.order))
                progress.finish()
                self.finish(walk)
                return True
        finally:
            walk.close()

    def _fails_from(self, bootstrap: Bootstrap) -> bool:
        """Whether upgrading the database the file builds to head fails (MP112, kept for
        the caller's report)."""
        from migproof.verify.parity import check_bootstrap

        paths = {rev.revision: rev.path for rev in self.order if rev.revision}
        bootstrap.upgrade_findings = check_bootstrap(
            self.host,
            bootstrap.path,
            self.make_stepper,
            config=self.config,
            revision_paths=paths,
            loaded=bootstrap.template,
        )
        return bool(bootstrap.upgrade_findings)

    def _base_upgrades_empty(self) -> bool:
        """Whether the chain's first revision upgrades on an empty database (mailman's first
        drops a table its pre-Alembic schema had: it cannot)."""
        rid = self.order[0].revision if self.order else None
        if rid is None:
            return True
        db = self.host.create_database()
        try:
            stepper = self.make_stepper(self.host, db, mark_scratch(self.host, db, self.config))
            with stepper.session():
                return stepper.run_steps(iter([stepper.step(rid, up=True)])) is None
        finally:
            self.host.drop_database(db)

    def _stamped_first(
        self, stamped: tuple[str, ...], walk: _Walk, path: Path
    ) -> tuple[list[RevisionFile], int]:
        """The walk's order with the stamped revisions and their ancestors first (still a
        topological order: they are closed under ancestry), and how many they are."""
        from migproof.verify.parity import applied_by_stamp

        applied = applied_by_stamp(self.graph, stamped, walk.stepper.version_table, path)
        first = [rev for rev in self.order if rev.revision in applied]
        rest = [rev for rev in self.order if rev.revision not in applied]
        return [*first, *rest], len(first)

    def finish(self, walk: _Walk) -> None:
        """After the last revision: the checks at head (while the database stands there, as
        a worker runs them), the whole-chain repeatability, the records."""
        head_checked = self.at_head is not None and self._reached_head(walk.blocked, walk.applied)
        if head_checked:
            self._check_head(walk)
        walk.finish()
        self.report.records.extend(walk.record_rows())
        if self.at_head is not None and not head_checked:
            self.report.skipped.append(_HEAD_NOT_REACHED)

    def _reached_head(self, blocked: set[str], applied: list[str]) -> bool:
        """Whether every revision was upgraded, one at a time, so the database stands at head
        (the checks at head run before the repeatability moves it)."""
        return not blocked and len(applied) == len(self.order)

    def _check_head(self, walk: _Walk) -> None:
        assert self.at_head is not None
        self.at_head(
            AtHead(
                sqlalchemy_url=self.host.sqlalchemy_url_for(walk.db),
                snapshot=walk.snapshot(),
                configure_options=dict(getattr(walk.stepper, "configure_options", {})),
                env_py=getattr(walk.stepper, "env_py", None),
            )
        )

    # -- in parts -------------------------------------------------------------------------

    def walk_in_parts(
        self, progress: Progress, starts: list[int], spare: tuple[str, str] | None = None
    ) -> None:
        """This process walks ``order[:starts[1]]``; a forked worker each later part.

        Workers are forked first, before this process opens a connection or points env.py
        anywhere; the first gets ``spare`` when there is one, and this process creates its
        own database while they start. Should any worker fail to walk its part (its plain
        upgrade to the start failed, or it crashed), or an upgrade failure here block
        revisions of a later part, this process walks the rest itself, exactly as a walk in
        one process would.
        """
        from migproof.verify.workers import Worker

        ends = [*starts[1:], len(self.order)]
        workers: list[tuple[Worker, str | None]] = []
        walk: _Walk | None = None
        try:
            for start, stop in zip(starts[1:], ends[1:], strict=True):
                if spare is not None:
                    database, spare, db = spare, None, None  # its creator drops it
                else:
                    db = self.host.create_database()
                    database = (db, mark_scratch(self.host, db, self.config))
                body = functools.partial(self._walk_part, database=database, start=start, stop=stop)
                workers.append((Worker.fork(body), db))
            walk = self.new_walk(progress)
            progress.start("verify", total=len(self.order))
            for worker, _ in workers:
                worker.listen(progress.advance)
            with walk.stepper.session():
                walk.begin(self.order)
                walk.walk(starts[1])
                parts = [worker.wait() for worker, _ in workers]
                if self._parts_fit(walk, parts, ends):
                    progress.finish()
                    self._merge(walk, parts)
                    return
                _check_workers([worker for worker, _ in workers])
                for worker, _ in workers:
                    worker.kill()
                # the workers counted some revisions of the rest already
                walk.progress = _Recounted(progress, sum(worker.ticks for worker, _ in workers))
                walk.walk(len(self.order))
                progress.finish()
                self.finish(walk)
        finally:
            for worker, db in workers:
                worker.kill()
                if db is not None:
                    self.host.drop_database(db)
            if walk is not None:
                walk.close()

    def _walk_part(
        self, tick: Callable[[], None], *, database: tuple[str, str], start: int, stop: int
    ) -> _Part:
        """In a worker: upgrade through ``order[:start]``, walk ``order[start:stop]``; the
        last part also runs the checks at head and the repeatability."""
        from migproof.errors import MigproofError

        report = self.report  # this process's copy: what the part adds is sent back
        mark = [len(report.findings), len(report.skipped)]

        def added() -> tuple[list[Finding], list[tuple[str, str]]]:
            found = report.findings[mark[0] :], report.skipped[mark[1] :]
            mark[:] = len(report.findings), len(report.skipped)
            return found

        walk = self.new_walk(_Ticks(tick), database)
        try:
            with walk.stepper.session():
                try:
                    failure = walk.begin(self.order, start)
                    if failure is None:
                        walk.walk(stop)
                except MigproofError as exc:  # the parent meets it again and reports it
                    return _Part(gave_up=str(exc))
                if failure is not None:
                    return _Part(gave_up=f"upgrading to revision {start} failed: {failure.error}")
                findings, skipped = added()
                part = _Part(
                    findings=findings,
                    skipped=skipped,
                    records=walk.record_rows(),
                    blocked=set(walk.blocked),
                    applied=list(walk.applied),
                    had_failure=walk.had_failure,
                    step_failed=walk.step_failed,
                    order_changed=walk.order_changed,
                )
                if stop < len(self.order):
                    return part
                part.head_snapshot = walk.before
                # at head before the repeatability, which may leave the database elsewhere;
                # the parent keeps these only if a walk in one process would have run them
                if self.at_head and self._reached_head(walk.blocked, walk.applied):
                    self._check_head(walk)
                    part.head = added()
                walk.finish()
                part.repeat = added()
                return part
        finally:
            walk.close()

    def _parts_fit(self, walk: _Walk, parts: list[_Part | None], ends: list[int]) -> bool:
        """Whether the parts add up to the walk one process would have made."""
        blockers = [walk.blocked, *(p.blocked if p else set() for p in parts)]
        for blocked, end in zip(blockers, ends, strict=True):
            if any(rev.revision in blocked for rev in self.order[end:]):
                return False
        return all(p is not None and p.gave_up is None for p in parts)

    def _merge(self, walk: _Walk, parts: list[_Part | None]) -> None:
        report = self.report
        report.records.extend(walk.record_rows())
        for part in parts:
            assert part is not None
            report.findings.extend(part.findings)
            report.skipped.extend(s for s in part.skipped if s not in report.skipped)
            report.records.extend(part.records)
        last = parts[-1]
        assert last is not None
        earlier: list[_Walk | _Part] = [walk, *(p for p in parts[:-1] if p)]
        # in the order one process reports them: the checks at head ran before the
        # repeatability moved the database (``finish``), "head was not reached" after it
        at_head = last.head is not None and self._reached_head(last.blocked, last.applied)
        if self.at_head is not None and at_head and last.head is not None:
            report.findings.extend(last.head[0])
            report.skipped.extend(last.head[1])
        # as one process decides (_Walk._repeatability): a failed step gives up both ways;
        # an inexact round trip the way down, and then the fresh install is checked here
        # (an irreversible chain's last part checked it itself)
        irreversible = bool(self.irreversible & set(last.applied))
        step_failed = any(w.step_failed for w in earlier)
        inexact = not step_failed and any(w.had_failure for w in earlier)
        if inexact and not irreversible and not last.step_failed and last.head_snapshot:
            report.skipped.append((_DOWN_TO_BASE, _INEXACT_CHAIN))
            walk.order_changed = any(w.order_changed for w in (*earlier, last))
            walk._upgrade_in_one_run(last.head_snapshot, walk._repeat_words(), last.applied)
        elif step_failed or (inexact and not irreversible):
            failed = next((w for w in (*earlier, last) if w.step_failed), earlier[0])
            report.skipped.append((_DOWN_AND_UP, _why_not_repeated(failed)))
        else:  # what the parts found about a revision already is not found again
            found = {(f.check, f.revision) for f in report.findings}
            report.findings.extend(f for f in last.repeat[0] if (f.check, f.revision) not in found)
            report.skipped.extend(last.repeat[1])
        if self.at_head is not None and not at_head:
            report.skipped.append(_HEAD_NOT_REACHED)


def _check_workers(workers: list[Any]) -> None:
    """MIGPROOF_CHECK_WORKERS=1 (the test suite): a worker that crashed is a bug, not a
    reason to walk its part again quietly."""
    crashed = [w.failure for w in workers if w.failure is not None]
    if crashed and os.environ.get("MIGPROOF_CHECK_WORKERS"):
        raise AssertionError(f"a verify worker crashed:\n{crashed[0]}")


@dataclass(frozen=True)
class AtHead:
    """The walk's database at head, for the parity checks."""

    sqlalchemy_url: str
    snapshot: Snapshot
    configure_options: dict[str, Any]
    env_py: Path | None = None
