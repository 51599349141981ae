"""Sessions kept between env.py runs: reused, and reset to what a new session is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.helpers.alembic_projects import ENV_CONFIG_URL, Revision, write_project

from migproof.chain.parking import Parking
from migproof.config import load_config
from migproof.sandbox import Sandbox
from migproof.verify import verify


@pytest.fixture
def params(pg: Sandbox, db: str) -> dict[str, Any]:
    return dict(psycopg.conninfo.conninfo_to_dict(pg.url_for(db)))


@pytest.fixture
def parking() -> Iterator[Parking]:
    parking = Parking()
    yield parking
    parking.close()


def backend(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def test_a_closed_connection_is_given_to_the_next_connect(
    parking: Parking, params: dict[str, Any]
) -> None:
    first = parking.connect([], params)
    pid = backend(first)
    first.rollback()
    first.close()
    second = parking.connect([], params)
    assert backend(second) == pid
    assert parking.reused == 1
    assert not second.closed


def test_the_session_is_reset_as_a_new_one(parking: Parking, params: dict[str, Any]) -> None:
    conn = parking.connect([], params)
    conn.execute("SET search_path = nowhere")
    conn.execute("CREATE TEMP TABLE leftover (x int)")
    conn.execute("SELECT pg_advisory_lock(42)")
    conn.commit()
    conn.autocommit = True
    conn.read_only = True
    conn.close()
    again = parking.connect([], params)
    assert parking.reused == 1
    assert again.autocommit is False
    assert again.read_only is None
    assert again.execute("SHOW search_path").fetchone() == ('"$user", public',)
    assert again.execute("SELECT to_regclass('pg_temp.leftover')").fetchone() == (None,)
    held = again.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()
    assert held == (0,)


def test_a_connection_closed_in_a_transaction_is_closed(
    parking: Parking, params: dict[str, Any]
) -> None:
    conn = parking.connect([], params)
    conn.execute("SELECT 1")  # opens a transaction, never ended
    conn.close()
    assert conn.closed
    parking.connect([], params)
    assert parking.reused == 0


def test_other_arguments_get_another_connection(parking: Parking, params: dict[str, Any]) -> None:
    conn = parking.connect([], params)
    pid = backend(conn)
    conn.rollback()
    conn.close()
    other = parking.connect([], {**params, "application_name": "other"})
    assert backend(other) != pid
    assert parking.reused == 0


def test_a_session_the_server_ended_is_replaced(
    pg: Sandbox, parking: Parking, params: dict[str, Any]
) -> None:
    conn = parking.connect([], params)
    pid = backend(conn)
    conn.rollback()
    conn.close()
    with pg.connect("postgres") as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    fresh = parking.connect([], params)
    assert backend(fresh) != pid
    assert parking.reused == 0


def test_close_ends_parked_sessions_and_parks_no_more(
    parking: Parking, params: dict[str, Any]
) -> None:
    conn = parking.connect([], params)
    later = parking.connect([], params)
    conn.rollback()
    conn.close()
    assert not conn.closed  # parked
    parking.close()
    assert conn.closed
    later.rollback()
    later.close()  # after the parking closed: closed, not kept
    assert later.closed


def test_release_ends_parked_sessions_and_parks_again(
    parking: Parking, params: dict[str, Any]
) -> None:
    """Before the database is made again: the parked sessions go; the walk's next env.py
    runs park theirs again."""
    conn = parking.connect([], params)
    conn.rollback()
    conn.close()
    parking.release()
    assert conn.closed
    again = parking.connect([], params)
    pid = backend(again)
    again.rollback()
    again.close()
    assert not again.closed
    assert backend(parking.connect([], params)) == pid


def test_a_forked_process_does_not_use_its_parents_sessions(
    parking: Parking, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = parking.connect([], params)
    pid = backend(conn)
    conn.rollback()
    conn.close()
    monkeypatch.setattr("os.getpid", lambda: -1)  # as in a child: another process id
    child = parking.connect([], params)
    assert backend(child) != pid
    child.close()
    assert child.closed  # not parked either: the parking belongs to the parent
    monkeypatch.undo()
    assert backend(parking.connect([], params)) == pid


ENV_SESSION_STATE = ENV_CONFIG_URL.replace(
    "    with connectable.connect() as connection:\n",
    "    with connectable.connect() as connection:\n"
    "        # session state a new session never has: a second run in the same one fails\n"
    '        connection.exec_driver_sql("CREATE TEMP TABLE run_marker (x int)")\n'
    '        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()\n'
    '        with open(os.environ["MIGPROOF_TEST_PIDS"], "a") as pids:\n'
    '            pids.write(f"{pid}\\n")\n'
    "        connection.commit()\n",
).replace("from alembic import context\n", "import os\n\nfrom alembic import context\n")


def test_verify_runs_env_py_in_one_session_reset_between_runs(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk and the repeatability's two runs share a session, and each run finds it
    as a new one: the temporary table env.py makes at each run is not there yet."""
    pids = tmp_path / "pids"
    monkeypatch.setenv("MIGPROOF_TEST_PIDS", str(pids))
    project = write_project(
        tmp_path / "project",
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))',
                downgrade='op.drop_table("t1")',
            )
        ],
        env=ENV_SESSION_STATE,
    )
    report = verify(load_config(project, overrides={"verify.jobs": 1}), project, host=pg)
    assert report.findings == []
    runs = pids.read_text().split()
    assert len(runs) >= 3  # the walk, downgrade to base, upgrade to head
    assert len(set(runs)) == 1
