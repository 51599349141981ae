"""The rules' examples: ``cases/<CODE>/`` holds ``bad.sql`` and ``good.sql`` (or, for rules
over revision files, ``bad.py.txt`` and ``good.py.txt``), optionally ``setup.sql`` (the schema
before the migration) and ``bad.down.sql`` / ``good.down.sql`` (the downgrade).

Read by the tests (the findings of ``bad`` must equal its ``-- expect: MPxxx`` markers, and
``good`` must have none) and by the documentation generator ("Example" / "Use instead").
A ``-- config: key = value`` line sets a ``[tool.migproof.lint]`` option for the case.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from migproof.config import Config, LintConfig
from migproof.findings import Finding
from migproof.lint.engine import lint_revision_files, lint_sources
from migproof.lint.source import SqlSource

__all__ = ["Case", "case_codes", "expected_markers", "load_case", "run_case"]

_EXPECT = re.compile(r"(?:--|#)\s*expect:\s*(?P<codes>MP\d{3}(?:\s*,\s*MP\d{3})*)")
_CONFIG = re.compile(r"^--\s*config:\s*(?P<toml>.+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Case:
    code: str
    bad: str
    good: str
    setup: str | None = None
    bad_down: str | None = None
    good_down: str | None = None
    python: bool = False

    @property
    def language(self) -> str:
        return "python" if self.python else "sql"


def _root() -> Path:
    return Path(str(resources.files("migproof.lint") / "cases"))


def case_codes() -> list[str]:
    """Codes that have a case directory."""
    root = _root()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("MP"))


def load_case(code: str) -> Case | None:
    directory = _root() / code
    if not directory.is_dir():
        return None

    def read(name: str) -> str | None:
        path = directory / name
        return path.read_text(encoding="utf-8") if path.is_file() else None

    python = (directory / "bad.py.txt").is_file()
    bad = read("bad.py.txt" if python else "bad.sql")
    good = read("good.py.txt" if python else "good.sql")
    if bad is None or good is None:
        return None
    return Case(
        code=code,
        bad=bad,
        good=good,
        setup=read("setup.sql"),
        bad_down=read("bad.down.sql"),
        good_down=read("good.down.sql"),
        python=python,
    )


def expected_markers(text: str) -> list[tuple[str, int]]:
    """(code, line) of every ``-- expect: MPxxx`` marker."""
    found: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            found.extend((code.strip(), number) for code in match["codes"].split(","))
    return sorted(found)


def case_config(case: Case, text: str) -> Config:
    """Default configuration with the case's rule enabled and its ``-- config:`` lines."""
    values: dict[str, Any] = {}
    for match in _CONFIG.finditer(text):
        values.update(tomllib.loads(match["toml"]))
    fields: dict[str, Any] = {"enable": (case.code,)}
    for key, value in values.items():
        fields[key.replace("-", "_")] = tuple(value) if isinstance(value, list) else value
    return Config(root=Path.cwd(), lint=LintConfig(**fields))


def run_case(case: Case, which: str, path: Path) -> list[Finding]:
    """Lint the ``bad`` or ``good`` example as the file ``path`` (written for revisions)."""
    text = case.bad if which == "bad" else case.good
    config = case_config(case, text)
    if case.python:
        path.write_text(text, encoding="utf-8")
        return lint_revision_files([path], config)
    down = case.bad_down if which == "bad" else case.good_down
    source = SqlSource(text, path, setup_sql=case.setup, down_sql=down)
    return lint_sources([source], config)
