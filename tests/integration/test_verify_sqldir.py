"""verify on plain-SQL migration directories with down files: the same round trips as Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.config import load_config
from migproof.findings import Report
from migproof.sandbox import Sandbox
from migproof.verify import verify


def run(pg: Sandbox, root: Path) -> Report:
    return verify(load_config(root), root, host=pg)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_golang_migrate_directory_with_exact_downs_verifies_clean(
    pg: Sandbox, tmp_path: Path
) -> None:
    write(
        tmp_path,
        {
            "1_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);",
            "1_users.down.sql": "DROP TABLE users;",
            "2_users_email.up.sql": "CREATE UNIQUE INDEX users_email ON users (email);",
            "2_users_email.down.sql": "DROP INDEX users_email;",
        },
    )
    report = run(pg, tmp_path)
    assert report.findings == []
    assert [(r["revision"], r["upgrade"], r["roundtrip"]) for r in report.records] == [
        ("1", "ok", "ok"),
        ("2", "ok", "ok"),
    ]


def test_enum_left_by_a_down_file_is_named_on_the_down_file(pg: Sandbox, tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "1_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY);",
            "1_users.down.sql": "DROP TABLE users;",
            "2_status.up.sql": "CREATE TYPE status AS ENUM ('a', 'b');\nALTER TABLE users ADD COLUMN status status;",
            "2_status.down.sql": "ALTER TABLE users DROP COLUMN status;",
        },
    )
    report = run(pg, tmp_path)
    found = sorted(
        (
            f.check,
            f.revision,
            f.location.path.name if f.location else None,
            f.location.line if f.location else None,
        )
        for f in report.findings
    )
    assert found == [
        ("MP012", "2", "2_status.down.sql", 1),
        ("MP013", "2", "2_status.up.sql", 1),
    ]
    assert "enum public.status is left behind" in next(
        f.message for f in report.findings if f.check == "MP012"
    )
    assert 'type "status" already exists' in next(
        f.message for f in report.findings if f.check == "MP013"
    )


def test_failing_down_statement_names_file_and_line(pg: Sandbox, tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "1_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY);\nALTER TABLE users ADD COLUMN plan text;",
            "1_users.down.sql": "ALTER TABLE users DROP COLUMN plan;\nDROP TABLE userz;",
        },
    )
    report = run(pg, tmp_path)
    assert [(f.check, f.location.line if f.location else None) for f in report.findings] == [
        ("MP011", 2)
    ]
    assert 'table "userz" does not exist' in report.findings[0].message


def test_migration_without_down_file_is_irreversible_not_failed(
    pg: Sandbox, tmp_path: Path
) -> None:
    write(
        tmp_path,
        {
            "1_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY);",
            "1_users.down.sql": "DROP TABLE users;",
            "2_seed.up.sql": "INSERT INTO users VALUES (1);",
        },
    )
    report = run(pg, tmp_path)
    assert [f.check for f in report.findings] == ["MP008"]  # one of two has no down file
    assert report.findings[0].revision == "2"
    assert not report.has_failures


def test_a_forward_only_directory_is_said_once(pg: Sandbox, tmp_path: Path) -> None:
    # procrastinate's 38 files: no migration has down SQL, by design; one line, not 38 MP008s
    write(
        tmp_path,
        {
            "V1__users.sql": "CREATE TABLE users (id bigint PRIMARY KEY);",
            "V2__seed.sql": "INSERT INTO users VALUES (1);",
            "V3__email.sql": "ALTER TABLE users ADD COLUMN email text;",
        },
    )
    report = run(pg, tmp_path)
    assert report.findings == []
    assert (
        "round trips of all 3 migrations",
        "no migration has down SQL (a forward-only directory): each was upgraded, none downgraded",
    ) in report.skipped
    assert [r["upgrade"] for r in report.records] == ["ok", "ok", "ok"]


def test_dbmate_sections(pg: Sandbox, tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "20240101000000_users.sql": "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n",
            "20240102000000_orders.sql": "-- migrate:up\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);\n\n-- migrate:down\n",
        },
    )
    report = run(pg, tmp_path)
    assert [(f.check, f.revision) for f in sorted(report.findings, key=lambda f: f.check)] == [
        ("MP012", "20240102000000"),
        ("MP013", "20240102000000"),
    ]


def test_sql_files_named_in_no_known_scheme_are_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # procrastinate's names: the user pointed at SQL migrations, not at an Alembic project
    from migproof.cli import main

    write(tmp_path, {"00.00.00_01_initial.sql": "CREATE TABLE t (a int);\n"})
    assert main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "00.00.00_01_initial.sql is not a migration file name migproof understands" in err
    assert "golang-migrate: 1_create_users.up.sql" in err
    assert "alembic.ini" not in err
    # nested .sql files only (a project's docs, fixtures): the Alembic message stands
    nested = tmp_path / "elsewhere"
    (nested / "docs").mkdir(parents=True)
    write(nested / "docs", {"schema.sql": "CREATE TABLE t (a int);\n"})
    assert main(["verify", str(nested)]) == 2
    assert "no Alembic configuration" in capsys.readouterr().err
