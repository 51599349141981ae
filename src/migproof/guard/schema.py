"""MP701 and MP706: schema-bearing files that change the schema, decided on parsed code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from migproof.findings import Finding, Location
from migproof.guard.codes import SCHEMA_CHANGE_WITHOUT_MIGRATION, SCHEMA_FILE_UNPARSABLE
from migproof.guard.context import GuardContext
from migproof.guard.gitdiff import Change, grep_files
from migproof.guard.models import (
    Declaration,
    DeltaKind,
    ModelModule,
    SchemaDelta,
    Symbols,
    compare_declarations,
    python_enums,
    uses_name,
)
from migproof.guard.project import is_test_path

__all__ = ["SchemaFileResult", "check_schema_files", "schema_changes"]

_DECLARING_NAMES = ("sqlalchemy", "sqlmodel", "db", "__table")


@dataclass(frozen=True, slots=True)
class SchemaFileResult:
    """One schema-bearing file's differences, or why it could not be compared."""

    path: str
    deltas: tuple[SchemaDelta, ...] = ()
    error: tuple[str, int] | None = None  # message, line
    is_models: bool = False  # SQLAlchemy declarations (autogenerate can write the migration)


def schema_changes(context: GuardContext) -> list[SchemaFileResult]:
    """Every changed schema-bearing file whose declarations differ (or that does not parse)."""
    results: list[SchemaFileResult] = []
    context.prefetch(context.candidates)
    python: list[Change] = []
    parsed: dict[str, _Compared] = {}  # each models file parsed, by path: parsed once
    for change in context.candidates:
        if change.path.endswith(".py") and not context.project.is_schema_sql(change.path):
            python.append(change)
            result = _python_file(context, change, parsed)
        else:
            result = _sql_file(context, change)
        if result is not None and (result.deltas or result.error):
            results.append(result)
    declaring = {path: item for path, item in parsed.items() if item.base or item.head}
    results = _moved_declarations(context, declaring, results)
    results.extend(_enum_modules(context, python, results, parsed))
    return results


@dataclass(frozen=True, slots=True)
class _Compared:
    """Both versions of a models file, each parsed once and kept for the comparisons across
    files (moves, enums); a version is None when absent or, at the base, unparsable."""

    change: Change
    base_module: ModelModule | None
    head_module: ModelModule | None

    @property
    def base(self) -> dict[str, Declaration]:
        return self.base_module.declarations if self.base_module is not None else {}

    @property
    def head(self) -> dict[str, Declaration]:
        return self.head_module.declarations if self.head_module is not None else {}


def check_schema_files(context: GuardContext, results: list[SchemaFileResult]) -> Iterator[Finding]:
    """MP701 for each difference when no migration was added; MP706 for unparsable files."""
    where = context.expected_migration()
    has_migration = context.has_new_migration()
    ref = context.diff.ref
    for result in results:
        if result.error is not None:
            message, line = result.error
            yield Finding(
                check=SCHEMA_FILE_UNPARSABLE.code,
                severity=SCHEMA_FILE_UNPARSABLE.severity,
                message=f"cannot compare the schema this file declares: {message}",
                fix="correct the syntax error",
                location=Location(path=Path(result.path), line=line),
            )
            continue
        if has_migration:
            continue
        for delta in result.deltas:
            suffix = f" (line {delta.line} in {ref}'s version)" if delta.in_base else ""
            yield Finding(
                check=SCHEMA_CHANGE_WITHOUT_MIGRATION.code,
                severity=SCHEMA_CHANGE_WITHOUT_MIGRATION.severity,
                message=f"schema change without a migration: {delta.description}{suffix}",
                fix=f"add a new migration in {where} that makes this change"
                + (" (alembic revision --autogenerate)" if result.is_models else ""),
                location=Location(path=Path(result.path), line=delta.line),
            )


def _is_python_candidate(context: GuardContext, change: Change) -> bool:
    """Configured ``models`` globs decide; without them, any non-test file may declare tables."""
    project = context.project
    if not project.has_model_globs:
        return not is_test_path(change.path)
    return project.is_model_by_glob(change.path) or (
        change.old_path is not None and project.is_model_by_glob(change.old_path)
    )


def _may_declare(source: str | None) -> bool:
    """False only when the extractor is sure to find nothing: no name it resolves appears.

    A shortcut, not the decision: files that pass are parsed and compared declaration by
    declaration. Without one of these names, nothing resolves to SQLAlchemy and no class
    has a ``__tablename__``.
    """
    return source is not None and any(token in source for token in _DECLARING_NAMES)


def _python_file(
    context: GuardContext, change: Change, compared: dict[str, _Compared]
) -> SchemaFileResult | None:
    project = context.project
    by_glob = project.has_model_globs
    head_source = context.head_text(change)
    base_source = context.base_text(change)
    # A deleted file is in no import at HEAD, which cannot tell whether env.py reached it at
    # the base: unknown, so compared (dropping a models module drops its tables).
    if not (
        _is_python_candidate(context, change)
        and (_may_declare(head_source) or _may_declare(base_source))
        and (by_glob or change.status == "D" or project.is_in_env_scope(change.path) is not False)
    ):
        return None
    head_package = _package(context, change.path)
    base_package = _package(context, change.old_path or change.path)
    try:
        head = ModelModule(head_source, head_package) if head_source is not None else None
    except RecursionError:
        return SchemaFileResult(change.path, error=("too deeply nested to compare", 1))
    except (SyntaxError, ValueError) as exc:
        if by_glob or project.is_in_env_scope(change.path):
            line = getattr(exc, "lineno", None) or 1
            return SchemaFileResult(change.path, error=(f"invalid Python: {exc.args[0]}", line))
        return None
    try:
        base = ModelModule(base_source, base_package) if base_source is not None else None
    except (SyntaxError, ValueError, RecursionError):
        base = None  # the base version was already broken: everything at HEAD is new
    item = compared[change.path] = _Compared(change, base, head)
    if not item.head and not item.base:
        return None
    deltas = _without_enum_usage(compare_declarations(item.base, item.head), item)
    return SchemaFileResult(change.path, tuple(deltas), is_models=True)


def _package(context: GuardContext, path: str) -> str | None:
    """What the file's relative imports are relative to, so that ``from .enums import X``
    and ``from shop.enums import X`` render alike in every comparison."""
    module = context.project.module_name(path)
    return module[1] if module is not None else None


def _without_enum_usage(deltas: list[SchemaDelta], item: _Compared) -> list[SchemaDelta]:
    """Drop 'enum class X: added/removed' when X is defined here in both versions: only its
    use by this file's columns came or went (a model moved away), and those columns report;
    a change of its members, when another module's column uses it, is _enum_modules's."""
    if item.base_module is None or item.head_module is None:
        return deltas
    defined = item.base_module.enums.keys() & item.head_module.enums.keys()
    return [d for d in deltas if not (d.is_whole and d.key in defined)]


def _moved_declarations(
    context: GuardContext, compared: dict[str, _Compared], results: list[SchemaFileResult]
) -> list[SchemaFileResult]:
    """A declaration removed from one changed file and added to another was moved: compare
    the two (a refactoring leaves them equal) instead of reporting 'removed' and 'added'.

    The moved declaration is extracted again with the names the changed modules define
    (``from shop.models import Base`` where it was ``Base`` itself), as they render them.
    """
    removed: dict[str, list[str]] = {}
    added: dict[str, list[str]] = {}
    for path, item in compared.items():
        for key in item.base.keys() - item.head.keys():
            removed.setdefault(key, []).append(path)
        for key in item.head.keys() - item.base.keys():
            added.setdefault(key, []).append(path)
    moves = {
        key: (removed[key][0], added[key][0])
        for key in sorted(removed.keys() & added.keys())
        if len(removed[key]) == 1 and len(added[key]) == 1 and " #" not in key  # named ones
    }
    if not moves:
        return results
    base_symbols, head_symbols = _changed_symbols(context, compared)
    deltas = {r.path: list(r.deltas) for r in results if r.is_models and r.error is None}
    extracted: dict[tuple[str, bool], dict[str, Declaration]] = {}
    for key, (old_path, new_path) in moves.items():
        old = _extract_again(compared[old_path], base_symbols, extracted, at_head=False)
        new = _extract_again(compared[new_path], head_symbols, extracted, at_head=True)
        if key not in old or key not in new:
            continue
        gone = SchemaDelta(key, DeltaKind.REMOVED, compared[old_path].base[key].line, in_base=True)
        came = SchemaDelta(key, DeltaKind.ADDED, compared[new_path].head[key].line)
        if gone not in deltas.get(old_path, ()) or came not in deltas.get(new_path, ()):
            continue
        deltas[old_path].remove(gone)
        deltas[new_path].remove(came)
        for delta in compare_declarations({key: old[key]}, {key: new[key]}):
            deltas[old_path if delta.in_base else new_path].append(delta)
    out: list[SchemaFileResult] = []
    for result in results:
        if result.path in deltas:
            kept = deltas.pop(result.path)
            if kept:
                out.append(SchemaFileResult(result.path, tuple(kept), is_models=True))
        else:
            out.append(result)
    return out


def _changed_symbols(
    context: GuardContext, compared: dict[str, _Compared]
) -> tuple[Symbols, Symbols]:
    """The names each changed models module defines, at the merge base and at HEAD."""
    base: Symbols = {}
    head: Symbols = {}
    for path, item in compared.items():
        for parsed, where, symbols in (
            (item.base_module, item.change.old_path or path, base),
            (item.head_module, path, head),
        ):
            module = context.project.module_name(where)
            if parsed is None or module is None:
                continue
            try:
                symbols.update(parsed.symbols(module[0]))
            except RecursionError:
                continue
    return base, head


def _extract_again(
    item: _Compared,
    symbols: Symbols,
    cache: dict[tuple[str, bool], dict[str, Declaration]],
    *,
    at_head: bool,
) -> dict[str, Declaration]:
    path = item.change.path if at_head else item.change.old_path or item.change.path
    if (path, at_head) not in cache:
        parsed = item.head_module if at_head else item.base_module
        try:
            decls = parsed.declarations_with(symbols) if parsed is not None else {}
        except RecursionError:
            decls = {}
        cache[(path, at_head)] = decls
    return cache[(path, at_head)]


def _sql_file(context: GuardContext, change: Change) -> SchemaFileResult | None:
    project = context.project
    configured = bool(project.schema_sql_globs)
    if configured and not project.is_schema_sql(change.path):
        return None
    if not configured and is_test_path(change.path):
        return None
    from migproof.guard.sqlfiles import compare_sql, python_sql_statements, schema_statements
    from migproof.lint.pgsql import SqlSyntaxError

    read = python_sql_statements if change.path.endswith(".py") else schema_statements
    head_source = context.head_text(change)
    base_source = context.base_text(change)
    try:
        head = read(head_source) if head_source is not None else []
    except (SqlSyntaxError, SyntaxError) as exc:
        if configured:
            what = "SQL" if isinstance(exc, SqlSyntaxError) else "Python"
            line = exc.line if isinstance(exc, SqlSyntaxError) else (exc.lineno or 1)
            message = exc.message if isinstance(exc, SqlSyntaxError) else exc.msg
            return SchemaFileResult(change.path, error=(f"invalid {what}: {message}", line))
        return None  # not known to be a schema file (a template, a dbt model): not ours to judge
    try:
        base = read(base_source) if base_source is not None else []
    except (SqlSyntaxError, SyntaxError):
        base = []
    if not configured and not head and not base:
        return None
    return SchemaFileResult(change.path, tuple(compare_sql(base, head)))


def _enum_modules(
    context: GuardContext,
    changes: list[Change],
    results: list[SchemaFileResult],
    compared: dict[str, _Compared],
) -> Iterator[SchemaFileResult]:
    """Python enums changed in one module and used by a model column in another.

    ``status = mapped_column(sa.Enum(Status))`` with ``Status`` imported from shop/enums.py:
    the enum's members are the database type's labels, though shop/enums.py declares no
    table. The modules that use a changed enum are found with one ``git grep`` for its name
    at HEAD, then parsed to see that a declaration refers to it by its qualified name.
    """
    changed = _changed_enums(context, changes, results, compared)
    if not changed:
        return
    names = sorted({qualified.rsplit(".", 1)[1] for qualified in changed})
    users = [
        path
        for path in grep_files(context.toplevel, context.diff.head, names)
        if _may_use_enums(context, path)
    ]
    context.objects.prefetch_texts(context.diff.head, [p for p in users if p not in compared])
    found: dict[str, dict[SchemaDelta, None]] = {}  # enum module -> its deltas, in order
    for path in users:
        decls = _declarations_at_head(context, path, compared)
        if decls is None:
            continue
        for qualified, (enum_path, deltas) in changed.items():
            if enum_path != path and uses_name(decls, qualified):
                for delta in deltas:
                    used = replace(delta, note=f" (used by a column in {path})")
                    found.setdefault(enum_path, {})[used] = None
    for path, unique in found.items():
        yield SchemaFileResult(path, tuple(unique), is_models=True)


def _declarations_at_head(
    context: GuardContext, path: str, compared: dict[str, _Compared]
) -> dict[str, Declaration] | None:
    """A file's declarations at HEAD, as compared already when it changed (same blob)."""
    item = compared.get(path)
    if item is not None:
        return item.head
    source = context.objects.text(context.diff.head, path)
    if source is None or not _may_declare(source):
        return None
    try:
        return ModelModule(source, _package(context, path)).declarations
    except (SyntaxError, ValueError, RecursionError):
        return None


def _changed_enums(
    context: GuardContext,
    changes: list[Change],
    results: list[SchemaFileResult],
    compared: dict[str, _Compared],
) -> dict[str, tuple[str, list[SchemaDelta]]]:
    """Qualified name of each Python enum whose members changed -> (its file, the changes);
    enums its own file already reported (a column there uses them) are left out."""
    reported = {(r.path, d.key, d.member, d.kind) for r in results for d in r.deltas}
    changed: dict[str, tuple[str, list[SchemaDelta]]] = {}
    for change in changes:
        if change.status not in "MR" or is_test_path(change.path):
            continue
        module = context.project.module_name(change.path)
        enums = _enums_of(context, change, compared) if module is not None else None
        if module is None or enums is None:
            continue
        for delta in compare_declarations(*enums):
            if delta.is_whole or (change.path, delta.key, delta.member, delta.kind) in reported:
                continue  # a new or deleted enum changes its users, which report that
            qualified = f"{module[0]}.{delta.key.removeprefix('enum class ')}"
            changed.setdefault(qualified, (change.path, []))[1].append(delta)
    return changed


# A Python enum's base resolves to enum.Enum & co. only through `import enum` (or an alias of
# it: `import enum as e`) or `from enum import ...`, each of which has the word.
_ENUM_MODULE = re.compile(r"\benum\b")


def _enums_of(
    context: GuardContext, change: Change, compared: dict[str, _Compared]
) -> tuple[dict[str, Declaration], dict[str, Declaration]] | None:
    """The Python enum classes of a changed file's two versions, from the models parsed
    already when it was compared; None when a version is missing or does not parse."""
    item = compared.get(change.path)
    if item is not None:
        if item.base_module is None or item.head_module is None:
            return None
        return item.base_module.enums, item.head_module.enums
    head_source, base_source = context.head_text(change), context.base_text(change)
    if head_source is None or base_source is None:
        return None
    if not _ENUM_MODULE.search(head_source):
        return None  # no `import enum`, no `from enum import ...`: no Python enum here
    try:
        return python_enums(base_source), python_enums(head_source)
    except (SyntaxError, ValueError, RecursionError):
        return None  # not comparable: a models file's syntax error is MP706 already


def _may_use_enums(context: GuardContext, path: str) -> bool:
    """A file whose declarations count: a models glob, or env.py's scope (not tests)."""
    project = context.project
    if project.has_model_globs:
        return project.is_model_by_glob(path)
    return not is_test_path(path) and project.is_in_env_scope(path) is not False
