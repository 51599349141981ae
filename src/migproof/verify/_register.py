"""A compact way for verify modules to declare their checks."""

from __future__ import annotations

from migproof.checks import CheckInfo, register_check
from migproof.findings import Severity

__all__ = ["verify_check"]


def verify_check(
    code: str,
    name: str,
    summary: str,
    *,
    what: str,
    why: str,
    fix: str,
    severity: Severity = Severity.ERROR,
    versions: str = "All supported versions.",
    alembic: str | None = None,
) -> CheckInfo:
    docs = (
        f"## What it does\n{what}\n\n## Why is this bad?\n{why}\n\n## How to fix\n{fix}\n\n"
        f"## PostgreSQL versions\n{versions}\n"
    )
    if alembic:
        docs += f"\n## With Alembic\n{alembic}\n"
    return register_check(
        CheckInfo(
            code=code,
            name=name,
            summary=summary,
            severity=severity,
            family="verify",
            docs=docs,
        )
    )
