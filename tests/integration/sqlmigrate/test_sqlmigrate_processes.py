"""Real deploys racing and dying: 8 concurrent ``migproof migrate`` processes, and SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from migproof.sandbox import Sandbox

Conn = psycopg.Connection[tuple[object, ...]]

pytestmark = pytest.mark.slow


def run_migrate(
    directory: Path, url: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "migproof",
            "migrate",
            str(directory),
            "--database-url",
            url,
            "--format",
            "json",
        ],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_eight_concurrent_deploys_apply_every_migration_exactly_once(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = tmp_path / "m"
    d.mkdir()
    for i in range(1, 21):
        (d / f"{i}_step.up.sql").write_text(
            f"CREATE TABLE t{i} (id int);\nINSERT INTO t{i} VALUES ({i});\nSELECT pg_sleep(0.02);\n"
        )
    procs = [run_migrate(d, pg.url_for(db), tmp_path) for _ in range(8)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    applied = Counter(
        record["version"] for _, out, _ in results for record in json.loads(out)["records"]
    )
    assert applied == Counter({str(i): 1 for i in range(1, 21)})
    rows = conn.execute("SELECT version, checksum IS NOT NULL FROM migproof_migrations").fetchall()
    assert sorted(int(str(v)) for v, _ in rows) == list(range(1, 21)) and all(ok for _, ok in rows)
    total = sum(
        int(str(conn.execute(f"SELECT count(*) FROM t{i}").fetchone()[0])) for i in range(1, 21)
    )  # type: ignore[index]
    assert total == 20


def test_sigkill_mid_migration_leaves_the_database_as_before_and_next_run_applies_it(
    tmp_path: Path, pg: Sandbox, db: str, conn: Conn
) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "1_first.up.sql").write_text("CREATE TABLE first (id int);")
    (d / "2_slow.up.sql").write_text(
        "CREATE TABLE slow (id int);\n"
        "SELECT pg_sleep(CASE WHEN current_setting('app.sleep', true) = 'on' THEN 30 ELSE 0 END);\n"
    )
    proc = run_migrate(d, pg.url_for(db), tmp_path, env={"PGOPTIONS": "-c app.sleep=on"})
    deadline = time.monotonic() + 60
    while not conn.execute(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'migproof migrate'"
        " AND query LIKE '%%pg_sleep%%' AND state = 'active'"
    ).fetchone():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    # the server notices the dead client within client_connection_check_interval (1 s)
    deadline = time.monotonic() + 20
    while conn.execute(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'migproof migrate'"
    ).fetchone():
        assert time.monotonic() < deadline, "the killed runner's backend kept running"
        time.sleep(0.1)
    assert conn.execute("SELECT to_regclass('public.slow')").fetchone() == (None,)
    assert conn.execute("SELECT version FROM migproof_migrations").fetchall() == [("1",)]
    again = run_migrate(d, pg.url_for(db), tmp_path)
    assert again.wait(timeout=60) == 0, again.stderr.read()  # type: ignore[union-attr]
    assert [r["version"] for r in json.loads(again.stdout.read())["records"]] == ["2"]  # type: ignore[union-attr]
    assert conn.execute("SELECT to_regclass('public.slow')").fetchone() == ("slow",)
