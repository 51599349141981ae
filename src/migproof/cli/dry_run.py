"""``migproof dry-run DIR --database-url URL``: pending migrations inside BEGIN … ROLLBACK."""

from __future__ import annotations

from pathlib import Path

import click

from migproof.cli._options import emit
from migproof.cli.migrate import migrate_options, render_records, resolve_target
from migproof.report.terminal import RichProgress, make_consoles

__all__ = ["command"]


@click.command("dry-run")
@migrate_options
def command(
    *,
    directory: Path | None,
    database_url: str | None,
    layout: str | None,
    fmt: str,
    output: Path | None,
) -> int:
    """Try pending SQL migrations, then roll back.

    Runs the pending migrations in DIR against URL inside one transaction and rolls it back.
    """
    from migproof.sqlmigrate import dry_run

    config, directory, url = resolve_target(directory, database_url, layout=layout)
    consoles = make_consoles()
    report = dry_run(
        config, directory, url, progress=RichProgress(consoles.err, enabled=fmt == "text")
    )
    if fmt == "text" and output is None:
        render_records(report.records, consoles.out, verb="dry-run")
        if not report.records and not report.has_failures:
            consoles.out.print("nothing pending: nothing to dry-run")
    return emit(report, fmt, output, consoles)
