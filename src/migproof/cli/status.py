"""``migproof status DIR --database-url URL [--check]``: applied, pending, missing, changed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from migproof.cli._options import emit
from migproof.cli.migrate import migrate_options, render_records, resolve_target
from migproof.report.terminal import make_consoles

__all__ = ["command"]


@click.command("status")
@migrate_options
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 unless the applied set equals the migrations on disk (a deploy smoke test).",
)
def command(
    *,
    directory: Path | None,
    database_url: str | None,
    layout: str | None,
    fmt: str,
    output: Path | None,
    check: bool,
) -> int:
    """Show applied, pending and changed SQL migrations.

    Lists applied, pending, applied-but-missing-on-disk and changed migrations.
    """
    from migproof.sqlmigrate import status
    from migproof.sqlmigrate.plan import State

    config, directory, url = resolve_target(directory, database_url, layout=layout)
    consoles = make_consoles()
    report = status(config, directory, url, check=check)
    if fmt == "text" and output is None:
        render_records(report.records, consoles.out, verb="status")
        counts = Counter(str(r["state"]) for r in report.records)
        order = [state.value for state in State]
        consoles.out.print(
            ", ".join(f"{counts[s]} {s}" for s in order if counts[s]) or "no migrations",
            markup=False,
        )
    return emit(report, fmt, output, consoles)
