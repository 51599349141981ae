"""``lint.start-after``: migrations that already ran in production are linted, not reported.

A project adopting migproof has years of migrations that ran long ago: what lint finds in
them cannot be fixed any more (a migration that ran is never edited), and would fail every
pull request. strong_migrations' ``start_after`` answers this, and so does this setting: the
migration it names, and every one before it, are still parsed or run (the schema the later
ones are judged against is theirs), but their findings are left out of the report and
counted in its skipped list.

"Before" is an Alembic revision's history (its down revisions and dependencies, as
``minimum-downgrade-revision`` reads it), and the lint order for ``.sql`` files. A chain of
several branches (neutron's expand and contract) names the last applied revision of each:
the setting takes a list. A finding
that stopped lint itself (an upgrade that fails, MP010) is kept: the migrations after it
were not linted, and the report must say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from migproof.config import Config
from migproof.errors import ConfigError
from migproof.findings import Report

__all__ = ["Settled", "settled_for"]

# Findings that say something was not linted: never dropped.
_KEEP = frozenset({"MP010"})


@dataclass(frozen=True, slots=True)
class Settled:
    """The files of ``lint.start-after`` and the migrations before it (resolved paths), and
    how many migrations they are (an ``.up.sql`` and its ``.down.sql`` are one)."""

    start_after: tuple[str, ...]
    files: frozenset[Path]
    migrations: int

    def drop_from(self, report: Report) -> None:
        """Leave their findings out of ``report`` and say how many in its skipped list."""
        kept, dropped = [], 0
        for finding in report.findings:
            path = finding.location.path if finding.location else None
            if path is not None and finding.check not in _KEEP and path.resolve() in self.files:
                dropped += 1
            else:
                kept.append(finding)
        report.findings[:] = kept
        named = len(self.start_after)
        before = max(self.migrations - named, 0)
        report.skipped.append(
            (
                f"{dropped} finding{'s' if dropped != 1 else ''} in {', '.join(self.start_after)}"
                f" and the {before} migration{'s' if before != 1 else ''} before"
                f" {'them' if named > 1 else 'it'}",
                "lint.start-after: linted, not reported (they ran already; only a new "
                "migration can change what they did)",
            )
        )


def settled_for(
    report: Report,
    config: Config,
    targets: Sequence[Path] = (),
    configured: Callable[[Path], Config] | None = None,
) -> Settled | None:
    """``lint.start-after``'s migrations; None when it is not set.

    They are looked for among the migrations ``report`` records (``kind`` "sql" or
    "revision", in lint order) and, for files given one by one (``targets``: pre-commit
    passes the changed ones), among the others of their directory or Alembic project
    (``configured(directory)`` is the configuration found from there): the migration named
    need not be among those given. A name that is neither a revision id (or unique id
    prefix) nor a ``.sql`` file's name (or unique name prefix) is a ``ConfigError``.
    """
    names = config.lint.start_after
    if not names:
        return None
    sql, revisions = _files(report, "sql"), _files(report, "revision")
    _add_neighbours(targets, configured or (lambda _: config), sql, revisions)
    found = [settled_files(name, sql, revisions) for name in names]
    files = {path for paths in found for path in paths}
    migrations = len({path for path in files if not path.name.endswith(".down.sql")})
    return Settled(names, frozenset(files), migrations)


def _add_neighbours(
    targets: Sequence[Path],
    configured: Callable[[Path], Config],
    sql: list[Path],
    revisions: list[Path],
) -> None:
    """The migrations beside the files given one by one: the other ``.sql`` files of their
    directory, the other revisions of their Alembic project."""
    from migproof.lint.files import discover, natural_order, projects_of

    known = {p.resolve() for p in (*sql, *revisions)}

    def add(paths: Sequence[Path], into: list[Path]) -> None:
        for path in paths:
            if path.resolve() not in known:
                known.add(path.resolve())
                into.append(path)

    directories = list(dict.fromkeys(t.parent for t in targets if t.suffix == ".sql"))
    for directory in directories:
        found = discover([directory], configured(directory))
        add([s.path for s in found.sources if s.path is not None], sql)
    if directories:  # lint order: a neighbour before the files given runs before them
        sql.sort(key=lambda path: (str(path.resolve().parent), natural_order(path)))
    for directory, _ in projects_of([t for t in targets if t.suffix == ".py"], configured):
        add(discover([directory], configured(directory)).revisions, revisions)


def settled_files(start_after: str, sql: list[Path], revisions: list[Path]) -> set[Path]:
    """The files of ``start_after`` and every migration before it, resolved."""
    from migproof.chain.graph import RevisionGraph, read_revision_file  # when it is set only

    graph = RevisionGraph([read_revision_file(p) for p in revisions])
    ids = [rid for rid in graph.by_id if rid == start_after]
    names = [p for p in sql if start_after in (p.name, p.stem)]
    if not ids and not names:  # no exact match: a unique prefix
        ids = [rid for rid in graph.by_id if rid.startswith(start_after)]
        names = [p for p in sql if p.name.startswith(start_after)]
    if len(ids) == 1 and not names:
        found = {ids[0], *graph.ancestors(ids[0])}
        return {_key(graph.by_id[rid].path) for rid in found}
    if len(names) == 1 and not ids:
        last = sql.index(names[0])
        files = sql[: last + 1]
        partners = {_down(p) for p in files} - set(files)
        return {_key(p) for p in files} | {_key(p) for p in partners if p.exists()}
    matches = [*ids, *(p.name for p in names)]
    what = (
        f"{len(matches)} migrations match it ({', '.join(sorted(matches)[:3])}"
        f"{', …' if len(matches) > 3 else ''})"
        if matches
        else "no revision id or .sql file name among the linted migrations starts with it"
    )
    raise ConfigError(
        f"lint.start-after {start_after!r}: {what}",
        fix="give the id (or a unique prefix) of a revision, or the name of a .sql file, "
        "that is linted",
    )


def _files(report: Report, kind: str) -> list[Path]:
    seen: dict[Path, None] = {}
    for record in report.records:
        if record.get("kind") == kind and record.get("file"):
            seen.setdefault(Path(str(record["file"])), None)
    return list(seen)


def _down(path: Path) -> Path:
    """``0001_x.up.sql``'s partner ``0001_x.down.sql`` (the path itself otherwise)."""
    if path.name.endswith(".up.sql"):
        return path.with_name(path.name.removesuffix(".up.sql") + ".down.sql")
    return path


def _key(path: Path) -> Path:
    return path.resolve()
