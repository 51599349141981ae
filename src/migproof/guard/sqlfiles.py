"""Schema SQL files compared by their parsed statements (PostgreSQL's parser, via lint.pgsql).

Comments, whitespace, keyword case and quoting do not survive deparsing, so they compare
equal; data-only statements (INSERT, UPDATE, DELETE, COPY, SELECT, SET, transaction control)
are not schema. This module imports pglast only when a SQL file actually changed.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass

from migproof.guard.models import DeltaKind, SchemaDelta

__all__ = ["SqlStatement", "compare_sql", "python_sql_statements", "schema_statements"]

_NOT_SCHEMA = frozenset(
    {
        "InsertStmt",
        "UpdateStmt",
        "DeleteStmt",
        "MergeStmt",
        "SelectStmt",
        "CopyStmt",
        "TruncateStmt",
        "TransactionStmt",
        "VariableSetStmt",
        "VariableShowStmt",
        "ExplainStmt",
        "LockStmt",
        "NotifyStmt",
        "ListenStmt",
        "UnlistenStmt",
        "CheckPointStmt",
        "VacuumStmt",
        "ClusterStmt",
        "ReindexStmt",
        "DiscardStmt",
        "PrepareStmt",
        "ExecuteStmt",
        "DeallocateStmt",
    }
)
_LABEL_END = re.compile(r"\s*\(|\s+AS\s|$")


@dataclass(frozen=True, slots=True)
class SqlStatement:
    """A schema statement: a short label (``CREATE TABLE users``), canonical text, its line."""

    label: str
    text: str
    line: int


def schema_statements(sql: str) -> list[SqlStatement]:
    """The schema statements of a script; raises ``SqlSyntaxError`` on invalid SQL."""
    from migproof.lint.pgsql import deparse, parse_statements

    statements: list[SqlStatement] = []
    for stmt in parse_statements(sql):
        if type(stmt.node).__name__ in _NOT_SCHEMA:
            continue
        try:
            text = deparse(stmt.node)
        except Exception:
            text = " ".join(stmt.text.split())
        statements.append(SqlStatement(_label(text), text, stmt.line))
    return statements


def python_sql_statements(source: str) -> list[SqlStatement]:
    """Schema statements in a Python module's string literals (a SQLite-track schema.py or
    migration list); strings that are not SQL, and f-strings, are left out.

    Raises SyntaxError when the module is not valid Python.
    """
    from migproof.lint.pgsql import SqlSyntaxError

    tree = ast.parse(source)
    in_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    statements: list[SqlStatement] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in in_fstrings or len(node.value) < 8:
            continue
        try:
            found = schema_statements(node.value)
        except SqlSyntaxError:
            continue
        statements.extend(SqlStatement(s.label, s.text, node.lineno + s.line - 1) for s in found)
    statements.sort(key=lambda s: s.line)
    return statements


def _label(text: str) -> str:
    first = text.split("\n", 1)[0]
    match = _LABEL_END.search(first)
    label = first[: match.start()] if match else first
    return label if len(label) <= 80 else label[:79] + "…"


def compare_sql(base: list[SqlStatement], head: list[SqlStatement]) -> list[SchemaDelta]:
    """Statements added, removed or changed (same label, other text) between two versions.

    Statements compare as sets: moving a statement, or repeating one that is already there
    (a refactored runner re-emitting the same DDL), declares nothing new.
    """
    base_texts = {s.text for s in base}
    head_texts = {s.text for s in head}
    removed = _first_of_each([s for s in base if s.text not in head_texts])
    added = _first_of_each([s for s in head if s.text not in base_texts])
    removed_labels = Counter(s.label for s in removed)
    deltas: list[SchemaDelta] = []
    for stmt in added:
        if removed_labels[stmt.label] > 0:
            removed_labels[stmt.label] -= 1
            deltas.append(SchemaDelta(stmt.label, DeltaKind.CHANGED, stmt.line))
        else:
            deltas.append(SchemaDelta(stmt.label, DeltaKind.ADDED, stmt.line))
    paired = Counter(s.label for s in removed) - removed_labels
    for stmt in removed:
        if paired[stmt.label] > 0:
            paired[stmt.label] -= 1
            continue
        deltas.append(SchemaDelta(stmt.label, DeltaKind.REMOVED, stmt.line, in_base=True))
    return deltas


def _first_of_each(statements: list[SqlStatement]) -> list[SqlStatement]:
    seen: set[str] = set()
    unique: list[SqlStatement] = []
    for stmt in statements:
        if stmt.text not in seen:
            seen.add(stmt.text)
            unique.append(stmt)
    return unique
