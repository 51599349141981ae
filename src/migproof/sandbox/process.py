"""Processes and files of a sandbox cluster: its user, its postmaster, its directory."""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from migproof.errors import SandboxError
from migproof.sandbox.watchdog import is_alive, postmaster_pid, remove_tree, stop_postmaster

__all__ = [
    "ServerUser",
    "is_alive",
    "is_reachable_by_others",
    "postmaster_pid",
    "remove_tree",
    "server_user",
    "stop_postmaster",
]


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
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise SandboxError(
            f"no user {name!r} to run the sandbox server as (PostgreSQL refuses to run as root)",
            fix="set MIGPROOF_SANDBOX_USER to an existing unprivileged account, or run "
            "migproof as a normal user",
        ) from None
    if entry.pw_uid == 0:
        raise SandboxError(
            f"MIGPROOF_SANDBOX_USER {name!r} is root; PostgreSQL refuses to run as root",
            fix="name an unprivileged account",
        )
    return ServerUser(name=name, uid=entry.pw_uid, gid=entry.pw_gid)


def is_reachable_by_others(path: Path) -> bool:
    """True when a user who is neither owner nor group can traverse to ``path`` and read it."""
    path = path.resolve()
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)
