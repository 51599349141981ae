"""The diff on hand-made snapshots: no database."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from tests.unit.catalog.builders import REQUIRED, changed, make

from migproof.catalog import Difference, Snapshot, diff_snapshots, render_diff
from migproof.catalog.diff import diff_to_dict
from migproof.catalog.model import (
    KINDS,
    CatalogObject,
    Column,
    Constraint,
    Enum,
    Index,
    Schema,
    Table,
)

ORDERS = make(
    Table,
    columns=(
        make(Column, name="id", position=1, not_null=True),
        make(Column, name="customer_id", position=2, type="bigint"),
        make(Column, name="total", position=3, type="numeric(12,2)"),
    ),
    constraints=(make(Constraint),),
)


def snapshot(**collections: dict[str, Any]) -> Snapshot:
    return Snapshot(**collections)


def test_equal_snapshots_have_no_differences() -> None:
    snap = snapshot(tables={"public.orders": ORDERS})
    assert diff_snapshots(snap, snap) == []
    assert render_diff([]) == "no differences\n"


def _property_cases() -> list[tuple[str, str]]:
    cases = []
    for kind in KINDS:
        obj = make(kind.cls)
        cases.extend((kind.attribute, prop) for prop, _ in obj.properties())
    return cases


@pytest.mark.parametrize(("attribute", "prop"), _property_cases())
def test_each_property_of_each_kind_is_one_named_difference(attribute: str, prop: str) -> None:
    kind = next(k for k in KINDS if k.attribute == attribute)
    a = make(kind.cls)
    b = changed(a, prop)
    key = "public.thing"
    diffs = diff_snapshots(snapshot(**{attribute: {key: a}}), snapshot(**{attribute: {key: b}}))
    assert [(d.name, d.property) for d in diffs] == [(key, prop)]
    assert diffs[0].a == getattr(a, prop)
    assert diffs[0].b == getattr(b, prop)
    assert not diffs[0].is_order_only


@pytest.mark.parametrize(
    ("cls", "prop"),
    [(cls, prop) for cls in (Column, Constraint) for prop, _ in make(cls).properties()],
)
def test_each_property_of_columns_and_constraints(cls: type[CatalogObject], prop: str) -> None:
    child, other = make(cls), changed(make(cls), prop)
    field = "columns" if cls is Column else "constraints"
    a = snapshot(tables={"public.orders": make(Table, **{field: (child,)})})
    b = snapshot(tables={"public.orders": make(Table, **{field: (other,)})})
    diffs = diff_snapshots(a, b)
    name = REQUIRED[cls]["name"]
    assert [(d.kind, d.name, d.property) for d in diffs] == [
        (child.kind_label, f"public.orders.{name}", prop)
    ]
    assert (diffs[0].a, diffs[0].b) == (getattr(child, prop), getattr(other, prop))


def test_every_kind_has_a_builder() -> None:
    assert {k.cls for k in KINDS} | {Column, Constraint} == set(REQUIRED)


def test_presence_is_one_difference_per_object() -> None:
    index = make(Index, table="public.orders")
    a = snapshot(tables={"public.orders": ORDERS}, indexes={"public.ix": index})
    b = snapshot()
    diffs = diff_snapshots(a, b)
    # the table's columns, constraint and index went with it: reported once, as the table
    assert [str(d) for d in diffs] == ["table public.orders: only in A"]
    assert [str(d) for d in diff_snapshots(b, a)] == ["table public.orders: only in B"]
    assert diffs[0].is_presence


def test_index_of_a_table_on_both_sides_is_reported() -> None:
    index = make(Index, table="public.orders")
    a = snapshot(tables={"public.orders": ORDERS}, indexes={"public.ix": index})
    b = snapshot(tables={"public.orders": ORDERS})
    assert [str(d) for d in diff_snapshots(a, b)] == ["index public.ix: only in A"]


def test_column_order_alone_is_a_lower_severity_difference() -> None:
    reordered = dataclasses.replace(
        ORDERS,
        columns=(
            make(Column, name="id", position=1, not_null=True),
            make(Column, name="total", position=2, type="numeric(12,2)"),
            make(Column, name="customer_id", position=3, type="bigint"),
        ),
    )
    diffs = diff_snapshots(
        snapshot(tables={"public.orders": ORDERS}), snapshot(tables={"public.orders": reordered})
    )
    assert [str(d) for d in diffs] == [
        "table public.orders: column order [id, customer_id, total] -> [id, total, customer_id]"
    ]
    assert diffs[0].is_order_only


def test_a_wide_table_names_the_columns_that_moved() -> None:
    """mailman's mailinglist has 95 columns: both orders whole were hundreds of characters for
    one column re-added last by a downgrade."""
    names = [f"c{n}" for n in range(1, 21)]
    wide = dataclasses.replace(
        ORDERS, columns=tuple(make(Column, name=n, position=i) for i, n in enumerate(names, 1))
    )
    one = ["c1", "c2", "c4", *names[4:], "c3"]
    two = ["c3", "c1", "c2", *names[4:11], "c4", *names[11:]]
    for order, words in [
        (one, "c3 3rd -> 20th (of 20 columns)"),
        (two, "c3 3rd -> 1st, c4 4th -> 11th (of 20 columns)"),
    ]:
        moved = dataclasses.replace(
            wide, columns=tuple(make(Column, name=n, position=i) for i, n in enumerate(order, 1))
        )
        tables = ({"public.orders": wide}, {"public.orders": moved})
        diffs = diff_snapshots(snapshot(tables=tables[0]), snapshot(tables=tables[1]))
        assert [str(d) for d in diffs] == [f"table public.orders: column order: {words}"]
        assert diffs[0].to_dict()["b"] == order  # the JSON keeps both orders whole


def test_position_gaps_and_a_column_added_last_are_not_order_differences() -> None:
    gapped = dataclasses.replace(
        ORDERS,
        columns=(
            make(Column, name="id", position=1, not_null=True),
            make(Column, name="customer_id", position=3, type="bigint"),
            make(Column, name="total", position=7, type="numeric(12,2)"),
            make(Column, name="note", position=8, type="text"),
        ),
    )
    diffs = diff_snapshots(
        snapshot(tables={"public.orders": ORDERS}), snapshot(tables={"public.orders": gapped})
    )
    assert [str(d) for d in diffs] == ["column public.orders.note: only in B"]


def test_differences_are_sorted_by_kind_then_name() -> None:
    a = snapshot(
        enums={"public.b_enum": make(Enum)},
        tables={"public.orders": ORDERS},
    )
    b = snapshot(schemas={"audit": make(Schema)})
    assert [d.kind for d in diff_snapshots(a, b)] == ["schema", "enum", "table"]


def test_differences_are_sorted_whatever_the_order_of_the_collections() -> None:
    extra = (make(Column, name="z", position=4), make(Column, name="b", position=5))
    wider = dataclasses.replace(ORDERS, columns=(*ORDERS.columns, *extra))
    a = snapshot(
        enums={"public.z_enum": make(Enum), "public.a_enum": make(Enum)},
        tables={"public.orders": ORDERS},
    )
    b = snapshot(tables={"public.orders": wider})
    assert [str(d) for d in diff_snapshots(a, b)] == [
        "enum public.a_enum: only in A",
        "enum public.z_enum: only in A",
        "column public.orders.b: only in B",
        "column public.orders.z: only in B",
    ]


def test_describe_labels_and_value_formats() -> None:
    diff = Difference(
        kind="column",
        name="entity.release_identity.source",
        property="type",
        a="text",
        b="character varying(64)",
    )
    assert str(diff) == "column entity.release_identity.source: type text -> character varying(64)"
    presence = Difference(kind="enum", name="public.status_enum", property=None, a=False, b=True)
    assert presence.describe("head", "schema.sql") == "enum public.status_enum: only in schema.sql"
    flags = Difference(kind="column", name="public.t.a", property="not_null", a=False, b=True)
    assert str(flags) == "column public.t.a: nullable -> NOT NULL"
    none = Difference(kind="column", name="public.t.a", property="default", a=None, b="0")
    assert str(none) == "column public.t.a: default none -> 0"


def test_multiline_values_render_as_a_unified_diff() -> None:
    diff = Difference(
        kind="view",
        name="public.v",
        property="definition",
        a=" SELECT id\n   FROM t\n  WHERE a > 1;",
        b=" SELECT id\n   FROM t\n  WHERE a > 2;",
    )
    assert render_diff([diff], "before", "after").splitlines() == [
        "view public.v: definition differs",
        "    --- before",
        "    +++ after",
        "    @@ -1,3 +1,3 @@",
        "      SELECT id",
        "        FROM t",
        "    -  WHERE a > 1;",
        "    +  WHERE a > 2;",
    ]


def test_json_form() -> None:
    diff = Difference(kind="enum", name="public.e", property="labels", a=("a",), b=("a", "b"))
    assert diff_to_dict([diff], "x.sql", "y.sql") == {
        "a": "x.sql",
        "b": "y.sql",
        "equal": False,
        "differences": [
            {
                "kind": "enum",
                "name": "public.e",
                "property": "labels",
                "a": ["a"],
                "b": ["a", "b"],
                "is_order_only": False,
                "text": "enum public.e: labels [a] -> [a, b]",
            }
        ],
    }


def test_server_version_is_not_compared() -> None:
    assert diff_snapshots(Snapshot(server_version=15), Snapshot(server_version=18)) == []


def test_each_kind_is_named_in_words() -> None:
    labels = {kind.attribute: make(kind.cls).kind_label for kind in KINDS}
    assert labels == {
        "schemas": "schema",
        "extensions": "extension",
        "collations": "collation",
        "enums": "enum",
        "domains": "domain",
        "composite_types": "composite type",
        "range_types": "range type",
        "sequences": "sequence",
        "tables": "table",
        "indexes": "index",
        "views": "view",
        "functions": "function",
        "triggers": "trigger",
        "policies": "policy",
        "statistics": "statistics",
        "default_privileges": "default privileges",
    }
    assert (make(Column).kind_label, make(Constraint).kind_label) == ("column", "constraint")
