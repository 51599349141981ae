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

from migproof.sandbox import Sandbox, find_binaries

TESTS = Path(__file__).parent
PROJECTS = TESTS / "projects"
REPO = TESTS.parent


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
