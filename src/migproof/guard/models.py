"""The SQLAlchemy schema a Python module declares, read from its AST and normalised.

Two versions of a models file are compared by what they declare, not by their text: tables
(declarative classes with ``__tablename__``, ``Table(...)``), their columns (``Column``,
``mapped_column``, ``Mapped[...]`` annotations, SQLModel fields), ``__table_args__``, indexes,
constraints, enums (``sa.Enum`` and the Python enums columns use), ``MetaData`` and
``declared_attr`` members. Relationships, Python-side defaults, docstrings, comments,
formatting, import order and aliases, keyword order and the names of module-level helper
variables do not change the schema, so they compare equal.

Nothing is imported: SQLAlchemy is never loaded, the module is only parsed.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from migproof.guard.project import absolute_module

__all__ = [
    "Declaration",
    "DeltaKind",
    "Member",
    "ModelModule",
    "SchemaDelta",
    "Symbols",
    "compare_declarations",
    "extract_declarations",
    "module_symbols",
    "python_enums",
    "uses_name",
]

# Qualified names are collapsed to ``sa.<name>``: sqlalchemy re-exports most names at several
# paths (sqlalchemy.orm.mapped_column is sqlalchemy.mapped_column), sqlmodel re-exports them.
_SA_ROOTS = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
# Module names inside those packages: dropped, so the import style does not matter.
_SA_MODULES = frozenset(
    {
        "orm",
        "types",
        "sql",
        "schema",
        "dialects",
        "postgresql",
        "mysql",
        "sqlite",
        "oracle",
        "mssql",
        "ext",
        "declarative",
        "sqltypes",
        "expression",
        "functions",
        "elements",
        "decl_api",
        "hybrid",
        "mutable",
        "associationproxy",
        "indexable",
        "asyncio",
        "base",
        "sqlmodel",
        "flask_sqlalchemy",
        "main",
        "ddl",
        "json",
        "array",
        "ranges",
        "named_types",
        "properties",
        "relationships",
        "attributes",
        "interfaces",
    }
)
_COLUMN_CALLS = frozenset({"sa.Column", "sa.mapped_column", "sa.Field"})
_NOT_SCHEMA_CALLS = frozenset(
    {
        "sa.relationship",
        "sa.Relationship",
        "sa.backref",
        "sa.association_proxy",
        "sa.synonym",
        "sa.composite",
        "sa.query_expression",
        "sa.dynamic_loader",
        "sa.column_property",
        "sa.deferred",
        "sa.hybrid_property",
    }
)
_SPEC_CALLS = frozenset({"sa.Column", "sa.mapped_column"})
# Positional arguments of Column / mapped_column that are not its type.
_COLUMN_ARGUMENT_CALLS = frozenset(
    {
        "sa.ForeignKey",
        "sa.Sequence",
        "sa.Identity",
        "sa.Computed",
        "sa.FetchedValue",
        "sa.DefaultClause",
        "sa.CheckConstraint",
    }
)
# sqlalchemy.orm's default type_annotation_map.
_PYTHON_TYPES = {
    "int": "sa.Integer",
    "str": "sa.String",
    "bool": "sa.Boolean",
    "float": "sa.Float",
    "bytes": "sa.LargeBinary",
    "datetime.datetime": "sa.DateTime",
    "datetime.date": "sa.Date",
    "datetime.time": "sa.Time",
    "datetime.timedelta": "sa.Interval",
    "decimal.Decimal": "sa.Numeric",
    "uuid.UUID": "sa.Uuid",
}
_RELATIONSHIP_ANNOTATIONS = frozenset({"sa.WriteOnlyMapped", "sa.DynamicMapped"})
# Keyword arguments of Column / mapped_column / sqlmodel.Field that never reach the DDL.
_CLIENT_SIDE_KWARGS = frozenset(
    {
        "default",
        "default_factory",
        "onupdate",
        "insert_default",
        "doc",
        "info",
        "key",
        "init",
        "repr",
        "compare",
        "kw_only",
        "hash",
        "deferred",
        "deferred_group",
        "deferred_raiseload",
        "active_history",
        "sort_order",
        "use_existing_column",
        # sqlmodel.Field: pydantic validation and documentation only
        "alias",
        "title",
        "description",
        "schema_extra",
        "regex",
        "pattern",
        "const",
        "gt",
        "ge",
        "lt",
        "le",
        "multiple_of",
        "min_length",
        "min_items",
        "max_items",
        "allow_mutation",
        "discriminator",
        "include",
        "exclude",
    }
)
_TABLE_DUNDERS = frozenset(
    {
        "__tablename__",
        "__table__",
        "__table_args__",
        "__abstract__",
        "__table_cls__",
        "metadata",
        "type_annotation_map",
    }
)
_MODULE_CALLS = frozenset({"sa.MetaData", "sa.declarative_base", "sa.registry"})
_CONSTRAINTS = frozenset(
    {
        "sa.Index",
        "sa.UniqueConstraint",
        "sa.CheckConstraint",
        "sa.PrimaryKeyConstraint",
        "sa.ForeignKeyConstraint",
        "sa.ExcludeConstraint",
    }
)
_ENUM_CALLS = frozenset({"sa.Enum", "sa.ENUM"})
_PY_ENUM_BASES = frozenset(
    {"enum.Enum", "enum.StrEnum", "enum.IntEnum", "enum.Flag", "enum.IntFlag"}
)
# Type constructors' leading parameters and defaults (SQLAlchemy 2.0), so String(50) and
# String(length=50), DateTime() and DateTime(timezone=False) read the same.
_STRING_ARGS: tuple[tuple[str, str], ...] = (("length", "None"), ("collation", "None"))
# sa.DateTime / sa.Time take a timezone only; TIMESTAMP and TIME are postgresql's too (its
# module is dropped from the name), which take a precision after it.
_TIME_ARGS: tuple[tuple[str, str], ...] = (("timezone", "False"),)
_PRECISE_TIME_ARGS: tuple[tuple[str, str], ...] = (*_TIME_ARGS, ("precision", "None"))
_TYPE_SIGNATURES: dict[str, tuple[tuple[str, str], ...]] = {
    **dict.fromkeys(
        (
            "sa.String",
            "sa.Text",
            "sa.Unicode",
            "sa.UnicodeText",
            "sa.VARCHAR",
            "sa.CHAR",
            "sa.NVARCHAR",
            "sa.NCHAR",
            "sa.TEXT",
        ),
        _STRING_ARGS,
    ),
    **dict.fromkeys(("sa.DateTime", "sa.Time"), _TIME_ARGS),
    **dict.fromkeys(("sa.TIMESTAMP", "sa.TIME"), _PRECISE_TIME_ARGS),
    **dict.fromkeys(
        ("sa.Numeric", "sa.NUMERIC", "sa.DECIMAL"),
        (
            ("precision", "None"),
            ("scale", "None"),
            ("decimal_return_scale", "None"),
            ("asdecimal", "True"),
        ),
    ),
    **dict.fromkeys(
        ("sa.Float", "sa.FLOAT", "sa.REAL", "sa.Double", "sa.DOUBLE", "sa.DOUBLE_PRECISION"),
        (("precision", "None"), ("asdecimal", "False"), ("decimal_return_scale", "None")),
    ),
    **dict.fromkeys(("sa.LargeBinary", "sa.BYTEA"), (("length", "None"),)),
    "sa.Interval": (("native", "True"), ("second_precision", "None"), ("day_precision", "None")),
    "sa.Boolean": (("create_constraint", "False"), ("name", "None")),
}
_MAX_INLINE_DEPTH = 8
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Member:
    """One schema-bearing part of a declaration: a column, ``__table_args__``, a constraint."""

    label: str
    line: int
    text: str


@dataclass(slots=True)
class Declaration:
    """A table, model, index, enum or metadata the module declares, with its members."""

    key: str
    line: int
    members: dict[str, Member] = field(default_factory=dict)


class DeltaKind(Enum):
    """What happened to a declaration or one of its members."""

    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class SchemaDelta:
    """One difference: the declaration (``key``), the member (None: the declaration as a
    whole), what happened and where (``in_base``: the line is in the base version)."""

    key: str
    kind: DeltaKind
    line: int
    member: str | None = None
    in_base: bool = False
    note: str = ""  # said after the description: " (used by a column in shop/models.py)"

    @property
    def description(self) -> str:
        """``table users: column email added``, ``enum class Status: removed``."""
        what = f"{self.member} {self.kind.value}" if self.member else self.kind.value
        return f"{self.key}: {what}{self.note}"

    @property
    def is_whole(self) -> bool:
        """The declaration itself came or went (not one of its members)."""
        return self.member is None and self.kind is not DeltaKind.CHANGED


# Names another module defines, as that module's own declarations render them:
# qualified name -> (text where used as a value, text where used as a class base).
Symbols = dict[str, tuple[str, str]]


class ModelModule:
    """One version of a Python module, parsed once: what it declares, every Python enum
    class it defines, and what the names it defines stand for in other modules.

    Raises SyntaxError (ValueError on a null byte, RecursionError when too deeply nested)
    on a module it cannot read.

    >>> module = ModelModule("import enum\\nclass Status(enum.Enum):\\n    a = 'a'\\n")
    >>> module.declarations, sorted(module.enums)
    ({}, ['enum class Status'])
    """

    __slots__ = ("_extractor", "declarations", "enums")

    def __init__(self, source: str, package: str | None = None) -> None:
        self._extractor = _Extractor(ast.parse(source), package)
        self.declarations: dict[str, Declaration] = self._extractor.run()
        # every Python enum class, used by a column here (then in declarations too) or not
        self.enums: dict[str, Declaration] = self._extractor.enums

    def declarations_with(self, symbols: Symbols) -> dict[str, Declaration]:
        """The declarations again, names imported from other modules rendered as those
        modules render them (``module_symbols``); the tree is not parsed again."""
        extractor = self._extractor
        return _Extractor(extractor.tree, extractor.package, symbols).run()

    def symbols(self, module: str) -> Symbols:
        """What ``from <module> import X`` stands for, X rendered as this module renders it.

        With these, a class moved from this module to another that imports its base class
        (or a table its foreign key names) from here compares equal to what it was.
        """
        extractor = self._extractor
        symbols: Symbols = {}
        for name in extractor.local_classes:
            value = extractor.placeholders.get(name, name)
            symbols[f"{module}.{name}"] = (value, extractor._base_text(ast.Name(id=name)))
        for name in [*extractor.imports, *extractor.placeholders, *extractor.inline]:
            if name not in extractor.local_classes:
                text = extractor.canon(ast.Name(id=name, ctx=ast.Load()))
                symbols[f"{module}.{name}"] = (text, text)
        for stmt in _module_statements(extractor.tree):
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                symbols[f"{module}.{stmt.name}"] = (stmt.name, stmt.name)
        return symbols


def extract_declarations(
    source: str, package: str | None = None, symbols: Symbols | None = None
) -> dict[str, Declaration]:
    """Every SQLAlchemy declaration in a module, keyed; raises SyntaxError on invalid Python.

    >>> decls = extract_declarations(
    ...     "import sqlalchemy as sa\\n"
    ...     "class User(Base):\\n"
    ...     "    __tablename__ = 'users'\\n"
    ...     "    id = sa.Column(sa.Integer, primary_key=True)\\n"
    ... )
    >>> sorted(decls["table users"].members)
    ['__tablename__', 'bases', 'column id']
    """
    tree = ast.parse(source)
    return _Extractor(tree, package, symbols).run()


def module_symbols(source: str, module: str, package: str) -> Symbols:
    """``ModelModule(source, package).symbols(module)``; raises SyntaxError."""
    return ModelModule(source, package).symbols(module)


def python_enums(source: str, package: str | None = None) -> dict[str, Declaration]:
    """Every Python enum class a module defines (``enum class <Name>``), used here or not,
    without extracting the rest (``ModelModule.enums`` has them when that is done anyway).

    Raises SyntaxError on invalid Python.
    """
    extractor = _Extractor(ast.parse(source), package)
    extractor._collect_names()
    extractor._python_enums()
    return extractor.enums


def uses_name(decls: dict[str, Declaration], qualified: str) -> bool:
    """Whether a declaration (other than an enum class) refers to ``qualified``, e.g. the
    Python enum ``shop.enums.Status`` in ``sa.Enum(shop.enums.Status)``."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(qualified)}(?![\w])")
    return any(
        pattern.search(member.text)
        for key, decl in decls.items()
        if not key.startswith("enum class ")
        for member in decl.members.values()
    )


def compare_declarations(
    base: dict[str, Declaration], head: dict[str, Declaration]
) -> list[SchemaDelta]:
    """What head declares differently from base, each with the line it is on."""
    deltas: list[SchemaDelta] = []
    for key, decl in head.items():
        old = base.get(key)
        if old is None:
            deltas.append(SchemaDelta(key, DeltaKind.ADDED, decl.line))
            continue
        for name, member in decl.members.items():
            before = old.members.get(name)
            if before is None:
                deltas.append(SchemaDelta(key, DeltaKind.ADDED, member.line, member.label))
            elif before.text != member.text:
                deltas.append(SchemaDelta(key, DeltaKind.CHANGED, member.line, member.label))
        deltas.extend(
            SchemaDelta(key, DeltaKind.REMOVED, member.line, member.label, in_base=True)
            for name, member in old.members.items()
            if name not in decl.members
        )
    deltas.extend(
        SchemaDelta(key, DeltaKind.REMOVED, decl.line, in_base=True)
        for key, decl in base.items()
        if key not in head
    )
    return deltas


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _collapse(qualified: str) -> str:
    """``sqlalchemy.orm.mapped_column`` -> ``sa.mapped_column``; ``sa.func.now`` stays."""
    parts = qualified.split(".")
    if parts[0] not in _SA_ROOTS:
        return qualified
    return ".".join(["sa", *(p for p in parts[1:] if p not in _SA_MODULES)])


class _Extractor:
    def __init__(
        self, tree: ast.Module, package: str | None = None, symbols: Symbols | None = None
    ) -> None:
        self.tree = tree
        self.package = package  # what relative imports are relative to, when known
        self.symbols = symbols or {}
        self.imports: dict[str, str] = {}
        self.inline: dict[str, ast.expr] = {}
        self.placeholders: dict[str, str] = {}
        self.local_classes: dict[str, ast.ClassDef] = {}
        self.column_helpers: set[str] = set()
        self.decls: dict[str, Declaration] = {}
        self.enums: dict[str, Declaration] = {}  # every local Python enum class
        self._counters: dict[str, int] = {}
        self._star_module: str | None = None  # the last `from sqlalchemy... import *`

    # ---- names -------------------------------------------------------------------------
    def resolve(self, node: ast.expr) -> str | None:
        """The collapsed qualified name of a Name/Attribute chain, through imports."""
        parts = _dotted(node)
        if parts is None:
            return None
        head = parts[0]
        if head in self.imports:
            return _collapse(".".join([self.imports[head], *parts[1:]]))
        return ".".join(parts)

    def imported_text(self, qualified: str, *, as_base: bool = False) -> str:
        """An imported name as the module defining it renders it, when its symbols are known."""
        if self.symbols:
            parts = qualified.split(".")
            for end in range(len(parts), 0, -1):
                symbol = self.symbols.get(".".join(parts[:end]))
                if symbol is not None:
                    text = symbol[1] if as_base and end == len(parts) else symbol[0]
                    return ".".join([text, *parts[end:]])
        return qualified

    def call_name(self, node: ast.AST) -> str | None:
        return self.resolve(node.func) if isinstance(node, ast.Call) else None

    def _collect_names(self) -> None:
        assigned: dict[str, list[ast.expr]] = {}
        for stmt in _module_statements(self.tree):
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self._collect_import(stmt)
            elif isinstance(stmt, ast.ClassDef):
                self.local_classes[stmt.name] = stmt
            else:
                target = _single_target(stmt)
                value = getattr(stmt, "value", None)
                if target is not None and isinstance(value, ast.expr):
                    assigned.setdefault(target, []).append(value)
        if self._star_module is not None:
            self._collect_star_names(self._star_module)
        # Flask-SQLAlchemy: `db = SQLAlchemy()` here, or `db` imported from the app package.
        for name, values in assigned.items():
            if len(values) == 1 and self.call_name(values[0]) == "sa.SQLAlchemy":
                self.imports[name] = "sqlalchemy"
        if "db" in self.imports and not self.imports["db"].startswith(_SA_ROOTS):
            self.imports["db"] = "sqlalchemy"
        self.inline = {
            n: v[0] for n, v in assigned.items() if len(v) == 1 and n not in self.imports
        }
        self.column_helpers = {
            stmt.name
            for stmt in _module_statements(self.tree)
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
            and self._contains_call(stmt, _COLUMN_CALLS)
        }

    def _collect_import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                target = alias.asname or alias.name.split(".", 1)[0]
                self.imports[target] = alias.name if alias.asname else target
            return
        # `from ..db import Base` in shop/models/user.py is shop.db.Base; kept relative when
        # the package is unknown
        resolved = (
            absolute_module(self.package, stmt.level, stmt.module)
            if stmt.level and self.package is not None
            else None
        )
        module = resolved if resolved is not None else "." * stmt.level + (stmt.module or "")
        for alias in stmt.names:
            if alias.name == "*":
                if stmt.level == 0 and module.split(".", 1)[0] in _SA_ROOTS:
                    self._star_module = module
                continue
            self.imports[alias.asname or alias.name] = f"{module}.{alias.name}"

    def _collect_star_names(self, module: str) -> None:
        """``from sqlalchemy import *``: a name the module uses but never binds, and that is
        not a builtin, can only come from the star import (``Column``, ``Integer``)."""
        bound = set(self.imports) | set(dir(builtins))
        used: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name):
                (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                bound.update(
                    a.asname or a.name.split(".", 1)[0] for a in node.names if a.name != "*"
                )
        for name in sorted(used - bound):
            self.imports[name] = f"{module}.{name}"

    # ---- canonical text ------------------------------------------------------------------
    def canon(self, node: ast.AST, local_names: dict[str, str] | None = None) -> str:
        transformed = _Canon(self, local_names or {}).visit(_clone(node))
        # nodes the canonicaliser builds have no positions; Python 3.11.2's unparse needs them
        return ast.unparse(ast.fix_missing_locations(transformed))

    def canon_function(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        """A function's decorators, arguments and body with locals renamed in order."""
        names: dict[str, str] = {}
        for arg in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]:
            if arg.arg not in ("self", "cls"):
                names.setdefault(arg.arg, f"_v{len(names)}")
        for node in ast.walk(func):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.setdefault(node.id, f"_v{len(names)}")
        body = [s for s in func.body if not _is_docstring(s)]
        parts = [self.canon(d, names) for d in func.decorator_list]
        parts.extend(self.canon(s, names) for s in body)
        return "\n".join(parts)

    # ---- extraction ----------------------------------------------------------------------
    def run(self) -> dict[str, Declaration]:
        self._collect_names()
        statements = list(_module_statements(self.tree))
        # First pass: keys of tables and models, so references to them use the key.
        for stmt in statements:
            self._register_placeholder(stmt)
        helpers: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        for stmt in statements:
            if isinstance(stmt, ast.ClassDef):
                self._class(stmt)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.Expr) and stmt.value:
                self._module_value(stmt, stmt.value)
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and self._contains_call(
                stmt, _COLUMN_CALLS | _CONSTRAINTS | {"sa.Table"}
            ):
                helpers.append(stmt)
        self._helpers(helpers)
        self._python_enums()
        return self.decls

    def _helpers(self, helpers: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> None:
        """Functions that build columns, when a declaration here calls them (`id = pk()` is
        only as stable as pk's body); other helpers do not make a file schema-bearing."""
        texts = " ".join(m.text for d in self.decls.values() for m in d.members.values())
        for func in helpers:
            if re.search(rf"\b{re.escape(func.name)}\(", texts):
                body = Member("body", func.lineno, self.canon_function(func))
                self._add(f"function {func.name}", func.lineno, {"body": body})

    def _register_placeholder(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.ClassDef):
            key = self._class_key(stmt)
            if key is not None:
                self.placeholders[stmt.name] = f"<{key}>"
            return
        target = _single_target(stmt)
        value = getattr(stmt, "value", None)
        if target is None or not isinstance(value, ast.Call):
            return
        key = self._module_call_key(value)
        if key is not None:
            self.placeholders[target] = f"<{key}>"
            self.inline.pop(target, None)

    def _add(self, key: str, line: int, members: dict[str, Member]) -> Declaration:
        decl = self.decls.get(key)
        if decl is None:
            decl = self.decls[key] = Declaration(key, line, members)
        else:
            decl.members.update(members)
        return decl

    def _contains_call(self, node: ast.AST, names: frozenset[str]) -> bool:
        return any(self.call_name(n) in names for n in ast.walk(node) if isinstance(n, ast.Call))

    # classes -----------------------------------------------------------------------------
    def _class_key(self, cls: ast.ClassDef) -> str | None:
        """``table <name>`` with a literal ``__tablename__``, ``model <Class>`` for a mixin or
        subclass that declares columns; None for any other class (``metadata`` alone is not
        enough: plenty of classes have such an attribute)."""
        for stmt in cls.body:
            if _single_target(stmt) == "__tablename__":
                name = _string(getattr(stmt, "value", None))
                if name is not None:
                    schema = self._class_schema(cls)
                    return f"table {schema}.{name}" if schema else f"table {name}"
        is_table = _is_sqlmodel_table(cls)
        for stmt in cls.body:
            label = self._member_label(stmt, is_sqlmodel_table=is_table)
            if label is None:
                continue
            if label.startswith(("column ", "declared_attr ", "__table", "type_annotation_map")):
                return f"model {cls.name}"
            value = getattr(stmt, "value", None)
            if label == "metadata" and value is not None and self.call_name(value) == "sa.MetaData":
                return f"model {cls.name}"
        return None

    def _class_schema(self, cls: ast.ClassDef) -> str | None:
        """The literal ``schema`` of ``__table_args__`` (a dict, or a tuple ending in one), as
        ``Table(..., schema=...)`` gives it: two tables of one name in two schemas differ."""
        for stmt in cls.body:
            value = getattr(stmt, "value", None)
            if _single_target(stmt) != "__table_args__" or value is None:
                continue
            if isinstance(value, ast.Tuple | ast.List) and value.elts:
                value = value.elts[-1]
            if not isinstance(value, ast.Dict):
                return None
            for key, item in zip(value.keys, value.values, strict=True):
                if key is not None and _string(key) == "schema":
                    if isinstance(item, ast.Name):  # SCHEMA = "billing" at module level
                        return _string(self.inline.get(item.id))
                    return _string(item)
        return None

    def _class_members(self, cls: ast.ClassDef) -> dict[str, Member]:
        members: dict[str, Member] = {}
        is_table = _is_sqlmodel_table(cls)
        for stmt in cls.body:
            label = self._member_label(stmt, is_sqlmodel_table=is_table)
            if label is None:
                continue
            value = getattr(stmt, "value", None)
            if label == "__table_args__" and isinstance(value, ast.Tuple | ast.List | ast.Dict):
                members.update(self._table_args(value))
                continue
            text: str | None = None
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                text = self.canon_function(stmt)
            else:
                annotation = stmt.annotation if isinstance(stmt, ast.AnnAssign) else None
                value = getattr(stmt, "value", None)
                if label.startswith("column "):
                    text = self._column_spec(annotation, value)
                    db_name = self._column_name(value)
                    if db_name is not None:  # `uname = Column("user_name", ...)`
                        label = f"column {db_name}"
                if text is None:
                    text = " = ".join(self.canon(n) for n in (annotation, value) if n is not None)
            members[label] = Member(label, stmt.lineno, text)
        return members

    def _table_args(self, value: ast.Tuple | ast.List | ast.Dict) -> dict[str, Member]:
        """One member per index or constraint in ``__table_args__``, one for its options."""
        members: dict[str, Member] = {}
        items = [value] if isinstance(value, ast.Dict) else value.elts
        for item in items:
            label = "table options" if isinstance(item, ast.Dict) else self._table_arg_label(item)
            members[label] = Member(label, item.lineno, self.canon(item))
        return members

    # columns: `Column(String(50), nullable=False)` and `Mapped[str] = mapped_column(String(50))`
    # declare the same column, so both are reduced to what reaches the DDL.
    def _column_spec(self, annotation: ast.expr | None, value: ast.expr | None) -> str | None:
        """Name, type, nullability, keys and DDL options of a Column / mapped_column member."""
        call = self._column_call(value)
        if value is not None and call is None:
            return None  # a helper call, a sqlmodel Field: compared as written
        inner, optional = self._mapped_type(annotation)
        if call is None and inner is None:
            return None
        _, type_text, keys = self._column_positionals(call)
        kwargs = {
            k.arg: k.value
            for k in (call.keywords if call else [])
            if k.arg and k.arg not in _CLIENT_SIDE_KWARGS
        }
        if type_text is None and inner is not None:
            type_text = self._annotation_type(inner)
        primary_key = kwargs.pop("primary_key", None)
        pk_text = self.canon(primary_key) if primary_key is not None else "False"
        nullable = kwargs.pop("nullable", None)
        if nullable is not None:
            null_text = self.canon(nullable)
        elif pk_text == "True":
            null_text = "False"
        else:
            null_text = str(optional) if inner is not None else "True"
        # the name is the member's label: `uname = Column("user_name")` is user_name
        kwargs.pop("name", None)
        parts = [f"type={type_text}", f"primary_key={pk_text}"]
        parts.append(f"nullable={null_text}")
        parts.extend(sorted(keys))
        parts.extend(sorted(f"{k}={self.canon(v)}" for k, v in kwargs.items()))
        return ", ".join(parts)

    def _column_name(self, value: ast.expr | None) -> str | None:
        """The database name a Column / mapped_column gives literally, if any."""
        call = self._column_call(value)
        if call is None:
            return None
        name = self._column_positionals(call)[0]
        if name is None:
            name = _string(next((k.value for k in call.keywords if k.arg == "name"), None))
        return name

    def _column_call(self, value: ast.expr | None) -> ast.Call | None:
        if value is None:
            return None
        for node in ast.walk(value):
            if isinstance(node, ast.Call) and self.call_name(node) in _SPEC_CALLS:
                return node
        return None

    def _column_positionals(
        self, call: ast.Call | None
    ) -> tuple[str | None, str | None, list[str]]:
        name: str | None = None
        type_text: str | None = None
        keys: list[str] = []
        for arg in call.args if call else []:
            called = self.call_name(arg)
            if _string(arg) is not None and name is None and type_text is None:
                name = _string(arg)
            elif called in _COLUMN_ARGUMENT_CALLS or type_text is not None:
                keys.append(self.canon(arg))
            else:
                type_text = self.canon(arg).removesuffix("()")
        return name, type_text, keys

    def _mapped_type(self, annotation: ast.expr | None) -> tuple[ast.expr | None, bool]:
        """``Mapped[X | None]`` -> (X, True); anything else -> (None, False)."""
        if (
            not isinstance(annotation, ast.Subscript)
            or self.resolve(annotation.value) != "sa.Mapped"
        ):
            return None, False
        inner = annotation.slice
        if isinstance(inner, ast.Subscript) and self.resolve(inner.value) in (
            "typing.Optional",
            "Optional",
        ):
            return inner.slice, True
        if isinstance(inner, ast.Subscript) and self.resolve(inner.value) in (
            "typing.Union",
            "Union",
        ):
            items = inner.slice.elts if isinstance(inner.slice, ast.Tuple) else [inner.slice]
        elif isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.BitOr):
            items = _union_items(inner)
        else:
            return inner, False
        kept = [i for i in items if not (isinstance(i, ast.Constant) and i.value is None)]
        if len(kept) == 1:
            return kept[0], len(kept) != len(items)
        return inner, False

    def _annotation_type(self, inner: ast.expr) -> str:
        """The SQL type SQLAlchemy's default type map gives a Python annotation."""
        name = self.resolve(inner)
        if name in _PYTHON_TYPES:
            return _PYTHON_TYPES[name]
        if isinstance(inner, ast.Name) and inner.id in self.local_classes:
            cls = self.local_classes[inner.id]
            if any(self.resolve(b) in _PY_ENUM_BASES for b in cls.bases):
                return f"sa.Enum({inner.id})"
        symbol = self.symbols.get(name or "")
        if symbol is not None and any(b in symbol[1] for b in _PY_ENUM_BASES):  # its enum
            return f"sa.Enum({symbol[0]})"
        return f"annotation {self.canon(inner)}"

    def _declared_attr_label(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
        decorators = [d.func if isinstance(d, ast.Call) else d for d in func.decorator_list]
        if not any("declared_attr" in (self.resolve(d) or "") for d in decorators):
            return None
        schema_calls = _COLUMN_CALLS | _CONSTRAINTS
        if func.name in _TABLE_DUNDERS or self._contains_call(func, schema_calls):
            return f"declared_attr {func.name}"
        return None

    def _member_label(self, stmt: ast.stmt, *, is_sqlmodel_table: bool) -> str | None:
        """``column name``, ``__table_args__``, ``declared_attr name``; None: not schema."""
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            return self._declared_attr_label(stmt)
        name = _single_target(stmt)
        if name is None:
            return None
        if name in _TABLE_DUNDERS:
            return name
        value: ast.expr | None = getattr(stmt, "value", None)
        annotation = stmt.annotation if isinstance(stmt, ast.AnnAssign) else None
        if self._is_column(value, annotation, is_sqlmodel_table=is_sqlmodel_table):
            return f"column {name}"
        return None

    def _is_column(
        self, value: ast.expr | None, annotation: ast.expr | None, *, is_sqlmodel_table: bool
    ) -> bool:
        top = self.call_name(value) if value is not None else None
        if top in _NOT_SCHEMA_CALLS and not (
            top in ("sa.column_property", "sa.deferred")
            and value is not None
            and self._contains_call(value, _COLUMN_CALLS)
        ):
            return False
        if value is not None and self._contains_call(value, _COLUMN_CALLS | self.column_helpers):
            return True
        if annotation is None:
            return False
        wrapper = annotation.value if isinstance(annotation, ast.Subscript) else annotation
        resolved = self.resolve(wrapper)
        if resolved in _RELATIONSHIP_ANNOTATIONS or resolved in ("typing.ClassVar", "ClassVar"):
            return False
        return resolved == "sa.Mapped" or is_sqlmodel_table

    def _class(self, cls: ast.ClassDef) -> None:
        key = self._class_key(cls)
        if key is None:
            return
        members = self._class_members(cls)
        bases = [self._base_text(b) for b in cls.bases]
        bases.extend(self.canon(k) for k in cls.keywords)
        members["bases"] = Member("bases", cls.lineno, ", ".join(bases))
        self._add(key, cls.lineno, members)

    def _base_text(self, base: ast.expr, depth: int = 0) -> str:
        """A local base class without columns stands for its own bases (renaming it is free)."""
        if (
            isinstance(base, ast.Name)
            and base.id in self.local_classes
            and depth < _MAX_INLINE_DEPTH
        ):
            if base.id in self.placeholders:
                return self.placeholders[base.id]
            inner = self.local_classes[base.id]
            return "(" + ", ".join(self._base_text(b, depth + 1) for b in inner.bases) + ")"
        resolved = self.resolve(base) if self.symbols else None
        if resolved is not None and resolved in self.symbols:
            return self.imported_text(resolved, as_base=True)
        return self.canon(base)

    # module level --------------------------------------------------------------------------
    def _module_call_key(self, call: ast.Call) -> str | None:
        """The key of a module-level Table, named Index / constraint, or named Enum."""
        name = self.call_name(call)
        first = call.args[0] if call.args else None
        label = _string(first)
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        if name == "sa.Table" and label:
            schema = _string(kwargs.get("schema"))
            return f"table {schema}.{label}" if schema else f"table {label}"
        if name in _CONSTRAINTS:
            named = label if name == "sa.Index" else _string(kwargs.get("name"))
            if named:
                return f"index {named}" if name == "sa.Index" else f"constraint {named}"
        if name in _ENUM_CALLS:
            enum_name = _string(kwargs.get("name"))
            if enum_name:
                return f"enum {enum_name}"
        return None

    def _numbered(self, prefix: str) -> str:
        count = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = count
        return f"{prefix} #{count}"

    def _module_value(self, stmt: ast.stmt, value: ast.expr) -> None:
        target = (
            stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
        )
        parts = _dotted(target) if isinstance(target, ast.Attribute) else None
        if parts is not None and "metadata" in parts[1:]:
            # `Base.metadata.naming_convention = {...}`: constraint names follow from it.
            setting = "setting " + ".".join(parts)
            member = Member("value", stmt.lineno, self.canon(value))
            self._add(setting, stmt.lineno, {"value": member})
            return
        if not isinstance(value, ast.Call):
            return
        key = self._module_call_key(value)
        if key is not None and key.startswith("table "):
            self._table(key, value)
            return
        name = self.call_name(value)
        if key is None and name in _MODULE_CALLS:
            key = self._numbered(name.split(".", 1)[1])
        elif key is None and self._contains_call(value, frozenset({"sa.DDL"})):
            key = self._numbered("DDL")
        if key is not None:
            text = self.canon(value)
            self._add(key, stmt.lineno, {"definition": Member("definition", stmt.lineno, text)})

    def _table(self, key: str, call: ast.Call) -> None:
        members: dict[str, Member] = {}
        for arg in call.args[2:]:
            label = self._table_arg_label(arg)
            members[label] = Member(label, arg.lineno, self.canon(arg))
        options = [
            k
            for k in call.keywords
            if k.arg not in ("schema", "info", "extend_existing", "keep_existing")
        ]
        if options:
            text = ", ".join(sorted(self.canon(k) for k in options))
            members["options"] = Member("options", call.lineno, text)
        self._add(key, call.lineno, members)

    def _table_arg_label(self, arg: ast.expr) -> str:
        name = self.call_name(arg)
        if isinstance(arg, ast.Call) and name is not None:
            first = arg.args[0] if arg.args else None
            kwargs = {k.arg: k.value for k in arg.keywords if k.arg}
            named = _string(
                kwargs.get("name", first if name in ("sa.Column", "sa.Index") else None)
            )
            if named:
                kind = {"sa.Column": "column", "sa.Index": "index"}.get(name, "constraint")
                return f"{kind} {named}"
        return self.canon(arg)  # unnamed: added or removed, never "changed"

    def _python_enums(self) -> None:
        """Every local Python enum class, in ``enums``; those a declaration here uses, whose
        members become database enum labels, in ``decls`` too."""
        texts = " ".join(m.text for d in self.decls.values() for m in d.members.values())
        for name, cls in self.local_classes.items():
            if not any(self.resolve(b) in _PY_ENUM_BASES for b in cls.bases):
                continue
            members: dict[str, Member] = {}
            for stmt in cls.body:
                target = _single_target(stmt)
                value = getattr(stmt, "value", None)
                if target is not None and isinstance(value, ast.expr):
                    label = f"member {target}"
                    members[label] = Member(label, stmt.lineno, self.canon(value))
            key = f"enum class {name}"
            self.enums[key] = Declaration(key, cls.lineno, members)
            if re.search(rf"\b{re.escape(name)}\b", texts):
                self._add(key, cls.lineno, dict(members))


class _Canon(ast.NodeTransformer):
    """Rewrites a copied subtree into its canonical form before ``ast.unparse``."""

    def __init__(self, extractor: _Extractor, local_names: dict[str, str], depth: int = 0) -> None:
        self.x = extractor
        self.local_names = local_names
        self.depth = depth

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.local_names:
            return ast.Name(id=self.local_names[node.id], ctx=node.ctx)
        if node.id in self.x.placeholders:
            return ast.Name(id=self.x.placeholders[node.id], ctx=node.ctx)
        if node.id in self.x.imports:
            resolved = self.x.resolve(node) or node.id
            return ast.Name(id=self.x.imported_text(resolved), ctx=node.ctx)
        inlined = self.x.inline.get(node.id)
        if (
            inlined is not None
            and self.depth < _MAX_INLINE_DEPTH
            and isinstance(node.ctx, ast.Load)
        ):
            inner = _Canon(self.x, {}, self.depth + 1)
            result = inner.visit(_clone(inlined))
            assert isinstance(result, ast.expr)
            return result
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        parts = _dotted(node)
        if parts is not None and parts[0] in self.x.imports and parts[0] not in self.local_names:
            resolved = self.x.resolve(node) or ".".join(parts)
            return ast.Name(id=self.x.imported_text(resolved), ctx=node.ctx)
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        name = self.x.call_name(node)
        self.generic_visit(node)
        keywords = node.keywords
        if name in _COLUMN_CALLS:
            keywords = [k for k in keywords if k.arg not in _CLIENT_SIDE_KWARGS]
        signature = _TYPE_SIGNATURES.get(name or "")
        if signature is not None and not any(isinstance(a, ast.Starred) for a in node.args):
            keywords = _type_keywords(node, keywords, signature)
            node.args = node.args[len(signature) :]
        node.keywords = sorted(keywords, key=lambda k: (k.arg is None, k.arg or ""))
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        name = (
            self.x.resolve(node.value) if isinstance(node.value, ast.Name | ast.Attribute) else None
        )
        self.generic_visit(node)
        if name in ("typing.Optional", "Optional"):
            return ast.BinOp(left=node.slice, op=ast.BitOr(), right=ast.Constant(None))
        if name in ("typing.Union", "Union") and isinstance(node.slice, ast.Tuple):
            result: ast.expr = node.slice.elts[0]
            for item in node.slice.elts[1:]:
                result = ast.BinOp(left=result, op=ast.BitOr(), right=item)
            return result
        return node


def _type_keywords(
    node: ast.Call, keywords: list[ast.keyword], signature: tuple[tuple[str, str], ...]
) -> list[ast.keyword]:
    """A type call's leading positional arguments as keywords, those at their default gone."""
    named = [
        ast.keyword(arg=param, value=arg)
        for (param, _), arg in zip(signature, node.args, strict=False)
    ]
    defaults = dict(signature)
    return [
        k
        for k in [*named, *keywords]
        if k.arg is None or k.arg not in defaults or ast.unparse(k.value) != defaults[k.arg]
    ]


def _module_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Top-level statements, including those under ``if TYPE_CHECKING:`` and ``try:``."""
    for stmt in tree.body:
        if isinstance(stmt, ast.If):
            yield from stmt.body
            yield from stmt.orelse
        elif isinstance(stmt, ast.Try):
            yield from stmt.body
            for handler in stmt.handlers:
                yield from handler.body
        else:
            yield stmt


def _clone(node: _T) -> _T:
    """A copy of an AST subtree; several times faster than ``copy.deepcopy``."""
    if isinstance(node, ast.AST):
        new = node.__class__()
        for name, value in ast.iter_fields(node):
            setattr(new, name, _clone(value))
        for name in node._attributes:
            if hasattr(node, name):
                setattr(new, name, getattr(node, name))
        return new
    if isinstance(node, list):
        return [_clone(item) for item in node]  # type: ignore[return-value]  # list of _T's items
    return node


def _union_items(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_union_items(node.left), *_union_items(node.right)]
    return [node]


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _single_target(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return None


def _is_sqlmodel_table(cls: ast.ClassDef) -> bool:
    return any(
        k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in cls.keywords
    )


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )
