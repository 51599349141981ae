"""The catalog watch's rules that need no server: catalog writes, and where a change shows."""

from __future__ import annotations

import pytest

from migproof.catalog.model import KINDS
from migproof.catalog.watch import (
    _CLASSES,
    _FULL,
    _QUERIES_OF,
    _RELKINDS,
    _TYPTYPES,
    _shown_in,
    writes_catalog,
)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE pg_catalog.pg_attribute SET atttypmod = 24 WHERE attname = 'note'",
        "update pg_attribute set atttypmod = 24",
        "UPDATE \"pg_type\" SET typname = 'x'",
        "DELETE FROM pg_enum WHERE enumlabel = 'old'",
        "INSERT INTO pg_catalog . pg_depend VALUES (1, 2, 3)",
        'UPDATE "pg_catalog"."pg_attribute" SET attnotnull = true',  # quoted, as tools print it
        "UPDATE ONLY pg_attribute SET attnotnull = true",
        "DELETE FROM ONLY pg_catalog.pg_enum WHERE enumlabel = 'old'",
        "ALTER ROLE app RENAME TO web",
        "alter user app with password 'x'",
        "ALTER GROUP staff ADD USER app",
    ],
)
def test_writes_catalog_reports_what_no_event_trigger_sees(statement: str) -> None:
    assert writes_catalog(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE orders SET total = 0",
        "DELETE FROM page_views",  # pg_ only as a prefix of the whole name
        "INSERT INTO audit.pg_log VALUES (1)",  # a user schema's table named pg_…
        'UPDATE ONLY "audit"."pg_log" SET x = 1',
        "DELETE FROM ONLY page_views",
        "SELECT * FROM pg_attribute",
        "ALTER TABLE roles ADD COLUMN x int",
        "CREATE ROLE app",
    ],
)
def test_writes_catalog_leaves_other_statements_alone(statement: str) -> None:
    assert not writes_catalog(statement)


def test_every_kind_a_change_can_reach_is_a_snapshot_kind_read_again_by_oid() -> None:
    reached = {*_RELKINDS.values(), *_TYPTYPES.values(), *_CLASSES.values()} - {_FULL}
    attributes = {kind.attribute for kind in KINDS}
    assert reached <= attributes
    assert _QUERIES_OF["tables"] == ("tables.sql", "columns.sql", "constraints.sql")
    assert _QUERIES_OF["composite_types"] == ("composites.sql",)


@pytest.mark.parametrize(
    ("row", "shown"),
    [
        ((1259, 10, "r", 11, None, None, None, None, None), [("tables", 10)]),
        ((1259, 10, "m", 11, None, None, None, None, None), [("views", 10)]),
        ((1259, 10, "c", 11, None, None, None, None, None), [("composite_types", 11)]),
        ((1259, 12, "i", None, 10, None, None, None, None), [("indexes", 12), ("tables", 10)]),
        ((1259, 13, "t", None, None, None, None, None, None), []),  # a toast table
        ((1247, 20, None, None, None, "r", None, None, None), [("range_types", 20)]),
        ((1247, 21, None, None, None, "b", None, None, None), []),  # an array type
        ((2606, 30, None, None, None, None, 10, None, None), [("tables", 10)]),
        ((2606, 31, None, None, None, None, None, 22, None), [("domains", 22)]),
        ((2604, 40, None, None, None, None, None, None, 10), [("tables", 10)]),
        ((3456, 50, None, None, None, None, None, None, None), [("collations", 50)]),
        ((2615, 60, None, None, None, None, None, None, None), [(_FULL, 60)]),
        ((2618, 70, None, None, None, None, None, None, None), []),  # a rule: its view is reached
    ],
)
def test_shown_in_names_the_snapshot_object(
    row: tuple[
        int, int, str | None, int | None, int | None, str | None, int | None, int | None, int | None
    ],
    shown: list[tuple[str, int]],
) -> None:
    assert list(_shown_in(*row)) == shown
