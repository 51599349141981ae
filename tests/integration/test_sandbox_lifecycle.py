"""A Sandbox's life: where it lives, what a failed start leaves, what a fork()ed child may do."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from migproof.errors import SandboxError
from migproof.sandbox import Sandbox, find_binaries, watchdog


def _binaries_env() -> str:
    return os.environ.get("MIGPROOF_TEST_PG_BIN", "")


@pytest.fixture
def own_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache and a sandbox directory of this test's own, reachable by the server user."""
    base = Path("/tmp") / f"mp-{tmp_path.name[-12:]}"  # short: the socket path has a limit
    base.mkdir()
    os.chmod(base, 0o1777)
    monkeypatch.setenv("MIGPROOF_SANDBOX_DIR", str(base))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_start_and_stop_are_idempotent(own_dirs: Path) -> None:
    sandbox = Sandbox(find_binaries(_binaries_env() or None))
    assert not sandbox.is_running
    assert sandbox.start() is sandbox.start()
    directory = sandbox.directory
    assert directory.parent == own_dirs  # MIGPROOF_SANDBOX_DIR is honoured
    sandbox.stop()
    sandbox.stop()
    assert not directory.exists()
    with pytest.raises(SandboxError, match="not running"):
        _ = sandbox.directory


def test_corrupt_cached_cluster_fails_cleanly_and_names_the_cache(own_dirs: Path) -> None:
    binaries = find_binaries(_binaries_env() or None)
    with Sandbox(binaries):
        pass  # fills the cache
    (cached,) = (Path(os.environ["XDG_CACHE_HOME"]) / "migproof" / "clusters").iterdir()
    (cached / "global" / "pg_control").unlink()
    with pytest.raises(SandboxError) as caught:
        Sandbox(binaries).start()
    assert caught.value.fix is not None
    assert caught.value.fix.startswith(f"delete the cached cluster {cached} and retry")
    assert list(own_dirs.iterdir()) == []  # the failed start left no directory


def test_socket_directory_too_long_is_an_error(tmp_path: Path, monkeypatch) -> None:
    long_dir = tmp_path / ("x" * 90)
    long_dir.mkdir()
    monkeypatch.setenv("MIGPROOF_SANDBOX_DIR", str(long_dir))
    with pytest.raises(SandboxError, match="too long a path") as caught:
        Sandbox(find_binaries(_binaries_env() or None)).start()
    assert caught.value.fix == "set MIGPROOF_SANDBOX_DIR to a short path such as /tmp"
    assert list(long_dir.iterdir()) == []


def test_unknown_sandbox_user_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("the server user is chosen only when migproof runs as root")
    monkeypatch.setenv("MIGPROOF_SANDBOX_USER", "no-such-user-migproof")
    with pytest.raises(SandboxError, match="no user 'no-such-user-migproof'"):
        Sandbox(find_binaries(_binaries_env() or None)).start()


def test_forked_child_exiting_leaves_the_parents_sandbox_running() -> None:
    """A fork()ed child runs the atexit hooks it inherited; they must not stop our server."""
    script = textwrap.dedent(
        """
        import os, sys
        from migproof.sandbox import Sandbox, find_binaries, watchdog

        pg = Sandbox(find_binaries(sys.argv[1] or None)).start()
        child = os.fork()
        if child == 0:
            sys.exit(0)  # runs atexit: Sandbox.stop in the child
        os.waitpid(child, 0)
        with pg.connect() as conn:
            print(conn.execute("SELECT 'still up'").fetchone()[0])
        directory = pg.directory
        pg.stop()
        print("removed" if not directory.exists() else "left behind")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, _binaries_env()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["still", "up", "removed"]


def _run_watchdog(directory: Path, stdin: bytes) -> None:
    script = Path(watchdog.__file__)
    subprocess.run(
        [sys.executable, "-I", "-S", str(script), str(directory)],
        input=stdin,
        timeout=60,
        check=True,
    )


def test_watchdog_stops_the_pid_it_was_told_and_removes_the_directory(tmp_path: Path) -> None:
    """migproof died before the server wrote postmaster.pid: the pid from the pipe is enough."""
    directory = tmp_path / "migproof-x"
    (directory / "data").mkdir(parents=True)
    stand_in = subprocess.Popen(["sleep", "600"])  # SIGQUIT ends it, as it ends a postmaster
    try:
        _run_watchdog(directory, f"pid {stand_in.pid}\n".encode())
        assert stand_in.wait(timeout=60) == -signal.SIGQUIT
        assert not directory.exists()
    finally:
        stand_in.kill()
        stand_in.wait()


def test_watchdog_told_quit_touches_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "migproof-y"
    (directory / "data").mkdir(parents=True)
    stand_in = subprocess.Popen(["sleep", "600"])
    try:
        _run_watchdog(directory, f"pid {stand_in.pid}\nquit\n".encode())
        assert stand_in.poll() is None
        assert directory.exists()
    finally:
        stand_in.kill()
        stand_in.wait()
