"""``migproof migrate | status | dry-run`` through the command line: output and exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from migproof.cli import main
from migproof.cli import migrate as migrate_cli
from migproof.sandbox import Sandbox
from migproof.sqlmigrate import LAYOUT_NAMES

FILES = {
    "1_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    "1_users.down.sql": "DROP TABLE users;\n",
    "2_orders.up.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
}


def run(args: list[str]) -> tuple[int, str, str]:
    with CliRunner().isolation(env={"NO_COLOR": "1", "COLUMNS": "200"}) as (out, err, _):
        code = main(args)
        sys.stdout.flush()
        sys.stderr.flush()
    return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "migrations"
    d.mkdir()
    for name, text in FILES.items():
        (d / name).write_text(text)
    return d


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_migrate_then_status_then_a_failing_check(project: Path, pg: Sandbox, db: str) -> None:
    url = pg.url_for(db)
    code, out, _ = run(["migrate", "migrations", "--database-url", url])
    assert code == 0
    assert [line.split()[:3] for line in lines(out)[:2]] == [
        ["1", "users", "applied"],
        ["2", "orders", "applied"],
    ]
    assert lines(out)[-1] == "migrate: no findings"
    code, out, _ = run(["status", "migrations", "--database-url", url, "--check"])
    assert code == 0 and lines(out)[-2:] == ["2 applied", "status: no findings"]
    (project / "0_late.up.sql").write_text("SELECT 1;\n")
    code, out, _ = run(["status", "migrations", "--database-url", url, "--check"])
    assert code == 1
    assert lines(out)[0] == "0  late    pending  (older than applied versions)"
    assert "migrations/0_late.up.sql:1: MP808 [0] 0_late.up.sql is not applied" in lines(out)
    assert lines(out)[-1] == "status: 1 error"
    code, out, _ = run(["status", "migrations", "--database-url", url])
    assert code == 0  # without --check, status only lists


def test_failing_migration_is_a_finding_with_file_line_and_error(
    project: Path, pg: Sandbox, db: str
) -> None:
    (project / "3_bad.up.sql").write_text("CREATE TABLE t (id int);\nALTER TABLE nope ADD x int;\n")
    code, out, _ = run(["migrate", "migrations", "--database-url", pg.url_for(db)])
    assert code == 1
    assert (
        'migrations/3_bad.up.sql:2: MP804 [3] 3_bad.up.sql failed: relation "nope" does not exist'
        in lines(out)
    )
    code, out, _ = run(
        ["dry-run", "migrations", "--database-url", pg.url_for(db), "--format", "github"]
    )
    assert code == 1
    assert out.startswith("::error file=migrations/3_bad.up.sql,line=2,title=MP804::")


def test_json_report_lists_records(project: Path, pg: Sandbox, db: str) -> None:
    code, out, _ = run(
        ["dry-run", "migrations", "--database-url", pg.url_for(db), "--format", "json"]
    )
    assert code == 0
    assert [(r["version"], r["state"]) for r in json.loads(out)["records"]] == [
        ("1", "ok"),
        ("2", "ok"),
    ]


def test_directory_and_url_from_config(project: Path, pg: Sandbox, db: str) -> None:
    (project.parent / "migproof.toml").write_text(
        f'[migrate]\ndirectory = "migrations"\ndatabase-url = "{pg.url_for(db)}"\n'
        'tracker-table = "deploys"\n'
    )
    code, out, _ = run(["migrate"])
    assert code == 0 and lines(out)[-1] == "migrate: no findings"
    code, out, _ = run(["status", "--format", "json"])
    assert code == 0 and len(json.loads(out)["records"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["migrate", "nowhere", "--database-url", "postgresql:///x"], "does not exist"),
        (["status", "migrations"], "no database given to work on"),
        (["dry-run", "--database-url", "postgresql:///x"], "no migration directory given"),
        (
            ["migrate", "migrations", "--database-url", "postgresql://app:s3cret@127.0.0.1:1/app"],
            "cannot connect to postgresql://app:***@127.0.0.1:1/app",
        ),
    ],
)
def test_usage_errors_exit_2(project: Path, args: list[str], message: str) -> None:
    code, _, err = run(args)
    assert code == 2
    assert message in err and "s3cret" not in err and "fix:" in err


@pytest.mark.parametrize(
    ("config_file", "text", "setting"),
    [
        (
            "pyproject.toml",
            "[project]\nname = 'app'\n",
            "[tool.migproof.migrate] of pyproject.toml",
        ),
        ("migproof.toml", "[migrate]\nlayout = 'plain'\n", "[migrate] of migproof.toml"),
    ],
)
def test_a_fix_names_the_option_where_the_projects_config_file_sets_it(
    project: Path, config_file: str, text: str, setting: str
) -> None:
    (project.parent / config_file).write_text(text)
    code, _, err = run(["status", "migrations"])
    assert code == 2
    assert f"or set database-url in {setting}" in err
    code, _, err = run(["status", "--database-url", "postgresql:///x"])
    assert code == 2
    assert f"pass DIR, or set directory in {setting}" in err


def test_malformed_file_name_exits_2(project: Path) -> None:
    (project / "seed.sql").write_text("INSERT INTO users VALUES (1);")
    code, _, err = run(["status", "migrations", "--database-url", "postgresql:///x"])
    assert code == 2
    assert "seed.sql is not a migration file name migproof understands" in err


def test_layout_choices_are_the_runners_layouts() -> None:
    # The CLI spells them out to stay light to import; they must not drift from sqlmigrate's.
    assert migrate_cli._LAYOUTS == LAYOUT_NAMES
