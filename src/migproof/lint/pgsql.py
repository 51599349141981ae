"""PostgreSQL's own parser (pglast), wrapped: the only module in migproof that imports pglast.

pglast ships no type information, so everything the rest of migproof needs from it goes
through the typed functions here: ``parse_statements`` (statements with their real start
line and column), ``deparse``, and the node classes as ``ast`` / ``enums``.
pglast's node fields follow the PostgreSQL parser of its major version: pin the major.
"""

from __future__ import annotations

import bisect
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pglast import ast, enums  # re-exported for rules: ast.IndexStmt, enums.AlterTableType
from pglast import parser as _parser

__all__ = [
    "PARSER_MAJOR",
    "Deferred",
    "SqlSyntaxError",
    "Statement",
    "ast",
    "child_slots",
    "comments",
    "deparse",
    "enums",
    "identifiers",
    "iter_nodes",
    "line_and_column",
    "parse_migration",
    "parse_nodes",
    "parse_statements",
    "unvalidated_nodes",
    "without_comments",
]

# The PostgreSQL major version whose grammar pglast's parser is: newer syntax is unknown to it
PARSER_MAJOR: int = _parser.get_postgresql_version()[0]
_COMMENT_TOKENS = frozenset({"SQL_COMMENT", "C_COMMENT"})
_VALIDATING_SETATTR = ast.Node.__setattr__
# The C parser hands Boolean.boolval over as 0 or 1; pglast's validation makes it a bool.
# TRUE/FALSE constants are rare: they keep it when unvalidated_nodes() skips it for the rest.
ast.Boolean.__setattr__ = _VALIDATING_SETATTR  # type: ignore[method-assign]
_NEWLINE = re.compile("\n")
# Whitespace and comments before a statement's first token (block comments may nest:
# those, rare, go through the scanner instead).
_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*(?:(?!/\*|\*/).)*\*/)*", re.DOTALL)


class SqlSyntaxError(Exception):
    """PostgreSQL's parser rejected the text; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, offset: int, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Statement:
    """One parsed statement: the node, its source text and where it starts (1-based)."""

    node: Any  # a pglast.ast.Node subclass; typed loosely because pglast has no stubs
    text: str
    offset: int
    line: int
    column: int
    end_line: int


class _Lines:
    def __init__(self, text: str) -> None:
        self.starts = [0]  # the offset each line begins at
        self.starts.extend(m.end() for m in _NEWLINE.finditer(text))

    def locate(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    return _Lines(text).locate(offset)


def _syntax_error(sql: str, exc: Exception) -> SqlSyntaxError:
    """pglast's ParseError (message, character offset) as a SqlSyntaxError with its place."""
    message, offset = exc.args[0], int(exc.args[1]) if len(exc.args) > 1 else 0
    line, column = line_and_column(sql, offset)
    return SqlSyntaxError(str(message), offset, line, column)


_unvalidated_depth = 0


@contextlib.contextmanager
def unvalidated_nodes() -> Iterator[None]:
    """Build pglast nodes without re-validating each attribute: three times faster.

    pglast's parser builds every node through ``Node.__setattr__``, which re-checks and
    coerces each value the C parser already typed; skipping it gives identical trees
    (tests/unit/lint/test_lint_pgsql.py). Swapping the method invalidates Python's type
    caches for every node class, which costs more than parsing a small file, so callers
    that parse many scripts hold this once around all of them (``lint_sources`` does).
    """
    global _unvalidated_depth  # noqa: PLW0603 - one switch for the process, nested safely
    node_class = ast.Node
    if _unvalidated_depth == 0:
        node_class.__setattr__ = object.__setattr__  # type: ignore[method-assign,assignment]
    _unvalidated_depth += 1
    try:
        yield
    finally:
        _unvalidated_depth -= 1
        if _unvalidated_depth == 0:
            node_class.__setattr__ = _VALIDATING_SETATTR  # type: ignore[method-assign]


def _parse_unvalidated(sql: str) -> Any:
    with unvalidated_nodes():
        return _parser.parse_sql(sql)


def parse_nodes(sql: str) -> list[Any]:
    """The statements' nodes only, for callers that need no positions or text.

    A syntax error raises ``SqlSyntaxError`` as ``parse_statements`` does.
    """
    try:
        return [stmt.stmt for stmt in _parse_unvalidated(sql)]
    except _parser.ParseError as exc:
        raise _syntax_error(sql, exc) from exc


def parse_statements(sql: str) -> list[Statement]:
    """Parse a script into statements; a syntax error raises ``SqlSyntaxError``.

    pglast reports character offsets, not bytes. A statement's position is that of its
    first token, not ``stmt_location``, which in older parsers includes the whitespace and
    comments before it.
    """
    lines = _Lines(sql)
    try:
        raw = _parse_unvalidated(sql)
    except _parser.ParseError as exc:
        raise _syntax_error(sql, exc) from exc
    token_starts: list[int] | None = None
    statements: list[Statement] = []
    starts, after = lines.starts, bisect.bisect_right  # locals: this loop runs per statement
    leading, size = _LEADING.match, len(sql)
    for stmt in raw:
        begin = stmt.stmt_location or 0
        length = stmt.stmt_len
        end = begin + length if length else size
        start = leading(sql, begin).end()  # type: ignore[union-attr]
        if sql.startswith("/*", start):  # a nested block comment: ask the scanner
            if token_starts is None:
                token_starts = [t.start for t in _parser.scan(sql) if t.name not in _COMMENT_TOKENS]
            index = bisect.bisect_left(token_starts, begin)
            start = token_starts[index] if index < len(token_starts) else begin
        line = after(starts, start)  # 1-based: starts[line - 1] is where the line begins
        last = end - 1 if end - 1 > start else start
        end_line = after(starts, last, line - 1)
        text = sql[start:end].strip()
        statements.append(
            Statement(stmt.stmt, text, start, line, start - starts[line - 1] + 1, end_line)
        )
    return statements


# Data statements: their trees (VALUES lists, queries) are the bulk of a seed migration's nodes
# and few rules look at them, so parse_migration builds them only on demand.
_DATA_STATEMENT = re.compile(r"(?:INSERT|UPDATE|DELETE|SELECT|WITH|VALUES|TABLE)\b", re.IGNORECASE)


_BLANK = re.compile(r"[^\n]")


@dataclass(frozen=True, slots=True)
class Deferred:
    """The node of a data statement that was checked for syntax but not built yet.

    Locations inside the node ``parse`` builds are offsets into the statement's text.
    """

    text: str

    def parse(self) -> Any:
        """Build the statement's node (a pglast ``InsertStmt``, ``UpdateStmt``, ...)."""
        return _parse_unvalidated(self.text)[0].stmt


def parse_migration(sql: str) -> list[Statement]:
    """Like ``parse_statements``, but data statements get a ``Deferred`` node.

    PostgreSQL's parser still reads the whole script (syntax errors and statement bounds
    are exact); only the Python trees of INSERT/UPDATE/DELETE/SELECT are left unbuilt.
    """
    lines = _Lines(sql)
    try:
        slices = _parser.split(sql, with_parser=True, only_slices=True)
    except _parser.ParseError as exc:
        raise _syntax_error(sql, exc) from exc
    deferred = [part for part in slices if _DATA_STATEMENT.match(sql, part.start)]
    deferred_starts = {part.start for part in deferred}
    eager = [part for part in slices if part.start not in deferred_starts]
    nodes: dict[int, Any] = {}
    if eager:
        # Blank the data statements out (same length, newlines kept): the other nodes'
        # locations stay offsets into ``sql``.
        pieces, done = [], 0
        for part in deferred:
            pieces.append(sql[done : part.start])
            pieces.append(_BLANK.sub(" ", sql[part]))
            done = part.stop
        pieces.append(sql[done:])
        for part, raw in zip(eager, _parse_unvalidated("".join(pieces)), strict=True):
            nodes[part.start] = raw.stmt
    statements: list[Statement] = []
    for part in slices:
        text = sql[part]
        line, column = lines.locate(part.start)
        end_line, _ = lines.locate(max(part.start, part.stop - 1))
        node = nodes.get(part.start) or Deferred(text)
        statements.append(Statement(node, text.strip(), part.start, line, column, end_line))
    return statements


def deparse(node: Any) -> str:
    """The node back as SQL, normalised by pglast's printer."""
    from pglast.stream import RawStream  # its printers cost start-up that linting never needs

    return str(RawStream()(node))


def comments(sql: str) -> list[tuple[str, int, int]]:
    """Every comment of a script as (text, line, column), found by PostgreSQL's scanner."""
    lines = _Lines(sql)
    found: list[tuple[str, int, int]] = []
    for token in _parser.scan(sql):
        if token.name in _COMMENT_TOKENS:
            line, column = lines.locate(token.start)
            found.append((sql[token.start : token.end + 1], line, column))
    return found


def without_comments(sql: str) -> str:
    """``sql`` with its comments cut out (PostgreSQL's scanner finds them: a ``--`` in a
    string stays), for showing a statement on one line."""
    if "--" not in sql and "/*" not in sql:
        return sql
    try:
        cuts = [(t.start, t.end + 1) for t in _parser.scan(sql) if t.name in _COMMENT_TOKENS]
    except _parser.ParseError:  # pragma: no cover - the statement was parsed already
        return sql
    kept, at = [], 0
    for start, end in cuts:
        kept.append(sql[at:start])
        at = end
    kept.append(sql[at:])
    return " ".join(kept)


_CHILD_SLOTS: dict[type, tuple[str, ...]] = {}


def child_slots(cls: type) -> tuple[str, ...]:
    """The fields of a node class that may hold other nodes (for a fast tree walk)."""
    slots = _CHILD_SLOTS.get(cls)
    if slots is None:
        declared = getattr(cls, "__slots__", {})
        slots = tuple(
            name
            for name, info in (declared.items() if isinstance(declared, dict) else ())
            if getattr(info, "c_type", "").endswith("*") and info.c_type != "char*"
        )
        _CHILD_SLOTS[cls] = slots
    return slots


def iter_nodes(node: Any) -> Iterator[Any]:
    """Every pglast node under ``node`` (itself included), depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, tuple | list):
            stack.extend(reversed(current))
        elif isinstance(current, ast.Node):
            yield current
            stack.extend(
                value
                for value in (getattr(current, slot, None) for slot in child_slots(type(current)))
                if isinstance(value, ast.Node | tuple | list)
            )


def _may_name_longer(sql: str, limit: int) -> bool:
    """False when no identifier of ``sql`` can be longer than ``limit`` bytes (UTF-8).

    An identifier lies inside one whitespace-separated word, or between two double quotes
    (unless it has an escaped ``""``); a character is at most 4 bytes. A cheap filter: the
    scanner checks what passes it.
    """
    chars = limit + 1 if sql.isascii() else limit // 4 + 1
    if len(sql) < chars:
        return False
    if max(map(len, sql.split()), default=0) >= chars:
        return True
    if '"' not in sql:
        return False
    return '""' in sql or max(map(len, sql.split('"'))) >= chars


def identifiers(sql: str, *, longer_than: int = 0) -> list[str]:
    """Identifier tokens of a statement as written (quotes removed, never truncated).

    The parser truncates identifiers to 63 bytes, so their real length is only in the text.
    ``longer_than=63`` returns only the long ones, skipping the scan when none can be.
    """
    if longer_than and not _may_name_longer(sql, longer_than):
        return []
    found: list[str] = []
    for token in _parser.scan(sql):
        if token.name == "IDENT":
            text = sql[token.start : token.end + 1]
            if text.startswith('"') and text.endswith('"'):
                text = text[1:-1].replace('""', '"')
            if len(text.encode("utf-8")) > longer_than:
                found.append(text)
    return found
