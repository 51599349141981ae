"""``migproof lint path/to/versions/x.py``: a revision file given alone is run with its chain.

pre-commit's hook passes the revision files a commit changes: their SQL is only known by
running the chain up to them, so lint runs the project they belong to and reports on them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, write_project

from migproof.cli import main
from migproof.sandbox import Sandbox

TABLE = 'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_project(
        tmp_path,
        [
            Revision(id="r1", down=None, upgrade=TABLE, downgrade='op.drop_table("orders")'),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.add_column("orders", sa.Column("note", sa.Text))',
                downgrade='op.drop_column("orders", "note")',
            ),
            Revision(
                id="r3",
                down="r2",
                upgrade='op.create_index("ix_note", "orders", ["note"])',
                downgrade='op.drop_index("ix_note", table_name="orders")',
            ),
        ],
    )
    monkeypatch.chdir(tmp_path / "migrations")  # pre-commit runs from anywhere in the repo
    return tmp_path


def _findings(
    pg: Sandbox, capsys: pytest.CaptureFixture[str], *files: str
) -> list[tuple[str, str]]:
    main(["lint", *files, "--database-url", pg.url, "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    return sorted((f["check"], Path(f["path"]).name) for f in data["findings"])


def test_only_the_given_files_are_reported(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _findings(pg, capsys, "versions/r3.py") == [("MP201", "r3.py"), ("MP210", "r3.py")]
    assert _findings(pg, capsys, "versions/r2.py") == [("MP210", "r2.py")]
    assert _findings(pg, capsys, "versions/r1.py") == []
    both = _findings(pg, capsys, "versions/r2.py", "versions/r3.py")
    assert both == [("MP201", "r3.py"), ("MP210", "r2.py"), ("MP210", "r3.py")]
    # --static reads the file alone: the SQL rules need the run
    assert _findings(pg, capsys, "versions/r3.py", "--static") == []


def test_a_failure_before_the_given_file_is_reported(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r2 = project / "migrations" / "versions" / "r2.py"
    r2.write_text(r2.read_text().replace('"orders", sa.Column', '"nope", sa.Column'))
    assert _findings(pg, capsys, "versions/r3.py") == [("MP010", "r2.py")]


def test_a_python_file_outside_any_versions_directory_is_read_alone(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    helper = project / "migrations" / "helper.py"
    helper.write_text('import psycopg\nrevision = "x"\ndown_revision = None\npsycopg.connect("")\n')
    assert _findings(pg, capsys, "helper.py") == [("MP510", "helper.py")]


def test_a_named_section_of_alembic_ini(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """skypilot's alembic.ini has no [alembic] section, six named ones: lint takes --name,
    as verify does (its error said to use it, and lint refused the option)."""
    ini = project / "alembic.ini"
    ini.write_text(ini.read_text().replace("[alembic]", "[state_db]"))
    assert main(["lint", str(project), "--database-url", pg.url]) == 2
    assert "no [alembic] section" in capsys.readouterr().err
    assert _findings(pg, capsys, str(project), "--name", "state_db") == [
        ("MP201", "r3.py"),
        ("MP210", "r2.py"),
        ("MP210", "r3.py"),
    ]
    moved = project / "db.ini"
    ini.rename(moved)
    found = _findings(pg, capsys, str(project), "-c", str(moved), "-n", "state_db")
    assert ("MP201", "r3.py") in found


def test_what_was_not_linted_is_said_of_the_revisions_reported_on(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guarded = Revision(
        id="r4",
        down="r3",
        upgrade='if "ix_note" not in {i["name"] for i in sa.inspect(op.get_bind())'
        '.get_indexes("orders")}:\n    op.create_index("ix_note", "orders", ["note"])',
    )
    (project / "migrations/versions/r4.py").write_text(guarded.source())

    def skipped(*args: str) -> list[str]:
        main(["lint", *args, "--database-url", pg.url, "--format", "json"])
        return [s["what"] for s in json.loads(capsys.readouterr().out)["skipped"]]

    unsent = "upgrade() of revision r4: op.create_index at line 15"
    assert unsent in skipped("..")
    assert unsent in skipped("versions/r4.py")
    assert unsent not in skipped("versions/r3.py")  # not the file given
    assert unsent not in skipped("..", "--start-after", "r4")  # ran already


def test_start_after_in_the_config_with_one_revision_file_given(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text('[tool.migproof.lint]\nstart-after = "r2"\n')
    assert _findings(pg, capsys, "versions/r3.py") == [("MP201", "r3.py"), ("MP210", "r3.py")]
    assert _findings(pg, capsys, "versions/r2.py") == []  # ran already


def test_c_is_read_from_the_current_directory_and_must_name_a_file(
    pg: Sandbox, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`alembic -c shop/alembic.ini`: lint took it relative to the project and, finding
    nothing, linted nothing and said "no findings"."""
    monkeypatch.chdir(project.parent)
    name = project.name
    found = _findings(pg, capsys, name, "-c", f"{name}/alembic.ini")
    assert ("MP201", "r3.py") in found
    assert main(["lint", name, "-c", "nosuch.ini", "--database-url", pg.url]) == 2
    assert "nosuch.ini: no such alembic.ini" in capsys.readouterr().err
    # verify reads it the same way (it took the directory for one of SQL files)
    assert main(["verify", name, "-c", f"{name}/alembic.ini", "--database-url", pg.url]) == 0


def test_a_directory_above_the_project_runs_it(
    pg: Sandbox, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """nova and heat keep alembic.ini deep in the package: `migproof lint` from the
    repository root read the revision files and said "no findings"."""
    import shutil

    repo = project / "repo"  # a tree of its own (tmp_path's parent holds other tests' files)
    shutil.copytree(project, repo / "backend", ignore=shutil.ignore_patterns("repo"))
    monkeypatch.chdir(repo)
    found = _findings(pg, capsys, ".")
    assert ("MP201", "r3.py") in found


def test_revision_files_of_no_project_are_said_not_run(
    pg: Sandbox, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "alembic.ini").unlink()
    main(["lint", "versions", "--database-url", pg.url, "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == []
    assert [s["what"] for s in data["skipped"]] == ["the SQL of 3 revision files"]


@pytest.mark.parametrize("command", ["verify", "lint", "snapshot"])
def test_a_chain_flag_given_twice_is_a_usage_error(
    project: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """nova's two chains, `-c main/alembic.ini -c api/alembic.ini`: click kept the last and
    verified one chain, saying nothing of the other."""
    ini = str(project / "alembic.ini")
    args = [command, *(["alembic:head"] if command == "snapshot" else []), "-c", ini, "-c", ini]
    assert main(args) == 2
    assert "-c given 2 times: migproof checks one Alembic chain per run" in capsys.readouterr().err


def test_a_directory_above_two_chains_names_their_alembic_ini(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """nova/db holds main/alembic.ini and api/alembic.ini: `verify nova/db` said only that
    nova/db/alembic.ini does not exist."""
    import shutil

    root = project / "nova" / "db"  # a tree of its own, as above
    for chain in ("main", "api"):
        shutil.copytree(project, root / chain, ignore=shutil.ignore_patterns("nova"))
    monkeypatch.chdir(project / "nova")
    assert main(["verify", "db"]) == 2
    err = capsys.readouterr().err
    assert "(below it: db/api/alembic.ini, db/main/alembic.ini)" in err
    assert "fix: run migproof on the directory of one, e.g. `migproof verify db/api`" in err
