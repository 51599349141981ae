"""Run every revision up (and back down) once, recording what each statement did.

What ``migproof lint`` reads in an Alembic project: the SQL each revision really sent (no
offline mode), where in the revision file each statement came from, the relation locks its
backend took, the relations it rewrote, and how long it held the locks (to the commit of
its revision's transaction).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migproof.chain.capture import LOCK_MODES, RecordedStatement
from migproof.chain.project import AlembicProject
from migproof.chain.stepper import StepFailure, Stepper, mark_scratch, remake_scratch
from migproof.config import Config
from migproof.sandbox import DatabaseHost

__all__ = ["RevisionRun", "lock_mode", "record_chain"]


def lock_mode(pg_locks_mode: str) -> str:
    """pg_locks' ``AccessExclusiveLock`` as the documentation writes it: ``ACCESS EXCLUSIVE``."""
    return LOCK_MODES.get(pg_locks_mode, pg_locks_mode)


@dataclass
class RevisionRun:
    """One revision's recorded upgrade and downgrade statements (with held seconds)."""

    revision: str
    path: Path
    upgrade: list[RecordedStatement] = field(default_factory=list)
    downgrade: list[RecordedStatement] = field(default_factory=list)
    held_seconds: dict[int, float] = field(default_factory=dict)  # id(statement) -> seconds
    failure: StepFailure | None = None
    from_bootstrap: bool = False  # stamped in the bootstrap file: taken as applied, not run
    blocked: bool = False  # builds on a revision that failed: not run
    not_downgraded: str | None = None  # why its downgrade was not run: what stopped it
    downgrade_failed: str | None = None  # its downgrade ran and failed (rolled back): why
    irreversible: bool = False  # declared irreversible: its downgrade is not run


def record_chain(
    project: AlembicProject,
    config: Config,
    host: DatabaseHost,
    order: list[Any],
    *,
    bootstrap: Path | None = None,
    irreversible: set[str] | None = None,
) -> list[RevisionRun]:
    """Upgrade ``order`` one revision at a time, then downgrade back, recording facts.

    A revision that fails to upgrade carries the failure; those that build on it are not run,
    the others are. The downgrades of the ones applied are recorded, but for the irreversible
    ones (``irreversible``): past one of those, or past a downgrade that fails, the database
    is made again up to the revisions below it, and their downgrades run from there (a few
    times at most; the rest are then not downgraded).
    With ``bootstrap`` (an SQL file, as verify's ``bootstrap-sql``), the database is loaded
    from it first; the revisions it stamps in the version table, and their ancestors, are
    taken as applied (``from_bootstrap``) and the rest run on top of it.
    """
    from migproof.verify.parity import load_bootstrap

    # the file loaded once, as a template: a rebuild below a failing downgrade clones it
    template = load_bootstrap(host, bootstrap, config=config) if bootstrap else None
    try:
        db = host.create_database(template=template)
    except BaseException:
        if template is not None:
            host.drop_database(template)
        raise
    try:
        token = mark_scratch(host, db, config)
        stepper = Stepper.on(project, config, host, db, token, facts=True)
        runs = {rev.revision: RevisionRun(rev.revision, rev.path) for rev in order}
        with stepper.session():
            if bootstrap is not None:
                for rid in _stamped(project, host, db, stepper, bootstrap):
                    runs[rid].from_bootstrap = True
            todo = [rev.revision for rev in order if not runs[rev.revision].from_bootstrap]
            applied: list[str] = []
            _upgrade(project, stepper, todo, runs, applied)

            def rebuild(below: list[str]) -> str | None:
                """The database made again, upgraded through ``below`` (unrecorded); why
                not, when it cannot be."""
                remake_scratch(stepper, host, db, config, token, template=template)
                count = len(stepper.recorder.statements)
                failure = stepper.run_steps(stepper.step(rid, up=True) for rid in below)
                del stepper.recorder.statements[count:]
                return None if failure is None else f"upgrading it again fails: {failure.error}"

            _downgrade(stepper, list(reversed(applied)), runs, irreversible or set(), rebuild)
        return list(runs.values())
    finally:
        host.drop_database(db)
        if template is not None:
            host.drop_database(template)


def _upgrade(
    project: AlembicProject,
    stepper: Stepper,
    todo: list[str],
    runs: dict[str, RevisionRun],
    applied: list[str],
) -> None:
    """Upgrade ``todo`` in order; a revision that fails carries its failure, and the
    revisions that do not build on it still run (another branch of the chain)."""
    blocked: set[str] = set()
    remaining = todo
    while remaining:
        failure = stepper.run_steps(_walk(stepper, remaining, runs, applied, up=True))
        if failure is None:
            break
        # env.py failing before any step names no revision: the next one carries it
        next_one = next((rid for rid in remaining if rid not in applied), remaining[-1])
        failed = failure.revision if failure.revision in runs else next_one
        runs[failed].failure = failure
        if failure.in_env:  # every run would fail the same way
            blocked |= {rid for rid in remaining if rid not in applied}
            break
        blocked |= {failed, *project.graph.descendants(failed)}
        remaining = [rid for rid in remaining if rid not in applied and rid not in blocked]
    for rid in blocked:
        run = runs.get(rid)
        if run is not None and run.failure is None:
            run.blocked = True


_REBUILDS = 3  # databases made again to downgrade below a failing or irreversible downgrade


def _downgrade(
    stepper: Stepper,
    down: list[str],
    runs: dict[str, RevisionRun],
    irreversible: set[str],
    rebuild: Callable[[list[str]], str | None],
) -> None:
    """Run the downgrades of ``down`` (head first), recording them. An irreversible revision
    is passed over, and so is one whose downgrade fails; the revisions below are reached by
    ``rebuild`` (a database upgraded through them), at most ``_REBUILDS`` times: optuna's
    and zuul's lower revisions lost their downgrade rules to one such revision above."""
    i, rebuilds, at_top, why = 0, 0, True, ""
    while i < len(down):
        if down[i] in irreversible:
            runs[down[i]].irreversible = True
            why = f"{down[i]}, above, is irreversible"
            i, at_top = i + 1, False
            continue
        if not at_top:
            cannot = (
                f"the database was made again {_REBUILDS} times, the most"
                if rebuilds == _REBUILDS
                else rebuild(list(reversed(down[i:])))
            )
            if cannot is not None:
                why = f"{why}, and below it {cannot}"
                break
            rebuilds, at_top = rebuilds + 1, True
        end = next((j for j in range(i, len(down)) if down[j] in irreversible), len(down))
        done: list[str] = []
        failure = stepper.run_steps(_walk(stepper, down[i:end], runs, done, up=False))
        if failure is None:
            i = end
            continue
        failed = i + len(done)
        if failed == end:  # env.py failed after the last step: every downgrade ran
            i = end
            continue
        why = f"the downgrade of {down[failed]}, run before, fails"  # rolled back
        # its own statements were rolled back with it: its downgrade rules saw nothing
        runs[down[failed]].downgrade_failed = failure.error
        i, at_top = failed + 1, False
    for rid in down[i:]:  # the ones below stay up: their downgrades never ran
        if rid in irreversible:
            runs[rid].irreversible = True
        else:
            runs[rid].not_downgraded = why


def _stamped(
    project: AlembicProject, host: DatabaseHost, db: str, stepper: Stepper, bootstrap: Path
) -> set[str]:
    """The revisions the bootstrap file stamps, with their ancestors; env.py runs once with
    no step to say which version table it uses. Unknown revisions are a usage error (exit
    2), as in verify; an env.py that fails leaves the set empty (the walk reports it)."""
    from migproof.verify.parity import applied_by_stamp, stamped_revisions

    if stepper.run_steps(iter(())) is not None:
        return set()
    with host.connect(db) as conn:
        stamped = stamped_revisions(conn, stepper.version_table)
    return applied_by_stamp(project.graph, stamped, stepper.version_table, bootstrap)


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
        else:
            run.downgrade = statements
        applied.append(rid)
        del recorder.statements[count:]  # keep memory flat on long chains
