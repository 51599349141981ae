"""Record every statement a revision runs, with its duration and the revision line behind it.

SQLAlchemy's cursor events on the Engine class see every engine env.py creates, sync or
async. The line is the innermost frame of the running revision file on the call stack when
the statement was sent: the ``op.`` call that emitted it.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from migproof.sandbox.databases import pg_message

__all__ = ["LOCK_MODES", "RecordedStatement", "StatementRecorder", "with_literals"]


_CREATES_TABLE = re.compile(
    r"\bcreate\s+(?:(?:global|local)\s+)?(?:(?:temp|temporary|unlogged)\s+)?table\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class RecordedStatement:
    """One statement sent while a revision step ran."""

    revision: str
    direction: str  # "upgrade" or "downgrade"
    sql: str
    duration_ms: float
    path: Path | None
    line: int | None
    failed: bool = False
    started: float = 0.0  # time.perf_counter() when it was sent
    in_transaction: bool | None = None
    locks: tuple[tuple[str, str], ...] = ()  # (relation, mode) its backend newly held after it
    rewritten: tuple[str, ...] = ()  # relations whose relfilenode it changed
    preexisting: tuple[str, ...] = ()  # locked relations that existed before its transaction
    # (relation, mode, line of the statement that took it; None: before the first one) for
    # each lock its transaction already held on a relation that existed before it, when it
    # began: a second ALTER of a table takes no new lock, pg_locks shows the first one's
    held: tuple[tuple[str, str, int | None], ...] = ()
    error: str | None = None  # PostgreSQL's message, when it failed
    # (name, value) of the timeouts set for the session before its transaction began (an
    # env.py's SET lock_timeout): in force for it, though no statement of the step set them
    session: tuple[tuple[str, str], ...] = ()

    @property
    def creates_table(self) -> bool:
        """Whether the statement creates a table (``CREATE [UNLOGGED|TEMP] TABLE``)."""
        return _CREATES_TABLE.search(self.sql) is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "revision": self.revision,
            "direction": self.direction,
            "sql": self.sql,
            "duration_ms": round(self.duration_ms, 3),
            "path": str(self.path) if self.path else None,
            "line": self.line,
            "failed": self.failed,
            "error": self.error,
        }


class StatementRecorder:
    """Listens to SQLAlchemy's cursor events while installed; attributes them to a step."""

    def __init__(self, revision_paths: dict[str, Path], *, facts: bool = False) -> None:
        self.facts = facts  # also read pg_locks and relfilenodes around each statement (lint)
        self._observer = _LockObserver() if facts else None
        self._paths = {os.path.realpath(k): v for k, v in revision_paths.items()}
        self._real: dict[str, str] = {}
        self.statements: list[RecordedStatement] = []
        self.step: tuple[str, str] | None = None
        self.last: tuple[str, Path | None, int | None] | None = None
        self._started: dict[int, float] = {}
        self._installed = False
        # while a batch_alter_table block applies its operations: the line of the
        # ``batch_op.`` call the one being applied came from (its SQL is sent at the end of
        # the ``with`` block, where the call stack shows only the ``with`` line)
        self.batch_line: tuple[Path, int] | None = None
        self._batch_init: Any = None

    def begin_run(self) -> None:
        """An env.py run begins: what its first transaction has set is noted afresh."""
        if self._observer is not None:
            self._observer.run_settings = None

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        if self._installed:
            return
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        event.listen(Engine, "handle_error", self._error)
        self._locate_batch_operations()
        self._installed = True

    def uninstall(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        if not self._installed:
            return
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)
        event.remove(Engine, "handle_error", self._error)
        if self._batch_init is not None:
            from alembic.operations.batch import BatchOperationsImpl

            setattr(BatchOperationsImpl, "__init__", self._batch_init)  # noqa: B010
            self._batch_init = None
        self._installed = False

    def _locate_batch_operations(self) -> None:
        """Give every batch_alter_table block a list of operations that remembers where each
        was called and says so while Alembic applies it (``_LocatedBatch``)."""
        from alembic.operations.batch import BatchOperationsImpl

        original: Any = BatchOperationsImpl.__init__
        recorder = self

        def located_init(impl: Any, *args: Any, **kwargs: Any) -> None:
            original(impl, *args, **kwargs)
            impl.batch = _LocatedBatch(recorder)

        self._batch_init = original
        setattr(BatchOperationsImpl, "__init__", located_init)  # noqa: B010 - untyped in Alembic

    def _where(self) -> tuple[Path | None, int | None]:
        if self.batch_line is not None:
            return self.batch_line
        return self.revision_frame(3)

    def revision_frame(self, depth: int) -> tuple[Path | None, int | None]:
        """The innermost frame of a revision file on the stack, ``depth`` frames up."""
        frame: FrameType | None = sys._getframe(depth)  # the cheapest way to walk the stack
        while frame is not None:
            filename = frame.f_code.co_filename
            real = self._real.get(filename)
            if real is None:
                real = self._real[filename] = os.path.realpath(filename)
            path = self._paths.get(real)
            if path is not None:
                return path, frame.f_lineno
            frame = frame.f_back
        return None, None

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        del args
        if self.step is None:
            return
        path, line = self._where()
        self.last = (statement, path, line)
        if self._observer is not None and path is not None:
            self._observer.before(conn)
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        del args
        statement = with_literals(statement, parameters)
        started = self._started.pop(id(cursor), None)
        if self.step is None or started is None or self.last is None:
            return
        elapsed = (time.perf_counter() - started) * 1000
        revision, direction = self.step
        _, path, line = self.last
        locks: tuple[tuple[str, str], ...] = ()
        rewritten: tuple[str, ...] = ()
        preexisting: tuple[str, ...] = ()
        held: tuple[tuple[str, str, int | None], ...] = ()
        session: tuple[tuple[str, str], ...] = ()
        if self._observer is not None and path is not None:
            held = self._observer.holding()
            locks, rewritten, preexisting = self._observer.after(conn, line)
            session = self._observer.session
        self.statements.append(
            RecordedStatement(
                revision=revision,
                direction=direction,
                sql=statement,
                duration_ms=elapsed,
                path=path,
                line=line,
                started=started,
                in_transaction=_in_transaction(conn),
                locks=locks,
                rewritten=rewritten,
                preexisting=preexisting,
                held=held,
                session=session,
            )
        )

    def _error(self, context: Any) -> None:
        cursor = getattr(context, "cursor", None)
        started = self._started.pop(id(cursor), None) if cursor is not None else None
        if self.step is None or self.last is None:
            return
        revision, direction = self.step
        statement, path, line = self.last
        elapsed = (time.perf_counter() - started) * 1000 if started else 0.0
        self.statements.append(
            RecordedStatement(
                revision=revision,
                direction=direction,
                sql=with_literals(
                    context.statement or statement, getattr(context, "parameters", None)
                ),
                duration_ms=elapsed,
                path=path,
                line=line,
                failed=True,
                error=pg_message(error) if (error := context.original_exception) else None,
            )
        )


class _LocatedBatch(list[Any]):
    """A batch_alter_table block's operations (Alembic appends each ``batch_op.`` call and
    applies them all when the block ends), each with the revision line that called it.

    While Alembic iterates over them to apply them, the recorder attributes what each one
    sends to its own line; SQL sent after the iteration (a table recreated as a whole)
    keeps the line of the ``with`` block.
    """

    def __init__(self, recorder: StatementRecorder) -> None:
        super().__init__()
        self._recorder = recorder
        self._lines: list[tuple[Path, int] | None] = []

    def append(self, item: Any) -> None:
        path, line = self._recorder.revision_frame(2)
        self._lines.append((path, line) if path is not None and line is not None else None)
        super().append(item)

    def __iter__(self) -> Iterator[Any]:
        recorder = self._recorder
        try:  # an item put in another way than append() has no line: the stack says
            for item, line in itertools.zip_longest(list(super().__iter__()), self._lines):
                recorder.batch_line = line
                yield item
        finally:
            recorder.batch_line = None


# A relation's relfilenode (the ones _FILENODES reads; else NULL) comes with its locks: a
# rewrite takes an ACCESS EXCLUSIVE lock held to the transaction's end, so a relation it
# rewrote is in this result, and no scan of every relation is needed to find it.
# A relation the transaction dropped has no pg_class row any more (its lock is still held):
# its name comes from the transaction's start (``_LockObserver``: oid -> name).
_LOCKS = """
SELECT l.relation, n.nspname || '.' || c.relname, l.mode,
  CASE WHEN c.relkind IN ('r', 'p', 'm', 'i') THEN c.relfilenode END
FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (c.oid IS NULL OR (n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%' AND c.relkind IN ('r', 'p', 'm', 'i', 'I', 'S', 'v', 'f')))
"""
# the timeouts a SET (not SET LOCAL) of the session gave it, read when a transaction begins
_SESSION_TIMEOUTS = """
SELECT name, setting || coalesce(unit, '') FROM pg_settings
WHERE source = 'session' AND name IN ('lock_timeout', 'statement_timeout')
"""
_FILENODES = """
SELECT c.oid, n.nspname || '.' || c.relname,
  CASE WHEN c.relkind IN ('r', 'p', 'm', 'i') THEN c.relfilenode END, x.indrelid
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_index x ON x.indexrelid = c.oid
WHERE c.relkind IN ('r', 'p', 'm', 'i', 'I', 'S', 'v', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""


# pg_locks' modes, weakest first, as the documentation names them
LOCK_MODES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
_MODE_RANK = {mode: rank for rank, mode in enumerate(LOCK_MODES)}


class _LockObserver:
    """The locks a migration's backend takes (pg_locks) and the relations it rewrites.

    Locks are held to the end of the transaction, so a statement's locks are the ones its
    backend holds after it and did not hold before. pg_locks shows a lock once however
    often it is taken: a statement that needs a lock an earlier statement of its
    transaction took shows nothing new, so each held lock keeps the line that took it
    (``holding``). A rewrite gives a relation a new relfilenode; the map is read when a
    transaction starts and updated after every statement from the relations its
    transaction holds locks on (a rewrite needs an ACCESS EXCLUSIVE one, maybe taken
    earlier). Queries go through the DBAPI connection, beneath SQLAlchemy's events.
    """

    def __init__(self) -> None:
        self._transaction: object = None
        # (relation oid, mode) -> line of the statement that took it (None: before the first)
        self._held: dict[tuple[int, str], int | None] = {}
        # relations by oid, as they were when the transaction began: a table renamed or
        # dropped in it is still the one that was there
        self._filenodes: dict[int, int] = {}  # tables, indexes, matviews: relfilenode
        self._existing: frozenset[int] = frozenset()  # those of them there when it began
        self._names: dict[int, str] = {}  # every relation: its name then, then its last name
        self._table_of: dict[int, int] = {}  # index -> its table, when the transaction began
        self.session: tuple[tuple[str, str], ...] = ()  # _SESSION_TIMEOUTS then
        # what the env.py run's first transaction had set when its first statement ran: a
        # SET LOCAL inside env.py's `with context.begin_transaction():` (langflow's
        # lock_timeout) covers every revision of an `alembic upgrade` in Alembic's default
        # one transaction, though migproof commits each revision on its own
        self.run_settings: dict[str, str] | None = None

    def _query(self, conn: Any, sql: str) -> list[tuple[Any, ...]]:
        try:
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                cursor.execute(sql)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except Exception:  # facts are a bonus: a driver that cannot do this gets none
            return []

    def before(self, conn: Any) -> None:
        transaction = conn.get_transaction() if conn.in_transaction() else None
        if transaction is None or transaction is not self._transaction:
            self._transaction = transaction
            observed = {str(n): str(v) for n, v in self._query(conn, _SESSION_TIMEOUTS)}
            if self.run_settings is None:
                self.run_settings = observed
            self.session = tuple({**self.run_settings, **observed}.items())
            relations = self._query(conn, _FILENODES)
            self._names = {int(oid): str(name) for oid, name, _, _ in relations}
            self._filenodes = {int(oid): node for oid, _, node, _ in relations if node is not None}
            self._table_of = {int(oid): int(table) for oid, _, _, table in relations if table}
            self._existing = frozenset(self._filenodes)
            self._held = (
                {(oid, mode): None for oid, mode, _ in self._locks(conn)} if transaction else {}
            )

    def _locks(self, conn: Any) -> list[tuple[int, str, int | None]]:
        """(relation oid, mode, relfilenode) of each relation lock the backend holds; each
        relation's name as it is now (a dropped one keeps the one it had)."""
        found = []
        for oid, name, mode, node in self._query(conn, _LOCKS):
            key = int(oid)
            if name is not None:
                self._names[key] = str(name)
            if key in self._names:
                found.append((key, str(mode), node))
        return found

    def holding(self) -> tuple[tuple[str, str, int | None], ...]:
        """The locks held now on relations that were there when the transaction began (a
        new one blocks nobody), each with the line of the statement that took it."""
        held = self._held.keys()
        return tuple(
            sorted(
                (self._names[oid], mode, line)
                for (oid, mode), line in self._held.items()
                if oid in self._existing and not self._with_its_table(oid, mode, held)
            )
        )

    def _with_its_table(self, oid: int, mode: str, locks: Iterable[tuple[int, str]]) -> bool:
        """Whether ``oid`` is an index whose table is locked at least as strongly: the
        table's lock says it all (DROP TABLE locks each of its indexes too)."""
        table = self._table_of.get(oid)
        if table is None:
            return False
        rank = _MODE_RANK.get(mode, 0)
        return any(t == table and _MODE_RANK.get(m, 0) >= rank for t, m in locks)

    def after(
        self, conn: Any, line: int | None
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...]]:
        """The locks the statement on ``line`` newly took, the relations it rewrote, and
        which of the newly locked relations were there when the transaction began."""
        rows = self._locks(conn)
        held = {(oid, mode) for oid, mode, _ in rows}
        taken = held - self._held.keys()
        shown = [(oid, mode) for oid, mode in taken if not self._with_its_table(oid, mode, held)]
        new = sorted((self._names[oid], mode) for oid, mode in shown)
        preexisting = sorted({self._names[oid] for oid, _ in shown if oid in self._existing})
        if conn.in_transaction():
            self._held = {lock: self._held.get(lock, line) for lock in held}
        else:
            self._held = {}
        rewritten: set[str] = set()
        for oid, _, node in rows:
            if node is None:
                continue
            if oid in self._filenodes and self._filenodes[oid] != node:
                rewritten.add(self._names[oid])  # once, though it may be locked in several modes
            self._filenodes[oid] = node
        return tuple(new), tuple(sorted(rewritten)), tuple(preexisting)


_NAMED = re.compile(r"%\((\w+)\)s")


def with_literals(statement: str, parameters: Any) -> str:
    """The statement as PostgreSQL ran it: driver placeholders replaced by SQL literals.

    Recorded SQL is read back by PostgreSQL's parser (lint), which knows no ``%(name)s``.
    """
    if not parameters:
        return statement.replace("%%", "%") if "%%" in statement else statement
    if (
        isinstance(parameters, list | tuple)
        and parameters
        and isinstance(parameters[0], dict | list | tuple)
    ):
        parameters = parameters[0]  # executemany: the first row shows the shape
    if isinstance(parameters, dict):
        text = _NAMED.sub(lambda m: _literal(parameters.get(m.group(1))), statement)
    elif isinstance(parameters, list | tuple):
        values = iter(parameters)
        text = re.sub(r"%s", lambda _m: _literal(next(values, None)), statement)
    else:
        return statement
    return text.replace("%%", "%")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]"
    # psycopg's Binary wraps the bytes in .obj, psycopg2's in .adapted
    raw = getattr(value, "obj", getattr(value, "adapted", value))
    if isinstance(raw, bytes | bytearray | memoryview):
        return "'\\x" + bytes(raw).hex() + "'::bytea"
    return "'" + str(value).replace("'", "''") + "'"


def _in_transaction(conn: Any) -> bool:
    """Whether the statement ran inside a database transaction. Alembic's
    ``autocommit_block()`` (the way to run CREATE INDEX CONCURRENTLY) sets AUTOCOMMIT and
    then begins a transaction that PostgreSQL never sees: SQLAlchemy says "in a transaction"
    there, and the statement is not in one; so it does on an autocommit engine."""
    if not conn.in_transaction():
        return False
    # the driver's own switch: an engine made with isolation_level="AUTOCOMMIT" (privacyidea's
    # env.py) says so nowhere else
    autocommit = getattr(getattr(conn.connection, "dbapi_connection", None), "autocommit", None)
    if isinstance(autocommit, bool):
        return not autocommit
    level = conn.get_execution_options().get("isolation_level") or getattr(
        conn.dialect, "isolation_level", None
    )
    return bool(level != "AUTOCOMMIT")
