"""verify split over worker processes reports exactly what a walk in one process reports."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from tests.conftest import REPO
from tests.helpers.alembic_projects import Revision, write_project

from migproof.config import load_config
from migproof.errors import ConfigError
from migproof.findings import Report
from migproof.progress import NullProgress
from migproof.sandbox import Sandbox
from migproof.verify import verify
from migproof.verify.workers import MIN_REVISIONS, jobs_for, split


def run(pg: Sandbox, root: Path, jobs: int, **overrides: object) -> Report:
    config = load_config(root, overrides={"verify.jobs": jobs, **overrides})
    return verify(config, root, host=pg)


def comparable(report: Report) -> dict[str, object]:
    """The report without timings (and in the order the reporters sort findings)."""
    records = [
        {
            **{k: v for k, v in record.items() if not k.endswith("_ms")},
            "statements": [
                {k: v for k, v in s.items() if k != "duration_ms"}
                for s in record["statements"]  # type: ignore[attr-defined]
            ],
        }
        for record in report.records
    ]
    findings = [
        (f.check, f.severity, f.revision, f.message, f.location, f.statement, f.context)
        for f in report.sorted_findings()
    ]
    # sorted: a walk in parts says what the checks at head left out after the whole-chain
    # notes, one process before them (verify/roundtrip.py _merge adds last.repeat first)
    return {"findings": findings, "skipped": report.skipped, "records": records}


def table(n: int, down: str | None, **kw: str) -> Revision:
    return Revision(
        id=f"r{n}",
        down=down,
        upgrade=kw.get(
            "upgrade",
            f'op.create_table("t{n}", sa.Column("id", sa.Integer, primary_key=True), '
            f'sa.Column("v", sa.Integer))',
        ),
        downgrade=kw.get("downgrade", f'op.drop_table("t{n}")'),
    )


def chain(defects: dict[int, dict[str, str]], length: int = 8) -> list[Revision]:
    return [
        table(n, f"r{n - 1}" if n > 1 else None, **defects.get(n, {})) for n in range(1, length + 1)
    ]


LEFT_BEHIND = {"downgrade": "pass"}  # MP006, MP012, MP013: the table stays
ROWS_LOST = {  # MP101: the downgrade recreates the table of revision 1
    "upgrade": 'op.add_column("t1", sa.Column("w", sa.Integer))',
    "downgrade": 'op.drop_table("t1")\n'
    'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("v", sa.Integer))',
}
UPGRADE_FAILS = {"upgrade": 'op.execute("ALTER TABLE nowhere ADD COLUMN x int")'}
DOWNGRADE_FAILS = {"downgrade": 'op.execute("DROP TABLE nowhere")'}
# Each round trip passes, but `alembic upgrade head` in one transaction does not: revision
# 7's rows leave deferred FK checks pending, and revision 8's ALTER TABLE then fails.
DEFERRED_ROWS = {
    "upgrade": 'op.execute("CREATE TABLE p (id int PRIMARY KEY)")\n'
    'op.execute("CREATE TABLE c (id int PRIMARY KEY, '
    'p_id int REFERENCES p DEFERRABLE INITIALLY DEFERRED)")\n'
    'op.execute("INSERT INTO p VALUES (1)")\nop.execute("INSERT INTO c VALUES (1, 1)")',
    "downgrade": 'op.execute("DROP TABLE c, p")',
}
ALTER_C = {
    "upgrade": 'op.add_column("c", sa.Column("x", sa.Integer))',
    "downgrade": 'op.drop_column("c", "x")',
}
# A column added nullable early (its rows get NULL there), made NOT NULL late without a
# backfill: the rows t1 was given when it was made meet it, in a worker's part too (MP104)
ADD_NULLABLE = {
    "upgrade": 'op.add_column("t1", sa.Column("w", sa.Integer))',
    "downgrade": 'op.drop_column("t1", "w")',
}
SET_NOT_NULL = {
    "upgrade": 'op.alter_column("t1", "w", existing_type=sa.Integer, nullable=False)',
    "downgrade": 'op.alter_column("t1", "w", existing_type=sa.Integer, nullable=True)',
}

IRREVERSIBLE = {"downgrade": 'raise NotImplementedError("one way")'}
WIDER = {  # the round trip gives t1.v back wider (MP012); the second upgrade drops it again
    "upgrade": 'op.drop_column("t1", "v")',
    "downgrade": 'op.add_column("t1", sa.Column("v", sa.BigInteger))',
}


@pytest.mark.parametrize(
    "defects",
    [
        pytest.param({}, id="clean"),
        pytest.param({2: LEFT_BEHIND, 7: LEFT_BEHIND}, id="round-trip-defects-in-both-parts"),
        pytest.param({6: ROWS_LOST}, id="rows-lost-in-a-worker"),
        pytest.param({7: DOWNGRADE_FAILS}, id="downgrade-fails-in-a-worker"),
        pytest.param({3: UPGRADE_FAILS}, id="upgrade-fails-before-the-workers-parts"),
        pytest.param({7: UPGRADE_FAILS}, id="upgrade-fails-in-a-worker"),
        pytest.param({7: DEFERRED_ROWS, 8: ALTER_C}, id="not-repeatable"),
        pytest.param(
            {2: LEFT_BEHIND, 7: DEFERRED_ROWS, 8: ALTER_C}, id="failure-before-repeatability"
        ),
        pytest.param({2: ADD_NULLABLE, 8: SET_NOT_NULL}, id="rows-with-a-history"),
        pytest.param({1: IRREVERSIBLE, 2: DOWNGRADE_FAILS}, id="irreversible-step-failed"),
        pytest.param(
            {1: IRREVERSIBLE, 2: WIDER, 7: DEFERRED_ROWS, 8: ALTER_C}, id="irreversible-inexact"
        ),
    ],
)
def test_workers_report_what_one_process_reports(
    pg: Sandbox, tmp_path: Path, defects: dict[int, dict[str, str]]
) -> None:
    write_project(tmp_path, chain(defects))
    alone = comparable(run(pg, tmp_path, 1))
    assert len(alone["records"]) == 8  # type: ignore[arg-type]
    for jobs in (2, 3):
        assert comparable(run(pg, tmp_path, jobs)) == alone, f"jobs = {jobs}"


def test_defects_found_by_workers_are_named(pg: Sandbox, tmp_path: Path) -> None:
    """Not merely equal: the walk in parts finds each defect, wherever the part boundary is."""
    write_project(tmp_path, chain({2: LEFT_BEHIND, 6: ROWS_LOST, 7: DOWNGRADE_FAILS}))
    report = run(pg, tmp_path, 3)
    found = sorted((f.check, f.revision) for f in report.findings)
    assert found == [
        ("MP006", "r2"),
        ("MP011", "r7"),
        ("MP012", "r2"),
        ("MP013", "r2"),
        ("MP101", "r6"),
    ]
    assert ("downgrade to base and upgrade to head", "earlier revisions failed") in report.skipped


def test_repeatability_failure_found_by_the_last_worker(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, chain({7: DEFERRED_ROWS, 8: ALTER_C}))
    report = run(pg, tmp_path, 2)
    assert [(f.check, f.revision) for f in report.findings] == [("MP015", "r8")]
    assert "pending trigger events" in report.findings[0].message


def test_examples_in_parts(pg: Sandbox, tmp_path: Path) -> None:
    for name in ("broken", "shop"):  # shop compares head with its models and schema file
        root = tmp_path / name
        shutil.copytree(
            REPO / "examples" / name, root, ignore=shutil.ignore_patterns("__pycache__")
        )
        alone = comparable(run(pg, root, 1))
        assert comparable(run(pg, root, 2)) == alone, name
    models = tmp_path / "shop" / "shop_models.py"
    models.write_text(
        models.read_text().replace(
            '    sa.Column("paid_at", sa.DateTime(timezone=True)),',
            '    sa.Column("paid_at", sa.DateTime(timezone=True)),\n    sa.Column("coupon", sa.Text),',
        )
    )
    report = run(pg, tmp_path / "shop", 2)
    assert [f.check for f in report.findings] == ["MP110"]  # found at head by the last worker


def test_worker_databases_are_dropped(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, chain({5: UPGRADE_FAILS}))
    before = set(pg.created)
    run(pg, tmp_path, 3)
    assert set(pg.created) == before
    with pg.connect() as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert not {n for n in names if n.startswith("migproof_")} - before


def test_split_gives_every_worker_a_part() -> None:
    for revisions in range(1, 60):
        for jobs in range(1, 6):
            starts = split(revisions, jobs)
            assert starts[0] == 0
            assert starts == sorted(set(starts)), (revisions, jobs, starts)
            assert len(starts) == max(1, min(jobs, revisions))
            assert starts[-1] < revisions
    # the last worker also runs the repeatability: its part is the shortest
    first, second = split(200, 2)[1] - 0, 200 - split(200, 2)[1]
    assert second < first


def test_jobs() -> None:
    assert jobs_for(1, 500) == 1
    assert jobs_for(3, 2) == 2  # never more workers than revisions
    assert jobs_for(None, MIN_REVISIONS - 1) == 1


def test_jobs_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from migproof.cli import main

    write_project(tmp_path, chain({2: LEFT_BEHIND, 7: LEFT_BEHIND}))
    documents = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.json"
        assert main(["verify", str(tmp_path), "-j", jobs, "--format", "json", "-o", str(out)]) == 1
        document = json.loads(out.read_text())
        documents.append(sorted((f["check"], f["revision"]) for f in document["findings"]))
    assert documents[0] == documents[1]
    assert ("MP012", "r7") in documents[1]
    assert main(["verify", str(tmp_path), "--jobs", "0"]) == 2
    assert "0 is not in the range x>=1" in capsys.readouterr().err


def test_jobs_option_must_be_positive(tmp_path: Path) -> None:
    (tmp_path / "migproof.toml").write_text("[verify]\njobs = 0\n")
    with pytest.raises(ConfigError, match=r"'verify.jobs' in .*migproof.toml must be 1 or more"):
        load_config(tmp_path)
    assert load_config(tmp_path, environ={"MIGPROOF_VERIFY_JOBS": "3"}).verify.jobs == 3


_KILLED = """
import sys
from pathlib import Path
from migproof.config import load_config
from migproof.verify import verify
root = Path(sys.argv[1])
config = load_config(root, overrides={"verify.jobs": 2, "database-url": sys.argv[2]})
verify(config, root)
"""


def _children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(p) for p in text.split()}


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_workers_die_with_their_parent(pg: Sandbox, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    hang = {"upgrade": 'op.execute("SELECT pg_sleep(60)")', "downgrade": "pass"}
    start = split(8, 2)[1]
    # the worker's first revision hangs: it never reports progress, which would fail on the
    # closed pipe; only the kernel, told to, ends it with its parent
    write_project(tmp_path, chain({start + 1: hang}))
    with pg.connect() as conn:
        before = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    env = {k: v for k, v in os.environ.items() if k != "MIGPROOF_VERIFY_JOBS"}
    process = subprocess.Popen([sys.executable, "-c", _KILLED, str(tmp_path), pg.url], env=env)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while not workers and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            workers = _children(process.pid)
        assert workers, "verify started no worker process"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with pg.connect() as conn:  # what the killed run left behind on this test's server
            left = {row[0] for row in conn.execute("SELECT datname FROM pg_database")} - before
            for name in left:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


class _Counting(NullProgress):
    def __init__(self) -> None:
        self.advanced = 0

    def advance(self, description: str | None = None) -> None:
        self.advanced += 1


@pytest.mark.parametrize("defects", [{}, {5: UPGRADE_FAILS}], ids=["parts", "walked-again"])
def test_progress_counts_each_revision_once(
    pg: Sandbox, tmp_path: Path, defects: dict[int, dict[str, str]]
) -> None:
    # with an upgrade failing in a worker's part, this process walks the rest again: what the
    # workers counted already is not counted twice
    write_project(tmp_path, chain(defects))
    for jobs in (1, 3):
        progress = _Counting()
        verify(
            load_config(tmp_path, overrides={"verify.jobs": jobs}),
            tmp_path,
            progress=progress,
            host=pg,
        )
        assert progress.advanced == 8, f"jobs = {jobs}"


def _scratch_databases(pg: Sandbox) -> set[str]:
    with pg.connect() as conn:
        names = {str(row[0]) for row in conn.execute("SELECT datname FROM pg_database")}
    return {name for name in names if name.startswith("migproof_")}


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_spare_database_serves_the_first_walk(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    # on a running host the first walk's database is created while the project loads: it is
    # that walk's (or the first worker's), never one more, and it is dropped afterwards
    write_project(tmp_path, chain({}))
    before = _scratch_databases(pg)
    created: list[str] = []  # by the thread that created each
    create = pg.create_database

    def counted(name: str | None = None, *, template: str | None = None) -> str:
        created.append(threading.current_thread().name)
        return create(name, template=template)

    monkeypatch.setattr(pg, "create_database", counted)
    report = run(pg, tmp_path, jobs)
    assert not report.findings
    assert len(report.records) == 8
    assert created == ["migproof-spare"] + ["MainThread"] * (jobs - 1)
    assert _scratch_databases(pg) == before


def test_the_spare_database_is_dropped_when_nothing_can_run(pg: Sandbox, tmp_path: Path) -> None:
    before = _scratch_databases(pg)
    write_project(tmp_path, [Revision(id="r1", down=None, upgrade="op.create_table(")])
    report = run(pg, tmp_path, 1)
    assert [f.check for f in report.findings] == ["MP001"]  # it does not import
    assert _scratch_databases(pg) == before
    # and when loading the project fails outright
    for path in (tmp_path / "migrations" / "versions").iterdir():
        path.unlink()
    with pytest.raises(ConfigError, match="no revision files"):
        run(pg, tmp_path, 1)
    assert _scratch_databases(pg) == before


def test_a_worker_meets_rows_with_a_history(pg: Sandbox, tmp_path: Path) -> None:
    # t1's rows were made at r1; w, added at r2 and filled by no revision, is NULL in them
    # as in every older production row: r8 (a worker's) fails on them (glance's
    # visibility), where rows made at the part's start had a value in w
    write_project(tmp_path, chain({2: ADD_NULLABLE, 8: SET_NOT_NULL}))
    assert 2 < split(8, 2)[1] <= 7  # r8 is walked by the worker, r2 by this process
    for jobs in (1, 2):
        report = run(pg, tmp_path, jobs)
        (found,) = [f for f in report.findings if f.check == "MP104"]
        assert found.revision == "r8"
        assert 'column "w" of relation "t1" contains null values' in found.message


NOT_NULL_ON_T1 = {  # MP104: fails once t1 holds rows, passes on an empty t1
    "upgrade": 'op.add_column("t1", sa.Column("w", sa.Integer, nullable=False))',
    "downgrade": 'op.drop_column("t1", "w")',
}


def test_a_worker_upgrades_past_a_revision_that_fails_only_with_rows(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """airflow: a NOT NULL column without a default before the split made the worker give
    its part up, and this process walked it again (two jobs slower than one)."""
    from migproof.verify import roundtrip

    write_project(tmp_path, chain({3: NOT_NULL_ON_T1}, length=12))
    alone = comparable(run(pg, tmp_path, 1))
    assert ("MP104", "r3") in [(f[0], f[2]) for f in alone["findings"]]  # type: ignore[index,union-attr]

    def walked_again(*args: object) -> None:
        raise AssertionError("the worker gave its part up")

    monkeypatch.setattr(roundtrip._Chain, "finish", walked_again)  # the fallback's last call
    assert comparable(run(pg, tmp_path, 2)) == alone
