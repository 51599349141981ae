"""Alembic revision headers (parsed with ``ast``, never imported) and SQL migration file names."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

__all__ = [
    "Revision",
    "SqlMigrationName",
    "base_heads",
    "parse_revision",
    "parse_sql_migration_name",
]

# Everything a revision's header needs sits above its first function: parse only that part.
_FIRST_DEF = re.compile(r"^(?:async\s+def|def|class|@)", re.MULTILINE)
_HEADER_NAMES = frozenset({"revision", "down_revision", "branch_labels", "depends_on"})


@dataclass(frozen=True, slots=True)
class Revision:
    """An Alembic revision as its file declares it; ``line`` is that of ``down_revision``."""

    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]
    path: str
    line: int


def parse_revision(source: str, path: str, *, whole: bool = False) -> Revision | None:
    """The header of a revision file; None when it declares no ``revision``.

    Only the part above the first function is parsed unless ``whole`` (a new file, whose
    syntax errors are worth reporting). Raises SyntaxError when that is not valid Python.

    >>> parse_revision('revision = "b2"\\ndown_revision = "a1"\\n', "v/b2.py").down_revisions
    ('a1',)
    """
    match = None if whole else _FIRST_DEF.search(source)
    header = source[: match.start()] if match else source
    try:
        tree = ast.parse(header)
    except SyntaxError:
        tree = ast.parse(source)  # the cut fell inside a string: parse it all
    values: dict[str, tuple[tuple[str, ...], int]] = {}
    for stmt in tree.body:
        target, value = _assignment(stmt)
        if target in _HEADER_NAMES and value is not None:
            values[target] = (_strings(value), stmt.lineno)
    found = values.get("revision")
    if (not found or not found[0]) and match is not None:  # declared below a class or def
        return parse_revision(source, path, whole=True)
    if not found or not found[0]:
        return None
    down, down_line = values.get("down_revision", ((), found[1]))
    return Revision(
        revision=found[0][0],
        down_revisions=down,
        branch_labels=values.get("branch_labels", ((), 0))[0],
        path=path,
        line=down_line,
    )


def base_heads(revisions: list[Revision]) -> list[Revision]:
    """Revisions no other revision names as its ``down_revision``."""
    parents = {d for r in revisions for d in r.down_revisions}
    return [r for r in revisions if r.revision not in parents]


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


def _strings(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return tuple(
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        )
    return ()


@dataclass(frozen=True, slots=True)
class SqlMigrationName:
    """What a plain-SQL migration's file name says: its version, and whether it is repeatable."""

    version: tuple[int, ...]
    version_text: str
    description: str
    repeatable: bool = False


def parse_sql_migration_name(name: str) -> SqlMigrationName | None:
    """golang-migrate ``N_name.up.sql``, Flyway ``V1_2__name.sql`` / ``R__name.sql``, dbmate and
    goose ``N_name.sql``, read as ``migrate`` reads them (``V1.0`` is version ``1``); None when
    the name follows none of them.

    >>> parse_sql_migration_name("V1_2__add_users.sql").version
    (1, 2)
    """
    if not name.endswith(".sql"):
        return None
    # Deferred: the sqlmigrate package imports psycopg, which guard never needs otherwise.
    from migproof.sqlmigrate.layout import parse_file_name, version_key

    parsed = parse_file_name(name)
    if parsed is None:
        return None
    version, description = parsed
    if version is None:
        return SqlMigrationName((), "", description, repeatable=True)
    return SqlMigrationName(version_key(version), version, description)
