"""Fixtures for guard tests; the project they build is in scenario.py (shared with tests/cli)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.guard.scenario import make_shop


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """The shop project on branch ``feature``, the working directory of the test."""
    return make_shop(tmp_path, monkeypatch)
