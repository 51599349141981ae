"""Value generation and findings without a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from migproof.catalog.model import (
    Column,
    CompositeType,
    Constraint,
    Domain,
    Enum,
    RangeType,
    Snapshot,
    Table,
)
from migproof.checks import find_check
from migproof.findings import Location
from migproof.verify.data import (
    RowProblem,
    _dependency_order,
    _is_clock,
    _split_key,
    _timestamp,
    row_findings,
)
from migproof.verify.rows import (
    Literals,
    TypeCatalog,
    candidates,
    check_literals,
    column_candidates,
    column_literals,
    columns_in_expression,
)

TYPES = TypeCatalog.from_snapshot(
    Snapshot(
        enums={"public.mood": Enum(schema="public", name="mood", labels=("sad", "ok"))},
        domains={
            "public.code": Domain(
                schema="public",
                name="code",
                type="text",
                constraints=("code_check: CHECK (VALUE = ANY (ARRAY['A1'::text, 'B2'::text]))",),
            )
        },
        composite_types={
            "public.pair": CompositeType(
                schema="public", name="pair", attributes=("a integer", '"B c" text')
            )
        },
        range_types={"public.span": RangeType(schema="public", name="span", subtype="integer")},
    )
)


@pytest.mark.parametrize(
    ("type_name", "n", "first"),
    [
        ("integer", 3, "3"),
        ("numeric(6,2)", 3, "3.25"),
        ("numeric(3,0)", 1234, "234"),
        ("character varying(2)", 30, "30"),
        ("character varying(1)", 27, "b"),
        ("character(1)", 2, "2"),
        ("boolean", 1, "true"),
        ("date", 1, "2024-01-02"),
        ("timestamp(3) with time zone", 1, "2024-01-02 03:04:01.25+00"),
        ("uuid", 255, "00000000-0000-4000-8000-0000000000ff"),
        ("jsonb", 2, '{"migproof": 2}'),
        ("bit(4)", 5, "0101"),
        ("integer[]", 1, '{"1","2"}'),
        ("public.mood", 2, "ok"),
        ("public.mood[]", 1, '{"sad","ok"}'),
        ("public.code", 1, "A1"),
        ("public.code", 2, "B2"),
        ("public.pair", 1, '("1","migproof 1")'),
        ("public.span", 1, '["1","11")'),
        ("public.citext", 1, "migproof 1"),
        ("vector(3)", 1, "[1,2,3]"),
        ("public.unknown_thing", 4, "migproof 4"),
    ],
)
def test_first_candidate(type_name: str, n: int, first: str) -> None:
    assert candidates(type_name, TYPES, n)[0] == first


def test_candidates_of_two_rows_differ_for_unique_columns() -> None:
    for type_name in ("integer", "text", "uuid", "date", "numeric(4,1)", "inet", "bytea"):
        assert candidates(type_name, TYPES, 1)[0] != candidates(type_name, TYPES, 2)[0]


def test_check_literals_go_first_for_in_lists_and_after_the_first_value_otherwise() -> None:
    table = Table(
        schema="public",
        name="t",
        columns=(
            Column(name="status", position=1, type="text"),
            Column(name="qty", position=2, type="integer"),
        ),
        constraints=(
            Constraint(
                name="status_in",
                kind="CHECK",
                expression="status = ANY (ARRAY['open'::text, 'closed'::text])",
            ),
            Constraint(name="qty_range", kind="CHECK", expression="qty >= 10 AND qty <= 20"),
        ),
    )
    status, qty = table.columns
    assert column_candidates(status, table, TYPES, 1)[:2] == ["open", "closed"]
    assert column_candidates(status, table, TYPES, 2)[:2] == ["closed", "open"]
    assert column_candidates(qty, table, TYPES, 1)[:4] == ["1", "10", "11", "9"]
    assert column_literals(status, table).strings == ("open", "closed")
    assert column_literals(qty, table, Literals(numbers=("7",))).numbers[0] == "7"
    assert column_literals(qty, table).strings == ()


def test_a_checks_strings_go_only_to_columns_of_a_type_they_can_be() -> None:
    # langflow's sso_config: one CHECK names a boolean, a text and a jsonb column
    expression = (
        "NOT enabled OR (protocol = ANY (ARRAY['oidc'::text, 'saml'::text]) AND"
        " (settings ->> 'discovery_url'::text) IS NOT NULL)"
    )
    literals = check_literals(expression)
    assert {"oidc", "saml", "discovery_url"} <= set(literals.strings)
    assert not {"oidc", "saml", "discovery_url"} & set(candidates("boolean", TYPES, 1, literals))
    assert not {"oidc", "saml"} & set(candidates("integer", TYPES, 1, literals))
    assert candidates("text", TYPES, 1, literals)[:2] == ["oidc", "saml"]
    # strings that are values of the type stay
    assert "42" in candidates("integer", TYPES, 1, Literals(strings=("42", "x")))
    assert "x" not in candidates("integer", TYPES, 1, Literals(strings=("42", "x")))


def test_check_literals_and_columns_of_an_expression() -> None:
    literals = check_literals("(price > 0.5) AND (code <> 'x''y')")
    assert literals.strings == ("x'y",)
    assert literals.numbers == ("0.5", "1.0", "0.0")
    table = Table(
        schema="public",
        name="t",
        columns=(
            Column(name="price", position=1, type="numeric"),
            Column(name="Code", position=2, type="text"),
            Column(name="unused", position=3, type="text"),
        ),
    )
    assert columns_in_expression("(price > 0) AND (\"Code\" <> 'unused')", table) == {
        "price",
        "Code",
    }


def test_parents_come_before_children_and_nullable_cycles_break() -> None:
    def table(name: str, *fks: tuple[str, str, bool]) -> Table:
        return Table(
            schema="public",
            name=name,
            columns=tuple(
                Column(name=col, position=i, type="integer", not_null=not nullable)
                for i, (col, _, nullable) in enumerate(fks, start=1)
            ),
            constraints=tuple(
                Constraint(
                    name=f"{name}_{col}",
                    kind="FOREIGN KEY",
                    columns=(col,),
                    references=f"public.{parent}",
                    referenced_columns=("id",),
                )
                for col, parent, _ in fks
            ),
        )

    snapshot = Snapshot(
        tables={
            "public.a": table("a", ("b_id", "b", True)),
            "public.b": table("b", ("a_id", "a", False)),
            "public.c": table("c", ("b_id", "b", False)),
        }
    )
    assert _dependency_order(snapshot) == ["public.a", "public.b", "public.c"]


def test_split_key() -> None:
    assert _split_key('public."Or.der"') == ("public", "Or.der")
    assert _split_key('"my ""s"".x".t') == ('my "s".x', "t")


def test_findings_for_lost_rows_and_emptied_columns() -> None:
    where = Location(path=Path("v/a1.py"), line=20)
    lost = RowProblem("MP101", "public.orders", None, "(id)=(1)", None, None, 2, 2)
    emptied = RowProblem("MP103", "public.orders", "placed_at", "(id)=(1)", "2024", None, 2, 2)
    first, second = row_findings([lost, emptied], revision="a1", location=where)
    assert (first.check, first.revision, first.location) == ("MP101", "a1", where)
    assert first.message == (
        "2 of 2 rows put into public.orders are gone after the downgrade and upgrade again of "
        "a1, e.g. the row (id)=(1)"
    )
    assert second.message == (
        "column public.orders.placed_at is NULL in 2 of 2 rows after the downgrade and upgrade "
        "again of a1 (the row (id)=(1) had '2024')"
    )


def test_checks_are_registered_with_docs() -> None:
    for code in ("MP101", "MP102", "MP103", "MP104", "MP110", "MP111", "MP112", "MP113"):
        info = find_check(code)
        assert info is not None and info.family == "verify"
        assert "## What it does" in info.docs and "## How to fix" in info.docs


def test_clock_values_are_timestamps_taken_during_the_walk() -> None:
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    taken = [(now - dt.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S.%f+00") for s in (1, 2)]
    assert _is_clock(taken[0], taken[1], since)
    assert not _is_clock("2024-01-02 03:04:01.25+00", taken[0], since)  # a seeded value
    assert not _is_clock("2080-01-01 00:00:01", "2080-01-01 00:00:02", since)  # the future
    assert not _is_clock(taken[0], taken[1], None)
    assert not _is_clock("1.25", "1.00", since)
    assert _timestamp("2026-03-04 05:06:07+02") == dt.datetime(2026, 3, 4, 3, 6, 7, tzinfo=dt.UTC)
