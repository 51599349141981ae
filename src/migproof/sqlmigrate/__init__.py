"""The plain-SQL migration runner: ``migrate``, ``status`` and ``dry_run`` (MISSION §6).

Directories in golang-migrate, Flyway, dbmate or goose layout are read into ``Migration``
values (``load_migrations``); the applied state is a set in a tracking table, so a migration
merged late with a lower version still runs.
"""

from __future__ import annotations

from migproof.sqlmigrate.apply import dry_run, migrate, status
from migproof.sqlmigrate.layout import LAYOUT_NAMES, Layout, Migration, load_migrations

__all__ = [
    "LAYOUT_NAMES",
    "Layout",
    "Migration",
    "dry_run",
    "load_migrations",
    "migrate",
    "status",
]
