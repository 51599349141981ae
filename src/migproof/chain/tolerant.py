"""Alembic's ScriptDirectory, made to skip revision files that fail to import.

Alembic imports every revision file while it builds its revision map, so one broken file
stops every command. verify reports the broken file as a finding and goes on with the rest:
the map is rebuilt over a loader that records a failing file instead of raising.
"""

from __future__ import annotations

import traceback
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionMap

from migproof.chain.graph import read_revision_file
from migproof.chain.project import BrokenRevision

__all__ = ["tolerant_script_directory"]


def _load_revisions(
    script_dir: ScriptDirectory, broken: dict[Path, BrokenRevision]
) -> Iterator[Script]:
    seen: set[Path] = set()
    for vers in script_dir._version_locations:
        if not Path(vers).exists():
            continue
        for file_path in Script._list_py_dir(script_dir, vers):
            real_path = Path(file_path).resolve()
            if real_path in seen:
                continue
            seen.add(real_path)
            try:
                script = Script._from_path(script_dir, real_path)
            except (Exception, SystemExit) as exc:  # project code's errors are findings
                broken[real_path] = _describe(real_path, exc)
                script = _stand_in(real_path, exc)
            if script is not None:
                yield script


def _stand_in(path: Path, exc: BaseException) -> Script | None:
    """A Script for a file that fails to import, from its header read without importing it.

    It keeps the revision map whole, so the revisions that do not build on it still run;
    its own upgrade and downgrade raise the import error and are never called by verify.
    """
    header = read_revision_file(path)
    if header.revision is None:
        return None
    module = types.ModuleType(f"migproof_broken_{header.revision}")

    def fail() -> None:
        raise exc

    values = {
        "revision": header.revision,
        "down_revision": _one_or_many(header.down_revisions),
        "branch_labels": header.branch_labels or None,
        "depends_on": _one_or_many(header.depends_on),
        "upgrade": fail,
        "downgrade": fail,
        "__doc__": header.message,
    }
    for name, value in values.items():
        setattr(module, name, value)
    return Script(module, header.revision, path)


def _one_or_many(ids: tuple[str, ...]) -> str | tuple[str, ...] | None:
    if not ids:
        return None
    return ids[0] if len(ids) == 1 else ids


def _describe(path: Path, exc: BaseException) -> BrokenRevision:
    line: int | None = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == path:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path:
            line = frame.lineno
    error = f"{type(exc).__name__}: {exc}"
    missing = _missing_module_within(exc)
    if missing is not None and missing is not exc:
        # oslo.service turns "No module named 'eventlet'" into "Unknown backend: 'eventlet'":
        # the module that is missing is the cause, and the hint needs its words
        error = f"{type(missing).__name__}: {missing} (within {error})"
    return BrokenRevision(path=path, error=error, line=line)


def _missing_module_within(exc: BaseException) -> BaseException | None:
    """The ModuleNotFoundError ``exc`` was raised from (its cause or context), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ModuleNotFoundError):
            return current
        seen.add(id(current))
        # `raise ... from None` hides its context on purpose: the project's own error stands
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return None


def tolerant_script_directory(alembic_config: Any, broken: dict[Path, BrokenRevision]) -> Any:
    script_dir = ScriptDirectory.from_config(alembic_config)
    script_dir.revision_map = RevisionMap(lambda: _load_revisions(script_dir, broken))
    return script_dir
