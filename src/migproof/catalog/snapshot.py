"""Take a snapshot: a fixed set of catalog queries, sent in one pipeline, whatever the size.

Each object kind has one query in ``queries/``; all of them go to the server in a single
pipeline (one round trip), inside a transaction of their own that is always rolled back
(a savepoint when the caller already has a transaction open), so the caller's transaction
is neither committed nor rolled back, and the ``SET LOCAL`` below never leaks out.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

from migproof.catalog.model import (
    KINDS,
    Column,
    Constraint,
    KindInfo,
    Snapshot,
    Table,
)
from migproof.config import Config

__all__ = ["SnapshotFilter", "take_snapshot"]

# Output of pg_get_expr, format_type and pg_get_viewdef depends on these: with search_path
# set to pg_catalog alone every user object is printed schema-qualified, whatever the
# caller's session says, so two snapshots of one schema print the same text.
_SETTINGS = (
    "SELECT set_config('search_path', 'pg_catalog', true),"
    " set_config('DateStyle', 'ISO, MDY', true),"
    " set_config('IntervalStyle', 'postgres', true),"
    " set_config('extra_float_digits', '1', true),"
    " set_config('quote_all_identifiers', 'off', true),"
    " current_setting('server_version_num')::int / 10000"
)


@dataclass(frozen=True, slots=True)
class SnapshotFilter:
    """Which schemas and tables a snapshot covers.

    ``exclude_tables`` entries are either bare names (``alembic_version``: in any schema) or
    qualified ones (``audit.alembic_version``).
    """

    include_schemas: tuple[str, ...] = ()
    exclude_schemas: tuple[str, ...] = ()
    exclude_tables: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> SnapshotFilter:
        """The filter the configuration asks for (trackers' tables excluded by default)."""
        return cls(
            include_schemas=tuple(config.include_schemas),
            exclude_schemas=tuple(config.exclude_schemas),
            exclude_tables=tuple(config.exclude_tables),
        )

    def params(self) -> dict[str, list[str]]:
        return {
            "include_schemas": list(self.include_schemas),
            "exclude_schemas": list(self.exclude_schemas),
            "exclude_tables": list(self.exclude_tables),
        }


@functools.cache
def _query(name: str) -> str:
    return (resources.files("migproof.catalog") / "queries" / name).read_text(encoding="utf-8")


_CHILD_QUERIES = ("columns.sql", "constraints.sql")


def take_snapshot(conn: psycopg.Connection[Any], filters: SnapshotFilter | None = None) -> Snapshot:
    """Read the catalog of the database ``conn`` is connected to.

    Works in autocommit mode and inside an open transaction (it then sees that
    transaction's uncommitted DDL); never commits or rolls back the caller's work.

    >>> with psycopg.connect(url, autocommit=True) as conn:    # doctest: +SKIP
    ...     snap = take_snapshot(conn, SnapshotFilter(exclude_tables=("alembic_version",)))
    """
    params = (filters or SnapshotFilter()).params()
    names = [kind.query for kind in KINDS] + list(_CHILD_QUERIES)
    with conn.transaction(force_rollback=True), conn.pipeline():
        settings = conn.execute(_SETTINGS)
        cursors = [
            conn.cursor(row_factory=dict_row).execute(_query(name), params) for name in names
        ]
        version_row = settings.fetchone()
        results = dict(zip(names, (cur.fetchall() for cur in cursors), strict=True))
    server_version = int(version_row[-1]) if version_row else 0
    return _build(results, server_version)


def _build(results: dict[str, list[dict[str, Any]]], server_version: int) -> Snapshot:
    columns: dict[str, list[Column]] = defaultdict(list)
    for row in results["columns.sql"]:
        table = row.pop("table")
        columns[table].append(Column.from_dict(row))
    constraints: dict[str, list[Constraint]] = defaultdict(list)
    for row in results["constraints.sql"]:
        table = row.pop("table")
        constraints[table].append(Constraint.from_dict(row))
    values: dict[str, Any] = {"server_version": server_version}
    for kind in KINDS:
        values[kind.attribute] = _collection(kind, results[kind.query], columns, constraints)
    snapshot = Snapshot(**values)
    return _drop_orphans(snapshot)


def _collection(
    kind: KindInfo,
    rows: list[dict[str, Any]],
    columns: dict[str, list[Column]],
    constraints: dict[str, list[Constraint]],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in rows:
        key = row.pop("key")
        if kind.cls is Table:
            row["columns"] = sorted(columns.get(key, ()), key=lambda c: c.position)
            row["constraints"] = sorted(constraints.get(key, ()), key=lambda c: c.name)
            values: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in row.items()
            }
            out[key] = Table(**values)
        else:
            out[key] = kind.cls.from_dict(row)
    return dict(sorted(out.items()))


def _drop_orphans(snapshot: Snapshot) -> Snapshot:
    """Leave out indexes, triggers and policies of relations the filters excluded."""
    relations = snapshot.tables.keys() | snapshot.views.keys()
    return dataclasses.replace(
        snapshot,
        indexes={k: v for k, v in snapshot.indexes.items() if v.table in relations},
        triggers={k: v for k, v in snapshot.triggers.items() if v.table in relations},
        policies={k: v for k, v in snapshot.policies.items() if v.table in relations},
    )
