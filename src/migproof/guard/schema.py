"""MP701 and MP706: schema-bearing files that change the schema, decided on parsed code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from migproof.findings import Finding, Location
from migproof.guard.codes import SCHEMA_CHANGE_WITHOUT_MIGRATION, SCHEMA_FILE_UNPARSABLE
from migproof.guard.context import GuardContext
from migproof.guard.gitdiff import Change, grep_files
from migproof.guard.models import (
    SchemaDelta,
    compare_declarations,
    extract_declarations,
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
    for change in context.candidates:
        if change.path.endswith(".py") and not context.project.is_schema_sql(change.path):
            python.append(change)
            result = _python_file(context, change)
        else:
            result = _sql_file(context, change)
        if result is not None and (result.deltas or result.error):
            results.append(result)
    results.extend(_enum_modules(context, python, results))
    return results


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


def _python_file(context: GuardContext, change: Change) -> SchemaFileResult | None:
    project = context.project
    by_glob = project.has_model_globs
    head_source = context.head_text(change)
    base_source = context.base_text(change)
    if not (
        _is_python_candidate(context, change)
        and (_may_declare(head_source) or _may_declare(base_source))
        and (by_glob or project.is_in_env_scope(change.path) is not False)
    ):
        return None
    try:
        head = extract_declarations(head_source) if head_source is not None else {}
    except RecursionError:
        return SchemaFileResult(change.path, error=("too deeply nested to compare", 1))
    except (SyntaxError, ValueError) as exc:
        if by_glob or project.is_in_env_scope(change.path):
            line = getattr(exc, "lineno", None) or 1
            return SchemaFileResult(change.path, error=(f"invalid Python: {exc.args[0]}", line))
        return None
    try:
        base = extract_declarations(base_source) if base_source is not None else {}
    except (SyntaxError, ValueError, RecursionError):
        base = {}  # the base version was already broken: everything at HEAD is new
    if not head and not base:
        return None
    return SchemaFileResult(change.path, tuple(compare_declarations(base, head)), is_models=True)


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
    context: GuardContext, changes: list[Change], results: list[SchemaFileResult]
) -> Iterator[SchemaFileResult]:
    """Python enums changed in one module and used by a model column in another.

    ``status = mapped_column(sa.Enum(Status))`` with ``Status`` imported from shop/enums.py:
    the enum's members are the database type's labels, though shop/enums.py declares no
    table. The modules that use a changed enum are found with one ``git grep`` for its name
    at HEAD, then parsed to see that a declaration refers to it by its qualified name.
    """
    changed = _changed_enums(context, changes, results)
    if not changed:
        return
    names = sorted({qualified.rsplit(".", 1)[1] for qualified in changed})
    users = [
        path
        for path in grep_files(context.toplevel, context.diff.head, names)
        if _may_use_enums(context, path)
    ]
    context.objects.prefetch_texts(context.diff.head, users)
    found: dict[str, dict[SchemaDelta, None]] = {}  # enum module -> its deltas, in order
    for path in users:
        source = context.objects.text(context.diff.head, path)
        if source is None or not _may_declare(source):
            continue
        module = context.project.module_name(path)
        try:
            decls = extract_declarations(source, module[1] if module else None)
        except (SyntaxError, ValueError, RecursionError):
            continue
        for qualified, (enum_path, deltas) in changed.items():
            if enum_path != path and uses_name(decls, qualified):
                for delta in deltas:
                    used = f"{delta.description} (used by a column in {path})"
                    found.setdefault(enum_path, {})[SchemaDelta(used, delta.line)] = None
    for path, unique in found.items():
        yield SchemaFileResult(path, tuple(unique), is_models=True)


def _changed_enums(
    context: GuardContext, changes: list[Change], results: list[SchemaFileResult]
) -> dict[str, tuple[str, list[SchemaDelta]]]:
    """Qualified name of each Python enum whose members changed -> (its file, the changes);
    enums its own file already reported (a column there uses them) are left out."""
    reported = {(r.path, d.description) for r in results for d in r.deltas}
    changed: dict[str, tuple[str, list[SchemaDelta]]] = {}
    for change in changes:
        if change.status not in "MR" or is_test_path(change.path):
            continue
        module = context.project.module_name(change.path)
        head_source, base_source = context.head_text(change), context.base_text(change)
        if module is None or head_source is None or base_source is None:
            continue
        if "enum" not in head_source.lower():
            continue  # no `import enum`, no `from enum import ...`: no Python enum here
        try:
            head, base = python_enums(head_source), python_enums(base_source)
        except (SyntaxError, ValueError, RecursionError):
            continue  # not comparable: a models file's syntax error is MP706 already
        for delta in compare_declarations(base, head):
            key, _, what = delta.description.partition(": ")
            if what in ("added", "removed") or (change.path, delta.description) in reported:
                continue  # a new or deleted enum changes its users, which report that
            qualified = f"{module[0]}.{key.removeprefix('enum class ')}"
            changed.setdefault(qualified, (change.path, []))[1].append(delta)
    return changed


def _may_use_enums(context: GuardContext, path: str) -> bool:
    """A file whose declarations count: a models glob, or env.py's scope (not tests)."""
    project = context.project
    if project.has_model_globs:
        return project.is_model_by_glob(path)
    return not is_test_path(path) and project.is_in_env_scope(path) is not False
