"""``migproof guard --base REF``: schema changes need migrations; applied migrations stay put."""

from __future__ import annotations

import os
from pathlib import Path

import click

from migproof.cli._options import config_from_flags, emit, output_options
from migproof.report.terminal import make_consoles

__all__ = ["command"]


@click.command("guard")
@click.option(
    "--base",
    metavar="REF",
    help="Branch or commit the changes merge into, e.g. origin/main; compared from the merge "
    "base (REF...HEAD). Default: origin/$GITHUB_BASE_REF in a GitHub pull request.",
)
@output_options
def command(base: str | None, fmt: str, output: Path | None) -> int:
    """Fail when a schema change lacks its migration.

    Also when a revision forks the chain, or an applied migration was edited; reads git only,
    no database.
    """
    from migproof.guard import guard

    if not base:
        github_base = os.environ.get("GITHUB_BASE_REF")
        if not github_base:
            raise click.UsageError("--base REF is required (for example --base origin/main)")
        base = f"origin/{github_base}"
    config = config_from_flags()
    report = guard(config, base)
    return emit(report, fmt, output, make_consoles())
