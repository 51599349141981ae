"""Which existing tables a statement locks so that writes (or reads) wait.

A static reading of PostgreSQL's lock table (https://www.postgresql.org/docs/current/
explicit-locking.html): ALTER TABLE, DROP, TRUNCATE, RENAME, SET SCHEMA, VACUUM FULL, CLUSTER and
REINDEX take ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE for foreign keys, on both tables);
CREATE INDEX without CONCURRENTLY takes SHARE. Tables created in this migration are left
out: nobody else can be waiting on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from migproof.lint.pgsql import Deferred, ast, enums, iter_nodes
from migproof.lint.schema import Schema, qualified, qualified_list

__all__ = ["WEAK_SUBCOMMANDS", "named_relations", "strong_lock_targets"]

OT = enums.ObjectType
AT = enums.AlterTableType
# ALTER TABLE subcommands that take SHARE UPDATE EXCLUSIVE, which blocks neither reads nor
# writes (https://www.postgresql.org/docs/current/sql-altertable.html)
WEAK_SUBCOMMANDS = frozenset(
    {
        AT.AT_ValidateConstraint,
        AT.AT_SetStatistics,
        AT.AT_ClusterOn,
        AT.AT_DropCluster,
        AT.AT_SetRelOptions,
        AT.AT_ResetRelOptions,
        AT.AT_SetOptions,
        AT.AT_ResetOptions,
    }
)
# DROP and COMMENT name their objects by name lists, not RangeVars.
_RELATION_OBJECTS = frozenset(
    {
        OT.OBJECT_TABLE,
        OT.OBJECT_INDEX,
        OT.OBJECT_VIEW,
        OT.OBJECT_MATVIEW,
        OT.OBJECT_SEQUENCE,
        OT.OBJECT_FOREIGN_TABLE,
    }
)


def named_relations(node: Any) -> set[str]:
    """The relations a statement names, as written: ``schema.name``, or a bare ``name``.

    >>> from migproof.lint.pgsql import parse_statements
    >>> sorted(named_relations(parse_statements(
    ...     "UPDATE app.orders SET x = 1 FROM users WHERE users.id = orders.uid")[0].node))
    ['app.orders', 'users']
    >>> named_relations(parse_statements("DROP INDEX ix_total")[0].node)
    {'ix_total'}
    """
    names: set[str] = set()
    for item in iter_nodes(node.parse() if isinstance(node, Deferred) else node):
        if isinstance(item, ast.RangeVar) and item.relname:
            names.add(f"{item.schemaname}.{item.relname}" if item.schemaname else item.relname)
        elif isinstance(item, ast.DropStmt | ast.CommentStmt):
            kind = item.removeType if isinstance(item, ast.DropStmt) else item.objtype
            objects = item.objects if isinstance(item, ast.DropStmt) else (item.object,)
            if kind in _RELATION_OBJECTS:
                for obj in objects or ():
                    parts = [n.sval or "" for n in obj or () if isinstance(n, ast.String)]
                    if parts:
                        names.add(".".join(parts[-2:]))
    return names


def strong_lock_targets(  # noqa: PLR0912
    node: Any, schema: Schema, referenced: Iterable[str] = ()
) -> list[str]:
    """Existing tables whose writes wait while this statement runs.

    ``referenced``: the tables the statement's foreign keys point at (the caller has them).
    """
    tables: list[str] = []
    if isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        if node.objtype not in (OT.OBJECT_TABLE, OT.OBJECT_MATVIEW, OT.OBJECT_FOREIGN_TABLE):
            return []
        if all(getattr(cmd, "subtype", None) in WEAK_SUBCOMMANDS for cmd in node.cmds or ()):
            return []  # SHARE UPDATE EXCLUSIVE: reads and writes go on
        tables.append(qualified(node.relation))
        tables.extend(referenced)
    elif isinstance(node, ast.CreateStmt):
        created = qualified(node.relation) if node.relation is not None else None
        tables.extend(t for t in referenced if t != created)  # a self-reference locks nothing
    elif isinstance(node, ast.IndexStmt) and node.relation is not None:
        if node.concurrent:
            return []
        tables.append(qualified(node.relation))
    elif isinstance(node, ast.RenameStmt | ast.AlterObjectSchemaStmt) and node.relation:
        tables.append(qualified(node.relation))
    elif isinstance(node, ast.DropStmt):
        if node.removeType == OT.OBJECT_INDEX and node.concurrent:
            return []
        if node.removeType in (OT.OBJECT_TABLE, OT.OBJECT_INDEX, OT.OBJECT_MATVIEW):
            for obj in node.objects or ():
                if isinstance(obj, tuple):
                    name = qualified_list(obj)
                    index = schema.indexes.get(name)
                    tables.append(index.table if index else name)
    elif isinstance(node, ast.TruncateStmt):
        tables.extend(qualified(r) for r in node.relations or ())
    elif isinstance(node, ast.VacuumStmt):
        if any(o.defname == "full" for o in node.options or ()):
            tables.extend(qualified(v.relation) for v in node.rels or () if v.relation)
    elif isinstance(node, ast.ClusterStmt) and node.relation is not None:
        tables.append(qualified(node.relation))
    elif isinstance(node, ast.ReindexStmt) and node.relation is not None:
        if any(p.defname == "concurrently" for p in node.params or ()):
            return []
        tables.append(qualified(node.relation))
    elif isinstance(node, ast.CreateTrigStmt) and node.relation is not None:
        tables.append(qualified(node.relation))
    return [t for t in dict.fromkeys(tables) if not schema.is_new(t)]
