"""Alembic revision files read as Python syntax trees (never imported), and where they live."""

from __future__ import annotations

import ast
import importlib.machinery
import sys
from dataclasses import dataclass
from pathlib import Path

from migproof.alembic_ini import read_alembic_settings
from migproof.errors import ConfigError

__all__ = ["RevisionFile", "read_revision", "revision_directories"]


@dataclass(frozen=True, slots=True)
class RevisionFile:
    """One revision file: its tree, its lines, and its ``revision = "..."`` if it has one."""

    path: Path
    tree: ast.Module
    lines: list[str]
    revision: str | None
    revision_line: int | None

    def calls(self) -> list[tuple[str, ast.Call]]:
        """Every call in the file with its dotted name (``psycopg.connect``, ``create_engine``)."""
        found: list[tuple[str, ast.Call]] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
                if name:
                    found.append((name, node))
        return found

    def imported_names(self) -> dict[str, str]:
        """Local name -> what it was imported as (``connect`` -> ``psycopg2.connect``)."""
        names: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    names[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
        return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def read_revision(path: Path) -> RevisionFile:
    """Parse a revision file; a syntax error raises ``SyntaxError`` with its position."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    revision, line = None, None
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if (
            isinstance(target, ast.Name)
            and target.id == "revision"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            revision, line = value.value, node.lineno
    return RevisionFile(path, tree, text.splitlines(), revision, line)


def revision_directories(ini: Path, section: str = "alembic") -> list[Path]:
    """The versions directories named by an ``alembic.ini`` (script_location, version_locations),
    split as Alembic splits them (``migproof.alembic_ini``)."""
    settings = read_alembic_settings(ini, section, ini.parent / "pyproject.toml")
    if not settings.has_section:
        raise ConfigError(
            f"{ini} has no [{section}] section",
            fix="point alembic-name (or --name) at the section that holds script_location",
        )
    script = settings.script_location()
    if script is None and (ini.parent / "env.py").is_file():
        script = (".", True)  # Flask-Migrate's: the directory of alembic.ini, set at run time
    if script is None:
        raise ConfigError(
            f"{ini} sets no script_location", fix="add script_location = <migrations dir>"
        )
    locations = settings.version_locations()
    directories: list[Path] = []
    if locations and locations.items:
        directories.extend(ini.parent / p for p in locations.items)
    elif ":" not in script[0] or Path(script[0]).is_absolute():
        directories.append(ini.parent / script[0] / "versions")
    else:  # package:path, as Alembic resolves it (the package found, not imported)
        package, _, inside = script[0].partition(":")
        prepend = settings.prepend_sys_path()
        search = [*(ini.parent / p for p in (prepend.items if prepend else ())), ini.parent]
        found = _package_directory(package.strip(), search)
        if found is not None:
            directories.append(found / inside.strip() / "versions")
    return [d.resolve() for d in directories if d.is_dir()]


def _package_directory(package: str, first: list[Path]) -> Path | None:
    """Where a package is, looked for in ``first`` (prepend_sys_path, the project) and then on
    sys.path, its dotted parts as directories: nothing is imported."""
    top, *rest = package.split(".")
    paths = [str(p) for p in first] + [p for p in sys.path if isinstance(p, str)]
    spec = importlib.machinery.PathFinder.find_spec(top, paths)
    locations = list(spec.submodule_search_locations or ()) if spec else []
    if not locations:
        return None
    directory = Path(locations[0]).joinpath(*rest)
    return directory if directory.is_dir() else None
