"""Schema SQL files compared by their parsed statements (PostgreSQL's parser, via lint.pgsql).

Comments, whitespace, keyword case and quoting do not survive deparsing, so they compare
equal; data-only statements (INSERT, UPDATE, DELETE, COPY, SELECT, SET, transaction control)
are not schema. This module imports pglast only when a SQL file actually changed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from migproof.guard.models import SchemaDelta

__all__ = ["SqlStatement", "compare_sql", "schema_statements"]

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


def _label(text: str) -> str:
    first = text.split("\n", 1)[0]
    match = _LABEL_END.search(first)
    label = first[: match.start()] if match else first
    return label if len(label) <= 80 else label[:79] + "…"


def compare_sql(base: list[SqlStatement], head: list[SqlStatement]) -> list[SchemaDelta]:
    """Statements added, removed or changed (same label, different text) between versions."""
    unmatched = Counter(s.text for s in base) - Counter(s.text for s in head)
    unmatched_head = Counter(s.text for s in head) - Counter(s.text for s in base)
    removed = [s for s in base if _take(unmatched, s.text)]
    added = [s for s in head if _take(unmatched_head, s.text)]
    removed_labels = Counter(s.label for s in removed)
    deltas: list[SchemaDelta] = []
    for stmt in added:
        if removed_labels[stmt.label] > 0:
            removed_labels[stmt.label] -= 1
            deltas.append(SchemaDelta(f"{stmt.label}: changed", stmt.line))
        else:
            deltas.append(SchemaDelta(f"{stmt.label}: added", stmt.line))
    changed = Counter(s.label for s in removed) - removed_labels
    for stmt in removed:
        if changed[stmt.label] > 0:
            changed[stmt.label] -= 1
            continue
        deltas.append(SchemaDelta(f"{stmt.label}: removed", stmt.line, in_base=True))
    return deltas


def _take(counter: Counter[str], key: str) -> bool:
    if counter[key] > 0:
        counter[key] -= 1
        return True
    return False
