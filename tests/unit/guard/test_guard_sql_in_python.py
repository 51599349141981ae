"""Seed 001's layout: a SQLite track whose schema lives in SQL strings inside Python files
(``db/schema.py``, ``db/migrations.py``), next to Alembic revisions for PostgreSQL. Listed in
``schema-sql``, those strings are parsed and compared like a .sql file."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.guard.scenario import revision

from migproof.config import load_config
from migproof.guard import guard

SCHEMA_PY = '''
"""SQLite schema, applied on a fresh database."""

SCHEMA = [
    """
    CREATE TABLE agents (
        id integer PRIMARY KEY,
        name text NOT NULL
    )
    """,
    "CREATE INDEX agents_name ON agents (name)",
]
'''

MIGRATIONS_PY = """
def _add_owner(conn):
    conn.execute("ALTER TABLE agents ADD COLUMN owner text")


MIGRATIONS = [("add_owner", _add_owner)]
"""

CONFIG = """
[tool.migproof.guard]
schema-sql = ["db/schema.py", "db/migrations.py"]
migration-dirs = ["backend/migrations/versions"]
"""


@pytest.fixture
def seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    repo = GitRepo(tmp_path / "agents")
    repo.commit(
        {
            "pyproject.toml": CONFIG,
            "db/schema.py": SCHEMA_PY,
            "db/migrations.py": MIGRATIONS_PY,
            "backend/migrations/versions/0001_baseline.py": revision("0001", None),
        }
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    return repo


def findings(repo: GitRepo) -> list[tuple[str, str, int | None, str]]:
    report = guard(load_config(repo.path), "main")
    return [
        (f.check, str(f.location.path), f.location.line, f.message)
        for f in report.sorted_findings()
        if f.location
    ]


NEW_MIGRATION = MIGRATIONS_PY.replace(
    'MIGRATIONS = [("add_owner", _add_owner)]',
    'def _add_voice(conn):\n    conn.execute("ALTER TABLE agents ADD COLUMN voice text")\n\n\n'
    'MIGRATIONS = [("add_owner", _add_owner), ("add_voice", _add_voice)]',
)


def test_sqlite_only_schema_change_fails(seed: GitRepo) -> None:
    seed.commit({"db/migrations.py": NEW_MIGRATION})
    assert findings(seed) == [
        (
            "MP701",
            "db/migrations.py",
            6,
            "schema change without a migration: ALTER TABLE agents ADD COLUMN voice text: added",
        )
    ]


def test_dual_tracked_change_passes(seed: GitRepo) -> None:
    seed.commit(
        {
            "db/migrations.py": NEW_MIGRATION,
            "backend/migrations/versions/0002_voice.py": revision("0002", "0001"),
        }
    )
    assert findings(seed) == []


def test_comments_data_only_and_moved_statements_pass(seed: GitRepo) -> None:
    data_only = MIGRATIONS_PY.replace(
        'MIGRATIONS = [("add_owner", _add_owner)]',
        "def _backfill(conn):\n"
        "    conn.execute(\"UPDATE agents SET owner = 'system' WHERE owner IS NULL\")\n\n\n"
        'MIGRATIONS = [("add_owner", _add_owner), ("backfill", _backfill)]',
    )
    reformatted = SCHEMA_PY.replace("integer PRIMARY KEY,", "INTEGER primary key,  -- rowid")
    reformatted = reformatted.replace('"""SQLite schema', '"""The SQLite schema')
    seed.commit({"db/migrations.py": data_only, "db/schema.py": reformatted})
    assert findings(seed) == []


def test_schema_py_table_change_points_at_the_statement(seed: GitRepo) -> None:
    seed.commit({"db/schema.py": SCHEMA_PY.replace("name text NOT NULL", "name varchar(80)")})
    assert findings(seed) == [
        (
            "MP701",
            "db/schema.py",
            5,
            "schema change without a migration: CREATE TABLE agents: changed",
        )
    ]
