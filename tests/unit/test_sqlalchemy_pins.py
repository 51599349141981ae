"""A project whose installed packages pin SQLAlchemy 1.x is told why it cannot be run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from migproof.chain.project import sqlalchemy_pin_fix, sqlalchemy_pins


def _install(site: Path, name: str, requires: list[str]) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    lines = [f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"]
    lines += [f"Requires-Dist: {r}\n" for r in requires]
    (info / "METADATA").write_text("".join(lines))


def test_packages_that_need_sqlalchemy_1_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(tmp_path, "indicoish", ["sqlalchemy==1.4.48", "flask>=2"])
    _install(tmp_path, "airflowish", ['SQLAlchemy<2.0,>=1.4.36; python_version >= "3.8"'])
    _install(tmp_path, "modern", ["sqlalchemy>=2.0", "sqlalchemy-utils<2"])
    _install(tmp_path, "loose", ["sqlalchemy<2.1,>=1.4"])
    _install(tmp_path, "optional", ['sqlalchemy<2; extra == "legacy"'])
    _install(tmp_path / "again", "indicoish", ["sqlalchemy==1.4.48"])  # on sys.path twice
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path / "again"))
    ours = {"indicoish", "airflowish", "modern", "loose", "optional"}
    pins = [p for p in sqlalchemy_pins() if p.split()[0] in ours]
    assert pins == [
        "airflowish 1.0 requires SQLAlchemy<2.0,>=1.4.36",
        "indicoish 1.0 requires sqlalchemy==1.4.48",
    ]
    fix = sqlalchemy_pin_fix("ArgumentError: Column expression ... Did you mean select(...)?")
    assert fix is not None
    assert "migproof runs the project with SQLAlchemy 2" in fix
    assert "`migproof lint --static`" in fix
    # an error of another kind (a variable env.py lacks) gets its own fix
    assert sqlalchemy_pin_fix("KeyError: 'APP_DATABASE_URL'") is None


def test_no_pin_no_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(tmp_path, "modern", ["sqlalchemy>=2.0"])
    monkeypatch.setattr(sys, "path", [str(tmp_path)])  # these packages alone
    assert sqlalchemy_pins() == []
    assert sqlalchemy_pin_fix("ArgumentError: x") is None
