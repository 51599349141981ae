"""File naming schemes: every layout read, detection, malformed names, versions; no database."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from migproof.errors import SourceError
from migproof.sqlmigrate import Migration, load_migrations
from migproof.sqlmigrate.layout import Layout, canonical_version, detect_layout, version_key


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def labels(migrations: list[Migration]) -> list[str]:
    return [m.label for m in migrations]


def test_golang_migrate_pairs_up_and_down_and_sorts_numerically(tmp_path: Path) -> None:
    d = write(
        tmp_path,
        {
            "10_ten.up.sql": "CREATE TABLE ten ();",
            "10_ten.down.sql": "DROP TABLE ten;",
            "2_two.up.sql": "-- migproof: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
            "0001_one.up.sql": "CREATE TABLE one ();",
        },
    )
    migrations = load_migrations(d)
    assert labels(migrations) == ["1_one", "2_two", "10_ten"]
    one, two, ten = migrations
    assert one.down_sql is None and one.path == d / "0001_one.up.sql"
    assert ten.down_sql == "DROP TABLE ten;" and ten.down_path == d / "10_ten.down.sql"
    assert two.no_transaction and not one.no_transaction
    assert one.checksum == hashlib.sha256(b"CREATE TABLE one ();").hexdigest()
    assert detect_layout(d) is Layout.GOLANG_MIGRATE


def test_flyway_versions_repeatables_undo_and_conf(tmp_path: Path) -> None:
    d = write(
        tmp_path,
        {
            "V1__init.sql": "CREATE TABLE a ();",
            "V1_1__more.sql": "CREATE TABLE b ();",
            "V1.10__later.sql": "CREATE TABLE c ();",
            "U1__init.sql": "DROP TABLE a;",
            "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 1;",
            "V2__concurrent.sql": "CREATE INDEX CONCURRENTLY i ON a ((1));",
            "V2__concurrent.sql.conf": "executeInTransaction=false\n",
            "sub/V3__nested.sql": "CREATE TABLE d ();",
        },
    )
    migrations = load_migrations(d)
    assert labels(migrations) == [
        "1_init",
        "1.1_more",
        "1.10_later",
        "2_concurrent",
        "3_nested",
        "R__views",
    ]
    init = migrations[0]
    assert init.down_sql == "DROP TABLE a;" and init.down_path == d / "U1__init.sql"
    assert migrations[3].no_transaction
    views = migrations[-1]
    assert views.repeatable and views.version is None and views.key == "R__views"


def test_dbmate_sections_lines_and_transaction_option(tmp_path: Path) -> None:
    d = write(
        tmp_path,
        {
            "20240101000000_users.sql": "-- migrate:up\nCREATE TABLE users ();\n\n"
            "-- migrate:down\nDROP TABLE users;\n",
            "20240102000000_idx.sql": "-- migrate:up transaction:false\n"
            "CREATE INDEX CONCURRENTLY i ON users ((1));\n-- migrate:down\nDROP INDEX i;\n",
        },
    )
    users, idx = load_migrations(d)
    assert detect_layout(d) is Layout.DBMATE
    assert users.version == "20240101000000" and users.name == "users"
    assert users.up_sql.strip() == "CREATE TABLE users ();" and users.up_line == 2
    assert users.down_sql is not None and users.down_sql.strip() == "DROP TABLE users;"
    assert users.down_line == 5 and not users.no_transaction
    assert idx.no_transaction


def test_goose_sections_statement_blocks_and_no_transaction(tmp_path: Path) -> None:
    d = write(
        tmp_path,
        {
            "00001_fn.sql": "-- +goose Up\n-- +goose StatementBegin\n"
            "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\n"
            "-- +goose StatementEnd\n\n-- +goose Down\nDROP FUNCTION f();\n",
            "00002_idx.sql": "-- +goose NO TRANSACTION\n-- +goose Up\n"
            "CREATE INDEX CONCURRENTLY i ON t (a);\n",
        },
    )
    fn, idx = load_migrations(d)
    assert detect_layout(d) is Layout.GOOSE
    assert fn.version == "1" and "CREATE FUNCTION" in fn.up_sql and fn.up_line == 2
    assert fn.down_sql is not None and fn.down_sql.strip() == "DROP FUNCTION f();"
    assert idx.no_transaction and idx.down_sql is None and idx.up_line == 3


def test_layout_from_config_overrides_detection(tmp_path: Path) -> None:
    d = write(tmp_path, {"1_a.sql": "-- migrate:up\nSELECT 1;\n"})
    with pytest.raises(SourceError, match=r"has no `-- \+goose Up` section"):
        load_migrations(d, "goose")
    assert labels(load_migrations(d, "dbmate")) == ["1_a"]
    with pytest.raises(SourceError, match="unknown migration layout 'liquibase'"):
        load_migrations(d, "liquibase")


def test_two_files_sharing_a_version_both_appear(tmp_path: Path) -> None:
    d = write(tmp_path, {"103_a.up.sql": "SELECT 1;", "0103_b.up.sql": "SELECT 2;"})
    assert [m.key for m in load_migrations(d)] == ["103", "103"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_a.up.sql": "", "V2__b.sql": ""}, "mixes migration layouts"),
        ({"1_a.up.sql": "", "notes.sql": ""}, "notes.sql is not a migration file name"),
        ({"schema.sql": ""}, "schema.sql is not a migration file name"),
        ({"1_a.sql": "SELECT 1;"}, "1_a.sql is not a migration file name"),
        ({"README.md": "hi"}, "no .sql migrations in"),
        ({"2_b.down.sql": "", "1_a.up.sql": ""}, "2_b.down.sql has no matching up file"),
    ],
)
def test_directories_no_scheme_accepts_are_clear_errors(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        load_migrations(write(tmp_path / "m", files))
    assert caught.value.fix


def test_missing_directory_and_goose_go_migrations(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        load_migrations(tmp_path / "nope")
    d = write(
        tmp_path / "g", {"00001_a.sql": "-- +goose Up\nSELECT 1;\n", "00002_b.go": "package m"}
    )
    with pytest.raises(SourceError, match=r"00002_b\.go is a goose Go migration"):
        load_migrations(d)


def test_versions_compare_as_numbers() -> None:
    assert canonical_version("0007") == "7"
    assert canonical_version("1_1") == canonical_version("1.01.0") == "1.1"
    assert version_key("1.10") > version_key("1.9") > version_key("1")
