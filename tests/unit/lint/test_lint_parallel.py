"""Linting in two processes finds exactly what one linter going through the files finds."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from migproof.config import Config
from migproof.findings import Finding
from migproof.lint import RecordedStatement, SqlSource, parallel
from migproof.lint.engine import Linter
from migproof.lint.pgsql import unvalidated_nodes

# Each migration leans on what the ones before it built: a split anywhere must carry that.
MIGRATIONS = [
    "CREATE TABLE users (id bigint PRIMARY KEY, email text);",
    # int -> bigint: MP501; no index on user_id yet: MP502 held until the next migration
    "CREATE TABLE orders (id bigint PRIMARY KEY, user_id int REFERENCES users (id), total int);",
    "CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);",
    # held again, and this time the next migration adds no index: released there
    "SET lock_timeout = '1s';\nALTER TABLE orders ADD COLUMN shipped_to bigint;\n"
    "ALTER TABLE orders ADD CONSTRAINT orders_ship_fk FOREIGN KEY (shipped_to) REFERENCES users"
    " (id) NOT VALID;",
    "SET lock_timeout = '1s';\nCREATE INDEX orders_total_idx ON orders (total);",
    "CREATE TABLE broken (id int,;",  # does not parse: creates nothing
    "CREATE TABLE broken (id int);\nCREATE INDEX broken_idx ON broken (id);",  # both new
    "-- migproof: ignore MP201\nCREATE INDEX orders_id_idx ON orders (id);\n"
    "-- migproof: ignore MP404\nSELECT 1;",
    "INSERT INTO users VALUES (1, 'a');\nUPDATE users SET email = 'b' WHERE id = 1;\n"
    "ALTER TABLE users ALTER COLUMN email TYPE varchar(10);",
    "CREATE TYPE mood AS ENUM ('calm');",
    "ALTER TYPE mood ADD VALUE 'busy';\nALTER TABLE users ADD COLUMN mood mood;",
    "DROP INDEX orders_total_idx;\nALTER TABLE users RENAME COLUMN email TO mail;",
    "CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));",
]


def _sources() -> list[SqlSource]:
    sources = [SqlSource(sql, Path(f"{n:03d}.sql")) for n, sql in enumerate(MIGRATIONS)]
    # a migration with its own setup SQL and a downgrade
    sources.insert(
        9,
        SqlSource(
            "ALTER TABLE legacy ADD COLUMN code int NOT NULL;",
            Path("009a.sql"),
            setup_sql="CREATE TABLE legacy (id int);",
            down_sql="DROP TABLE legacy;",
            down_path=Path("009a.down.sql"),
        ),
    )
    return sources


def _sequential(sources: list[SqlSource]) -> list[Finding]:
    with unvalidated_nodes():
        return Linter(Config()).lint_all(sources)


def _split(sources: list[SqlSource], first: int) -> list[Finding]:
    with unvalidated_nodes():
        return parallel.lint_split(sources, Linter(Config()), first)


def test_the_corpus_leans_across_migrations() -> None:
    found = [
        (f.check, f.location.path.name if f.location else None) for f in _sequential(_sources())
    ]
    assert ("MP501", "001.sql") in found
    assert ("MP502", "003.sql") in found and ("MP502", "001.sql") not in found
    assert ("MP201", "004.sql") in found and ("MP201", "006.sql") not in found
    assert ("MP901", "005.sql") in found
    assert ("MP903", "007.sql") in found and ("MP201", "007.sql") not in found
    assert ("MP408", "009a.sql") in found
    assert found[-1] == ("MP502", "012.sql")  # held by the last migration: released at the end


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids this process forked."""
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[list[Finding] | None]:
    """What this process decoded of the forked process's findings (None: nothing usable)."""
    results: list[list[Finding] | None] = []
    real_decode = parallel._decode

    def decode(
        data: list[parallel._Encoded] | None, sources: Sequence[SqlSource]
    ) -> list[Finding] | None:
        results.append(real_decode(data, sources))
        return results[-1]

    monkeypatch.setattr(parallel, "_decode", decode)
    return results


@pytest.mark.parametrize("first", range(1, len(MIGRATIONS) + 1))
def test_every_split_finds_what_one_linter_finds(
    first: int, forked: list[int], decoded: list[list[Finding] | None]
) -> None:
    sources = _sources()
    found = _split(sources, first)
    # the forked process linted sources[first:]: this one did not fall back to it
    assert len(forked) == 1
    assert len(decoded) == 1 and decoded[0] is not None
    assert found == _sequential(sources)


def test_a_failing_forked_process_leaves_the_rest_to_this_one(
    monkeypatch: pytest.MonkeyPatch, forked: list[int], decoded: list[list[Finding] | None]
) -> None:
    sources = _sources()
    expected = _sequential(sources)

    def fail(self: Linter, source: SqlSource) -> None:
        raise RuntimeError("only the forked process advances")

    monkeypatch.setattr(Linter, "advance", fail)
    assert _split(sources, 4) == expected
    assert len(forked) == 1  # the fork was tried, and its result not used
    assert all(result is None for result in decoded)


def test_split_point_shares_the_sql_by_size() -> None:
    sources = [SqlSource("SELECT 1;" * size, Path(f"{n}.sql")) for n, size in enumerate([1] * 10)]
    assert parallel.split_point(sources, 0.66) == 7
    assert parallel.split_point(sources[:2], 0.99) == 1  # the forked process gets one at least
    big_first = [SqlSource("SELECT 1;" * 100, Path("0.sql")), *sources]
    assert parallel.split_point(big_first, 0.5) == 1


def test_only_large_plain_sql_corpora_are_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2.0)
    big = [SqlSource("SELECT 1;\n" * 50_000, Path("big.sql"))]
    assert parallel.worth_splitting(big) is sys.platform.startswith("linux")
    assert not parallel.worth_splitting([SqlSource("SELECT 1;\n", Path("small.sql"))])
    recorded = SqlSource.from_statements([RecordedStatement("SELECT 1\n" * 50_000)], path=None)
    assert not parallel.worth_splitting([recorded])
    monkeypatch.setattr(parallel, "usable_cores", lambda: 1.5)
    assert not parallel.worth_splitting(big)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2.0)
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not parallel.worth_splitting(big)


def test_an_error_here_reaps_the_forked_process_and_propagates(
    monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    real_lint = Linter.lint

    def lint(self: Linter, source: SqlSource) -> list[Finding]:
        if source.path == Path("000.sql"):  # only this process lints the first migration
            raise RuntimeError("a rule's bug")
        return real_lint(self, source)

    monkeypatch.setattr(Linter, "lint", lint)
    with pytest.raises(RuntimeError, match="a rule's bug"):
        _split(_sources(), 4)
    [pid] = forked
    with pytest.raises(ChildProcessError):  # already waited for: no zombie, no orphan
        os.waitpid(pid, os.WNOHANG)
