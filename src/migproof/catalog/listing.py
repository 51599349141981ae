"""The text form of a snapshot: one SQL-like line per object, details indented beneath.

Meant for reading and reviewing, not for replaying: deterministic, in the diff's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from migproof.catalog.model import (
    KINDS,
    Collation,
    Column,
    CompositeType,
    Constraint,
    DefaultPrivileges,
    Domain,
    Enum,
    Extension,
    Function,
    Index,
    Policy,
    RangeType,
    Schema,
    Sequence,
    Snapshot,
    Statistics,
    Table,
    Trigger,
    View,
)

__all__ = ["render_snapshot"]

_Renderer = Callable[[str, Any], Iterator[str]]

_INDENT = "    "


def render_snapshot(snapshot: Snapshot) -> str:
    """Every object of the snapshot as readable text."""
    lines: list[str] = []
    for kind in KINDS:
        render = _RENDERERS[kind.attribute]
        for key, obj in snapshot.collection(kind).items():
            lines.extend(render(key, obj))
    return "\n".join(lines) + "\n" if lines else "(empty schema)\n"


def _extras(comment: str | None, privileges: tuple[str, ...] = ()) -> Iterator[str]:
    if comment is not None:
        yield f"{_INDENT}comment {comment!r}"
    if privileges:
        yield f"{_INDENT}grant {', '.join(privileges)}"


def _schema(key: str, schema: Schema) -> Iterator[str]:
    yield f"schema {key}"
    yield from _extras(schema.comment, schema.privileges)


def _extension(key: str, extension: Extension) -> Iterator[str]:
    yield f"extension {key} {extension.version} in schema {extension.schema}"
    yield from _extras(extension.comment)


def _collation(key: str, collation: Collation) -> Iterator[str]:
    line = f"collation {key} (provider {collation.provider}, locale {collation.locale!r}"
    if collation.lc_ctype is not None:
        line += f", lc_ctype {collation.lc_ctype!r}"
    if not collation.deterministic:
        line += ", deterministic false"
    yield line + ")"
    yield from _extras(collation.comment)


def _enum(key: str, enum: Enum) -> Iterator[str]:
    yield f"enum {key} ({', '.join(repr(label) for label in enum.labels)})"
    yield from _extras(enum.comment, enum.privileges)


def _typed(head: str, typed: Column | Domain) -> list[str]:
    """``head`` then the COLLATE, NOT NULL and DEFAULT clauses a column and a domain share."""
    parts = [head]
    if typed.collation:
        parts.append(f"COLLATE {typed.collation}")
    if typed.not_null:
        parts.append("NOT NULL")
    if typed.default is not None:
        parts.append(f"DEFAULT {typed.default}")
    return parts


def _domain(key: str, domain: Domain) -> Iterator[str]:
    yield " ".join(_typed(f"domain {key} {domain.type}", domain))
    for constraint in domain.constraints:
        yield f"{_INDENT}constraint {constraint}"
    yield from _extras(domain.comment, domain.privileges)


def _composite(key: str, composite: CompositeType) -> Iterator[str]:
    yield f"composite type {key} ({', '.join(composite.attributes)})"
    yield from _extras(composite.comment, composite.privileges)


def _range(key: str, range_type: RangeType) -> Iterator[str]:
    parts = [f"range type {key} (subtype {range_type.subtype}"]
    for label, value in (
        ("opclass", range_type.opclass),
        ("collation", range_type.collation),
        ("canonical", range_type.canonical),
        ("subtype_diff", range_type.subtype_diff),
    ):
        if value is not None:
            parts.append(f", {label} {value}")
    yield "".join(parts) + ")"
    yield from _extras(range_type.comment, range_type.privileges)


_TYPE_MAX = {"smallint": 32767, "integer": 2147483647, "bigint": 9223372036854775807}


def _sequence(key: str, seq: Sequence) -> Iterator[str]:
    """Options that differ from CREATE SEQUENCE's defaults (a descending one's when it descends)."""
    line = f"sequence {key} AS {seq.type}"
    ascending = seq.increment > 0
    for label, value, default in (
        ("START", seq.start, seq.min_value if ascending else seq.max_value),
        ("INCREMENT", seq.increment, 1),
        ("MINVALUE", seq.min_value, 1 if ascending else -_TYPE_MAX.get(seq.type, 0) - 1),
        ("MAXVALUE", seq.max_value, _TYPE_MAX.get(seq.type) if ascending else -1),
        ("CACHE", seq.cache, 1),
    ):
        if value != default:
            line += f" {label} {value}"
    if seq.cycle:
        line += " CYCLE"
    if seq.unlogged:
        line += " UNLOGGED"
    if seq.owned_by:
        line += f" OWNED BY {seq.owned_by}"
    yield line
    yield from _extras(seq.comment, seq.privileges)


def _table(key: str, table: Table) -> Iterator[str]:
    head = f"{'unlogged ' if table.unlogged else ''}{table.kind} {key}"
    if table.partition_of:
        head += f" PARTITION OF {table.partition_of} {table.partition_bound}"
    if table.partition_key:
        head += f" PARTITION BY {table.partition_key}"
    if table.inherits:
        head += f" INHERITS ({', '.join(table.inherits)})"
    if table.options:
        head += f" WITH ({', '.join(table.options)})"
    yield head
    if table.replica_identity != "DEFAULT":
        yield f"{_INDENT}replica identity {table.replica_identity}"
    if table.row_security:
        yield f"{_INDENT}row level security{' forced' if table.force_row_security else ''}"
    yield from _extras(table.comment, table.privileges)
    for column in table.columns:
        yield from _column(column)
    for constraint in table.constraints:
        yield from _constraint(constraint)


def _column(column: Column) -> Iterator[str]:
    parts = _typed(f"{_INDENT}{column.name} {column.type}", column)
    if column.identity:
        parts.append(f"GENERATED {column.identity} AS IDENTITY")
    if column.generated:
        parts.append(f"GENERATED ALWAYS AS {column.generated}")
    yield " ".join(parts)
    for extra in _extras(column.comment, column.privileges):
        yield _INDENT + extra


def _constraint(c: Constraint) -> Iterator[str]:
    kind = "" if c.kind == "EXCLUDE" else f" {c.kind}"  # the expression starts with EXCLUDE
    parts = [f"{_INDENT}constraint {c.name}{kind}"]
    if c.columns:
        parts.append(f"({', '.join(c.columns)})")
    if c.nulls_not_distinct:
        parts.append("NULLS NOT DISTINCT")
    if c.without_overlaps:
        parts.append("WITHOUT OVERLAPS" if c.kind != "FOREIGN KEY" else "PERIOD")
    if c.include:
        parts.append(f"INCLUDE ({', '.join(c.include)})")
    if c.kind == "FOREIGN KEY":
        parts.extend(_references(c))
    if c.expression is not None:
        parts.append(c.expression if c.kind == "EXCLUDE" else f"({c.expression})")
    if c.no_inherit:
        parts.append("NO INHERIT")
    if c.deferrable:
        parts.append("DEFERRABLE")
    if c.initially_deferred:
        parts.append("INITIALLY DEFERRED")
    if not c.validated:
        parts.append("NOT VALID")
    if not c.enforced:
        parts.append("NOT ENFORCED")
    yield " ".join(parts)
    for extra in _extras(c.comment):
        yield _INDENT + extra


def _references(c: Constraint) -> Iterator[str]:
    yield f"REFERENCES {c.references} ({', '.join(c.referenced_columns)})"
    if c.match != "SIMPLE":
        yield f"MATCH {c.match}"
    if c.on_delete != "NO ACTION":
        yield f"ON DELETE {c.on_delete}"
    if c.on_update != "NO ACTION":
        yield f"ON UPDATE {c.on_update}"


def _index(key: str, index: Index) -> Iterator[str]:
    keys = list(index.keys)
    if index.opclasses:
        keys = [
            k if o == "default" else f"{k} {o}" for k, o in zip(keys, index.opclasses, strict=False)
        ]
    line = f"{'unique ' if index.unique else ''}index {key} ON {index.table} USING {index.method}"
    line += f" ({', '.join(keys)})"
    if index.include:
        line += f" INCLUDE ({', '.join(index.include)})"
    if index.nulls_not_distinct:
        line += " NULLS NOT DISTINCT"
    if index.options:
        line += f" WITH ({', '.join(index.options)})"
    if index.predicate:
        line += f" WHERE {index.predicate}"
    if not index.valid:
        line += " (INVALID)"
    yield line
    yield from _extras(index.comment)


def _view(key: str, view: View) -> Iterator[str]:
    options = f" WITH ({', '.join(view.options)})" if view.options else ""
    yield f"{view.kind} {key}{options} AS"
    for line in view.definition.strip("\n").splitlines():
        yield _INDENT + line.rstrip()
    yield from _extras(view.comment, view.privileges)
    for column_comment in view.column_comments:
        yield f"{_INDENT}comment on column {column_comment}"


def _function(key: str, fn: Function) -> Iterator[str]:
    head = f"{fn.kind} {key}"
    if fn.arguments != fn.identity_arguments:
        head += f" ARGUMENTS ({fn.arguments})"
    if fn.returns is not None:
        head += f" RETURNS {fn.returns}"
    head += f" LANGUAGE {fn.language} {fn.volatility}"
    for flag, text in (
        (fn.strict, "STRICT"),
        (fn.security_definer, "SECURITY DEFINER"),
        (fn.leakproof, "LEAKPROOF"),
    ):
        if flag:
            head += f" {text}"
    if fn.parallel != "UNSAFE":
        head += f" PARALLEL {fn.parallel}"
    for setting in fn.config:
        head += f" SET {setting}"
    yield head
    for line in (fn.body or "").strip().splitlines():
        yield _INDENT + line
    yield from _extras(fn.comment, fn.privileges)


def _trigger(key: str, trigger: Trigger) -> Iterator[str]:
    state = "" if trigger.enabled == "ENABLED" else f" ({trigger.enabled})"
    yield f"trigger {key}{state}: {trigger.definition}"
    yield from _extras(trigger.comment)


def _policy(key: str, policy: Policy) -> Iterator[str]:
    line = f"policy {key} {'PERMISSIVE' if policy.permissive else 'RESTRICTIVE'}"
    line += f" FOR {policy.command} TO {', '.join(policy.roles)}"
    if policy.using is not None:
        line += f" USING ({policy.using})"
    if policy.with_check is not None:
        line += f" WITH CHECK ({policy.with_check})"
    yield line
    yield from _extras(policy.comment)


def _statistics(key: str, stats: Statistics) -> Iterator[str]:
    yield f"statistics {key}: {stats.definition}"
    yield from _extras(stats.comment)


def _default_privileges(key: str, default: DefaultPrivileges) -> Iterator[str]:
    yield f"default privileges {key}: grant {', '.join(default.privileges) or 'nothing'}"


# By attribute; KINDS gives the order (the diff's).
_RENDERERS: dict[str, _Renderer] = {
    "schemas": _schema,
    "extensions": _extension,
    "collations": _collation,
    "enums": _enum,
    "domains": _domain,
    "composite_types": _composite,
    "range_types": _range,
    "sequences": _sequence,
    "tables": _table,
    "indexes": _index,
    "views": _view,
    "functions": _function,
    "triggers": _trigger,
    "policies": _policy,
    "statistics": _statistics,
    "default_privileges": _default_privileges,
}
