"""``migproof verify``: every Alembic revision upgraded, downgraded and upgraded again."""

from __future__ import annotations

from pathlib import Path

import click

from migproof.cli._options import (
    config_from_flags,
    emit,
    from_cwd,
    output_options,
    project_options,
    project_output_to_stderr,
    server_options,
)
from migproof.report.terminal import RichProgress, make_consoles
from migproof.report.verify_table import render_verify_table

__all__ = ["command"]


@click.command("verify")
@click.argument("project_dir", required=False, type=click.Path(path_type=Path))
@project_options
@click.option(
    "--statement-timeout",
    type=float,
    metavar="SECONDS",
    help="Longest any one migration statement may run (default 60).",
)
@click.option(
    "--lock-timeout",
    type=float,
    metavar="SECONDS",
    help="Longest any one statement may wait for a lock (default 10).",
)
@click.option("--no-data", is_flag=True, help="Do not check that rows survive each round trip.")
@click.option("--schema-sql", metavar="FILE", help="Hand-kept schema file that must equal head.")
@click.option(
    "--models",
    metavar="MODULE:ATTR",
    help="SQLAlchemy metadata to compare with head (default: env.py's).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes that walk the chain side by side (default: one per core, at most 4).",
)
@server_options
@output_options
def command(
    project_dir: Path | None,
    project: dict[str, object],
    statement_timeout: float | None,
    lock_timeout: float | None,
    no_data: bool,
    schema_sql: str | None,
    models: str | None,
    jobs: int | None,
    pg_bin: str | None,
    database_url: str | None,
    fmt: str,
    output: Path | None,
) -> int:
    """Prove every revision upgrades and downgrades exactly.

    Upgrade, downgrade and re-upgrade every revision in a sandbox; compare schemas exactly.
    """
    from migproof.errors import SourceError
    from migproof.verify import verify

    if project_dir is not None and not project_dir.is_dir():
        raise SourceError(
            f"{project_dir}: no such directory", fix="pass the directory of your Alembic project"
        )
    config = config_from_flags(
        project_dir,
        statement_timeout=statement_timeout,
        lock_timeout=lock_timeout,
        pg_bin=pg_bin,
        database_url=database_url,
        **{
            "verify.data": False if no_data else None,
            "verify.schema-sql": from_cwd(schema_sql),
            "verify.models": models,
            "verify.jobs": jobs,
            **project,
        },
    )
    consoles = make_consoles()
    progress = RichProgress(consoles.err, enabled=fmt == "text")
    with project_output_to_stderr():
        report = verify(config, project_dir, progress=progress)
    if fmt == "text" and output is None:
        render_verify_table(report, consoles.out)
    return emit(report, fmt, output, consoles)
