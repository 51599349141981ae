"""Lint a large corpus on two cores: the first migrations here, the rest in a forked process.

Linting is sequential by nature: a migration is judged against the schema every migration
before it built. The forked process gets that schema by carrying it over the first part
(``Linter.advance``: parse and apply, no rules), which costs under half of linting it, then
lints the rest; this process lints the first part meanwhile, then carries its schema over
the first migration of the rest to release the foreign-key findings it held
(``Linter.handover``), exactly as one linter going through all of them would. Findings come
back in the same order, equal to a sequential run's (tests/unit/lint/test_lint_parallel.py).

Only where it pays and is safe: Linux (``fork``), at least two usable cores (affinity and
cgroup CPU quota), no other thread running (a fork copies locks other threads may hold), no
recorded statements, and enough SQL (``MIN_SQL``) that the second core saves more than the
fork and the pickled findings cost. Anything that goes wrong in the forked process makes
this one lint the rest itself, so an error surfaces here as it would have without the fork.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migproof.findings import Finding, Location, Severity
from migproof.forking import Worker, can_fork, usable_cores

if TYPE_CHECKING:
    from migproof.lint.engine import Linter
    from migproof.lint.source import SqlSource

__all__ = ["lint_split", "worth_splitting"]

# Below this much SQL (characters) one process is as fast: forking, carrying the schema over
# the first part and pickling the findings back cost what the second core saves. Measured
# on bench/lint_bench.py's corpus cut short: 90 KB breaks even, 180 KB is linted in 0.77
# of the time, 450 KB in 0.74, 2 MB in about 0.7.
MIN_SQL = 200_000
# The share of the SQL this process lints: the forked one also carries the schema over it,
# at about 0.45 of the cost of linting it, and pickles its findings: p = 0.66 balances the
# two (measured on bench/lint_bench.py's corpus).
FIRST_SHARE = 0.66


def worth_splitting(sources: Sequence[SqlSource]) -> bool:
    """Whether ``lint_split`` is safe here and faster than one process."""
    if not can_fork() or usable_cores() < 2:
        return False
    if any(source.origins for source in sources):
        return False  # recorded statements: few, and their suppressions live in .py files
    return sum(len(s.sql) + len(s.down_sql or "") for s in sources) >= MIN_SQL


# A finding as plain values: pickling Path and dataclass objects costs more than the lint.
_Encoded = tuple[Any, ...]


def split_point(sources: Sequence[SqlSource], share: float = FIRST_SHARE) -> int:
    """The index of the first migration the forked process lints (1 to len - 1)."""
    sizes = [len(s.sql) + len(s.down_sql or "") + len(s.setup_sql or "") for s in sources]
    wanted, done = share * sum(sizes), 0
    for index, size in enumerate(sizes):
        if done >= wanted:
            return max(1, min(index, len(sources) - 1))
        done += size
    return len(sources) - 1


def lint_split(
    sources: Sequence[SqlSource], linter: Linter, first: int | None = None
) -> list[Finding]:
    """Every finding of ``sources`` in order, as ``linter`` alone would find them.

    ``first``: the index of the first migration the forked process lints (by default,
    ``split_point``).
    """
    if first is None:
        first = split_point(sources) if len(sources) > 1 else 0
    if not 0 < first < len(sources):
        return linter.lint_all(sources)
    try:
        worker = Worker.fork(lambda _tick: _child(sources, first, linter))
    except OSError:
        return linter.lint_all(sources)
    worker.listen(lambda: None)
    try:
        findings = [f for source in sources[:first] for f in linter.lint(source)]
    except BaseException:  # a rule's bug, Ctrl-C: no orphan left behind
        worker.kill()
        raise
    rest = _decode(worker.wait(), sources)
    if rest is None:  # the forked process failed: lint the rest here, where errors surface
        return findings + linter.lint_all(sources[first:])
    return findings + linter.handover(sources[first]) + rest


def _child(sources: Sequence[SqlSource], first: int, linter: Linter) -> list[_Encoded]:
    """In the forked process: carry the schema over the first part, lint the rest."""
    for source in sources[:first]:
        linter.advance(source)
    return _encode(linter.lint_all(sources[first:]))


def _encode(findings: list[Finding]) -> list[_Encoded]:
    encoded: list[_Encoded] = []
    for f in findings:
        loc = f.location
        where = (
            (str(loc.path), loc.line, loc.column, loc.end_line, loc.end_column)
            if loc is not None
            else None
        )
        encoded.append(
            (f.check, f.severity.value, f.message, f.fix, where, f.revision, f.statement, f.context)
        )
    return encoded


def _decode(data: list[_Encoded] | None, sources: Sequence[SqlSource]) -> list[Finding] | None:
    if data is None:
        return None
    paths: dict[str, Path] = {}
    for source in sources:
        for path in (source.path, source.down_path):
            if path is not None:
                paths.setdefault(str(path), path)
    severities = {s.value: s for s in Severity}
    findings: list[Finding] = []
    for check, severity, message, fix, where, revision, statement, context in data:
        location = None
        if where is not None:
            name, line, column, end_line, end_column = where
            path = paths.get(name)
            if path is None:
                path = paths[name] = Path(name)
            location = Location(
                path=path, line=line, column=column, end_line=end_line, end_column=end_column
            )
        findings.append(
            Finding(
                check=check,
                severity=severities[severity],
                message=message,
                fix=fix,
                location=location,
                revision=revision,
                statement=statement,
                context=context,
            )
        )
    return findings
