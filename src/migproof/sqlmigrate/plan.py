"""Compare the migrations on disk with the applied set: what is applied, pending, gone, changed.

Pure: migrations and tracker rows in, a ``Plan`` out; migrate, status and dry-run all read it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from migproof.sqlmigrate.layout import Migration, version_key
from migproof.sqlmigrate.tracker import AppliedRow

__all__ = ["Plan", "State", "make_plan"]


class State(enum.Enum):
    """Where one migration stands; the value is what ``status`` prints."""

    APPLIED = "applied"
    PENDING = "pending"
    MISSING = "missing on disk"
    CHANGED = "changed since applied"
    RENAMED = "renamed since applied"
    DUPLICATE = "duplicate version"


@dataclass(slots=True)
class Plan:
    """The on-disk migrations set against the applied set."""

    applied: list[tuple[Migration, AppliedRow]] = field(default_factory=list)
    pending: list[Migration] = field(default_factory=list)
    missing: list[AppliedRow] = field(default_factory=list)
    changed: list[tuple[Migration, AppliedRow]] = field(default_factory=list)
    renamed: list[tuple[Migration, AppliedRow]] = field(default_factory=list)
    unfilled: list[Migration] = field(default_factory=list)
    out_of_order: list[Migration] = field(default_factory=list)
    duplicates: list[tuple[Migration, ...]] = field(default_factory=list)
    rows: Mapping[str, AppliedRow] = field(default_factory=dict)


def make_plan(migrations: Sequence[Migration], applied: Mapping[str, AppliedRow]) -> Plan:
    """Sort every migration and every applied row into exactly one bucket of the plan.

    >>> make_plan(load_migrations(Path("db")), {}).pending   # doctest: +SKIP
    """
    plan = Plan(rows=applied)
    by_key: dict[str, list[Migration]] = {}
    for migration in migrations:
        by_key.setdefault(migration.key, []).append(migration)
    plan.duplicates = [tuple(group) for group in by_key.values() if len(group) > 1]
    highest = max(
        (version_key(row.key) for row in applied.values() if not row.key.startswith("R__")),
        default=None,
    )
    duplicated = {key for key, group in by_key.items() if len(group) > 1}
    for migration in migrations:
        if migration.key in duplicated:
            continue  # which file the row stands for is unknown: MP801 alone says so
        row = applied.get(migration.key)
        if row is None:
            plan.pending.append(migration)
            if (
                highest is not None
                and migration.version is not None
                and version_key(migration.version) < highest
            ):
                plan.out_of_order.append(migration)
        elif migration.repeatable:
            if row.checksum == migration.checksum:
                plan.applied.append((migration, row))
            else:
                plan.pending.append(migration)  # Flyway: re-applied whenever it changes
        elif row.name and row.name != migration.name:
            plan.renamed.append((migration, row))
        elif row.checksum is not None and row.checksum != migration.checksum:
            plan.changed.append((migration, row))
        else:
            plan.applied.append((migration, row))
            if row.checksum is None:
                plan.unfilled.append(migration)
    plan.missing = sorted(
        (row for key, row in applied.items() if key not in by_key),
        key=lambda row: (row.key.startswith("R__"), version_key(row.key), row.key),
    )
    return plan
