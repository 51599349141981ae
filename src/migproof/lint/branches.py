"""Expand/contract chains: the contract branch runs once no old code does.

OpenStack projects (neutron, glance, manila) split their chains in two Alembic branches:
``expand`` revisions only add, and run while the old servers still run; ``contract``
revisions drop and rename, and run once every server is upgraded (neutron refuses to run
them before). Findings that only say "this breaks the code still running during the
deploy" are therefore false on the contract branch: they are left out there, and the
report says so. Everything else (locks, rewrites, lost data) is reported as on any
revision.

A revision is on the contract branch when the nearest branch label on its line of down
revisions is ``contract`` (Alembic's ``branch_labels``; a label is inherited by the
revisions built on it), or when its file is in a directory named ``contract`` (neutron's
``versions/<release>/contract/``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from migproof.findings import Report

if TYPE_CHECKING:
    from migproof.chain.graph import RevisionGraph

__all__ = ["CONTRACT", "RUNNING_CODE_ONLY", "drop_running_code_findings"]

CONTRACT = "contract"
# The rules about removing what the expand phase made obsolete, whose only harm is to the
# old code: a dropped column, NOT NULL or constraint. Renames stay: no code running during
# the contract phase, old or new, can use a name that only exists after it (neutron stops
# its servers for it; a project that does the same can turn MP401/MP402 off). MP404
# destroys data and MP408 fails on rows: they stay too.
RUNNING_CODE_ONLY = frozenset({"MP403", "MP406", "MP411"})


def drop_running_code_findings(report: Report) -> None:
    """Leave out the running-code findings of contract revisions among ``report``'s
    records, and say how many in its skipped list."""
    if not any(f.check in RUNNING_CODE_ONLY for f in report.findings):
        return  # nothing to leave out: no revision file is read again
    files = list(
        dict.fromkeys(Path(str(r["file"])) for r in report.records if r.get("kind") == "revision")
    )
    if not any(CONTRACT in p.parent.name or CONTRACT in _text(p) for p in files):
        return  # no branch of that name: the files are not parsed
    from migproof.chain.graph import RevisionGraph, read_revision_file  # chains only

    contract = contract_files(RevisionGraph([read_revision_file(p) for p in files]))
    if not contract:
        return
    kept = []
    dropped = 0
    for finding in report.findings:
        path = finding.location.path.resolve() if finding.location else None
        if finding.check in RUNNING_CODE_ONLY and path in contract:
            dropped += 1
        else:
            kept.append(finding)
    if not dropped:
        return
    report.findings[:] = kept
    codes = ", ".join(sorted(RUNNING_CODE_ONLY))
    report.skipped.append(
        (
            f"{dropped} finding{'s' if dropped > 1 else ''} of the rules about running code"
            f" ({codes}) on the contract branch",
            "contract revisions run once no old code runs (expand/contract): what they drop"
            " is used by no code that runs then",
        )
    )


def contract_files(graph: RevisionGraph) -> set[Path]:
    """The resolved files of the revisions on a contract branch."""
    on: dict[str, bool] = {}
    for rev in graph.topological_order():  # a revision's down revisions come first
        if CONTRACT in rev.path.parent.parts[-1:] or CONTRACT in rev.branch_labels:
            on[rev.revision or ""] = True
        elif rev.branch_labels:  # another label is nearer: expand, or a branch of its own
            on[rev.revision or ""] = False
        else:
            on[rev.revision or ""] = any(on.get(p, False) for p in graph.parents(rev))
    return {rev.path.resolve() for rid, rev in graph.by_id.items() if on.get(rid)}


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
