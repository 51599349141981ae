"""SOURCE forms, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.errors import SourceError
from migproof.sources import SourceKind, parse_source, read_snapshot_file


@pytest.mark.parametrize(
    ("source", "kind", "target"),
    [
        ("postgresql://app@db/app", SourceKind.URL, "postgresql://app@db/app"),
        ("postgres://db/app", SourceKind.URL, "postgres://db/app"),
        ("schema/create_database.sql", SourceKind.SQL_FILE, "schema/create_database.sql"),
        ("DUMP.SQL", SourceKind.SQL_FILE, "DUMP.SQL"),
        ("migproof.schema.json", SourceKind.SNAPSHOT_FILE, "migproof.schema.json"),
        ("alembic:head", SourceKind.ALEMBIC, "head"),
        ("alembic:base", SourceKind.ALEMBIC, "base"),
        ("alembic:3f1c2a9b7d10", SourceKind.ALEMBIC, "3f1c2a9b7d10"),
    ],
)
def test_source_forms(source: str, kind: SourceKind, target: str) -> None:
    parsed = parse_source(source)
    assert (parsed.kind, parsed.target) == (kind, target)


@pytest.mark.parametrize("source", ["schema.txt", "head", "mysql://db/app", "alembic:"])
def test_unknown_forms_say_which_forms_exist(source: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_source(source)
    assert info.value.fix is not None
    assert "alembic:" in info.value.fix


def test_missing_snapshot_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such snapshot file"):
        read_snapshot_file(tmp_path / "nope.json")
