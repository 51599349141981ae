"""``migproof verify``: every revision upgraded, downgraded and upgraded again, compared exactly.

For an Alembic project (``alembic.ini``) and for a directory of plain-SQL migrations that
have down files (golang-migrate, Flyway undo files, dbmate, goose sections).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from migproof.config import Config
from migproof.errors import ConfigError
from migproof.findings import Report, Severity
from migproof.progress import NullProgress, Progress
from migproof.sandbox import DatabaseHost, open_host

if TYPE_CHECKING:
    from migproof.chain.graph import RevisionFile, RevisionGraph
    from migproof.verify.roundtrip import AtHead, Bootstrap, StepperFactory

__all__ = ["is_sql_project", "verify"]


def verify(
    config: Config,
    project_dir: Path | None = None,
    *,
    progress: Progress | None = None,
    host: DatabaseHost | None = None,
) -> Report:
    """Verify the migrations of ``project_dir`` in a sandbox (or on ``host``).

    Findings a ``# migproof: ignore CODE`` comment accepts are left out (verify/suppressed.py).

    >>> report = verify(load_config(Path("examples/shop")), Path("examples/shop"))  # doctest: +SKIP
    >>> report.has_failures
    False
    """
    from migproof.verify.suppressed import drop_suppressed

    report = _verify(config, project_dir, progress, host)
    drop_suppressed(report)
    return report


def _verify(
    config: Config,
    project_dir: Path | None,
    progress: Progress | None,
    host: DatabaseHost | None,
) -> Report:
    from migproof.verify.early import Spare
    from migproof.verify.roundtrip import FROM_BOOTSTRAP, walk_chain

    progress = progress or NullProgress()
    root = (project_dir or config.root).resolve()
    report = Report(command="verify")
    # on a running host, the walk's database is created on a thread meanwhile (a walk from
    # a bootstrap file clones that file's database instead)
    early = Spare(config, host) if host is not None and not config.verify.bootstrap_sql else None
    try:
        plan = _plan(config, root, report)
    except BaseException:
        if early is not None:
            early.discard()
        raise
    if plan is None:
        if early is not None:
            early.discard()
        return report
    graph, make_stepper, order, irreversible = plan
    with ExitStack() as stack:
        target = host if host is not None else stack.enter_context(open_host(config))
        spare = early.join(stack) if early is not None else None
        head_checks = _HeadChecks(config, root, target, report)  # a bad schema file fails here
        bootstrap = _load_bootstrap(config, target, stack)  # and a bad bootstrap file here
        walk_chain(
            graph,
            make_stepper,
            config,
            target,
            report,
            progress,
            order,
            irreversible,
            at_head=head_checks,
            bootstrap=bootstrap,
            spare=spare,
        )
        _drop_disproved_no_downgrade(report)
        # a walk that started from the stamped file upgraded that database itself: its
        # failures are MP010s already, and MP112 would say each again
        from_stamp = any(r.get("upgrade") == FROM_BOOTSTRAP for r in report.records)
        if bootstrap is not None and bootstrap.upgrade_findings is not None:
            # worked out before the walk (a file that stamps nothing): when the upgrade
            # worked, the walk started from the file at base, and its failures are MP010s
            report.extend(bootstrap.upgrade_findings)
        elif bootstrap is not None and not from_stamp:
            from migproof.verify.parity import check_bootstrap

            paths = {rev.revision: rev.path for rev in order if rev.revision}
            report.extend(
                check_bootstrap(
                    target,
                    bootstrap.path,
                    make_stepper,
                    config=config,
                    revision_paths=paths,
                    loaded=bootstrap.template,
                )
            )
    return report


def _drop_disproved_no_downgrade(report: Report) -> None:
    """MP006 says, from the source alone, that an empty downgrade() leaves the upgrade's
    work in place; a round trip that restored the schema (and the rows) exactly disproves
    it (a data fix, a repair that changes nothing on a sound database): the finding goes.
    One whose round trip never ran stays, as a warning that says so."""
    from migproof.verify.graph_checks import NO_DOWNGRADE
    from migproof.verify.roundtrip import FROM_BOOTSTRAP

    passed = {r["revision"] for r in report.records if r.get("roundtrip") == "ok"}
    # not run because an earlier revision failed, taken as applied from a bootstrap file, or
    # failed itself: what its upgrade does is unknown (dagster's dialect-guarded revisions do
    # nothing on PostgreSQL), so its downgrade's emptiness is unconfirmed
    unconfirmed = {
        r["revision"]: "its upgrade failed" if r.get("upgrade") == "failed" else "it did not run"
        for r in report.records
        if r.get("upgrade") in ("not run", "failed", FROM_BOOTSTRAP)
    }
    recorded = {r["revision"] for r in report.records}
    kept = []
    for finding in report.findings:
        if finding.check != NO_DOWNGRADE.code:
            kept.append(finding)
        elif finding.revision in unconfirmed or finding.revision not in recorded:
            why = unconfirmed.get(finding.revision or "", "it did not run")
            kept.append(
                dataclasses.replace(
                    finding,
                    severity=Severity.WARNING,
                    message=f"{finding.message} (not confirmed: {why})",
                )
            )
        elif finding.revision not in passed:
            kept.append(finding)
    report.findings = kept


def _load_bootstrap(config: Config, host: DatabaseHost, stack: ExitStack) -> Bootstrap | None:
    """The bootstrap file loaded once, for the walk and MP112 to clone; dropped with ``stack``."""
    from migproof.verify.parity import load_bootstrap
    from migproof.verify.roundtrip import Bootstrap

    if not config.verify.bootstrap_sql:
        return None
    path = config.path(config.verify.bootstrap_sql).resolve()
    template = load_bootstrap(host, path, config=config)
    stack.callback(host.drop_database, template)
    return Bootstrap(path, template)


_REVISION_ID = re.compile(r"^revision\s*(?::[^=]*)?=", re.MULTILINE)


def _say_unrunnable(blocked: Mapping[str, str], report: Report) -> None:
    """Revisions left out because one they build on is broken (``blocked``: each to the
    one that stops it): said, never left unnamed (open-webui's revisions stop at import
    without the application's secret key)."""
    stopped: dict[str, list[str]] = {}
    for rid, cause in blocked.items():
        if rid != cause:
            stopped.setdefault(cause, []).append(rid)
    for cause, rids in stopped.items():
        shown = ", ".join(rids[:5]) + (f" and {len(rids) - 5} more" if len(rids) > 5 else "")
        report.skipped.append(
            (
                f"{len(rids)} revision{'s' if len(rids) > 1 else ''} building on {cause}",
                f"not run: {cause} is broken (its finding says why): {shown}",
            )
        )


def _nested_revisions(locations: list[Path], found: list[RevisionFile]) -> list[Path]:
    """Revision files below the version locations that the chain does not include: Alembic
    does not look into subdirectories unless told to (keystone's expand/contract ones)."""
    seen = {rev.path.resolve() for rev in found}
    nested = []
    for directory in locations:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*/**/*.py")):
            if path.resolve() in seen or path.name.startswith("__"):
                continue
            with suppress(OSError, UnicodeDecodeError):
                if _REVISION_ID.search(path.read_text(encoding="utf-8")):
                    nested.append(path)
    return nested


def _no_revisions(locations: list[Path]) -> ConfigError:
    """Nothing to verify: say where migproof looked, and where revisions may be instead."""
    where = ", ".join(str(p) for p in locations) or "(no version locations)"
    nested = sorted({p.parent for d in locations if d.is_dir() for p in d.glob("*/*.py")}, key=str)
    fix = (
        "add a revision (`alembic revision -m ...`), or point script_location or"
        " version_locations at the directory of yours"
    )
    if nested:
        fix = (
            f"revisions are in subdirectories ({', '.join(str(p) for p in nested[:3])}): list them"
            " in version_locations, or set recursive_version_locations = true"
        )
    return ConfigError(f"no revision files in {where}: nothing to verify", fix=fix)


class _HeadChecks:
    """Head against the models, the hand-kept schema file and the lock file."""

    def __init__(self, config: Config, root: Path, host: DatabaseHost, report: Report) -> None:
        from migproof.catalog import SnapshotFilter
        from migproof.verify.parity import load_metadata, snapshot_schema_file

        self.config, self.root, self.report = config, root, report
        self.filters = SnapshotFilter.from_config(config)
        self.schema_file = (
            config.path(config.verify.schema_sql) if config.verify.schema_sql else None
        )
        self.schema = (
            snapshot_schema_file(host, self.schema_file, self.filters, config=config)
            if self.schema_file
            else None
        )
        self.models: tuple[list[object], Path | None] | None = None
        if config.verify.models:
            from migproof.chain.project import placeholder_urls

            # as the revisions are imported: an application's settings the models import
            # build their engine from the url-env variables (airflow's), never the shell's
            with placeholder_urls(config.url_env):
                self.models = load_metadata(config.verify.models, root)

    def __call__(self, head: AtHead) -> None:
        from migproof.verify.parity import check_lockfile, check_models, compare_schema_file

        if self.schema is not None and self.schema_file is not None:
            self.report.extend(compare_schema_file(head.snapshot, self.schema, self.schema_file))
        self.report.extend(check_lockfile(self.config, head.snapshot))
        metadata, origin = self.models or (head.configure_options.get("target_metadata"), None)
        if metadata is None:
            if head.env_py is not None:  # an Alembic project: its models could be named
                self.report.skipped.append(_NO_MODELS)
            return
        origin = origin or head.env_py
        # Alembic's comparison failing on the project's models is said there (``skipped``);
        # anything else is migproof's own bug, and ends the run as one (exit 3)
        self.report.extend(
            check_models(
                head.sqlalchemy_url,
                metadata,
                config=self.config,
                options=head.configure_options,
                origin=origin,
                head=head.snapshot,
                skipped=self.report.skipped,
            )
        )


_NO_MODELS = (
    "comparison with the models",
    "env.py passes no target_metadata: name the models with --models module:attr or "
    "[tool.migproof.verify] models",
)


def _plan(
    config: Config, root: Path, report: Report
) -> tuple[RevisionGraph, StepperFactory, list[RevisionFile], set[str]] | None:
    """The graph, the stepper factory, the revisions to walk and the irreversible ones;
    None when nothing can be run (the findings say why)."""
    from migproof.chain.graph import DowngradeKind
    from migproof.verify import sqldir
    from migproof.verify.graph_checks import (
        below_minimum,
        check_graph,
        declared_by_pattern,
        irreversible_patterns,
        never_downgraded,
        upgrade_only,
    )
    from migproof.verify.roundtrip import alembic_stepper

    if is_sql_project(config, root):
        graph, make_stepper, irreversible, findings, skipped = sqldir.load(config, root)
        report.extend(findings)
        report.skipped.extend(skipped)
        return graph, make_stepper, graph.topological_order(), irreversible
    from migproof.chain.project import load_project, runnable_order, unrunnable

    project = load_project(config, root)
    if not project.graph.files:
        raise _no_revisions(project.version_locations)
    project.script_directory()  # imports every revision file; the broken ones become findings
    report.extend(check_graph(project, config))
    nested = _nested_revisions(project.version_locations, project.graph.files)
    if nested:
        where = ", ".join(sorted({str(p.parent) for p in nested})[:3])
        report.skipped.append(
            (
                f"{len(nested)} revision files in subdirectories ({where})",
                "Alembic reads them only with recursive_version_locations = true, or with"
                " their directories in version_locations",
            )
        )
    if project.map_error is not None:
        report.skipped.append(
            ("upgrade and round trips", f"Alembic cannot load the chain: {project.map_error}")
        )
        return None
    blocked = unrunnable(project)
    order = runnable_order(project, blocked)
    _say_unrunnable(blocked, report)
    if not order:
        report.skipped.append(
            ("upgrades, round trips and the whole chain", "no revision can run (see the findings)")
        )
        return None
    below = below_minimum(project, config)
    if below:
        minimum = config.verify.minimum_downgrade_revision
        report.skipped.append(
            (
                f"round trips of {minimum} and the revisions it builds on ({len(below)} in all)",
                "minimum-downgrade-revision: upgraded, never downgraded",
            )
        )
    patterned = declared_by_pattern(project, config) - below
    if patterned:
        patterns = ", ".join(irreversible_patterns(config))
        report.skipped.append(
            (
                f"round trips of {len(patterned)} revision{'s' if len(patterned) > 1 else ''}",
                f"declared irreversible ({patterns} in verify.irreversible): upgraded, never "
                "downgraded",
            )
        )
    raising = upgrade_only(project, config)
    if raising:
        empty = sum(
            1 for rid in raising if project.graph.by_id[rid].downgrade is DowngradeKind.EMPTY
        )
        how = f", is missing or ({empty} of them) is empty" if empty else " or is missing"
        report.skipped.append(
            (
                f"round trips of {len(raising)} revisions",
                f"no downgrade() can run, each raises{how} (an upgrade-only chain): upgraded,"
                " never downgraded",
            )
        )
    return project.graph, alembic_stepper(project, config), order, never_downgraded(project, config)


def is_sql_project(config: Config, root: Path) -> bool:
    """A directory of plain-SQL migrations (no Alembic project, Flask-Migrate's included)."""
    from migproof.alembic_ini import project_ini
    from migproof.verify import sqldir

    if not config.uses_default("alembic-config"):  # -c names an alembic.ini: not SQL files
        return False
    return project_ini(root, config) is None and sqldir.is_sql_directory(
        root, config.migrate.layout
    )
