"""``--html FILE``: one self-contained page (no network) to read a run in a browser.

The revision graph is an SVG laid out here (one row per revision in topological order, one
lane per branch, edges from each revision to its down revisions, so branches and merges
show), each node coloured by its status; clicking a node shows that revision's details: its
status and timings, its findings with their titled blocks (the diffs of failed round trips),
and every SQL statement it ran with its duration and the locks it took when recorded.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from migproof import __version__
from migproof.findings import Finding, Report, Severity, display_path

__all__ = ["GraphNode", "layout_graph", "render", "revision_status"]

_ROW = 44
_LANE = 28
_PAD = 22
_RADIUS = 8


@dataclass(frozen=True, slots=True)
class GraphNode:
    """A revision placed on the picture: its row (topological order) and lane (branch)."""

    revision: str
    row: int
    lane: int
    parents: tuple[str, ...]


def layout_graph(revisions: Sequence[tuple[str, Sequence[str]]]) -> list[GraphNode]:
    """Place revisions given in topological order with their down revisions.

    A revision continues the lane of its first parent that no other child has continued yet;
    otherwise it opens the lowest free lane. A lane stays taken while its revision still has
    children to place, and a head keeps its lane, so no revision is drawn above an unrelated one.

    >>> [(n.revision, n.lane) for n in layout_graph([("a", []), ("b", ["a"]), ("c", ["a"]),
    ...                                               ("m", ["b", "c"])])]
    [('a', 0), ('b', 0), ('c', 1), ('m', 0)]
    """
    known = {revision for revision, _ in revisions}
    children: dict[str, int] = dict.fromkeys(known, 0)
    for _, parents in revisions:
        for parent in parents:
            if parent in children:
                children[parent] += 1
    lane_of: dict[str, int] = {}
    occupant: dict[int, str] = {}
    nodes = []
    for row, (revision, all_parents) in enumerate(revisions):
        parents = tuple(p for p in all_parents if p in lane_of)
        lane = next((lane_of[p] for p in parents if occupant.get(lane_of[p]) == p), None)
        if lane is None:
            lane = next(n for n in itertools.count() if n not in occupant)
        for parent in parents:
            children[parent] -= 1
            if children[parent] == 0 and occupant.get(lane_of[parent]) == parent:
                del occupant[lane_of[parent]]
        lane_of[revision] = lane
        occupant[lane] = revision
        nodes.append(GraphNode(revision, row, lane, parents))
    return nodes


def revision_status(record: dict[str, object], findings: Iterable[Finding]) -> str:
    """``failed``, ``skipped``, ``not run`` or ``ok`` for one revision."""
    upgrade, roundtrip = record.get("upgrade"), record.get("roundtrip")
    if "failed" in (upgrade, roundtrip) or any(f.severity is Severity.ERROR for f in findings):
        return "failed"
    if upgrade == "not run" or not record:
        return "not run"
    if upgrade == "bootstrap":  # stamped in the bootstrap file: applied, never run
        return "skipped"
    if roundtrip in ("skipped", "not run"):
        return "skipped"
    return "ok"


def _revisions(report: Report) -> list[tuple[str, list[str], dict[str, object]]]:
    """(revision, down revisions, record) in order; without recorded down revisions, a line."""
    rows: list[tuple[str, list[str], dict[str, object]]] = []
    previous: str | None = None
    for record in report.records:
        revision = record.get("revision")
        if not isinstance(revision, str):
            continue
        downs = record.get("down_revisions")
        if isinstance(downs, list | tuple):
            parents = [str(d) for d in downs]
        else:  # older records: the topological order is all we know
            parents = [previous] if previous else []
        rows.append((revision, parents, record))
        previous = revision
    seen = {r for r, _, _ in rows}
    for finding in report.sorted_findings():
        if finding.revision and finding.revision not in seen:  # a broken file never ran
            seen.add(finding.revision)
            rows.append((finding.revision, [], {}))
    return rows


def render(report: Report, out: TextIO) -> None:
    """Write the page."""
    rows = _revisions(report)
    by_revision: dict[str, list[Finding]] = {}
    loose: list[Finding] = []
    drawn = {revision for revision, _, _ in rows}
    for finding in report.sorted_findings():
        if finding.revision in drawn:
            by_revision.setdefault(finding.revision, []).append(finding)
        else:
            loose.append(finding)
    statuses = {r: revision_status(rec, by_revision.get(r, [])) for r, _, rec in rows}
    nodes = layout_graph([(r, parents) for r, parents, _ in rows])
    messages = {r: str(rec.get("message", "")) for r, _, rec in rows}
    parts = [
        _HEAD.replace("{title}", _e(f"migproof {report.command}")),
        _summary(report, statuses),
    ]
    if nodes:
        parts.append('<main class="split"><div class="graph-pane">')
        parts.append(_svg(nodes, statuses, messages))
        parts.append('</div><div class="details-pane">')
        parts.append(
            '<p id="hint" class="hint">Click a revision in the graph to see its details.</p>'
        )
        for index, (revision, parents, record) in enumerate(rows):
            parts.append(
                _details(index, revision, parents, record, by_revision.get(revision, []), statuses)
            )
        parts.append("</div></main>")
    if loose or not nodes:
        parts.append(_findings_section(loose if nodes else report.sorted_findings(), nodes))
    if report.skipped:
        items = "".join(f"<li>{_e(w)}: {_e(y)}</li>" for w, y in report.skipped)
        parts.append(f'<section class="skipped"><h2>Not checked</h2><ul>{items}</ul></section>')
    parts.append(_FOOT)
    out.write("\n".join(parts))


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _summary(report: Report, statuses: dict[str, str]) -> str:
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    finding_text = (
        ", ".join(f"{n} {s.value}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
        or "no findings"
    )
    status_counts = {
        s: sum(1 for v in statuses.values() if v == s) for s in ("ok", "failed", "skipped")
    }
    revisions = (
        f" · {len(statuses)} revisions: "
        + ", ".join(f"{n} {s}" for s, n in status_counts.items() if n)
        if statuses
        else ""
    )
    verdict = "failed" if report.has_failures else "ok"
    return (
        f"<header><h1>migproof {_e(report.command)} "
        f'<span class="badge {verdict}">{verdict}</span></h1>'
        f'<p class="meta">{_e(finding_text)}{_e(revisions)} · migproof {_e(__version__)}</p>'
        "</header>"
    )


def _svg(nodes: list[GraphNode], statuses: dict[str, str], messages: dict[str, str]) -> str:
    lanes = max(n.lane for n in nodes) + 1
    text_x = _PAD + lanes * _LANE + 6
    width = text_x + 420
    height = _PAD * 2 + (len(nodes) - 1) * _ROW
    where = {n.revision: (_PAD + n.lane * _LANE, _PAD + n.row * _ROW) for n in nodes}
    edges = []
    for node in nodes:
        x2, y2 = where[node.revision]
        for parent in node.parents:
            x1, y1 = where[parent]
            middle = (y1 + y2) / 2
            path = f"M{x1},{y1} C{x1},{middle} {x2},{middle} {x2},{y2}"
            edges.append(
                f'<path class="edge" d="{path}" data-from="{_e(node.revision)}"'
                f' data-to="{_e(parent)}"/>'
            )
    drawn = []
    for index, node in enumerate(nodes):
        x, y = where[node.revision]
        status = statuses[node.revision]
        label = node.revision if len(node.revision) <= 16 else node.revision[:15] + "…"
        message = messages.get(node.revision, "")
        message = message if len(message) <= 44 else message[:43] + "…"
        drawn.append(
            f'<g class="node {status.replace(" ", "-")}" data-revision="{_e(node.revision)}"'
            f' data-index="{index}" tabindex="0" role="button">'
            f"<title>{_e(node.revision)}: {_e(status)}</title>"
            f'<rect class="hit" x="{x - _RADIUS - 4}" y="{y - _ROW / 2 + 2}"'
            f' width="{width - x + _RADIUS}" height="{_ROW - 4}" rx="6"/>'
            f'<circle cx="{x}" cy="{y}" r="{_RADIUS}"/>'
            f'<text x="{text_x}" y="{y - 3}" class="rev">{_e(label)}'
            f' <tspan class="status">{_e(status)}</tspan></text>'
            f'<text x="{text_x}" y="{y + 13}" class="msg">{_e(message)}</text></g>'
        )
    return (
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="revision graph">'
        + "".join(edges)
        + "".join(drawn)
        + "</svg>"
    )


def _details(
    index: int,
    revision: str,
    parents: list[str],
    record: dict[str, object],
    findings: list[Finding],
    statuses: dict[str, str],
) -> str:
    status = statuses[revision]
    facts = [
        ("status", status),
        ("upgrade", record.get("upgrade", "not run")),
        ("round trip", record.get("roundtrip", "not run")),
        ("upgrade time", f"{_number(record.get('upgrade_ms'))} ms"),
        ("downgrade time", f"{_number(record.get('downgrade_ms'))} ms"),
        ("down revisions", ", ".join(parents) or "(base)"),
    ]
    path = record.get("path")
    if isinstance(path, str):
        facts.insert(0, ("file", display_path(Path(path))))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    body = [
        f'<section class="details" id="details-{index}" data-revision="{_e(revision)}" hidden>',
        f'<h2>{_e(revision)} <span class="badge {status.replace(" ", "-")}">'
        f"{_e(status)}</span></h2>",
        f'<p class="message">{_e(record.get("message", ""))}</p>',
        f'<table class="facts">{rows}</table>',
    ]
    if findings:
        body.append("<h3>Findings</h3>")
        body.extend(_finding(f) for f in findings)
    statements = record.get("statements")
    if isinstance(statements, list) and statements:
        body.append("<h3>SQL statements</h3>")
        body.append(_statements(statements))
    body.append("</section>")
    return "\n".join(body)


def _number(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "-"


def _finding(finding: Finding) -> str:
    where = f"{finding.location}" if finding.location else ""
    parts = [
        f'<div class="finding {finding.severity.value}">',
        f'<p><span class="code">{_e(finding.check)}</span> '
        f'<span class="severity">{_e(finding.severity.value)}</span> {_e(finding.message)}</p>',
    ]
    if where:
        parts.append(f'<p class="where">{_e(where)}</p>')
    if finding.statement:
        parts.append(f'<pre class="sql">{_e(finding.statement.strip())}</pre>')
    for title, block in finding.context:
        parts.append(f"<h4>{_e(title)}</h4>")
        parts.append(_block(title, block))
    if finding.fix:
        parts.append(f'<p class="fix"><b>fix:</b> {_e(finding.fix)}</p>')
    parts.append("</div>")
    return "".join(parts)


def _block(title: str, body: str) -> str:
    if "diff" not in title.lower():
        return f"<pre>{_e(body.rstrip())}</pre>"
    lines = []
    for line in body.rstrip().splitlines():
        is_header = line.startswith(("+++", "---"))
        kind = "hunk" if is_header else {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "")
        lines.append(f'<span class="{kind}">{_e(line)}</span>' if kind else _e(line))
    return '<pre class="diff">' + "\n".join(lines) + "</pre>"


def _statements(statements: list[object]) -> str:
    rows = []
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        sql = str(statement.get("sql", "")).strip()
        failed = ' class="failed"' if statement.get("failed") else ""
        line = statement.get("line")
        locks = _locks(statement)
        rows.append(
            f"<tr{failed}><td>{_e(statement.get('direction', ''))}</td>"
            f'<td class="num">{_e(_millis(statement.get("duration_ms")))}</td>'
            f'<td class="num">{_e(line if line is not None else "")}</td>'
            f'<td><pre class="sql">{_e(sql)}</pre>{locks}</td></tr>'
        )
    return (
        '<table class="statements"><thead><tr><th>direction</th><th>ms</th><th>line</th>'
        "<th>SQL</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _millis(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else ""


def _locks(statement: dict[object, object]) -> str:
    """Locks as recorded by lint's sandbox run (``locks``: strings or {mode, relation})."""
    locks = statement.get("locks")
    if not isinstance(locks, list) or not locks:
        return ""
    shown = []
    for lock in locks:
        if isinstance(lock, dict):
            shown.append(" ".join(str(lock[k]) for k in ("mode", "relation") if k in lock))
        else:
            shown.append(str(lock))
    return f'<p class="locks">locks: {_e(", ".join(shown))}</p>'


def _findings_section(findings: list[Finding], nodes: list[GraphNode]) -> str:
    title = "Other findings" if nodes else "Findings"
    if not findings:
        return f'<section class="loose"><h2>{title}</h2><p>None.</p></section>'
    return (
        f'<section class="loose"><h2>{title}</h2>'
        + "".join(_finding(f) for f in findings)
        + "</section>"
    )


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
:root { --ok:#1a7f37; --failed:#cf222e; --skipped:#9a6700; --notrun:#8c959f; --line:#d0d7de; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1f2328; background: #fff; }
header { padding: 14px 22px; border-bottom: 1px solid var(--line); background: #f6f8fa; }
h1 { font-size: 20px; margin: 0; } h2 { font-size: 17px; margin: 0 0 6px; }
h3 { font-size: 15px; margin: 16px 0 6px; } h4 { font-size: 13px; margin: 8px 0 2px; }
.meta, .hint, .where { color: #59636e; margin: 4px 0; }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; color: #fff;
  vertical-align: middle; background: var(--notrun); }
.badge.ok { background: var(--ok); } .badge.failed { background: var(--failed); }
.badge.skipped { background: var(--skipped); }
.split { display: flex; align-items: flex-start; gap: 10px; }
.graph-pane { flex: 0 0 auto; padding: 10px; overflow: auto; max-height: 90vh; }
.details-pane { flex: 1 1 auto; padding: 14px 22px; min-width: 0; }
svg .edge { fill: none; stroke: #8c959f; stroke-width: 2; }
svg .node { cursor: pointer; } svg .node .hit { fill: transparent; }
svg .node:hover .hit, svg .node:focus .hit { fill: #f6f8fa; }
svg .node.selected .hit { fill: #ddf4ff; } svg .node:focus { outline: none; }
svg .node circle { stroke: #fff; stroke-width: 2; fill: var(--notrun); }
svg .node.ok circle { fill: var(--ok); } svg .node.failed circle { fill: var(--failed); }
svg .node.skipped circle { fill: var(--skipped); }
svg text { font: 13px ui-monospace, monospace; } svg .msg { font: 12px system-ui, sans-serif;
  fill: #59636e; } svg .status { fill: #59636e; font-size: 11px; }
svg .failed .status { fill: var(--failed); }
table { border-collapse: collapse; } .facts th { text-align: left; padding-right: 14px;
  color: #59636e; font-weight: normal; }
.statements { width: 100%; } .statements th, .statements td { border-top: 1px solid var(--line);
  padding: 4px 6px; vertical-align: top; text-align: left; }
.statements tr.failed { background: #ffebe9; } .num { text-align: right; white-space: nowrap; }
pre { margin: 2px 0; padding: 6px 8px; background: #f6f8fa; border-radius: 6px;
  overflow-x: auto; font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; }
pre.diff .add { color: var(--ok); } pre.diff .del { color: var(--failed); }
pre.diff .hunk { color: #8250df; }
.finding { border-left: 4px solid var(--notrun); padding: 4px 10px; margin: 8px 0;
  background: #fff; } .finding.error { border-color: var(--failed); }
.finding.warning { border-color: var(--skipped); } .finding p { margin: 2px 0; }
.code { font-family: ui-monospace, monospace; font-weight: bold; }
.severity { color: #59636e; font-size: 12px; } .locks { color: #59636e; margin: 2px 0; }
.loose, .skipped { padding: 10px 22px; border-top: 1px solid var(--line); }
</style></head><body>"""

_FOOT = """<script>
(function () {
  "use strict";
  var nodes = document.querySelectorAll("#graph .node");
  function show(node) {
    var index = node.getAttribute("data-index");
    document.querySelectorAll(".details").forEach(function (section) {
      section.hidden = section.id !== "details-" + index;
    });
    nodes.forEach(function (other) { other.classList.remove("selected"); });
    node.classList.add("selected");
    var hint = document.getElementById("hint");
    if (hint) { hint.hidden = true; }
  }
  nodes.forEach(function (node) {
    node.addEventListener("click", function () { show(node); });
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); show(node); }
    });
  });
  var first = document.querySelector("#graph .node.failed") || nodes[0];
  if (first) { show(first); }
})();
</script>
</body></html>
"""
