"""The lock file and the text listing, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.catalog.builders import make

from migproof.catalog.diff import diff_snapshots
from migproof.catalog.listing import render_snapshot
from migproof.catalog.lockfile import (
    LockfileDrift,
    compare_lockfile,
    lockfile_path,
    read_lockfile,
    write_lockfile,
)
from migproof.catalog.model import KINDS, Column, Domain, Snapshot, Table
from migproof.config import load_config
from migproof.errors import SourceError


def snapshot() -> Snapshot:
    values = {kind.attribute: {f"public.{kind.attribute}": make(kind.cls)} for kind in KINDS}
    return Snapshot(server_version=18, **values)


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "db" / "schema.json"
    assert write_lockfile(path, snapshot()) is True
    assert write_lockfile(path, snapshot()) is False  # unchanged: not rewritten
    assert read_lockfile(path) == snapshot()


def test_missing_lock_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        read_lockfile(tmp_path / "migproof.schema.json")
    assert info.value.fix == "create it with `migproof snapshot alembic:head --write` and commit it"


def test_conflicted_lock_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "migproof.schema.json"
    path.write_text("<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> branch\n")
    with pytest.raises(SourceError, match="is not a migproof snapshot"):
        read_lockfile(path)


def test_lockfile_path_is_relative_to_the_config_root(tmp_path: Path) -> None:
    (tmp_path / "migproof.toml").write_text('lockfile = "db/schema.json"\n')
    (tmp_path / "sub").mkdir()
    assert lockfile_path(load_config(tmp_path / "sub")) == tmp_path / "db" / "schema.json"


def test_text_listing_names_every_object() -> None:
    text = render_snapshot(snapshot())
    for kind in KINDS:
        assert f"public.{kind.attribute}" in text
    assert render_snapshot(Snapshot()) == "(empty schema)\n"


def test_text_listing_writes_column_and_domain_clauses_alike() -> None:
    column = make(Column, type="text", collation='public."ci"', not_null=True, default="'x'::text")
    domain = make(Domain, collation='public."ci"', not_null=True, default="'x'::text")
    text = render_snapshot(
        Snapshot(
            domains={"public.code": domain},
            tables={"public.orders": make(Table, columns=(column,))},
        )
    )
    assert text.splitlines() == [
        """domain public.code text COLLATE public."ci" NOT NULL DEFAULT 'x'::text""",
        "table public.orders",
        """    id text COLLATE public."ci" NOT NULL DEFAULT 'x'::text""",
    ]


def test_compare_lockfile_notes_a_server_version_mismatch_only_when_they_differ() -> None:
    locked = snapshot()
    assert compare_lockfile(locked, snapshot(), "lock.json") == LockfileDrift([], None)
    fewer = {kind.attribute: {} for kind in KINDS}
    head = Snapshot(server_version=17, **{**fewer, "tables": locked.tables})
    drift = compare_lockfile(locked, head, "lock.json")
    assert drift.differences == diff_snapshots(locked, head) != []
    assert drift.note == (
        "lock.json was written on PostgreSQL 18, head was built on 17: "
        "use the same --pg-bin for both"
    )
    same_version = Snapshot(server_version=18, **{**fewer, "tables": locked.tables})
    assert compare_lockfile(locked, same_version, "lock.json").note is None
    # Only a difference earns the note: equal schemas built on two versions are fine.
    assert compare_lockfile(
        locked,
        Snapshot(
            server_version=17, **{kind.attribute: getattr(locked, kind.attribute) for kind in KINDS}
        ),
        "lock.json",
    ) == LockfileDrift([], None)
