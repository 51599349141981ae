"""Find the migrations under the paths a user gives, in the order they run.

- ``.sql`` files, directories searched recursively (hidden and virtualenv directories
  skipped), sorted with numbers compared as numbers (``2_x.sql`` before ``10_x.sql``);
- golang-migrate pairs: ``N_name.up.sql`` is linted with ``N_name.down.sql`` as its
  downgrade; dbmate (``-- migrate:up`` / ``-- migrate:down``) and goose (``-- +goose Up``
  / ``-- +goose Down``) files are split into their two sections, which their tools run in
  a transaction unless the file says otherwise; ``-- migproof: no-transaction`` runs any
  file outside one, as the SQL runner does;
- a directory with ``alembic.ini``: the revision files of its versions directories (and of
  the directories below them with ``recursive_version_locations = true``);
  ``.py`` files given directly are read as revision files.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migproof.alembic_ini import is_recursive, project_ini
from migproof.config import Config
from migproof.errors import ConfigError, SourceError
from migproof.lint.revisions import revision_directories
from migproof.lint.source import SqlSource

__all__ = ["Discovered", "discover", "natural_order", "projects_of", "sql_source_for"]

_SKIP_DIRS = frozenset(
    {"node_modules", "__pycache__", "venv", "site-packages", "build", "dist", "target"}
)
_NUMBER = re.compile(r"(\d+)")
# What sqlmigrate.layout.split_sections needs to find a section at all (goose's "-- +goose Up",
# any case; dbmate's "-- migrate:up"): files without it skip importing the runner's layout.
_SECTION_MARKER = re.compile(r"(?i:\+goose)|migrate:up")


@dataclass(slots=True)
class Discovered:
    sources: list[SqlSource] = field(default_factory=list)
    revisions: list[Path] = field(default_factory=list)
    # SQL for one database, named after it (synapse's x.sql.postgres, x.sql.sqlite): not
    # read, and said so
    unread: list[Path] = field(default_factory=list)


def natural_order(path: Path) -> tuple[object, ...]:
    """Sort key: numbers compared as numbers (``2_x.sql`` before ``10_x.sql``)."""
    parts = _NUMBER.split(path.as_posix())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _excluded(path: Path, config: Config) -> bool:
    if not config.lint.exclude:
        return False
    try:
        relative = path.resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(
        fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern)
        for pattern in config.lint.exclude
    )


# x.sql.<database>: SQL a project keeps per database (synapse's .sql.postgres, .sql.sqlite)
_DATABASE_SUFFIXES = frozenset(
    {"postgres", "postgresql", "pg", "psql", "sqlite", "sqlite3", "mysql", "mariadb", "mssql"}
)


def _walk(directory: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """The ``.sql`` files under ``directory`` (in natural order), the directories where
    revision files may be without a usable alembic.ini: ``directory`` itself and any
    ``versions`` directory below it (Alembic's layout), and the files named ``*.sql.*``.
    Hidden and tool directories are skipped; links to directories are not followed (as
    ``os.walk`` does not)."""
    sql_files: list[Path] = []
    versions = [directory]
    unread: list[Path] = []
    _scan(str(directory), sql_files, versions, unread)
    return sorted(sql_files, key=natural_order), versions, sorted(unread, key=natural_order)


def _scan(top: str, sql_files: list[Path], versions: list[Path], unread: list[Path]) -> None:
    """One directory of ``_walk``, then those below it, top-down in listing order.

    The directory entries say which are files without a ``stat`` per file (links aside).
    """
    try:
        with os.scandir(top) as listing:
            entries = list(listing)
    except OSError:
        return
    below: list[os.DirEntry[str]] = []
    for entry in entries:
        name = entry.name
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            if not (name.startswith(".") or name in _SKIP_DIRS):
                below.append(entry)
        elif name.endswith(".sql") and entry.is_file():
            sql_files.append(Path(top, name))
        elif ".sql." in name and name.rpartition(".sql.")[2].lower() in _DATABASE_SUFFIXES:
            unread.append(Path(top, name))
    versions.extend(Path(top, entry.name) for entry in below if entry.name == "versions")
    for entry in below:
        if not entry.is_symlink():
            _scan(entry.path, sql_files, versions, unread)


def _is_revision(path: Path) -> bool:
    """An Alembic revision file: Python that names its ``down_revision``."""
    try:
        return "down_revision" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def discover(paths: Sequence[Path], config: Config) -> Discovered:
    """Every migration under ``paths``; a path that does not exist is a ``SourceError``."""
    found = Discovered()
    sql_files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise SourceError(
                f"{path} does not exist", fix="pass .sql files or directories that exist"
            )
        if path.is_dir():
            sql_files.extend(_discover_directory(path, config, found))
        elif path.suffix == ".py":
            found.revisions.append(path)
        elif path.suffix == ".sql":
            sql_files.append(path)
        else:
            raise SourceError(
                f"{path} is neither a .sql file, an Alembic revision (.py) nor a directory",
                fix="pass .sql files, revision files or directories",
            )
    # a file reached twice (version_locations naming a directory and one below it, read
    # recursively) is read once, as Alembic reads it
    unique: dict[Path, Path] = {}
    for revision_path in found.revisions:
        unique.setdefault(revision_path.resolve(), revision_path)
    found.revisions = list(unique.values())
    seen: set[tuple[int, int] | None] = set()
    if config.verify.bootstrap_sql:  # the schema made out of band: no migration
        bootstrap = config.located("verify.bootstrap-sql", config.verify.bootstrap_sql)
        if (identity := _identity(Path(bootstrap))) is not None:
            seen.add(identity)
    pending = [p for p in sql_files if not _excluded(p, config)]
    ups = [p for p in pending if p.name.endswith(".up.sql")]
    paired = {_identity(_down_partner(p)) for p in ups} - {None}
    for path in pending:
        key = _identity(path)  # the same file given twice, or through a link, is linted once
        if key in seen or (path.name.endswith(".down.sql") and key in paired):
            continue
        seen.add(key)
        found.sources.append(sql_source_for(path))
    return found


def _discover_directory(path: Path, config: Config, found: Discovered) -> list[Path]:
    """Add the revision files and unread files under ``path`` to ``found``; its ``.sql``
    files (in an Alembic project, those of its versions directories only)."""
    ini = project_ini(path, config)
    declared = revision_directories(ini, config.alembic_name) if ini else []
    declared = [d for d in declared if d.is_dir()]
    recursive = bool(declared) and ini is not None and is_recursive(ini, config.alembic_name)
    sql_below, versions_below, unread = _walk(path)
    found.unread.extend(unread)
    if declared:  # an Alembic project: its .sql files elsewhere are fixtures and dumps
        sql_below = [f for f in sql_below if any(f.resolve().is_relative_to(d) for d in declared)]
    from migproof.chain.graph import iter_python_files  # the chain package: not for SQL files

    for versions in declared or versions_below:
        files = iter_python_files([versions], recursive=recursive)
        # every file of a declared directory; elsewhere, those that look like revisions
        found.revisions.extend(
            sorted((p for p in files if declared or _is_revision(p)), key=natural_order)
        )
    return sql_below


def _identity(path: Path) -> tuple[int, int] | None:
    """The file's device and inode; None when it does not exist (reading it will say why)."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _down_partner(path: Path) -> Path:
    return path.with_name(path.name[: -len(".up.sql")] + ".down.sql").resolve()


def _read(path: Path) -> str:
    try:
        # bytes decoded at once: read_text's text layer takes three times as long
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path} is not UTF-8 text: {exc.reason}", fix="save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    if "\r" in text:  # universal newlines, as read_text reads them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def sql_source_for(path: Path) -> SqlSource:
    """One migration file as a source, with its downgrade when the layout has one.

    Sections and transactions are read as the SQL runner reads them: ``-- migproof:
    no-transaction`` (and goose's and dbmate's own markers) run the file outside a transaction.
    """
    text = _read(path)
    if not path.name.endswith(".up.sql") and _SECTION_MARKER.search(text) is None:
        return SqlSource(text, path)  # no goose or dbmate sections: the runner's reader would agree
    # imported here: the runner's package loads psycopg, which linting files never needs
    from migproof.sqlmigrate.layout import NO_TRANSACTION_DIRECTIVE, split_sections

    if path.name.endswith(".up.sql"):
        partner = _down_partner(path)
        down = _read(partner) if partner.is_file() else None
        return SqlSource(
            text,
            path,
            down_sql=down,
            down_path=partner if down else None,
            whole_file_query=NO_TRANSACTION_DIRECTIVE.search(text) is None,
        )
    sections = split_sections(text)
    if sections is None:
        return SqlSource(text, path)
    up, up_line, down, down_line, no_transaction = sections
    return SqlSource(
        up,
        path,
        line_offset=up_line - 1,
        down_sql=down,
        down_path=path,
        down_line_offset=down_line - 1,
        in_transaction=not no_transaction,
    )


def projects_of(
    files: Sequence[Path], configured: Callable[[Path], Config]
) -> list[tuple[Path, frozenset[Path]]]:
    """The Alembic projects revision files given one by one belong to (the nearest
    directory above each whose alembic.ini's versions directories hold it), each with the
    files of it given: pre-commit passes the revision files a commit changes, and their SQL
    is only known by running the chain up to them. ``configured(directory)`` is the
    configuration found from there."""
    found: dict[Path, set[Path]] = {}
    # a directory's project: its versions directories, or None when it has no alembic.ini;
    # asked once per directory (files share their parents, and a config is read each time)
    projects: dict[Path, list[Path] | None] = {}
    for file in files:
        path = file.resolve()
        for directory in path.parents:
            if directory not in projects:
                projects[directory] = _versions_of(directory, configured(directory))
            versions = projects[directory]
            if versions is None:
                continue
            if any(path.is_relative_to(v) for v in versions):
                found.setdefault(directory, set()).add(path)
            break  # the nearest project decides
    return [(directory, frozenset(paths)) for directory, paths in found.items()]


def _versions_of(directory: Path, config: Config) -> list[Path] | None:
    """The versions directories of the Alembic project in ``directory``; None when there
    is none ([] when its alembic.ini cannot be read)."""
    ini = project_ini(directory, config)
    if ini is None:
        return None
    try:
        return revision_directories(ini, config.alembic_name)
    except ConfigError:
        return []
