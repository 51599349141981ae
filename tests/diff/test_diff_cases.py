"""Each directory here is a case: a.sql and b.sql applied to fresh databases, their snapshots
diffed, the text compared with expected.txt. Refresh with MIGPROOF_UPDATE_GOLDEN=1.

Each file runs inside a transaction that is rolled back after its snapshot (which also
proves that a snapshot sees a caller's uncommitted DDL), so one database serves every case;
a case must therefore be valid inside a transaction block. Where a server prints a property
differently, ``expected.pgN.txt`` holds the text for servers up to version N.

Most cases differ in exactly one property of one object and expect exactly one line naming
it; the others expect none (same schema built in another order, dropped-column gaps, data).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from migproof.catalog import Snapshot, SnapshotFilter, diff_snapshots, render_diff, take_snapshot
from migproof.config import Config
from migproof.sandbox import Sandbox

CASES = Path(__file__).parent
UPDATE = bool(os.environ.get("MIGPROOF_UPDATE_GOLDEN"))
# Cases that need a newer server than the one under test: name -> major version.
MIN_VERSION = {
    "unique_nulls_not_distinct": 15,
    "index_nulls_not_distinct": 15,
    "constraint_without_overlaps": 18,
    "constraint_not_enforced": 18,
    "column_generated_virtual": 18,
    "sequence_unlogged": 15,
}


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "a.sql").is_file())


@pytest.fixture(scope="module")
def case_conn(pg: Sandbox) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """One database for every case; each case's SQL is rolled back after its snapshot."""
    with pg.database() as dbname, pg.connect(dbname, autocommit=False) as conn:
        yield conn


def _snapshot(conn: psycopg.Connection[tuple[object, ...]], path: Path) -> Snapshot:
    try:
        text = path.read_text()
        if text.strip():
            conn.execute(text.encode())
        return take_snapshot(conn, SnapshotFilter.from_config(Config()))
    finally:
        conn.rollback()


def _expected_path(directory: Path, major: int) -> Path:
    for path in sorted(directory.glob("expected.pg*.txt"), key=lambda p: int(p.name[11:-4])):
        if major <= int(path.name[11:-4]):
            return path
    return directory / "expected.txt"


@pytest.mark.parametrize("case", _cases())
def test_diff_case(
    case: str,
    pg: Sandbox,
    case_conn: psycopg.Connection[tuple[object, ...]],
    case_roles: tuple[str, ...],
) -> None:
    if pg.binaries.major < MIN_VERSION.get(case, 0):
        pytest.skip(f"needs PostgreSQL {MIN_VERSION[case]}")
    directory = CASES / case
    try:
        a = _snapshot(case_conn, directory / "a.sql")
        b = _snapshot(case_conn, directory / "b.sql")
    except psycopg.errors.FeatureNotSupported as exc:  # e.g. ICU in the embedded server
        pytest.skip(f"the server under test lacks a feature: {exc}")
    actual = render_diff(diff_snapshots(a, b), "a.sql", "b.sql")
    expected_path = _expected_path(directory, pg.binaries.major)
    if UPDATE:
        expected_path.write_text(actual)
    assert actual == expected_path.read_text()
