"""Forked child processes: when forking is safe, how many cores there are, and a child that
sends back what it returns.

A forked child starts at once with everything already imported and loaded, where a new
interpreter would import it all again; verify's workers and lint's second process use it.
Forking is safe unasked only on Linux (a macOS child of a process that used system
frameworks can crash) and while no other thread runs (a fork copies the locks they hold).
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["Worker", "can_fork", "usable_cores"]


def can_fork() -> bool:
    """Whether forking a child is safe here unasked (module docstring)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def usable_cores(cgroup: Path = Path("/sys/fs/cgroup")) -> float:
    """The cores this process may run on, less when its cgroup's CPU quota allows fewer
    (a container started with ``--cpus=1`` still sees every core of the host)."""
    cores = float(len(os.sched_getaffinity(0)))
    quota = _cgroup_cpus(cgroup)
    return min(cores, quota) if quota is not None else cores


def _cgroup_cpus(root: Path) -> float | None:
    """The CPU quota of the cgroup (v2 ``cpu.max``, v1 CFS quota), None without one."""
    try:  # v2: "max 100000" (no quota) or "150000 100000"
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # v1: a quota of -1 is none
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


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
        from multiprocessing.connection import Pipe

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
