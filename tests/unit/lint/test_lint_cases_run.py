"""Every good example really runs on PostgreSQL: setup, then the migration, then its downgrade.

Uses the session's sandbox (tests/conftest.py): the docs show these files as "Use instead",
so they must be valid SQL, not only parseable SQL.
"""

from __future__ import annotations

import psycopg
import pytest

from migproof.checks import all_checks
from migproof.lint.cases import load_case
from migproof.lint.pgsql import parse_statements

SQL_CODES = [
    c.code
    for c in all_checks()
    if c.family.startswith("lint:") and (case := load_case(c.code)) and not case.python
]


def _run(conn: psycopg.Connection[tuple[object, ...]], sql: str | None) -> None:
    for statement in parse_statements(sql or ""):
        conn.execute(statement.text.encode())  # bytes: no client-side placeholder parsing


@pytest.mark.parametrize("code", SQL_CODES)
def test_good_case_runs(code: str, conn: psycopg.Connection[tuple[object, ...]]) -> None:
    case = load_case(code)
    assert case is not None
    conn.execute(b"CREATE EXTENSION IF NOT EXISTS btree_gist")
    _run(conn, case.setup)
    _run(conn, case.good)
    _run(conn, case.good_down)
