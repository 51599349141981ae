"""``migproof lint`` on a chain that starts from a database bootstrapped out of band.

jupyterhub, galaxy and mailman build a fresh database with ``create_all()`` and stamp it; their
revisions alter tables only that made. Run from an empty database, the first such revision
fails and nothing is linted (one MP010); with the bootstrap file verify uses
(``bootstrap-sql``), lint runs the revisions after the stamp on the database it builds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, line_of, write_project
from tests.integration.test_verify_bootstrap_walk import AUTH_STATE, BASE, USERS, stamp

from migproof.chain.project import load_project
from migproof.cli import main
from migproof.config import load_config
from migproof.errors import SourceError
from migproof.findings import Report
from migproof.lint.recorded import lint_alembic_project
from migproof.sandbox import Sandbox

# an index built without CONCURRENTLY on a table the bootstrap file made (MP201)
NAME_INDEX = Revision(
    id="r3",
    down="r2",
    upgrade='op.create_index("ix_users_name", "users", ["name"])',
    downgrade='op.drop_index("ix_users_name", table_name="users")',
)


def lint(pg: Sandbox, root: Path, **overrides: object) -> Report:
    config = load_config(root, overrides=overrides)
    return lint_alembic_project(config, load_project(config, root), pg)


def checks(report: Report) -> list[tuple[str, str | None]]:
    return sorted((f.check, f.revision) for f in report.findings)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "project", [BASE, AUTH_STATE, NAME_INDEX])
    (root / "prod.sql").write_text(USERS + stamp("r1"))
    return root


def test_without_the_bootstrap_file_the_chain_fails_and_nothing_is_linted(
    pg: Sandbox, root: Path
) -> None:
    assert checks(lint(pg, root)) == [("MP010", "r2")]


def test_the_revisions_after_the_stamp_are_run_on_the_bootstrapped_database(
    pg: Sandbox, root: Path
) -> None:
    report = lint(pg, root, **{"verify.bootstrap-sql": "prod.sql"})
    # r2 and r3 alter a table the file made, without lock_timeout; r3 indexes it
    assert checks(report) == [("MP201", "r3"), ("MP210", "r2"), ("MP210", "r3")]
    (finding,) = (f for f in report.findings if f.check == "MP201")
    assert finding.location is not None
    r3 = root / "migrations" / "versions" / "r3.py"
    assert (finding.location.path, finding.location.line) == (r3, line_of(r3, "create_index"))
    assert [r["revision"] for r in report.records] == ["r2", "r3"]
    assert report.skipped == [
        ("revision r1", "prod.sql is stamped at it: taken as applied, not run or linted")
    ]


def test_an_unstamped_bootstrap_file_is_the_base_every_revision_runs_on(
    pg: Sandbox, root: Path
) -> None:
    (root / "prod.sql").write_text(USERS)
    report = lint(pg, root, **{"verify.bootstrap-sql": "prod.sql"})
    assert checks(report) == [("MP201", "r3"), ("MP210", "r2"), ("MP210", "r3")]
    assert [r["revision"] for r in report.records] == ["r1", "r2", "r3"]
    assert report.skipped == []


def test_a_stamp_of_an_unknown_revision_is_a_usage_error(pg: Sandbox, root: Path) -> None:
    (root / "prod.sql").write_text(USERS + stamp("beef"))
    with pytest.raises(SourceError, match="stamps revision 'beef'"):
        lint(pg, root, **{"verify.bootstrap-sql": "prod.sql"})


def test_the_cli_flag_and_the_project_s_own_configuration(
    pg: Sandbox,
    root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The flag is relative to where it is typed; the project's [tool.migproof.verify]
    bootstrap-sql is read from the project's directory, as verify reads it."""
    monkeypatch.chdir(tmp_path)
    url = pg.url

    def found(*args: str) -> set[str]:
        assert main(["lint", "--database-url", url, *args, "--format", "json", str(root)]) == 1
        return {f["check"] for f in json.loads(capsys.readouterr().out)["findings"]}

    assert found() == {"MP010"}
    assert found("--bootstrap-sql", "project/prod.sql") == {"MP201", "MP210"}
    (root / "pyproject.toml").write_text('[tool.migproof.verify]\nbootstrap-sql = "prod.sql"\n')
    code = main(["lint", "--database-url", url, "--disable", "MP201,MP210", str(root)])
    assert code == 0


def test_a_missing_bootstrap_file_is_a_usage_error(
    pg: Sandbox, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["lint", "--database-url", pg.url, "--bootstrap-sql", "nowhere.sql", str(root)])
    assert code == 2
