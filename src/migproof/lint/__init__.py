"""``migproof lint``: migration hazards found by PostgreSQL's own parser.

>>> from pathlib import Path
>>> from migproof.config import Config
>>> findings = lint_sources([SqlSource("DROP TABLE orders;", Path("0002.sql"))], Config())
>>> [(f.check, f.location.line) for f in findings]
[('MP404', 1), ('MP210', 1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from migproof.config import Config
from migproof.findings import Report
from migproof.lint.engine import lint_revision_files, lint_sources
from migproof.lint.files import discover
from migproof.lint.source import RecordedStatement, SqlSource, StatementFacts, StatementOrigin

__all__ = [
    "RecordedStatement",
    "SqlSource",
    "StatementFacts",
    "StatementOrigin",
    "lint_paths",
    "lint_revision_files",
    "lint_sources",
]


def lint_paths(paths: Sequence[Path], config: Config) -> Report:
    """Lint ``.sql`` files, directories of them and Alembic revision files.

    A path that does not exist raises ``SourceError`` (exit 2); everything wrong inside the
    files, syntax errors included, is a finding.
    """
    found = discover(paths, config)
    report = Report(command="lint")
    report.extend(lint_sources(found.sources, config))
    report.extend(lint_revision_files(found.revisions, config))
    report.records.extend(
        {"file": str(s.path), "kind": "sql"} for s in found.sources if s.path is not None
    )
    report.records.extend({"file": str(p), "kind": "revision"} for p in found.revisions)
    if found.unread:
        count, first = len(found.unread), found.unread[0].name
        report.skipped.append(
            (
                f"{count} file{'s' if count > 1 else ''} named *.sql.* ({first}"
                f"{', …' if count > 1 else ''})",
                "not read: lint reads files ending .sql; give the PostgreSQL ones that ending",
            )
        )
    return report
