"""The facts recorded while revisions run: locks, rewrites, hold times, lines of op. calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.helpers.alembic_projects import Revision, line_of, write_project

from migproof.chain import capture
from migproof.chain.project import load_project
from migproof.chain.record import RevisionRun, lock_mode, record_chain
from migproof.config import load_config
from migproof.sandbox import Sandbox


def record(pg: Sandbox, root: Path) -> dict[str, RevisionRun]:
    config = load_config(root)
    project = load_project(config, root)
    project.script_directory()
    return {
        run.revision: run
        for run in record_chain(project, config, pg, project.graph.topological_order())
    }


def test_type_change_rewrites_and_locks_while_nullable_add_column_does_not_rewrite(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)")',
                downgrade='op.drop_table("orders")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.add_column("orders", sa.Column("note", sa.Text))',
                downgrade='op.drop_column("orders", "note")',
            ),
            Revision(
                id="r3",
                down="r2",
                upgrade='op.alter_column("orders", "total", type_=sa.BigInteger)',
                downgrade='op.alter_column("orders", "total", type_=sa.Integer)',
            ),
        ],
    )
    runs = record(pg, tmp_path)
    (add,) = runs["r2"].upgrade
    assert ("public.orders", "AccessExclusiveLock") in add.locks
    assert add.rewritten == ()
    (change,) = runs["r3"].upgrade
    assert "public.orders" in change.rewritten
    assert lock_mode("AccessExclusiveLock") == "ACCESS EXCLUSIVE"
    assert runs["r3"].held_seconds[id(change)] > 0
    path = tmp_path / "migrations" / "versions" / "r3.py"
    assert (change.path, change.line) == (path, line_of(path, "op.alter_column"))
    assert [s.sql.strip().split()[0] for s in runs["r3"].downgrade] == ["ALTER"]
    assert runs["r1"].downgrade and "DROP TABLE" in runs["r1"].downgrade[0].sql


def test_failing_revision_stops_the_recording_and_carries_the_failure(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.execute("CREATE TABLE t (id int)")',
                downgrade='op.drop_table("t")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.execute("ALTER TABLE nope ADD COLUMN x int")',
                downgrade="pass",
            ),
            Revision(id="r3", down="r2", upgrade='op.execute("SELECT 1")', downgrade="pass"),
        ],
    )
    runs = record(pg, tmp_path)
    assert runs["r1"].failure is None and runs["r1"].upgrade
    failure = runs["r2"].failure
    assert failure is not None and 'relation "nope" does not exist' in failure.error
    assert runs["r3"].upgrade == [] and runs["r3"].failure is None


def test_relations_are_scanned_once_per_transaction_not_after_every_statement(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relfilenodes of locked relations come with their locks: every relation's are
    read when a transaction begins, not again after each statement while an ACCESS
    EXCLUSIVE lock is held."""
    real_query = capture._LockObserver._query
    scans: list[str] = []

    def query(self: capture._LockObserver, conn: Any, sql: str) -> list[tuple[Any, ...]]:
        if sql is capture._FILENODES:
            scans.append(sql)
        return real_query(self, conn, sql)

    monkeypatch.setattr(capture._LockObserver, "_query", query)

    def scans_for(inserts: int) -> int:
        root = tmp_path / str(inserts)
        inserted = "\n".join(
            f'op.execute("INSERT INTO orders (total) VALUES ({n})")' for n in range(inserts)
        )
        write_project(
            root,
            [
                Revision(
                    id="r1",
                    down=None,
                    upgrade='op.execute("CREATE TABLE orders (id serial PRIMARY KEY, total int)")',
                    downgrade='op.drop_table("orders")',
                ),
                Revision(
                    id="r2",
                    down="r1",
                    # ACCESS EXCLUSIVE on orders, held while the inserts run
                    upgrade='op.add_column("orders", sa.Column("note", sa.Text))\n' + inserted,
                    downgrade='op.drop_column("orders", "note")',
                ),
            ],
        )
        scans.clear()
        runs = record(pg, root)
        assert len(runs["r2"].upgrade) == inserts + 1
        return len(scans)

    assert scans_for(20) == scans_for(1) > 0


def test_a_dropped_table_s_lock_is_recorded_by_its_name(pg: Sandbox, tmp_path: Path) -> None:
    """The drop removes the table's pg_class row inside its transaction while its ACCESS
    EXCLUSIVE lock stays: the lock is still named (glance's pike_contract01)."""
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.execute("CREATE TABLE c (id int PRIMARY KEY)")',
                downgrade='op.drop_table("c")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade="""
                op.execute("SET lock_timeout = '2s'")
                op.drop_table("c")
                """,
                downgrade='op.execute("CREATE TABLE c (id int PRIMARY KEY)")',
            ),
        ],
    )
    runs = record(pg, tmp_path)
    _, drop = runs["r2"].upgrade
    assert ("public.c", "AccessExclusiveLock") in drop.locks
    assert "public.c" in drop.preexisting  # and its primary key index
    from migproof.lint.recorded import lock_summary

    assert lock_summary(runs["r2"])[0].startswith("blocks reads and writes on public.c for ")


def test_a_renamed_table_is_still_the_one_that_was_there(pg: Sandbox, tmp_path: Path) -> None:
    """Airflow renames tables and goes on altering them in the same revision: the locks on
    the renamed table are on a table that existed, under its new name, and the add_column
    after the rename takes no lock the rename did not take already."""
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.execute("CREATE TABLE usr (id int PRIMARY KEY)")',
                downgrade='op.drop_table("usr")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade="""
                op.rename_table("usr", "users")
                op.add_column("users", sa.Column("email", sa.Text))
                """,
                downgrade="""
                op.drop_column("users", "email")
                op.rename_table("users", "usr")
                """,
            ),
        ],
    )
    runs = record(pg, tmp_path)
    rename, add = runs["r2"].upgrade
    assert ("public.users", "AccessExclusiveLock") in rename.locks
    assert "public.users" in rename.preexisting
    assert add.locks == ()  # the rename holds it already
    assert ("public.users", "AccessExclusiveLock", rename.line) in add.held
    from migproof.lint.recorded import lock_summary

    assert lock_summary(runs["r2"])[0].startswith("blocks reads and writes on public.users for ")
