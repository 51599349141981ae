"""``with_literals``: recorded statements as PostgreSQL ran them, read back by lint's parser."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from migproof.chain.capture import with_literals


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "NULL"),
        (True, "true"),
        (3, "3"),
        ("it's", "'it''s'"),
        ([1, 2], "ARRAY[1, 2]"),
        (b"\x80\x05]", "'\\x80055d'::bytea"),  # a pickle, as mailman's PickleType sends it
        (bytearray(b"\x00a"), "'\\x0061'::bytea"),
        (memoryview(b"\xff"), "'\\xff'::bytea"),
        (psycopg.Binary(b"\x80\x05]"), "'\\x80055d'::bytea"),
    ],
)
def test_values_become_sql_literals(value: Any, literal: str) -> None:
    assert with_literals("UPDATE t SET v = %(v)s", {"v": value}) == f"UPDATE t SET v = {literal}"


def test_bytea_literals_mean_the_same_bytes_to_postgresql(conn: psycopg.Connection[Any]) -> None:
    sent = b"\x80\x05]\x94.\x00'"
    sql = with_literals("SELECT %s", (psycopg.Binary(sent),))
    row = conn.execute(sql.encode()).fetchone()
    assert row is not None
    assert bytes(row[0]) == sent
