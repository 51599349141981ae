"""The runner against a real server: set semantics, hard failures, legacy trackers, dry-run."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from migproof.config import Config, load_config
from migproof.errors import DatabaseError
from migproof.findings import Location, Report, Severity
from migproof.sandbox import Sandbox
from migproof.sqlmigrate import dry_run, migrate, status
from migproof.sqlmigrate.tracker import flyway_checksum

Conn = psycopg.Connection[tuple[object, ...]]


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def config(tmp_path: Path, **overrides: object) -> Config:
    return load_config(tmp_path, overrides=overrides)


def codes(report: Report) -> list[tuple[str, str | None]]:
    return [(f.check, str(f.location) if f.location else None) for f in report.sorted_findings()]


def errors(report: Report) -> list[tuple[str, str | None]]:
    return [
        (f.check, str(f.location) if f.location else None)
        for f in report.sorted_findings()
        if f.severity is not Severity.INFO
    ]


def tracker_rows(conn: Conn, table: str = "public.migproof_migrations") -> list[tuple[object, ...]]:
    return conn.execute(
        f"SELECT version, name, checksum IS NOT NULL FROM {table} ORDER BY version"
    ).fetchall()


def tables(conn: Conn) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    ).fetchall()
    return {str(r[0]) for r in rows}


BASE = {
    "101_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY);",
    "101_users.down.sql": "DROP TABLE users;",
    "103_orders.up.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n",
}


def test_a_lower_numbered_migration_merged_late_still_runs(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(tmp_path / "m", BASE)
    url = pg.url_for(db)
    first = migrate(config(tmp_path), d, url)
    assert errors(first) == [] and [r["version"] for r in first.records] == ["101", "103"]
    write(d, {"102_flag.up.sql": "ALTER TABLE users ADD COLUMN flag boolean;"})
    second = migrate(config(tmp_path), d, url)
    assert errors(second) == [] and [r["version"] for r in second.records] == ["102"]
    assert conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'flag'"
    ).fetchone() == (1,)
    assert tracker_rows(conn) == [
        ("101", "users", True),
        ("102", "flag", True),
        ("103", "orders", True),
    ]
    assert migrate(config(tmp_path), d, url).records == []  # idempotent


def test_strict_order_refuses_the_late_migration(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(tmp_path / "m", BASE)
    migrate(config(tmp_path), d, pg.url_for(db))
    write(d, {"102_flag.up.sql": "ALTER TABLE users ADD COLUMN flag boolean;"})
    report = migrate(config(tmp_path, **{"migrate.strict-order": True}), d, pg.url_for(db))
    assert codes(report) == [("MP805", f"{d}/102_flag.up.sql:1")]
    assert len(tracker_rows(conn)) == 2


@pytest.mark.parametrize("case", ["duplicate", "renamed", "changed"])
def test_hard_failures_apply_nothing(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn, case: str
) -> None:
    d = write(tmp_path / "m", BASE)
    migrate(config(tmp_path), d, pg.url_for(db))
    write(d, {"104_pending.up.sql": "CREATE TABLE pending ();"})
    if case == "duplicate":
        write(d, {"0104_other.up.sql": "CREATE TABLE other ();"})
        expected = [("MP801", f"{d}/104_pending.up.sql:1")]
    elif case == "renamed":
        (d / "103_orders.up.sql").rename(d / "103_purchases.up.sql")
        expected = [("MP802", f"{d}/103_purchases.up.sql:1")]
    else:
        (d / "101_users.up.sql").write_text("CREATE TABLE users (id int PRIMARY KEY);")
        expected = [("MP803", f"{d}/101_users.up.sql:1")]
    dry = dry_run(config(tmp_path), d, pg.url_for(db))  # refused for the same reason
    assert codes(dry) == expected and dry.records == []
    report = migrate(config(tmp_path), d, pg.url_for(db))
    assert codes(report) == expected
    assert report.records == [] and "pending" not in tables(conn) and "other" not in tables(conn)
    assert len(tracker_rows(conn)) == 2


def test_a_migration_failing_midway_leaves_no_partial_schema_and_no_row(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(
        tmp_path / "m",
        {
            **BASE,
            "104_broken.up.sql": "CREATE TABLE half (id int);\n\nINSERT INTO half\n  VALUES ('x');\n",
            "105_after.up.sql": "CREATE TABLE after ();",
        },
    )
    report = migrate(config(tmp_path), d, pg.url_for(db))
    [finding] = report.findings
    assert (finding.check, finding.location) == (
        "MP804",
        Location(path=d / "104_broken.up.sql", line=4),
    )
    assert finding.statement == "INSERT INTO half\n  VALUES ('x')"
    assert finding.context[0][0] == "PostgreSQL error"
    assert 'invalid input syntax for type integer: "x"' in finding.context[0][1]
    assert "rolled back" in (finding.fix or "")
    assert {"half", "after"}.isdisjoint(tables(conn))
    assert [r[0] for r in tracker_rows(conn)] == ["101", "103"]


def test_no_transaction_migrations_run_statement_by_statement(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(
        tmp_path / "m",
        {
            **BASE,
            "104_idx.up.sql": "-- migproof: no-transaction\n"
            "CREATE INDEX CONCURRENTLY users_idx ON users (id);\n"
            "CREATE INDEX CONCURRENTLY orders_idx ON orders (user_id);\n",
        },
    )
    assert errors(migrate(config(tmp_path), d, pg.url_for(db))) == []
    indexes = conn.execute(
        "SELECT count(*) FROM pg_indexes WHERE indexname IN ('users_idx', 'orders_idx')"
    )
    assert indexes.fetchone() == (2,)


def test_a_file_wrapped_in_begin_commit_stays_atomic(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(
        tmp_path / "m",
        {"1_a.up.sql": "BEGIN;\nCREATE TABLE a ();\nCREATE TABLE a ();\nCOMMIT;\n"},
    )
    report = migrate(config(tmp_path), d, pg.url_for(db))
    assert codes(report) == [("MP804", f"{d}/1_a.up.sql:3")]
    assert "a" not in tables(conn) and tracker_rows(conn) == []


def test_lock_timeout_from_config_fails_a_blocked_migration_fast(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(tmp_path / "m", BASE)
    migrate(config(tmp_path), d, pg.url_for(db))
    write(d, {"104_alter.up.sql": "ALTER TABLE users ADD COLUMN x int;"})
    with pg.connect(db, autocommit=False) as holder:
        holder.execute("LOCK TABLE users IN ACCESS SHARE MODE")
        report = migrate(config(tmp_path, **{"lock-timeout": 0.2}), d, pg.url_for(db))
    [finding] = report.findings
    assert finding.check == "MP804" and "lock_timeout" in (finding.fix or "")
    assert "lock timeout" in finding.message


def test_dirty_golang_migrate_tracker_is_refused_with_recovery_steps(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    conn.execute(
        "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)"
    )
    conn.execute("INSERT INTO schema_migrations VALUES (101, true)")
    d = write(tmp_path / "m", BASE)
    report = migrate(config(tmp_path), d, pg.url_for(db))
    [finding] = report.findings
    assert finding.check == "MP806" and "version 101 is dirty" in finding.message
    assert "force 101" in (finding.fix or "")
    assert tracker_rows(conn) == [] and "orders" not in tables(conn)
    assert [f.check for f in status(config(tmp_path), d, pg.url_for(db)).findings] == ["MP806"]


def test_clean_golang_migrate_tracker_is_bootstrapped_and_checksums_filled(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    conn.execute(
        "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)"
    )
    conn.execute("INSERT INTO schema_migrations VALUES (101, false)")
    conn.execute("CREATE TABLE users (id bigint PRIMARY KEY)")  # what golang-migrate applied
    d = write(tmp_path / "m", BASE)
    before = status(config(tmp_path), d, pg.url_for(db))
    assert [(r["version"], r["state"]) for r in before.records] == [
        ("101", "applied"),
        ("103", "pending"),
    ]
    report = migrate(config(tmp_path), d, pg.url_for(db))
    assert codes(report) == [("MP810", None)]
    assert [r["version"] for r in report.records] == ["103"]
    assert tracker_rows(conn) == [("101", "users", True), ("103", "orders", True)]


def test_flyway_history_is_bootstrapped(tmp_path: Path, pg: Sandbox, db: str, conn: Conn) -> None:
    views = "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n"
    d = write(
        tmp_path / "m",
        {
            "V1__init.sql": "CREATE TABLE a (id int);",
            "V1.1__more.sql": "CREATE TABLE b (id int);",
            "V2__new.sql": "CREATE TABLE c (id int);",
            "R__views.sql": views,
            "R__changed.sql": "CREATE OR REPLACE VIEW w AS SELECT 2 AS two;",
        },
    )
    conn.execute(
        "CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),"
        " description varchar(200), type varchar(20), script varchar(1000), checksum int,"
        " installed_by varchar(100), installed_on timestamp DEFAULT now(), execution_time int,"
        " success boolean)"
    )
    conn.execute(
        "INSERT INTO flyway_schema_history VALUES"
        " (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'x', now(), 1, true),"
        " (2, '1.1', 'more', 'SQL', 'V1_1__more.sql', 1, 'x', now(), 1, true),"
        " (3, NULL, 'views', 'SQL', 'R__views.sql', %s, 'x', now(), 1, true),"
        " (4, NULL, 'changed', 'SQL', 'R__changed.sql', 12345, 'x', now(), 1, true)",
        (flyway_checksum(views),),
    )
    conn.execute(
        "CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE VIEW v AS SELECT 1 AS one"
    )
    report = migrate(config(tmp_path), d, pg.url_for(db))
    assert errors(report) == []
    assert [r["version"] for r in report.records] == ["2", "R__changed"]
    assert tracker_rows(conn) == [
        ("1", "init", True),
        ("1.1", "more", True),
        ("2", "new", True),
        ("R__changed", "changed", True),
        ("R__views", "views", True),
    ]
    # a repeatable runs again whenever it changes
    (d / "R__views.sql").write_text("CREATE OR REPLACE VIEW v AS SELECT 1 AS one, 2 AS two;\n")
    assert [r["version"] for r in migrate(config(tmp_path), d, pg.url_for(db)).records] == [
        "R__views"
    ]


def test_dry_run_changes_nothing_and_reports_the_first_failure(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(
        tmp_path / "m",
        {
            **BASE,
            "104_idx.up.sql": "-- migproof: no-transaction\nCREATE INDEX CONCURRENTLY i ON users (id);",
            "105_uses_orders.up.sql": "ALTER TABLE orders ADD COLUMN total numeric;\nSELECT nope FROM orders;",
            "106_never.up.sql": "CREATE TABLE never ();",
        },
    )
    report = dry_run(config(tmp_path), d, pg.url_for(db))
    assert codes(report) == [
        ("MP809", f"{d}/104_idx.up.sql:1"),
        ("MP804", f"{d}/105_uses_orders.up.sql:2"),
    ]
    assert [(r["version"], r["state"]) for r in report.records] == [
        ("101", "ok"),
        ("103", "ok"),
        ("104", "not dry-runnable"),
        ("105", "failed"),
    ]
    assert tables(conn) == set()  # not even the tracking table
    good = write(tmp_path / "good", BASE)
    assert dry_run(config(tmp_path), good, pg.url_for(db)).findings == []
    assert tables(conn) == set()


def test_status_check_compares_applied_and_on_disk_sets(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(tmp_path / "m", BASE)
    url = pg.url_for(db)
    assert [f.check for f in status(config(tmp_path), d, url, check=True).findings] == [
        "MP808",
        "MP808",
    ]
    migrate(config(tmp_path), d, url)
    assert status(config(tmp_path), d, url, check=True).findings == []
    (d / "103_orders.up.sql").unlink()
    write(d, {"102_late.up.sql": "SELECT 1;"})
    report = status(config(tmp_path), d, url, check=True)
    assert codes(report) == [("MP807", None), ("MP808", f"{d}/102_late.up.sql:1")]
    assert [(r["version"], r["state"]) for r in report.records] == [
        ("101", "applied"),
        ("102", "pending"),
        ("103", "missing on disk"),
    ]
    assert report.records[1]["out_of_order"] is True


@pytest.mark.parametrize(
    ("files", "layout"),
    [
        (
            {
                "20240101000000_a.sql": "-- migrate:up\nCREATE TABLE a ();\n-- migrate:down\nDROP TABLE a;\n",
                "20240102000000_b.sql": "-- migrate:up transaction:false\n"
                "CREATE INDEX CONCURRENTLY b_idx ON a ((1));\n",
            },
            "dbmate",
        ),
        (
            {
                "00001_a.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int"
                " AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\n-- +goose StatementEnd\n"
                "CREATE TABLE a ();\n-- +goose Down\nDROP TABLE a;\n",
                "00002_b.sql": "-- +goose NO TRANSACTION\n-- +goose Up\n"
                "CREATE INDEX CONCURRENTLY b_idx ON a ((1));\n",
            },
            "goose",
        ),
    ],
)
def test_dbmate_and_goose_directories_apply_up_sections_only(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn, files: dict[str, str], layout: str
) -> None:
    d = write(tmp_path / layout, files)
    report = migrate(config(tmp_path), d, pg.url_for(db))
    assert errors(report) == [] and len(report.records) == 2
    assert "a" in tables(conn)
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'b_idx'").fetchone() == (
        1,
    )


def test_tracker_schema_and_table_come_from_config(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = write(tmp_path / "m", BASE)
    cfg = config(tmp_path, **{"migrate.tracker-schema": "ops", "migrate.tracker-table": "history"})
    assert errors(migrate(cfg, d, pg.url_for(db))) == []
    assert [r[0] for r in tracker_rows(conn, "ops.history")] == ["101", "103"]


def test_a_role_that_may_not_create_the_tracker_gets_a_clear_error(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    conn.execute("DROP ROLE IF EXISTS migproof_deployer")
    conn.execute("CREATE ROLE migproof_deployer LOGIN")
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    d = write(tmp_path / "m", BASE)
    url = pg.url_for(db).replace("postgres@", "migproof_deployer@", 1)
    try:
        with pytest.raises(DatabaseError, match="refused migproof's own bookkeeping") as caught:
            migrate(config(tmp_path), d, url)
        assert "permission denied for schema public" in caught.value.what
    finally:
        conn.execute("DROP OWNED BY migproof_deployer")
        conn.execute("DROP ROLE migproof_deployer")


def test_refused_connection_says_why(tmp_path: Path) -> None:
    (tmp_path / "1_a.up.sql").write_text("SELECT 1;")
    url = "postgresql://app:hunter2@127.0.0.1:1/app"
    with pytest.raises(DatabaseError) as raised:
        migrate(load_config(tmp_path), tmp_path, url)
    assert "Connection refused" in raised.value.what
    assert "hunter2" not in raised.value.what
