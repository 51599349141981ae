"""Nothing is left behind, however a sandbox ends: a real ``migproof sandbox`` process is
started, proven to serve queries, then ended by SIGINT, SIGTERM or SIGKILL; a child Python
process ends a ``with Sandbox()`` block by an exception or normally, or exits without
stopping a started sandbox. After each, no ``postgres`` process of that sandbox is alive and
its directory is gone.

As root every scenario runs twice: as root (the server then runs as ``nobody``) and as an
unprivileged user, so both paths of ``sandbox/process.py`` are proven on a real server.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

import migproof

pytestmark = pytest.mark.slow

_START_DEADLINE = 120.0  # a cold cache runs initdb; CI machines can be slow
_CLEANUP_DEADLINE = 60.0
_UNPRIVILEGED = "nobody"

# A child that holds a sandbox until it reads a line, then ends the way argv[2] says.
_CHILD = """
import os, sys
from migproof.sandbox import Sandbox, find_binaries

binaries = find_binaries(sys.argv[1] or None)
if sys.argv[2] in ("leak", "hard-exit"):  # started, never stopped
    pg = Sandbox(binaries).start()
    print("libpq URL:", pg.url, flush=True)
    sys.stdin.readline()
    if sys.argv[2] == "hard-exit":
        os._exit(0)  # no atexit, no finally: only the watchdog can clean up
    sys.exit(0)
with Sandbox(binaries) as pg:
    print("libpq URL:", pg.url, flush=True)
    sys.stdin.readline()
    if sys.argv[2] == "raise":
        raise RuntimeError("boom inside the with block")
"""


@dataclass(frozen=True)
class Runner:
    """How to start a Python process as one user: interpreter, environment, uid/gid."""

    label: str
    python: str
    env: dict[str, str]
    uid: int | None = None
    gid: int | None = None

    def popen(self, args: list[str]) -> subprocess.Popen[str]:
        # Started with SIGINT ignored, as a shell without job control starts a background
        # job (`migproof sandbox &` in a CI script): `kill -INT` must still end it cleanly.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return subprocess.Popen(
                [self.python, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=self.env,
                user=self.uid,
                group=self.gid,
                extra_groups=[] if self.uid is not None else None,
            )
        finally:
            signal.signal(signal.SIGINT, previous)


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGPROOF_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_COLOR"] = "1"
    return env


def _pg_bin() -> str:
    return os.environ.get("MIGPROOF_TEST_PG_BIN", "")


def _importable_by(uid: int, gid: int, env: dict[str, str], python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "import migproof.sandbox, migproof.cli"],
            env=env,
            user=uid,
            group=gid,
            extra_groups=[],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def _unprivileged_runner(home: Path) -> Runner:
    """The same package run by an unprivileged user, from an interpreter that user can reach.

    The venv's interpreter may link into a 0700 home (pyenv under /root); then the system's
    python of the same minor version runs the venv's site-packages and migproof's source.
    """
    try:
        entry = pwd.getpwnam(_UNPRIVILEGED)
    except KeyError:
        pytest.skip(f"no {_UNPRIVILEGED!r} account to run the unprivileged scenario as")
    env = _base_env()
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"), TMPDIR=str(home / "tmp"))
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable]
    candidates += [p for p in (shutil.which(version, path="/usr/local/bin:/usr/bin"),) if p]
    package_dirs = {str(Path(migproof.__file__).parent.parent)}
    package_dirs |= {p for p in sys.path if p.endswith("site-packages")}
    for python in candidates:
        if _importable_by(entry.pw_uid, entry.pw_gid, env, python):
            return Runner(f"as {_UNPRIVILEGED}", python, env, entry.pw_uid, entry.pw_gid)
        with_path = {**env, "PYTHONPATH": os.pathsep.join(sorted(package_dirs))}
        if _importable_by(entry.pw_uid, entry.pw_gid, with_path, python):
            return Runner(f"as {_UNPRIVILEGED}", python, with_path, entry.pw_uid, entry.pw_gid)
    # CI as root: pyenv and the checkout under 0700 homes. The system's python of the same
    # minor version runs a copy (hard links where it can) of migproof and what it needs.
    site = _readable_site(home / "site")
    with_copy = {**env, "PYTHONPATH": str(site)}
    for python in candidates:
        if _importable_by(entry.pw_uid, entry.pw_gid, with_copy, python):
            return Runner(f"as {_UNPRIVILEGED}", python, with_copy, entry.pw_uid, entry.pw_gid)
    pytest.skip(
        f"{_UNPRIVILEGED!r} can reach no python{version[6:]} that imports migproof "
        f"(tried {', '.join(candidates)}; is the package under a 0700 home?)"
    )


def _readable_site(site: Path) -> Path:
    """migproof and every distribution it requires (with their extras), linked or copied
    into ``site`` (directories 0755, files keep their modes), for a user who cannot read
    this interpreter's. Nothing is chowned: a hard link shares its file with the original."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    def link_or_copy(source: str, target: str) -> None:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)

    site.mkdir()
    wanted: list[tuple[str, frozenset[str]]] = [("migproof", frozenset())]
    seen: set[str] = set()
    while wanted:
        name, extras = wanted.pop()
        if canonicalize_name(name) in seen:
            continue
        seen.add(canonicalize_name(name))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for text in dist.requires or ():
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in extras or {""}):
                wanted.append((requirement.name, frozenset(requirement.extras)))
        for file in dist.files or ():
            if ".." in file.parts or "__pycache__" in file.parts:
                continue
            source = Path(str(dist.locate_file(file)))
            target = site / file
            if source.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                link_or_copy(str(source), str(target))
    package = Path(migproof.__file__).parent  # an editable install records no module files
    shutil.copytree(
        package,
        site / "migproof",
        copy_function=link_or_copy,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    site.chmod(0o755)
    return site


@pytest.fixture(scope="module", params=["current user", "unprivileged"])
def runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    if request.param == "current user":
        yield Runner("as the current user", sys.executable, _base_env())
        return
    if os.geteuid() != 0:
        pytest.skip("already unprivileged: the current-user runs cover this case")
    home = Path(tempfile.mkdtemp(prefix="migproof-kill-"))
    try:
        for sub in ("cache", "tmp"):
            (home / sub).mkdir()
        entry = pwd.getpwnam(_UNPRIVILEGED) if _has_user(_UNPRIVILEGED) else None
        if entry is not None:
            for path in (home, home / "cache", home / "tmp"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        yield _unprivileged_runner(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class Running:
    """A started process holding a sandbox, and what the test learned about that sandbox."""

    process: subprocess.Popen[str]
    url: str
    directory: Path
    server_pids: frozenset[int]


def _start(runner: Runner, args: list[str]) -> Running:
    process = runner.popen(args)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + _START_DEADLINE
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"no libpq URL {runner.label}; stdout: {seen!r}; stderr: {err}")
        seen.append(line)
        if line.startswith("libpq URL:"):
            url = line.split(":", 1)[1].strip()
            break
    host = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["host"][0]
    directory = Path(host)
    return Running(process, url, directory, _server_pids(directory))


def _server_pids(directory: Path) -> frozenset[int]:
    """The postmaster of the sandbox and every child it has now."""
    postmaster = int((directory / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
    pids = {postmaster}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _ppid(int(entry.name)) == postmaster:
            pids.add(int(entry.name))
    return frozenset(pids)


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _is_live_postgres(pid: int, directory: Path) -> bool:
    """A live, non-zombie process that is a postgres (the pid may have been reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":
        return False
    return "postgres" in cmdline or str(directory) in cmdline


def _live_referencing(directory: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if str(directory) in cmdline and "postgres" in cmdline and state != "Z":
                found.append(f"{entry.name}: {cmdline}")
    return found


def _assert_cleaned_up(running: Running) -> None:
    """Poll until the sandbox's processes and directory are gone, or fail at the deadline."""
    deadline = time.monotonic() + _CLEANUP_DEADLINE
    while True:
        live = [p for p in running.server_pids if _is_live_postgres(p, running.directory)]
        referencing = _live_referencing(running.directory)
        exists = running.directory.exists()
        if not live and not referencing and not exists:
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"left behind: pids {live}, processes {referencing}, "
                f"directory {running.directory} exists: {exists}"
            )
        time.sleep(0.05)


def _prove_it_serves(running: Running) -> None:
    with psycopg.connect(running.url, connect_timeout=10) as conn:
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)
        assert conn.execute("SELECT inet_server_addr()").fetchone() == (None,)


def _sandbox_args() -> list[str]:
    args = ["-m", "migproof", "sandbox"]
    return [*args, "--pg-bin", _pg_bin()] if _pg_bin() else args


@pytest.mark.parametrize(
    ("how", "expected_codes"),
    [
        (signal.SIGINT, {0}),
        (signal.SIGTERM, {0}),
        (signal.SIGKILL, {-signal.SIGKILL}),
    ],
    ids=["SIGINT", "SIGTERM", "SIGKILL"],
)
def test_signal_to_migproof_sandbox_leaves_nothing(
    runner: Runner, how: signal.Signals, expected_codes: set[int]
) -> None:
    running = _start(runner, _sandbox_args())
    try:
        _prove_it_serves(running)
        running.process.send_signal(how)
        _, err = running.process.communicate(timeout=_CLEANUP_DEADLINE)
        assert running.process.returncode in expected_codes, err
        if how is not signal.SIGKILL:
            assert "sandbox stopped and removed" in err
            assert "Traceback" not in err
        _assert_cleaned_up(running)
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.communicate()


@pytest.mark.parametrize(
    ("mode", "expected_code"),
    [("raise", 1), ("normal", 0), ("leak", 0), ("hard-exit", 0)],
    ids=[
        "exception in with block",
        "normal end of with block",
        "exit without stop",
        "os._exit without stop",
    ],
)
def test_child_python_process_leaves_nothing(runner: Runner, mode: str, expected_code: int) -> None:
    running = _start(runner, ["-c", _CHILD, _pg_bin(), mode])
    try:
        _prove_it_serves(running)
        _, err = running.process.communicate("go\n", timeout=_CLEANUP_DEADLINE)
        assert running.process.returncode == expected_code, err
        if mode == "raise":
            assert "RuntimeError: boom inside the with block" in err
        _assert_cleaned_up(running)
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.communicate()
