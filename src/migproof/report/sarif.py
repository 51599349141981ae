"""``--format sarif``: SARIF 2.1.0 for code scanning (GitHub's upload-sarif, GitLab, Azure).

One run; the driver lists the rules of the checks that found something (id = code, name,
summary, the check's Markdown docs as help); each finding is a result on its file's URI
relative to the repository root (``%SRCROOT%``), with line and column when known.

Paths follow each command's convention: ``guard`` names files as ``git diff`` does (relative
to the git top level); every other command as it was given them (relative to the working
directory, or absolute). A finding without a file still gets one location (GitHub's
upload-sarif rejects a result without): its revision's file when the report's records name
one, else the project's configuration file, else the directory its migrations are in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from migproof import __version__
from migproof.checks import CheckInfo, find_check
from migproof.findings import Finding, Report, Severity
from migproof.report.paths import anchor_of, repository_root, resolved, within_repository

__all__ = ["LEVELS", "SARIF_SCHEMA", "render", "report_to_sarif", "repository_root"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/migproof/"

# Severity maps once (STYLE.md §3): error -> error, warning -> warning, info -> note.
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

# What stands for the project when a finding names no file, nearest directory first.
PROJECT_FILES = ("alembic.ini", "migproof.toml", "pyproject.toml")


def report_to_sarif(report: Report, root: Path | None = None) -> dict[str, object]:
    """The SARIF log of a report; file URIs relative to ``root`` (default: the repository's)."""
    base = (root or repository_root()).resolve()
    places = _Places(report, base)
    rules: dict[str, int] = {}
    rule_objects: list[dict[str, object]] = []
    results = []
    for finding in report.sorted_findings():
        if finding.check not in rules:
            rules[finding.check] = len(rule_objects)
            rule_objects.append(_rule(finding))
        results.append(_result(finding, rules[finding.check], places))
    driver: dict[str, object] = {
        "name": "migproof",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": rule_objects,
    }
    run: dict[str, object] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"migproof/{report.command}/"},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
        "invocations": [{"executionSuccessful": True}],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(finding: Finding) -> dict[str, object]:
    info = find_check(finding.check)
    if info is None:  # a finding of a check that registered no metadata
        return {
            "id": finding.check,
            "defaultConfiguration": {"level": LEVELS[finding.severity]},
        }
    return _rule_from_info(info)


def _rule_from_info(info: CheckInfo) -> dict[str, object]:
    rule: dict[str, object] = {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.summary},
        "defaultConfiguration": {"level": LEVELS[info.severity]},
        "properties": {"tags": ["migproof", info.family], "precision": "high"},
    }
    if info.docs:
        rule["help"] = {"text": info.docs, "markdown": info.docs}
    return rule


@dataclass
class _Places:
    """Where a report's paths point: relative ones resolved by the command's convention."""

    report: Report
    base: Path
    anchor: Path = field(init=False)
    _by_revision: dict[str, Path] | None = field(default=None, init=False)
    _project: tuple[Path, bool] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.anchor = anchor_of(self.report.command, self.base)

    def absolute(self, path: Path) -> Path:
        return resolved(path, self.anchor)

    def artifact(self, path: Path, *, directory: bool = False) -> dict[str, object]:
        relative = within_repository(path, self.anchor, self.base)
        if relative.is_absolute():  # outside the repository: an absolute file URI
            return {"uri": relative.as_uri()}
        uri = quote(relative.as_posix()) if relative.parts else "."
        if directory:
            uri += "/"
        return {"uri": uri, "uriBaseId": "%SRCROOT%"}

    def fallback(self, finding: Finding) -> tuple[Path, bool]:
        """Where a finding without a location is shown (module docstring), and if a file."""
        if self._by_revision is None:
            self._by_revision, known = self._record_paths()
            known.extend(self.absolute(f.location.path) for f in self.report.findings if f.location)
            self._project = self._project_place(known)
        own = self._by_revision.get(finding.revision) if finding.revision else None
        if own is not None and own.is_file():
            return own, True
        assert self._project is not None
        return self._project

    def _record_paths(self) -> tuple[dict[str, Path], list[Path]]:
        by_revision: dict[str, Path] = {}
        known: list[Path] = []
        for record in self.report.records:
            raw = record.get("path")
            if not isinstance(raw, str) or not raw:
                continue
            path = self.absolute(Path(raw))
            known.append(path)
            key = record.get("revision", record.get("version"))
            if key is not None:
                by_revision.setdefault(str(key), path)
        return by_revision, known

    def _project_place(self, known: Iterable[Path]) -> tuple[Path, bool]:
        """The nearest project file above the report's files, else the directory they share."""
        inside = [str(p.parent) for p in known if p.is_relative_to(self.base)]
        start = Path(os.path.commonpath(inside)) if inside else Path.cwd().resolve()
        if not start.is_relative_to(self.base):
            start = self.base
        for directory in (start, *start.parents):
            for name in PROJECT_FILES:
                if (directory / name).is_file():
                    return directory / name, True
            if directory == self.base:
                break
        return start, False


def _result(finding: Finding, rule_index: int, places: _Places) -> dict[str, object]:
    text = finding.message if finding.fix is None else f"{finding.message}\nfix: {finding.fix}"
    result: dict[str, object] = {
        "ruleId": finding.check,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [_location(finding, places)],
    }
    properties: dict[str, object] = {}
    if finding.revision:
        properties["revision"] = finding.revision
    if finding.statement:
        properties["statement"] = finding.statement
    if finding.context:
        properties["context"] = [{"title": t, "body": b} for t, b in finding.context]
    if properties:
        result["properties"] = properties
    return result


def _location(finding: Finding, places: _Places) -> dict[str, object]:
    location = finding.location
    if location is None:
        path, is_file = places.fallback(finding)
        artifact = places.artifact(path, directory=not is_file)
        physical: dict[str, object] = {"artifactLocation": artifact}
        if is_file:
            physical["region"] = {"startLine": 1}
        return {"physicalLocation": physical}
    physical = {"artifactLocation": places.artifact(location.path)}
    if location.line is not None:
        region: dict[str, object] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        if location.end_line is not None and location.end_line >= location.line:
            region["endLine"] = location.end_line
            if location.end_column is not None:
                region["endColumn"] = location.end_column
        physical["region"] = region
    return {"physicalLocation": physical}


def render(report: Report, out: TextIO) -> None:
    json.dump(report_to_sarif(report), out, indent=2)
    out.write("\n")
