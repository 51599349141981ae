"""Catalog snapshot and semantic schema diff (MISSION §2).

>>> filters = SnapshotFilter.from_config(config)            # doctest: +SKIP
>>> a, b = take_snapshot(conn_a, filters), take_snapshot(conn_b, filters)   # doctest: +SKIP
>>> print(render_diff(diff_snapshots(a, b)))                 # doctest: +SKIP
"""

from __future__ import annotations

from migproof.catalog.diff import Difference, diff_snapshots, diff_to_dict, render_diff
from migproof.catalog.listing import render_snapshot
from migproof.catalog.lockfile import lockfile_path, read_lockfile, write_lockfile
from migproof.catalog.model import (
    Collation,
    Column,
    CompositeType,
    Constraint,
    DefaultPrivileges,
    Domain,
    Enum,
    Extension,
    Function,
    Index,
    Policy,
    RangeType,
    Schema,
    Sequence,
    Snapshot,
    SnapshotFormatError,
    Statistics,
    Table,
    Trigger,
    View,
)
from migproof.catalog.snapshot import SnapshotFilter, take_snapshot

__all__ = [
    "Collation",
    "Column",
    "CompositeType",
    "Constraint",
    "DefaultPrivileges",
    "Difference",
    "Domain",
    "Enum",
    "Extension",
    "Function",
    "Index",
    "Policy",
    "RangeType",
    "Schema",
    "Sequence",
    "Snapshot",
    "SnapshotFilter",
    "SnapshotFormatError",
    "Statistics",
    "Table",
    "Trigger",
    "View",
    "diff_snapshots",
    "diff_to_dict",
    "lockfile_path",
    "read_lockfile",
    "render_diff",
    "render_snapshot",
    "take_snapshot",
    "write_lockfile",
]
