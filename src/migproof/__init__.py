"""migproof: prove PostgreSQL schema migrations safe before they reach production.

The public API, loaded lazily so that ``import migproof`` (and so every command, including
the database-free ``migproof guard``) starts fast:

>>> from migproof import Sandbox, load_config, verify          # doctest: +SKIP
>>> report = verify(load_config(), Path("."))                 # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # the package's version: pyproject.toml reads it from here

if TYPE_CHECKING:
    from migproof.catalog import Snapshot, diff_snapshots, take_snapshot
    from migproof.config import Config, load_config
    from migproof.errors import ConfigError, DatabaseError, MigproofError, SandboxError, SourceError
    from migproof.findings import Finding, Location, Report, Severity
    from migproof.guard import guard
    from migproof.lint import lint_paths
    from migproof.sandbox import DatabaseHost, Sandbox, ScratchServer, open_host
    from migproof.verify import verify

__all__ = [
    "Config",
    "ConfigError",
    "DatabaseError",
    "DatabaseHost",
    "Finding",
    "Location",
    "MigproofError",
    "Report",
    "Sandbox",
    "SandboxError",
    "ScratchServer",
    "Severity",
    "Snapshot",
    "SourceError",
    "__version__",
    "diff_snapshots",
    "guard",
    "lint_paths",
    "load_config",
    "open_host",
    "take_snapshot",
    "verify",
]

_HOMES = {
    "Config": "migproof.config",
    "load_config": "migproof.config",
    "ConfigError": "migproof.errors",
    "DatabaseError": "migproof.errors",
    "MigproofError": "migproof.errors",
    "SandboxError": "migproof.errors",
    "SourceError": "migproof.errors",
    "Finding": "migproof.findings",
    "Location": "migproof.findings",
    "Report": "migproof.findings",
    "Severity": "migproof.findings",
    "DatabaseHost": "migproof.sandbox",
    "Sandbox": "migproof.sandbox",
    "ScratchServer": "migproof.sandbox",
    "open_host": "migproof.sandbox",
    "Snapshot": "migproof.catalog",
    "diff_snapshots": "migproof.catalog",
    "take_snapshot": "migproof.catalog",
    "guard": "migproof.guard",
    "lint_paths": "migproof.lint",
    "verify": "migproof.verify",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'migproof' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
