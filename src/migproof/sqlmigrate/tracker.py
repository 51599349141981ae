"""The tracking table (applied state as a SET), the advisory lock, and legacy trackers.

The table holds one row per applied migration: ``version`` (the migration's key: its
canonical version, or ``R__<name>`` for a repeatable), ``name``, ``checksum`` (sha256 of the
file's bytes; NULL for rows bootstrapped from a legacy tracker until the next migrate fills
it), ``applied_at`` and ``duration_ms``. A missing version is pending whatever higher versions
are applied: the single-counter trackers' skip (seed 002) cannot happen.
"""

from __future__ import annotations

import hashlib
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from migproof.config import Config
from migproof.errors import DatabaseError
from migproof.sandbox.databases import first_line
from migproof.sqlmigrate.layout import (
    Layout,
    Migration,
    canonical_version,
    file_checksum,
    version_key,
)

__all__ = [
    "AppliedRow",
    "LegacyState",
    "Tracker",
    "flyway_checksum",
    "line_ending_change",
    "read_legacy",
]

Connection = psycopg.Connection[tuple[object, ...]]

# The tracking table's columns, in the order rows() reads them.
TRACKER_COLUMNS = ("version", "name", "checksum", "applied_at", "duration_ms")


@dataclass(frozen=True, slots=True)
class AppliedRow:
    """One applied migration as the tracker (or a legacy tracker) records it."""

    key: str
    name: str
    checksum: str | None
    applied_at: datetime | None = None
    duration_ms: float | None = None


@dataclass(frozen=True, slots=True)
class LegacyState:
    """What a legacy tracker says is applied; ``problem`` is set when it must not be trusted."""

    kind: str
    table: str
    rows: tuple[AppliedRow, ...]
    summary: str
    problem: str | None = None
    recovery: str | None = None


class Tracker:
    """The tracking table ``schema.table`` on one connection."""

    def __init__(
        self,
        conn: Connection,
        schema: str,
        table: str,
        *,
        setting: Callable[[str], str] | None = None,
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.table = table
        self.setting = setting or Config().setting  # where an option is set, for fix lines
        self._ident = sql.Identifier(schema, table)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def lock_key(self) -> int:
        """The advisory lock's key: a stable 64-bit hash of the tracker's name."""
        digest = hashlib.sha256(f"migproof:{self.qualified}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def exists(self) -> bool:
        row = self.conn.execute(
            "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL",
            (self.schema, self.table),
        ).fetchone()
        return bool(row and row[0])

    def ensure(self) -> None:
        """Create the schema and the table when missing (call it under the lock).

        Checked first, not just ``IF NOT EXISTS``: a deploy role without CREATE on the
        database must still be able to run once the table exists. An existing table must have
        the tracker's columns (``check_columns``).
        """
        if self.exists():
            self.check_columns()
            return
        has_schema = self.conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
        ).fetchone()
        if not has_schema:
            self.conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
        self.conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " version text PRIMARY KEY,"
                " name text NOT NULL,"
                " checksum text,"
                " applied_at timestamptz NOT NULL DEFAULT now(),"
                " duration_ms double precision)"
            ).format(self._ident)
        )

    def read(self) -> dict[str, AppliedRow]:
        """The applied set; empty when the table does not exist."""
        if not self.exists():
            return {}
        self.check_columns()
        return self.rows()

    def check_columns(self) -> None:
        """Refuse an existing table that lacks the tracker's columns (another tool's table).

        Without this, a ``tracker-table`` that names golang-migrate's ``schema_migrations``
        failed later with 'column "name" does not exist' and a fix about privileges.
        """
        columns = _columns(self.conn, f"{_quote(self.schema)}.{_quote(self.table)}")
        missing = [c for c in TRACKER_COLUMNS if c not in columns]
        if not missing:
            return
        kind = _legacy_kind(columns)
        if kind == "dbmate" and columns != {"version"}:
            kind = None  # dbmate's table has that one column; "version" alone says little
        plural = "s" if len(missing) > 1 else ""
        what = (
            f"the tracking table {self.qualified} exists but is not migproof's: it lacks the "
            f"column{plural} {', '.join(missing)} (it has {', '.join(sorted(columns)) or 'none'})"
        )
        fix = (
            f"set {self.setting('migrate.tracker-table')} (and tracker-schema) to a table no other "
            'tool uses; the default is "migproof_migrations", which migproof creates'
        )
        if kind is not None:
            what += f"; it looks like {kind}'s own tracker"
            fix += (
                f". To take over from {kind}, leave this table to it as the legacy tracker "
                f'(legacy-table = "{self.qualified}"; not needed when it has the layout\'s '
                "default name): the first migrate reads the applied set from it (MP810)"
            )
        raise DatabaseError(what, fix=fix)

    def rows(self) -> dict[str, AppliedRow]:
        """The applied set of a table known to exist (after ``ensure``)."""
        cursor = self.conn.execute(
            sql.SQL("SELECT version, name, checksum, applied_at, duration_ms FROM {}").format(
                self._ident
            )
        )
        return {
            str(version): AppliedRow(
                key=str(version),
                name=str(name),
                checksum=None if checksum is None else str(checksum),
                applied_at=applied_at if isinstance(applied_at, datetime) else None,
                duration_ms=float(duration) if isinstance(duration, int | float) else None,
            )
            for version, name, checksum, applied_at, duration in cursor
        }

    def record(self, migration: Migration, duration_ms: float) -> None:
        """Insert the migration's row (a repeatable's row is replaced)."""
        self.conn.execute(
            sql.SQL(
                "INSERT INTO {} (version, name, checksum, applied_at, duration_ms)"
                " VALUES (%s, %s, %s, clock_timestamp(), %s)"
                " ON CONFLICT (version) DO UPDATE SET name = excluded.name,"
                " checksum = excluded.checksum, applied_at = excluded.applied_at,"
                " duration_ms = excluded.duration_ms"
            ).format(self._ident),
            (migration.key, migration.name, migration.checksum, round(duration_ms, 3)),
        )

    def insert_bootstrapped(self, rows: Iterable[AppliedRow]) -> None:
        """Insert rows read from a legacy tracker; their checksums stay NULL."""
        with self.conn.cursor() as cursor:
            cursor.executemany(
                sql.SQL(
                    "INSERT INTO {} (version, name, checksum, applied_at)"
                    " VALUES (%s, %s, %s, coalesce(%s, now())) ON CONFLICT (version) DO NOTHING"
                ).format(self._ident),
                [(r.key, r.name, r.checksum, r.applied_at) for r in rows],
            )

    def fill_checksums(self, migrations: Sequence[Migration]) -> None:
        """Give bootstrapped rows (checksum NULL) the checksum of the file on disk."""
        if not migrations:
            return
        with self.conn.cursor() as cursor:
            cursor.executemany(
                sql.SQL(
                    "UPDATE {} SET checksum = %s WHERE version = %s AND checksum IS NULL"
                ).format(self._ident),
                [(m.checksum, m.key) for m in migrations],
            )

    @contextmanager
    def locked(self, wait_seconds: float) -> Iterator[None]:
        """Hold the session advisory lock that serialises deploys on this tracker.

        The wait is bounded by ``lock_timeout`` = lock-wait alone: ``statement_timeout`` (and
        PostgreSQL 17's ``transaction_timeout``) are off for it, since a role's or database's
        shorter one cancelled the wait early. Both are set local to a transaction around the
        wait, so the session's own values are back once the lock is held (a session lock
        outlives the transaction).
        """
        key = self.lock_key
        started = time.monotonic()
        try:
            with self.conn.transaction():
                self.conn.execute(
                    "SELECT set_config('lock_timeout', %s, true),"
                    " set_config('statement_timeout', '0', true)",
                    (f"{int(wait_seconds * 1000)}ms",),
                )
                self.conn.execute(
                    "SELECT set_config('transaction_timeout', '0', true)"
                    " WHERE current_setting('server_version_num')::int >= 170000"
                )
                self.conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        except psycopg.errors.LockNotAvailable:
            raise DatabaseError(
                f"another deploy holds the advisory lock on {self.qualified} "
                f"({self._holder(key)}); waited {time.monotonic() - started:.1f} s "
                f"(lock-wait {wait_seconds:g} s)",
                fix=f"let it finish and run again, or raise {self.setting('migrate.lock-wait')}",
            ) from None
        except psycopg.errors.QueryCanceled as exc:
            raise DatabaseError(
                f"the wait for the advisory lock on {self.qualified} was cancelled after "
                f"{time.monotonic() - started:.1f} s ({first_line(exc)}) while another deploy "
                f"held it ({self._holder(key)})",
                fix="let that deploy finish and run again; the wait was cancelled from outside "
                "(pg_cancel_backend, or a pooler's or proxy's query timeout)",
            ) from None
        try:
            yield
        finally:
            if not self.conn.closed and not self.conn.broken:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _holder(self, key: int) -> str:
        unsigned = key & 0xFFFFFFFFFFFFFFFF
        row = self.conn.execute(
            "SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start"
            " FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 1",
            (unsigned >> 32, unsigned & 0xFFFFFFFF),
        ).fetchone()
        if row is None:
            return "holder gone"
        pid, app, addr, started = row
        return (
            f"backend pid {pid}, {app or 'no application_name'}, "
            f"from {addr or 'a local socket'}, since {started}"
        )


# Legacy trackers -----------------------------------------------------------------------------

_LEGACY_DEFAULTS = {
    Layout.GOLANG_MIGRATE: "schema_migrations",
    Layout.DBMATE: "schema_migrations",
    Layout.FLYWAY: "flyway_schema_history",
    Layout.GOOSE: "goose_db_version",
}


def read_legacy(
    conn: Connection,
    layout: Layout,
    migrations: Sequence[Migration],
    *,
    table: str | None,
    schema: str,
) -> LegacyState | None:
    """What the directory's previous tool recorded as applied, or None when it left no table.

    golang-migrate keeps one counter: every on-disk version up to it is taken as applied
    (that is what golang-migrate itself assumed; run ``status`` after switching).
    """
    qualified = _find_legacy_table(conn, table or _LEGACY_DEFAULTS[layout], schema)
    if qualified is None:
        return None
    kind = _legacy_kind(_columns(conn, qualified))
    if kind is None:
        return None
    ident = sql.SQL(qualified)  # built from quote_ident in _find_legacy_table
    return _LEGACY_READERS[kind](conn, ident, qualified, migrations)


def _legacy_kind(columns: set[str]) -> str | None:
    """Which tool's tracker a table with these columns is, by its columns."""
    if {"version", "dirty"} <= columns:
        return "golang-migrate"
    if {"installed_rank", "version", "script", "success"} <= columns:
        return "Flyway"
    if {"version_id", "is_applied"} <= columns:
        return "goose"
    if "version" in columns:
        return "dbmate"
    return None


def _columns(conn: Connection, regclass: str) -> set[str]:
    return {
        str(name)
        for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute"
            " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            (regclass,),
        )
    }


def _find_legacy_table(conn: Connection, name: str, schema: str) -> str | None:
    """The legacy tracker's qualified name (quoted), or None."""
    candidates = [name] if "." in name else [f"{_quote(schema)}.{_quote(name)}", _quote(name)]
    for candidate in candidates:
        row = conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.oid = to_regclass(%s)",
            (candidate,),
        ).fetchone()
        if row is not None:
            return str(row[0])
    return None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _by_version(migrations: Sequence[Migration]) -> dict[str, Migration]:
    return {m.version: m for m in migrations if m.version is not None}


def _golang_state(
    conn: Connection, ident: sql.SQL, qualified: str, migrations: Sequence[Migration]
) -> LegacyState:
    row = conn.execute(sql.SQL("SELECT version, dirty FROM {} LIMIT 1").format(ident)).fetchone()
    if row is None:
        return LegacyState("golang-migrate", qualified, (), f"{qualified} is empty")
    version, dirty = str(row[0]), bool(row[1])
    if dirty:
        return LegacyState(
            "golang-migrate",
            qualified,
            (),
            f"{qualified} at version {version}, dirty",
            problem=f"golang-migrate's {qualified} says version {version} is dirty: that "
            "migration failed partway and may be half applied",
            recovery=(
                f"1. inspect the database and finish or undo what migration {version} did, "
                "by hand;\n"
                f"2. mark the outcome: `migrate -path DIR -database URL force {version}` if it is "
                "now fully applied, or `force <previous version>` if it is undone (or: "
                f"UPDATE {qualified} SET version = <that version>, dirty = false);\n"
                "3. run migproof migrate again: it bootstraps from the clean tracker."
            ),
        )
    limit = version_key(canonical_version(version))
    rows = tuple(
        AppliedRow(key=m.key, name=m.name, checksum=None)
        for m in migrations
        if m.version is not None and version_key(m.version) <= limit
    )
    return LegacyState(
        "golang-migrate", qualified, rows, f"golang-migrate's {qualified} at version {version}"
    )


def _dbmate_state(
    conn: Connection, ident: sql.SQL, qualified: str, migrations: Sequence[Migration]
) -> LegacyState:
    on_disk = _by_version(migrations)
    rows = []
    for (raw,) in conn.execute(sql.SQL("SELECT version::text FROM {}").format(ident)):
        version = _canonical_or_raw(str(raw))
        disk = on_disk.get(version)
        rows.append(AppliedRow(key=version, name=disk.name if disk else "", checksum=None))
    return LegacyState(
        "dbmate", qualified, tuple(rows), f"{qualified} with {len(rows)} applied versions"
    )


def _goose_state(
    conn: Connection, ident: sql.SQL, qualified: str, migrations: Sequence[Migration]
) -> LegacyState:
    on_disk = _by_version(migrations)
    applied: dict[str, bool] = {}
    for raw, is_applied in conn.execute(
        sql.SQL("SELECT version_id, is_applied FROM {} ORDER BY id").format(ident)
    ):
        applied[_canonical_or_raw(str(raw))] = bool(is_applied)
    rows = tuple(
        AppliedRow(key=v, name=on_disk[v].name if v in on_disk else "", checksum=None)
        for v, is_applied in applied.items()
        if is_applied and v != "0"  # goose's own first row
    )
    return LegacyState("goose", qualified, rows, f"goose's {qualified}, {len(rows)} applied")


def _flyway_state(
    conn: Connection, ident: sql.SQL, qualified: str, migrations: Sequence[Migration]
) -> LegacyState:
    on_disk = _by_version(migrations)
    repeatables = {f"R__{m.name}.sql": m for m in migrations if m.repeatable}
    applied: dict[str, AppliedRow] = {}
    for version, script, checksum, success, raw_kind in conn.execute(
        sql.SQL(
            "SELECT version, script, checksum, success, type FROM {} ORDER BY installed_rank"
        ).format(ident)
    ):
        kind = str(raw_kind or "")
        if not success:
            return LegacyState(
                "flyway",
                qualified,
                (),
                f"{qualified} has a failed migration",
                problem=f"Flyway's {qualified} records {script} as failed: it may be half applied",
                recovery=(
                    f"1. inspect the database and finish or undo what {script} did, by hand;\n"
                    "2. run `flyway repair` (or DELETE its row where success = false);\n"
                    "3. run migproof migrate again."
                ),
            )
        if version is None:
            name = str(script).rsplit("/", 1)[-1]
            disk = repeatables.get(name)
            if disk is not None and checksum == flyway_checksum(disk.up_sql):
                applied[disk.key] = AppliedRow(key=disk.key, name=disk.name, checksum=disk.checksum)
            elif disk is not None:
                applied.pop(disk.key, None)  # changed since Flyway ran it: run it again
            continue
        key = _canonical_or_raw(str(version))
        if kind.startswith("UNDO") or kind == "DELETE":
            applied.pop(key, None)
        elif kind == "BASELINE":
            for m in on_disk.values():
                if version_key(m.key) <= version_key(key):
                    applied[m.key] = AppliedRow(key=m.key, name=m.name, checksum=None)
        elif kind != "SCHEMA":
            disk = on_disk.get(key)
            applied[key] = AppliedRow(key=key, name=disk.name if disk else "", checksum=None)
    rows = tuple(applied.values())
    return LegacyState("flyway", qualified, rows, f"Flyway's {qualified}, {len(rows)} applied")


_LEGACY_READERS = {
    "golang-migrate": _golang_state,
    "Flyway": _flyway_state,
    "goose": _goose_state,
    "dbmate": _dbmate_state,
}


def _canonical_or_raw(text: str) -> str:
    try:
        return canonical_version(text)
    except ValueError:
        return text


def line_ending_change(migration: Migration, recorded: str | None) -> str | None:
    """How an applied file differs from its recorded checksum when only line endings do.

    The checksum stays the sha256 of the file's bytes (a CRLF file is not the file that was
    applied: a string literal or a function body spanning lines holds the CRs); this only
    names the difference, for a clearer MP803: ``"CRLF on disk, LF when applied"`` (a Windows
    checkout with ``core.autocrlf``) or the reverse. None when the file differs otherwise,
    or changed since it was read.
    """
    if recorded is None or recorded == migration.checksum:
        return None
    try:
        data = migration.path.read_bytes()
    except OSError:
        return None
    if file_checksum(data) != migration.checksum:
        return None
    lf = data.replace(b"\r\n", b"\n")
    if lf != data and file_checksum(lf) == recorded:
        return "CRLF on disk, LF when applied"
    crlf = lf.replace(b"\n", b"\r\n")
    if crlf != data and file_checksum(crlf) == recorded:
        return "LF on disk, CRLF when applied"
    return None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def flyway_checksum(text: str) -> int:
    """Flyway's checksum of a script: CRC32 over its lines without line breaks, signed.

    As Flyway's ``ChecksumCalculator`` computes it (BufferedReader.readLine per line,
    BOM removed, each line's UTF-8 bytes fed to one CRC32).
    """
    lines = _LINE_BREAK.split(text.removeprefix("\ufeff"))
    if lines and lines[-1] == "":
        lines.pop()  # readLine returns no empty line after the final line break
    crc = 0
    for line in lines:
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc
