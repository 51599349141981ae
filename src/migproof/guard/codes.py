"""The guard's checks (MP7xx), registered with ``migproof.checks`` when the package is imported."""

from __future__ import annotations

from migproof.checks import CheckInfo, register_check
from migproof.findings import Severity

__all__ = [
    "APPLIED_MIGRATION_EDITED",
    "DUPLICATE_MIGRATION_VERSION",
    "FORKED_MIGRATION_HEAD",
    "MIGRATION_OUT_OF_ORDER",
    "SCHEMA_CHANGE_WITHOUT_MIGRATION",
    "SCHEMA_FILE_UNPARSABLE",
    "UNKNOWN_DOWN_REVISION",
]


def _guard_check(*, code: str, name: str, summary: str, severity: Severity, docs: str) -> CheckInfo:
    return register_check(
        CheckInfo(
            code=code, name=name, summary=summary, severity=severity, family="guard", docs=docs
        )
    )


SCHEMA_CHANGE_WITHOUT_MIGRATION = _guard_check(
    code="MP701",
    name="schema-change-without-migration",
    summary="A models or schema file changes the schema and no migration was added",
    severity=Severity.ERROR,
    docs="""\
## What it does
Compares the SQLAlchemy declarations (tables, columns, indexes, constraints, enums) of each
changed models file, and the parsed statements of each changed schema SQL file, between the
merge base and HEAD. A difference with no new file in a migration directory is reported at the
declaration's line.
## Why is this bad?
Models say one thing and the migration chain another: CI is green, and the deploy, which
only runs migrations, leaves PostgreSQL without the column the code now reads.
## PostgreSQL versions
All supported versions.
## With Alembic
`alembic revision --autogenerate -m "…"`, then review and commit the new revision.
""",
)

FORKED_MIGRATION_HEAD = _guard_check(
    code="MP702",
    name="forked-migration-head",
    summary="A new revision does not revise the base branch's head: the merge makes two heads",
    severity=Severity.ERROR,
    docs="""\
## What it does
Reads `revision` and `down_revision` of every revision at the merge base and of the new ones
(without importing them) and reports new revisions that would leave the chain with more heads
than the base branch has.
## Why is this bad?
Two heads stop `alembic upgrade head` ("Multiple head revisions are present").
## PostgreSQL versions
All supported versions.
## With Alembic
Point `down_revision` at the base branch's head, or add `alembic merge heads`.
""",
)

APPLIED_MIGRATION_EDITED = _guard_check(
    code="MP703",
    name="applied-migration-edited",
    summary="A migration that exists on the base branch was edited, renamed or deleted",
    severity=Severity.ERROR,
    docs="""\
## What it does
Reports migrations that exist at the merge base and were modified, renamed or deleted. An
Alembic revision whose code is unchanged apart from comments, docstrings or formatting is
not reported; a SQL migration is compared byte for byte, as trackers checksum the file.
Files matching `allow-edited` globs are exempt.
## Why is this bad?
Databases that already applied the old version never run the new one: environments drift.
## PostgreSQL versions
All supported versions.
## With Alembic
Write a new revision that makes the change instead.
""",
)

MIGRATION_OUT_OF_ORDER = _guard_check(
    code="MP704",
    name="migration-out-of-order",
    summary="A new SQL migration is numbered lower than the newest one on the base branch",
    severity=Severity.WARNING,
    docs="""\
## What it does
Compares the version in a new SQL migration's file name with the newest version at the
merge base, in the same directory.
## Why is this bad?
Single-counter trackers (golang-migrate) record only the highest version applied and skip
a migration merged late with a lower number; Flyway refuses it unless `outOfOrder` is set.
## PostgreSQL versions
All supported versions.
""",
)

DUPLICATE_MIGRATION_VERSION = _guard_check(
    code="MP705",
    name="duplicate-migration-version",
    summary="A new migration reuses a revision id or version that already exists",
    severity=Severity.ERROR,
    docs="""\
## What it does
Reports a new Alembic revision whose `revision` id, or a new SQL migration whose version,
is already taken at the merge base or by another new migration.
## Why is this bad?
The tool applies one of them and silently skips, or refuses, the other.
## PostgreSQL versions
All supported versions.
""",
)

SCHEMA_FILE_UNPARSABLE = _guard_check(
    code="MP706",
    name="schema-file-unparsable",
    summary="A changed models, schema or revision file does not parse",
    severity=Severity.ERROR,
    docs="""\
## What it does
Reports a schema-bearing file or new revision that is not valid Python or SQL at HEAD, so
the guard cannot compare its declarations.
## Why is this bad?
Whatever it declares cannot be checked; the file would also fail wherever it is loaded.
## PostgreSQL versions
All supported versions.
""",
)

UNKNOWN_DOWN_REVISION = _guard_check(
    code="MP707",
    name="unknown-down-revision",
    summary="A new revision's down_revision names no revision of the chain",
    severity=Severity.ERROR,
    docs="""\
## What it does
Reports a new revision whose `down_revision` is neither a revision at the merge base nor
another new revision.
## Why is this bad?
Alembic stops with "Revision … referenced from … is not present".
## PostgreSQL versions
All supported versions.
## With Alembic
Set `down_revision` to the base branch's head.
""",
)
