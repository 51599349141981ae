"""The tracking table and the advisory lock against a real server: shape, lock wait, timeouts."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from migproof.config import Config, load_config
from migproof.errors import DatabaseError
from migproof.findings import Severity
from migproof.sandbox import Sandbox
from migproof.sqlmigrate import load_migrations, migrate, status
from migproof.sqlmigrate.tracker import Tracker, line_ending_change

Conn = psycopg.Connection[tuple[object, ...]]

FILES = {
    "1_a.up.sql": "CREATE TABLE a (id int);\n",
    "2_b.up.sql": "CREATE TABLE b (id int);\n",
}


def project(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    directory = tmp_path / "db"
    directory.mkdir()
    for name, text in (files or FILES).items():
        (directory / name).write_text(text)
    return directory


def config(tmp_path: Path, **overrides: object) -> Config:
    return load_config(tmp_path, overrides=overrides)


def table_names(conn: Conn) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {str(r[0]) for r in rows}


# ---- the tracking table's shape ----------------------------------------------------------------

GOLANG = "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)"


@pytest.mark.parametrize("command", ["migrate", "status"])
def test_a_tracker_table_of_golang_migrate_is_refused_naming_its_missing_columns(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn, command: str
) -> None:
    conn.execute(GOLANG)
    conn.execute("INSERT INTO schema_migrations VALUES (1, false)")
    d = project(tmp_path)
    cfg = config(tmp_path, **{"migrate.tracker-table": "schema_migrations"})
    run = migrate if command == "migrate" else status
    with pytest.raises(DatabaseError) as raised:
        run(cfg, d, pg.url_for(db))
    assert raised.value.what == (
        "the tracking table public.schema_migrations exists but is not migproof's: it lacks "
        "the columns name, checksum, applied_at, duration_ms (it has dirty, version); it looks "
        "like golang-migrate's own tracker"
    )
    fix = raised.value.fix or ""
    assert "tracker-table" in fix and '"migproof_migrations"' in fix
    assert 'legacy-table = "public.schema_migrations"' in fix and "privileges" not in fix
    assert table_names(conn) == {"schema_migrations"}  # nothing applied, nothing created
    assert conn.execute("SELECT * FROM schema_migrations").fetchall() == [(1, False)]


def test_the_tracker_fix_names_the_table_of_a_migproof_toml(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    conn.execute(GOLANG)
    (tmp_path / "migproof.toml").write_text('[migrate]\ntracker-table = "schema_migrations"\n')
    with pytest.raises(DatabaseError) as raised:
        status(config(tmp_path), project(tmp_path), pg.url_for(db))
    fix = raised.value.fix or ""
    assert fix.startswith("set tracker-table in [migrate] of migproof.toml (and tracker-schema)")


def test_a_tracker_table_of_no_known_tool_is_refused_without_a_legacy_hint(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    conn.execute("CREATE TABLE history (id int, version text)")
    conn.execute("ALTER TABLE history DROP COLUMN version")  # a dropped column is not there
    d = project(tmp_path)
    with pytest.raises(DatabaseError) as raised:
        migrate(config(tmp_path, **{"migrate.tracker-table": "history"}), d, pg.url_for(db))
    assert raised.value.what == (
        "the tracking table public.history exists but is not migproof's: it lacks the columns "
        "version, name, checksum, applied_at, duration_ms (it has id)"
    )
    assert "legacy-table" not in (raised.value.fix or "")


def test_an_existing_tracker_table_with_the_columns_is_used(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    # made by hand (or by an earlier migproof), with a column of the team's own: accepted
    conn.execute(
        "CREATE TABLE history (version text PRIMARY KEY, name text NOT NULL, checksum text,"
        " applied_at timestamptz NOT NULL DEFAULT now(), duration_ms double precision,"
        " deployed_by text)"
    )
    d = project(tmp_path)
    cfg = config(tmp_path, **{"migrate.tracker-table": "history"})
    assert migrate(cfg, d, pg.url_for(db)).findings == []
    assert conn.execute("SELECT version FROM history ORDER BY 1").fetchall() == [("1",), ("2",)]
    assert status(cfg, d, pg.url_for(db), check=True).findings == []


def test_golang_migrate_table_under_its_own_name_is_still_bootstrapped(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    # the fix the refusal gives: tracker-table left at its default, the old table as legacy
    conn.execute(GOLANG)
    conn.execute("INSERT INTO schema_migrations VALUES (1, false)")
    conn.execute("CREATE TABLE a (id int)")
    d = project(tmp_path)
    report = migrate(config(tmp_path), d, pg.url_for(db))
    assert [f.check for f in report.findings] == ["MP810"]
    assert [r["version"] for r in report.records] == ["2"]


# ---- the advisory lock's wait ------------------------------------------------------------------


@pytest.fixture
def other_deploy(pg: Sandbox, db: str) -> Iterator[Conn]:
    """Another deploy's session, holding the tracker's advisory lock on the test's database."""
    with psycopg.connect(pg.url_for(db), autocommit=True, application_name="other-deploy") as c:
        key = Tracker(c, "public", "migproof_migrations").lock_key
        c.execute("SELECT pg_advisory_lock(%s)", (key,))
        yield c


def test_a_statement_timeout_below_lock_wait_does_not_cut_the_wait_short(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn, other_deploy: Conn
) -> None:
    conn.execute(f"ALTER DATABASE {db} SET statement_timeout = '200ms'")
    d = project(tmp_path)
    with pytest.raises(DatabaseError) as raised:
        migrate(config(tmp_path, **{"migrate.lock-wait": 1}), d, pg.url_for(db))
    what = raised.value.what
    assert what.startswith(
        "another deploy holds the advisory lock on public.migproof_migrations (backend pid "
    )
    assert ", other-deploy, from a local socket, since " in what
    assert re.search(r"; waited \d+\.\d s \(lock-wait 1 s\)$", what), what
    assert "lock-wait" in (raised.value.fix or "")
    assert table_names(conn) == set()


def test_the_session_timeouts_are_back_once_the_lock_is_held(
    pg: Sandbox, db: str, conn: Conn
) -> None:
    conn.execute(f"ALTER DATABASE {db} SET statement_timeout = '200ms'")
    session = psycopg.connect(pg.url_for(db), autocommit=True)
    with session, Tracker(session, "public", "migproof_migrations").locked(5):
        settings = session.execute(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
        ).fetchone()
        assert settings == ("200ms", "0")
        with pytest.raises(psycopg.errors.QueryCanceled):
            session.execute("SELECT pg_sleep(1)")  # the database's own timeout applies


def test_a_free_lock_under_a_short_statement_timeout_migrates(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    conn.execute(f"ALTER DATABASE {db} SET statement_timeout = '200ms'")
    d = project(tmp_path)
    assert migrate(config(tmp_path, **{"migrate.lock-wait": 1}), d, pg.url_for(db)).findings == []
    assert table_names(conn) == {"a", "b", "migproof_migrations"}


def test_a_wait_cancelled_from_outside_says_so(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn, other_deploy: Conn
) -> None:
    d = project(tmp_path)

    def cancel_the_waiter() -> None:
        for _ in range(200):  # bounded: 10 s at most
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'migproof migrate'"
                " AND wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None:
                conn.execute("SELECT pg_cancel_backend(%s)", (row[0],))
                return
            time.sleep(0.05)

    canceller = threading.Thread(target=cancel_the_waiter)
    canceller.start()
    try:
        with pytest.raises(DatabaseError) as raised:
            migrate(config(tmp_path, **{"migrate.lock-wait": 30}), d, pg.url_for(db))
    finally:
        canceller.join()
    what = raised.value.what
    assert what.startswith("the wait for the advisory lock on public.migproof_migrations was ")
    assert "(canceling statement due to user request) while another deploy held it" in what
    assert "pg_cancel_backend" in (raised.value.fix or "")


# ---- line endings -------------------------------------------------------------------------------

USERS = "CREATE TABLE users (\n  id bigint PRIMARY KEY\n);\n"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("applied", "on_disk", "expected"),
    [
        (USERS, USERS.replace("\n", "\r\n"), "CRLF on disk, LF when applied"),
        (USERS.replace("\n", "\r\n"), USERS, "LF on disk, CRLF when applied"),
        # mixed: one line converted by an editor
        (USERS, USERS.replace("\n", "\r\n", 1), "CRLF on disk, LF when applied"),
        # must not fire: the SQL changed too, the same file, or no checksum recorded yet
        (USERS, USERS.replace("bigint", "int").replace("\n", "\r\n"), None),
        (USERS, USERS, None),
        (None, USERS.replace("\n", "\r\n"), None),
    ],
)
def test_line_ending_change_names_a_difference_only_in_line_endings(
    tmp_path: Path, applied: str | None, on_disk: str, expected: str | None
) -> None:
    d = tmp_path / "db"
    d.mkdir()
    (d / "V1__users.sql").write_bytes(on_disk.encode())
    [migration] = load_migrations(d)
    recorded = None if applied is None else _sha256(applied.encode())
    assert line_ending_change(migration, recorded) == expected


def test_line_ending_change_is_none_for_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    d = tmp_path / "db"
    d.mkdir()
    (d / "V1__users.sql").write_bytes(USERS.replace("\n", "\r\n").encode())
    [migration] = load_migrations(d)
    (d / "V1__users.sql").write_bytes(b"DROP TABLE users;\r\n")
    assert line_ending_change(migration, _sha256(USERS.encode())) is None


def test_a_crlf_checkout_of_an_applied_migration_says_only_line_endings_differ(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = project(tmp_path, {"V1__users.sql": USERS})
    url = pg.url_for(db)
    assert migrate(config(tmp_path), d, url).findings == []
    (d / "V1__users.sql").write_bytes(USERS.replace("\n", "\r\n").encode())
    report = migrate(config(tmp_path), d, url)
    [finding] = report.findings
    assert (finding.check, finding.severity, finding.revision) == ("MP803", Severity.ERROR, "1")
    assert finding.message == (
        "V1__users.sql changed after it was applied, but only its line endings differ "
        "(CRLF on disk, LF when applied)"
    )
    assert "eol=lf" in (finding.fix or "")
    assert [f.message for f in status(config(tmp_path), d, url, check=True).findings] == [
        finding.message
    ]


def test_a_crlf_checkout_with_a_real_edit_is_a_plain_checksum_change(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = project(tmp_path, {"V1__users.sql": USERS})
    url = pg.url_for(db)
    assert migrate(config(tmp_path), d, url).findings == []
    edited = USERS.replace("bigint", "int").replace("\n", "\r\n").encode()
    (d / "V1__users.sql").write_bytes(edited)
    [finding] = migrate(config(tmp_path), d, url).findings
    assert finding.check == "MP803" and finding.severity is Severity.ERROR
    assert finding.message == (
        f"V1__users.sql changed after it was applied (sha256 {_sha256(USERS.encode())[:12]} "
        f"applied, {_sha256(edited)[:12]} on disk)"
    )
