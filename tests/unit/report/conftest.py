"""Real reports for the renderer tests: verify and lint on copies of the bundled examples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.conftest import REPO

from migproof.config import load_config
from migproof.findings import Report
from migproof.lint import lint_paths
from migproof.sandbox import Sandbox
from migproof.verify import verify

SCHEMAS = Path(__file__).parent / "schemas"


def _copy(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    target = tmp_path_factory.mktemp("examples") / name
    shutil.copytree(REPO / "examples" / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="session")
def broken_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy(tmp_path_factory, "broken")


@pytest.fixture(scope="session")
def shop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy(tmp_path_factory, "shop")


@pytest.fixture(scope="session")
def broken_report(pg: Sandbox, broken_dir: Path) -> Report:
    """``migproof verify examples/broken``: defective revisions, eight findings."""
    return verify(load_config(broken_dir), broken_dir, host=pg)


@pytest.fixture(scope="session")
def shop_report(pg: Sandbox, shop_dir: Path) -> Report:
    """``migproof verify examples/shop``: a clean chain of five revisions."""
    return verify(load_config(shop_dir), shop_dir, host=pg)


@pytest.fixture(scope="session")
def lint_report(broken_dir: Path) -> Report:
    """``migproof lint examples/broken``: one finding on the revision id."""
    return lint_paths([broken_dir], load_config(broken_dir))
