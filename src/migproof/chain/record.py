"""Run every revision up (and back down) once, recording what each statement did.

What ``migproof lint`` reads in an Alembic project: the SQL each revision really sent (no
offline mode), where in the revision file each statement came from, the relation locks its
backend took, the relations it rewrote, and how long it held the locks (to the commit of
its revision's transaction).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migproof.chain.capture import RecordedStatement
from migproof.chain.project import AlembicProject
from migproof.chain.stepper import StepFailure, Stepper, mark_scratch
from migproof.config import Config
from migproof.sandbox import DatabaseHost

__all__ = ["RevisionRun", "lock_mode", "record_chain"]

_MODES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}


def lock_mode(pg_locks_mode: str) -> str:
    """pg_locks' ``AccessExclusiveLock`` as the documentation writes it: ``ACCESS EXCLUSIVE``."""
    return _MODES.get(pg_locks_mode, pg_locks_mode)


@dataclass
class RevisionRun:
    """One revision's recorded upgrade and downgrade statements (with held seconds)."""

    revision: str
    path: Path
    upgrade: list[RecordedStatement] = field(default_factory=list)
    downgrade: list[RecordedStatement] = field(default_factory=list)
    held_seconds: dict[int, float] = field(default_factory=dict)  # id(statement) -> seconds
    failure: StepFailure | None = None


def record_chain(
    project: AlembicProject, config: Config, host: DatabaseHost, order: list[Any]
) -> list[RevisionRun]:
    """Upgrade ``order`` one revision at a time, then downgrade back, recording facts.

    Stops at the first revision that fails to upgrade (its run carries the failure); the
    downgrades of the ones applied are recorded as far as they go.
    """
    db = host.create_database()
    try:
        token = mark_scratch(host, db, config)
        stepper = Stepper.on(project, config, host, db, token, facts=True)
        runs = {rev.revision: RevisionRun(rev.revision, rev.path) for rev in order}
        applied: list[str] = []
        with stepper.session():
            failure = stepper.run_steps(
                _walk(stepper, [r.revision for r in order], runs, applied, up=True)
            )
            if failure is not None and order:  # env.py failing before any step names no
                # revision: the one after the last applied carries it
                next_one = order[min(len(applied), len(order) - 1)].revision
                run = runs.get(failure.revision) or runs[next_one]
                run.failure = failure
            stepper.run_steps(_walk(stepper, list(reversed(applied)), runs, [], up=False))
        return list(runs.values())
    finally:
        host.drop_database(db)


def _walk(
    stepper: Stepper,
    revisions: list[str],
    runs: dict[str, RevisionRun],
    applied: list[str],
    *,
    up: bool,
) -> Iterator[Any]:
    recorder = stepper.recorder
    for rid in revisions:
        count = len(recorder.statements)
        yield stepper.step(rid, up=up)
        committed = time.perf_counter()  # the step's transaction has just committed
        run = runs[rid]
        statements = [s for s in recorder.statements[count:] if s.path is not None]
        for statement in statements:
            if statement.in_transaction:
                run.held_seconds[id(statement)] = committed - statement.started
        if up:
            run.upgrade = statements
            applied.append(rid)
        else:
            run.downgrade = statements
        del recorder.statements[count:]  # keep memory flat on long chains
