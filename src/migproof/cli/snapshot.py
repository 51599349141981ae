"""``migproof snapshot SOURCE``: print, save or lock the schema a SOURCE describes."""

from __future__ import annotations

from pathlib import Path

import click

from migproof.catalog.listing import render_snapshot
from migproof.catalog.lockfile import lockfile_path, write_lockfile
from migproof.cli._options import config_from_flags, project_options, server_options
from migproof.report.terminal import make_consoles
from migproof.sources import Sources

__all__ = ["command"]


@click.command("snapshot", short_help="Snapshot a schema: URL, .sql, .json or alembic:REV.")
@click.argument("source")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="JSON (what `migproof diff` and the lock file read) or readable text.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the snapshot to this file instead of standard output.",
)
@click.option(
    "--write",
    is_flag=True,
    help="Write the snapshot to the schema lock file (config `lockfile`, default "
    "migproof.schema.json), which `migproof check` compares with alembic:head.",
)
@project_options
@server_options
def command(
    source: str,
    fmt: str,
    output: Path | None,
    write: bool,
    pg_bin: str | None,
    database_url: str | None,
    project: dict[str, object],
) -> int:
    """Snapshot the schema of SOURCE: a database URL, a .sql file, a saved .json snapshot,
    or alembic:head / alembic:<rev> / alembic:base.

    \b
    migproof snapshot schema.sql --format text
    migproof snapshot alembic:head --write
    """
    config = config_from_flags(pg_bin=pg_bin, database_url=database_url, **project)
    consoles = make_consoles()
    with Sources(config) as sources:
        snapshot = sources.snapshot(source)
    if write:
        path = lockfile_path(config)
        changed = write_lockfile(path, snapshot)
        state = "wrote" if changed else "unchanged:"
        consoles.out.print(
            f"{state} {path} ({len(snapshot.tables)} tables, {len(snapshot.views)} views, "
            f"{len(snapshot.functions)} functions)",
            markup=False,
            highlight=False,
        )
        if output is None:
            return 0
    text = snapshot.to_json() if fmt == "json" else render_snapshot(snapshot)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return 0
