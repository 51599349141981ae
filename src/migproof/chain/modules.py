"""Unloading a project's own modules between runs, so the next run imports them afresh."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["unload_modules"]

# a virtualenv inside the project directory holds installed packages: they stay loaded
_INSTALLED = re.compile(r"[/\\](?:site|dist)-packages[/\\]")


def unload_modules(
    root: Path, *, among: Iterable[str] | None = None, names: frozenset[str] = frozenset()
) -> None:
    """Unload the modules of ``among`` (default: every one loaded) whose file is under
    ``root``, and those of the top-level packages ``names`` whose file is elsewhere; modules
    of installed packages are kept wherever they are."""
    prefix = str(root.resolve()) + os.sep
    for name in list(sys.modules if among is None else among):
        filename = getattr(sys.modules.get(name), "__file__", None) or ""
        path = os.path.realpath(filename) if filename else ""
        if not path or _INSTALLED.search(path):
            continue
        if path.startswith(prefix) or name.partition(".")[0] in names:
            sys.modules.pop(name, None)
