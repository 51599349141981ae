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

from dataclasses import dataclass
from pathlib import Path

from migproof.chain.graph import RevisionGraph, read_revision_file
from migproof.config import Config
from migproof.errors import ConfigError
from migproof.findings import Report

__all__ = ["Settled", "settled_for"]

# Findings that say something was not linted: never dropped.
_KEEP = frozenset({"MP010"})


@dataclass(frozen=True, slots=True)
class Settled:
    """The files of ``lint.start-after`` and the migrations before it (resolved paths)."""

    start_after: tuple[str, ...]
    files: frozenset[Path]

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
        before = len(self.files) - named
        report.skipped.append(
            (
                f"{dropped} finding{'s' if dropped != 1 else ''} in {', '.join(self.start_after)}"
                f" and the {before} migration file{'s' if before != 1 else ''} before"
                f" {'them' if named > 1 else 'it'}",
                "lint.start-after: linted, not reported (they ran already; only a new "
                "migration can change what they did)",
            )
        )


def settled_for(report: Report, config: Config) -> Settled | None:
    """``lint.start-after``'s migrations among those ``report`` records (``kind`` "sql" or
    "revision", in lint order); None when it is not set. A name that is neither a revision
    id (or unique id prefix) nor a ``.sql`` file's name (or unique name prefix) among them is
    a ``ConfigError``."""
    names = config.lint.start_after
    if not names:
        return None
    sql, revisions = _files(report, "sql"), _files(report, "revision")
    files = {path for name in names for path in settled_files(name, sql, revisions)}
    return Settled(names, frozenset(files))


def settled_files(start_after: str, sql: list[Path], revisions: list[Path]) -> set[Path]:
    """The files of ``start_after`` and every migration before it, resolved."""
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
        return {_key(p) for p in files} | {_key(_down(p)) for p in files if _down(p) != p}
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
