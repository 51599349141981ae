"""Alembic's ScriptDirectory, made to skip revision files that fail to import.

Alembic imports every revision file while it builds its revision map, so one broken file
stops every command. verify reports the broken file as a finding and goes on with the rest:
the map is rebuilt over a loader that records a failing file instead of raising.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionMap

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
            except Exception as exc:
                broken[real_path] = _describe(real_path, exc)
                continue
            if script is not None:
                yield script


def _describe(path: Path, exc: BaseException) -> BrokenRevision:
    line: int | None = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == path:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path:
            line = frame.lineno
    return BrokenRevision(path=path, error=f"{type(exc).__name__}: {exc}", line=line)


def tolerant_script_directory(alembic_config: Any, broken: dict[Path, BrokenRevision]) -> Any:
    script_dir = ScriptDirectory.from_config(alembic_config)
    script_dir.revision_map = RevisionMap(lambda: _load_revisions(script_dir, broken))
    return script_dir
