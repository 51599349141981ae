"""Where a report's files are, for formats read against the repository (SARIF, GitHub).

Each command names files by its own convention: ``guard`` as ``git diff`` does (relative to
the git top level); every other command as it was given them (relative to the working
directory, or absolute). Code scanning and workflow annotations want them relative to the
repository root, whatever directory migproof ran in (a monorepo's ``backend/``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["TOPLEVEL_RELATIVE", "anchor_of", "repository_root", "resolved", "within_repository"]

# Commands whose relative paths are relative to the git top level (paths from ``git diff``).
TOPLEVEL_RELATIVE = frozenset({"guard"})


def repository_root(start: Path | None = None) -> Path:
    """The enclosing git work tree of ``start`` (default: the working directory), else itself."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def anchor_of(command: str, root: Path) -> Path:
    """What the relative paths of ``command``'s report are relative to."""
    return root if command in TOPLEVEL_RELATIVE else Path.cwd()


def resolved(path: Path, anchor: Path) -> Path:
    """``path``, relative to ``anchor`` when not absolute, made absolute."""
    return (path if path.is_absolute() else anchor / path).resolve()


def within_repository(path: Path, anchor: Path, root: Path) -> Path:
    """``path`` (relative to ``anchor``) relative to ``root``; absolute when outside it."""
    absolute = resolved(path, anchor)
    try:
        return absolute.relative_to(root)
    except ValueError:
        return absolute
