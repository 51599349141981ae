"""Shared fixtures: one sandbox cluster per session, a fresh database per test.

Set ``MIGPROOF_TEST_PG_BIN`` to run the integration tests against other server binaries,
e.g. ``MIGPROOF_TEST_PG_BIN=$(pg_config --bindir) pytest`` for a system PostgreSQL 15.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from migproof.sandbox import Sandbox, find_binaries

TESTS = Path(__file__).parent
PROJECTS = TESTS / "projects"
REPO = TESTS.parent
# Every incremental snapshot of a verify walk is compared with a full read (catalog/watch.py).
os.environ.setdefault("MIGPROOF_CHECK_WATCH", "1")
# A verify worker process that crashes fails the test instead of being walked again quietly.
os.environ.setdefault("MIGPROOF_CHECK_WORKERS", "1")
ROLES = ("migproof_reader", "migproof_writer")


@pytest.fixture(scope="session")
def pg() -> Iterator[Sandbox]:
    """The session's sandbox cluster (embedded PostgreSQL 18 unless MIGPROOF_TEST_PG_BIN)."""
    pg_bin = os.environ.get("MIGPROOF_TEST_PG_BIN") or None
    with Sandbox(find_binaries(pg_bin, origin="MIGPROOF_TEST_PG_BIN")) as sandbox:
        yield sandbox


@pytest.fixture
def db(pg: Sandbox) -> Iterator[str]:
    """A fresh, empty database on the session's sandbox; dropped after the test."""
    with pg.database() as name:
        yield name


@pytest.fixture
def conn(pg: Sandbox, db: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection to the test's fresh database."""
    with pg.connect(db) as connection:
        yield connection


@pytest.fixture(scope="session")
def case_roles(pg: Sandbox) -> tuple[str, ...]:
    """Create the roles privileges and policies in tests/diff refer to (once: roles belong
    to the cluster)."""
    with pg.connect() as conn:
        for role in ROLES:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    return ROLES
