"""The summary table ``migproof verify`` prints before its findings."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from migproof.findings import Report

__all__ = ["render_verify_table"]

_STYLE = {"ok": "green", "failed": "bold red", "skipped": "yellow", "not run": "dim"}


def render_verify_table(report: Report, out: Console) -> None:
    if not report.records:
        return
    table = Table(title=None, show_edge=False, pad_edge=False)
    for column in ("revision", "message", "upgrade", "round trip", "time"):
        table.add_column(
            column, no_wrap=column != "message", justify="right" if column == "time" else "left"
        )
    for record in report.records:
        upgrade, roundtrip = str(record["upgrade"]), str(record["roundtrip"])
        millis = float(str(record["upgrade_ms"])) + float(str(record["downgrade_ms"]))
        table.add_row(
            escape(str(record["revision"])),
            escape(str(record["message"])),
            f"[{_STYLE.get(upgrade, '')}]{upgrade}[/]",
            f"[{_STYLE.get(roundtrip, '')}]{roundtrip}[/]",
            f"{millis:.0f} ms",
        )
    out.print(table)
    out.print()
