"""The pytest plugin through pytester: ``pytest --migproof`` and the database fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO

pytest_plugins = ["pytester"]

# pytest-alembic's collection hook breaks under pytest 9 (the repository's own config
# disables it too); the cache would write into the copied project.
ARGS = ("-p", "no:pytest_alembic", "-p", "no:cacheprovider")
BROKEN_FAILED = [
    "migproof::graph::revision-id-too-long",
    "migproof::0002::roundtrip",
    "migproof::0003::roundtrip",
    "migproof::0004::roundtrip",
    "migproof::0005::roundtrip",
    "migproof::0006_add_billing_contact_to_accounts_table::upgrade",
]


@pytest.fixture(autouse=True)
def _server_binaries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs use the binaries the suite was asked to test with."""
    pg_bin = os.environ.get("MIGPROOF_TEST_PG_BIN")
    if pg_bin:
        monkeypatch.setenv("MIGPROOF_PG_BIN", pg_bin)


def _example(pytester: pytest.Pytester, name: str) -> Path:
    shutil.copytree(
        REPO / "examples" / name,
        pytester.path,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return pytester.path


def _failed_ids(result: pytest.RunResult) -> list[str]:
    return [
        line.split(" ")[1] for line in result.outlines if line.startswith(("FAILED ", "ERROR "))
    ]


def test_clean_project_every_check_passes(pytester: pytest.Pytester) -> None:
    # the project in a subdirectory, named by --migproof-project
    shutil.copytree(REPO / "examples" / "shop", pytester.path / "db")
    result = pytester.runpytest_subprocess("--migproof", "--migproof-project", "db", "-v", *ARGS)
    result.assert_outcomes(passed=20)
    result.stdout.fnmatch_lines(
        [
            "*collected 20 items",
            "migproof::graph::multiple-heads PASSED*",
            "migproof::3f1c2a9b7d10::upgrade PASSED*",
            "migproof::3f1c2a9b7d10::roundtrip PASSED*",
            "migproof::e2a4c6b8d0f1::roundtrip PASSED*",
            "migproof::chain::repeatable PASSED*",
            "migproof::checks::other-checks PASSED*",
        ]
    )
    assert result.ret == pytest.ExitCode.OK


def test_defective_revisions_fail_and_the_others_pass(pytester: pytest.Pytester) -> None:
    _example(pytester, "broken")
    result = pytester.runpytest_subprocess("--migproof", "-rfEs", *ARGS)
    result.assert_outcomes(failed=6, passed=14, skipped=2)
    assert sorted(_failed_ids(result)) == sorted(BROKEN_FAILED)
    # the message, then the titled blocks, as pytest-alembic shows them
    result.stdout.fnmatch_lines(
        [
            "*_ migproof: 0002 roundtrip _*",
            'MP011 downgrade fails: syntax error at or near "plan"'
            " (migrations/versions/0002_downgrade_typo.py:18)",
            "",
            "statement:",
            "    ALTER TABLE accounts DROP COLUMNN plan",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ migproof: 0003 roundtrip _*",
            "MP013 upgrade fails after its downgrade: *",
            "MP012 downgrade of 0003 does not restore the schema before it:"
            " enum public.account_status is left behind*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [1] migrations/versions/0006_add_billing_contact_to_accounts_table.py:1:"
            " 0006_add_billing_contact_to_accounts_table's upgrade failed",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_k_selects_a_revision(pytester: pytest.Pytester) -> None:
    _example(pytester, "broken")
    result = pytester.runpytest_subprocess("--migproof", "-k", "0003", *ARGS)
    result.assert_outcomes(failed=1, passed=1, deselected=20)


def test_with_xdist_each_worker_runs_its_own_sandbox(pytester: pytest.Pytester) -> None:
    _example(pytester, "broken")
    result = pytester.runpytest_subprocess("--migproof", "-n", "2", *ARGS)
    result.assert_outcomes(failed=6, passed=14, skipped=2)


def test_inert_unless_asked(pytester: pytest.Pytester) -> None:
    _example(pytester, "broken")
    pytester.makepyfile(test_app="def test_app():\n    assert True\n")
    result = pytester.runpytest_subprocess(*ARGS)
    result.assert_outcomes(passed=1)
    # pytest's header names every installed plugin, migproof among them, in any order.
    body = [line for line in result.outlines if not line.startswith("plugins:")]
    assert not [line for line in body if "migproof" in line]


def test_a_project_without_alembic_ini_is_one_clear_collection_error(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest_subprocess("--migproof", *ARGS)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting migproof*",
            "error: no Alembic configuration: */alembic.ini does not exist",
            "  fix: run migproof in the directory that has alembic.ini*",
        ]
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED


DATABASE_TESTS = """
import migproof.chain

BASE_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
HANDED_OUT = []


def tables(db):
    with db.connect() as conn:
        return [row[0] for row in conn.execute(BASE_TABLES)]


def test_head(migproof_database):
    db = migproof_database("head")
    assert tables(db) == ["alembic_version", "customers", "order_items", "orders"]
    assert db.url.startswith("postgresql://") and db.sqlalchemy_url.startswith("postgresql+psycopg://")


def test_an_earlier_revision(migproof_database):
    assert tables(migproof_database("3f1c2a9b7d10")) == ["alembic_version", "customers"]
    assert tables(migproof_database("base")) == []


def test_same_revision_twice_is_cloned_not_replayed(migproof_database, monkeypatch):
    built = []
    real = migproof.chain.database_at

    def counting(config, host, revision, project_dir=None):
        built.append(revision)
        return real(config, host, revision, project_dir)

    monkeypatch.setattr(migproof.chain, "database_at", counting)
    first = migproof_database("8a4e6d2c9b01")
    second = migproof_database("8a4e6d2c9b01")
    assert built == ["8a4e6d2c9b01"]
    assert first.name != second.name
    HANDED_OUT.extend([first.name, second.name])
    with first.connect() as conn:
        conn.execute("INSERT INTO customers (email) VALUES ('a@example.com')")
    with second.connect() as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_head_again_reuses_the_template(migproof_database, monkeypatch):
    monkeypatch.setattr(migproof.chain, "database_at", None)  # would fail if called
    assert "orders" in tables(migproof_database("head"))


def test_databases_are_dropped_after_the_test(migproof_sandbox):
    with migproof_sandbox.connect() as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert len(HANDED_OUT) == 2
    assert not names & set(HANDED_OUT)
"""


def test_migproof_database_hands_out_clones_at_any_revision(pytester: pytest.Pytester) -> None:
    _example(pytester, "shop")
    pytester.makepyfile(test_db=DATABASE_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", *ARGS)
    result.assert_outcomes(passed=5)


def test_unknown_revision_is_a_clear_error(pytester: pytest.Pytester) -> None:
    _example(pytester, "shop")
    pytester.makepyfile(
        test_db="def test_x(migproof_database):\n    migproof_database('ffffffffffff')\n"
    )
    result = pytester.runpytest_subprocess(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ffffffffffff*"])


def test_a_plain_sql_directory_is_collected_too(pytester: pytest.Pytester) -> None:
    (pytester.path / "1_users.up.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY);")
    (pytester.path / "1_users.down.sql").write_text("DROP TABLE users;")
    (pytester.path / "2_status.up.sql").write_text(
        "CREATE TYPE status AS ENUM ('a', 'b');\nALTER TABLE users ADD COLUMN status status;"
    )
    (pytester.path / "2_status.down.sql").write_text("ALTER TABLE users DROP COLUMN status;")
    result = pytester.runpytest_subprocess("--migproof", "-v", *ARGS)
    result.stdout.fnmatch_lines(
        [
            "migproof::1::upgrade PASSED*",
            "migproof::1::roundtrip PASSED*",
            "migproof::2::upgrade PASSED*",
            "migproof::2::roundtrip FAILED*",
        ]
    )
    result.stdout.fnmatch_lines(["*enum public.status is left behind*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
