"""Alembic chains: the project, its revision graph, and running revisions step by step."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from migproof.errors import SourceError

if TYPE_CHECKING:
    from migproof.chain.project import AlembicProject
    from migproof.config import Config
    from migproof.sandbox import DatabaseHost

__all__ = ["AlembicProject", "database_at", "load_project"]


def __getattr__(name: str) -> Any:
    # the project and the sandbox only when asked for: lint reads revision files through
    # chain.graph, which needs neither (importing them cost every `migproof lint` 40 ms)
    if name in ("AlembicProject", "load_project"):
        from migproof.chain import project

        return getattr(project, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def database_at(
    config: Config, host: DatabaseHost, revision: str, project_dir: Path | None = None
) -> str:
    """A scratch database on ``host`` upgraded to ``revision`` ("head", "base" or an id).

    With ``bootstrap-sql`` set, a revision is built on the database the file builds (stamped
    or at base), as verify's walk is: a chain that alters tables its revisions never create
    (mlflow, jupyterhub, letta's pgvector) cannot be built from an empty database. Base, and
    a revision the file's stamp is past (Alembic does not upgrade to it), are built from an
    empty database, as without the file.

    >>> with Sandbox() as pg:                                   # doctest: +SKIP
    ...     name = database_at(load_config(), pg, "head")
    """
    from migproof.chain.project import load_project

    project = load_project(config, project_dir)
    project.script_directory()
    if project.broken:
        broken = next(iter(project.broken.values()))
        raise SourceError(
            f"cannot build alembic:{revision}: {broken.path.name} fails to import ({broken.error})",
            fix="run `migproof verify` for the details and correct the file",
        )
    bootstrap = config.verify.bootstrap_sql
    if revision == "base" or not bootstrap:
        return _upgraded(project, config, host, None, revision)
    try:
        return _upgraded(project, config, host, config.path(bootstrap).resolve(), revision)
    except SourceError as from_file:
        try:
            return _upgraded(project, config, host, None, revision)
        except SourceError:
            raise from_file from None


def _upgraded(
    project: AlembicProject,
    config: Config,
    host: DatabaseHost,
    bootstrap: Path | None,
    revision: str,
) -> str:
    """A scratch database (loaded from ``bootstrap`` when given) upgraded to ``revision``."""
    from migproof.chain.stepper import Stepper, mark_scratch
    from migproof.verify.parity import load_bootstrap

    db = load_bootstrap(host, bootstrap, config=config) if bootstrap else host.create_database()
    try:
        token = mark_scratch(host, db, config)
        if revision == "base":
            return db
        target = "heads" if revision in ("head", "heads") else revision
        stepper = Stepper.on(project, config, host, db, token)
        with stepper.session():
            failure = stepper.upgrade_to(target)
    except BaseException:
        host.drop_database(db)
        raise
    if failure is not None:
        host.drop_database(db)
        raise SourceError(
            f"cannot build alembic:{revision}: revision {failure.revision} fails ({failure.error})",
            fix="run `migproof verify` for the details",
        )
    return db
