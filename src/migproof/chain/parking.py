"""One server session kept for the env.py runs of a walk, instead of one session per run.

verify runs env.py three times or more (the walk, then ``alembic downgrade base`` and
``alembic upgrade head`` as the repeatability check runs them). A typical env.py makes an
engine with ``NullPool`` each time, so each run pays for a new server process, a cold
catalog cache on it (its first lookups read the system catalogs), SQLAlchemy's dialect
start-up queries and Alembic's version-table lookup, planned for the first time: about
7 ms a run on a 10-revision chain, more than its migrations take.

A ``Parking`` lends env.py's engines a connection that, when the engine closes it, is kept
instead, reset to what a new session is (``DISCARD ALL``: settings, prepared statements,
temporary tables, advisory locks, LISTEN; the connection's own attributes back to
psycopg's defaults) and given to the next engine that connects to the scratch database
with the same arguments. Only psycopg's synchronous connections are parked; anything else
connects as it always did.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
from psycopg.adapt import AdaptersMap

__all__ = ["Parking"]


class _ParkedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose ``close()`` parks it while a parking holds it."""

    _parking: Parking | None = None
    _key: str = ""

    def close(self) -> None:
        parking = self._parking
        if parking is None or not parking.park(self):
            super().close()


class Parking:
    """Connections kept between env.py runs, by their connection arguments."""

    def __init__(self) -> None:
        self._parked: dict[str, _ParkedConnection] = {}
        self._pid = os.getpid()
        self._open = True  # closed: connections closed after it are closed, not kept
        self.reused = 0  # how many connects a parked connection served (benchmarks, tests)

    def connect(self, cargs: list[Any], cparams: dict[str, Any]) -> psycopg.Connection[Any]:
        """A parked connection for these arguments, else a new one that can be parked."""
        # each engine passes its dialect's own adapters map (``context``): equal in content
        # for engines made alike, so it is not part of the key; a reused connection is
        # given a fresh copy of the new one, as ``connect`` would
        context = cparams.get("context")
        key = repr((cargs, sorted((k, v) for k, v in cparams.items() if k != "context")))
        conn = self._parked.pop(key, None) if os.getpid() == self._pid else None
        if conn is not None and _reset(conn, autocommit=bool(cparams.get("autocommit"))):
            if context is not None:
                conn._adapters = AdaptersMap(context.adapters)
            self.reused += 1
            return conn
        if conn is not None:
            _ParkedConnection.close(_unpark(conn))
        conn = _ParkedConnection.connect(*cargs, **cparams)
        conn._parking, conn._key = self, key
        return conn

    def park(self, conn: _ParkedConnection) -> bool:
        """Keep ``conn`` for the next connect; False when it is to be closed instead."""
        if (
            not self._open
            or os.getpid() != self._pid
            or conn.closed
            or conn.broken
            or conn._key in self._parked
            or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        ):
            return False
        self._parked[conn._key] = conn
        return True

    def release(self) -> None:
        """Close every parked connection (before the database is dropped and made again);
        connections closed later are parked again."""
        parked, self._parked = self._parked, {}
        if os.getpid() != self._pid:
            return  # a forked child's copies belong to its parent
        for conn in parked.values():
            _unpark(conn).close()

    def close(self) -> None:
        """Release the parked connections and park no more: those closed later close."""
        self._open = False
        self.release()


def _unpark(conn: _ParkedConnection) -> _ParkedConnection:
    conn._parking = None
    return conn


def _reset(conn: _ParkedConnection, *, autocommit: bool) -> bool:
    """``conn`` back to a new session's state; False if that failed (the server ended it)."""
    try:
        conn.autocommit = True
        conn.execute("DISCARD ALL")
        conn.autocommit = autocommit
        conn.isolation_level = None
        conn.read_only = None
        conn.deferrable = None
    except psycopg.Error:
        return False
    return True
