"""What the linter knows of the schema: tables, columns, indexes, constraints and types.

Built from the setup SQL and from every statement linted so far in the run, so rules can
ask "does this table exist, and was it created in this migration?", "what is this column's
type?", "is there an index whose leading columns are the foreign key's?". Anything never
seen is assumed to exist in production already: an unknown table is an existing table.
Unqualified names are taken to be in ``public`` (the default search_path).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from migproof.lint.pgsql import ast, enums

__all__ = [
    "ColumnInfo",
    "ConstraintInfo",
    "IndexInfo",
    "Schema",
    "SqlType",
    "TableInfo",
    "created_type",
    "dropped_names",
    "drops_default",
    "qualified",
    "qualified_list",
    "sql_type",
]

AT = enums.AlterTableType
CT = enums.ConstrType
OT = enums.ObjectType

# Spellings PostgreSQL treats as one type; serial types are their integer plus a sequence.
_ALIASES = {
    "int": "int4",
    "integer": "int4",
    "serial": "int4",
    "serial4": "int4",
    "bigint": "int8",
    "bigserial": "int8",
    "serial8": "int8",
    "smallint": "int2",
    "smallserial": "int2",
    "serial2": "int2",
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "boolean": "bool",
    "real": "float4",
    "double precision": "float8",
    "decimal": "numeric",
    "timestamp with time zone": "timestamptz",
    "time with time zone": "timetz",
}
_DISPLAY = {
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "bool": "boolean",
    "float4": "real",
    "float8": "double precision",
    "bpchar": "char",
}
SERIALS = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


@dataclass(frozen=True, slots=True)
class SqlType:
    """A column type as written, normalised: ``int4``, ``varchar`` with ``mods`` (64,)."""

    name: str
    mods: tuple[int, ...] = ()
    array: bool = False
    written: str = ""  # the last name as the user wrote it (serial, bigserial, ...)

    def __str__(self) -> str:
        text = _DISPLAY.get(self.name, self.name)
        if self.mods:
            text += "(" + ", ".join(str(m) for m in self.mods) + ")"
        return text + ("[]" if self.array else "")

    @property
    def is_serial(self) -> bool:
        return self.written in SERIALS


def sql_type(type_name: Any) -> SqlType:
    """Normalise a pglast ``TypeName``."""
    names = [n.sval for n in type_name.names or ()]
    if len(names) > 1 and names[0] == "pg_catalog":
        names = names[1:]
    written = names[-1] if names else ""
    name = ".".join(names)
    name = _ALIASES.get(name, name)
    mods: list[int] = []
    for mod in type_name.typmods or ():
        value = getattr(mod, "val", None)
        if isinstance(value, ast.Integer) and value.ival is not None:
            mods.append(value.ival)
    return SqlType(name=name, mods=tuple(mods), array=bool(type_name.arrayBounds), written=written)


def qualified(relation: Any) -> str:
    """``schema.name`` of a pglast ``RangeVar``; unqualified names are in public."""
    return f"{relation.schemaname or 'public'}.{relation.relname}"


def qualified_list(names: Iterable[Any]) -> str:
    """``schema.name`` of a name list (``DROP TYPE``, ``DROP INDEX``)."""
    parts = [n.sval or "" for n in names if isinstance(n, ast.String)]
    if len(parts) == 1:
        return f"public.{parts[0]}"
    return ".".join(parts[-2:])


@dataclass(slots=True)
class ColumnInfo:
    name: str
    type_name: Any  # the pglast TypeName as written (or None); ``type`` normalises it
    not_null: bool = False
    has_default: bool = False  # a DEFAULT, identity or generated value fills it when omitted
    _type: SqlType | None = field(default=None, repr=False, compare=False)

    @property
    def type(self) -> SqlType | None:
        """The column's type, normalised when first asked (few columns ever are)."""
        if self._type is None and self.type_name is not None:
            self._type = sql_type(self.type_name)
        return self._type


@dataclass(slots=True)
class TableInfo:
    name: str
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    new: bool = False


@dataclass(slots=True)
class IndexInfo:
    name: str
    table: str
    columns: tuple[str, ...]
    new: bool = False
    unique: bool = False  # and not partial: one row at most per value of its columns
    # partial: the columns its WHERE requires NOT NULL when that is all it requires (a
    # lookup by them implies it), else None for any other condition; () when not partial
    not_null_where: frozenset[str] | None = frozenset()

    def implied_by(self, columns: set[str]) -> bool:
        """Whether a lookup by ``columns`` implies the index's WHERE (or it has none)."""
        return self.not_null_where is not None and self.not_null_where <= columns


@dataclass(slots=True)
class ConstraintInfo:
    name: str
    table: str
    kind: str  # "check", "foreign", "primary", "unique", "exclusion"
    columns: tuple[str, ...] = ()
    valid: bool = True
    not_null_of: str | None = None  # CHECK (col IS NOT NULL)
    new: bool = False


@dataclass(slots=True)
class Schema:
    """Objects known so far; ``new`` marks those created in the current migration."""

    tables: dict[str, TableInfo] = field(default_factory=dict)
    indexes: dict[str, IndexInfo] = field(default_factory=dict)
    types: dict[str, bool] = field(default_factory=dict)  # qualified name -> new
    # views, functions, sequences, schemas, extensions, triggers, policies: name as
    # dropped_names() spells it -> new
    objects: dict[str, bool] = field(default_factory=dict)
    _by_table: dict[str, dict[str, IndexInfo]] = field(default_factory=dict)
    # constraints by table, then name, in the order they were added
    _constraints_by_table: dict[str, dict[str, ConstraintInfo]] = field(default_factory=dict)
    _new: list[TableInfo | IndexInfo | ConstraintInfo] = field(default_factory=list)
    _new_names: list[str] = field(default_factory=list)
    _renamed: dict[str, str] = field(default_factory=dict)  # table: old name -> new name
    # table -> column: old name -> new name, until a column of the old name is made again
    _renamed_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    # tables and indexes the linted files dropped (or renamed away) and did not make again
    _gone: set[str] = field(default_factory=set)

    def begin_migration(self) -> None:
        """What earlier migrations created exists in production by the time this one runs."""
        for obj in self._new:  # only this migration's objects: linting stays linear
            obj.new = False
        for name in self._new_names:
            if name in self.types:
                self.types[name] = False
            if name in self.objects:
                self.objects[name] = False
        self._new.clear()
        self._new_names.clear()

    def _created(self, obj: TableInfo | IndexInfo | ConstraintInfo) -> None:
        if obj.new:
            self._new.append(obj)

    def _set_type(self, name: str, *, new: bool) -> None:
        self.types[name] = new
        if new:
            self._new_names.append(name)

    def _set_object(self, name: str, *, new: bool) -> None:
        self.objects[name] = new
        if new:
            self._new_names.append(name)

    def created_here(self, name: str) -> bool:
        """Whether this migration created the object ``name`` (as dropped_names spells it)."""
        return bool(self.types.get(name) or self.objects.get(name) or self.is_new(name))

    def type_in_use(self, name: str) -> bool:
        """Whether a known column has the type ``name`` (qualified), or an array of it."""
        bare = name.removeprefix("public.")
        return any(
            column.type is not None and column.type.name in (name, bare)
            for table in self.tables.values()
            for column in table.columns.values()
        )

    def known_absent(self, name: str) -> bool:
        """Whether the table or index ``name`` is known not to exist: the linted files
        dropped it (or its table) and did not make it again. An object they never named
        may exist all the same (made before the first linted file)."""
        return name in self._gone and name not in self.tables and name not in self.indexes

    def add_index(self, index: IndexInfo) -> None:
        self.pop_index(index.name)
        self._gone.discard(index.name)
        self.indexes[index.name] = index
        self._by_table.setdefault(index.table, {})[index.name] = index
        self._created(index)

    def pop_index(self, name: str) -> IndexInfo | None:
        index = self.indexes.pop(name, None)
        if index is not None:
            self._by_table.get(index.table, {}).pop(name, None)
            self._gone.add(name)
        return index

    def table(self, name: str) -> TableInfo | None:
        return self.tables.get(name)

    def column(self, table: str, column: str) -> ColumnInfo | None:
        info = self.tables.get(table)
        return info.columns.get(column) if info else None

    def is_new(self, table: str) -> bool:
        info = self.tables.get(table)
        return info is not None and info.new

    def current_name(self, table: str) -> str:
        """The name ``table`` has now, after the renames and schema moves since it was named
        (a table rebuilt as ``t_new`` and renamed to ``t`` in the same migration)."""
        for _ in range(len(self._renamed)):
            if table in self.tables or table not in self._renamed:
                break
            table = self._renamed[table]
        return table

    def current_columns(self, table: str, columns: tuple[str, ...]) -> tuple[str, ...]:
        """The names ``columns`` of ``table`` have now, after the renames since they were
        named (a foreign key added on ``pid``, whose column is renamed ``parent_id``)."""
        renamed = self._renamed_columns.get(table)
        if not renamed:
            return columns
        current = []
        for named in columns:
            column = named
            for _ in range(len(renamed)):  # a -> b, b -> c; a cycle ends
                if column not in renamed:
                    break
                column = renamed[column]
            current.append(column)
        return tuple(current)

    def has_index_on(self, table: str, columns: tuple[str, ...]) -> bool:
        """An index of ``table`` starts with ``columns``, in any order (a foreign key's), or
        a unique one covers some of them: a lookup by all of them finds one row through it.
        Columns renamed since they were named are looked up under their new names."""
        columns = self.current_columns(table, columns)
        wanted, width = set(columns), len(columns)
        return any(
            index.implied_by(wanted)
            and (
                set(index.columns[:width]) == wanted
                or (index.unique and all(index.columns) and set(index.columns) <= wanted)
            )
            for index in self._by_table.get(table, {}).values()
        )

    def has_partial_index_on(self, table: str, columns: tuple[str, ...]) -> bool:
        """A partial index of ``table`` starts with ``columns``, whose WHERE a lookup by
        them does not imply (``has_index_on`` is False for it)."""
        columns = self.current_columns(table, columns)
        wanted, width = set(columns), len(columns)
        return any(
            not index.implied_by(wanted) and set(index.columns[:width]) == wanted
            for index in self._by_table.get(table, {}).values()
        )

    def constraints_of(self, table: str) -> list[ConstraintInfo]:
        """The constraints added to ``table``, in the order they were added."""
        return list(self._constraints_by_table.get(table, {}).values())

    def constraint(self, table: str, name: str) -> ConstraintInfo | None:
        return self._constraints_by_table.get(table, {}).get(name)

    def primary_key(self, table: str) -> tuple[str, ...]:
        for constraint in self._constraints_by_table.get(table, {}).values():
            if constraint.kind == "primary":
                return constraint.columns
        return ()

    # -- applying statements ------------------------------------------------------------

    def apply(self, node: Any, *, new: bool) -> None:
        """Record what a top-level statement creates, changes or drops."""
        if isinstance(node, ast.CreateStmt):
            self._create_table(node, new=new)
        elif isinstance(node, ast.CreateTableAsStmt):
            into = node.into
            if into is not None and into.rel is not None:
                name = qualified(into.rel)
                if name not in self.tables:
                    self.tables[name] = TableInfo(name, new=new)
                    self._created(self.tables[name])
        elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
            for cmd in node.cmds or ():
                self._alter_table(qualified(node.relation), cmd, new=new)
        elif isinstance(node, ast.IndexStmt) and node.relation is not None:
            self._create_index(node, new=new)
        elif isinstance(node, ast.DropStmt):
            self._drop(node)
        elif isinstance(node, ast.RenameStmt):
            self._rename(node)
        elif isinstance(node, ast.AlterObjectSchemaStmt):
            self._set_schema(node)
        else:
            self._create_other(node, new=new)

    def _create_other(self, node: Any, *, new: bool) -> None:
        """A type, or a view, function, sequence, schema, extension, trigger or policy."""
        if type(node) in _CREATED_TYPE:
            name = created_type(node)
            if name is not None:
                self._set_type(name, new=new)
        elif type(node) in _CREATED_OBJECT:
            name = _CREATED_OBJECT[type(node)](node)
            if name is not None:
                self._set_object(name, new=new)

    def _create_table(self, node: Any, *, new: bool) -> None:
        name = qualified(node.relation)
        if node.if_not_exists and name in self.tables:
            return
        table = TableInfo(name, new=new)
        self.tables[name] = table
        self._renamed_columns.pop(name, None)
        self._gone.discard(name)
        self._created(table)
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                self._add_column(table, element, new=new)
            elif isinstance(element, ast.Constraint):
                self._add_constraint(name, element, new=new)

    def _add_column(self, table: TableInfo, column: Any, *, new: bool) -> None:
        info = ColumnInfo(column.colname, column.typeName, bool(column.is_not_null))
        table.columns[column.colname] = info
        names: Any = column.typeName.names if column.typeName is not None else None
        # serial columns are NOT NULL with a default (no sql_type: a hot path)
        info.has_default = bool(names) and names[-1].sval in SERIALS
        info.not_null = info.not_null or info.has_default
        for constraint in column.constraints or ():
            if constraint.contype in (CT.CONSTR_NOTNULL, CT.CONSTR_PRIMARY, CT.CONSTR_IDENTITY):
                info.not_null = True
            if constraint.contype in _FILLED:
                info.has_default = True
            if constraint.contype in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE, CT.CONSTR_FOREIGN):
                self._add_constraint(table.name, constraint, new=new, column=column.colname)

    def _add_constraint(
        self, table: str, constraint: Any, *, new: bool, column: str | None = None
    ) -> None:
        kind = _CONSTRAINT_KINDS.get(constraint.contype)
        if kind is None:
            return
        if kind == "foreign":
            columns = tuple(n.sval for n in constraint.fk_attrs or ()) or (column or "",)
        else:
            columns = tuple(n.sval for n in constraint.keys or ()) or (column or "",)
        name = constraint.conname or f"{table}.{kind}({','.join(columns)})"
        info = ConstraintInfo(
            name=name,
            table=table,
            kind=kind,
            columns=columns,
            valid=not constraint.skip_validation,
            not_null_of=_not_null_check_column(constraint) if kind == "check" else None,
            new=new,
        )
        self._constraints_by_table.setdefault(table, {})[name] = info
        self._created(info)
        if kind in ("primary", "unique"):
            if constraint.indexname:  # USING INDEX: the index becomes the constraint's
                index_name = f"{table.split('.', maxsplit=1)[0]}.{constraint.indexname}"
                existing = self.pop_index(index_name)
                if existing is not None:
                    columns = existing.columns
                    info.columns = columns
            self.add_index(IndexInfo(f"{table}:{name}", table, columns, new=new, unique=True))
            if kind == "primary":
                for col in columns:
                    known = self.column(table, col)
                    if known is not None:
                        known.not_null = True

    def _alter_table(self, table_name: str, cmd: Any, *, new: bool) -> None:
        table = self.tables.get(table_name)
        subtype = getattr(cmd, "subtype", None)
        name: str = getattr(cmd, "name", None) or ""
        if subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            if table is None:
                table = self.tables[table_name] = TableInfo(table_name)
            self._add_column(table, cmd.def_, new=new)
            # a column made under a renamed one's old name is another column
            self._renamed_columns.get(table_name, {}).pop(cmd.def_.colname or "", None)
        elif subtype == AT.AT_DropColumn and table is not None:
            table.columns.pop(name, None)
        elif subtype in _COLUMN_CHANGES and table is not None:
            column = table.columns.get(name)
            if column is not None:
                _alter_column(column, subtype, cmd)
        elif subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            self._add_constraint(table_name, cmd.def_, new=new)
        elif subtype == AT.AT_ValidateConstraint:
            constraint = self.constraint(table_name, name)
            if constraint is not None:
                constraint.valid = True
        elif subtype == AT.AT_DropConstraint:
            self._constraints_by_table.get(table_name, {}).pop(name, None)
            self.pop_index(f"{table_name}:{name}")

    def _create_index(self, node: Any, *, new: bool) -> None:
        table = qualified(node.relation)
        columns = tuple(
            (p.name or "") if isinstance(p, ast.IndexElem) else "" for p in node.indexParams or ()
        )
        schema = table.split(".")[0]
        name = f"{schema}.{node.idxname}" if node.idxname else f"{table}:{','.join(columns)}"
        if node.if_not_exists and name in self.indexes:
            return
        unique = bool(node.unique) and node.whereClause is None
        where = frozenset() if node.whereClause is None else _not_null_only(node.whereClause)
        self.add_index(
            IndexInfo(name, table, columns, new=new, unique=unique, not_null_where=where)
        )

    def _drop(self, node: Any) -> None:
        for obj in node.objects or ():
            names = obj if isinstance(obj, tuple) else getattr(obj, "names", None)
            if names is None:
                continue
            name = qualified_list(names)
            if node.removeType in (OT.OBJECT_TABLE, OT.OBJECT_MATVIEW):
                if self.tables.pop(name, None) is not None:
                    self._gone.add(name)
                for key in list(self._by_table.get(name, {})):
                    self.pop_index(key)
                self._constraints_by_table.pop(name, None)
                self._renamed_columns.pop(name, None)
            elif node.removeType == OT.OBJECT_INDEX:
                self.pop_index(name)
            elif node.removeType in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
                self.types.pop(name, None)
        for name in dropped_names(node):
            self.objects.pop(name, None)

    def _move_table(self, old: str, new_name: str) -> None:
        """A table renamed or moved to another schema, with its indexes and constraints."""
        table = self.tables.pop(old)
        table.name = new_name
        self.tables[new_name] = table
        self._renamed[old] = new_name
        self._gone.add(old)
        self._gone.discard(new_name)
        moved = self._by_table.pop(old, {})
        for index in moved.values():
            index.table = new_name
        self._by_table[new_name] = moved
        # a constraint's index is named after its table: "public.t:t_pkey"
        for index in [i for i in moved.values() if i.name.startswith(f"{old}:")]:
            self.pop_index(index.name)
            index.name = f"{new_name}:{index.name[len(old) + 1 :]}"
            self.add_index(index)
        constraints = self._constraints_by_table.pop(old, {})
        for constraint in constraints.values():
            constraint.table = new_name
        if constraints:
            self._constraints_by_table[new_name] = constraints
        renamed = self._renamed_columns.pop(old, None)
        if renamed:
            self._renamed_columns[new_name] = renamed

    def _set_schema(self, node: Any) -> None:
        if node.objectType == OT.OBJECT_TABLE and node.relation and node.newschema:
            old = qualified(node.relation)
            if old in self.tables:
                self._move_table(old, f"{node.newschema}.{node.relation.relname}")

    def _rename(self, node: Any) -> None:
        if node.renameType in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN) and node.object:
            self._rename_type(qualified_list(node.object), node.newname)
            return
        if node.relation is None:
            return
        old = qualified(node.relation)
        if node.renameType == OT.OBJECT_INDEX and old in self.indexes:
            index = self.indexes[old]
            self.pop_index(old)
            index.name = f"{old.rpartition('.')[0]}.{node.newname}"
            self.add_index(index)
            return
        if node.renameType == OT.OBJECT_TABLE and old in self.tables:
            self._move_table(old, f"{old.split('.')[0]}.{node.newname}")
        elif node.renameType == OT.OBJECT_COLUMN and node.subname and node.newname:
            self._rename_column(old, node.subname, node.newname)

    def _rename_column(self, table: str, old: str, new: str) -> None:
        """A column renamed: PostgreSQL's indexes and constraints hold it by number, so
        they follow it, on a table the linted files made or one they only indexed."""
        info = self.tables.get(table)
        if info is not None and old in info.columns:
            column = info.columns[old]
            column.name = new
            info.columns = {new if n == old else n: c for n, c in info.columns.items()}

        def renamed(names: Iterable[str]) -> tuple[str, ...]:
            return tuple(new if n == old else n for n in names)

        for index in self._by_table.get(table, {}).values():
            index.columns = renamed(index.columns)
            if index.not_null_where:
                index.not_null_where = frozenset(renamed(index.not_null_where))
        for constraint in self._constraints_by_table.get(table, {}).values():
            constraint.columns = renamed(constraint.columns)
            if constraint.not_null_of == old:
                constraint.not_null_of = new
        columns = self._renamed_columns.setdefault(table, {})
        columns.pop(new, None)  # the new name no longer leads elsewhere
        columns[old] = new

    def _rename_type(self, old: str, newname: str) -> None:
        """A type renamed: the columns of that type keep it under its new name, and a type
        made later under the old name is another one (alembic_postgresql_enum's swap). The
        old name stays in ``types``: the engine tells that swap's ``CREATE TYPE`` of a name
        an earlier migration made from a type this one makes (MP503)."""
        schema = old.rpartition(".")[0]
        new_name = f"{schema}.{newname}"
        if old in self.types:
            self._set_type(new_name, new=self.types[old])
        spelled = {old, old.removeprefix("public.")}  # columns carry the name as written
        for table in self.tables.values():
            for column in table.columns.values():
                current = column.type
                if current is not None and current.name in spelled:
                    name = new_name if "." in current.name else newname
                    column._type = dataclasses.replace(current, name=name, written=newname)


_COLUMN_CHANGES = frozenset(
    {AT.AT_AlterColumnType, AT.AT_ColumnDefault, AT.AT_SetNotNull, AT.AT_DropNotNull}
)


def _not_null_only(where: Any) -> frozenset[str] | None:
    """The columns an index's WHERE tests ``IS NOT NULL`` when that is all it does (ANDed
    tests), else None: a lookup ``col = $1`` on those columns implies it, and PostgreSQL
    uses the index for it."""
    if isinstance(where, ast.BoolExpr) and where.boolop == enums.BoolExprType.AND_EXPR:
        parts = [_not_null_only(arg) for arg in where.args or ()]
        if any(part is None for part in parts):
            return None
        return frozenset().union(*(part for part in parts if part is not None))
    if not isinstance(where, ast.NullTest) or where.nulltesttype != enums.NullTestType.IS_NOT_NULL:
        return None
    fields = where.arg.fields if isinstance(where.arg, ast.ColumnRef) else ()
    last = fields[-1] if fields else None
    return frozenset({last.sval}) if isinstance(last, ast.String) and last.sval else None


def _alter_column(column: ColumnInfo, subtype: Any, cmd: Any) -> None:
    """ALTER COLUMN ... TYPE / SET or DROP DEFAULT / SET or DROP NOT NULL."""
    if subtype == AT.AT_AlterColumnType:
        if cmd.def_ is not None and cmd.def_.typeName is not None:
            column.type_name, column._type = cmd.def_.typeName, None
    elif subtype == AT.AT_ColumnDefault:
        column.has_default = not drops_default(cmd.def_)
    else:
        column.not_null = subtype == AT.AT_SetNotNull


def drops_default(expr: Any) -> bool:
    """Whether ``ALTER COLUMN ... SET DEFAULT expr`` leaves no default: DROP DEFAULT (no
    expression), or SET DEFAULT NULL, which is the same to an INSERT."""
    while isinstance(expr, ast.TypeCast):
        expr = expr.arg
    return expr is None or (isinstance(expr, ast.A_Const) and bool(expr.isnull))


# column constraints that give an omitted column a value
_FILLED = frozenset({CT.CONSTR_DEFAULT, CT.CONSTR_IDENTITY, CT.CONSTR_GENERATED})
_CONSTRAINT_KINDS = {
    CT.CONSTR_CHECK: "check",
    CT.CONSTR_FOREIGN: "foreign",
    CT.CONSTR_PRIMARY: "primary",
    CT.CONSTR_UNIQUE: "unique",
    CT.CONSTR_EXCLUSION: "exclusion",
}


def _not_null_check_column(constraint: Any) -> str | None:
    """The column of ``CHECK (col IS NOT NULL)``, or None for any other check."""
    expr = constraint.raw_expr
    if (
        isinstance(expr, ast.NullTest)
        and expr.nulltesttype == enums.NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
    ):
        fields = [f.sval for f in expr.arg.fields or () if isinstance(f, ast.String)]
        return fields[-1] if fields else None
    return None


# What a CREATE of a view, function, sequence, schema, extension, trigger or policy names its
# object, spelled as dropped_names() spells the DROP of it.
_CREATED_OBJECT: dict[type, Callable[[Any], str | None]] = {
    ast.ViewStmt: lambda n: qualified(n.view) if n.view is not None else None,
    ast.CreateFunctionStmt: lambda n: qualified_list(n.funcname or ()),
    ast.CreateSeqStmt: lambda n: qualified(n.sequence) if n.sequence is not None else None,
    ast.CreateSchemaStmt: lambda n: n.schemaname,
    ast.CreateExtensionStmt: lambda n: n.extname,
    ast.CreateTrigStmt: lambda n: f"{n.relation.relname}.{n.trigname}" if n.relation else None,
    ast.CreatePolicyStmt: lambda n: f"{n.table.relname}.{n.policy_name}" if n.table else None,
}
# What CREATE TYPE, DOMAIN and composite TYPE name their type.
_CREATED_TYPE: dict[type, Callable[[Any], str | None]] = {
    ast.CreateEnumStmt: lambda n: qualified_list(n.typeName or ()),
    ast.CreateDomainStmt: lambda n: qualified_list(n.domainname or ()),
    ast.CompositeTypeStmt: lambda n: qualified(n.typevar) if n.typevar is not None else None,
}


def created_type(node: Any) -> str | None:
    """The qualified name of the type a CREATE TYPE, DOMAIN or composite TYPE creates."""
    name_of = _CREATED_TYPE.get(type(node))
    return name_of(node) if name_of is not None else None


def dropped_names(node: Any) -> list[str]:
    """Qualified names a ``DropStmt`` drops (schemas by their bare name)."""
    names: list[str] = []
    for obj in node.objects or ():
        if isinstance(obj, tuple):
            names.append(qualified_list(obj))
        elif isinstance(obj, ast.TypeName):
            names.append(qualified_list(obj.names or ()))
        elif isinstance(obj, ast.String):
            names.append(obj.sval or "")
        elif isinstance(obj, ast.ObjectWithArgs):
            names.append(qualified_list(obj.objname or ()))
    return names
