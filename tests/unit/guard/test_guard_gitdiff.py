"""The one ``git cat-file --batch`` process: answers for present, missing and odd names."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.guard.scenario import EMAIL, ENV_PY, MODELS, revision

from migproof.config import load_config
from migproof.errors import SourceError
from migproof.guard import guard
from migproof.guard.gitdiff import ObjectReader, _parse_header


def test_missing_names_with_spaces_keep_the_batch_in_step(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.commit({"my app/a b.txt": "one\n", "my app/c.txt": "two\n"})
    with ObjectReader(repo.path) as objects:
        objects.prefetch(
            [
                "HEAD:my app/not here.py",  # git answers `HEAD:my app/not here.py missing`
                "HEAD:my app/a b.txt",
                "HEAD:my app/a b.txt missing",  # a name that ends in the word itself
                "HEAD:my app/two\nlines.py",  # never sent: git reads one name a line
                "HEAD:my app/c.txt",
            ]
        )
        assert objects.text("HEAD", "my app/not here.py") is None
        assert objects.text("HEAD", "my app/a b.txt") == "one\n"
        assert objects.text("HEAD", "my app/a b.txt missing") is None
        assert objects.text("HEAD", "my app/two\nlines.py") is None
        assert objects.text("HEAD", "my app/c.txt") == "two\n"
        assert objects.list_files("HEAD", "my app") == ["my app/a b.txt", "my app/c.txt"]
        assert objects.list_files("HEAD", "no dir") == []


def _project_in_a_directory_with_a_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> GitRepo:
    repo = GitRepo(tmp_path / "p")
    repo.commit(
        {
            "my app/alembic.ini": "[alembic]\nscript_location = migrations\n",
            "my app/shop/__init__.py": "",
            "my app/shop/models.py": MODELS,
        }
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path / "my app")
    return repo


def test_first_migration_directory_with_a_space_in_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the base branch has no migrations/ yet: git answers `<commit>:my app/migrations missing`
    repo = _project_in_a_directory_with_a_space(tmp_path, monkeypatch)
    repo.commit(
        {
            "my app/migrations/env.py": ENV_PY,
            "my app/migrations/versions/a1_init.py": revision("a1", None),
            "my app/shop/models.py": MODELS + EMAIL,
        }
    )
    report = guard(load_config(repo.path / "my app"), "main")
    assert report.findings == []


def test_model_change_in_a_directory_with_a_space_without_a_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _project_in_a_directory_with_a_space(tmp_path, monkeypatch)
    repo.commit({"my app/shop/models.py": MODELS + EMAIL})
    report = guard(load_config(repo.path / "my app"), "main")
    assert [(f.check, str(f.location.path) if f.location else "") for f in report.findings] == [
        ("MP701", "my app/shop/models.py")
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"45b983be36b73c0788dc9cbcb76cbb80fc7bb057 blob 3\n", ("blob", 3)),
        (b"HEAD:a b/c 12.py missing\n", None),
        (b"HEAD:x ambiguous\n", None),
    ],
)
def test_batch_headers(line: bytes, expected: tuple[str, int] | None) -> None:
    assert _parse_header(line) == expected


@pytest.mark.parametrize("line", [b"", b"fatal: not a git repository\n"])
def test_a_batch_answer_out_of_protocol_is_a_source_error(line: bytes) -> None:
    with pytest.raises(SourceError, match="not an object header"):
        _parse_header(line)
