"""Severity, Location, Finding and Report: the one type every check produces."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CAUGHT_NOTE", "Finding", "Location", "Report", "Severity", "display_path"]

# How a "not checked" entry says an upgrade passed though statements of it failed (the
# revision caught them): verify writes it, the terminal report shortens a long run of them
CAUGHT_NOTE = "failed, and the revision caught the error"


def display_path(path: Path) -> str:
    """A path as the user typed it: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Severity(enum.Enum):
    """How bad a finding is; errors and warnings make the exit code 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """A place in a file; lines and columns are 1-based."""

    path: Path
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        text = display_path(self.path)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing wrong, with the user's own names, and how to make it right."""

    check: str
    severity: Severity
    message: str
    fix: str | None = None
    location: Location | None = None
    revision: str | None = None
    statement: str | None = None
    context: tuple[tuple[str, str], ...] = ()

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        path = str(self.location.path) if self.location else ""
        line = self.location.line or 0 if self.location else 0
        return (path, line, self.severity.rank, self.check, self.message)


@dataclass(slots=True)
class Report:
    """What a command found, plus the per-item records reporters may show.

    ``records`` holds command-specific rows (for verify: one per revision) as plain,
    JSON-serialisable dicts; ``skipped`` names what was not checked and why.
    """

    command: str
    findings: list[Finding] = field(default_factory=list)
    records: list[dict[str, object]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def has_failures(self) -> bool:
        """True when any finding is an error or a warning (exit code 1)."""
        return any(f.severity is not Severity.INFO for f in self.findings)

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: f.sort_key)
