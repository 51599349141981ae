"""The summary table ``migproof verify`` prints before its findings."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from migproof.findings import Report

__all__ = ["render_verify_table"]

_STYLE = {
    "ok": "green",
    "failed": "bold red",
    "skipped": "yellow",
    "not run": "dim",
    "bootstrap": "cyan",
}


def render_verify_table(report: Report, out: Console) -> None:
    if not report.records:
        return
    table = Table(title=None, show_edge=False, pad_edge=False)
    longest = max((len(str(r["revision"])) for r in report.records), default=8)
    revision_width = min(max(longest, 8), 24)
    upgrade_width = max(7, *(len(str(r["upgrade"])) for r in report.records))  # "bootstrap"
    # ids are what users look up: the message column gives way first (rich crops a line
    # of no-wrap columns at the console's edge rather than narrow one of them)
    others = revision_width + upgrade_width + 10 + 7 + 4 * 3  # round trip, time, separators
    message_width = max(12, min(36, out.width - others))
    table.add_column(
        "revision", no_wrap=True, overflow="ellipsis", min_width=min(longest, 24), max_width=24
    )
    table.add_column("message", no_wrap=True, overflow="ellipsis", max_width=message_width)
    table.add_column("upgrade", no_wrap=True, min_width=upgrade_width)
    table.add_column("round trip", no_wrap=True, min_width=10)
    table.add_column("time", no_wrap=True, justify="right", min_width=6)
    for record in report.records:
        upgrade, roundtrip = str(record["upgrade"]), str(record["roundtrip"])
        millis = float(str(record["upgrade_ms"])) + float(str(record["downgrade_ms"]))
        table.add_row(
            escape(str(record["revision"])),
            escape(str(record["message"])),
            _styled(upgrade),
            _styled(roundtrip),
            f"{millis:.0f} ms",
        )
    out.print(table)
    out.print()


def _styled(status: str) -> str:
    style = _STYLE.get(status)
    return f"[{style}]{escape(status)}[/]" if style else escape(status)
