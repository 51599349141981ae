"""Snapshots of a scratch database that re-read only what changed since the last one.

verify snapshots the catalog three times per revision; read whole, that cost grows with the
schema, so a long chain pays for its length twice. A watch installs two event triggers in
the scratch database (``ddl_command_end`` and ``sql_drop``, enabled ALWAYS so no
``session_replication_role`` hides a command) whose function NOTIFYs, for every command
of every session (migrations that open their own connection included), the objects it
created, altered or dropped. Before a snapshot the watch sends a NOTIFY of its own and
reads until that one arrives: PostgreSQL delivers notifications in commit order, so every
change committed before it has been received. What changed is widened through
``pg_depend`` to every object whose text can show it (a renamed table shows in the foreign
keys, indexes, views and sequences that name it), mapped to the snapshot's objects, and
only those are read again, with the same catalog queries filtered by oid.

Whatever the watch cannot place exactly (GRANT and other commands that name no object, a
schema, an extension, default privileges, a lost notification) makes the next snapshot a
full read, so a watch is never less exact than ``take_snapshot``; ``MIGPROOF_CHECK_WATCH=1``
proves it by comparing every snapshot with a full one (the test suite runs that way).
Changes that fire no event trigger (writes to ``pg_catalog`` tables, ALTER ROLE) are for
the caller to report with ``invalidate()``.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import time
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from migproof.catalog.model import KINDS, Snapshot, Table
from migproof.catalog.snapshot import (
    CHILD_QUERIES,
    SnapshotFilter,
    collections,
    drop_orphans,
    oid_array,
    oids,
    read_catalog,
    read_few,
    snapshot_of,
    take_snapshot,
)

__all__ = ["WATCH_SCHEMA", "CatalogWatch", "writes_catalog"]

WATCH_SCHEMA = "migproof_watch"
_CHANNEL = "migproof_watch"
_INSTALL = f"""
CREATE SCHEMA {WATCH_SCHEMA};
CREATE FUNCTION {WATCH_SCHEMA}.changed() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    r record;
    owner oid;
    named boolean := false;
BEGIN
    IF tg_event = 'sql_drop' THEN
        FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
            IF r.objsubid <> 0 THEN  -- a column: its table changed
                PERFORM pg_notify('{_CHANNEL}', 't ' || r.classid || ' ' || r.objid);
                CONTINUE;
            END IF;
            PERFORM pg_notify('{_CHANNEL}', 'd ' || r.classid || ' ' || r.objid);
            -- a part of an object that may outlive it: its owner changed
            IF r.object_type IN ('table constraint', 'default value', 'rule', 'trigger', 'policy')
            THEN
                owner := to_regclass(format('%I.%I', r.address_names[1], r.address_names[2]));
                IF owner IS NOT NULL THEN
                    PERFORM pg_notify('{_CHANNEL}', 't 1259 ' || owner);  -- pg_class
                END IF;
            ELSIF r.object_type = 'domain constraint' THEN
                owner := to_regtype(r.address_names[1]);
                IF owner IS NOT NULL THEN
                    PERFORM pg_notify('{_CHANNEL}', 't 1247 ' || owner);  -- pg_type
                END IF;
            END IF;
        END LOOP;
    ELSE
        FOR r IN SELECT classid, objid FROM pg_event_trigger_ddl_commands() LOOP
            -- GRANT and ALTER DEFAULT PRIVILEGES name no object: 0 tells to read all
            PERFORM pg_notify(
                '{_CHANNEL}', 't ' || coalesce(r.classid, 0) || ' ' || coalesce(r.objid, 0));
            named := true;
        END LOOP;
        -- a command with no row to tell (DROP is told by sql_drop)
        IF NOT named AND tg_tag NOT LIKE 'DROP %' THEN
            PERFORM pg_notify('{_CHANNEL}', 'full');
        END IF;
    END IF;
END
$$;
CREATE EVENT TRIGGER migproof_watch_changed ON ddl_command_end
    EXECUTE FUNCTION {WATCH_SCHEMA}.changed();
CREATE EVENT TRIGGER migproof_watch_dropped ON sql_drop
    EXECUTE FUNCTION {WATCH_SCHEMA}.changed();
ALTER EVENT TRIGGER migproof_watch_changed ENABLE ALWAYS;
ALTER EVENT TRIGGER migproof_watch_dropped ENABLE ALWAYS;
"""

# Everything a change reaches through pg_depend (a view's rule standing for the view), with
# what _shown_in() needs to name the snapshot object that shows it.
_REACH = """
WITH RECURSIVE reach (classid, objid) AS (
    SELECT * FROM unnest(%(classids)s::oid[], %(objids)s::oid[])
    UNION
    SELECT x.classid, x.objid
    FROM reach AS r
    CROSS JOIN LATERAL (  -- LATERAL: one index lookup per object, whatever the estimates
        SELECT CASE WHEN d.classid = 2618 THEN 1259 ELSE d.classid END::oid,  -- a view's rule
               CASE WHEN d.classid = 2618  -- stands for the view
                    THEN (SELECT w.ev_class FROM pg_catalog.pg_rewrite AS w WHERE w.oid = d.objid)
                    ELSE d.objid END
        FROM pg_catalog.pg_depend AS d
        WHERE d.refclassid = r.classid AND d.refobjid = r.objid
        OFFSET 0  -- not flattened into a join the planner may hash
    ) AS x (classid, objid)
)
SELECT r.classid, r.objid,  -- 1259 pg_class, 1247 pg_type, 2606 pg_constraint, 2604 pg_attrdef
    (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE r.classid = 1259 AND c.oid = r.objid),
    (SELECT c.reltype FROM pg_catalog.pg_class AS c WHERE r.classid = 1259 AND c.oid = r.objid),
    (SELECT i.indrelid FROM pg_catalog.pg_index AS i
     WHERE r.classid = 1259 AND i.indexrelid = r.objid),
    (SELECT t.typtype FROM pg_catalog.pg_type AS t WHERE r.classid = 1247 AND t.oid = r.objid),
    (SELECT k.conrelid FROM pg_catalog.pg_constraint AS k
     WHERE r.classid = 2606 AND k.oid = r.objid),
    (SELECT k.contypid FROM pg_catalog.pg_constraint AS k
     WHERE r.classid = 2606 AND k.oid = r.objid),
    (SELECT a.adrelid FROM pg_catalog.pg_attrdef AS a WHERE r.classid = 2604 AND a.oid = r.objid),
    -- whether a snapshot shows it: not a table's row type, not an internal or cloned trigger
    coalesce((SELECT t.typtype <> 'c' OR c.relkind = 'c'
              FROM pg_catalog.pg_type AS t LEFT JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid
              WHERE r.classid = 1247 AND t.oid = r.objid), true)
    AND coalesce((SELECT NOT g.tgisinternal AND g.tgparentid = 0 FROM pg_catalog.pg_trigger AS g
                  WHERE r.classid = 2620 AND g.oid = r.objid), true)
FROM reach AS r
"""

# The queries that read each kind's objects again (the oids they filter on): tables are read
# with their columns and constraints.
_QUERIES_OF = {
    kind.attribute: (kind.query, *CHILD_QUERIES) if kind.cls is Table else (kind.query,)
    for kind in KINDS
}
_KIND_OF_QUERY = {kind.query: kind.attribute for kind in KINDS}

_SYNC_TIMEOUT_SECONDS = 10.0
# A full read of a catalog this small reads the listed objects by oid: the queries of the
# kinds it has none of are never planned (verify starts from a nearly empty database).
_FEW = 200
# DML on a system catalog (the old tricks: widening a varchar in pg_attribute, deleting an
# enum label from pg_enum) and role renames, which change how privileges print.
_CATALOG_WRITE = re.compile(
    r"\b(?:update(?:\s+only)?|insert\s+into|delete\s+from(?:\s+only)?)\s+"
    r"(?:\"?pg_catalog\"?\s*\.\s*)?\"?pg_\w+"
    r"|\balter\s+(?:role|user|group)\b",
    re.IGNORECASE,
)


def writes_catalog(statement: str) -> bool:
    """Whether a statement changes the catalog without firing an event trigger.

    >>> writes_catalog("UPDATE pg_catalog.pg_attribute SET atttypmod = 24 WHERE ...")
    True
    >>> writes_catalog("ALTER ROLE app RENAME TO web")
    True
    >>> writes_catalog("UPDATE orders SET total = 0")
    False
    """
    return _CATALOG_WRITE.search(statement) is not None


class CatalogWatch:
    """Snapshots of one database that re-read only the objects changed since the last one.

    >>> watch = CatalogWatch.install(conn)        # doctest: +SKIP
    >>> before = watch.snapshot(filters)          # doctest: +SKIP
    >>> # ... migrations run on other connections, and commit ...
    >>> after = watch.snapshot(filters)           # doctest: +SKIP

    ``conn`` becomes the watch's own (autocommit) connection: it LISTENs on it, and closes it
    with ``close()``. ``install`` returns None where event triggers cannot be created (not a
    superuser, no PL/pgSQL); callers then use ``take_snapshot``.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        # MIGPROOF_CHECK_WATCH=1: compare every snapshot with a full read (the test suite does)
        self.check_each = bool(os.environ.get("MIGPROOF_CHECK_WATCH"))
        self._syncs = itertools.count()
        self._notes: list[str] = []
        self._current: Snapshot | None = None
        self.full_reads = 0  # how many snapshots read the whole catalog
        self._filters: SnapshotFilter | None = None
        # oid -> (attribute, key) of each object read, and each key's oid by attribute
        self._where: dict[int, tuple[str, str]] = {}
        self._oid_of: dict[str, dict[str, int]] = {}
        conn.add_notify_handler(lambda notify: self._notes.append(notify.payload))

    @classmethod
    def install(cls, conn: psycopg.Connection[Any]) -> CatalogWatch | None:
        """Create the event triggers in ``conn``'s database and listen; None if not allowed."""
        conn.autocommit = True  # each sync NOTIFY is delivered as its statement ends
        try:
            with conn.transaction():
                conn.execute(_INSTALL)
        except psycopg.Error:
            return None
        with conn.transaction():
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(_CHANNEL)))
            # the watch's own queries are few, prepared, and run hundreds of times
            conn.execute("SET plan_cache_mode = force_generic_plan")
        return cls(conn)

    def close(self) -> None:
        self.conn.close()

    def invalidate(self) -> None:
        """Read the whole catalog next time (for changes no event trigger sees)."""
        self._current = None

    def snapshot(self, filters: SnapshotFilter | None = None) -> Snapshot:
        """The database's committed catalog, as ``take_snapshot(conn, filters)`` reads it."""
        filters = _without_watch(filters or SnapshotFilter())
        touched, dropped, complete = self._changes()
        if self._current is None or filters != self._filters or not complete:
            snapshot = self._full(filters)
        else:
            snapshot = self._refresh(self._current, filters, touched, dropped)
        if self.check_each:
            full = take_snapshot(self.conn, filters)
            if full != snapshot:
                raise AssertionError("incremental snapshot differs from a full read")
        self._current = snapshot
        return snapshot

    def _changes(self) -> tuple[set[tuple[int, int]], set[int], bool]:
        """What the notifications since the last snapshot name: (touched, dropped, complete).

        ``complete`` is False when a change names no object the watch can place.
        """
        token = f"sync {os.getpid()} {next(self._syncs)}"
        if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return set(), set(), False  # a NOTIFY would wait for the caller's commit
        # autocommit: one round trip, and our own NOTIFY comes back before its reply; should
        # it ever not, any later reply brings it (the handler sees them as results are read)
        self.conn.execute("SELECT pg_notify(%s, %s)", (_CHANNEL, token), prepare=True)
        deadline = time.monotonic() + _SYNC_TIMEOUT_SECONDS
        while token not in self._notes and time.monotonic() < deadline:
            time.sleep(0.001)
            self.conn.execute("SELECT 1")
        notes, self._notes = self._notes, []
        complete = token in notes
        touched: set[tuple[int, int]] = set()
        dropped: set[int] = set()
        for note in notes:
            kind, _, rest = note.partition(" ")
            if kind == "sync":
                continue
            if kind not in ("t", "d"):  # 'full', or anything this version does not know
                complete = False
                continue
            classid, objid = (int(part) for part in rest.split())
            if objid == 0 or classid in _WHOLE:
                complete = False
            elif kind == "t":
                touched.add((classid, objid))
            else:
                dropped.add(objid)
        return touched, dropped, complete

    def _full(self, filters: SnapshotFilter) -> Snapshot:
        self.full_reads += 1
        results = read_few(self.conn, filters, _FEW) or read_catalog(self.conn, filters)
        self._filters = filters
        self._where.clear()
        self._oid_of = {}
        self._remember(results)
        return snapshot_of(self.conn, results)

    def _refresh(
        self,
        current: Snapshot,
        filters: SnapshotFilter,
        touched: set[tuple[int, int]],
        dropped: set[int],
    ) -> Snapshot:
        wanted = self._reach(touched) if touched else {}
        if _FULL in wanted:
            return self._full(filters)
        if "tables" in wanted:
            for attribute, oids_ in self._former_parts(current, wanted["tables"]).items():
                wanted.setdefault(attribute, set()).update(oids_)
        # Objects dropped from ``current`` as orphans (an index of an excluded table) come
        # back when their table is read again: they depend on it.
        objects = _Copies(current)
        for oid in dropped:
            self._forget(objects, oid)
        if wanted:
            only = {
                query: sorted(oids_)
                for attribute, oids_ in wanted.items()
                for query in _QUERIES_OF[attribute]
            }
            results = read_catalog(self.conn, filters, only)
            for attribute, oids_ in wanted.items():
                for oid in oids_:
                    if self._where.get(oid, ("", ""))[0] == attribute:
                        self._forget(objects, oid)
            read = collections(results)
            for attribute, found in read.items():
                if found:
                    objects[attribute].update(found)
            self._remember(results)
        if not objects:
            return current
        # kinds nothing changed in are shared with ``current``: snapshots are never mutated
        changed: dict[str, Any] = {
            attribute: dict(sorted(items.items())) for attribute, items in objects.items()
        }
        snapshot = dataclasses.replace(current, **changed)
        return drop_orphans(snapshot) if objects.keys() & _WITH_ORPHANS else snapshot

    def _former_parts(self, current: Snapshot, tables: set[int]) -> dict[str, set[int]]:
        """What belonged to the tables at the last snapshot: ALTER TABLE is told as a change
        of the table alone, and some of its subcommands drop or detach a part without a
        word (DROP IDENTITY drops the sequence, DETACH PARTITION frees the partition)."""
        keys = {self._where[oid][1] for oid in tables if oid in self._where}
        if not keys:
            return {}

        def owner(owned_by: str | None) -> str | None:
            return owned_by.rpartition(".")[0] if owned_by else None

        belongs = {
            "tables": [
                k
                for k, t in current.tables.items()
                if t.partition_of in keys or keys.intersection(t.inherits)
            ],
            "indexes": [k for k, i in current.indexes.items() if i.table in keys],
            "sequences": [k for k, q in current.sequences.items() if owner(q.owned_by) in keys],
            "triggers": [k for k, t in current.triggers.items() if t.table in keys],
            "policies": [k for k, p in current.policies.items() if p.table in keys],
            "statistics": [k for k, t in current.statistics.items() if t.table in keys],
        }
        parts: dict[str, set[int]] = {}
        for attribute, found in belongs.items():
            oid_of = self._oid_of.get(attribute, {})
            oids_ = {oid_of[key] for key in found if key in oid_of}
            if oids_:
                parts[attribute] = oids_
        return parts

    def _reach(self, touched: Iterable[tuple[int, int]]) -> dict[str, set[int]]:
        """The snapshot objects (attribute -> oids) that can show the touched objects' changes.

        ``_FULL`` among the attributes when one of them can be read only with everything.
        """
        pairs = sorted(touched)
        params = {
            "classids": oid_array(c for c, _ in pairs),
            "objids": oid_array(o for _, o in pairs),
        }
        rows = self.conn.execute(_REACH, params, prepare=True).fetchall()
        wanted: dict[str, set[int]] = {}
        for *row, shown in rows:
            # one a snapshot shows nowhere is read only if the last snapshot showed it
            if not shown and row[1] not in self._where:
                continue
            for attribute, oid in _shown_in(*row):
                wanted.setdefault(attribute, set()).add(oid)
        return wanted

    def _remember(self, results: dict[str, Any]) -> None:
        for query, result in results.items():
            if query in CHILD_QUERIES:
                continue
            attribute = _KIND_OF_QUERY[query]
            if "oid" not in result.columns:
                continue
            keys = self._oid_of.setdefault(attribute, {})
            for key, oid in oids(result).items():
                stale = keys.get(key)
                if stale is not None and stale != oid:
                    self._where.pop(stale, None)
                keys[key] = oid
                self._where[oid] = (attribute, key)

    def _forget(self, objects: _Copies, oid: int) -> None:
        place = self._where.pop(oid, None)
        if place is None:
            return
        attribute, key = place
        keys = self._oid_of.get(attribute, {})
        if keys.get(key) == oid:
            del keys[key]
            objects[attribute].pop(key, None)


_PG_CLASS, _PG_TYPE, _PG_CONSTRAINT, _PG_ATTRDEF = 1259, 1247, 2606, 2604
_FULL = "full"  # not a snapshot attribute: read the whole catalog
# The snapshot attribute that holds an object, by pg_class.relkind, pg_type.typtype, classid.
_RELKINDS = {
    "r": "tables", "p": "tables", "f": "tables", "i": "indexes", "I": "indexes",
    "S": "sequences", "v": "views", "m": "views",
}  # fmt: skip
_TYPTYPES = {"e": "enums", "d": "domains", "r": "range_types", "c": "composite_types"}
_CLASSES = {
    1255: "functions", 2620: "triggers", 3256: "policies", 3381: "statistics",
    3456: "collations",
    2615: _FULL, 3079: _FULL, 826: _FULL,  # pg_namespace, pg_extension, pg_default_acl
}  # fmt: skip
# classes of which a change, or a drop, is read whole
_WHOLE = frozenset(classid for classid, attribute in _CLASSES.items() if attribute == _FULL)


def _shown_in(
    classid: int,
    objid: int,
    relkind: str | None,
    reltype: int | None,
    indrelid: int | None,
    typtype: str | None,
    conrelid: int | None,
    contypid: int | None,
    adrelid: int | None,
) -> Iterable[tuple[str, int]]:
    """The snapshot objects (attribute, oid) that show one object a change reached (none for
    a toast table, a table's row type, an array type …)."""
    if classid == _PG_CLASS:
        if relkind == "c" and reltype:
            yield "composite_types", reltype
        elif relkind in _RELKINDS:
            yield _RELKINDS[relkind], objid
        if indrelid:  # an index backing a constraint shows in its table
            yield "tables", indrelid
    elif classid == _PG_TYPE:
        if typtype in _TYPTYPES:
            yield _TYPTYPES[typtype], objid
    elif classid == _PG_CONSTRAINT:
        if conrelid:
            yield "tables", conrelid
        elif contypid:
            yield "domains", contypid
    elif classid == _PG_ATTRDEF:
        if adrelid:
            yield "tables", adrelid
    elif classid in _CLASSES:
        yield _CLASSES[classid], objid


class _Copies(dict[str, dict[str, Any]]):
    """Copies of a snapshot's collections, made as a change first touches each kind."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def __missing__(self, attribute: str) -> dict[str, Any]:
        copy = self[attribute] = dict(getattr(self.snapshot, attribute))
        return copy


# drop_orphans() can change its answer only when one of these did
_WITH_ORPHANS = frozenset({"tables", "views", "indexes", "triggers", "policies", "statistics"})


def _without_watch(filters: SnapshotFilter) -> SnapshotFilter:
    if WATCH_SCHEMA in filters.exclude_schemas:
        return filters
    return dataclasses.replace(filters, exclude_schemas=(*filters.exclude_schemas, WATCH_SCHEMA))
