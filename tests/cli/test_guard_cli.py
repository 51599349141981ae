"""``migproof guard`` through the command line: exit codes, formats, usage errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.guard.scenario import EMAIL, MODELS, make_shop, revision

from migproof.cli import main


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    return make_shop(tmp_path, monkeypatch)


def test_failing_run_text(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit({"shop/models.py": MODELS + EMAIL}, "add email")
    assert main(["guard", "--base", "main"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "shop/models.py:16: MP701 schema change without a migration: table users: column email "
        "added",
        "    fix: add a new migration in migrations/versions/ that makes this change (alembic "
        "revision --autogenerate)",
        "guard: 1 error",
    ]


def test_passing_run_text(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit(
        {"shop/models.py": MODELS + EMAIL, "migrations/versions/b2.py": revision("b2", "a1")}
    )
    assert main(["guard", "--base", "main"]) == 0
    assert capsys.readouterr().out == "guard: no findings\n"


def test_github_and_json_formats(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit({"shop/models.py": MODELS + EMAIL}, "add email")
    assert main(["guard", "--base", "main", "--format", "github"]) == 1
    assert capsys.readouterr().out.startswith(
        "::error file=shop/models.py,line=16,title=MP701::schema change without a migration"
    )
    assert main(["guard", "--base", "main", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [(f["check"], f["path"], f["line"]) for f in document["findings"]] == [
        ("MP701", "shop/models.py", 16)
    ]
    assert document["records"][0]["schema_files_changed"] == ["shop/models.py"]


def test_base_defaults_to_the_pull_request_base(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    assert main(["guard"]) == 2
    assert "--base REF is required" in capsys.readouterr().err
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    assert main(["guard"]) == 2  # origin/main: this clone has no remote
    assert "git revision 'origin/main' is not in this clone" in capsys.readouterr().err


def test_not_a_git_repository_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["guard", "--base", "main"]) == 2
    err = capsys.readouterr().err
    assert "is not inside a git repository" in err
    assert "fix:" in err


def _shallow_clone(repo: GitRepo, target: Path, *extra: str) -> None:
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", *extra, f"file://{repo.path}", str(target)],
        check=True,
        capture_output=True,
    )


def test_shallow_clone_without_the_base_ref_exits_2_with_the_fetch_hint(
    repo: GitRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.commit({"shop/models.py": MODELS + EMAIL}, "add email")
    clone = tmp_path / "ci-checkout"
    _shallow_clone(repo, clone, "--branch", "feature")  # like actions/checkout's default
    monkeypatch.chdir(clone)
    assert main(["guard", "--base", "origin/main"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: git revision 'origin/main' is not in this clone",
        "  fix: fetch it first: `git fetch origin main` (in GitHub Actions, check out with "
        "`fetch-depth: 0`)",
    ]


def test_shallow_clone_without_the_merge_base_exits_2(
    repo: GitRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.commit({"shop/models.py": MODELS + EMAIL}, "add email")
    repo.checkout("main")
    repo.commit({"README.md": "shop, moved on\n"}, "main moves on")
    repo.checkout("feature")
    clone = tmp_path / "ci-checkout"
    _shallow_clone(repo, clone, "--no-single-branch", "--branch", "feature")
    monkeypatch.chdir(clone)
    assert main(["guard", "--base", "origin/main"]) == 2
    err = capsys.readouterr().err
    assert "origin/main and HEAD have no common ancestor in this clone" in err
    assert "git fetch --unshallow" in err


def test_no_migration_directory_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = GitRepo(tmp_path / "plain")
    plain.commit({"app.py": "print('hi')\n"})
    monkeypatch.chdir(plain.path)
    assert main(["guard", "--base", "main"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no migration directory found")
    assert "migration-dirs" in err


def test_unreadable_script_location_in_alembic_ini_exits_2(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit({"alembic.ini": "[alembic]\nscript_location = %(APP_DIR)s/migrations\n"})
    assert main(["guard", "--base", "main"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "[alembic] script_location cannot be read" in err
    assert "fix: correct script_location in alembic.ini" in err
