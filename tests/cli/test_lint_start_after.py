"""``lint.start-after`` / ``--start-after``: migrations that ran already are linted, not reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, write_project

from migproof.cli import main
from migproof.sandbox import Sandbox

TABLE = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\n"
INDEX = "CREATE INDEX orders_{0}_idx ON orders ({0});\n"


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "0001_orders.sql").write_text(TABLE)
    (directory / "0002_by_customer.sql").write_text(INDEX.format("customer_id"))
    (directory / "0003_by_note.sql").write_text(INDEX.format("note"))
    return directory


def _files(capsys: pytest.CaptureFixture[str]) -> tuple[set[str], dict[str, str]]:
    data = json.loads(capsys.readouterr().out)
    files = {Path(f["path"]).name for f in data["findings"]}
    return files, {s["what"]: s["why"] for s in data["skipped"]}


def test_findings_before_it_are_linted_not_reported(
    migrations: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", "migrations", "--format", "json"]) == 1
    assert _files(capsys)[0] == {"0002_by_customer.sql", "0003_by_note.sql"}
    # by name, stem or unique prefix: 0003 is still judged against the table 0001 made
    for name in ("0002_by_customer.sql", "0002_by_customer", "0002"):
        assert main(["lint", "migrations", "--start-after", name, "--format", "json"]) == 1
        files, skipped = _files(capsys)
        assert files == {"0003_by_note.sql"}, name
        what = f"2 findings in {name} and the 1 migration before it"
        assert skipped[what].startswith("lint.start-after: linted, not reported")
    assert main(["lint", "migrations", "--start-after", "0003", "--format", "json"]) == 0


def test_the_setting_in_the_config_file(
    migrations: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (migrations.parent / "pyproject.toml").write_text(
        '[tool.migproof.lint]\nstart-after = "0002"\n'
    )
    assert main(["lint", "migrations", "--format", "json"]) == 1
    assert _files(capsys)[0] == {"0003_by_note.sql"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("0009", "no revision id or .sql file name among the linted migrations starts with it"),
        ("000", "3 migrations match it (0001_orders.sql, 0002_by_customer.sql, 0003_by_note.sql)"),
    ],
)
def test_a_name_that_is_no_one_migration_is_a_usage_error(
    migrations: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    assert main(["lint", "migrations", "--start-after", name]) == 2
    err = capsys.readouterr().err
    assert f"lint.start-after {name!r}: {message}" in err
    assert "fix: give the id" in err


def test_an_alembic_revision_and_its_history(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    table = (
        'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("customer_id", sa.Integer), sa.Column("note", sa.Text))'
    )
    write_project(
        tmp_path,
        [
            Revision(id="aa01", down=None, upgrade=table, downgrade='op.drop_table("orders")'),
            Revision(
                id="bb02",
                down="aa01",
                upgrade='op.create_index("ix_c", "orders", ["customer_id"])',
                downgrade='op.drop_index("ix_c", table_name="orders")',
            ),
            Revision(
                id="cc03",
                down="bb02",
                upgrade='op.create_index("ix_n", "orders", ["note"])',
                downgrade='op.drop_index("ix_n", table_name="orders")',
            ),
        ],
    )
    monkeypatch.chdir(tmp_path)
    run = ["lint", "--database-url", pg.url, "--format", "json"]
    assert main(run) == 1
    assert _files(capsys)[0] == {"bb02.py", "cc03.py"}
    assert main([*run, "--start-after", "bb"]) == 1
    assert _files(capsys)[0] == {"cc03.py"}
    assert main([*run, "--start-after", "cc03"]) == 0
    assert _files(capsys)[0] == set()
    # a revision that fails is kept: what builds on it was not linted
    broken = tmp_path / "migrations/versions/bb02.py"
    broken.write_text(broken.read_text().replace('"customer_id"]', '"nope"]'))
    assert main([*run, "--start-after", "bb02"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(f["check"], Path(f["path"]).name) for f in data["findings"]] == [("MP010", "bb02.py")]


def test_one_per_branch_of_a_branched_chain(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # neutron: an expand and a contract branch from one base; each has its own last applied
    table = (
        'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("a", sa.Integer), sa.Column("b", sa.Integer), sa.Column("c", sa.Integer))'
    )

    def index(rid: str, down: str, column: str) -> Revision:
        return Revision(
            id=rid,
            down=down,
            upgrade=f'op.create_index("ix_{column}", "orders", ["{column}"])',
            downgrade=f'op.drop_index("ix_{column}", table_name="orders")',
        )

    write_project(
        tmp_path,
        [
            Revision(id="b0", down=None, upgrade=table, downgrade='op.drop_table("orders")'),
            index("ex1", "b0", "a"),
            index("ex2", "ex1", "b"),
            index("co1", "b0", "c"),
        ],
    )
    (tmp_path / "pyproject.toml").write_text('[tool.migproof.verify]\nheads = ["ex2", "co1"]\n')
    monkeypatch.chdir(tmp_path)
    run = ["lint", "--database-url", pg.url, "--format", "json"]
    assert main([*run, "--start-after", "ex1"]) == 1
    assert _files(capsys)[0] == {"ex2.py", "co1.py"}
    assert main([*run, "--start-after", "ex1", "--start-after", "co1"]) == 1
    files, skipped = _files(capsys)
    assert files == {"ex2.py"}
    assert "4 findings in ex1, co1 and the 1 migration before them" in skipped
    (tmp_path / "pyproject.toml").write_text(
        '[tool.migproof.verify]\nheads = ["ex2", "co1"]\n'
        '[tool.migproof.lint]\nstart-after = ["ex2", "co1"]\n'
    )
    assert main(run) == 0


def test_running_code_rules_are_left_out_on_the_contract_branch(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # neutron, glance: contract revisions run once every server runs the new code
    table = (
        'op.create_table("ports", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("tenant_id", sa.Text), sa.Column("old", sa.Text), sa.Column("older", sa.Text))'
    )
    drop_old = 'op.drop_column("ports", "old")'
    contract = (
        'op.drop_column("ports", "older")\n'
        'op.alter_column("ports", "tenant_id", new_column_name="project_id")'
    )
    revisions = [
        Revision(id="k0", down=None, upgrade=table, downgrade='op.drop_table("ports")'),
        Revision(id="ex1", down="k0", upgrade=drop_old),
        Revision(id="co1", down="k0", upgrade=contract),
    ]
    write_project(tmp_path, revisions)
    versions = tmp_path / "migrations" / "versions"
    for rid, label in (("ex1", "expand"), ("co1", "contract")):
        path = versions / f"{rid}.py"
        path.write_text(
            path.read_text().replace("branch_labels = None", f"branch_labels = ({label!r},)")
        )
    (tmp_path / "pyproject.toml").write_text('[tool.migproof.verify]\nheads = ["ex1", "co1"]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "--database-url", pg.url, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    found = sorted((f["check"], Path(f["path"]).name) for f in data["findings"])
    assert ("MP403", "ex1.py") in found  # the expand branch runs beside the old code
    assert ("MP403", "co1.py") not in found  # the contract branch runs after it
    assert ("MP401", "co1.py") in found  # a rename breaks whatever code runs then
    assert any(s["what"].endswith("on the contract branch") for s in data["skipped"])


def test_files_given_one_by_one_find_the_migration_named_beside_them(
    migrations: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pre-commit passes the changed files alone: the one start-after names is beside them."""
    (migrations.parent / "pyproject.toml").write_text(
        '[tool.migproof.lint]\nstart-after = "0002"\n'
    )
    assert main(["lint", "migrations/0003_by_note.sql", "--format", "json"]) == 1
    assert _files(capsys)[0] == {"0003_by_note.sql"}
    # a file given that ran already reports nothing
    assert main(["lint", "migrations/0002_by_customer.sql", "--format", "json"]) == 0
    assert _files(capsys)[0] == set()


def test_an_up_file_and_its_down_file_are_one_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "0001_orders.up.sql").write_text(TABLE)
    (directory / "0002_a.up.sql").write_text(INDEX.format("customer_id"))
    (directory / "0002_a.down.sql").write_text("DROP INDEX orders_customer_id_idx;\n")
    (directory / "0003_b.up.sql").write_text(INDEX.format("note"))
    assert main(["lint", "m", "--start-after", "0002", "--format", "json"]) == 1
    files, skipped = _files(capsys)
    assert files == {"0003_b.up.sql"}
    assert any(what.endswith("in 0002 and the 1 migration before it") for what in skipped)
