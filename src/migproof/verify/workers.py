"""Worker processes for verify: the chain split into ranges walked side by side.

Each revision's round trip needs only the database as the revisions before it left it, so
a second process can upgrade its own scratch database straight to revision k (no checks:
plain upgrades are cheap) and walk the round trips from there, while this process walks
those before k. Python and PostgreSQL each keep about one core busy per walk, so two walks
take about half the time on two cores (``bench/verify_bench.py``).

Workers are forked (``migproof.forking``): they start at once with everything already
imported and the chain already loaded, where a new interpreter would pay for importing
Alembic, SQLAlchemy and the project again; ``jobs_for`` forks unasked only where that is
safe. ``split`` sizes the ranges so that every worker finishes at about the same time.
"""

from __future__ import annotations

import os

from migproof.forking import Worker, can_fork, usable_cores

__all__ = ["Worker", "jobs_for", "split"]

# Chains shorter than this are walked in one process: a second scratch database and a fork
# cost more than the few round trips they would take over (bench/README.md: a worker made
# 6 revisions no faster, 8 about 4 % faster and 10 about 8 % faster on two cores).
MIN_REVISIONS = 10
MAX_AUTO_JOBS = 4

# What walking one revision costs, in plain upgrade steps: a walked revision is three
# steps, three snapshots and two reads of the seeded rows; the repeatability at the end is
# two plain steps per revision. Measured: the best split of bench/chains.py's chains was at
# about 0.7 N for N = 50 and 200 (two workers on two cores), and at 8 of 10.
_WALKED = 6.0
# What a worker pays before its first step, in the same units: the fork, its scratch
# database, env.py's first run on a new connection. It matters on short chains only.
_WORKER_START = 8.0


def jobs_for(requested: int | None, revisions: int) -> int:
    """How many processes walk a chain of ``revisions``: ``requested`` (verify.jobs) if set,
    else one per core (at most 4) where forking is safe, and 1 for short chains."""
    if not hasattr(os, "fork"):
        return 1
    if requested is not None:
        return max(1, min(requested, revisions))
    if revisions < MIN_REVISIONS or not can_fork():
        return 1
    cores = int(usable_cores())
    # a third or fourth worker from 24 and 32 revisions on (measured on two cores only)
    return max(1, min(cores, MAX_AUTO_JOBS, max(2, revisions // 8)))


def split(revisions: int, jobs: int) -> list[int]:
    """Where each worker's range starts: worker i walks ``order[starts[i]:starts[i + 1]]``.

    Worker i upgrades plainly through ``starts[i]`` revisions first, and the last one also
    runs the whole-chain repeatability, so the ranges shrink from first to last.

    >>> split(200, 2)
    [0, 146]
    >>> split(3, 3)
    [0, 1, 2]
    """
    if jobs <= 1 or revisions <= 1:
        return [0]
    jobs = min(jobs, revisions)

    def starts_for(budget: float) -> list[float]:
        starts = [0.0]
        for _ in range(jobs - 1):
            begin = starts[-1]
            starts.append(begin + max(budget - begin, 0.0) / _WALKED)
        return starts

    def last_cost(budget: float) -> float:
        begin = starts_for(budget)[-1]
        return _WORKER_START + begin + _WALKED * (revisions - begin) + 2 * revisions

    low, high = 0.0, last_cost(0.0)
    for _ in range(60):  # bisect the budget at which the last worker costs as much as the others
        middle = (low + high) / 2
        if last_cost(middle) > middle:
            low = middle
        else:
            high = middle
    starts = [round(s) for s in starts_for(high)]
    for i in range(1, jobs):  # every worker walks at least one revision
        starts[i] = min(max(starts[i], starts[i - 1] + 1), revisions - (jobs - i))
    return starts
