"""migproof verify against pytest-alembic's default tests and bare alembic, on the same chains.

Run:  pip install -e '.[test,bench]' && python bench/verify_bench.py [--sizes 10 50 200]

For each N, one synthetic chain (bench/chains.py) and one PostgreSQL (a migproof sandbox,
so every tool talks to the same server over the same Unix socket):
- migproof verify: graph checks, and per revision upgrade, snapshot, downgrade, snapshot,
  upgrade, snapshot, plus downgrade to base and upgrade to head (in-process, as the CLI does,
  with as many worker processes as verify picks for the machine; ``--jobs 1`` for one);
- pytest-alembic's default tests test_single_head_revision, test_upgrade and
  test_up_down_consistency, called in-process with its own runner, each on a fresh database
  (as its fixtures do); pytest's own start-up is not counted, which favours pytest-alembic;
- bare alembic: `alembic upgrade head && alembic downgrade base && alembic upgrade head`
  as three CLI processes.
Each tool runs once untimed first (imports, the server's caches), then ``--runs`` times,
alternating, and the median is reported. Ratios are migproof's time over the other's: below
1.0 means migproof is faster.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chains import time_verify, write_chain

from migproof.sandbox import Sandbox


def time_pytest_alembic(pg: Sandbox, root: Path) -> float:
    import pytest_alembic
    import sqlalchemy
    from pytest_alembic.config import Config
    from pytest_alembic.tests import (
        test_single_head_revision,
        test_up_down_consistency,
        test_upgrade,
    )

    previous = Path.cwd()
    os.chdir(root)
    try:
        started = time.perf_counter()
        for test in (test_single_head_revision, test_upgrade, test_up_down_consistency):
            with pg.database() as db:
                engine = sqlalchemy.create_engine(pg.sqlalchemy_url_for(db))
                url = pg.sqlalchemy_url_for(db).replace("%", "%%")  # it goes through ConfigParser
                config = Config(config_options={"file": "alembic.ini", "sqlalchemy.url": url})
                with pytest_alembic.runner(config=config, engine=engine) as runner:
                    test(runner)
                engine.dispose()
        return time.perf_counter() - started
    finally:
        os.chdir(previous)


def time_bare_alembic(pg: Sandbox, root: Path) -> float:
    with pg.database() as db:
        ini = root / "alembic.ini"
        ini.write_text(
            ini.read_text().replace(
                "postgresql+psycopg://localhost/bench", pg.sqlalchemy_url_for(db).replace("%", "%%")
            )
        )
        started = time.perf_counter()
        for args in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"]):
            subprocess.run(
                [sys.executable, "-m", "alembic", *args], cwd=root, check=True, capture_output=True
            )
        elapsed = time.perf_counter() - started
        ini.write_text(
            ini.read_text().replace(
                pg.sqlalchemy_url_for(db).replace("%", "%%"), "postgresql+psycopg://localhost/bench"
            )
        )
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each tool per size")
    parser.add_argument("--jobs", type=int, help="verify.jobs for migproof (default: its own)")
    args = parser.parse_args()
    print(
        f"{'N':>5} {'migproof':>10} {'pytest-alembic':>15} {'bare alembic':>13} {'vs pytest-alembic':>18} {'vs bare':>8}"
    )
    with Sandbox() as pg, tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            root = write_chain(Path(tmp) / f"chain{n}", n)
            time_migproof = functools.partial(time_verify, **{"verify.jobs": args.jobs})
            tools = (time_migproof, time_pytest_alembic, time_bare_alembic)
            times: list[list[float]] = [[] for _ in tools]
            for run in range(args.runs + 1):
                for tool, measured in zip(tools, times, strict=True):
                    elapsed = tool(pg, root)
                    if run:  # the first is a warm-up
                        measured.append(elapsed)
            ours, theirs, bare = (statistics.median(measured) for measured in times)
            print(
                f"{n:>5} {ours:>9.2f}s {theirs:>14.2f}s {bare:>12.2f}s {ours / theirs:>18.2f} {ours / bare:>8.2f}"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
