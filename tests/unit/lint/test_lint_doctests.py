"""The examples in the lint package's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["migproof.lint", "migproof.lint.engine", "migproof.lint.source"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
