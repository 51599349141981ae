"""Roles the diff cases grant to: roles belong to the cluster, so they are made once."""

from __future__ import annotations

import pytest
from psycopg import sql

from migproof.sandbox import Sandbox

ROLES = ("migproof_reader", "migproof_writer")


@pytest.fixture(scope="session")
def case_roles(pg: Sandbox) -> tuple[str, ...]:
    """Create the roles privileges and policies in tests/diff refer to."""
    with pg.connect() as conn:
        for role in ROLES:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    return ROLES
