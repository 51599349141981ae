"""Find the migrations under the paths a user gives, in the order they run.

- ``.sql`` files, directories searched recursively (hidden and virtualenv directories
  skipped), sorted with numbers compared as numbers (``2_x.sql`` before ``10_x.sql``);
- golang-migrate pairs: ``N_name.up.sql`` is linted with ``N_name.down.sql`` as its
  downgrade; dbmate (``-- migrate:up`` / ``-- migrate:down``) and goose (``-- +goose Up``
  / ``-- +goose Down``) files are split into their two sections, which their tools run in
  a transaction unless the file says otherwise;
- a directory with ``alembic.ini``: the revision files of its versions directories;
  ``.py`` files given directly are read as revision files.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migproof.config import Config
from migproof.errors import SourceError
from migproof.lint.revisions import revision_directories
from migproof.lint.source import SqlSource

__all__ = ["Discovered", "discover", "sql_source_for"]

_SKIP_DIRS = frozenset(
    {"node_modules", "__pycache__", "venv", "site-packages", "build", "dist", "target"}
)
_DBMATE_UP = re.compile(r"^--\s*migrate:up\b(?P<options>.*)$", re.MULTILINE)
_DBMATE_DOWN = re.compile(r"^--\s*migrate:down\b.*$", re.MULTILINE)
_GOOSE_UP = re.compile(r"^--\s*\+goose\s+up\b.*$", re.MULTILINE | re.IGNORECASE)
_GOOSE_DOWN = re.compile(r"^--\s*\+goose\s+down\b.*$", re.MULTILINE | re.IGNORECASE)
_GOOSE_NO_TXN = re.compile(r"^--\s*\+goose\s+no\s+transaction\b", re.MULTILINE | re.IGNORECASE)
_NUMBER = re.compile(r"(\d+)")


@dataclass(slots=True)
class Discovered:
    sources: list[SqlSource] = field(default_factory=list)
    revisions: list[Path] = field(default_factory=list)


def _natural(path: Path) -> tuple[object, ...]:
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


def _walk_sql(directory: Path) -> list[Path]:
    found: list[Path] = []
    for path in directory.rglob("*.sql"):
        relative = path.relative_to(directory).parts[:-1]
        if any(p.startswith(".") or p in _SKIP_DIRS for p in relative):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found, key=_natural)


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
            ini = path / config.alembic_config
            if ini.is_file():
                for versions in revision_directories(ini, config.alembic_name):
                    found.revisions.extend(
                        sorted(
                            (p for p in versions.glob("*.py") if p.name != "__init__.py"),
                            key=_natural,
                        )
                    )
            sql_files.extend(_walk_sql(path))
        elif path.suffix == ".py":
            found.revisions.append(path)
        elif path.suffix == ".sql":
            sql_files.append(path)
        else:
            raise SourceError(
                f"{path} is neither a .sql file, an Alembic revision (.py) nor a directory",
                fix="pass .sql files, revision files or directories",
            )
    seen: set[Path] = set()
    pending = [p for p in sql_files if not _excluded(p, config)]
    paired = {_down_partner(p) for p in pending if p.name.endswith(".up.sql")}
    for path in pending:
        key = path.resolve()
        if key in seen or (path.name.endswith(".down.sql") and key in paired):
            continue
        seen.add(key)
        found.sources.append(sql_source_for(path))
    return found


def _down_partner(path: Path) -> Path:
    return path.with_name(path.name[: -len(".up.sql")] + ".down.sql").resolve()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path} is not UTF-8 text: {exc.reason}", fix="save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc


def sql_source_for(path: Path) -> SqlSource:
    """One migration file as a source, with its downgrade when the layout has one."""
    text = _read(path)
    if path.name.endswith(".up.sql"):
        partner = _down_partner(path)
        down = _read(partner) if partner.is_file() else None
        return SqlSource(
            text, path, down_sql=down, down_path=partner if down else None, whole_file_query=True
        )
    split = _split_sections(text, _DBMATE_UP, _DBMATE_DOWN)
    if split is not None:
        up, down, down_offset = split
        up_marker = _DBMATE_UP.search(text)
        in_txn = up_marker is None or "transaction:false" not in up_marker["options"]
        return SqlSource(
            up,
            path,
            down_sql=down,
            down_path=path,
            down_line_offset=down_offset,
            in_transaction=in_txn,
        )
    split = _split_sections(text, _GOOSE_UP, _GOOSE_DOWN)
    if split is not None:
        up, down, down_offset = split
        in_txn = _GOOSE_NO_TXN.search(text) is None
        return SqlSource(
            up,
            path,
            down_sql=down,
            down_path=path,
            down_line_offset=down_offset,
            in_transaction=in_txn,
        )
    return SqlSource(text, path)


def _split_sections(
    text: str, up: re.Pattern[str], down: re.Pattern[str]
) -> tuple[str, str, int] | None:
    """(up text, down text, lines before the down text); None without the markers."""
    up_match = up.search(text)
    if up_match is None:
        return None
    down_match = down.search(text)
    if down_match is None:
        return text, "", 0
    if down_match.start() < up_match.start():  # down first: keep line numbers by blanking
        head = text[: up_match.start()]
        up_text = "\n" * head.count("\n") + text[up_match.start() :]
        down_text = text[down_match.start() : up_match.start()]
        return up_text, down_text, text[: down_match.start()].count("\n")
    return (
        text[: down_match.start()],
        text[down_match.start() :],
        text[: down_match.start()].count("\n"),
    )
