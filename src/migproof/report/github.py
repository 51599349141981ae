"""``--format github``: workflow commands that annotate the offending file and line.

GitHub places an annotation by its file's path relative to the repository root, so paths are
given that way whatever directory migproof ran in (``report/paths.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from migproof.findings import Finding, Report, Severity
from migproof.report.paths import anchor_of, repository_root, within_repository

__all__ = ["render"]

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(finding: Finding, anchor: Path, root: Path) -> str:
    properties = [f"title={_escape_property(finding.check)}"]
    location = finding.location
    if location is not None:
        path = within_repository(location.path, anchor, root).as_posix()
        properties.insert(0, f"file={_escape_property(path)}")
        if location.line is not None:
            properties.insert(1, f"line={location.line}")
            if location.end_line is not None and location.end_line != location.line:
                properties.insert(2, f"endLine={location.end_line}")
            elif location.column is not None:  # no col on multi-line spans
                properties.insert(2, f"col={location.column}")
    message = finding.message if finding.fix is None else f"{finding.message}\nfix: {finding.fix}"
    if finding.revision:
        message = f"[{finding.revision}] {message}"
    return f"::{_COMMAND[finding.severity]} {','.join(properties)}::{_escape_data(message)}"


def render(report: Report, out: TextIO) -> None:
    root = repository_root()
    anchor = anchor_of(report.command, root)
    for finding in report.sorted_findings():
        out.write(_annotation(finding, anchor, root) + "\n")
    if report.skipped:  # one notice, not one each: GitHub shows ten annotations a step
        lines = "\n".join(f"{what}: {why}" for what, why in report.skipped)
        title = _escape_property(f"migproof {report.command}: not checked")
        out.write(f"::notice title={title}::{_escape_data(lines)}\n")
