"""Run Alembic revisions one step at a time, in-process, against one scratch database.

Every step runs the project's own env.py (as ``alembic upgrade`` does), with the scratch
database's URL injected through the Alembic config (``sqlalchemy.url``) and through the
environment variables named by ``url-env``. A step is exactly one revision up or down,
built from Alembic's own ``MigrationStep``s, so branches and merges are walked as Alembic
walks them. Connections that do not reach the scratch database are refused before they
run anything (§10: never touch a database migproof was not handed).
"""

from __future__ import annotations

import configparser
import contextlib
import itertools
import logging
import os
import re
import secrets
import sys
import traceback
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migproof.chain.capture import StatementRecorder
from migproof.chain.modules import unload_modules
from migproof.chain.project import (
    PLACEHOLDER_HOST,
    AlembicProject,
    url_variables,
    working_directory,
)
from migproof.errors import DatabaseError
from migproof.sandbox.databases import pg_message, pg_sqlstate

if TYPE_CHECKING:
    from migproof.config import Config
    from migproof.sandbox import DatabaseHost

__all__ = [
    "SCRATCH_SETTING",
    "TIMEOUT_STATES",
    "StepFailure",
    "StepInterrupt",
    "Stepper",
    "driver_name",
    "mark_scratch",
    "remake_scratch",
]

SCRATCH_SETTING = "migproof.scratch"
# SQLSTATEs of the two timeouts verify sets on its scratch databases
TIMEOUT_STATES = {"57014": "statement timeout", "55P03": "lock timeout"}


@dataclass(frozen=True, slots=True)
class StepFailure:
    """Why a step failed: PostgreSQL's error (or Python's), the statement and where it ran."""

    revision: str
    direction: str
    error: str
    statement: str | None
    path: Path | None
    line: int | None
    timeout: str | None = None  # "statement timeout" or "lock timeout" when one fired
    from_database: bool = True  # False: a Python error (in env.py or the revision's code)
    in_env: bool = False  # env.py failed while no revision was running (every run will)
    sqlstate: str | None = None  # PostgreSQL's error code, when it raised the error


def mark_scratch(host: DatabaseHost, dbname: str, config: Config, token: str | None = None) -> str:
    """Tag a scratch database so steps can prove where they are, set its timeouts; the tag.

    Database-level settings reach every connection made to it, including ones a migration
    opens itself from ``DATABASE_URL``.
    """
    from psycopg import sql

    token = token or secrets.token_hex(8)
    db = sql.Identifier(dbname)
    settings = {
        SCRATCH_SETTING: token,
        "statement_timeout": f"{int(config.statement_timeout * 1000)}ms",
        "lock_timeout": f"{int(config.lock_timeout * 1000)}ms",
    }
    statements = sql.SQL("; ").join(
        sql.SQL("ALTER DATABASE {} SET {} = {}").format(
            db, sql.Identifier(*name.split(".")), sql.Literal(value)
        )
        for name, value in settings.items()
    )
    host.on_admin(lambda admin: admin.execute(statements))  # one round trip
    return token


def remake_scratch(
    stepper: Any,
    host: DatabaseHost,
    dbname: str,
    config: Config,
    token: str,
    *,
    template: str | None = None,
) -> None:
    """Drop scratch database ``dbname`` and make it again (a clone of ``template`` when
    given), empty of what was applied, under the same name and tag; ``stepper`` (a
    ``Stepper``, or verify's SQL-directory one) lets go of it first and hears of it after."""
    stepper.before_rebuild()
    host.drop_database(dbname)
    host.create_database(dbname, template=template)
    mark_scratch(host, dbname, config, token)
    stepper.on_rebuild()


class StepInterrupt(Exception):  # noqa: N818 - a signal, not an error
    """Raised by the caller's step generator to end the env.py run: ``run_steps`` lets it
    through instead of reporting it as the failure of a step."""


class _OuterTransactionError(Exception):
    """env.py holds an outer transaction: steps are not committed one by one."""


def _watch_configure(environment: Any, options: dict[str, Any], *, per_migration: bool) -> None:
    """Keep what env.py passes to ``context.configure(...)``; with ``per_migration``, make it
    commit after every migration step.

    Set on the instance: Alembic's ``context`` module proxies ``getattr(instance, name)``,
    and its proxy table is keyed by the exact class, so a subclass would proxy nothing.
    """
    configure = environment.configure

    def watched(*args: Any, **kwargs: Any) -> None:
        options.clear()
        options.update(kwargs)  # target_metadata, include_object, compare_type …
        if per_migration:
            kwargs["transaction_per_migration"] = True
        configure(*args, **kwargs)

    environment.configure = watched


class Stepper:
    """One Alembic project driven against one scratch database, step by step."""

    def __init__(
        self,
        project: AlembicProject,
        *,
        sqlalchemy_url: str,
        libpq_url: str,
        token: str,
        url_env: tuple[str, ...] = (),
        flask_app: str | None = None,
        flask_setting: str,
        facts: bool = False,
    ) -> None:
        self.project = project
        self._sqlalchemy_url = sqlalchemy_url
        self._libpq_url = libpq_url
        self._token = token
        self._url_env = url_env
        self._flask_app = flask_app
        self._flask_setting = flask_setting  # where the project names its application
        paths = {str(f.path): f.path for f in project.graph.files}
        self.recorder = StatementRecorder(paths, facts=facts)
        self.version_table: tuple[str | None, str] = (None, "alembic_version")
        self._one_run_per_step = False
        self.configure_options: dict[str, Any] = {}  # env.py's context.configure(...) arguments
        self._ran: set[str] = set()  # revisions whose module ran a step in this process
        self._engines: weakref.WeakSet[Any] = weakref.WeakSet()  # what env.py connected with
        self._give_connection = False  # env.py needs config.attributes["connection"]
        # told when steps start to run one env.py run each (see run_steps)
        self.before_own_runs: Callable[[], None] | None = None
        # env.py's sessions, kept from one run to the next (psycopg is imported here, not
        # with this module: the sandbox imports it while its server starts)
        from migproof.chain.parking import Parking

        self.parking = Parking()
        self._printed = _Tail()  # what env.py printed in its current run
        self._dbname = _database_of(sqlalchemy_url)

    @classmethod
    def on(
        cls,
        project: AlembicProject,
        config: Config,
        host: DatabaseHost,
        dbname: str,
        token: str,
        *,
        facts: bool = False,
    ) -> Stepper:
        """A stepper for ``project`` on a scratch database of ``host`` (see ``mark_scratch``)."""
        return cls(
            project,
            sqlalchemy_url=host.sqlalchemy_url_for(dbname),
            libpq_url=host.url_for(dbname),
            token=token,
            url_env=config.url_env,
            flask_app=config.flask_app,
            flask_setting=config.setting("flask-app"),
            facts=facts,
        )

    def on_rebuild(self) -> None:
        """The database was made again (``before_rebuild`` let go of the old one)."""

    def before_rebuild(self) -> None:
        """The database is about to be dropped and made again: what outlives an env.py run
        lets go of it, so the next run connects anew. An application's sessions bound to
        the engines env.py and the revisions used (Airflow's ``settings.Session``, left in
        a transaction by a revision) are closed; the pools of those engines (a module-level
        engine, Flask-SQLAlchemy's) are let go; the parked sessions are closed."""
        self._close_sessions()
        for engine in list(self._engines):
            engine.dispose(close=False)  # no I/O on connections the server may have ended
        self.parking.release()

    def _close_sessions(self) -> None:
        from sqlalchemy.orm import session as orm_session

        engines = set(self._engines)
        registry = getattr(orm_session, "_sessions", {})  # SQLAlchemy's weak registry
        for session in list(registry.values()):
            if getattr(session, "bind", None) in engines:
                with contextlib.suppress(Exception):  # a connection already ended
                    session.close()

    @property
    def env_py(self) -> Path:
        return self.project.script_location / "env.py"

    @property
    def script_dir(self) -> Any:
        return self.project.script_directory()

    @contextmanager
    def session(self) -> Iterator[Stepper]:
        """Point env.py at the scratch database for the duration, and restore everything."""
        modules_before = set(sys.modules)
        cfg = self.project.alembic_config
        saved_url = _raw_url(cfg)  # as written: `%(DB_URI)s` may name a key env.py sets
        _prefer_psycopg_for_plain_urls()
        workdir = self.project.flask_root or self.project.root
        with working_directory(workdir), contextlib.ExitStack() as stack:
            try:
                url = _keep_driver(_interpolated_url(cfg), self._sqlalchemy_url)
                if url.startswith("postgresql+psycopg://") and _ASYNC_ENV.search(
                    self.project.env_source
                ):
                    # an async env.py given no async driver (pytest-alembic hands it a
                    # connection, so its alembic.ini may name none): psycopg's async one
                    url = url.replace("+psycopg://", "+psycopg_async://", 1)
                cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
                stack.enter_context(url_variables(self._url_env, self._libpq_url))
                self._listen(stack)
                if self.project.flask_root is not None:
                    from migproof.chain.flaskapp import (
                        app_import_path,
                        flask_app_context,
                        uses_binds,
                    )

                    named = app_import_path(self._flask_app, workdir)
                    multidb = uses_binds(self.project.env_source)
                    stack.enter_context(
                        flask_app_context(
                            named,
                            self._sqlalchemy_url,
                            multidb=multidb,
                            setting=self._flask_setting,
                        )
                    )
                # what env.py and the revisions print goes to stderr: stdout carries the
                # report (`--format json > report.json`)
                stack.enter_context(contextlib.redirect_stdout(sys.stderr))
                self.recorder.install()
                previous_disable = logging.root.manager.disable
                logging.disable(logging.WARNING)
                try:
                    yield self
                finally:
                    logging.disable(previous_disable)
                    self.recorder.uninstall()
            finally:
                stack.close()
                # the project's modules env.py imported (models, settings): the next run in
                # this process (another project, the pytest plugin) imports them afresh
                unload_modules(workdir, among=set(sys.modules) - modules_before)
                if saved_url is not None:
                    cfg.set_main_option("sqlalchemy.url", saved_url)
                elif cfg.file_config.has_section(cfg.config_ini_section):  # it had none
                    cfg.file_config.remove_option(cfg.config_ini_section, "sqlalchemy.url")

    def _listen(self, stack: contextlib.ExitStack) -> None:
        """SQLAlchemy's events for every engine env.py and the project make, until ``stack``
        closes: connections checked, engines noted, placeholders redirected, sessions parked."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        for target, name, listener in (
            (Engine, "do_connect", self._refuse_other_dialects),  # before anything connects
            (Pool, "connect", self._check_target),
            (Engine, "engine_connect", self._note_engine),
            (Engine, "do_connect", self._redirect_placeholder),  # before parking: it retargets
            (Engine, "do_connect", self._unix_socket_for_pg8000),
            (Engine, "do_connect", self._park),
        ):
            event.listen(target, name, listener)
            stack.callback(event.remove, target, name, listener)
        stack.callback(self.parking.close)

    def _note_engine(self, connection: Any) -> None:
        self._engines.add(connection.engine)

    def _refuse_other_dialects(
        self, dialect: Any, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]
    ) -> None:
        """An engine of another database (the application's SQLite default: airflow's,
        mailman's) is refused before it connects: connecting would create its file."""
        del conn_rec
        if dialect.name == "postgresql":
            return  # which server and database: checked once connected (_check_target)
        where = next((str(a) for a in cargs if a), None) or cparams.get("database")
        what = f"a {_DIALECTS.get(dialect.name, dialect.name)} database"
        raise DatabaseError(
            f"env.py (or code it imports) connects to {what}{f' ({where})' if where else ''},"
            " not to migproof's scratch PostgreSQL database: refusing to run migrations there",
            fix=_ELSEWHERE_FIX,
        )

    def _redirect_placeholder(
        self, dialect: Any, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]
    ) -> None:
        """An engine made from the placeholder URL the url-env variables held while the
        revision files were imported (an application's settings, frozen then) connects to
        this stepper's scratch database, with the driver it names."""
        from sqlalchemy.engine import make_url

        del conn_rec
        if cparams.get("host") != PLACEHOLDER_HOST:
            return
        url = make_url(self._sqlalchemy_url).set(drivername=f"{dialect.name}+{dialect.driver}")
        args, params = dialect.create_connect_args(url)
        cargs[:] = list(args)
        cparams.clear()
        cparams.update(params)

    def _unix_socket_for_pg8000(
        self, dialect: Any, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]
    ) -> None:
        # a listener of this stepper's own: SQLAlchemy keys listeners by function, and a
        # second session's removal of a shared one would fail
        unix_socket_for_pg8000(dialect, conn_rec, cargs, cparams)

    def _park(self, dialect: Any, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        """A connection to the scratch database through psycopg (synchronous) comes from
        the parking: the session the last env.py run closed, reset, when there is one."""
        del conn_rec
        if (
            dialect.driver != "psycopg"
            or dialect.is_async  # psycopg's async dialect has the same driver name
            or cparams.get("dbname") != self._dbname
            or cargs
        ):
            return None
        return self.parking.connect(cargs, cparams)

    def _check_target(self, dbapi_connection: Any, connection_record: Any) -> None:
        del connection_record
        driver = driver_name(dbapi_connection)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SELECT current_setting('{SCRATCH_SETTING}', true), current_database()")
            row = cursor.fetchone()
            if not getattr(dbapi_connection, "autocommit", False):
                # end the transaction the query began: SQLAlchemy sets an engine's
                # isolation_level next, which psycopg refuses inside one (prefect's engine)
                dbapi_connection.rollback()
        except Exception as exc:  # not PostgreSQL: SQLite has no current_setting()
            raise DatabaseError(
                f"env.py (or code it imports) opened {_opened(driver, exc)},"
                " not one to migproof's scratch PostgreSQL database: refusing to run"
                " migrations there",
                fix=_ELSEWHERE_FIX,
            ) from exc
        finally:
            cursor.close()
        if not row or row[0] != self._token:
            database = row[1] if row else "?"
            raise DatabaseError(
                f"env.py connected to database {database!r}, not to migproof's scratch database: "
                "refusing to run migrations there",
                fix="make env.py take its URL from the Alembic config (sqlalchemy.url) or from an "
                "environment variable, and name that variable with --url-env",
            )

    # -- steps ----------------------------------------------------------------------------

    def upgrade_to(self, target: str | tuple[str, ...]) -> StepFailure | None:
        """Everything up to ``target`` ("heads", ids) in one run, as ``alembic upgrade``."""
        label = target if isinstance(target, str) else ",".join(target)
        self.recorder.step = (label, "upgrade")
        self._fresh_modules()
        return self._run(lambda heads: self.script_dir._upgrade_revs(target, heads), label)

    def downgrade_to_base(self) -> StepFailure | None:
        """Everything down to base in one run, as ``alembic downgrade base``."""
        self.recorder.step = ("base", "downgrade")
        self._fresh_modules()
        return self._run(lambda heads: self.script_dir._downgrade_revs("base", heads), "base")

    def step(self, revision: str, *, up: bool) -> Any:
        """Alembic's MigrationStep for one revision in one direction; statements recorded
        from now on are attributed to it."""
        from alembic.runtime.migration import MigrationStep

        self.recorder.step = (revision, "upgrade" if up else "downgrade")
        script = self.script_dir.get_revision(revision)
        self._fresh_module(script)
        revision_map = self.script_dir.revision_map
        if up:
            return MigrationStep.upgrade_from_script(revision_map, script)
        return MigrationStep.downgrade_from_script(revision_map, script)

    def _fresh_module(self, script: Any) -> None:
        """Load a revision file again before it runs a second time, when its top-level code
        makes objects its functions may change (a module-level MetaData that upgrade() and
        downgrade() each add the same Table to): each `alembic` command loads it afresh."""
        from alembic.util.pyfiles import load_python_file

        rid = script.revision
        revision = self.project.graph.by_id.get(rid)
        if rid in self._ran and revision is not None and revision.module_state:
            path = Path(script.path)
            with contextlib.suppress(Exception):  # it loaded once: keep that module
                script.module = load_python_file(str(path.parent), path.name)
        self._ran.add(rid)

    def _fresh_modules(self) -> None:
        """Before a run of many revisions (``upgrade_to``, ``downgrade_to_base``)."""
        for rid in list(self._ran):
            self._fresh_module(self.script_dir.get_revision(rid))
        self._ran.update(self.project.graph.by_id)

    def run_steps(self, steps: Iterator[Any]) -> StepFailure | None:
        """Apply every step ``steps`` yields, each committed before the next is asked for.

        One env.py run serves them all: Alembic pulls steps lazily and, with
        ``transaction_per_migration`` forced on, commits each one before it pulls the next,
        so the generator can look at the database from another connection between steps.
        When env.py wraps the run in an outer transaction of its own (nothing would be
        committed), the first step is rolled back with it, and from then on every step gets
        an env.py run of its own.
        """
        if self._one_run_per_step:
            return self._run_each(steps)
        pulled: list[Any] = []

        def committed(context: Any) -> Iterator[Any]:
            for item in steps:
                pulled.append(item)
                # SQLAlchemy remembers in this memo which named types it already created in
                # the run; separate `alembic` runs start with it empty, and so must each step
                getattr(context.impl, "memo", {}).clear()
                yield item
                if (
                    len(pulled) == 1
                    and context.connection is not None
                    and context.connection.in_transaction()
                ):
                    raise _OuterTransactionError

        try:
            return self._run(committed, "steps", per_migration=True)
        except _OuterTransactionError:
            self._one_run_per_step = True
            # what env.py makes before the first step (its version table's schema) was
            # rolled back with it: a run with no step commits it, as the base's
            failure = self._run(lambda _heads: [], "base")
            if failure is not None:
                return failure
            if self.before_own_runs is not None:
                self.before_own_runs()
            return self._run_each(itertools.chain(pulled[:1], steps))

    def _run_each(self, steps: Iterator[Any]) -> StepFailure | None:
        for item in steps:  # lazily: the generator looks at the database between steps
            failure = self._run(lambda _heads, item=item: [item], item.revision.revision)
            if failure is not None:
                return failure
        return None

    def _run(
        self, steps: Callable[..., Any], destination: str, *, per_migration: bool = False
    ) -> StepFailure | None:
        """Run env.py once; ``steps(current_heads)`` (or ``steps(context)`` for generators)
        gives the migration steps to apply."""

        def fn(heads: Any, context: Any) -> Any:
            self.version_table = (
                getattr(context, "version_table_schema", None),
                context.version_table,
            )
            return steps(context) if per_migration else steps(heads)

        self.recorder.last = None
        step = self.recorder.step
        try:
            self._run_env(fn, destination, per_migration=per_migration)
        except (DatabaseError, StepInterrupt, _OuterTransactionError):
            raise
        except (Exception, SystemExit) as exc:  # a finding, not a crash (sys.exit() too:
            # an env.py that only runs under the project's own command must not end migproof)
            if self.recorder.step is None and self._may_offer_connection():
                # before Alembic asked for a step: env.py itself failed, and it may be one
                # written for programmatic runs only, which needs a connection handed in
                failure = self._failure("", "upgrade", exc, in_env=True)
                self._give_connection = True
                self.recorder.step = step
                retried = self._run(steps, destination, per_migration=per_migration)
                if retried is None or not retried.in_env:
                    return retried
                self._give_connection = False
                return failure  # the error env.py gives as `alembic` runs it
            step = self.recorder.step
            if step is None:  # before Alembic asked for a step: env.py itself failed
                return self._failure("", "upgrade", exc, in_env=True)
            return self._failure(step[0], step[1], exc)
        finally:
            self.recorder.step = None
        return None

    def _run_env(self, fn: Callable[..., Any], destination: str, *, per_migration: bool) -> None:
        from alembic.runtime.environment import EnvironmentContext

        attributes = self.project.alembic_config.attributes
        self.recorder.begin_run()
        self._printed.clear()
        with contextlib.ExitStack() as stack:
            stack.enter_context(self._printed.tapping())
            if self._give_connection:
                attributes["connection"] = stack.enter_context(self._connection())
                stack.callback(attributes.pop, "connection", None)
            environment = EnvironmentContext(
                self.project.alembic_config, self.script_dir, fn=fn, destination_rev=destination
            )
            _watch_configure(environment, self.configure_options, per_migration=per_migration)
            with environment:
                self.script_dir.run_env()

    def _may_offer_connection(self) -> bool:
        """Whether an env.py that failed before any step may be one that needs a connection
        in ``config.attributes["connection"]`` (Alembic's cookbook recipe for running
        migrations from code; dagster's env.py raises without one): not yet tried, none
        there already, and env.py connected nowhere itself."""
        return (
            not self._give_connection
            and "connection" not in self.project.alembic_config.attributes
            and self.configure_options.get("connection") is None
        )

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A connection to the scratch database for ``config.attributes["connection"]``:
        synchronous, as the recipe's ``context.configure(connection=...)`` takes it, and
        not in a transaction, so Alembic commits each migration itself."""
        from sqlalchemy import create_engine, pool

        url = self.project.alembic_config.get_main_option("sqlalchemy.url") or ""
        for driver in ("+psycopg_async://", "+asyncpg://"):
            url = url.replace(driver, "+psycopg://", 1)
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def _failure(
        self, revision: str, direction: str, exc: BaseException, *, in_env: bool = False
    ) -> StepFailure:
        last = self.recorder.last
        statement, path, line = last if last else (None, None, None)
        error, sqlstate, failed_statement, from_database = _describe_error(exc)
        if isinstance(exc, SystemExit) and self._printed.text().strip():
            # an env.py that only runs under the project's own command says why, then exits
            error += f", after it printed: {self._printed.text().strip()}"
        if failed_statement:
            statement = failed_statement
        elif not from_database:  # Python raised it: the last statement sent did not fail
            statement, path, line = None, None, None
        frame_path, frame_line = self._revision_frame(exc)
        if frame_path is not None and (path is None or failed_statement is None):
            path, line = frame_path, frame_line
        called = self._call_refused(exc, revision, frame_path)
        if called is not None:  # Alembic's call of the revision's function failed: there
            path, line = called
        # in a multi-revision run, the file the error came from names the revision
        by_path = {f.path: f.revision for f in self.project.graph.files if f.revision}
        revision = by_path.get(path, revision) if path is not None else revision
        return StepFailure(
            revision=revision,
            direction=direction,
            error=error,
            statement=statement,
            path=path,
            line=line,
            timeout=TIMEOUT_STATES.get(sqlstate or ""),
            from_database=from_database,
            in_env=in_env,
            sqlstate=sqlstate,
        )

    def _call_refused(
        self, exc: BaseException, revision: str, frame_path: Path | None
    ) -> tuple[Path, int | None] | None:
        """The revision's ``def`` line when calling its ``upgrade()`` or ``downgrade()`` raised
        TypeError: env.py passed ``context.run_migrations()`` keyword arguments the function
        does not take (zuul's ``table_prefix``). No frame of the revision is in the traceback;
        the last known one is env.py's."""
        if not isinstance(exc, TypeError):
            return None
        function = str(exc).partition("(")[0]
        rev = self.project.graph.by_id.get(revision)
        if rev is None or function not in ("upgrade", "downgrade") or frame_path == rev.path:
            return None
        if frame_path is not None and frame_path != self.project.script_location / "env.py":
            return None  # raised in another revision's code
        return rev.path, rev.upgrade_line if function == "upgrade" else rev.downgrade_line

    def _revision_frame(self, exc: BaseException) -> tuple[Path | None, int | None]:
        paths = {os.path.realpath(f.path): f.path for f in self.project.graph.files}
        env_py = self.project.script_location / "env.py"
        paths[os.path.realpath(env_py)] = env_py
        found: tuple[Path | None, int | None] = (None, None)
        for frame in traceback.extract_tb(exc.__traceback__):
            path = paths.get(os.path.realpath(frame.filename))
            if path is not None:
                found = (path, frame.lineno)
        return found


def driver_name(dbapi_connection: Any) -> str:
    """The driver a DBAPI connection comes from: ``sqlite3``, ``psycopg2``; an async one
    is wrapped in SQLAlchemy's adapter, whose module is named after it (dstack's default
    database: ``sqlalchemy.dialects.sqlite.aiosqlite``)."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlalchemy."):
        return module.rpartition(".")[2]
    return module.split(".")[0]


def unix_socket_for_pg8000(
    dialect: Any, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]
) -> None:
    """pg8000 reaches a Unix socket only through ``unix_sock``; SQLAlchemy hands it the
    URL's ``host``, a directory for the sandbox (libpq's way), which it would dial as a TCP
    host name (letta's env.py makes every URL pg8000's)."""
    del conn_rec, cargs
    host = cparams.get("host")
    if dialect.driver == "pg8000" and isinstance(host, str) and host.startswith("/"):
        del cparams["host"]
        port = cparams.pop("port", None) or 5432
        cparams["unix_sock"] = f"{host}/.s.PGSQL.{port}"


def _describe_error(exc: BaseException) -> tuple[str, str | None, str | None, bool]:
    """The message, SQLSTATE, failing statement, and whether PostgreSQL raised it."""
    exc = _database_error_within(exc)
    statement = getattr(exc, "statement", None)
    orig = getattr(exc, "orig", None) or exc
    sqlstate = pg_sqlstate(orig)
    message = pg_message(orig)
    from_database = bool(sqlstate) or orig is not exc
    if isinstance(exc, SystemExit):
        message = f"SystemExit: sys.exit({exc.code!r}) was called"
    elif not from_database:
        message = f"{type(exc).__name__}: {message}"
    if PLACEHOLDER_HOST in message:
        message += (
            f" ({PLACEHOLDER_HOST} is what the url-env variables held while migproof imported"
            " the revision files; a connection made by hand from a URL read then cannot be"
            " pointed at the scratch database: read the variable when connecting)"
        )
    return message, sqlstate, statement if isinstance(statement, str) else None, from_database


def _database_error_within(exc: BaseException) -> BaseException:
    """The SQLAlchemy or driver error an application's wrapper raised from (oslo.db's
    DBError keeps it as ``inner_exception`` and its cause): it has the statement and the
    SQLSTATE. ``exc`` itself when it has them, or when nothing within does."""
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(getattr(current, "statement", None), str) or getattr(
            current, "sqlstate", None
        ):
            return current
        inner = getattr(current, "inner_exception", None)
        current = inner if isinstance(inner, BaseException) else current.__cause__
    return exc


def _database_of(url: str) -> str | None:
    """The database a SQLAlchemy URL names."""
    from sqlalchemy.engine import make_url

    return make_url(url).database


def _keep_driver(existing: str | None, url: str) -> str:
    """The scratch URL with the driver the project's own sqlalchemy.url names (asyncpg,
    psycopg2 when it is installed: a revision may use its API, glance's `execute_values`)."""
    import importlib.util

    if existing and "://" in existing:
        scheme = existing.split("://", 1)[0]
        if "psycopg2" in scheme and importlib.util.find_spec("psycopg2") is None:
            return url  # named but not installed here: psycopg 3 serves as well
        if scheme.startswith(("postgresql+", "postgres+")):
            return scheme.replace("postgres+", "postgresql+", 1) + "://" + url.split("://", 1)[1]
    return url


# an env.py that builds an asyncio engine from the URL it is given
_ASYNC_ENV = re.compile(r"\basync_engine_from_config\b|\bcreate_async_engine\b|\bAsyncEngine\(")


def _prefer_psycopg_for_plain_urls() -> None:
    """``postgresql://`` means psycopg2 to SQLAlchemy 2.0 (psycopg 3 from 2.1); without
    psycopg2, use psycopg 3 whatever the version."""
    import importlib.util

    if importlib.util.find_spec("psycopg2") is not None:
        return
    from sqlalchemy.dialects import registry

    registry.register("postgresql", "sqlalchemy.dialects.postgresql.psycopg", "dialect")


def _opened(driver: str, error: Exception) -> str:
    """What env.py connected to instead, in the user's words. An engine of another dialect
    is refused before it connects (``_refuse_other_dialects``); one made with a ``creator``
    of its own connects without asking, and is met here."""
    if "sqlite" in driver:
        return "a SQLite database"  # the probe's "no such function: current_setting" says nothing
    return f"a {driver} connection ({type(error).__name__}: {error})"


class _Tail:
    """The last lines the project printed during one env.py run (through ``sys.stdout`` and
    ``sys.stderr``, still written where they were going): a ``sys.exit()`` in env.py is
    explained by what it printed before (octavia: "Please use the octavia-db-manage
    command"), which the finding then quotes."""

    _KEEP = 400  # characters

    def __init__(self) -> None:
        self._text = ""

    def clear(self) -> None:
        self._text = ""

    def text(self) -> str:
        return self._text

    def write(self, text: str) -> None:
        self._text = (self._text + text)[-self._KEEP :]

    @contextmanager
    def tapping(self) -> Iterator[None]:
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(saved[0], self), _Tee(saved[1], self)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


class _Tee:
    """A text stream that also hands what is written to a ``_Tail``."""

    def __init__(self, stream: Any, tail: _Tail) -> None:
        self._stream = stream
        self._tail = tail

    def write(self, text: str) -> int:
        self._tail.write(text)
        self._stream.write(text)  # some streams return None (colorama's, celery's proxy)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _raw_url(cfg: Any) -> str | None:
    """``sqlalchemy.url`` as the configuration holds it, uninterpolated."""
    if not cfg.file_config.has_section(cfg.config_ini_section):
        return None
    value = cfg.file_config.get(cfg.config_ini_section, "sqlalchemy.url", raw=True, fallback=None)
    return value if isinstance(value, str) else None


def _interpolated_url(cfg: Any) -> str | None:
    """``sqlalchemy.url`` as Alembic reads it; None when it interpolates a key only env.py
    sets (cognee's ``%(SQLALCHEMY_DATABASE_URI)s``): its driver is then unknown."""
    try:
        value = cfg.get_main_option("sqlalchemy.url")
    except configparser.Error:
        return None
    return value if isinstance(value, str) else None


_DIALECTS = {"sqlite": "SQLite", "mysql": "MySQL", "mssql": "SQL Server", "oracle": "Oracle"}
_ELSEWHERE_FIX = (
    "make env.py take its URL from the Alembic config (sqlalchemy.url) or from an environment"
    " variable, and name that variable with --url-env; an env.py that reads it from the"
    " application's own configuration file needs a copy that does (docs/verify.md)"
)
