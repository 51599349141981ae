"""``migproof guard``: no schema change merges without its migration; no database needed.

Reads ``git diff REF...HEAD`` and reports (MP7xx): schema-bearing files whose parsed
declarations changed with no new migration, new revisions that fork the chain, edited
migrations that the base branch already has, and SQL migrations merged out of order.

Importing this package registers the checks; it imports neither SQLAlchemy nor Alembic, and
pglast only once a changed SQL file has to be parsed.
"""

from __future__ import annotations

from migproof.config import Config
from migproof.findings import Report
from migproof.guard import codes
from migproof.guard.context import GuardContext
from migproof.guard.gitdiff import ObjectReader, read_diff
from migproof.guard.migrations import (
    check_edited_migrations,
    check_new_revisions,
    check_new_sql_migrations,
)
from migproof.guard.project import load_project
from migproof.guard.schema import check_schema_files, schema_changes

__all__ = ["codes", "guard"]


def guard(config: Config, base: str) -> Report:
    """Check the changes from the merge base of ``base`` to HEAD; usage problems raise.

    >>> report = guard(load_config(), "origin/main")  # doctest: +SKIP
    >>> [f.check for f in report.findings]  # doctest: +SKIP
    ['MP701']
    """
    diff = read_diff(config.root, base)
    project = load_project(config, diff.toplevel)
    report = Report(command="guard")
    with ObjectReader(diff.toplevel) as objects:
        context = GuardContext.build(diff, project, objects)
        schema = schema_changes(context)
        report.extend(check_schema_files(context, schema))
        report.extend(check_edited_migrations(context))
        report.extend(check_new_revisions(context))
        report.extend(check_new_sql_migrations(context))
    report.records.append(
        {
            "base": base,
            "merge_base": diff.merge_base,
            "head": diff.head,
            "changed_files": len(diff.changes),
            "migration_dirs": [d for d, _ in project.migration_dirs],
            "new_migrations": [c.path for c in context.new_migrations],
            "schema_files_changed": [r.path for r in schema],
        }
    )
    return report
