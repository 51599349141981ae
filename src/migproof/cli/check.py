"""``migproof check``: fail when alembic:head no longer matches the schema lock file."""

from __future__ import annotations

import click

from migproof.catalog import render_diff
from migproof.catalog.lockfile import compare_lockfile, lockfile_path, read_lockfile
from migproof.cli._options import config_from_flags, project_options, server_options
from migproof.cli.diff import echo_json, format_option
from migproof.errors import EXIT_CLEAN, EXIT_FINDINGS
from migproof.report.terminal import make_consoles
from migproof.sources import Sources

__all__ = ["command"]


@click.command("check", short_help="Fail when alembic:head drifts from the lock file.")
@format_option
@project_options
@server_options
def command(
    fmt: str, pg_bin: str | None, database_url: str | None, project: dict[str, object]
) -> int:
    """Compare alembic:head with the committed schema lock file; exit 1 when they differ.

    Refresh the lock file with `migproof snapshot alembic:head --write`.
    """
    config = config_from_flags(pg_bin=pg_bin, database_url=database_url, **project)
    path = lockfile_path(config)
    locked = read_lockfile(path)  # a missing lock file is a usage error (exit 2), with the fix
    with Sources(config) as sources:
        head = sources.snapshot("alembic:head")
    label = config.lockfile
    drift = compare_lockfile(locked, head, label)
    diffs = drift.differences
    if drift.note:
        make_consoles().err.print(f"note: {drift.note}", markup=False, highlight=False)
    if fmt == "json":
        echo_json(diffs, label, "alembic:head")
    elif diffs:
        click.echo(f"alembic:head no longer matches {label}:")
        click.echo(render_diff(diffs, label, "alembic:head"), nl=False)
        click.echo(
            "fix: if the migration is intended, run `migproof snapshot alembic:head --write` "
            f"and commit {label}"
        )
    else:
        click.echo(f"alembic:head matches {label}")
    return EXIT_FINDINGS if diffs else EXIT_CLEAN
