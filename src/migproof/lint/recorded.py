"""Lint an Alembic project by running it: the SQL each revision really sent, with its facts.

Every revision runs up (and back down) once in a scratch database; the statements recorded
become one ``SqlSource`` per revision, each statement pointing at the ``op.`` line that sent
it and carrying the locks its backend took, the relations it rewrote and how long it held
them. The per-revision lock summaries ("blocks writes on public.orders for 1.2 s (ACCESS
EXCLUSIVE, table rewrite)") go into the report's records.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
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
# Operations that send no SQL of their own: op.f names a constraint, op.get_bind hands over
# the connection; op.run_async's function sends its SQL from its own lines.
_SENDS_NOTHING = frozenset(
    {
        "f",
        "get_bind",
        "get_context",
        "inline_literal",
        "implementation_for",
        "register_operation",
        "run_async",
    }
)
_UNSENT = (
    "sent nothing in the sandbox (a guard, or a branch for another database, skipped them):"
    " not linted"
)
_UNSENT_LISTED = 5  # more revisions than this with such calls: one entry for them all
# Alembic stamping its version table (its column is always version_num): the statement that
# fails when a revision id is longer than the column
_STAMP = re.compile(r"^\s*(?:UPDATE|INSERT\s+INTO)\b.*\bversion_num\b", re.IGNORECASE | re.DOTALL)


def lint_alembic_project(
    config: Config,
    project: AlembicProject,
    host: DatabaseHost,
    reported: Callable[[Path], bool] | None = None,
) -> Report:
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
    report.skipped.extend(
        (
            f"downgrade rules of revision {run.revision}",
            f"its downgrade fails ({error}): not linted",
        )
        for run in runs
        if (error := run.downgrade_failed) is not None
    )
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
                "not downgraded: their downgrade() can only raise, is missing (or empty, in an "
                "upgrade-only chain), or "
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
    # what was not linted, of the revisions reported on (the files given; not lint.start-after's)
    shown = [run for run in runs if reported is None or reported(run.path.resolve())]
    report.skipped.extend(_unsent_entries(shown))
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
                    location=_failure_location(run, project),
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


def _failure_location(run: RevisionRun, project: AlembicProject) -> Location:
    """Where a failed upgrade failed; when it is Alembic stamping the version table (a
    revision id longer than version_num), the revision's ``revision =`` line, as verify
    reports it: env.py's ``run_migrations()`` line, the innermost on the stack, is not what
    is wrong."""
    failure = run.failure
    assert failure is not None
    statement = failure.statement or ""
    # sent from outside the revision file (a statement of its own is its own failure)
    elsewhere = failure.path is None or failure.path.resolve() != run.path.resolve()
    if elsewhere and not failure.in_env and run.revision in statement and _STAMP.search(statement):
        rev = project.graph.by_id.get(run.revision)
        return Location(path=run.path, line=rev.revision_line if rev is not None else None)
    return Location(path=failure.path or run.path, line=failure.line)


def _unsent_entries(runs: list[RevisionRun]) -> list[tuple[str, str]]:
    """The "not checked" entries for op calls of upgrade() that sent nothing in the sandbox
    (``if "ix" not in inspector.get_indexes(...)``: skypilot, cognee), which the
    production database, without the object, runs: one per revision, or one for them all
    when they are many."""
    found = [
        (run.revision, unsent)
        for run in runs
        if run.failure is None and not run.blocked and (unsent := _unsent_op_calls(run))
    ]
    described = [(rid, _describe(unsent)) for rid, unsent in found]
    if len(described) <= _UNSENT_LISTED:
        return [(f"upgrade() of revision {rid}: {calls}", _UNSENT) for rid, calls in described]
    first = ", ".join(f"{rid} ({calls})" for rid, calls in described[:3])
    return [(f"upgrade() of {len(described)} revisions: {first}, …", _UNSENT)]


def _describe(unsent: list[tuple[str, list[int]]]) -> str:
    """``op.create_index at lines 34, 39; op.add_column at line 50``."""
    return "; ".join(
        f"op.{name} at line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}"
        for name, lines in unsent
    )


def _unsent_op_calls(run: RevisionRun) -> list[tuple[str, list[int]]]:
    """The ``op.`` calls in the revision's ``upgrade()`` (nested blocks and functions
    included) that sent no statement while it ran: (operation, lines), in the order of
    their first line.

    A call sent something when a statement was recorded on one of its lines (the recorder
    names the innermost line of the revision file on the stack); a ``with
    op.batch_alter_table()`` block sends from its ``with`` line or its ``batch_op.`` lines.
    Calls that send nothing by design (``op.f``, ``op.get_bind``) are not counted; calls in
    helper functions upgrade() calls are not either (they may serve downgrade() too).
    """
    tree = _parse(run.path)
    upgrade = (
        next(
            (
                node
                for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == "upgrade"
            ),
            None,
        )
        if tree is not None
        else None
    )
    if tree is None or upgrade is None:
        return []
    sent = _sent_lines(run)
    unsent: dict[str, list[int]] = {}
    for name, line, first, last in _op_calls(upgrade, _op_names(tree)):
        if not any(first <= n <= last for n in sent):
            lines = unsent.setdefault(name, [])
            if line not in lines:
                lines.append(line)
    return list(unsent.items())


def _parse(path: Path) -> ast.Module | None:
    """A revision file's tree; None when it cannot be read (it ran, so that is rare: a file
    changed since)."""
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None


def _op_names(tree: ast.Module) -> frozenset[str]:
    """The names ``alembic.op`` goes by in the file: ``op``, and ``x`` of ``from alembic
    import op as x``."""
    names = {"op"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "alembic":
            names.update(a.asname for a in node.names if a.name == "op" and a.asname)
    return frozenset(names)


def _op_calls(function: ast.AST, names: frozenset[str]) -> Iterator[tuple[str, int, int, int]]:
    """(operation, line, first and last line of what it sends from) of each ``op.`` call."""
    for node in ast.walk(function):
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if _operation(item.context_expr, names) == "batch_alter_table":
                    end = node.end_lineno or node.lineno
                    yield "batch_alter_table", item.context_expr.lineno, node.lineno, end
        elif isinstance(node, ast.Call):
            name = _operation(node, names)
            # batch_alter_table() sends from its `with` block, met above
            if name is None or name in _SENDS_NOTHING or name == "batch_alter_table":
                continue
            yield name, node.lineno, node.lineno, node.end_lineno or node.lineno


def _operation(node: ast.expr, names: frozenset[str]) -> str | None:
    """``create_index`` for ``op.create_index(...)``; None for any other expression."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in names
    ):
        return node.func.attr
    return None


def _sent_lines(run: RevisionRun) -> set[int]:
    """The lines of the revision file its upgrade's statements were sent from."""
    own = run.path.resolve()
    return {
        s.line
        for s in run.upgrade
        if s.line is not None
        and s.path is not None
        and (s.path == run.path or s.path.resolve() == own)
    }


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
    from migproof.verify.hints import foreign_type_fix, mentions, missing_object

    failure = run.failure
    if failure is not None and (hint := foreign_type_fix(failure)):
        return hint
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
