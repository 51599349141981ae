"""``migproof diff A B``: the semantic difference between two schemas; exit 1 when they differ."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from migproof.catalog import diff_snapshots, render_diff
from migproof.catalog.diff import Difference, diff_to_dict
from migproof.cli._options import config_from_flags, project_options, server_options
from migproof.errors import EXIT_CLEAN, EXIT_FINDINGS
from migproof.sources import Sources

__all__ = ["command", "echo_json", "format_option"]

# `--format text|json`, for every command that prints a schema difference (diff, check).
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)


@click.command("diff", short_help="Name every difference between two schemas.")
@click.argument("a")
@click.argument("b")
@format_option
@project_options
@server_options
def command(
    a: str,
    b: str,
    fmt: str,
    pg_bin: str | None,
    database_url: str | None,
    project: dict[str, object],
) -> int:
    """Compare the schemas of two SOURCEs (database URL, .sql file, saved .json snapshot,
    alembic:<rev>); exit 0 when equal, 1 when they differ.

    \b
    migproof diff schema/create_database.sql alembic:head
    """
    config = config_from_flags(pg_bin=pg_bin, database_url=database_url, **project)
    with Sources(config) as sources:
        snapshot_a = sources.snapshot(a)
        snapshot_b = sources.snapshot(b)
    diffs = diff_snapshots(snapshot_a, snapshot_b)
    if fmt == "json":
        echo_json(diffs, a, b)
    elif diffs:
        click.echo(render_diff(diffs, a, b), nl=False)
        click.echo(_summary(len(diffs), sum(d.is_order_only for d in diffs)))
    else:
        click.echo(f"no differences between {a} and {b}")
    return EXIT_FINDINGS if diffs else EXIT_CLEAN


def _summary(count: int, order_only: int) -> str:
    noun = "difference" if count == 1 else "differences"
    extra = f" ({order_only} in column order only)" if order_only else ""
    return f"{count} {noun}{extra}"


def echo_json(diffs: Sequence[Difference], a: str, b: str) -> None:
    """The differences between ``a`` and ``b`` as JSON, on standard output."""
    click.echo(json.dumps(diff_to_dict(diffs, a, b), indent=2, sort_keys=True))
