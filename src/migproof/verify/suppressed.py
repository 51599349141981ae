"""``# migproof: ignore MP104 -- reason`` in a revision file: a verify finding, accepted.

Some of what verify finds cannot be fixed where it is: a revision that ran in production
years ago (its upgrade fails with rows only on data that no longer exists), a downgrade
left incomplete on purpose. The same comments lint reads on a revision's Python lines
accept them, one check at a time:

- ``# migproof: ignore MP104 -- reason`` at the end of the line a finding points at, or on
  the comment lines just above it (the ``op.`` call, or ``def downgrade():`` for what a
  round trip found);
- ``# migproof: ignore-file MP012 -- reason`` anywhere in the file: every finding of that
  check in it.

The report says how many findings were accepted, so a clean run still shows them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from migproof.findings import Finding, Report
from migproof.suppress import PythonSuppressions, read_python_suppressions

__all__ = ["drop_suppressed"]


def drop_suppressed(report: Report) -> None:
    """Leave out the findings a ``# migproof: ignore`` comment accepts in the file each
    points at, and say how many in the report's skipped list."""
    read: dict[Path, PythonSuppressions] = {}
    kept: list[Finding] = []
    accepted: Counter[str] = Counter()
    for finding in report.findings:
        location = finding.location
        if location is None or location.path.suffix != ".py":
            kept.append(finding)
            continue
        if location.path not in read:
            read[location.path] = read_python_suppressions(location.path)
        covered, file_level = read[location.path]
        if any(s.covers(finding.check) for s in covered.get(location.line or 0, []) + file_level):
            accepted[finding.check] += 1
        else:
            kept.append(finding)
    if not accepted:
        return
    report.findings[:] = kept
    count = sum(accepted.values())
    codes = ", ".join(f"{code} x{n}" if n > 1 else code for code, n in sorted(accepted.items()))
    report.skipped.append(
        (
            f"{count} finding{'s' if count > 1 else ''} ({codes})",
            "accepted by `# migproof: ignore` comments in the files they point at",
        )
    )
