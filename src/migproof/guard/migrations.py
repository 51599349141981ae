"""MP702-MP707 on migration files: forked heads, edited applied migrations, out-of-order SQL."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from migproof.findings import Finding, Location
from migproof.guard.codes import (
    APPLIED_MIGRATION_EDITED,
    DUPLICATE_MIGRATION_VERSION,
    FORKED_MIGRATION_HEAD,
    MIGRATION_OUT_OF_ORDER,
    SCHEMA_FILE_UNPARSABLE,
    UNKNOWN_DOWN_REVISION,
)
from migproof.guard.context import GuardContext, is_migration_file
from migproof.guard.gitdiff import Change
from migproof.guard.revisions import (
    Revision,
    SqlMigrationName,
    base_heads,
    parse_revision,
    parse_sql_migration_name,
)

__all__ = ["check_edited_migrations", "check_new_revisions", "check_new_sql_migrations"]


def _location(path: str, line: int | None = None) -> Location:
    return Location(path=Path(path), line=line)


# ---- edited migrations (MP703) ---------------------------------------------------------------


def check_edited_migrations(context: GuardContext) -> Iterator[Finding]:
    """Migrations present at the merge base that HEAD modified, renamed or deleted."""
    ref = context.diff.ref
    for change in context.changed_migrations:
        old = change.old_path or change.path
        if context.project.is_allowed_edit(old) or context.project.is_allowed_edit(change.path):
            continue
        if old.rsplit("/", 1)[-1].startswith("R__"):
            continue  # Flyway re-applies repeatable migrations whenever they change
        what = _edit_kind(context, change)
        if what is None:
            continue
        yield Finding(
            check=APPLIED_MIGRATION_EDITED.code,
            severity=APPLIED_MIGRATION_EDITED.severity,
            message=f"migration {old} exists on {ref} and was {what}: databases that applied "
            "it will never run the new version",
            fix="restore it and make the change in a new migration, or list it in "
            f"{context.project.allow_edited_setting} if no database has applied it",
            location=_location(change.path if change.status != "D" else old, 1),
        )


def _edit_kind(context: GuardContext, change: Change) -> str | None:
    """'modified', 'renamed to …', 'deleted'; None when the edit cannot matter."""
    if change.status == "D":
        return "deleted"
    is_python = change.path.endswith(".py")
    if change.status == "R":
        moved_out = context.project.migration_dir_of(change.path) is None
        if moved_out or not is_migration_file(change.path):
            return f"moved to {change.path}"
        if is_python and _same_code(context.base_text(change), context.head_text(change)):
            return None  # Alembic finds revisions by id, not by file name
        return f"renamed to {change.path}"
    if is_python and _same_code(context.base_text(change), context.head_text(change)):
        return None  # comments, docstrings or formatting only
    return "modified"


def _same_code(base: str | None, head: str | None) -> bool:
    """Python sources equal once comments, docstrings and formatting are gone."""
    if base is None or head is None:
        return False
    try:
        return _code_dump(base) == _code_dump(head)
    except (SyntaxError, ValueError):
        return False


def _code_dump(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ) and (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body[0] = ast.Pass()
    return ast.dump(tree, include_attributes=False)


# ---- new Alembic revisions (MP702, MP705, MP706, MP707) -------------------------------------


def check_new_revisions(context: GuardContext) -> Iterator[Finding]:
    """New revisions must extend the base branch's head(s) and use unused ids."""
    new: list[Revision] = []
    for parsed in context.new_revision_files():
        if parsed.error is not None:
            yield Finding(
                check=SCHEMA_FILE_UNPARSABLE.code,
                severity=SCHEMA_FILE_UNPARSABLE.severity,
                message=f"new revision file is not valid Python: {parsed.error.args[0]}",
                fix="correct the syntax error",
                location=_location(parsed.change.path, getattr(parsed.error, "lineno", None) or 1),
            )
        elif parsed.revision is not None:
            new.append(parsed.revision)
    if not new:
        return
    base = _base_revisions(context)
    yield from _duplicates(new, base)
    yield from _chain(context, new, base)


def _base_revisions(context: GuardContext) -> list[Revision]:
    """The revisions at REF's tip (not the merge base: the base branch may have moved on)."""
    tip = context.diff.ref_commit
    revisions: list[Revision] = []
    paths = [
        path
        for directory, _ in context.project.migration_dirs
        for path in context.objects.list_files(tip, directory)
        if path.endswith(".py") and is_migration_file(path)
    ]
    context.objects.prefetch_texts(tip, paths)
    for path in paths:
        source = context.objects.text(tip, path)
        if source is None:
            continue
        try:
            revision = parse_revision(source, path)
        except (SyntaxError, ValueError):
            continue  # a broken file on the base branch is verify's to report
        if revision is not None:
            revisions.append(revision)
    return revisions


def _duplicates(new: list[Revision], base: list[Revision]) -> Iterator[Finding]:
    seen = {r.revision: r for r in base}
    for revision in new:
        other = seen.get(revision.revision)
        if other is not None and other.path != revision.path:  # same path: already merged
            yield Finding(
                check=DUPLICATE_MIGRATION_VERSION.code,
                severity=DUPLICATE_MIGRATION_VERSION.severity,
                message=f"revision id {revision.revision!r} is already used by {other.path}",
                fix=f"give {revision.path} a new revision id",
                location=_location(revision.path, 1),
                revision=revision.revision,
            )
        seen.setdefault(revision.revision, revision)


def _chain(context: GuardContext, new: list[Revision], base: list[Revision]) -> Iterator[Finding]:
    ref = context.diff.ref
    base_ids = {r.revision for r in base}
    new_ids = {r.revision for r in new}
    heads_before = base_heads(base)
    head_names = ", ".join(f"{h.revision} ({h.path})" for h in heads_before) or "none"
    for revision in new:
        for parent in revision.down_revisions:
            if parent not in base_ids and parent not in new_ids:
                yield Finding(
                    check=UNKNOWN_DOWN_REVISION.code,
                    severity=UNKNOWN_DOWN_REVISION.severity,
                    message=f"revision {revision.revision} revises {parent}, which is neither "
                    f"on {ref} nor new in this branch",
                    fix=f"set down_revision to the head of {ref}: {head_names}",
                    location=_location(revision.path, revision.line),
                    revision=revision.revision,
                )
    after = [*[r for r in base if r.revision not in new_ids], *new]
    heads_after = base_heads(after)
    if len(heads_after) <= max(len(heads_before), 1):
        return
    for revision in new:
        if revision not in heads_after or revision.branch_labels:
            continue
        if any(p not in base_ids and p not in new_ids for p in revision.down_revisions):
            continue  # already reported as unknown
        message, fix = _fork_text(revision, ref, heads_before, heads_after)
        yield Finding(
            check=FORKED_MIGRATION_HEAD.code,
            severity=FORKED_MIGRATION_HEAD.severity,
            message=message,
            fix=fix,
            location=_location(revision.path, revision.line),
            revision=revision.revision,
        )


def _fork_text(
    revision: Revision, ref: str, heads_before: list[Revision], heads_after: list[Revision]
) -> tuple[str, str]:
    """Why this revision makes another head, and what to point it at."""
    others = [h for h in heads_after if h is not revision]
    listed = ", ".join(f"{h.revision} ({h.path})" for h in others)
    count = {2: "two", 3: "three"}.get(len(heads_after), str(len(heads_after)))
    after = f"after the merge the chain has {count} heads: {revision.revision} and {listed}"
    before_ids = {h.revision for h in heads_before}
    if not revision.down_revisions:
        what = f"revision {revision.revision} has no down_revision (a new root)"
    elif all(p in before_ids for p in revision.down_revisions):
        what = (
            f"revision {revision.revision} revises {', '.join(revision.down_revisions)}, "
            "which another new revision revises too"
        )
    else:
        what = (
            f"revision {revision.revision} revises {', '.join(revision.down_revisions)}, "
            f"which is not a head of {ref}"
        )
    if len(others) == 1:
        fix = (
            f"set down_revision = {others[0].revision!r} in {revision.path}, "
            "or add a merge revision (`alembic merge heads`)"
        )
    else:
        fix = "point down_revision at the chain's head, or add `alembic merge heads`"
    return f"{what}; {after}", fix


# ---- new SQL migrations (MP704, MP705) ---------------------------------------------------------


def check_new_sql_migrations(context: GuardContext) -> Iterator[Finding]:
    """New SQL migrations must not reuse a version, and should sort after the base's newest."""
    by_dir: dict[str, list[tuple[Change, SqlMigrationName]]] = {}
    for change in context.new_migrations:
        name = parse_sql_migration_name(change.path.rsplit("/", 1)[-1])
        directory = context.project.migration_dir_of(change.path)
        if name is None or name.repeatable or directory is None:
            continue
        by_dir.setdefault(directory, []).append((change, name))
    for directory, added in by_dir.items():
        existing = _base_sql_versions(context, directory)
        newest = max(existing, default=None, key=lambda item: item[1].version)
        taken = {n.version: (p, n) for p, n in existing}
        merged = {p for p, _ in existing}
        for change, name in sorted(added, key=lambda item: item[0].path):
            if change.path in merged:
                continue  # the base branch already has this very file
            other = taken.get(name.version)
            if other is not None and other[1].description != name.description:
                yield Finding(
                    check=DUPLICATE_MIGRATION_VERSION.code,
                    severity=DUPLICATE_MIGRATION_VERSION.severity,
                    message=f"version {name.version_text} of {change.path} is already used by "
                    f"{other[0]}",
                    fix="renumber the new migration above the newest one",
                    location=_location(change.path, 1),
                    revision=name.version_text,
                )
            elif newest is not None and name.version < newest[1].version:
                yield Finding(
                    check=MIGRATION_OUT_OF_ORDER.code,
                    severity=MIGRATION_OUT_OF_ORDER.severity,
                    message=f"{change.path} (version {name.version_text}) is numbered lower than "
                    f"{newest[0]} (version {newest[1].version_text}), the newest on "
                    f"{context.diff.ref}: single-counter trackers such as golang-migrate skip it "
                    "on databases already past that version",
                    fix=f"renumber it above {newest[1].version_text}",
                    location=_location(change.path, 1),
                    revision=name.version_text,
                )
            taken.setdefault(name.version, (change.path, name))


def _base_sql_versions(context: GuardContext, directory: str) -> list[tuple[str, SqlMigrationName]]:
    """Versions at REF's tip: what a late merge is compared against."""
    found: list[tuple[str, SqlMigrationName]] = []
    for path in context.objects.list_files(context.diff.ref_commit, directory):
        name = parse_sql_migration_name(path.rsplit("/", 1)[-1])
        if name is not None and not name.repeatable:
            found.append((path, name))
    return found
