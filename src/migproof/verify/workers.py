"""Worker processes for verify: the chain split into ranges walked side by side.

Each revision's round trip needs only the database as the revisions before it left it, so
a second process can upgrade its own scratch database straight to revision k (no checks:
plain upgrades are cheap) and walk the round trips from there, while this process walks
those before k. Python and PostgreSQL each keep about one core busy per walk, so two walks
take about half the time on two cores (``bench/verify_bench.py``).

Workers are forked: they start at once with everything already imported and the chain
already loaded, where a new interpreter would pay for importing Alembic, SQLAlchemy and the
project again. That rules out platforms without ``fork`` and, by default, macOS (where
forking a process that has used system frameworks can crash the child) and a process that
already runs other threads (a fork copies locks they may hold). ``split`` sizes the ranges
so that every worker finishes at about the same time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe
from typing import Any

__all__ = ["Worker", "jobs_for", "split"]

# Chains shorter than this are walked in one process: a second scratch database and a fork
# cost more than the few round trips they would take over.
MIN_REVISIONS = 16
MAX_AUTO_JOBS = 4

# What walking one revision costs, in plain upgrade steps: a walked revision is three
# steps, three snapshots and two reads of the seeded rows; the repeatability at the end is
# two plain steps per revision. Measured: the best split of bench/chains.py's chains was at
# about 0.7 N for N = 50 and 200 (two workers on two cores).
_WALKED = 6.0


def jobs_for(requested: int | None, revisions: int) -> int:
    """How many processes walk a chain of ``revisions``: ``requested`` (verify.jobs) if set,
    else one per core (at most 4) where forking is safe, and 1 for short chains."""
    if not hasattr(os, "fork"):
        return 1
    if requested is not None:
        return max(1, min(requested, revisions))
    if sys.platform != "linux" or revisions < MIN_REVISIONS or threading.active_count() > 1:
        return 1
    cores = len(os.sched_getaffinity(0))
    return max(1, min(cores, MAX_AUTO_JOBS, revisions // (MIN_REVISIONS // 2)))


def split(revisions: int, jobs: int) -> list[int]:
    """Where each worker's range starts: worker i walks ``order[starts[i]:starts[i + 1]]``.

    Worker i upgrades plainly through ``starts[i]`` revisions first, and the last one also
    runs the whole-chain repeatability, so the ranges shrink from first to last.

    >>> split(200, 2)
    [0, 145]
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
        return begin + _WALKED * (revisions - begin) + 2 * revisions

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


class Worker:
    """A forked child running ``body(tick)`` and sending back what it returns.

    ``tick()`` in the child calls ``on_tick`` in this process (the progress bar); the
    child's result must pickle. The child never returns into the caller's code: it leaves
    with ``os._exit``, running no ``finally`` block, ``atexit`` hook or finaliser of this
    process (whose connections it shares file descriptors with).
    """

    def __init__(self, pid: int, reader: Connection) -> None:
        self.pid = pid
        self._reader = reader
        self._thread: threading.Thread | None = None
        self._reaped = False
        self.ticks = 0
        self.result: Any = None
        self.failure: str | None = None  # the child's traceback, or why it sent nothing

    @classmethod
    def fork(cls, body: Callable[[Callable[[], None]], Any]) -> Worker:
        reader, writer = Pipe(duplex=False)
        parent = os.getpid()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        with warnings.catch_warnings():  # 3.12+: forking with other threads alive warns
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its work is asserted through the parent
            code = 0
            try:
                reader.close()
                _die_with(parent)
                result = body(lambda: writer.send(("tick", None)))
                writer.send(("done", result))
            except BaseException:  # anything at all is reported to the parent
                code = 1
                with contextlib.suppress(BaseException):  # else the parent sees EOF
                    writer.send(("failed", traceback.format_exc()))
            finally:
                os._exit(code)
        writer.close()
        return cls(pid, reader)

    def listen(self, on_tick: Callable[[], None]) -> None:
        """Read the child's messages in a thread until it is done."""

        def read() -> None:
            try:
                while True:
                    kind, payload = self._reader.recv()
                    if kind == "tick":
                        self.ticks += 1
                        on_tick()
                    elif kind == "done":
                        self.result = payload
                        return
                    else:
                        self.failure = payload
                        return
            except (EOFError, OSError):
                self.failure = "the worker process ended without a result"

        self._thread = threading.Thread(target=read, name=f"migproof-worker-{self.pid}")
        self._thread.daemon = True
        self._thread.start()

    def wait(self) -> Any:
        """The child's result, once it has sent it and exited; None if it failed."""
        if self._thread is not None:
            self._thread.join()
        self._reap()
        return self.result

    def kill(self) -> None:
        """Stop the child now (this process is failing or no longer needs it)."""
        if not self._reaped:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(self.pid, signal.SIGKILL)
            self._reap()
        if self._thread is not None:
            self._thread.join()
        self._reader.close()

    def _reap(self) -> None:
        if not self._reaped:
            os.waitpid(self.pid, 0)
            self._reaped = True


def _die_with(parent: int) -> None:
    """Linux: have the kernel kill this worker when its parent dies (even by SIGKILL), so
    no worker goes on walking a chain nobody will read the report of."""
    if sys.platform != "linux":
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)
