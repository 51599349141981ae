"""Scratch databases: created with migproof's prefix, cloned from templates, always dropped.

``DatabaseHost`` is what every check uses to get a database; ``Sandbox`` (server.py) is one
on a private cluster, ``ScratchServer`` one on an existing server given by --database-url,
where migproof creates and drops databases of its own and never touches any other.
"""

from __future__ import annotations

import abc
import os
import secrets
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

from migproof.errors import DatabaseError, mask_password

if TYPE_CHECKING:
    import psycopg

# psycopg is imported where it is used: `migproof --help` need not load it, and Sandbox
# imports it while its server gets ready (server.py), off the start-up path.

__all__ = [
    "SCRATCH_PREFIX",
    "DatabaseHost",
    "ScratchServer",
    "connection_failure_reason",
    "connection_fix",
    "first_line",
    "pg_message",
    "scratch_name",
]

SCRATCH_PREFIX = "migproof_"
_CONNECT_TIMEOUT = 10
# Admin connections a fork()ed child inherited: kept referenced, because freeing one would
# end its session, which the parent shares, on the server.
_INHERITED: list[object] = []
_T = TypeVar("_T")


def scratch_name(purpose: str = "db") -> str:
    """A fresh database name: migproof's prefix, a purpose and a random suffix."""
    return f"{SCRATCH_PREFIX}{purpose}_{secrets.token_hex(4)}"


class DatabaseHost(abc.ABC):
    """A PostgreSQL server on which migproof may create, clone and drop its own databases."""

    def __init__(self) -> None:
        self._created: list[str] = []
        self._admin_conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._admin_pid = 0

    @property
    @abc.abstractmethod
    def admin_database(self) -> str:
        """The database migproof connects to in order to create and drop others."""

    @abc.abstractmethod
    def url_for(self, dbname: str) -> str:
        """A libpq URL for one database of this host."""

    @property
    def url(self) -> str:
        """The libpq URL of the admin database."""
        return self.url_for(self.admin_database)

    def sqlalchemy_url_for(self, dbname: str) -> str:
        """The same URL for SQLAlchemy with psycopg 3: ``postgresql+psycopg://…``."""
        return "postgresql+psycopg" + self.url_for(dbname).removeprefix("postgresql")

    def connect(
        self, dbname: str | None = None, *, autocommit: bool = True
    ) -> psycopg.Connection[tuple[object, ...]]:
        """Open a connection to ``dbname`` (default: the admin database)."""
        import psycopg

        url = self.url_for(dbname or self.admin_database)
        try:
            return psycopg.connect(url, autocommit=autocommit, connect_timeout=_CONNECT_TIMEOUT)
        except psycopg.OperationalError as exc:
            reason = connection_failure_reason(exc)
            raise DatabaseError(
                f"cannot connect to {mask_password(url)} ({reason})",
                fix=connection_fix(reason),
            ) from exc

    def on_admin(self, work: Callable[[psycopg.Connection[tuple[object, ...]]], _T]) -> _T:
        """``work(conn)`` on the admin database's connection (autocommit), kept open.

        Creating and dropping databases is frequent (verify makes a few per run) and a new
        connection costs as much as the statement, so one is opened per process (a fork()ed
        child opens its own). ``work`` must be safe to run twice: when the kept session
        turns out to be gone (a server-side timeout, a restart), it runs again on a new one.
        """
        import psycopg

        conn = self._admin_session()
        try:
            return work(conn)
        except psycopg.OperationalError:
            if not conn.broken:
                raise
            self._close_admin()
        return work(self._admin_session())

    def _admin_session(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = self._admin_conn
        if conn is not None and self._admin_pid != os.getpid():
            _INHERITED.append(conn)
            conn = None
        if conn is None or conn.closed:
            conn = self._admin_conn = self.connect()
            self._admin_pid = os.getpid()
        return conn

    def _close_admin(self) -> None:
        conn, self._admin_conn = self._admin_conn, None
        if conn is not None and self._admin_pid == os.getpid():
            conn.close()

    @property
    def created(self) -> tuple[str, ...]:
        """The databases this host created and has not dropped yet."""
        return tuple(self._created)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (a clone of ``template`` when given) and return its name.

        >>> with Sandbox() as pg:                       # doctest: +SKIP
        ...     base = pg.create_database()
        ...     clone = pg.create_database(template=base)
        """
        import psycopg
        from psycopg import sql

        name = name or scratch_name()
        self._check_may_create(name)
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            self._check_owned(template, "clone")
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )

        def create(conn: psycopg.Connection[tuple[object, ...]]) -> None:
            if template is not None:
                _end_connections(conn, template)
            try:
                conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege as exc:
                raise _no_createdb(self.url, conn.info.user, first_line(exc)) from exc
            except psycopg.errors.DuplicateDatabase as exc:
                raise DatabaseError(
                    f"database {name} already exists", fix="choose another name"
                ) from exc

        self.on_admin(create)
        self._created.append(name)
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database this host created; any other database is refused."""
        from psycopg import sql

        self._check_owned(name, "drop")

        def drop(conn: psycopg.Connection[tuple[object, ...]]) -> None:
            _end_connections(conn, name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

        self.on_admin(drop)
        self._created.remove(name)

    def drop_all(self) -> None:
        """Drop every database this host created, newest first; one failure stops none."""
        import psycopg

        failure: DatabaseError | None = None
        for name in reversed(self._created[:]):
            try:
                self.drop_database(name)
            except (DatabaseError, psycopg.Error) as exc:
                failure = failure or _drop_failed(name, self.url, exc)
        if failure is not None:
            raise failure

    @contextmanager
    def database(self, *, template: str | None = None) -> Iterator[str]:
        """A scratch database for the duration of a ``with`` block."""
        name = self.create_database(template=template)
        try:
            yield name
        finally:
            self.drop_database(name)

    def _check_may_create(self, name: str) -> None:
        del name

    def _check_owned(self, name: str, action: str) -> None:
        if name not in self._created:
            raise DatabaseError(
                f"refusing to {action} database {name}: migproof did not create it",
                fix="migproof only clones and drops scratch databases it created in this run",
            )

    @abc.abstractmethod
    def close(self) -> None:
        """Drop what was created and release the server."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ScratchServer(DatabaseHost):
    """An existing server (``--database-url``): scratch databases only, all dropped on close."""

    def __init__(self, url: str) -> None:
        import psycopg

        super().__init__()
        self._url = url
        parsed = psycopg.conninfo.conninfo_to_dict(url)
        self._admin = str(parsed.get("dbname") or "postgres")
        self._check_server()

    @property
    def admin_database(self) -> str:
        return self._admin

    def url_for(self, dbname: str) -> str:
        parts = urllib.parse.urlsplit(self._url)
        if parts.scheme in ("postgresql", "postgres"):
            path = "/" + urllib.parse.quote(dbname)
            return urllib.parse.urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))
        import psycopg

        return psycopg.conninfo.make_conninfo(self._url, dbname=dbname)

    def _check_server(self) -> None:
        row, role = self.on_admin(
            lambda conn: (
                conn.execute(
                    "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
                ).fetchone(),
                conn.info.user,
            )
        )
        if not row or not row[0]:
            self._close_admin()  # nobody will close() a host that failed to construct
            raise _no_createdb(self._url, role, "it has neither CREATEDB nor SUPERUSER")

    def _check_may_create(self, name: str) -> None:
        if not name.startswith(SCRATCH_PREFIX):
            raise DatabaseError(
                f"refusing to create database {name} on {mask_password(self._url)}",
                fix=f"scratch databases on an existing server must start with {SCRATCH_PREFIX!r}",
            )

    def close(self) -> None:
        try:
            self.drop_all()
        finally:
            self._close_admin()


def _end_connections(conn: psycopg.Connection[tuple[object, ...]], dbname: str) -> None:
    """End other sessions on a scratch database, as CREATE … TEMPLATE and DROP need, and
    wait until they are gone: the server itself would wait in steps of 100 ms."""
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        row = conn.execute(  # signalling one already ending again is harmless
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchone()
        if not row or not row[0]:
            return
        time.sleep(0.001)


def first_line(exc: BaseException) -> str:
    """PostgreSQL's primary message: the first line (DETAIL and HINT lines follow it)."""
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def pg_message(exc: BaseException) -> str:
    """A driver error as PostgreSQL words it: the primary message, its DETAIL in brackets;
    the first line of the text for an error without PostgreSQL's diagnostics.

    psycopg keeps them in ``diag``; pg8000 in a dict of the protocol's field codes as its
    first argument (``M`` the message, ``D`` the detail, ``C`` the SQLSTATE).

    >>> pg_message(Exception({"S": "ERROR", "C": "42704", "M": 'type "vector" does not exist'}))
    'type "vector" does not exist'
    """
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    detail = getattr(diag, "message_detail", None)
    fields = _protocol_fields(exc)
    if not primary and fields:
        primary, detail = fields.get("M"), fields.get("D")
    if not primary:
        return first_line(exc)
    return str(primary) + (f" ({detail})" if detail else "")


def pg_sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error: psycopg's ``sqlstate``, psycopg2's ``pgcode``,
    pg8000's ``C`` field; None for an error that did not come from the server."""
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if code:
        return str(code)
    code = _protocol_fields(exc).get("C")
    return str(code) if code else None


def _protocol_fields(exc: BaseException) -> dict[str, str]:
    """pg8000's error fields (a dict of one-letter codes as the first argument), or {}."""
    first = exc.args[0] if exc.args else None
    if isinstance(first, dict) and isinstance(first.get("M"), str):
        return {str(k): str(v) for k, v in first.items()}
    return {}


def connection_failure_reason(exc: BaseException) -> str:
    """The useful line of a libpq connection error.

    psycopg prefixes libpq's message ("connection failed: ") and libpq appends a hint on a
    second line ("Is the server running …?"); the first line after the prefixes says what
    went wrong and where.

    >>> connection_failure_reason(Exception('connection failed: connection to server at '
    ...     '"127.0.0.1", port 1 failed: Connection refused\\n\\tIs the server running?'))
    'connection to server at "127.0.0.1", port 1 failed: Connection refused'
    """
    line = first_line(exc)
    for prefix in ("connection failed: ", "connection is bad: "):
        line = line.removeprefix(prefix)
    return line.replace("FATAL:  ", "")


def connection_fix(reason: str) -> str:
    """How to mend the connection failure ``reason`` names."""
    lowered = reason.lower()
    if "password" in lowered or ("role" in lowered and "does not exist" in lowered):
        return "check the user name and password in the URL"
    if "database" in lowered and "does not exist" in lowered:
        return "name an existing database in the URL (postgres exists on most servers)"
    return (
        "check the host and port and that the server is running, or leave out "
        "--database-url to use a private sandbox"
    )


def _no_createdb(url: str, role: str, reason: str) -> DatabaseError:
    from psycopg import sql

    return DatabaseError(
        f"role {role} of {mask_password(url)} may not create databases ({reason})",
        fix=f"as a superuser run `ALTER ROLE {sql.Identifier(role).as_string()} CREATEDB`, "
        "or leave out --database-url to use a private sandbox",
    )


def _drop_failed(name: str, url: str, exc: BaseException) -> DatabaseError:
    from psycopg import sql

    return DatabaseError(
        f"could not drop scratch database {name} on {mask_password(url)} ({first_line(exc)})",
        fix=f"drop it by hand: DROP DATABASE {sql.Identifier(name).as_string()}",
    )
