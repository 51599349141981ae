"""``--format json``: the report as one JSON document (schema version 1).

``{"schema_version": 1, "tool": "migproof", "version": …, "command": …,
"summary": {"error": n, "warning": n, "info": n}, "findings": [...], "records": [...],
"skipped": [{"what": …, "why": …}]}``; a finding is ``{check, severity, message, fix, path,
line, column, end_line, end_column, revision, statement, context: [{title, body}]}``.

A run that could not look (exit 2) or hit a bug (exit 3) still writes a document, with no
findings and ``"error": {"message": …, "fix": …, "exit_code": 2}``, so a script reading the
output finds why instead of an empty file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from migproof import __version__
from migproof.findings import Finding, Report, Severity, display_path
from migproof.report.paths import TOPLEVEL_RELATIVE

__all__ = ["SCHEMA_VERSION", "finding_to_dict", "render", "render_error", "report_to_dict"]

SCHEMA_VERSION = 1


def finding_to_dict(finding: Finding, show: Callable[[Path], str] = str) -> dict[str, object]:
    location = finding.location
    return {
        "check": finding.check,
        "severity": finding.severity.value,
        "message": finding.message,
        "fix": finding.fix,
        "path": show(location.path) if location else None,
        "line": location.line if location else None,
        "column": location.column if location else None,
        "end_line": location.end_line if location else None,
        "end_column": location.end_column if location else None,
        "revision": finding.revision,
        "statement": finding.statement,
        "context": [{"title": title, "body": body} for title, body in finding.context],
    }


def report_to_dict(report: Report) -> dict[str, object]:
    """The document; paths relative to the working directory when inside it, as the terminal
    shows them (guard's stay relative to the git top level, as ``git diff`` names them)."""
    show: Callable[[Path], str] = str if report.command in TOPLEVEL_RELATIVE else display_path
    records = [_with_file_shown(record, show) for record in report.records]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "migproof",
        "version": __version__,
        "command": report.command,
        "summary": {s.value: sum(1 for f in report.findings if f.severity is s) for s in Severity},
        "findings": [finding_to_dict(f, show) for f in report.sorted_findings()],
        "records": records,
        "skipped": [{"what": what, "why": why} for what, why in report.skipped],
    }


def _with_file_shown(value: Any, show: Callable[[Path], str]) -> Any:
    """``value`` (a record, or anything in one) with the absolute paths under its ``file``
    and ``path`` keys shown as ``show`` shows them (a verify record's statements have them)."""
    if isinstance(value, list):
        return [_with_file_shown(item, show) for item in value]
    if not isinstance(value, dict):
        return value
    shown = {}
    for key, item in value.items():
        if key in ("file", "path") and isinstance(item, str) and Path(item).is_absolute():
            shown[key] = show(Path(item))
        else:
            shown[key] = _with_file_shown(item, show)
    return shown


def render(report: Report, out: TextIO) -> None:
    # one string, one write: json.dump writes every token to ``out`` on its own
    out.write(json.dumps(report_to_dict(report), indent=2, sort_keys=True, default=str) + "\n")


def render_error(command: str, message: str, fix: str | None, exit_code: int, out: TextIO) -> None:
    """The document of a run that ended with an error instead of a report."""
    document = report_to_dict(Report(command=command))
    document["error"] = {"message": message, "fix": fix, "exit_code": exit_code}
    out.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
