"""The snapshot model: frozen dataclasses, one per object kind, keyed by qualified name.

Every field of an object is a property the diff compares, except its identity (``schema``,
``name``, ``table``, ``identity_arguments``) and, for columns, ``position``, which the diff
turns into a separate, lower-severity column-order difference. Values are plain JSON types
(str, int, bool, None, tuples of str), so a snapshot serialises byte for byte the same way
every time. Keys are written as PostgreSQL's ``quote_ident`` writes them: ``public.orders``,
``public."Order"``, ``public.add(integer, integer)``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "CatalogObject",
    "Collation",
    "Column",
    "CompositeType",
    "Constraint",
    "DefaultPrivileges",
    "Domain",
    "Enum",
    "Extension",
    "Function",
    "Index",
    "KindInfo",
    "Policy",
    "RangeType",
    "Schema",
    "Sequence",
    "Snapshot",
    "SnapshotFormatError",
    "Statistics",
    "Table",
    "Trigger",
    "Value",
    "View",
    "quote_ident",
]

FORMAT_VERSION = 1

Value = str | int | bool | None | tuple[str, ...]

_PLAIN_IDENT = re.compile(r"[a-z_][a-z0-9_$]*\Z")
_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z])")


def quote_ident(name: str) -> str:
    """Quote an identifier as PostgreSQL's ``quote_ident`` does, which wrote the snapshot's
    keys: ``Order`` -> ``"Order"``, and a keyword that is not unreserved, ``user`` ->
    ``"user"``; ``orders`` and ``name`` stay as they are.

    >>> [quote_ident(n) for n in ("orders", "Order", "user", "group", "name")]
    ['orders', '"Order"', '"user"', '"group"', 'name']
    """
    if _PLAIN_IDENT.match(name) and name not in _quoted_keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


@functools.cache
def _quoted_keywords() -> frozenset[str]:
    """The keywords PostgreSQL quotes as identifiers: all but the unreserved ones (its
    ``quote_identifier``), from pglast's copy of the server's keyword list.

    Its ``keywords`` module is read on its own: importing it through the package would
    import pglast's parser too, 30 ms that verify, which parses no SQL, does not pay.
    """
    module: Any = sys.modules.get("pglast.keywords")
    if module is None:
        import importlib.util

        package = importlib.util.find_spec("pglast")  # found, not imported
        origin = package.origin if package is not None else None
        spec = (
            importlib.util.spec_from_file_location(
                "migproof._pglast_keywords", Path(origin).with_name("keywords.py")
            )
            if origin
            else None
        )
        if spec is None or spec.loader is None:  # pragma: no cover - pglast is a dependency
            import pglast.keywords as module
        else:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    return frozenset(
        module.RESERVED_KEYWORDS | module.COL_NAME_KEYWORDS | module.TYPE_FUNC_NAME_KEYWORDS
    )


class SnapshotFormatError(ValueError):
    """A saved snapshot that is not one migproof wrote, or one of another format version."""


class CatalogObject:
    """Base of every object kind: properties are its fields minus ``IDENTITY``."""

    __slots__ = ()
    IDENTITY: ClassVar[frozenset[str]] = frozenset({"schema", "name", "table"})
    CHILDREN: ClassVar[Mapping[str, type[CatalogObject]]] = {}

    @property
    def kind_label(self) -> str:
        """How the object's kind is written in a difference: ``table``, ``view``, …"""
        kind = getattr(self, "kind", None)
        if isinstance(kind, str):
            return kind
        return _WORD_START.sub(" ", type(self).__name__).lower()  # CompositeType: composite type

    def properties(self) -> Iterator[tuple[str, Value]]:
        """The compared fields and their values, in declaration order."""
        for name in _property_names(type(self)):
            yield name, getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready data (children as lists of dicts)."""
        out: dict[str, Any] = {}
        children = self.CHILDREN
        for name, _ in _fields(type(self)):
            value = getattr(self, name)
            if name in children:
                out[name] = [child.to_dict() for child in value]
            elif isinstance(value, tuple):
                out[name] = list(value)
            else:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Rebuild an object from ``to_dict`` output."""
        values: dict[str, Any] = {}
        for name, has_default in _fields(cls):
            if name not in data:
                if has_default:
                    continue  # a property added after the file was written: its default
                raise SnapshotFormatError(f"{cls.__name__} without {name!r}")
            value = data[name]
            child = cls.CHILDREN.get(name)
            if child is not None:
                value = tuple(child.from_dict(item) for item in value)
            elif isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return cls(**values)


_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {}
_PROPERTIES: dict[str, tuple[str, ...]] = {}


def _fields(cls: type[CatalogObject]) -> tuple[tuple[str, bool], ...]:
    """Field names of a kind, and whether each has a default (computed once per class)."""
    if cls.__name__ not in _FIELDS:
        _FIELDS[cls.__name__] = tuple(
            (f.name, f.default is not dataclasses.MISSING)
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]  # subclasses are dataclasses
        )
    return _FIELDS[cls.__name__]


def _property_names(cls: type[CatalogObject]) -> tuple[str, ...]:
    if cls.__name__ not in _PROPERTIES:
        skip = cls.IDENTITY | cls.CHILDREN.keys()
        _PROPERTIES[cls.__name__] = tuple(name for name, _ in _fields(cls) if name not in skip)
    return _PROPERTIES[cls.__name__]


@dataclass(frozen=True, slots=True, kw_only=True)
class Schema(CatalogObject):
    name: str
    comment: str | None = None
    privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Extension(CatalogObject):
    name: str
    version: str
    schema: str
    comment: str | None = None

    IDENTITY: ClassVar[frozenset[str]] = frozenset({"name"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Column(CatalogObject):
    """A live column; ``position`` is its 1-based order among live columns."""

    name: str
    position: int
    type: str
    not_null: bool = False
    default: str | None = None
    identity: str | None = None  # "ALWAYS" | "BY DEFAULT"
    generated: str | None = None  # "(a + b) STORED"
    collation: str | None = None
    comment: str | None = None
    privileges: tuple[str, ...] = ()

    IDENTITY: ClassVar[frozenset[str]] = frozenset({"name", "position"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Constraint(CatalogObject):
    """PRIMARY KEY, UNIQUE, FOREIGN KEY, CHECK or EXCLUDE on a table."""

    name: str
    kind: str
    columns: tuple[str, ...] = ()
    references: str | None = None  # qualified key of the referenced table
    referenced_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None
    match: str | None = None
    deferrable: bool = False
    initially_deferred: bool = False
    validated: bool = True
    enforced: bool = True
    no_inherit: bool = False
    expression: str | None = None  # CHECK expression, EXCLUDE definition
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False
    without_overlaps: bool = False  # temporal key or PERIOD foreign key (PostgreSQL 18)
    comment: str | None = None

    IDENTITY: ClassVar[frozenset[str]] = frozenset({"name"})

    @property
    def kind_label(self) -> str:
        return "constraint"


@dataclass(frozen=True, slots=True, kw_only=True)
class Table(CatalogObject):
    """A table with its columns (in order) and its constraints (by name)."""

    schema: str
    name: str
    kind: str = "table"  # "table" | "partitioned table" | "foreign table"
    unlogged: bool = False
    partition_key: str | None = None
    partition_of: str | None = None
    partition_bound: str | None = None
    inherits: tuple[str, ...] = ()
    row_security: bool = False
    force_row_security: bool = False
    replica_identity: str = "DEFAULT"  # "NOTHING" | "FULL" | "USING INDEX name"
    options: tuple[str, ...] = ()
    comment: str | None = None
    privileges: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()

    CHILDREN: ClassVar[Mapping[str, type[CatalogObject]]] = {
        "columns": Column,
        "constraints": Constraint,
    }

    @property
    def is_partitioned(self) -> bool:
        return self.partition_key is not None

    def column(self, name: str) -> Column | None:
        """The column called ``name``, or None."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def primary_key(self) -> Constraint | None:
        return next((c for c in self.constraints if c.kind == "PRIMARY KEY"), None)

    @property
    def unique_constraints(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.kind == "UNIQUE")

    @property
    def foreign_keys(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.kind == "FOREIGN KEY")

    @property
    def checks(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.kind == "CHECK")


@dataclass(frozen=True, slots=True, kw_only=True)
class Index(CatalogObject):
    """An index that backs no constraint; ``table`` is the key of its table or view."""

    schema: str
    name: str
    table: str
    unique: bool = False
    method: str = "btree"
    keys: tuple[str, ...] = ()
    opclasses: tuple[str, ...] = ()  # empty when every key uses its default operator class
    include: tuple[str, ...] = ()
    predicate: str | None = None
    nulls_not_distinct: bool = False
    valid: bool = True
    options: tuple[str, ...] = ()
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger(CatalogObject):
    table: str
    name: str
    definition: str
    enabled: str = "ENABLED"
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy(CatalogObject):
    table: str
    name: str
    command: str = "ALL"
    permissive: bool = True
    roles: tuple[str, ...] = ("PUBLIC",)
    using: str | None = None
    with_check: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sequence(CatalogObject):
    schema: str
    name: str
    type: str = "bigint"
    start: int = 1
    increment: int = 1
    min_value: int = 1
    max_value: int = 9223372036854775807
    cache: int = 1
    cycle: bool = False
    unlogged: bool = False
    owned_by: str | None = None
    comment: str | None = None
    privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class View(CatalogObject):
    schema: str
    name: str
    kind: str = "view"  # "view" | "materialized view"
    definition: str = ""
    options: tuple[str, ...] = ()
    comment: str | None = None
    column_comments: tuple[str, ...] = ()  # "column: comment", in column order
    privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Function(CatalogObject):
    schema: str
    name: str
    identity_arguments: str
    kind: str = "function"  # "function" | "procedure" | "aggregate" | "window function"
    arguments: str = ""
    returns: str | None = None
    language: str = "sql"
    body: str | None = None
    volatility: str = "VOLATILE"
    strict: bool = False
    security_definer: bool = False
    leakproof: bool = False
    parallel: str = "UNSAFE"
    config: tuple[str, ...] = ()
    comment: str | None = None
    privileges: tuple[str, ...] = ()

    IDENTITY: ClassVar[frozenset[str]] = frozenset({"schema", "name", "identity_arguments"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Collation(CatalogObject):
    """A collation the schema creates (CREATE COLLATION), e.g. a case-insensitive ICU one."""

    schema: str
    name: str
    provider: str  # "libc" | "icu" | "builtin"
    locale: str | None = None
    lc_ctype: str | None = None  # libc only, when it differs from the locale
    deterministic: bool = True
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Enum(CatalogObject):
    schema: str
    name: str
    labels: tuple[str, ...] = ()
    comment: str | None = None
    privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Domain(CatalogObject):
    schema: str
    name: str
    type: str
    not_null: bool = False
    default: str | None = None
    collation: str | None = None
    constraints: tuple[str, ...] = ()  # "name: CHECK (...)"
    comment: str | None = None
    privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CompositeType(CatalogObject):
    schema: str
    name: str
    attributes: tuple[str, ...] = ()  # "name type [COLLATE c]" in order
    comment: str | None = None
    privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeType(CatalogObject):
    schema: str
    name: str
    subtype: str
    opclass: str | None = None
    collation: str | None = None
    canonical: str | None = None
    subtype_diff: str | None = None
    comment: str | None = None
    privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Statistics(CatalogObject):
    """An extended statistics object (CREATE STATISTICS) on ``table``."""

    schema: str
    name: str
    table: str
    definition: str
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultPrivileges(CatalogObject):
    """ALTER DEFAULT PRIVILEGES of a role for one object type, in a schema or everywhere."""

    role: str
    schema: str | None
    object_type: str  # "tables" | "sequences" | "functions" | "types" | "schemas"
    privileges: tuple[str, ...] = ()

    IDENTITY: ClassVar[frozenset[str]] = frozenset({"role", "schema", "object_type"})


@dataclass(frozen=True, slots=True)
class KindInfo:
    """One top-level collection of a snapshot: its attribute, class and query file."""

    attribute: str
    cls: type[CatalogObject]
    query: str


# Order of the JSON keys does not matter (sorted); this order is the diff's reading order.
KINDS: tuple[KindInfo, ...] = (
    KindInfo("schemas", Schema, "schemas.sql"),
    KindInfo("extensions", Extension, "extensions.sql"),
    KindInfo("collations", Collation, "collations.sql"),
    KindInfo("enums", Enum, "enums.sql"),
    KindInfo("domains", Domain, "domains.sql"),
    KindInfo("composite_types", CompositeType, "composites.sql"),
    KindInfo("range_types", RangeType, "ranges.sql"),
    KindInfo("sequences", Sequence, "sequences.sql"),
    KindInfo("tables", Table, "tables.sql"),
    KindInfo("indexes", Index, "indexes.sql"),
    KindInfo("views", View, "views.sql"),
    KindInfo("functions", Function, "functions.sql"),
    KindInfo("triggers", Trigger, "triggers.sql"),
    KindInfo("policies", Policy, "policies.sql"),
    KindInfo("statistics", Statistics, "statistics.sql"),
    KindInfo("default_privileges", DefaultPrivileges, "default_privileges.sql"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """Everything a migration can change in a database, keyed by qualified name.

    >>> snap = take_snapshot(conn)                      # doctest: +SKIP
    >>> [c.name for c in snap.tables["public.orders"].columns]   # doctest: +SKIP
    ['id', 'customer_id', 'total']
    """

    server_version: int = 0  # major version of the server it was taken on; not compared
    schemas: Mapping[str, Schema] = field(default_factory=dict)
    extensions: Mapping[str, Extension] = field(default_factory=dict)
    collations: Mapping[str, Collation] = field(default_factory=dict)
    enums: Mapping[str, Enum] = field(default_factory=dict)
    domains: Mapping[str, Domain] = field(default_factory=dict)
    composite_types: Mapping[str, CompositeType] = field(default_factory=dict)
    range_types: Mapping[str, RangeType] = field(default_factory=dict)
    sequences: Mapping[str, Sequence] = field(default_factory=dict)
    tables: Mapping[str, Table] = field(default_factory=dict)
    indexes: Mapping[str, Index] = field(default_factory=dict)
    views: Mapping[str, View] = field(default_factory=dict)
    functions: Mapping[str, Function] = field(default_factory=dict)
    triggers: Mapping[str, Trigger] = field(default_factory=dict)
    policies: Mapping[str, Policy] = field(default_factory=dict)
    statistics: Mapping[str, Statistics] = field(default_factory=dict)
    default_privileges: Mapping[str, DefaultPrivileges] = field(default_factory=dict)
    # indexes_of's grouping, built on its first call: the row generator asks once per failed
    # insert, and a scan of every index each time grew with the schema.
    _indexes_by_table: dict[str, tuple[Index, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def collection(self, kind: KindInfo) -> Mapping[str, CatalogObject]:
        """The objects of one kind, by key."""
        value: Mapping[str, CatalogObject] = getattr(self, kind.attribute)
        return value

    def indexes_of(self, table: str) -> tuple[Index, ...]:
        """The indexes (not backing a constraint) of the table or view with key ``table``."""
        by_table = self._indexes_by_table
        if by_table is None:
            grouped: dict[str, list[Index]] = {}
            for _, index in sorted(self.indexes.items()):
                grouped.setdefault(index.table, []).append(index)
            by_table = {key: tuple(indexes) for key, indexes in grouped.items()}
            object.__setattr__(self, "_indexes_by_table", by_table)
        return by_table.get(table, ())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: ``format``, ``server_version`` and one object per kind."""
        out: dict[str, Any] = {"format": FORMAT_VERSION, "server_version": self.server_version}
        for kind in KINDS:
            out[kind.attribute] = {k: v.to_dict() for k, v in self.collection(kind).items()}
        return out

    def to_json(self) -> str:
        """Byte-stable JSON: sorted keys, two-space indent, trailing newline."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        """Rebuild a snapshot from ``to_dict`` output."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT_VERSION:
            found = data.get("format") if isinstance(data, Mapping) else None
            raise SnapshotFormatError(
                f"not a migproof snapshot of format {FORMAT_VERSION} (format: {found!r})"
            )
        values: dict[str, Any] = {"server_version": int(data.get("server_version") or 0)}
        for kind in KINDS:
            items = data.get(kind.attribute, {})
            if not isinstance(items, Mapping):
                raise SnapshotFormatError(f"{kind.attribute} must be an object")
            values[kind.attribute] = {
                key: kind.cls.from_dict(item) for key, item in sorted(items.items())
            }
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        """Parse ``to_json`` output; SnapshotFormatError when it is not a snapshot."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SnapshotFormatError(f"not valid JSON: {exc}") from exc
        try:
            return cls.from_dict(data)
        except (TypeError, KeyError, AttributeError) as exc:
            raise SnapshotFormatError(f"malformed snapshot: {exc}") from exc
