"""Metadata of every check migproof makes: one id space for verify, lint, guard and runner.

A check registers where it is written (a lint rule through ``lint.registry.rule``, a verify
check with ``register_check`` at module level); ``all_checks`` imports the modules that
hold checks so that ``migproof rules`` lists every one.

Codes are ``MP`` + three digits, a family per hundred, never reused:

======  ==========================================================
MP0xx   verify: revision graph, imports, upgrade, round trip
MP1xx   verify: data preservation, models / schema-file / bootstrap parity, lock file
MP2xx   lint: locking (lock-heavy DDL, index builds, constraint validation)
MP3xx   lint: table rewrites and unsafe type changes
MP4xx   lint: compatibility with running code (renames, drops)
MP5xx   lint: integrity and Alembic (FK types and indexes, enums, revision ids, connections)
MP6xx   lint: advisory, off by default (json vs jsonb, varchar(n), timestamp without tz)
MP7xx   guard: schema changes without migrations, forked heads, edited migrations
MP8xx   sql runner: duplicate versions, renamed or changed applied files, failures
MP9xx   meta: parse errors, unknown or unused suppressions
======  ==========================================================
"""

from __future__ import annotations

import difflib
import functools
import importlib
import pkgutil
import re
from dataclasses import dataclass

from migproof.errors import ConfigError
from migproof.findings import Severity

__all__ = ["CheckInfo", "all_checks", "find_check", "register_check", "resolve_check"]

_CODE = re.compile(r"^MP\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

# Packages whose modules hold checks; importing them registers every check.
_CHECK_PACKAGES = ("migproof.verify", "migproof.lint.rules", "migproof.sqlmigrate")
_CHECK_MODULES = ("migproof.guard", "migproof.lint.engine")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckInfo:
    """What a check is called, how bad its findings are by default, and its documentation.

    ``docs`` is Markdown with the sections ``## What it does``, ``## Why is this bad?``,
    ``## PostgreSQL versions`` and, where it applies, ``## With Alembic``.
    ``aliases`` are other tools' names for the same hazard (squawk's rule names).
    """

    code: str
    name: str
    summary: str
    severity: Severity
    family: str
    docs: str = ""
    aliases: tuple[str, ...] = ()
    enabled_by_default: bool = True


_REGISTRY: dict[str, CheckInfo] = {}
_BY_KEY: dict[str, CheckInfo] = {}  # lower-case code, name or alias -> the first check with it


def register_check(info: CheckInfo) -> CheckInfo:
    """Add a check to the registry; codes and names are unique and never reused."""
    if not _CODE.match(info.code):
        raise ValueError(f"check code {info.code!r} is not MP + three digits")
    if not _NAME.match(info.name):
        raise ValueError(f"check name {info.name!r} is not kebab-case")
    existing = _REGISTRY.get(info.code)
    if existing is not None and existing != info:
        raise ValueError(f"check code {info.code} is registered twice")
    for other in _REGISTRY.values():
        if other.code != info.code and info.name in (other.name, *other.aliases):
            raise ValueError(f"check name {info.name!r} is taken by {other.code}")
    _REGISTRY[info.code] = info
    for key in (info.code, info.name, *info.aliases):
        _BY_KEY.setdefault(key.lower(), info)
    return info


@functools.cache
def _import_check_modules() -> None:
    """Import every module that holds checks, once: a lookup after that is only a lookup."""
    for package_name in _CHECK_PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        for module in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
            importlib.import_module(module.name)
    for module_name in _CHECK_MODULES:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise


def all_checks() -> list[CheckInfo]:
    """Every registered check, sorted by code."""
    _import_check_modules()
    return sorted(_REGISTRY.values(), key=lambda info: info.code)


def find_check(code_or_name: str) -> CheckInfo | None:
    """The check with this code, name or alias (case-insensitive), or None."""
    _import_check_modules()
    return _BY_KEY.get(code_or_name.strip().lower())


def resolve_check(code_or_name: str, *, where: str) -> CheckInfo:
    """Like ``find_check``, but an unknown check is a ``ConfigError`` naming the nearest one."""
    info = find_check(code_or_name)
    if info is not None:
        return info
    known = [name for i in _REGISTRY.values() for name in (i.code, i.name, *i.aliases)]
    nearest = difflib.get_close_matches(code_or_name, known, n=1)
    fix = f"did you mean {nearest[0]!r}?" if nearest else "run `migproof rules` for the list"
    raise ConfigError(f"unknown check {code_or_name!r} in {where}", fix=fix)
