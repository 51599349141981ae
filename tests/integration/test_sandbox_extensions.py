"""A migration needing an extension the sandbox lacks gets a message that says what to do."""

from __future__ import annotations

import psycopg
import pytest

from migproof.errors import DatabaseError, SandboxError
from migproof.sandbox import Sandbox, ScratchServer, system_binaries
from migproof.sandbox.binaries import system_sharedir
from migproof.sandbox.extensions import explain_missing_extension, has_extension, missing_extension

# PostgreSQL 13 and 14 say this instead of "is not available"
_PG13_MESSAGE = (
    'could not open extension control file "/usr/share/postgresql/13/extension/uuid-ossp.control"'
    ": No such file or directory"
)


def _error_of(conn: psycopg.Connection[tuple[object, ...]], statement: str) -> str:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(statement)
    return str(caught.value)


def _first_missing(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    """An extension these binaries lack: pgcrypto for the wheel; something for any server."""
    for name in ("pgcrypto", "postgis", "migproof_no_such_extension"):
        if not _available(conn, name):
            return name
    raise AssertionError("unreachable: the last name exists nowhere")


def _available(conn: psycopg.Connection[tuple[object, ...]], name: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", (name,))
    return row.fetchone() is not None


def test_missing_extension_names_it_and_the_fix(pg: Sandbox, conn) -> None:
    name = _first_missing(conn)
    message = _error_of(conn, f'CREATE EXTENSION "{name}"')
    error = explain_missing_extension(message, pg)
    assert isinstance(error, SandboxError)
    assert f"lacks the PostgreSQL extension {name}" in error.what
    assert f"PostgreSQL {pg.binaries.version}" in error.what
    assert str(pg.binaries.bindir) in error.what
    assert error.fix is not None
    assert error.fix.startswith("rerun with")
    assert "--pg-bin" in error.fix
    system, sharedir = system_binaries(), system_sharedir()
    if (
        system is not None
        and sharedir is not None
        and has_extension(sharedir, name)
        and system.bindir != pg.binaries.bindir
    ):
        assert f"--pg-bin {system.bindir} (PostgreSQL {system.version}" in error.fix
    else:
        assert "--pg-bin DIR" in error.fix


def test_pgcrypto_on_the_wheel_points_at_the_system_server(conn) -> None:
    """The wheel lacks pgcrypto; a system PostgreSQL with contrib has it."""
    if _available(conn, "pgcrypto"):
        pytest.skip("these binaries have pgcrypto (MIGPROOF_TEST_PG_BIN at a full server)")
    system, sharedir = system_binaries(), system_sharedir()
    if system is None or sharedir is None or not has_extension(sharedir, "pgcrypto"):
        pytest.skip("pg_config finds no PostgreSQL with pgcrypto on this machine")
    with Sandbox() as wheel, wheel.database() as db, wheel.connect(db) as wheel_conn:
        message = _error_of(wheel_conn, "CREATE EXTENSION pgcrypto")
        error = explain_missing_extension(message, wheel)
    assert error is not None
    assert error.fix == (
        f"rerun with --pg-bin {system.bindir} (PostgreSQL {system.version}, found by pg_config, "
        "has pgcrypto)"
    )
    with Sandbox(system) as full, full.database() as db, full.connect(db) as full_conn:
        full_conn.execute("CREATE EXTENSION pgcrypto")  # the fix works


def test_on_an_existing_server_the_fix_is_to_install_it_there(pg: Sandbox, conn) -> None:
    name = _first_missing(conn)
    message = _error_of(conn, f'CREATE EXTENSION "{name}"')
    with ScratchServer(pg.url) as server:
        error = explain_missing_extension(message, server)
    assert isinstance(error, DatabaseError)
    assert error.what == f"the server at {pg.url} lacks the PostgreSQL extension {name}"
    assert error.fix is not None
    assert error.fix.startswith(f"install {name} on that server")


def test_other_errors_are_not_about_extensions(pg: Sandbox, conn) -> None:
    message = _error_of(conn, "SELECT * FROM no_such_table")
    assert explain_missing_extension(message, pg) is None


@pytest.mark.parametrize(
    ("message", "name"),
    [
        ('extension "pgcrypto" is not available', "pgcrypto"),
        (_PG13_MESSAGE, "uuid-ossp"),
        ('relation "orders" does not exist', None),
    ],
)
def test_missing_extension_recognises_both_wordings(message: str, name: str | None) -> None:
    assert missing_extension(message) == name
