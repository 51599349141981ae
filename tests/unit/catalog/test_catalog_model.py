"""Snapshot JSON: byte-stable, sorted, round-trips; malformed files are refused."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from tests.unit.catalog.builders import make

from migproof.catalog import Snapshot, SnapshotFormatError
from migproof.catalog.model import KINDS, Column, Constraint, Index, Table, quote_ident


def full_snapshot() -> Snapshot:
    values = {kind.attribute: {f"public.{kind.attribute}": make(kind.cls)} for kind in KINDS}
    table = make(
        Table,
        columns=(make(Column), make(Column, name="b", position=2, privileges=("app=SELECT",))),
        constraints=(make(Constraint),),
    )
    values["tables"] = {"public.orders": table}
    return Snapshot(server_version=18, **values)


def test_json_round_trip_is_equal_and_byte_stable() -> None:
    snap = full_snapshot()
    text = snap.to_json()
    again = Snapshot.from_json(text)
    assert again == snap
    assert again.to_json() == text
    assert text.endswith("\n")
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_tables_expose_keys_for_generating_rows() -> None:
    table = full_snapshot().tables["public.orders"]
    assert [c.name for c in table.columns] == ["id", "b"]
    assert table.primary_key is not None
    assert table.primary_key.columns == ("id",)
    assert table.foreign_keys == ()
    assert table.column("b") is not None
    assert table.column("nope") is None
    assert not table.is_partitioned
    assert dataclasses.replace(table, partition_key="RANGE (id)").is_partitioned


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"format": 99}', "format 1"),
        ("[]", "format 1"),
        ('{"format": 1, "tables": {"public.t": {"name": "t"}}}', "without 'schema'"),
    ],
)
def test_malformed_snapshots_are_refused(text: str, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        Snapshot.from_json(text)


def test_quote_ident_follows_postgresql() -> None:
    assert quote_ident("orders") == "orders"
    assert quote_ident("Order") == '"Order"'
    assert quote_ident('we"ird') == '"we""ird"'
    # keywords PostgreSQL quotes (all but the unreserved ones): snapshot keys are written so
    assert [quote_ident(n) for n in ("user", "group", "order", "time", "name", "type")] == [
        '"user"',
        '"group"',
        '"order"',
        '"time"',
        "name",
        "type",
    ]


def test_quote_ident_reads_the_keywords_without_importing_the_parser() -> None:
    """verify parses no SQL: importing pglast's parser for its keyword list cost 30 ms."""
    code = (
        "import sys\nfrom migproof.catalog.model import quote_ident\n"
        "assert quote_ident('user') == '\"user\"'\nprint('pglast' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_a_property_missing_from_an_older_file_takes_its_default() -> None:
    data = full_snapshot().to_dict()
    for constraint in data["tables"]["public.orders"]["constraints"]:
        del constraint["without_overlaps"]
    assert Snapshot.from_dict(data) == full_snapshot()


def test_indexes_of_groups_by_table_in_key_order_and_is_not_part_of_the_snapshot() -> None:
    indexes = {
        "public.z_ix": make(Index, name="z_ix", table="public.orders"),
        "public.other_ix": make(Index, name="other_ix", table="public.other"),
        "public.a_ix": make(Index, name="a_ix", table="public.orders"),
    }
    snap = Snapshot(indexes=indexes)
    assert [i.name for i in snap.indexes_of("public.orders")] == ["a_ix", "z_ix"]
    assert [i.name for i in snap.indexes_of("public.other")] == ["other_ix"]
    assert snap.indexes_of("public.nothing") == ()
    # the grouping is neither compared nor written, nor carried into a changed copy
    assert snap == Snapshot(indexes=indexes)
    assert snap.to_json() == Snapshot(indexes=indexes).to_json()
    fewer = dataclasses.replace(snap, indexes={"public.a_ix": indexes["public.a_ix"]})
    assert [i.name for i in fewer.indexes_of("public.orders")] == ["a_ix"]
