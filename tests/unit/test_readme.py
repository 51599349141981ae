"""The README's generated sections match the registries; its set-up commands match CI."""

from __future__ import annotations

import importlib.util
import re

from tests.conftest import REPO


def _updater():
    spec = importlib.util.spec_from_file_location(
        "update_readme", REPO / "scripts" / "update_readme.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_sections_are_current() -> None:
    text = (REPO / "README.md").read_text()
    assert _updater().regenerate(text) == text, "run `python scripts/update_readme.py`"


def test_every_check_is_in_the_rule_table() -> None:
    """The README's table, not the generator's output: that is built from all_checks itself."""
    from migproof.checks import all_checks

    text = (REPO / "README.md").read_text()
    start = text.index("<!-- begin generated: rules -->")
    table = text[start : text.index("<!-- end generated: rules -->", start)]
    for info in all_checks():
        assert f"| {info.code} | `{info.name}` |" in table


def test_readme_starts_with_two_commands_and_ci_runs_the_second() -> None:
    text = (REPO / "README.md").read_text()
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert "migproof verify examples/shop" in commands[0]
    ci = (REPO / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()
