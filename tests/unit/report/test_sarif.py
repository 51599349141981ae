"""``--format sarif``: SARIF 2.1.0 valid against the OASIS schema, rules from the check docs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.report.conftest import SCHEMAS

from migproof.checks import find_check
from migproof.config import load_config
from migproof.findings import Finding, Location, Report, Severity
from migproof.guard import guard
from migproof.lint import lint_paths
from migproof.report import sarif
from migproof.sandbox import Sandbox
from migproof.sqlmigrate import migrate, status

try:
    import jsonschema
except ImportError:  # in the test extra; without it only the schema checks are left out
    jsonschema = None
NO_VALIDATOR = "jsonschema (the test extra) validates against the SARIF schema"

SCHEMA = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def _log(report: Report, root: Path) -> Any:
    document = sarif.report_to_sarif(report, root)
    # what render writes is the same document, as JSON
    out = io.StringIO()
    sarif.render(report, out)
    assert set(json.loads(out.getvalue())) == set(document)
    if jsonschema is not None:
        errors = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(document)]
        assert errors == []
    return document


def test_the_schema_check_runs() -> None:
    if jsonschema is None:
        pytest.skip(NO_VALIDATOR)
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken)) != []


def test_broken_example(broken_report: Report, broken_dir: Path) -> None:
    log = _log(broken_report, broken_dir)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": broken_dir.as_uri() + "/"}}
    rows = [
        (
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    ]
    versions = "migrations/versions/"
    long_file = versions + "0006_add_billing_contact_to_accounts_table.py"
    assert rows == [
        ("MP011", "error", versions + "0002_downgrade_typo.py", 18),
        ("MP013", "error", versions + "0003_enum_left_behind.py", 17),
        ("MP012", "error", versions + "0003_enum_left_behind.py", 21),
        ("MP013", "error", versions + "0004_index_left_behind.py", 15),
        ("MP012", "error", versions + "0004_index_left_behind.py", 19),
        ("MP012", "error", versions + "0005_fk_rule_not_restored.py", 21),
        ("MP005", "error", long_file, 1),
        ("MP010", "error", long_file, 10),
    ]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["MP011", "MP013", "MP012", "MP005", "MP010"]
    assert all(
        run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"]
    )
    info = find_check("MP012")
    assert info is not None
    mp012 = rules[2]
    assert mp012["name"] == "incomplete-downgrade"
    assert mp012["shortDescription"] == {"text": info.summary}
    assert mp012["help"]["markdown"] == info.docs
    assert mp012["help"]["markdown"].startswith("## What it does")
    assert run["results"][0]["properties"] == {
        "revision": "0002",
        "statement": "ALTER TABLE accounts DROP COLUMNN plan",
    }


def test_clean_example_has_no_results(shop_report: Report, shop_dir: Path) -> None:
    run = _log(shop_report, shop_dir)["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_lint_report(lint_report: Report, broken_dir: Path) -> None:
    run = _log(lint_report, broken_dir)["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["MP509"]
    assert run["automationDetails"] == {"id": "migproof/lint/"}


def test_severities_regions_and_uris(tmp_path: Path) -> None:
    inside = tmp_path / "db" / "my migrations" / "1_init.sql"
    outside = Path("/elsewhere/2.sql")
    findings = [
        Finding(
            check="MP201",
            severity=Severity.ERROR,
            message="CREATE INDEX blocks writes",
            fix="add CONCURRENTLY",
            location=Location(path=inside, line=3, column=5, end_line=4, end_column=12),
        ),
        Finding(
            check="MP502",
            severity=Severity.WARNING,
            message="no index",
            location=Location(path=outside, line=1),
        ),
        Finding(check="MP008", severity=Severity.INFO, message="irreversible"),
    ]
    run = _log(Report(command="lint", findings=findings), tmp_path)["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert {k: r["level"] for k, r in by_rule.items()} == {
        "MP201": "error",
        "MP502": "warning",
        "MP008": "note",
    }
    location = by_rule["MP201"]["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "db/my%20migrations/1_init.sql", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3, "startColumn": 5, "endLine": 4, "endColumn": 12},
    }
    assert (
        by_rule["MP201"]["message"]["text"] == "CREATE INDEX blocks writes\nfix: add CONCURRENTLY"
    )
    assert by_rule["MP502"]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "file:///elsewhere/2.sql"
    }
    # no file of its own: shown on the directory the report's files share (no project file)
    assert by_rule["MP008"]["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "db/my%20migrations/", "uriBaseId": "%SRCROOT%"}
            }
        }
    ]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in run["tool"]["driver"]["rules"]}
    assert levels == {"MP201": "error", "MP502": "warning", "MP008": "note"}


def test_an_unregistered_check_still_gets_a_rule(tmp_path: Path) -> None:
    finding = Finding(check="MP999", severity=Severity.WARNING, message="?")
    run = _log(Report(command="lint", findings=[finding]), tmp_path)["runs"][0]
    assert run["tool"]["driver"]["rules"] == [
        {"id": "MP999", "defaultConfiguration": {"level": "warning"}}
    ]


def test_repository_root_is_the_enclosing_git_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert sarif.repository_root(tmp_path / "a" / "b") == tmp_path.resolve()


# ---- URIs follow each command's path convention -----------------------------------------------

MODELS = """import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
"""
REVISION = """revision = "a1"
down_revision = None

from alembic import op


def upgrade():
    op.execute("CREATE TABLE users (id int)")


def downgrade():
    op.execute("DROP TABLE users")
"""


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A git repository whose Alembic project is backend/; HEAD adds a model column."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "backend/alembic.ini": "[alembic]\nscript_location = migrations\n",
            "backend/migrations/env.py": "from shop.models import Base\n",
            "backend/migrations/versions/a1_init.py": REVISION,
            "backend/shop/__init__.py": "",
            "backend/shop/models.py": MODELS,
        },
        "initial",
    )
    repo.branch("feature")
    email = "    email: Mapped[str] = mapped_column(sa.String(100))\n"
    repo.commit({"backend/shop/models.py": MODELS + email}, "email")
    return repo.path


def _places(run: Any) -> list[tuple[str, str, int | None]]:
    rows = []
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        line = physical["region"]["startLine"] if "region" in physical else None
        rows.append((result["ruleId"], physical["artifactLocation"]["uri"], line))
    return rows


@pytest.mark.parametrize("where", ["backend", "."])
def test_guard_uris_are_relative_to_the_repository_from_any_directory(
    monorepo: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # guard names files as git does (from the top level), wherever it runs
    monkeypatch.chdir(monorepo / where)
    report = guard(load_config(monorepo / "backend"), "main")
    assert [(f.check, str(f.location.path) if f.location else None) for f in report.findings] == [
        ("MP701", "backend/shop/models.py")
    ]
    run = _log(report, sarif.repository_root())["runs"][0]
    assert _places(run) == [("MP701", "backend/shop/models.py", 13)]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": monorepo.resolve().as_uri() + "/"}}


def test_lint_uris_from_a_subdirectory_keep_the_subdirectory(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # lint (like verify and the runner) names files as given: relative to the working directory
    backend = monorepo / "backend"
    (backend / "db").mkdir()
    (backend / "db/1_index.sql").write_text("CREATE INDEX users_name ON users (name);\n")
    monkeypatch.chdir(backend)
    report = lint_paths([Path("db")], load_config(backend))
    assert {str(f.location.path) for f in report.findings if f.location} == {"db/1_index.sql"}
    run = _log(report, sarif.repository_root())["runs"][0]
    assert {uri for _, uri, _ in _places(run)} == {"backend/db/1_index.sql"}


# ---- every result has a location --------------------------------------------------------------


def test_a_finding_without_a_file_is_shown_on_its_revision_or_the_project_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    project = tmp_path / "backend"
    versions = project / "migrations" / "versions"
    versions.mkdir(parents=True)
    (project / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    first, second = versions / "a1_init.py", versions / "b2_more.py"
    first.write_text(REVISION)
    second.write_text(REVISION)
    monkeypatch.chdir(tmp_path)
    records: list[dict[str, object]] = [
        {"revision": "a1", "path": str(first)},
        {"revision": "b2", "path": "backend/migrations/versions/b2_more.py"},
    ]
    findings = [
        # downgrade to base and upgrade to head: a failure names its revision, a diff does not
        Finding(check="MP015", severity=Severity.ERROR, message="upgrade fails", revision="b2"),
        Finding(check="MP015", severity=Severity.ERROR, message="head differs"),
        Finding(check="MP015", severity=Severity.ERROR, message="gone", revision="c3"),
        Finding(
            check="MP012",
            severity=Severity.ERROR,
            message="has its own",
            revision="a1",
            location=Location(path=first, line=9),
        ),
    ]
    run = _log(Report(command="verify", findings=findings, records=records), tmp_path)["runs"][0]
    assert sorted(_places(run)) == [
        ("MP012", "backend/migrations/versions/a1_init.py", 9),
        ("MP015", "backend/alembic.ini", 1),
        ("MP015", "backend/alembic.ini", 1),
        ("MP015", "backend/migrations/versions/b2_more.py", 1),
    ]


def test_a_report_with_no_paths_falls_back_to_the_project_file_above_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.migproof]\n")
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path / "app")
    finding = Finding(check="MP015", severity=Severity.ERROR, message="head differs")
    run = _log(Report(command="verify", findings=[finding]), tmp_path)["runs"][0]
    assert _places(run) == [("MP015", "pyproject.toml", 1)]


@pytest.mark.parametrize("pyproject", [False, True])
def test_status_check_missing_file_gets_a_location(
    tmp_path: Path, pg: Sandbox, db: str, monkeypatch: pytest.MonkeyPatch, pyproject: bool
) -> None:
    (tmp_path / ".git").mkdir()
    if pyproject:
        (tmp_path / "pyproject.toml").write_text("[tool.migproof.migrate]\nlock-wait = 5\n")
    (tmp_path / "db").mkdir()
    (tmp_path / "db/1_a.up.sql").write_text("CREATE TABLE a (id int);\n")
    (tmp_path / "db/2_b.up.sql").write_text("CREATE TABLE b (id int);\n")
    monkeypatch.chdir(tmp_path)
    url = pg.url_for(db)
    assert migrate(load_config(tmp_path), Path("db"), url).findings == []
    (tmp_path / "db/2_b.up.sql").unlink()
    report = status(load_config(tmp_path), Path("db"), url, check=True)
    assert [(f.check, f.location) for f in report.findings] == [("MP807", None)]
    run = _log(report, tmp_path)["runs"][0]
    expected = ("MP807", "pyproject.toml", 1) if pyproject else ("MP807", "db/", None)
    assert _places(run) == [expected]
