"""``migproof migrate DIR --database-url URL``: apply pending plain-SQL migrations.

Also holds what ``status`` and ``dry-run`` share: the DIR and URL options and how they
resolve against the configuration, and the text lines that list migrations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from migproof.cli._options import emit, output_options
from migproof.config import Config, load_config
from migproof.errors import ConfigError
from migproof.report.terminal import RichProgress, make_consoles

__all__ = ["command", "migrate_options", "render_records", "resolve_target"]

F = TypeVar("F", bound=Callable[..., Any])

_LAYOUTS = ("golang-migrate", "flyway", "dbmate", "goose")  # sqlmigrate.LAYOUT_NAMES, kept light


def migrate_options(func: F) -> F:
    """``DIR``, ``--database-url`` and ``--layout``, plus ``--format`` / ``--output``."""
    func = output_options(func)
    func = click.option(
        "--layout",
        type=click.Choice(_LAYOUTS),
        help="File naming scheme (default: [tool.migproof.migrate] layout, else detected).",
    )(func)
    func = click.option(
        "--database-url",
        metavar="URL",
        help="The database to work on (default: [tool.migproof.migrate] database-url).",
    )(func)
    func = click.argument(
        "directory",
        required=False,
        type=click.Path(file_okay=False, path_type=Path),
    )(func)
    return func


def resolve_target(
    directory: Path | None, database_url: str | None, **overrides: object
) -> tuple[Config, Path, str]:
    """The config (flags applied), the migration directory and the database URL.

    The top-level ``database-url`` is deliberately not used: it names a server for scratch
    databases, which migproof promises never to change (MISSION §10).
    """
    config = load_config(
        overrides={
            "migrate.database-url": database_url,
            **{f"migrate.{k.replace('_', '-')}": v for k, v in overrides.items()},
        }
    )
    if directory is None:
        if config.migrate.directory is None:
            raise ConfigError(
                "no migration directory given",
                fix=f"pass DIR, or set {config.setting('migrate.directory')}",
            )
        directory = config.path(config.migrate.directory)
    url = config.migrate.database_url
    if not url:
        raise ConfigError(
            "no database given to work on",
            fix='pass --database-url URL (e.g. --database-url "$DATABASE_URL"), or set '
            f"{config.setting('migrate.database-url')}",
        )
    return config, directory, url


def render_records(records: Sequence[dict[str, object]], out: Console, *, verb: str) -> None:
    """One line per migration: version, name, state, and time or date when known."""
    if not records:
        return
    width = max(len(str(r["version"])) for r in records)
    name_width = min(40, max(len(str(r["name"])) for r in records))
    lines = []
    for record in records:
        extra = ""
        if record.get("duration_ms") is not None and verb != "status":
            extra = f"  {float(str(record['duration_ms'])):.1f} ms"
        elif record.get("applied_at"):
            extra = f"  {record['applied_at']}"
        if record.get("out_of_order"):
            extra += "  (older than applied versions)"
        lines.append(
            f"{str(record['version']).rjust(width)}  {str(record['name']).ljust(name_width)}  "
            f"{record['state']}{extra}"
        )
    # Written as is: rich would lay out ten thousand status lines one by one, for seconds.
    out.file.write("\n".join(lines) + "\n")
    out.file.flush()


@click.command("migrate")
@migrate_options
@click.option(
    "--strict-order",
    is_flag=True,
    default=None,
    help="Refuse to apply a migration older than an applied one.",
)
def command(
    *,
    directory: Path | None,
    database_url: str | None,
    layout: str | None,
    fmt: str,
    output: Path | None,
    strict_order: bool | None,
) -> int:
    """Apply pending SQL migrations to URL.

    Each migration in DIR that is not applied runs in one transaction with its tracker row.
    """
    from migproof.sqlmigrate import migrate

    config, directory, url = resolve_target(
        directory, database_url, layout=layout, strict_order=strict_order
    )
    consoles = make_consoles()
    progress = RichProgress(consoles.err, enabled=fmt == "text")
    report = migrate(config, directory, url, progress=progress)
    if fmt == "text" and output is None:
        render_records(report.records, consoles.out, verb="migrate")
        if not report.records and not report.has_failures:
            consoles.out.print("nothing to apply: the database is up to date")
    return emit(report, fmt, output, consoles)
