"""``--database-url``: scratch databases on an existing server, and nothing else touched.

The session's sandbox plays the existing server: it is a real PostgreSQL with databases and
roles of its own, reached by a URL exactly as a user's CI server would be.
"""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from migproof.errors import DatabaseError
from migproof.sandbox import SCRATCH_PREFIX, Sandbox, ScratchServer


def _databases(pg: Sandbox) -> set[str]:
    with pg.connect() as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}


@pytest.fixture
def bystander(pg: Sandbox) -> Iterator[str]:
    """A database of somebody else on the server, with a row in it."""
    name = f"app_{secrets.token_hex(4)}"
    with pg.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with pg.connect(name) as conn:
        conn.execute("CREATE TABLE keep (id int)")
        conn.execute("INSERT INTO keep VALUES (7)")
    yield name
    with pg.connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def role_url(pg: Sandbox) -> Iterator[tuple[str, str]]:
    """A login role without CREATEDB, and the URL that connects as it (trust auth)."""
    role = f"lowly_{secrets.token_hex(4)}"
    with pg.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB").format(sql.Identifier(role)))
    host = urllib.parse.quote(str(pg.directory), safe="")
    yield role, f"postgresql://{role}:s3cret@/postgres?host={host}"
    with pg.connect() as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_scratch_databases_are_prefixed_cloned_and_all_dropped(pg: Sandbox, bystander: str) -> None:
    before = _databases(pg)
    with ScratchServer(pg.url) as server:
        base = server.create_database()
        with server.connect(base) as conn:
            conn.execute("CREATE TABLE t (id int)")
            conn.execute("INSERT INTO t VALUES (1)")
        clone = server.create_database(template=base)
        with server.connect(clone) as conn:
            assert conn.execute("SELECT id FROM t").fetchall() == [(1,)]
        with server.database(template=base) as scoped:
            assert scoped.startswith(SCRATCH_PREFIX)
        assert scoped not in _databases(pg)
        assert {base, clone} <= _databases(pg)
        assert all(name.startswith(SCRATCH_PREFIX) for name in (base, clone, scoped))
        assert set(server.created) == {base, clone}
    after = _databases(pg)
    assert after == before
    with pg.connect(bystander) as conn:
        assert conn.execute("SELECT id FROM keep").fetchall() == [(7,)]


def test_scratch_server_refuses_what_it_did_not_create(pg: Sandbox, bystander: str) -> None:
    with ScratchServer(pg.url) as server:
        with pytest.raises(DatabaseError, match="did not create"):
            server.drop_database(bystander)
        with pytest.raises(DatabaseError, match="did not create"):
            server.drop_database("postgres")
        with pytest.raises(DatabaseError, match="did not create"):
            server.create_database(template=bystander)
        with pytest.raises(DatabaseError, match=f"must start with '{SCRATCH_PREFIX}'"):
            server.create_database(name="app_copy")
    assert bystander in _databases(pg)


def test_scratch_server_does_not_drop_a_look_alike_of_another_run(pg: Sandbox) -> None:
    """A migproof_ database of another run (a parallel CI job) is not ours: left alone."""
    other = f"{SCRATCH_PREFIX}other_{secrets.token_hex(4)}"
    with pg.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(other)))
    try:
        with ScratchServer(pg.url) as server:
            server.create_database()
            with pytest.raises(DatabaseError, match="did not create"):
                server.drop_database(other)
        assert other in _databases(pg)
    finally:
        with pg.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(other)))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://app:s3cret@127.0.0.1:1/app", "port 1 failed: Connection refused"),
        (
            "postgresql://app:s3cret@/app?host=/nonexistent-migproof",
            'socket "/nonexistent-migproof/.s.PGSQL.5432" failed: No such file or directory',
        ),
    ],
    ids=["refused", "no socket"],
)
def test_unreachable_url_is_a_database_error_with_masked_password(url: str, reason: str) -> None:
    with pytest.raises(DatabaseError) as caught:
        ScratchServer(url)
    error = caught.value
    assert "s3cret" not in str(error)
    assert error.what.startswith("cannot connect to postgresql://app:***@")
    assert error.what.endswith(f"{reason})")
    assert "Is the server running" not in error.what  # libpq's second line is noise here
    assert error.fix is not None
    assert "--database-url" in error.fix


def test_unknown_role_says_to_check_credentials(pg: Sandbox) -> None:
    host = urllib.parse.quote(str(pg.directory), safe="")
    with pytest.raises(DatabaseError) as caught:
        ScratchServer(f"postgresql://nosuchrole:pw@/postgres?host={host}")
    assert 'role "nosuchrole" does not exist' in caught.value.what
    assert caught.value.fix == "check the user name and password in the URL"


def test_role_without_createdb_is_refused_with_the_grant_to_run(
    role_url: tuple[str, str],
) -> None:
    role, url = role_url
    with pytest.raises(DatabaseError) as caught:
        ScratchServer(url)
    error = caught.value
    assert error.what.startswith(f"role {role} of postgresql://{role}:***@")
    assert "may not create databases" in error.what
    assert error.fix is not None
    assert f'ALTER ROLE "{role}" CREATEDB' in error.fix
    assert "s3cret" not in str(error)


def test_createdb_revoked_after_connecting_is_the_same_error(
    pg: Sandbox, role_url: tuple[str, str]
) -> None:
    role, url = role_url
    with pg.connect() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} CREATEDB").format(sql.Identifier(role)))
    with ScratchServer(url) as server:
        with pg.connect() as conn:
            conn.execute(sql.SQL("ALTER ROLE {} NOCREATEDB").format(sql.Identifier(role)))
        with pytest.raises(DatabaseError) as caught:
            server.create_database()
        assert "permission denied to create database" in caught.value.what
        assert caught.value.fix is not None
        assert f'ALTER ROLE "{role}" CREATEDB' in caught.value.fix
        assert server.created == ()


def test_conninfo_string_works_like_a_url(pg: Sandbox) -> None:
    conninfo = psycopg.conninfo.make_conninfo(host=str(pg.directory), user="postgres")
    with ScratchServer(conninfo) as server, server.database() as name, server.connect(name) as c:
        assert c.execute("SELECT current_database()").fetchone() == (name,)
