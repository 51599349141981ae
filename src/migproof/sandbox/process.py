"""Processes and files of a sandbox cluster: its user, its postmaster, its directory."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import stat
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ServerUser",
    "is_alive",
    "is_reachable_by_others",
    "postmaster_pid",
    "remove_tree",
    "server_user",
    "stop_postmaster",
]

_STOP_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class ServerUser:
    """The unprivileged account the server runs as when migproof runs as root."""

    name: str
    uid: int
    gid: int


def server_user() -> ServerUser | None:
    """None for a normal user (the server runs as them); an unprivileged account for root.

    PostgreSQL refuses to run as root. ``MIGPROOF_SANDBOX_USER`` names the account; the
    default is ``nobody``, which every Unix has, so migproof adds no user to the system.
    """
    if os.geteuid() != 0:
        return None
    name = os.environ.get("MIGPROOF_SANDBOX_USER", "nobody")
    entry = pwd.getpwnam(name)
    return ServerUser(name=name, uid=entry.pw_uid, gid=entry.pw_gid)


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
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop_postmaster(data_dir: Path) -> None:
    """Immediate shutdown (SIGQUIT, like ``pg_ctl stop -m immediate``) and wait for it."""
    pid = postmaster_pid(data_dir)
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
        time.sleep(0.005)


def remove_tree(path: Path) -> None:
    """Remove a directory, whoever owns the files in it."""
    shutil.rmtree(path, ignore_errors=True)


def is_reachable_by_others(path: Path) -> bool:
    """True when a user who is neither owner nor group can traverse to ``path`` and read it."""
    path = path.resolve()
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)
