"""The schema lock file: head's snapshot, committed and reviewed like Rails' schema.rb.

It is the snapshot's own JSON (sorted keys, one property per line), so a pull request that
changes the schema shows the change as a small, readable diff of this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migproof.catalog.diff import Difference, diff_snapshots
from migproof.catalog.model import Snapshot, SnapshotFormatError
from migproof.config import Config
from migproof.errors import SourceError

__all__ = ["LockfileDrift", "compare_lockfile", "lockfile_path", "read_lockfile", "write_lockfile"]

_CREATE_FIX = "create it with `migproof snapshot alembic:head --write` and commit it"


def lockfile_path(config: Config) -> Path:
    """Where the lock file lives: ``lockfile`` (default ``migproof.schema.json``) under the root."""
    return config.path(config.lockfile)


def read_lockfile(path: Path) -> Snapshot:
    """The snapshot a lock file holds; SourceError when it is missing or not a snapshot."""
    if not path.is_file():
        raise SourceError(f"no schema lock file at {path}", fix=_CREATE_FIX)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read the schema lock file {path}: {exc}") from exc
    try:
        return Snapshot.from_json(text)
    except SnapshotFormatError as exc:
        raise SourceError(
            f"the schema lock file {path} is not a migproof snapshot: {exc}",
            fix="regenerate it with `migproof snapshot alembic:head --write` (after resolving "
            "any merge conflict in it)",
        ) from exc


def write_lockfile(path: Path, snapshot: Snapshot) -> bool:
    """Write the snapshot to ``path``; return whether the file's content changed."""
    text = snapshot.to_json()
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SourceError(
            f"cannot write the schema lock file {path}: {exc.strerror}",
            fix="check that its directory exists and is writable, or set `lockfile` in the config",
        ) from exc
    return True


@dataclass(frozen=True, slots=True)
class LockfileDrift:
    """How head differs from the lock file (``differences`` read from the lock file to head).

    ``note`` says, when they differ, that the two were built on different PostgreSQL versions,
    whose defaults differ (the public schema's grants, for one); None otherwise.
    """

    differences: list[Difference]
    note: str | None


def compare_lockfile(locked: Snapshot, head: Snapshot, label: str) -> LockfileDrift:
    """Compare head with the lock file's snapshot; ``label`` names the lock file in the note."""
    differences = diff_snapshots(locked, head)
    note = None
    if (
        differences
        and locked.server_version
        and head.server_version
        and locked.server_version != head.server_version
    ):
        note = (
            f"{label} was written on PostgreSQL {locked.server_version}, head was built on "
            f"{head.server_version}: use the same --pg-bin for both"
        )
    return LockfileDrift(differences, note)
