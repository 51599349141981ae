"""What data preservation (seed, refresh, compare) adds to verify's walk, on synthetic chains.

Run:  pip install -e '.[test,bench]' && python bench/verify_data_bench.py [--sizes 20 100]

For each N, one chain of N revisions (bench/chains.py: tables with identity keys, defaults,
enums, foreign keys, checks) and one sandbox. Two timings, side by side:

- walk: the round trip as verify's walk does it (one scratch database, one env.py run, per
  revision upgrade, snapshot, downgrade, snapshot, upgrade, snapshot), once without data and
  once with the data protocol of docs/verify-data.md (refresh_rows after the first upgrade,
  compare_rows and seed_rows after the round trip);
- verify: `migproof.verify.verify(config, root, host=pg)` with `verify.data` false and true.
  Until the walk calls seed_rows/compare_rows the two are the same work (ratio about 1.0).

Ratios are "with data" over "without": the goal is at most 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chains import write_chain

from migproof.catalog import SnapshotFilter, take_snapshot
from migproof.chain.project import load_project
from migproof.chain.stepper import Stepper, mark_scratch_database, new_token
from migproof.config import load_config
from migproof.sandbox import Sandbox, find_binaries
from migproof.verify import verify
from migproof.verify.data import SeedResult, compare_rows, refresh_rows, seed_rows


def walk(pg: Sandbox, root: Path, *, data: bool) -> tuple[float, dict[str, float], int]:
    """Seconds for the round trips of every revision; seconds spent in data calls; problems."""
    config = load_config(root)
    project = load_project(config, root)
    project.script_directory()
    order = [r.revision for r in project.graph.topological_order() if r.revision]
    filters = SnapshotFilter(exclude_tables=("alembic_version",))
    db = pg.create_database()
    token = new_token()
    with pg.connect() as admin:
        mark_scratch_database(admin, db, token, statement_timeout=60, lock_timeout=10)
    stepper = Stepper(
        project, sqlalchemy_url=pg.sqlalchemy_url_for(db), libpq_url=pg.url_for(db), token=token
    )
    spent = {"seed": 0.0, "refresh": 0.0, "compare": 0.0}
    problems = 0
    conn: Any = pg.connect(db)

    def timed(name: str, fn: Any, *args: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        result = fn(*args, **kw)
        spent[name] += time.perf_counter() - started
        return result

    def steps() -> Iterator[Any]:
        nonlocal problems
        tracked = SeedResult()
        before = take_snapshot(conn, filters)
        for rid in order:
            yield stepper.step(rid, up=True)
            after = take_snapshot(conn, filters)
            if data:
                reference = timed("refresh", refresh_rows, conn, after, tracked)
            yield stepper.step(rid, up=False)
            take_snapshot(conn, filters)
            yield stepper.step(rid, up=True)
            now = take_snapshot(conn, filters)
            if data:
                problems += len(timed("compare", compare_rows, conn, now, reference, before=before))
                tracked = timed("seed", seed_rows, conn, now, existing=reference, reread=False)
            before = after

    started = time.perf_counter()
    try:
        with stepper.session():
            failure = stepper.run_steps(steps())
        assert failure is None, failure
        return time.perf_counter() - started, spent, problems
    finally:
        conn.close()
        pg.drop_database(db)


def time_verify(pg: Sandbox, root: Path, *, data: bool) -> float:
    config = load_config(root, overrides={"verify.data": data})
    started = time.perf_counter()
    report = verify(config, root, host=pg)
    elapsed = time.perf_counter() - started
    assert not report.findings, [f.message for f in report.findings]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-bin", default=None)
    args = parser.parse_args()
    with Sandbox(find_binaries(args.pg_bin, origin="--pg-bin")) as pg, tempfile.TemporaryDirectory() as tmp:
        print(f"{'N':>5} {'walk':>9} {'+data':>9} {'ratio':>6}   data parts (median s)"
              f"                     {'verify':>8} {'+data':>8} {'ratio':>6}")
        for n in args.sizes:
            root = write_chain(Path(tmp) / f"chain{n}", n)
            plain = [walk(pg, root, data=False)[0] for _ in range(args.runs)]
            runs = [walk(pg, root, data=True) for _ in range(args.runs)]
            with_data = [r[0] for r in runs]
            parts = {k: statistics.median(r[1][k] for r in runs) for k in runs[0][1]}
            assert all(r[2] == 0 for r in runs), "a clean chain gave row findings"
            v_plain = statistics.median(time_verify(pg, root, data=False) for _ in range(args.runs))
            v_data = statistics.median(time_verify(pg, root, data=True) for _ in range(args.runs))
            a, b = statistics.median(plain), statistics.median(with_data)
            detail = ", ".join(f"{k} {v:.3f}" for k, v in parts.items())
            print(f"{n:>5} {a:>8.2f}s {b:>8.2f}s {b / a:>5.2f}x   {detail:<40} "
                  f"{v_plain:>7.2f}s {v_data:>7.2f}s {v_data / v_plain:>5.2f}x")


if __name__ == "__main__":
    main()
