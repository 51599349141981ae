"""Scratch databases on the sandbox: create, clone from a template, drop, refuse others."""

from __future__ import annotations

import psycopg
import pytest

from migproof.errors import DatabaseError
from migproof.sandbox import SCRATCH_PREFIX, Sandbox


def test_created_database_has_prefix_and_is_dropped(pg: Sandbox) -> None:
    name = pg.create_database()
    assert name.startswith(SCRATCH_PREFIX)
    with pg.connect() as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    pg.drop_database(name)
    with pg.connect() as conn:
        assert (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
        )
    assert name not in pg.created


def test_clone_from_template_copies_schema_and_rows(pg: Sandbox) -> None:
    with pg.database() as template:
        with pg.connect(template) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
            conn.execute("INSERT INTO t VALUES (1), (2)")
        # an open connection on the template must not stop the clone
        with (
            pg.connect(template) as _busy,
            pg.database(template=template) as clone,
            pg.connect(clone) as conn,
        ):
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_refuses_to_drop_a_database_it_did_not_create(pg: Sandbox) -> None:
    with pytest.raises(DatabaseError, match="did not create"):
        pg.drop_database("postgres")
    with pytest.raises(DatabaseError, match="did not create"):
        pg.create_database(template="template1")


def test_server_settings_are_private_and_not_durable(
    pg: Sandbox, conn: psycopg.Connection[tuple[object, ...]]
) -> None:
    rows = conn.execute(
        "SELECT name, setting FROM pg_settings WHERE name IN "
        "('fsync', 'full_page_writes', 'synchronous_commit', 'listen_addresses', "
        "'unix_socket_directories')"
    ).fetchall()
    settings = {row[0]: row[1] for row in rows}
    assert settings["fsync"] == "off"
    assert settings["full_page_writes"] == "off"
    assert settings["synchronous_commit"] == "off"
    assert settings["listen_addresses"] == ""
    assert settings["unix_socket_directories"] == str(pg.directory)
    assert conn.execute("SELECT inet_server_addr()").fetchone() == (None,)  # a Unix socket


def test_sqlalchemy_url_connects(pg: Sandbox, db: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg.sqlalchemy_url_for(db))
    try:
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("SELECT current_database()")).scalar() == db
    finally:
        engine.dispose()


def test_admin_session_is_kept_and_replaced_when_it_is_gone(pg: Sandbox) -> None:
    pids = [pg.on_admin(lambda conn: conn.info.backend_pid) for _ in range(2)]
    assert pids[0] == pids[1]  # one session for every create and drop
    with pg.connect() as other:  # a server-side timeout or a restart ends it
        other.execute("SELECT pg_terminate_backend(%s)", (pids[0],))
    name = pg.create_database()  # runs again on a new session
    try:
        assert pg.on_admin(lambda conn: conn.info.backend_pid) != pids[0]
    finally:
        pg.drop_database(name)
    assert name not in pg.created


def test_forked_child_opens_its_own_admin_session(pg: Sandbox) -> None:
    import os

    parent = pg.on_admin(lambda conn: conn.info.backend_pid)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            name = pg.create_database()
            child = pg.on_admin(lambda conn: conn.info.backend_pid)
            pg.drop_database(name)
            os.write(write, str(child).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = int(os.read(read, 32) or b"0")
    os.waitpid(pid, 0)
    assert child not in (0, parent)
    # the parent's session survived the child
    assert pg.on_admin(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone()) == (parent,)


def test_pg_message_is_the_primary_message_and_its_detail(
    conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    from migproof.sandbox.databases import pg_message

    conn.execute("CREATE TABLE u (a int UNIQUE)")
    conn.execute("INSERT INTO u VALUES (1)")
    with pytest.raises(psycopg.errors.UniqueViolation) as caught:
        conn.execute("INSERT INTO u VALUES (1)")
    assert pg_message(caught.value) == (
        'duplicate key value violates unique constraint "u_a_key" (Key (a)=(1) already exists.)'
    )
    # no diagnostics (a Python error, a driver's own): the first line of the text
    assert pg_message(ValueError("bad value\nmore")) == "bad value"
    assert pg_message(ValueError()) == "ValueError"
