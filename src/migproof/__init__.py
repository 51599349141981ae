"""migproof: prove PostgreSQL schema migrations safe before they reach production."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("migproof")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from migproof.config import Config, load_config
from migproof.errors import ConfigError, DatabaseError, MigproofError, SandboxError, SourceError
from migproof.findings import Finding, Location, Report, Severity
from migproof.sandbox import DatabaseHost, Sandbox, ScratchServer, open_host

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
    "SourceError",
    "__version__",
    "load_config",
    "open_host",
]
