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
from migproof.sandbox import Sandbox

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


REWRITES = {
    "MP301": "users",
    "MP302": "users",
    "MP303": "items",
    "MP304": "events",
    "MP305": "orders",
}
ROW = {
    "users": "INSERT INTO users (id) VALUES (1)",
    "items": "INSERT INTO items (id) VALUES (1)",
    "events": "INSERT INTO events (name) VALUES ('x')",
    "orders": "INSERT INTO orders (id, customer_id) VALUES (1, 1)",
    "import_rows": "INSERT INTO import_rows (id) VALUES (1)",
}


def _relfilenode(conn: psycopg.Connection[tuple[object, ...]], table: str) -> object:
    row = conn.execute(b"SELECT relfilenode FROM pg_class WHERE oid = %s::regclass", [table])
    return row.fetchone()


def _rewrites(pg: Sandbox, setup: str | None, migration: str, table: str) -> bool:
    with pg.database() as name, pg.connect(name) as conn:
        _run(conn, setup)
        conn.execute(ROW[table].encode())
        before = _relfilenode(conn, table)
        _run(conn, migration)
        return _relfilenode(conn, table) != before


@pytest.mark.parametrize(("code", "table"), sorted(REWRITES.items()))
def test_rewrite_rules_match_what_postgresql_does(code: str, table: str, pg: Sandbox) -> None:
    """The bad example really rewrites the table (with a row in it); the good one does not."""
    case = load_case(code)
    assert case is not None
    assert _rewrites(pg, case.setup, case.bad, table), "the bad example did not rewrite"
    assert not _rewrites(pg, case.setup, case.good, table), "the good example rewrote"
