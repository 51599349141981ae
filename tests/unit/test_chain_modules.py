"""unload_modules: a project's own modules go, installed packages stay."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from migproof.chain.modules import unload_modules


def _module(name: str, path: Path) -> None:
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module


def test_the_projects_modules_go_and_installed_ones_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    project, other = tmp_path / "shop", tmp_path / "elsewhere"
    _module("mp_t_models", project / "models.py")
    _module("mp_t_vendored", project / ".venv/lib/python3.11/site-packages/vendored.py")
    _module("app", other / "app.py")  # another project's application
    _module("mp_t_other", other / "other.py")
    unload_modules(project, among=["mp_t_models", "mp_t_vendored"])
    assert "mp_t_models" not in sys.modules
    assert "mp_t_vendored" in sys.modules
    unload_modules(project, names=frozenset({"app"}))
    assert "app" not in sys.modules
    assert "mp_t_other" in sys.modules
