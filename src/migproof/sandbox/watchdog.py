"""Stop a sandbox server and remove its directory when the migproof process dies.

server.py runs this file by path, ``python -I -S watchdog.py DIR``, in its own session so
Ctrl-C in the terminal does not reach it, with a pipe from migproof on stdin. It imports
only the standard library (not the migproof package, whose imports cost a tenth of a
second of CPU that the cluster start-up would compete with); process.py re-exports its
helpers for the rest of migproof.

The pipe carries lines: ``pid N`` as soon as migproof has forked the postmaster (before
the server has written ``postmaster.pid``), and ``quit`` after a normal stop. End of file
without ``quit`` means migproof is gone (SIGKILL, a crash): the watchdog shuts the server
down (SIGQUIT, as ``pg_ctl stop -m immediate`` does) and removes the directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

__all__ = ["is_alive", "postmaster_pid", "remove_tree", "stop_postmaster"]

_STOP_WAIT_SECONDS = 30.0


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid in ``postmaster.pid``, or None when the server is not running."""
    try:
        first = (data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(pid, 0) is all we know
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop_postmaster(data_dir: Path, pid: int | None = None) -> None:
    """Immediate shutdown (SIGQUIT, like ``pg_ctl stop -m immediate``) and wait for it.

    ``pid`` is the postmaster's when the caller knows it; else ``postmaster.pid`` tells.
    """
    pid = pid or postmaster_pid(data_dir)
    if pid is None or not is_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + _STOP_WAIT_SECONDS
    while is_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.002)


def remove_tree(path: Path) -> None:
    """Remove a directory, whoever owns the files in it."""
    shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    directory = Path(argv[0])
    pids: list[int] = []
    for line in sys.stdin.buffer:
        if line.startswith(b"quit"):
            return 0
        if line.startswith(b"pid "):
            pids.append(int(line.split()[1]))
    for pid in pids:  # forked by migproof: ours even if postmaster.pid is not written yet
        stop_postmaster(directory / "data", pid)
    stop_postmaster(directory / "data")
    remove_tree(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
