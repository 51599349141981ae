"""Lint rules register here: one decorated function per rule, dispatched by node class.

Three kinds of rule share one registry and one id space (``checks.py``):

- statement rules (``@rule(..., nodes=(ast.IndexStmt,))``) are called for every node of
  the classes they name, anywhere in a statement's tree, so the engine parses once and
  walks once;
- migration rules (``@migration_rule``) are called once per migration, after its last
  statement, for hazards that need the whole migration (an index created later, a
  ``lock_timeout`` set earlier, the downgrade);
- revision rules (``@revision_rule``) read an Alembic revision file's Python syntax tree.

The rule's docstring is its documentation (sections ``## What it does``, ``## Why is this
bad?``, ``## How to fix``, ``## PostgreSQL versions`` and, where it applies, ``## With
Alembic``); its cases live in ``lint/cases/<CODE>/``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from migproof.checks import CheckInfo, register_check
from migproof.findings import Finding, Severity

if TYPE_CHECKING:
    from migproof.lint.context import MigrationContext, StatementContext
    from migproof.lint.revisions import RevisionFile

__all__ = [
    "REQUIRED_SECTIONS",
    "Rule",
    "all_rules",
    "migration_rule",
    "revision_rule",
    "rule",
]

REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "How to fix", "PostgreSQL versions")

_FAMILIES = {
    "2": "lint: locking",
    "3": "lint: table rewrites and type changes",
    "4": "lint: compatibility with running code",
    "5": "lint: integrity and Alembic",
    "6": "lint: advisory",
    "9": "lint: meta",
}

StatementCheck = Callable[[Any, "StatementContext"], Iterator[Finding]]
MigrationCheck = Callable[["MigrationContext"], Iterator[Finding]]
RevisionCheck = Callable[["RevisionFile"], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered lint rule: its metadata and the function that checks."""

    info: CheckInfo
    kind: str  # "statement", "migration" or "revision"
    check: Callable[..., Iterator[Finding]]
    nodes: tuple[type, ...] = ()
    in_downgrade: bool = False  # also runs over the downgrade SQL (protected schemas)
    # the node kinds it looks at (``Constraint.contype``, ``AlterTableCmd.subtype``): the
    # engine calls it on those alone; None for every node of its classes
    kinds: frozenset[Any] | None = None
    # reports a data statement (INSERT, UPDATE, DELETE, SELECT) only inside a transaction
    # holding a strong lock or a new enum value: the engine builds the others lazily
    data_only_when_held: bool = False

    @property
    def code(self) -> str:
        return self.info.code


_RULES: dict[str, Rule] = {}


def _docs_from(func: Callable[..., object]) -> str:
    return inspect.cleandoc(func.__doc__ or "")


_Check = TypeVar("_Check", bound=Callable[..., Iterator[Finding]])


def _registering(
    kind: str,
    code: str,
    name: str,
    *,
    severity: Severity,
    summary: str,
    aliases: tuple[str, ...],
    enabled: bool,
    nodes: tuple[type, ...] = (),
    kinds: Iterable[Any] | None = None,
    in_downgrade: bool = False,
    data_only_when_held: bool = False,
) -> Callable[[_Check], _Check]:
    """The decorator that registers a rule of ``kind`` and returns its function unchanged."""

    def decorate(func: _Check) -> _Check:
        expected = name.replace("-", "_")
        if func.__name__ != expected:
            raise ValueError(f"rule {code}: function {func.__name__!r} should be {expected!r}")
        info = register_check(
            CheckInfo(
                code=code,
                name=name,
                summary=summary,
                severity=severity,
                family=_FAMILIES.get(code[2], "lint"),
                docs=_docs_from(func),
                aliases=aliases,
                enabled_by_default=enabled,
            )
        )
        _RULES[code] = Rule(
            info=info,
            kind=kind,
            check=func,
            nodes=nodes,
            kinds=None if kinds is None else frozenset(kinds),
            in_downgrade=in_downgrade,
            data_only_when_held=data_only_when_held,
        )
        return func

    return decorate


def rule(
    code: str,
    name: str,
    *,
    severity: Severity,
    nodes: tuple[type, ...],
    summary: str,
    aliases: tuple[str, ...] = (),
    enabled: bool = True,
    kinds: Iterable[Any] | None = None,
    in_downgrade: bool = False,
    data_only_when_held: bool = False,
) -> Callable[[StatementCheck], StatementCheck]:
    """Register a statement rule, called for each node of the classes in ``nodes``.

    ``kinds`` narrows that to the nodes of those kinds, for the classes that have one
    (``Constraint.contype``, ``AlterTableCmd.subtype``): most ALTER TABLE subcommands and
    column constraints concern a rule or two, and calling the others on them costs time.

    ``data_only_when_held=True`` promises the rule reports a data statement only in a
    transaction that holds a strong lock or a new enum value, so the engine may skip building
    data statements elsewhere.
    """
    return _registering(
        "statement",
        code,
        name,
        severity=severity,
        summary=summary,
        aliases=aliases,
        enabled=enabled,
        nodes=nodes,
        kinds=kinds,
        in_downgrade=in_downgrade,
        data_only_when_held=data_only_when_held,
    )


def migration_rule(
    code: str,
    name: str,
    *,
    severity: Severity,
    summary: str,
    aliases: tuple[str, ...] = (),
    enabled: bool = True,
) -> Callable[[MigrationCheck], MigrationCheck]:
    """Register a rule called once per migration, after its last statement."""
    return _registering(
        "migration",
        code,
        name,
        severity=severity,
        summary=summary,
        aliases=aliases,
        enabled=enabled,
    )


def revision_rule(
    code: str,
    name: str,
    *,
    severity: Severity,
    summary: str,
    aliases: tuple[str, ...] = (),
    enabled: bool = True,
) -> Callable[[RevisionCheck], RevisionCheck]:
    """Register a rule over an Alembic revision file's Python syntax tree."""
    return _registering(
        "revision", code, name, severity=severity, summary=summary, aliases=aliases, enabled=enabled
    )


def _load_rules() -> None:
    import importlib
    import pkgutil

    rules = importlib.import_module("migproof.lint.rules")
    for module in pkgutil.iter_modules(rules.__path__, prefix=f"{rules.__name__}."):
        importlib.import_module(module.name)


def all_rules() -> list[Rule]:
    """Every lint rule, sorted by code."""
    _load_rules()
    return [_RULES[code] for code in sorted(_RULES)]
