"""Alembic's ``recursive_version_locations``: revision files below the versions directories.

neutron keeps 132 of its 133 revisions in ``versions/<release>/{expand,contract}/``; lint
read one of them and said "no findings".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.alembic_ini import is_recursive
from migproof.cli import main
from migproof.config import Config
from migproof.errors import ConfigError
from migproof.lint import lint_paths
from migproof.lint.files import discover

LONG_ID = "a" * 50  # over alembic_version.version_num's 32 characters: MP509


def _revision(rid: str, down: str | None) -> str:
    return (
        "from alembic import op\n\n"
        f"revision = {rid!r}\ndown_revision = {down!r}\n\n\n"
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    )


def _project(root: Path, ini_extra: str = "", pyproject: str | None = None) -> Path:
    """An Alembic project whose only revision, with a 50-character id, is in versions/sub/."""
    (root / "alembic.ini").write_text(
        f"[alembic]\nscript_location = migrations\n{ini_extra}\n", encoding="utf-8"
    )
    sub = root / "migrations" / "versions" / "sub"
    sub.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text("", encoding="utf-8")
    (sub / "0001_x.py").write_text(_revision(LONG_ID, None), encoding="utf-8")
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return sub / "0001_x.py"


def _findings(root: Path) -> list[tuple[str, str, int | None]]:
    report = lint_paths([root], Config(root=root))
    return [
        (f.check, f.location.path.relative_to(root).as_posix(), f.location.line)
        for f in report.sorted_findings()
        if f.location is not None
    ]


def test_revisions_below_the_versions_directory_are_read_when_alembic_reads_them(
    tmp_path: Path,
) -> None:
    _project(tmp_path, "recursive_version_locations = true")
    assert _findings(tmp_path) == [("MP509", "migrations/versions/sub/0001_x.py", 3)]


def test_without_the_setting_they_are_not_read_as_alembic_does_not(tmp_path: Path) -> None:
    _project(tmp_path)
    assert _findings(tmp_path) == []
    assert discover([tmp_path], Config(root=tmp_path)).revisions == []


def test_the_setting_in_pyproject_tool_alembic(tmp_path: Path) -> None:
    _project(tmp_path, pyproject="[tool.alembic]\nrecursive_version_locations = true\n")
    assert _findings(tmp_path) == [("MP509", "migrations/versions/sub/0001_x.py", 3)]


@pytest.mark.parametrize(
    ("ini", "pyproject", "expected"),
    [
        ("recursive_version_locations = false", "recursive_version_locations = true", False),
        ("recursive_version_locations = True", "", False),  # Alembic compares with "true"
        ("", "recursive_version_locations = false", False),
        ("recursive_version_locations = true", "recursive_version_locations = false", True),
    ],
    ids=["ini-decides", "only-lowercase-true", "toml-false", "ini-true"],
)
def test_the_setting_is_read_as_alembic_reads_it(
    tmp_path: Path, ini: str, pyproject: str, expected: bool
) -> None:
    _project(tmp_path, ini, pyproject=f"[tool.alembic]\n{pyproject}\n")
    assert is_recursive(tmp_path / "alembic.ini") is expected


def test_a_setting_that_is_no_boolean_in_pyproject_is_a_config_error(tmp_path: Path) -> None:
    _project(tmp_path, pyproject='[tool.alembic]\nrecursive_version_locations = "yes"\n')
    with pytest.raises(ConfigError, match="recursive_version_locations is 'yes', not a boolean"):
        discover([tmp_path], Config(root=tmp_path))


def test_files_are_in_natural_order_and_read_once(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nrecursive_version_locations = true\n"
        "version_locations = migrations/versions migrations/versions/10\n",
        encoding="utf-8",
    )
    versions = tmp_path / "migrations" / "versions"
    names = ["2/contract/b.py", "10/expand/a.py", "2/expand/a.py", "1.py", "10/__init__.py"]
    for i, name in enumerate(names):
        (versions / name).parent.mkdir(parents=True, exist_ok=True)
        (versions / name).write_text(_revision(f"r{i}", None), encoding="utf-8")
    (versions / "2" / "__pycache__").mkdir()
    (versions / "2" / "__pycache__" / "stale.py").write_text("", encoding="utf-8")
    found = discover([tmp_path], Config(root=tmp_path)).revisions
    assert [p.relative_to(versions).as_posix() for p in found] == [
        "1.py",
        "2/contract/b.py",
        "2/expand/a.py",
        "10/expand/a.py",
    ]


def test_start_after_finds_a_revision_below_the_versions_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, "recursive_version_locations = true")
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "--static", "--start-after", LONG_ID[:12]]) == 0
    assert main(["lint", "--static"]) == 1
