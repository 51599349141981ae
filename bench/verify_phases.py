"""Where one `migproof verify` run spends its time, phase by phase, on a synthetic chain.

Run:  python bench/verify_phases.py --size 10 [--jobs 1] [--runs 3]

Wraps the walk's phases (creating the scratch database and the watch, the first full read,
the round trips, the snapshots, the reads of seeded rows, the repeatability) with timers and
prints, per run, the total and each phase's seconds and number of calls. With worker
processes only this process's part is timed: use ``--jobs 1`` to see the whole walk.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chains import write_chain

from migproof.catalog import watch
from migproof.config import load_config
from migproof.sandbox import Sandbox
from migproof.verify import data, roundtrip, verify

seconds: Counter[str] = Counter()
calls: Counter[str] = Counter()


def timed(owner: Any, name: str, label: str) -> None:
    function: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - started
            calls[label] += 1

    setattr(owner, name, wrapper)


PHASES = [
    (roundtrip._Walk, "__init__", "scratch database, connections, watch"),
    (watch.CatalogWatch, "_full", "full catalog reads"),
    (roundtrip._Walk, "walk", "walk (steps, snapshots, rows)"),
    (roundtrip._Walk, "snapshot", "  snapshots"),
    (data.RowTracker, "after_upgrade", "  rows after upgrade"),
    (data.RowTracker, "after_round_trip", "  rows after round trip"),
    (roundtrip._Walk, "_repeatability", "repeatability"),
    (roundtrip._Walk, "close", "close, drop database"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for owner, name, label in PHASES:
        timed(owner, name, label)
    with Sandbox() as pg, tempfile.TemporaryDirectory() as tmp:
        root = write_chain(Path(tmp) / "chain", args.size)
        config = load_config(root, overrides={"verify.jobs": args.jobs})
        verify(config, root, host=pg)  # warm-up: imports, the server's caches
        for _ in range(args.runs):
            seconds.clear()
            calls.clear()
            started = time.perf_counter()
            verify(config, root, host=pg)
            print(f"total {time.perf_counter() - started:.3f}s")
            for _owner, _name, label in PHASES:
                print(f"  {label:<40} {seconds[label]:7.3f}s {calls[label]:5d} calls")


if __name__ == "__main__":
    main()
