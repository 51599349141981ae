"""``migproof snapshot``, ``diff`` and ``check`` through the command line, on the session sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import REPO

from migproof.cli import main
from migproof.sandbox import Sandbox

A_SQL = """CREATE TYPE feeling_kind AS ENUM ('happy', 'sad');
CREATE TABLE invoice (id bigint PRIMARY KEY, account_id bigint, source text);
CREATE INDEX ix_invoice_account_id ON invoice (account_id);
"""
B_SQL = """CREATE TYPE feeling_kind AS ENUM ('happy', 'sad', 'meh');
CREATE TABLE invoice (id bigint PRIMARY KEY, account_id bigint, source varchar(64));
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.sql").write_text(A_SQL)
    (tmp_path / "b.sql").write_text(B_SQL)
    return tmp_path


def run(pg: Sandbox, *args: str) -> int:
    return main([*args, "--database-url", pg.url])


def test_snapshot_text(pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(pg, "snapshot", "a.sql", "--format", "text") == 0
    assert capsys.readouterr().out.splitlines() == [
        "schema public",
        "    comment 'standard public schema'",
        "    grant PUBLIC=USAGE",
        "enum public.feeling_kind ('happy', 'sad')",
        "    grant PUBLIC=USAGE",
        "table public.invoice",
        "    id bigint NOT NULL",
        "    account_id bigint",
        "    source text",
        "    constraint invoice_pkey PRIMARY KEY (id)",
        "index public.ix_invoice_account_id ON public.invoice USING btree (account_id)",
    ]


def test_snapshot_json_then_diff_against_it(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(pg, "snapshot", "a.sql", "--output", "a.json") == 0
    data = json.loads((project / "a.json").read_text())
    assert data["format"] == 1
    assert list(data["tables"]) == ["public.invoice"]
    capsys.readouterr()
    assert run(pg, "diff", "a.json", "a.sql") == 0
    assert capsys.readouterr().out == "no differences between a.json and a.sql\n"


def test_diff_text_exits_1(pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(pg, "diff", "a.sql", "b.sql") == 1
    assert capsys.readouterr().out.splitlines() == [
        "enum public.feeling_kind: labels [happy, sad] -> [happy, sad, meh]",
        "column public.invoice.source: type text -> character varying(64)",
        "index public.ix_invoice_account_id: only in a.sql",
        "3 differences",
    ]


def test_diff_json(pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(pg, "diff", "a.sql", "b.sql", "--format", "json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["equal"] is False
    assert [(d["kind"], d["name"], d["property"]) for d in data["differences"]] == [
        ("enum", "public.feeling_kind", "labels"),
        ("column", "public.invoice.source", "type"),
        ("index", "public.ix_invoice_account_id", None),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("snapshot", "nope.sql"), "error: no such SQL file: nope.sql"),
        (("snapshot", "nope.json"), "error: no such snapshot file: nope.json"),
        (("snapshot", "schema.txt"), "error: unknown SOURCE 'schema.txt'"),
        (("diff", "a.sql", "alembic:"), "error: 'alembic:' names no revision"),
        (("snapshot", "bad.sql"), "error: bad.sql:2: syntax error at or near"),
        (("snapshot", "a.sql.json"), "is not a migproof snapshot"),
        (("check",), "error: no schema lock file at"),
    ],
)
def test_usage_errors_exit_2(
    pg: Sandbox,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    (project / "bad.sql").write_text("CREATE TABLE t (id int);\nCREATE TABLE (;\n")
    (project / "a.sql.json").write_text('{"hello": 1}')
    assert run(pg, *args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "fix:" in err


def test_check_without_lock_file_says_how_to_create_it(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(pg, "check") == 2
    assert "migproof snapshot alembic:head --write" in capsys.readouterr().err


def test_write_lock_file_and_check(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", shop)
    monkeypatch.chdir(shop)
    assert run(pg, "snapshot", "alembic:head", "--write") == 0
    lock = shop / "migproof.schema.json"
    assert capsys.readouterr().out.startswith(f"wrote {lock}")
    assert "public.alembic_version" not in json.loads(lock.read_text())["tables"]
    assert run(pg, "snapshot", "alembic:head", "--write") == 0
    assert capsys.readouterr().out.startswith(f"unchanged: {lock}")
    assert run(pg, "check") == 0
    assert capsys.readouterr().out == "alembic:head matches migproof.schema.json\n"
    # the lock file says something head no longer has
    data = json.loads(lock.read_text())
    data["enums"]["public.retired"] = {
        "schema": "public",
        "name": "retired",
        "labels": ["x"],
        "comment": None,
        "privileges": [],
    }
    lock.write_text(json.dumps(data))
    assert run(pg, "check") == 1
    assert capsys.readouterr().out.splitlines() == [
        "alembic:head no longer matches migproof.schema.json:",
        "enum public.retired: only in migproof.schema.json",
        "fix: if the migration is intended, run `migproof snapshot alembic:head --write` and "
        "commit migproof.schema.json",
    ]
    assert run(pg, "check", "--format", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["a"], report["b"], report["equal"]) == (
        "migproof.schema.json",
        "alembic:head",
        False,
    )
    assert len(report["differences"]) == 1


def test_alembic_head_is_built_on_the_bootstrap_file(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # mlflow's way: create_all() of the first tables, then the chain from base
    from tests.helpers.alembic_projects import Revision, write_project

    write_project(
        tmp_path,
        [Revision(id="r1", down=None, upgrade='op.add_column("m", sa.Column("step", sa.Integer))')],
    )
    (tmp_path / "initial.sql").write_text("CREATE TABLE m (id int PRIMARY KEY);\n")
    monkeypatch.chdir(tmp_path)
    assert run(pg, "snapshot", "alembic:head", "--format", "text") == 2  # from an empty database
    assert 'relation "m" does not exist' in capsys.readouterr().err
    (tmp_path / "migproof.toml").write_text('[verify]\nbootstrap-sql = "initial.sql"\n')
    assert run(pg, "snapshot", "alembic:head", "--format", "text") == 0
    assert "    step integer" in capsys.readouterr().out.splitlines()


def test_revisions_a_stamped_bootstrap_file_is_past_are_built_from_empty(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers.alembic_projects import Revision, write_project

    users = 'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))'
    name = 'op.add_column("users", sa.Column("name", sa.Text))'
    write_project(
        tmp_path,
        [Revision(id="r1", down=None, upgrade=users), Revision(id="r2", down="r1", upgrade=name)],
    )
    (tmp_path / "prod.sql").write_text(
        "CREATE TABLE users (id int PRIMARY KEY);\n"
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\n"
        "INSERT INTO alembic_version VALUES ('r1');\n"
    )
    (tmp_path / "migproof.toml").write_text('[verify]\nbootstrap-sql = "prod.sql"\n')
    monkeypatch.chdir(tmp_path)
    tables = {}
    for rev in ("base", "r1", "head"):
        assert run(pg, "snapshot", f"alembic:{rev}", "--format", "text") == 0, rev
        tables[rev] = capsys.readouterr().out.splitlines()
    assert "table public.users" not in tables["base"]
    assert "table public.users" in tables["r1"]  # from empty: the file is stamped past it
    assert "    name text" not in tables["r1"]
    assert "    name text" in tables["head"]  # from the file


def test_alembic_sources_take_the_project_flags_verify_takes(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # an alembic.ini in a subdirectory, an env.py that reads the URL from the application's
    # variable, and a chain that alters a table a bootstrap file makes
    from tests.helpers.alembic_projects import ENV_FROM_ENVIRONMENT, Revision, write_project

    db = tmp_path / "db"
    write_project(
        db,
        [Revision(id="r1", down=None, upgrade='op.add_column("m", sa.Column("step", sa.Integer))')],
        env=ENV_FROM_ENVIRONMENT,
    )
    (tmp_path / "initial.sql").write_text("CREATE TABLE m (id int PRIMARY KEY);\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    flags = ["-c", "db/alembic.ini", "--url-env", "APP_DATABASE_URL"]
    assert run(pg, "snapshot", "alembic:head", *flags) == 2  # no bootstrap file: m is missing
    assert 'relation "m" does not exist' in capsys.readouterr().err
    flags += ["--bootstrap-sql", "initial.sql"]
    assert run(pg, "snapshot", "alembic:head", "--format", "text", *flags) == 0
    assert "    step integer" in capsys.readouterr().out.splitlines()
    assert run(pg, "snapshot", "alembic:head", "--write", *flags) == 0
    capsys.readouterr()
    assert run(pg, "check", *flags) == 0
    assert capsys.readouterr().out == "alembic:head matches migproof.schema.json\n"
    assert run(pg, "diff", "initial.sql", "alembic:head", *flags) == 1
    assert "step" in capsys.readouterr().out
    assert run(pg, "check") == 2  # without the flags: no alembic.ini here
    assert "alembic.ini" in capsys.readouterr().err
