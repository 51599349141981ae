"""``migproof lint PATH...``: migration hazards in .sql files and Alembic revision files."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from migproof.cli._options import (
    emit,
    output_options,
    project_options,
    project_output_to_stderr,
    server_options,
)
from migproof.config import Config, load_config
from migproof.findings import Report, display_path
from migproof.report.terminal import make_consoles

__all__ = ["command"]

UPGRADE_FAILED = "MP010"  # lint stopped there: what was given after it was not linted
_VERSION = re.compile(r"^(?P<major>\d+)(?:\.\d+)*$")


def _pg_version(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    del ctx, param
    if value is None:
        return None
    match = _VERSION.match(value.strip())
    major = int(match["major"]) if match else 0
    if not 9 <= major <= 99:
        raise click.BadParameter(f"{value!r} is not a PostgreSQL version such as 15 or 16.4")
    return major


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n.strip() for v in values for n in v.split(",") if n.strip())


def _with_flags(
    config: Config, disable: tuple[str, ...], enable: tuple[str, ...], protected: tuple[str, ...]
) -> Config:
    lint = dataclasses.replace(
        config.lint,
        disable=config.lint.disable + _names(disable),
        enable=config.lint.enable + _names(enable),
        protected_schemas=config.lint.protected_schemas + _names(protected),
    )
    return dataclasses.replace(config, lint=lint)


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--pg-version",
    callback=_pg_version,
    metavar="N",
    help="PostgreSQL major version the migrations will run on (verdicts change with it).",
)
@click.option(
    "--disable", multiple=True, metavar="RULE", help="Turn rules off (code, name or squawk name)."
)
@click.option("--enable", multiple=True, metavar="RULE", help="Turn rules that are off on.")
@click.option(
    "--protected-schema",
    "protected",
    multiple=True,
    metavar="SCHEMA",
    help="A schema no DROP or TRUNCATE may reach (adds to lint.protected-schemas).",
)
@click.option(
    "--start-after",
    multiple=True,
    metavar="MIGRATION",
    help="Report nothing in this revision (id or prefix) or .sql file and those before it: "
    "they ran already (lint.start-after; repeat it for each branch).",
)
@click.option(
    "--static",
    is_flag=True,
    help="Do not run Alembic revisions in a sandbox: lint .sql files, and revision files for "
    "the revision rules only (the SQL they send is not linted).",
)
@project_options
@server_options
@output_options
def command(
    paths: tuple[Path, ...],
    pg_version: int | None,
    disable: tuple[str, ...],
    enable: tuple[str, ...],
    protected: tuple[str, ...],
    start_after: tuple[str, ...],
    static: bool,
    project: dict[str, object],
    pg_bin: str | None,
    database_url: str | None,
    fmt: str,
    output: Path | None,
) -> int:
    """Lint SQL migrations and Alembic revision files for hazards.

    PATHS are .sql files, revision files and directories (default: the current one). A
    directory with an alembic.ini is run in a sandbox, revision by revision, and the SQL each
    revision really sent is linted with the locks it took (--static: only read the files).
    Exit code 0: clean; 1: findings.
    """
    from migproof.alembic_ini import project_ini
    from migproof.errors import SourceError
    from migproof.lint import lint_paths
    from migproof.lint.branches import drop_running_code_findings
    from migproof.lint.files import projects_of
    from migproof.lint.settled import settled_for

    overrides = {
        "lint.pg-version": pg_version,
        "lint.start-after": start_after or None,
        "pg-bin": pg_bin,
        "database-url": database_url,
        **project,
    }

    def configured(start: Path | None = None) -> Config:
        return _with_flags(load_config(start, overrides=overrides), disable, enable, protected)

    config = configured()
    targets = list(paths) or [Path()]
    report = lint_paths(targets, config)
    # a name that matches nothing fails before any run
    settled = settled_for(report, config, targets, configured)
    projects: list[tuple[Path, frozenset[Path] | None]] = (
        [] if static else [(p, None) for p in targets if p.is_dir() and project_ini(p, config)]
    )
    named = project["alembic-config"]
    if named and not static and not projects and all(p.is_dir() for p in targets):
        raise SourceError(
            f"{named}: no such alembic.ini in {', '.join(str(p) for p in targets)}",
            fix="give -c the path of alembic.ini from the current directory, or from the "
            "project directory given",
        )
    if not static:
        # revision files given one by one, or found in a directory given that holds an
        # Alembic project below it (nova/db/main): their project runs, for them alone
        given = {directory.resolve() for directory, _ in projects}
        files = [p for p in targets if p.suffix == ".py"]
        found = [
            Path(str(r["file"])).resolve() for r in report.records if r.get("kind") == "revision"
        ]
        files += [f for f in found if not any(f.is_relative_to(d) for d in given)]
        projects += [
            (directory, only)
            for directory, only in projects_of(files, configured)
            if directory not in given
        ]
        _say_not_run(report, files, [d for d, _ in projects])
    revisions = sum(1 for r in report.records if r.get("kind") == "revision")
    if static and revisions:
        report.skipped.append(
            (
                f"the SQL of {revisions} revision file{'s' if revisions > 1 else ''}",
                "--static reads revision files without running them: only the revision rules "
                "(revision id length, own connections) apply; without --static, lint runs them "
                "in a sandbox and lints the SQL they send",
            )
        )
    consoles = make_consoles()
    if projects:
        with project_output_to_stderr():
            quiet = settled.files if settled is not None else frozenset()
            _lint_by_running(projects, config, configured, report, consoles.err, quiet)
    drop_running_code_findings(report)
    if settled is not None:
        settled.drop_from(report)
    if not report.records:
        where = ", ".join(escape(str(p)) for p in targets)
        consoles.err.print(f"warning: no .sql migrations or Alembic revisions found in {where}")
    if fmt == "text" and output is None:
        _print_lock_summaries(report, consoles.out)
    return emit(report, fmt, output, consoles)


def _lint_by_running(
    projects: list[tuple[Path, frozenset[Path] | None]],
    config: Config,
    configured: Callable[[Path], Config],
    report: Report,
    err: Console,
    quiet: frozenset[Path] = frozenset(),
) -> None:
    """Add what running each Alembic project's revisions shows to ``report``.

    Each project runs with its own configuration (``configured(directory)``: the file found
    from its directory upwards, as verify reads it, and the same flags). A project whose
    Alembic configuration cannot be loaded (no env.py, say) is linted from its files only,
    with a warning saying why. A project given with a set of files reports on those alone
    (and on an upgrade that failed before them: MP010).
    """
    from migproof.chain.project import load_project
    from migproof.errors import ConfigError
    from migproof.lint.recorded import lint_alembic_project
    from migproof.sandbox import open_host

    runnable = []
    for directory, only in projects:
        project_config = configured(directory)
        try:
            project = load_project(project_config, directory)
        except ConfigError as exc:
            err.print(
                f"warning: not running {escape(str(directory))}: {escape(exc.what)}; "
                "linted its files only"
            )
            # what was not linted is in the report too, not only on the terminal: a CI job
            # must not pass it off as clean
            report.skipped.append(
                (f"the SQL the revisions of {directory} send", f"not run: {exc.what}")
            )
            continue
        runnable.append((project, project_config, only))
    if not runnable:
        return
    with open_host(config) as host:
        for project, project_config, only in runnable:
            # the "not checked" entries of the revisions reported on: the files given, not
            # those lint.start-after settles (``quiet``)
            shown = functools.partial(_reported, only=only, quiet=quiet)
            ran = lint_alembic_project(project_config, project, host, shown)
            if only is not None:
                ran.findings[:] = [
                    f
                    for f in ran.findings
                    if f.check == UPGRADE_FAILED
                    or (f.location and f.location.path.resolve() in only)
                ]
                ran.records[:] = [r for r in ran.records if Path(str(r["file"])).resolve() in only]
            report.extend(ran.findings)
            report.records.extend(ran.records)
            report.skipped.extend(ran.skipped)


def _say_not_run(report: Report, files: list[Path], projects: list[Path]) -> None:
    """Revision files of no Alembic project lint can run (no alembic.ini above them names
    their directory): only the revision rules read them, and the report says so."""
    alone = {
        path
        for path in (f.resolve() for f in files)
        if not any(path.is_relative_to(d.resolve()) for d in projects)
    }
    if alone:
        count = len(alone)
        report.skipped.append(
            (
                f"the SQL of {count} revision file{'s' if count > 1 else ''}",
                "no alembic.ini above them names their directory, so they were read, not run:"
                " only the revision rules apply; lint the project's directory (or give -c)",
            )
        )


def _reported(path: Path, *, only: frozenset[Path] | None, quiet: frozenset[Path]) -> bool:
    return (only is None or path in only) and path not in quiet


def _print_lock_summaries(report: Report, out: Console) -> None:
    for record in report.records:
        locks = record.get("locks")
        if isinstance(locks, list) and locks:
            out.print(
                f"{escape(str(record['revision']))} "
                f"({escape(display_path(Path(str(record['file']))))}):"
            )
            for line in locks:
                out.print(f"    {escape(str(line))}")
