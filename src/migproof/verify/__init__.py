"""``migproof verify``: every revision upgraded, downgraded and upgraded again, compared exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migproof.chain.project import load_project
from migproof.config import Config
from migproof.findings import Report
from migproof.progress import NullProgress, Progress
from migproof.sandbox import DatabaseHost, open_host

__all__ = ["verify"]


def verify(
    config: Config,
    project_dir: Path | None = None,
    *,
    progress: Progress | None = None,
    host: DatabaseHost | None = None,
) -> Report:
    """Verify the Alembic chain of ``project_dir`` in a sandbox; findings in the Report.

    >>> report = verify(load_config(Path("examples/shop")), Path("examples/shop"))  # doctest: +SKIP
    >>> report.has_failures
    False
    """
    from migproof.verify.graph_checks import check_graph, irreversible_revisions
    from migproof.verify.roundtrip import walk_chain

    progress = progress or NullProgress()
    project = load_project(config, project_dir)
    report = Report(command="verify")
    project.script_directory()  # imports every revision file; the broken ones become findings
    report.extend(check_graph(project, config))
    order = _runnable(project)
    if project.map_error is not None:
        report.skipped.append(
            ("upgrade and round trips", f"Alembic cannot load the chain: {project.map_error}")
        )
        return report
    if not order:
        return report
    if host is not None:
        walk_chain(
            project, config, host, report, progress, order, irreversible_revisions(project, config)
        )
        return report
    with open_host(config) as own_host:
        walk_chain(
            project,
            config,
            own_host,
            report,
            progress,
            order,
            irreversible_revisions(project, config),
        )
    return report


def _runnable(project: Any) -> list[Any]:
    """Revisions in topological order, without broken ones and those that build on them."""
    graph = project.graph
    blocked: set[str] = set()
    broken_paths = {b.path for b in project.broken.values()}
    for rev in graph.by_id.values():
        if rev.syntax_error or rev.path.resolve() in broken_paths:
            blocked.add(rev.revision)
            blocked |= graph.descendants(rev.revision)
    for rev, _missing in graph.dangling():
        blocked.add(rev.revision)
        blocked |= graph.descendants(rev.revision)
    return [rev for rev in graph.topological_order() if rev.revision not in blocked]
