"""Inline suppressions (lint and verify): ``-- migproof: ignore MP201 -- reason`` above a statement.

Forms (codes, names and squawk's names are all accepted, separated by commas or spaces):

- ``-- migproof: ignore MP201 -- orders is empty at deploy`` on the line(s) above a
  statement, or at the end of its last line: that statement only;
- ``-- migproof: ignore-file MP601 -- reason`` anywhere: the whole file;
- ``# migproof: ignore MP505 -- reason`` on a revision's Python line or the comment lines
  just above it;
- squawk's ``-- squawk-ignore rule`` and ``-- squawk-ignore-file [rule]``, so teams moving
  from squawk keep their comments (rules squawk has and migproof does not are skipped).

A suppression naming an unknown rule (MP902) or matching no finding (MP903) is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PythonSuppressions",
    "Suppression",
    "parse_python_suppressions",
    "parse_sql_suppressions",
    "read_python_suppressions",
]

_SQL = re.compile(
    r"^\s*(?:--|/\*)\s*(?P<tool>migproof:|squawk-)\s*(?P<kind>ignore-file|ignore)\b"
    r"(?P<codes>[^\n]*?)(?:\s+--\s*(?P<reason>.*?))?\s*(?:\*/)?\s*$"
)
_PY = re.compile(
    r"#\s*migproof:\s*(?P<kind>ignore-file|ignore)\b(?P<codes>[^#\n]*?)"
    r"(?:\s+--\s*(?P<reason>.*?))?\s*$"
)
_SPLIT = re.compile(r"[\s,]+")


@dataclass(slots=True)
class Suppression:
    """One suppression comment; ``line`` is where the comment is (1-based)."""

    codes: tuple[str, ...]  # as written
    line: int
    column: int
    file_level: bool
    from_squawk: bool = False
    reason: str | None = None
    statement_line: int | None = None  # the first line of the statement it applies to
    used: set[str] = field(default_factory=set)  # resolved codes that suppressed something

    def covers(self, code: str) -> bool:
        """Whether this suppression names check ``code`` (by code, name or squawk name)."""
        from migproof.checks import find_check

        if self.from_squawk and not self.codes:
            return True
        for name in self.codes:
            info = find_check(name)
            if info is not None and info.code == code:
                return True
        return False


def _parse(comment: str, line: int, column: int) -> Suppression | None:
    match = _SQL.match(comment)
    if match is None:
        return None
    codes = tuple(c for c in _SPLIT.split(match["codes"].strip()) if c)
    return Suppression(
        codes=codes,
        line=line,
        column=column,
        file_level=match["kind"] == "ignore-file",
        from_squawk=match["tool"] == "squawk-",
        reason=match["reason"] or None,
    )


def parse_sql_suppressions(comments: list[tuple[str, int, int]]) -> list[Suppression]:
    """Suppressions among SQL comments given as (text, line, column)."""
    found: list[Suppression] = []
    for text, line, column in comments:
        for offset, part in enumerate(text.splitlines()):
            suppression = _parse(part, line + offset, column if offset == 0 else 1)
            if suppression is not None:
                found.append(suppression)
    return found


def parse_python_suppressions(lines: list[str]) -> dict[int, list[Suppression]]:
    """``# migproof: ignore`` comments of a Python file by the line of code they cover.

    A comment at the end of a line covers that line; comment-only lines cover the next
    line of code below them.
    """
    covered: dict[int, list[Suppression]] = {}
    pending: list[Suppression] = []
    for number, text in enumerate(lines, start=1):
        match = _PY.search(text)
        stripped = text.strip()
        suppression = None
        if match is not None:
            suppression = Suppression(
                codes=tuple(c for c in _SPLIT.split(match["codes"].strip()) if c),
                line=number,
                column=match.start() + 1,
                file_level=match["kind"] == "ignore-file",
                reason=match["reason"] or None,
            )
        if stripped.startswith("#"):
            if suppression is not None:
                pending.append(suppression)
            continue
        if not stripped:
            continue
        here = [*pending, *([suppression] if suppression else [])]
        for item in here:
            item.statement_line = number
        if here:
            covered.setdefault(number, []).extend(here)
        pending = []
    for item in pending:  # comments after the last line of code: file-level ones still count
        covered.setdefault(item.line, []).append(item)
    return covered


# A Python file's suppressions by the line of code each covers, and its file-level ones
PythonSuppressions = tuple[dict[int, list[Suppression]], list[Suppression]]


def read_python_suppressions(path: Path) -> PythonSuppressions:
    """A Python file's suppressions (by line covered, and the file-level ones); none when
    it cannot be read."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    covered = parse_python_suppressions(lines)
    return covered, [s for items in covered.values() for s in items if s.file_level]
