"""The runner's checks (MP8xx), registered where they are written, and the findings they make."""

from __future__ import annotations

from collections.abc import Iterator

from migproof.checks import CheckInfo, register_check
from migproof.findings import Finding, Location, Severity
from migproof.sqlmigrate.layout import Migration
from migproof.sqlmigrate.plan import Plan
from migproof.sqlmigrate.tracker import AppliedRow, line_ending_change

__all__ = [
    "CHANGED",
    "DIRTY_LEGACY",
    "DUPLICATE",
    "FAILED",
    "LEGACY_BOOTSTRAP",
    "MISSING",
    "NOT_DRY_RUNNABLE",
    "OUT_OF_ORDER",
    "PENDING",
    "RENAMED",
    "check_findings",
    "missing_finding",
    "plan_findings",
]

_FAMILY = "sql runner"


def _check(code: str, name: str, summary: str, severity: Severity, what: str, why: str) -> str:
    register_check(
        CheckInfo(
            code=code,
            name=name,
            summary=summary,
            severity=severity,
            family=_FAMILY,
            docs=f"## What it does\n{what}\n\n## Why is this bad?\n{why}\n\n"
            "## PostgreSQL versions\nAll supported versions.\n",
        )
    )
    return code


DUPLICATE = _check(
    "MP801",
    "duplicate-version",
    "Two migration files share one version",
    Severity.ERROR,
    "Flags two files in a migration directory with the same version (`103_a.up.sql` and "
    "`103_b.up.sql`, or `V1_1__a.sql` and `V1.1__b.sql`). Nothing is applied.",
    "A tracker keyed by version records only one of them: the other is silently never run, "
    "or run on some databases and not others, depending on which one a deploy saw first.",
)
RENAMED = _check(
    "MP802",
    "renamed-applied-migration",
    "An applied migration's file was renamed",
    Severity.ERROR,
    "Flags a version the tracker records as applied under another name than the file now has. "
    "Nothing is applied.",
    "A rename usually means two branches picked the same number and one was renumbered after "
    "it had already reached a database: the database ran different SQL than the file says.",
)
CHANGED = _check(
    "MP803",
    "changed-applied-migration",
    "An applied migration's file changed (checksum drift)",
    Severity.ERROR,
    "Compares the sha256 of each applied file with the checksum recorded when it was applied. "
    "Nothing is applied while one differs.",
    "Editing an applied migration changes nothing on databases that already ran it, so they "
    "and a fresh database built from the same files quietly disagree.",
)
FAILED = _check(
    "MP804",
    "failed-migration",
    "A migration failed",
    Severity.ERROR,
    "Reports the file, the statement and PostgreSQL's error of a migration that failed while "
    "being applied or dry-run. Its transaction is rolled back: no partial schema, no tracker row.",
    "The deploy stops at the first failure; later migrations may depend on this one.",
)
OUT_OF_ORDER = _check(
    "MP805",
    "out-of-order-migration",
    "A pending migration is older than an applied one (with --strict-order)",
    Severity.ERROR,
    "With `--strict-order` (or `strict-order = true`), flags a pending migration whose version "
    "is lower than the highest applied one, instead of applying it.",
    "Some teams want every database to have run the migrations in one order. Without strict "
    "order migproof applies it: that is the migration a single-counter tracker would skip.",
)
DIRTY_LEGACY = _check(
    "MP806",
    "dirty-legacy-tracker",
    "The legacy tracker records a half-applied migration",
    Severity.ERROR,
    "Refuses to bootstrap from golang-migrate's `schema_migrations` when its `dirty` flag is "
    "set, or from Flyway's history when a row has `success = false`, and prints the recovery "
    "steps.",
    "A dirty tracker means a migration failed partway outside a transaction: the database may "
    "hold part of it, and only a person can say which part.",
)
MISSING = _check(
    "MP807",
    "missing-applied-migration",
    "An applied migration has no file on disk",
    Severity.ERROR,
    "Flags a version the tracker records as applied for which the directory has no file "
    "(an error for `status --check`, a note for `migrate`).",
    "The code deployed does not match the database: a file was deleted or this branch lacks a "
    "migration another branch applied.",
)
PENDING = _check(
    "MP808",
    "pending-migration",
    "A migration on disk is not applied (status --check)",
    Severity.ERROR,
    "For `status --check`: flags every migration on disk that the tracker does not record.",
    "After a deploy the applied set must equal the files shipped; a pending one was skipped.",
)
NOT_DRY_RUNNABLE = _check(
    "MP809",
    "not-dry-runnable",
    "A no-transaction migration cannot be dry-run",
    Severity.INFO,
    "Notes that `dry-run` did not run a migration marked to run outside a transaction "
    "(`-- migproof: no-transaction`, goose's NO TRANSACTION, dbmate's transaction:false).",
    "Its statements (CREATE INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE) cannot be rolled back.",
)
LEGACY_BOOTSTRAP = _check(
    "MP810",
    "legacy-tracker-bootstrap",
    "The applied set was bootstrapped from a legacy tracker",
    Severity.INFO,
    "Notes that the tracking table was empty and the applied set was read from the previous "
    "tool's tracker (golang-migrate, Flyway, dbmate, goose).",
    "golang-migrate keeps one counter, so every on-disk version up to it is taken as applied; "
    "run `migproof status` after switching to see the result.",
)


def _at(migration: Migration) -> Location:
    return Location(path=migration.path, line=1)


def plan_findings(plan: Plan, tracker: str, *, strict_order: bool) -> Iterator[Finding]:
    """The findings that stop a migrate before anything is applied."""
    for group in plan.duplicates:
        row = plan.rows.get(group[0].key)
        # Keep the file the database ran (same name as its row); renumber the others.
        keep = next((m for m in group if row is not None and m.name == row.name), group[0])
        for other in (m for m in group if m is not keep):
            applied = f" (the database ran {keep.path.name})" if row is not None else ""
            yield Finding(
                check=DUPLICATE,
                severity=Severity.ERROR,
                message=f"{other.path.name} and {keep.path.name} share version {keep.key}{applied}",
                fix=f"renumber {other.path.name} to a version no other file uses",
                location=_at(other),
                revision=keep.key,
            )
    for migration, row in plan.renamed:
        yield Finding(
            check=RENAMED,
            severity=Severity.ERROR,
            message=f"version {row.key} was applied as {row.name!r}, but the file is now "
            f"{migration.path.name}",
            fix=f"restore the file name, or, if the database really ran this file, record it: "
            f"UPDATE {tracker} SET name = '{migration.name}' WHERE version = '{row.key}'",
            location=_at(migration),
            revision=row.key,
        )
    for migration, row in plan.changed:
        endings = line_ending_change(migration, row.checksum)
        if endings is not None:
            yield Finding(
                check=CHANGED,
                severity=Severity.ERROR,
                message=f"{migration.path.name} changed after it was applied, but only its line "
                f"endings differ ({endings})",
                fix="check it out with the line endings it was applied with (for LF: "
                "`*.sql text eol=lf` in .gitattributes, then delete the file and check it out "
                "again); if this file is what the database should record: UPDATE "
                f"{tracker} SET checksum = '{migration.checksum}' WHERE version = '{row.key}'",
                location=_at(migration),
                revision=row.key,
            )
            continue
        yield Finding(
            check=CHANGED,
            severity=Severity.ERROR,
            message=f"{migration.path.name} changed after it was applied (sha256 "
            f"{_short(row.checksum)} applied, {_short(migration.checksum)} on disk)",
            fix="restore the file as it was applied (`git log -p` on it) and put the change in a "
            "new migration; if the database already matches the new text: UPDATE "
            f"{tracker} SET checksum = '{migration.checksum}' WHERE version = '{row.key}'",
            location=_at(migration),
            revision=row.key,
        )
    if strict_order:
        for migration in plan.out_of_order:
            yield Finding(
                check=OUT_OF_ORDER,
                severity=Severity.ERROR,
                message=f"{migration.path.name} is pending but higher versions are already "
                "applied (strict order)",
                fix="renumber it above the highest applied version, or drop --strict-order",
                location=_at(migration),
                revision=migration.key,
            )


def check_findings(plan: Plan, tracker: str) -> Iterator[Finding]:
    """The findings of ``status --check``: anything that makes applied != on disk."""
    yield from plan_findings(plan, tracker, strict_order=False)
    for migration in plan.pending:
        yield Finding(
            check=PENDING,
            severity=Severity.ERROR,
            message=f"{migration.path.name} is not applied",
            fix="run `migproof migrate`",
            location=_at(migration),
            revision=migration.key,
        )
    for row in plan.missing:
        yield missing_finding(row, tracker, Severity.ERROR)


def missing_finding(row: AppliedRow, tracker: str, severity: Severity) -> Finding:
    label = f"{row.key}_{row.name}" if row.name else row.key
    return Finding(
        check=MISSING,
        severity=severity,
        message=f"version {label} is applied but has no file on disk",
        fix=f"restore the file, or, if it was deliberately removed: DELETE FROM {tracker} "
        f"WHERE version = '{row.key}'",
        revision=row.key,
    )


def _short(checksum: str | None) -> str:
    return (checksum or "none")[:12]
