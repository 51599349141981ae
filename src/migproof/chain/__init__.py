"""Alembic chains: the project, its revision graph, and running revisions step by step."""

from __future__ import annotations

from pathlib import Path

from migproof.chain.project import AlembicProject, load_project
from migproof.config import Config
from migproof.errors import SourceError
from migproof.sandbox import DatabaseHost

__all__ = ["AlembicProject", "database_at", "load_project"]


def database_at(
    config: Config, host: DatabaseHost, revision: str, project_dir: Path | None = None
) -> str:
    """A scratch database on ``host`` upgraded to ``revision`` ("head", "base" or an id).

    With ``bootstrap-sql`` set, the database starts as the file builds it (stamped or at
    base), as verify's walk does: a chain that alters tables its revisions never create
    (mlflow, jupyterhub, letta's pgvector) cannot be built from an empty database.

    >>> with Sandbox() as pg:                                   # doctest: +SKIP
    ...     name = database_at(load_config(), pg, "head")
    """
    from migproof.chain.stepper import Stepper, mark_scratch
    from migproof.verify.parity import load_bootstrap

    project = load_project(config, project_dir)
    project.script_directory()
    if project.broken:
        broken = next(iter(project.broken.values()))
        raise SourceError(
            f"cannot build alembic:{revision}: {broken.path.name} fails to import ({broken.error})",
            fix="run `migproof verify` for the details and correct the file",
        )
    bootstrap = config.verify.bootstrap_sql
    if bootstrap:
        db = load_bootstrap(host, config.path(bootstrap).resolve(), config=config)
    else:
        db = host.create_database()
    token = mark_scratch(host, db, config)
    if revision == "base":
        return db
    target = "heads" if revision in ("head", "heads") else revision
    stepper = Stepper.on(project, config, host, db, token)
    with stepper.session():
        failure = stepper.upgrade_to(target)
    if failure is not None:
        host.drop_database(db)
        raise SourceError(
            f"cannot build alembic:{revision}: revision {failure.revision} fails ({failure.error})",
            fix="run `migproof verify` for the details",
        )
    return db
