"""``--html FILE``: the page's structure, the graph's layout, and the page in a real browser."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.conftest import REPO
from tests.unit.report.browser import Browser, find_browser

from migproof.findings import Finding, Location, Report, Severity
from migproof.report import html_format
from migproof.report.html_format import layout_graph

BROKEN_REVISIONS = [
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006_add_billing_contact_to_accounts_table",
]


def _page(report: Report) -> str:
    out = io.StringIO()
    html_format.render(report, out)
    return out.getvalue()


class _Page(HTMLParser):
    """The nodes, details sections and external references of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[tuple[str, str]] = []  # (revision, class)
        self.details: list[str] = []
        self.edges: list[tuple[str, str]] = []
        self.external: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        classes = (found.get("class") or "").split()
        if tag == "g" and "node" in classes:
            self.nodes.append((str(found["data-revision"]), classes[1]))
        if tag == "section" and "details" in classes:
            self.details.append(str(found["data-revision"]))
        if tag == "path" and "edge" in classes:
            self.edges.append((str(found["data-from"]), str(found["data-to"])))
        for name in ("src", "href"):
            if found.get(name):
                self.external.append(str(found[name]))


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_layout_of_a_line() -> None:
    nodes = layout_graph([("a", []), ("b", ["a"]), ("c", ["b"])])
    assert [(n.revision, n.row, n.lane, n.parents) for n in nodes] == [
        ("a", 0, 0, ()),
        ("b", 1, 0, ("a",)),
        ("c", 2, 0, ("b",)),
    ]


def test_layout_of_branches_and_a_merge() -> None:
    nodes = layout_graph(
        [
            ("base", []),
            ("left", ["base"]),
            ("right", ["base"]),
            ("right2", ["right"]),
            ("merge", ["left", "right2"]),
            ("after", ["merge"]),
        ]
    )
    assert [(n.revision, n.lane) for n in nodes] == [
        ("base", 0),
        ("left", 0),
        ("right", 1),
        ("right2", 1),
        ("merge", 0),
        ("after", 0),
    ]
    assert nodes[4].parents == ("left", "right2")


def test_layout_keeps_a_heads_lane_and_reuses_freed_ones() -> None:
    nodes = layout_graph(
        [("a", []), ("h1", ["a"]), ("b", ["a"]), ("m", ["b"]), ("x", []), ("y", ["x"])]
    )
    lanes = {n.revision: n.lane for n in nodes}
    assert lanes == {"a": 0, "h1": 0, "b": 1, "m": 1, "x": 2, "y": 2}


def test_broken_example_structure(broken_report: Report) -> None:
    text = _page(broken_report)
    page = _parse(text)
    assert page.nodes == [
        ("0001", "ok"),
        ("0002", "failed"),
        ("0003", "failed"),
        ("0004", "failed"),
        ("0005", "failed"),
        ("0006_add_billing_contact_to_accounts_table", "failed"),
    ]
    assert page.details == BROKEN_REVISIONS
    assert page.edges == list(zip(BROKEN_REVISIONS[1:], BROKEN_REVISIONS[:-1], strict=True))
    assert page.external == []  # self-contained: no stylesheet, script or image to fetch
    assert "link" not in page.tags and "img" not in page.tags
    assert "ALTER TABLE accounts DROP COLUMNN plan" in text
    assert "CREATE TYPE account_status AS ENUM (&#x27;active&#x27;, &#x27;suspended&#x27;)" in text
    assert "downgrade to base and upgrade to head: earlier revisions failed" in text


def test_clean_example_structure(shop_report: Report) -> None:
    page = _parse(_page(shop_report))
    assert [cls for _, cls in page.nodes] == ["ok"] * 5
    assert len(page.details) == 5


def test_down_revisions_draw_the_merge_and_diffs_are_coloured() -> None:
    records: list[dict[str, object]] = [
        {"revision": "a", "down_revisions": [], "upgrade": "ok", "roundtrip": "ok"},
        {"revision": "b", "down_revisions": ["a"], "upgrade": "ok", "roundtrip": "ok"},
        {"revision": "c", "down_revisions": ["a"], "upgrade": "ok", "roundtrip": "failed"},
        {"revision": "m", "down_revisions": ["b", "c"], "upgrade": "ok", "roundtrip": "skipped"},
    ]
    diff = Finding(
        check="MP012",
        severity=Severity.ERROR,
        message="enum <public.status> left behind",
        revision="c",
        location=Location(path=Path("v/c.py"), line=9),
        context=(("diff", "--- before c\n+++ after downgrade of c\n+enum public.status"),),
    )
    text = _page(Report(command="verify", findings=[diff], records=records))
    page = _parse(text)
    assert page.nodes == [("a", "ok"), ("b", "ok"), ("c", "failed"), ("m", "skipped")]
    assert sorted(page.edges) == [("b", "a"), ("c", "a"), ("m", "b"), ("m", "c")]
    assert '<span class="add">+enum public.status</span>' in text
    assert '<span class="hunk">--- before c</span>' in text
    assert "enum &lt;public.status&gt; left behind" in text


def test_a_report_without_revisions_lists_its_findings() -> None:
    finding = Finding(check="MP201", severity=Severity.ERROR, message="CREATE INDEX blocks writes")
    text = _page(Report(command="lint", findings=[finding]))
    page = _parse(text)
    assert page.nodes == []
    assert "CREATE INDEX blocks writes" in text


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    found = find_browser()
    if isinstance(found, str):
        pytest.skip(found)
    session = Browser(*found)
    yield session
    session.close()


def test_in_a_headless_browser(
    browser: Browser,
    broken_report: Report,
    broken_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(broken_dir.parent)  # paths on the page read broken/migrations/...
    page = tmp_path / "report.html"
    page.write_text(_page(broken_report), encoding="utf-8")
    browser.open(page)
    assert [e for e in browser.console() if e.get("level") in ("SEVERE", "WARNING")] == []
    nodes = browser.script(
        "return [...document.querySelectorAll('#graph .node')]"
        ".map(n => n.getAttribute('data-revision'))"
    )
    assert nodes == BROKEN_REVISIONS
    shown = "return [...document.querySelectorAll('.details')].filter(s => !s.hidden)"
    # the first failed revision is open at first; a click opens another
    assert browser.script(shown + ".map(s => s.dataset.revision)") == ["0002"]
    browser.click('#graph .node[data-revision="0003"]')
    assert browser.script(shown + ".map(s => s.dataset.revision)") == ["0003"]
    text = browser.script(shown + "[0].innerText")
    assert "enum public.account_status is left behind" in text
    assert "CREATE TYPE account_status AS ENUM ('active', 'suspended')" in text
    browser.click('#graph .node[data-revision="0001"]')
    assert browser.script(shown + ".map(s => s.dataset.revision)") == ["0001"]
    assert "CREATE TABLE accounts" in browser.script(shown + "[0].innerText")
    assert browser.console() == []
    browser.click('#graph .node[data-revision="0003"]')
    shot = tmp_path / "report.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("MIGPROOF_UPDATE_GOLDEN"):
        (REPO / "docs" / "report-example.png").write_bytes(shot.read_bytes())
