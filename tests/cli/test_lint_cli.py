"""``migproof lint`` and ``migproof rules`` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migproof.checks import all_checks
from migproof.cli import main
from migproof.lint.docs import check_page

BAD = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"
GOOD = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    return tmp_path


def test_clean_run_exits_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "migrations/1_ok.sql").write_text(GOOD)
    assert main(["lint", "migrations"]) == 0
    assert capsys.readouterr().out.splitlines() == ["lint: no findings"]


def test_findings_exit_1_with_text(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "migrations/1_bad.sql").write_text(BAD)
    assert main(["lint", "migrations/1_bad.sql"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "migrations/1_bad.sql:1:1: MP201 CREATE INDEX on public.orders blocks writes to"
        " public.orders until the index is built"
    )
    assert out[-1] == "lint: 1 error, 1 warning"


def test_a_location_at_line_100_is_not_an_emoji(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """rich reads ``:100:`` as an emoji code: CKAN's findings at line 100 came out as 💯."""
    (project / "migrations/1_bad.sql").write_text("\n" * 99 + BAD)
    assert main(["lint", "migrations/1_bad.sql"]) == 1
    assert capsys.readouterr().out.startswith("migrations/1_bad.sql:100:1: MP201 ")
    assert main(["lint", "migrations/1_bad.sql", "--output", "report.txt"]) == 1
    assert (project / "report.txt").read_text().startswith("migrations/1_bad.sql:100:1: MP201 ")


def test_json_and_github_formats(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "migrations/1_bad.sql").write_text(BAD)
    assert main(["lint", "migrations", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(f["check"], f["line"], f["column"]) for f in data["findings"]] == [
        ("MP201", 1, 1),
        ("MP210", 1, 1),
    ]
    assert main(["lint", "migrations", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("::error file=migrations/1_bad.sql,line=1,col=1,title=MP201::")


def test_missing_path_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "nope.sql"]) == 2
    assert "error: nope.sql does not exist" in capsys.readouterr().err


def test_bad_pg_version_exits_2(project: Path) -> None:
    assert main(["lint", "--pg-version", "latest", "migrations"]) == 2


def test_pg_version_changes_the_verdict(project: Path) -> None:
    (project / "migrations/1.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c text DEFAULT 'x';\n"
    )
    assert main(["lint", "migrations"]) == 0
    assert main(["lint", "--pg-version", "10.23", "migrations"]) == 1


def test_disable_and_enable_flags(project: Path) -> None:
    (project / "migrations/1_bad.sql").write_text(BAD)
    assert main(["lint", "--disable", "require-concurrent-index-creation,MP210", "migrations"]) == 0
    (project / "migrations/1_bad.sql").write_text(GOOD + "CREATE TABLE j (id bigint, d json);\n")
    assert main(["lint", "migrations"]) == 0
    assert main(["lint", "--enable", "prefer-jsonb", "migrations"]) == 1
    assert main(["lint", "--disable", "no-such-rule", "migrations"]) == 2


def test_config_file_options(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.migproof.lint]\nprotected-schemas = ["entity"]\ndisable = ["MP210"]\n'
    )
    (project / "migrations/1.sql").write_text("TRUNCATE public.cache;\n")
    assert main(["lint", "migrations"]) == 0
    (project / "migrations/1.sql").write_text("TRUNCATE entity.identity;\n")
    assert main(["lint", "migrations"]) == 1


def test_syntax_error_is_a_finding_not_a_crash(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "migrations/1.sql").write_text("CREATE TABLE t (id int,);\n")
    assert main(["lint", "migrations"]) == 1
    out = capsys.readouterr().out
    assert (
        'migrations/1.sql:1:24: MP901 PostgreSQL cannot parse this migration: syntax error at or near ")"'
        in out
    )


def test_lint_in_an_alembic_project_reads_its_revisions(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (project / "migrations/versions").mkdir()
    (project / "migrations/versions/a_x.py").write_text(
        'import psycopg\nrevision = "a"\n\ndef upgrade():\n    psycopg.connect("")\n'
    )
    assert main(["lint"]) == 1
    assert "migrations/versions/a_x.py:5:5: MP510" in capsys.readouterr().out


def test_static_lint_finds_revisions_under_a_package_script_location(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """script_location = mypkg.db:alembic, found where the package is, as Alembic finds it."""
    versions = project / "src" / "mypkg" / "db" / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "a_x.py").write_text(
        'import psycopg\nrevision = "a"\n\ndef upgrade():\n    psycopg.connect("")\n'
    )
    (project / "alembic.ini").write_text(
        "[alembic]\nscript_location = mypkg.db:alembic\nprepend_sys_path = src\n"
    )
    # found where prepend_sys_path says, as Alembic finds it; the package is not imported
    (project / "src" / "mypkg" / "__init__.py").write_text('raise RuntimeError("imported")\n')
    (project / "src" / "mypkg" / "db" / "__init__.py").write_text("")
    assert main(["lint", "--static"]) == 1
    assert "src/mypkg/db/alembic/versions/a_x.py:5:5: MP510" in capsys.readouterr().out


def test_an_alembic_project_s_other_sql_files_are_not_migrations(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Test fixtures and dumps in an Alembic project's tree are not linted as migrations."""
    (project / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (project / "migrations/versions").mkdir()
    (project / "migrations/versions/a_x.py").write_text('revision = "a"\ndown_revision = None\n')
    (project / "tests/fixtures").mkdir(parents=True)
    (project / "tests/fixtures/seed.sql").write_text("DROP TABLE users;\n")
    assert main(["lint", "--static"]) == 0
    assert "no findings" in capsys.readouterr().out


def test_the_bootstrap_file_is_no_migration(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.migproof.verify]\nbootstrap-sql = "migrations/0000_schema.sql"\n'
    )
    (project / "migrations/0000_schema.sql").write_text("DROP TABLE legacy;\n")
    (project / "migrations/0001_good.sql").write_text(GOOD)
    assert main(["lint", "migrations"]) == 0
    assert "no findings" in capsys.readouterr().out


def test_rules_lists_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(all_checks())
    assert any(line.startswith("MP201  error    on   index-without-concurrently") for line in out)


def test_rules_id_prints_its_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "require-concurrent-index-creation"]) == 0
    out = capsys.readouterr().out
    assert out == check_page(next(c for c in all_checks() if c.code == "MP201"))
    assert "## Use instead" in out


def test_rules_unknown_id_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "MP2011"]) == 2
    assert "unknown check 'MP2011'" in capsys.readouterr().err


def test_rules_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| Code | Name | Severity | Default | What it finds | squawk |"
    assert len(lines) == len(all_checks()) + 2


def test_write_docs(tmp_path: Path) -> None:
    assert main(["rules", "--write-docs", str(tmp_path / "rules")]) == 0
    pages = sorted(p.name for p in (tmp_path / "rules").glob("MP*.md"))
    assert pages == sorted(f"{c.code}.md" for c in all_checks())


def test_nothing_to_lint_warns_and_exits_0(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", "migrations"]) == 0
    captured = capsys.readouterr()
    assert "warning: no .sql migrations or Alembic revisions found in migrations" in captured.err


def test_protected_schema_flag(project: Path) -> None:
    (project / "migrations/1.sql").write_text("SET lock_timeout = '1s';\nTRUNCATE entity.log;\n")
    assert main(["lint", "migrations"]) == 0
    assert main(["lint", "--protected-schema", "entity", "migrations"]) == 1
