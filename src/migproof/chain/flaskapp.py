"""Flask-Migrate projects: env.py runs inside the Flask application's context.

Flask-Migrate's env.py takes everything from ``flask.current_app``: the engine
(``current_app.extensions['migrate'].db.engine``), its URL and the models' metadata. So does
``flask db upgrade``: it loads the application named by ``--app`` / ``FLASK_APP`` (or
``wsgi.py`` / ``app.py``), pushes its context and runs Alembic. migproof does the same for
each scratch database, with Flask-SQLAlchemy pointed at that database: its
``SQLALCHEMY_DATABASE_URI`` is set as the application initialises the extension, whatever
the application's own configuration says (Flask-SQLAlchemy 3 makes its engines then). The
stepper's check of every new connection still refuses any that reaches another database.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migproof.chain.modules import unload_modules
from migproof.errors import ConfigError, MigproofError

__all__ = ["app_import_path", "flask_app_context", "uses_binds", "uses_flask"]

_CURRENT_APP = re.compile(
    r"^\s*from\s+flask\s+import\s+(?:\([^)]*|[^\n]*)\bcurrent_app\b|\bflask\.current_app\b",
    re.MULTILINE,
)
_FLASKENV = (".env", ".flaskenv")  # flask lets .env override .flaskenv


def uses_binds(env_source: str) -> bool:
    """Whether an env.py migrates every Flask-SQLAlchemy bind (`flask db init --multidb`)."""
    return "bind_names" in env_source


def uses_flask(env_source: str) -> bool:
    """Whether an env.py takes its engine and models from Flask's ``current_app``."""
    return _CURRENT_APP.search(env_source) is not None


def app_import_path(configured: str | None, root: Path) -> str | None:
    """The application to load: ``flask-app`` (or ``FLASK_APP``), else the ``FLASK_APP`` line
    of ``.env`` or ``.flaskenv`` in ``root`` (the files ``flask`` reads, ``.env`` first),
    else None (Flask looks for ``wsgi.py`` or ``app.py``)."""
    if configured:
        return configured
    for name in _FLASKENV:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            for line in (root / name).read_text(encoding="utf-8").splitlines():
                key, sep, value = line.strip().removeprefix("export ").partition("=")
                if sep and key.strip() == "FLASK_APP":
                    value = value.strip()
                    if value[:1] in ("'", '"'):  # quoted: up to the closing quote
                        value = value[1:].partition(value[0])[0]
                    else:  # bare: an inline comment ends it
                        value = value.partition(" #")[0].strip()
                    return value or None
    return None


@contextlib.contextmanager
def flask_app_context(
    import_path: str | None,
    sqlalchemy_url: str,
    *,
    multidb: bool = False,
    setting: str,
) -> Iterator[Any]:
    """Load the Flask application from the working directory, as ``flask`` does, with its
    Flask-SQLAlchemy database at ``sqlalchemy_url``, and hold its application context.

    A missing Flask, an application that cannot be found or that fails to load is a
    ConfigError naming the application and how to name another (``setting``: where the
    project's configuration names it).
    """
    try:
        import flask.cli  # noqa: F401 - the application is loaded as `flask` loads it
    except ImportError as exc:
        raise ConfigError(
            f"env.py uses Flask's current_app, but Flask cannot be imported ({exc})",
            fix="install migproof in the environment the application runs in, and run it there",
        ) from exc
    search_path = list(sys.path)  # Flask puts the application's directory first
    root = Path.cwd()
    try:
        # a revision that imported the application while the chain was read made an engine
        # for its own database, which load_app would reuse; another project's `app` would
        # be taken for this one's
        unload_modules(root, names=_import_names(import_path))
        with _database_forced(sqlalchemy_url):
            app = _load(import_path, setting)
        binds = app.config.get("SQLALCHEMY_BINDS") or {}
        if binds and multidb:
            raise ConfigError(
                "env.py migrates every Flask-SQLAlchemy bind (flask db init --multidb), and the"
                f" application has {len(binds)} ({', '.join(map(str, binds))}): migproof checks"
                " one database, a multi-database project is not supported",
                fix="verify a single-database configuration of the application",
            )
        with app.app_context():
            yield app
    finally:
        sys.path[:] = search_path
        unload_modules(root)  # the next project, or the next run, loads its own


def _import_names(import_path: str | None) -> frozenset[str]:
    """The top-level modules ``load_app`` imports: ``pkg`` of ``pkg.app:create_app()``."""
    if not import_path:
        return frozenset({"wsgi", "app"})
    module = re.split(r":(?![\\/])", import_path, maxsplit=1)[0].removesuffix(".py")
    return frozenset({Path(module).name.partition(".")[0]})


def _load(import_path: str | None, setting: str) -> Any:
    from flask.cli import NoAppException, ScriptInfo

    named = import_path or "wsgi.py or app.py"
    try:
        return ScriptInfo(app_import_path=import_path, set_debug_flag=False).load_app()
    except NoAppException as exc:
        raise ConfigError(
            f"cannot load the Flask application ({named}) that env.py needs: {exc}",
            fix=f"name it as `flask --app` takes it: FLASK_APP=module:create_app, or {setting}",
        ) from exc
    except MigproofError:  # the application connected somewhere migproof refuses
        raise
    except (Exception, SystemExit) as exc:  # the application's own code failed
        from migproof.chain.project import sqlalchemy_pin_fix

        raise ConfigError(
            f"loading the Flask application {named} failed: {type(exc).__name__}: {exc}",
            fix=sqlalchemy_pin_fix(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")
            or "make the application load as `flask db upgrade` would load it here "
            "(its settings, environment variables); FLASK_APP or flask-app names another",
        ) from exc


@contextlib.contextmanager
def _database_forced(url: str) -> Iterator[None]:
    """While the application loads, Flask-SQLAlchemy's ``init_app`` sees ``url`` as
    ``SQLALCHEMY_DATABASE_URI`` (version 3 creates its engines there; version 2 reads the
    setting when it first connects, and it stays set)."""
    try:
        from flask_sqlalchemy import SQLAlchemy
    except ImportError:  # Alchemical or another extension: the URL comes from --url-env
        yield
        return
    original = SQLAlchemy.init_app

    def init_app(self: Any, app: Any, *args: Any, **kwargs: Any) -> Any:
        app.config["SQLALCHEMY_DATABASE_URI"] = url
        return original(self, app, *args, **kwargs)

    SQLAlchemy.init_app = init_app  # type: ignore[method-assign]
    try:
        yield
    finally:
        SQLAlchemy.init_app = original  # type: ignore[method-assign]
