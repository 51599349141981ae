"""Lint an Alembic project by running it: the SQL each revision really sent, with its facts.

Every revision runs up (and back down) once in a scratch database; the statements recorded
become one ``SqlSource`` per revision, each statement pointing at the ``op.`` line that sent
it and carrying the locks its backend took, the relations it rewrote and how long it held
them. The per-revision lock summaries ("blocks writes on public.orders for 1.2 s (ACCESS
EXCLUSIVE, table rewrite)") go into the report's records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from migproof.chain.capture import RecordedStatement as Recorded
from migproof.chain.graph import RevisionFile
from migproof.chain.project import AlembicProject
from migproof.chain.record import RevisionRun, lock_mode, record_chain
from migproof.config import Config
from migproof.findings import Finding, Location, Report
from migproof.lint.source import (
    LOCK_STRENGTH,
    RecordedStatement,
    SqlSource,
    StatementFacts,
    lock_rank,
)
from migproof.sandbox import DatabaseHost

__all__ = ["lint_alembic_project", "lock_summary"]

# What each lock mode blocks for the application's own queries (PostgreSQL's conflict table).
_BLOCKS = {
    "ACCESS EXCLUSIVE": "blocks reads and writes",
    "EXCLUSIVE": "blocks writes",
    "SHARE ROW EXCLUSIVE": "blocks writes",
    "SHARE": "blocks writes",
}


def lint_alembic_project(config: Config, project: AlembicProject, host: DatabaseHost) -> Report:
    """Run the project's revisions in ``host`` and lint what they sent."""
    from migproof.chain.project import runnable_order
    from migproof.lint.engine import lint_sources
    from migproof.verify.graph_checks import never_downgraded
    from migproof.verify.roundtrip import UPGRADE_FAILED

    project.script_directory()
    order = runnable_order(project)
    bootstrap = config.verify.bootstrap_sql
    bootstrap_path = config.path(bootstrap).resolve() if bootstrap else None
    runs = record_chain(
        project,
        config,
        host,
        order,
        bootstrap=bootstrap_path,
        irreversible=never_downgraded(project, config),  # as verify walks them
    )
    report = Report(command="lint")
    runnable = {rev.revision for rev in order}
    for rev in project.graph.topological_order():  # what cannot run is said, not dropped
        if rev.revision not in runnable:
            report.skipped.append((f"revision {rev.label}", _why_not_run(project, rev)))
    preloaded = [run.revision for run in runs if run.from_bootstrap]
    if preloaded and bootstrap_path is not None:
        what = f"revision {preloaded[0]}"
        if len(preloaded) > 1:
            what = f"{len(preloaded)} revisions ({preloaded[0]} … {preloaded[-1]})"
        them = "them" if len(preloaded) > 1 else "it"
        report.skipped.append(
            (
                what,
                f"{bootstrap_path.name} is stamped at {them}: taken as applied, not run or linted",
            )
        )
    runs = [run for run in runs if not run.from_bootstrap]
    not_down = [run for run in runs if run.not_downgraded]
    if not_down:
        names = f"{not_down[0].revision} … {not_down[-1].revision}" if len(not_down) > 1 else ""
        what = (
            f"downgrade rules of {len(not_down)} revisions ({names})"
            if names
            else (f"downgrade rules of revision {not_down[0].revision}")
        )
        report.skipped.append((what, f"not downgraded: {not_down[0].not_downgraded}"))
    irreversible = [run for run in runs if run.irreversible]
    if irreversible:
        count = len(irreversible)
        report.skipped.append(
            (
                f"downgrade rules of {count} irreversible revision{'s' if count > 1 else ''}",
                "not downgraded: their downgrade() can only raise or is missing, or "
                "verify.irreversible or minimum-downgrade-revision names them",
            )
        )
    env_failed = any(run.failure is not None and run.failure.in_env for run in runs)
    why = "not run: env.py fails" if env_failed else "not run: a revision it builds on fails"
    report.skipped.extend((f"revision {run.revision}", why) for run in runs if run.blocked)
    sources = [_source(run) for run in runs if run.upgrade]
    if sources and bootstrap_path is not None:
        # the revisions run on the database the file builds: its tables are the schema
        # before them, for the rules that ask (a column NOT NULL there already, MP207)
        setup = _bootstrap_sql(bootstrap_path, report)
        if setup is not None:
            sources[0] = dataclasses.replace(sources[0], setup_sql=setup)
    report.extend(lint_sources(sources, config))
    for run in runs:
        if run.failure is not None:
            report.findings.append(
                Finding(
                    check=UPGRADE_FAILED.code,
                    severity=UPGRADE_FAILED.severity,
                    revision=run.revision,
                    message=(
                        f"env.py fails before {run.revision} runs, so no revision was linted"
                        if run.failure.in_env
                        else f"revision {run.revision} fails to upgrade, so it and the revisions"
                        " that build on it were not linted"
                    )
                    + f": {run.failure.error}",
                    statement=run.failure.statement,
                    location=Location(path=run.failure.path or run.path, line=run.failure.line),
                    fix=_outside_schema_fix(run, runs, config),
                )
            )
        report.records.append(
            {
                "file": str(run.path),
                "kind": "revision",
                "revision": run.revision,
                "locks": lock_summary(run),
            }
        )
    return report


def _why_not_run(project: AlembicProject, rev: RevisionFile) -> str:
    broken = project.broken.get(rev.path.resolve())
    error = broken.error if broken else rev.syntax_error[0] if rev.syntax_error else None
    if error is not None:
        return f"its file fails to import ({error}); `migproof verify` reports it"
    return "it builds on a revision that is missing or fails to import"


def lock_summary(run: RevisionRun) -> list[str]:
    """What the revision's upgrade blocks, per relation that existed before it, strongest first."""
    strongest: dict[str, tuple[int, float, bool]] = {}
    for statement in run.upgrade:
        held = _held_seconds(statement, run)
        for relation, mode in _blocking_locks(statement):
            if mode not in _BLOCKS:
                continue
            rank = lock_rank(mode)
            old_rank, old_held, old_rewrite = strongest.get(relation, (-1, 0.0, False))
            rewrote = old_rewrite or relation in statement.rewritten
            strongest[relation] = (max(rank, old_rank), max(held, old_held), rewrote)
    lines = []
    for relation, (rank, held, rewrote) in sorted(
        strongest.items(), key=lambda kv: (-kv[1][0], kv[0])
    ):
        mode = LOCK_STRENGTH[rank]
        detail = f"{mode}, table rewrite" if rewrote else mode
        lines.append(f"{_BLOCKS[mode]} on {relation} for {held:.2f} s ({detail})")
    return lines


def _blocking_locks(recorded: Recorded) -> tuple[tuple[str, str], ...]:
    """The strongest lock per relation that existed before: new ones block nobody."""
    existed = recorded.preexisting
    locks = ((relation, mode, None) for relation, mode in recorded.locks if relation in existed)
    return tuple((relation, mode) for relation, mode, _ in _strongest_per_relation(locks))


def _held_locks(recorded: Recorded) -> tuple[tuple[str, str, int | None], ...]:
    """The strongest lock per relation its transaction held before it, and the line taking it."""
    return _strongest_per_relation(recorded.held)


def _strongest_per_relation(
    locks: Iterable[tuple[str, str, int | None]],
) -> tuple[tuple[str, str, int | None], ...]:
    """pg_locks' (relation, mode, line) rows: the strongest per relation, by relation, the
    mode as PostgreSQL's documentation names it.

    A mode that is not a table lock mode (SIReadLock, under SERIALIZABLE) ranks below all;
    of equal ones, the first is kept.
    """
    strongest: dict[str, tuple[str, int | None]] = {}
    for relation, raw_mode, line in locks:
        mode = lock_mode(raw_mode)
        if relation not in strongest or lock_rank(mode) > lock_rank(strongest[relation][0]):
            strongest[relation] = (mode, line)
    return tuple((relation, mode, line) for relation, (mode, line) in sorted(strongest.items()))


def _held_seconds(recorded: Recorded, run: RevisionRun) -> float:
    return run.held_seconds.get(id(recorded), recorded.duration_ms / 1000)


def _bootstrap_sql(path: Path, report: Report) -> str | None:
    """The bootstrap file as SQL alone (record_chain has loaded it already: it reads), or
    None, said in ``report``, when the parser lint uses cannot read all of it (PostgreSQL
    loaded it: a newer syntax than pglast knows)."""
    from migproof.lint.pgsql import SqlSyntaxError, parse_nodes
    from migproof.sources import read_sql

    text = read_sql(path)
    try:
        parse_nodes(text)
    except SqlSyntaxError as exc:
        report.skipped.append(
            (
                f"the schema {path.name} builds, for the rules",
                f"line {exc.line}: {exc.message}: the rules know only the tables the revisions"
                " make",
            )
        )
        return None
    return text


def _source(run: RevisionRun) -> SqlSource:
    # what env.py set for the session before the revision's transaction (dstack's SET
    # lock_timeout) is in force for it: said first, as a statement of its own
    session = [
        RecordedStatement(sql=f"SET {name} = '{value}'", in_transaction=False)
        for name, value in (run.upgrade[0].session if run.upgrade else ())
    ]
    return SqlSource.from_statements(
        [*session, *(_statement(s, run) for s in run.upgrade)],
        path=run.path,
        revision=run.revision,
        down=[_statement(s, run) for s in run.downgrade],
    )


def _statement(recorded: Recorded, run: RevisionRun) -> RecordedStatement:
    """The statement for the rules, with what the sandbox saw it do. Nothing was seen of a
    statement that failed (a revision caught the error), nor of one outside a transaction
    (an autocommit env.py, an ``autocommit_block``): its locks were gone, and its rewrites
    with them, before pg_locks could be read. The rules judge those by their SQL alone."""
    observed = not recorded.failed and recorded.in_transaction is not False
    return RecordedStatement(
        sql=recorded.sql,
        location=Location(path=recorded.path, line=recorded.line) if recorded.path else None,
        in_transaction=recorded.in_transaction,
        facts=StatementFacts(
            locks=_blocking_locks(recorded),
            rewritten=recorded.rewritten,
            seconds=_held_seconds(recorded, run),
            held=_held_locks(recorded),
        )
        if observed
        else None,
    )


def _outside_schema_fix(run: RevisionRun, runs: list[RevisionRun], config: Config) -> str | None:
    """For an upgrade that fails on an object no earlier revision names: the chain starts
    from a schema made outside it (jupyterhub's ``create_all()``), and lint runs it only
    from a bootstrap file, as verify does (whose MP010 says what to write in it)."""
    from migproof.verify.hints import mentions, missing_object

    failure = run.failure
    missing = missing_object(failure) if failure is not None and not failure.in_env else None
    if missing is None:
        return None
    earlier = [s for r in runs[: runs.index(run)] for s in r.upgrade if not s.failed]
    if any(mentions(s.sql, missing[1]) for s in earlier):
        return None
    if any(s.creates_table for s in earlier):
        return None  # the chain makes its tables: a missing one is its own bug (a typo)
    kind, name = missing
    if config.verify.bootstrap_sql:
        return (
            f'no revision before {run.revision} creates {kind} "{name}": the schema in'
            f" {Path(config.verify.bootstrap_sql).name} must hold it, stamped at the revision"
            " it matches (`migproof verify` says how)"
        )
    return (
        f'no revision before {run.revision} creates {kind} "{name}": the chain seems to start'
        " from a schema created outside the migrations (as `metadata.create_all()` does"
        " before `alembic stamp head` or `alembic upgrade head`). Write that schema to a file"
        " (stamped at the revision it matches, or with no stamp when the chain upgrades it"
        " from base) and pass it as `--bootstrap-sql FILE`"
        f" ({config.setting('verify.bootstrap-sql')}); `migproof verify` says what to put in"
        " it. Or read the revision files alone with `--static`"
    )
