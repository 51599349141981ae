"""The plain-SQL migration runner: ``migrate``, ``status`` and ``dry_run`` (MISSION §6).

Directories in golang-migrate, Flyway, dbmate or goose layout are read into ``Migration``
values (``load_migrations``); the applied state is a set in a tracking table, so a migration
merged late with a lower version still runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from migproof.sqlmigrate.layout import LAYOUT_NAMES, Layout, Migration, load_migrations

if TYPE_CHECKING:
    from migproof.sqlmigrate.apply import dry_run, migrate, status

__all__ = [
    "LAYOUT_NAMES",
    "Layout",
    "Migration",
    "dry_run",
    "load_migrations",
    "migrate",
    "status",
]


def __getattr__(name: str) -> Any:
    """``migrate``, ``status`` and ``dry_run`` load psycopg: only when asked for, so that
    reading file names (guard) stays free of it."""
    if name in ("dry_run", "migrate", "status"):
        return getattr(importlib.import_module("migproof.sqlmigrate.apply"), name)
    raise AttributeError(f"module 'migproof.sqlmigrate' has no attribute {name!r}")
