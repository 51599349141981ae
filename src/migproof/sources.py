"""SOURCE -> Snapshot: a database URL, a ``.sql`` file, a saved snapshot, an Alembic revision.

A database URL is only read (a read-only session; nothing is created there). A ``.sql`` file
and an Alembic revision are materialised in a scratch database of the host from
``open_host(config)`` (a private sandbox, or ``--database-url``), which is started on first
need and torn down when the ``Sources`` block ends.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import sql

from migproof.catalog import Snapshot, SnapshotFilter, SnapshotFormatError, take_snapshot
from migproof.config import Config
from migproof.errors import DatabaseError, SourceError, mask_password
from migproof.sandbox import DatabaseHost, open_host
from migproof.sandbox.databases import connection_failure_reason, first_line

__all__ = [
    "ParsedSource",
    "SourceKind",
    "Sources",
    "apply_sql_file",
    "parse_source",
    "snapshot_sql_file",
    "without_psql_meta",
]

_URL_PREFIXES = ("postgresql://", "postgres://")
_FORMS = (
    "a database URL (postgresql://…), a .sql file, a saved snapshot (.json), "
    "or alembic:head / alembic:<revision> / alembic:base"
)
_CONNECT_TIMEOUT = 10
# psql meta-commands pg_dump 17.6+ writes around a dump; they are not SQL.
_IGNORED_META = ("\\restrict", "\\unrestrict")


class SourceKind(enum.Enum):
    URL = "url"
    SQL_FILE = "sql"
    SNAPSHOT_FILE = "snapshot"
    ALEMBIC = "alembic"


@dataclass(frozen=True, slots=True)
class ParsedSource:
    """What a SOURCE argument names: its kind and the URL, path or revision in it."""

    kind: SourceKind
    text: str
    target: str


def parse_source(source: str) -> ParsedSource:
    """Classify a SOURCE; SourceError for a form migproof does not know.

    >>> parse_source("alembic:head").target
    'head'
    """
    if source.startswith(_URL_PREFIXES):
        return ParsedSource(SourceKind.URL, source, source)
    if source.startswith("alembic:"):
        revision = source.removeprefix("alembic:").strip()
        if not revision:
            raise SourceError(
                f"{source!r} names no revision",
                fix="write alembic:head, alembic:<rev> or alembic:base",
            )
        return ParsedSource(SourceKind.ALEMBIC, source, revision)
    suffix = Path(source).suffix.lower()
    if suffix == ".sql":
        return ParsedSource(SourceKind.SQL_FILE, source, source)
    if suffix == ".json":
        return ParsedSource(SourceKind.SNAPSHOT_FILE, source, source)
    raise SourceError(f"unknown SOURCE {source!r}", fix=f"give {_FORMS}")


class Sources:
    """Snapshots of SOURCEs, sharing one lazily started host for those that need a database.

    >>> with Sources(config) as sources:                       # doctest: +SKIP
    ...     diff_snapshots(sources.snapshot("schema.sql"), sources.snapshot("alembic:head"))
    """

    def __init__(
        self,
        config: Config,
        filters: SnapshotFilter | None = None,
        host: DatabaseHost | None = None,
    ) -> None:
        self._config = config
        self._filters = filters or SnapshotFilter.from_config(config)
        self._host = host
        self._owns_host = host is None

    @property
    def host(self) -> DatabaseHost:
        """The sandbox or scratch server, started on first use."""
        if self._host is None:
            self._host = open_host(self._config)
        return self._host

    def snapshot(self, source: str) -> Snapshot:
        """The snapshot SOURCE describes."""
        parsed = parse_source(source)
        match parsed.kind:
            case SourceKind.URL:
                return self._snapshot_url(parsed.target)
            case SourceKind.SNAPSHOT_FILE:
                return read_snapshot_file(Path(parsed.target))
            case SourceKind.SQL_FILE:
                return snapshot_sql_file(
                    self.host, Path(parsed.target), self._filters, self._config
                )
            case SourceKind.ALEMBIC:
                return self._snapshot_alembic(parsed.target)

    def _snapshot_url(self, url: str) -> Snapshot:
        try:
            # Keep the URL's own options (a search_path, a role) and add read-only on top.
            given = psycopg.conninfo.conninfo_to_dict(url).get("options") or ""
            conn = psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=_CONNECT_TIMEOUT,
                options=f"{given} -c default_transaction_read_only=on".strip(),
            )
        except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
            raise DatabaseError(
                f"cannot connect to {mask_password(url)} ({connection_failure_reason(exc)})",
                fix="check the host, port, database name and credentials",
            ) from exc
        with conn:
            return take_snapshot(conn, self._filters)

    def _snapshot_alembic(self, revision: str) -> Snapshot:
        try:
            from migproof.chain import database_at
        except ImportError as exc:
            raise SourceError(
                f"alembic:{revision} cannot be read: this build of migproof has no Alembic "
                "chain support (migproof.chain)",
                fix="use a .sql file, a saved snapshot or a database URL instead",
            ) from exc
        dbname: str = database_at(self._config, self.host, revision)
        with self.host.connect(dbname) as conn:
            return take_snapshot(conn, self._filters)

    def close(self) -> None:
        """Drop every scratch database and stop the sandbox this object started."""
        if self._host is not None and self._owns_host:
            self._host.close()
            self._host = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_snapshot_file(path: Path) -> Snapshot:
    """A snapshot saved with ``migproof snapshot … --format json``."""
    if not path.is_file():
        raise SourceError(
            f"no such snapshot file: {path}",
            fix="check the path, or write one with `migproof snapshot SOURCE --output FILE.json`",
        )
    try:
        return Snapshot.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    except SnapshotFormatError as exc:
        raise SourceError(
            f"{path} is not a migproof snapshot: {exc}",
            fix="write it with `migproof snapshot SOURCE --output FILE.json`",
        ) from exc


def read_sql(path: Path) -> str:
    """A SQL file's text, the psql meta-commands of a pg_dump file made SQL."""
    if not path.is_file():
        raise SourceError(f"no such SQL file: {path}", fix="check the path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}", fix="save it as UTF-8 text") from exc
    return without_psql_meta(text, path)


def without_psql_meta(text: str, path: Path) -> str:
    """``text`` as SQL alone, line numbers kept: the psql meta-commands pg_dump writes
    (``\\restrict``) blanked, and the rows of its ``COPY … FROM stdin;`` blocks (a data dump,
    pg_dump's default) made one ``INSERT`` each. Any other meta-command (a line starting
    with a backslash) is a SourceError.
    """
    if "\\" not in text and not _COPY_FROM_STDIN.search(text):
        return text
    lines = text.splitlines(keepends=True)
    copying: str | None = None  # the INSERT a row of the COPY block being read goes into
    for number, line in enumerate(lines, start=1):
        if copying is not None:
            if line.rstrip("\r\n") == "\\.":
                copying, lines[number - 1] = None, "\n"
            else:
                lines[number - 1] = f"{copying} ({_copy_row(line)});\n"
            continue
        copy = _COPY_FROM_STDIN.match(line)
        if copy is not None:
            copying, lines[number - 1] = f"INSERT INTO {copy['target']} VALUES", "\n"
        elif line.startswith("\\"):
            if line.startswith(_IGNORED_META):
                lines[number - 1] = "\n"  # keep the line numbers of what follows
                continue
            raise SourceError(
                f"{path}:{number}: psql meta-command {line.split()[0]} is not SQL",
                fix="remove psql meta-commands (lines starting with a backslash) from the file",
            )
    if copying is not None:
        raise SourceError(
            f"{path}: a COPY … FROM stdin block has no closing \\. line",
            fix="dump the file again (pg_dump ends each block with \\.), or use --inserts",
        )
    return "".join(lines)


# pg_dump's data in text format: ``COPY public.t (a, b) FROM stdin;``, rows, ``\.``
_COPY_FROM_STDIN = re.compile(
    r"^COPY\s+(?P<target>[^;]+?)\s+FROM\s+stdin\s*;\s*$", re.IGNORECASE | re.MULTILINE
)


def _copy_row(line: str) -> str:
    """One row of COPY's text format as SQL values: ``\\N`` is NULL, every other field
    an escape-string literal (COPY's backslash escapes are E'' string escapes, but for
    ``\\v``), which PostgreSQL casts to the column's type."""
    values = []
    for field in line.rstrip("\r\n").split("\t"):
        if field == "\\N":
            values.append("NULL")
            continue
        text = field.replace("'", "''")
        if "\\v" in text:  # a backslash before v; an escaped backslash first stays one
            text = re.sub(r"\\(\\|v)", lambda m: "\\013" if m[1] == "v" else m[0], text)
        values.append(f"E'{text}'")
    return ", ".join(values)


def snapshot_sql_file(
    host: DatabaseHost, path: Path, filters: SnapshotFilter, config: Config
) -> Snapshot:
    """The schema the SQL file ``path`` builds in a fresh scratch database of ``host``.

    The database is dropped afterwards. The configuration's statement and lock timeouts bound
    every statement (see ``apply_sql_file``).
    """
    dbname = apply_sql_file(
        host, path, statement_timeout=config.statement_timeout, lock_timeout=config.lock_timeout
    )
    try:
        with host.connect(dbname) as conn:
            return take_snapshot(conn, filters)
    finally:
        host.drop_database(dbname)


def apply_sql_file(
    host: DatabaseHost,
    path: Path,
    text: str | None = None,
    *,
    statement_timeout: float | None = None,
    lock_timeout: float | None = None,
) -> str:
    """Run a SQL file in a fresh scratch database of ``host``; return the database's name.

    The whole file goes in one round trip. When that fails (or cannot run as one implicit
    transaction, as with CREATE INDEX CONCURRENTLY) it is run again statement by statement in
    a fresh database, so an error names the statement's line. Invalid SQL is a SourceError:
    ``schema.sql:12: relation "orders" does not exist``. ``statement_timeout`` and
    ``lock_timeout`` (seconds) bound every statement, so a file that hangs fails instead of
    wedging the run.
    """
    text = read_sql(path) if text is None else text
    dbname = host.create_database()
    try:
        with host.connect(dbname) as conn:
            _limit(conn, statement_timeout, lock_timeout)
            conn.execute(text.encode())
        return dbname
    except psycopg.errors.QueryCanceled as exc:
        host.drop_database(dbname)  # running it again to find the line would wait as long
        raise _timeout_error(path, None, statement_timeout) from exc
    except psycopg.Error:
        host.drop_database(dbname)
    dbname = host.create_database()
    try:
        _apply_statements(host, dbname, path, text, (statement_timeout, lock_timeout))
    except BaseException:
        host.drop_database(dbname)
        raise
    return dbname


def _limit(
    conn: psycopg.Connection[Any], statement_timeout: float | None, lock_timeout: float | None
) -> None:
    for setting, seconds in (
        ("statement_timeout", statement_timeout),
        ("lock_timeout", lock_timeout),
    ):
        if seconds:
            milliseconds = sql.Literal(max(1, round(seconds * 1000)))
            conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(setting), milliseconds))


def _timeout_error(path: Path, line: int | None, statement_timeout: float | None) -> SourceError:
    where = f"{path}:{line}" if line else str(path)
    return SourceError(
        f"{where}: a statement ran longer than the statement timeout ({statement_timeout:g} s)",
        fix="raise statement-timeout in the configuration, or find what the statement waits for",
    )


def _apply_statements(
    host: DatabaseHost,
    dbname: str,
    path: Path,
    text: str,
    timeouts: tuple[float | None, float | None],
) -> None:
    from migproof.lint.pgsql import SqlSyntaxError, parse_statements

    try:
        statements = parse_statements(text)
    except SqlSyntaxError as exc:
        raise SourceError(
            f"{path}:{exc.line}: {exc.message}", fix="correct the SQL at that line"
        ) from exc
    with host.connect(dbname) as conn:
        _limit(conn, *timeouts)
        for statement in statements:
            try:
                conn.execute(statement.text.encode())
            except psycopg.errors.QueryCanceled as exc:
                raise _timeout_error(path, statement.line, timeouts[0]) from exc
            except psycopg.Error as exc:
                line = statement.line
                position = exc.diag.statement_position
                if position and position.isdigit():
                    line += statement.text[: int(position) - 1].count("\n")
                message = exc.diag.message_primary or first_line(exc)
                raise SourceError(f"{path}:{line}: {message}", fix=_load_fix(exc.sqlstate)) from exc


def _load_fix(sqlstate: str | None) -> str:
    """What to do about a statement of a schema file that failed to load."""
    if sqlstate == "3F000":  # invalid_schema_name: "no schema has been selected to create in"
        return (
            "qualify the name with its schema (`public.alembic_version`): a pg_dump file"
            " empties the search_path at its start, where an unqualified name has no schema"
        )
    if sqlstate in ("42P07", "42710"):  # duplicate_table, duplicate_object
        return (
            "create it once: the file made it already (a pg_dump of a database Alembic"
            " upgraded holds its version table: keep the dump's, or dump with"
            " --exclude-table, and only INSERT the stamp)"
        )
    return (
        "correct the SQL at that line (it ran in an empty database: objects it needs must"
        " be created earlier in the file)"
    )
