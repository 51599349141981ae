"""The committed rule pages under docs/rules/ are what the registry generates."""

from __future__ import annotations

from pathlib import Path

from migproof.checks import all_checks
from migproof.lint.docs import check_page

DOCS = Path(__file__).resolve().parents[3] / "docs" / "rules"


def test_rule_pages_are_fresh() -> None:
    stale = []
    for info in all_checks():
        path = DOCS / f"{info.code}.md"
        if not path.is_file() or path.read_text(encoding="utf-8") != check_page(info):
            stale.append(info.code)
    extra = {p.stem for p in DOCS.glob("MP*.md")} - {c.code for c in all_checks()}
    assert not stale and not extra, (
        f"stale pages {stale}, pages of removed checks {sorted(extra)}: run"
        " `migproof rules --write-docs docs/rules`"
    )


def test_pages_show_the_cases_without_markers() -> None:
    page = check_page(next(c for c in all_checks() if c.code == "MP201"))
    assert "## Example" in page and "## Use instead" in page
    assert "expect:" not in page
