"""Head agrees with everything else that claims to describe it.

- models (MP110): the SQLAlchemy metadata env.py hands to ``context.configure`` (or
  ``--models module:attribute``) compared with head by Alembic's own autogenerate
  comparison, without its well-known false positives;
- schema file (MP111): a hand-kept ``create_database.sql`` applied to an empty database
  gives exactly head's schema, drift reported by object in both directions;
- bootstrap (MP112): ``load_bootstrap`` loads a database bootstrapped out of band; upgrading
  it to head must succeed (the walk does that; ``bootstrap_finding`` names the failure).
  When the file stamps revisions (``stamped_revisions``), the walk itself starts from it
  (verify/roundtrip.py);
- lock file (MP113): head equals the committed ``migproof.schema.json``.

Bad input (invalid SQL in a file, a models module that cannot be imported) is a
``SourceError`` naming the file, the line and PostgreSQL's or Python's error: exit 2.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migproof.config import Config
from migproof.errors import ConfigError, SourceError
from migproof.findings import Finding, Location, Severity
from migproof.verify._register import verify_check

if TYPE_CHECKING:
    from migproof.catalog import Difference, Snapshot, SnapshotFilter
    from migproof.chain.graph import RevisionGraph
    from migproof.chain.stepper import StepFailure
    from migproof.sandbox import DatabaseHost

__all__ = [
    "BOOTSTRAP_FAILS",
    "LOCKFILE_DRIFT",
    "MODELS_DRIFT",
    "SCHEMA_FILE_DRIFT",
    "applied_by_stamp",
    "bootstrap_finding",
    "check_bootstrap",
    "check_lockfile",
    "check_models",
    "check_schema_file",
    "compare_schema_file",
    "load_bootstrap",
    "load_metadata",
    "read_bootstrap",
    "snapshot_schema_file",
    "stamped_revisions",
]

MODELS_DRIFT = verify_check(
    "MP110",
    "models-differ-from-head",
    "the SQLAlchemy models and the schema at head differ",
    what="Compares head with the metadata env.py passes as `target_metadata` (or "
    "`--models module:attribute`) using Alembic's autogenerate comparison, and names every "
    "table, column, type, nullability, index, constraint and foreign key that differs. "
    "Differences Alembic reports but that are the same schema (a unique index reported "
    "against a unique constraint, a type spelled two ways, a default rendered differently, "
    "duplicated entries) are left out.",
    why="A model change that ships without its revision passes CI on SQLite or `create_all` "
    "and fails on PostgreSQL, where the column does not exist.",
    fix="Write the missing revision (`alembic revision --autogenerate`, then review it), or "
    "change the model back.",
    alembic="The same comparison as `alembic check`, run on the database the chain built.",
)
SCHEMA_FILE_DRIFT = verify_check(
    "MP111",
    "schema-file-differs-from-head",
    "the hand-kept schema file and the schema at head differ",
    what="Applies the schema file (`--schema-sql`, `schema-sql`) to an empty database and "
    "compares its schema with head's, object by object, both ways.",
    why="Fresh environments built from the file and databases built by the chain drift "
    "apart silently: a table in one and not the other, a column of another type.",
    fix="Mirror each revision's DDL into the schema file (or regenerate it from head with "
    "`pg_dump --schema-only`).",
)
BOOTSTRAP_FAILS = verify_check(
    "MP112",
    "upgrade-fails-on-bootstrapped-database",
    "upgrading a bootstrapped database to head fails",
    what="Loads the bootstrap file (`--bootstrap-sql`, `bootstrap-sql`) into a fresh database, "
    "as production was set up out of band, then upgrades it to head.",
    why="Migrations written against an empty database (`CREATE TABLE` without `IF NOT "
    "EXISTS`, a schema assumed missing) fail on the real database on deploy day.",
    fix="Make the failing statement idempotent (`IF NOT EXISTS`, `CREATE SCHEMA IF NOT "
    "EXISTS`) or stamp the bootstrapped database at the revision it matches.",
)
LOCKFILE_DRIFT = verify_check(
    "MP113",
    "head-differs-from-lockfile",
    "the schema at head differs from the committed lock file",
    what="Compares head with the schema lock file (`migproof.schema.json`, `lockfile`) when "
    "it exists.",
    why="The lock file is what reviewers read: a pull request whose migrations change the "
    "schema without updating it hides the change from review.",
    fix="Run `migproof snapshot alembic:head --write` and commit the lock file.",
)


# -- models -------------------------------------------------------------------------------


def load_metadata(spec: str, root: Path) -> tuple[list[Any], Path | None]:
    """The MetaData objects ``module:attribute`` names (a MetaData, a declarative base or a
    list of either), and the module's file. Errors name the file, line and Python's error.

    >>> load_metadata("app.models:Base.metadata", Path("."))  # doctest: +SKIP
    ([MetaData()], PosixPath('app/models.py'))
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"--models {spec!r} is not module:attribute",
            fix="name the metadata as module:attribute, e.g. app.models:Base.metadata",
        )
    module = _import_models(module_name, root)
    value: Any = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise ConfigError(
                f"--models {spec}: {module_name} has no attribute {attribute}",
                fix="name the MetaData object (often Base.metadata or db.metadata)",
            )
        value = getattr(value, part)
    path = getattr(module, "__file__", None)
    return _as_metadata(value, spec), Path(path) if path else None


def _import_models(module_name: str, root: Path) -> Any:
    added = [str(p) for p in (root, root / "src") if p.is_dir() and str(p) not in sys.path]
    sys.path[:0] = added
    try:
        return importlib.import_module(module_name)
    except SyntaxError as exc:
        raise SourceError(
            f"{exc.filename}:{exc.lineno}: the models module {module_name} has a syntax error: "
            f"{exc.msg}",
            fix="correct the syntax error",
        ) from exc
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise SourceError(
                f"cannot import the models module {module_name}: {exc}",
                fix=f"run migproof from the project's root ({root}), or correct --models",
            ) from exc
        raise _import_error(module_name, exc, root) from exc
    except (Exception, SystemExit) as exc:  # sys.exit() in project code is its error too
        raise _import_error(module_name, exc, root) from exc
    finally:
        for entry in added:
            if entry in sys.path:
                sys.path.remove(entry)


def _import_error(module_name: str, exc: BaseException, root: Path) -> SourceError:
    """Name the line of the user's code the error came from (not importlib's or os's)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if _is_under(f.filename, root)]
    theirs = [f for f in frames if not f.filename.startswith("<") and "importlib" not in f.filename]
    chosen = (mine or theirs or frames)[-1:]
    where = f"{chosen[0].filename}:{chosen[0].lineno}: " if chosen else ""
    return SourceError(
        f"{where}importing the models module {module_name} fails: {type(exc).__name__}: {exc}",
        fix="correct the error (importing the module must work without the application running)",
    )


def _is_under(filename: str, root: Path) -> bool:
    try:
        Path(filename).resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def _as_metadata(value: Any, spec: str) -> list[Any]:
    from sqlalchemy import MetaData

    items = value if isinstance(value, list | tuple) else [value]
    out = []
    for item in items:
        candidate = getattr(item, "metadata", item)
        if not isinstance(candidate, MetaData):
            raise ConfigError(
                f"--models {spec} is a {type(item).__name__}, not SQLAlchemy MetaData",
                fix="name the MetaData object (often Base.metadata or db.metadata)",
            )
        out.append(candidate)
    return out


# The env.py options that change what autogenerate compares.
_COMPARE_OPTIONS = (
    "compare_type",
    "compare_server_default",
    "include_schemas",
    "include_object",
    "include_name",
    "version_table",
    "version_table_schema",
)


def check_models(
    url: str,
    metadata: Any,
    *,
    config: Config,
    options: Mapping[str, Any] | None = None,
    origin: Path | None = None,
    head: Snapshot | None = None,
    skipped: list[tuple[str, str]] | None = None,
) -> list[Finding]:
    """Differences between head (the database at ``url``) and the SQLAlchemy ``metadata``.

    ``options`` are the keyword arguments env.py passed to ``context.configure`` (only the
    comparison ones are used: compare_type, compare_server_default, include_schemas,
    include_object, include_name, version_table…). ``origin`` is the file findings point at.
    With ``head`` (its snapshot), the labels of native enums and the primary keys are
    compared too, which Alembic's comparison does not do: a Python enum member added
    without its ``ALTER TYPE … ADD VALUE``, a key PostgreSQL dropped with one of its columns.

    Indexes and constraints whose ``ddl_if`` leaves PostgreSQL out are not compared, and
    a native enum without a name (which PostgreSQL cannot create) is a finding of its own,
    its column's type left out of the comparison. With ``skipped``, an error of Alembic's
    comparison is said there, as ("comparison with the models", why), and the checks from
    ``head`` still run; without it, the error is raised.
    """
    metadatas = metadata if isinstance(metadata, list | tuple) else [metadata]
    if head is not None and head.tables and not any(m.tables for m in metadatas):
        return [  # one finding, not one per table: the models were never imported
            Finding(
                check=MODELS_DRIFT.code,
                severity=MODELS_DRIFT.severity,
                message="models and head differ: the models' metadata declares no table,"
                f" and head has {len(head.tables)}",
                fix="import the modules that define the models before the metadata is read"
                " (env.py's target_metadata, or verify.models), or leave it out if the project"
                " keeps no models",
                location=Location(path=origin) if origin else None,
            )
        ]
    opts = {k: v for k, v in (options or {}).items() if k in _COMPARE_OPTIONS}
    schemas = {t.schema for m in metadatas for t in m.tables.values()}
    if schemas - {None}:
        opts.setdefault("include_schemas", True)
        opts["include_name"] = _only_schemas(schemas, opts.get("include_name"))
    unnamed = _unnamed_enums(metadatas)
    if unnamed:  # PostgreSQL's dialect cannot compile them: Alembic's type comparison raises
        opts["compare_type"] = _types_compared_but(
            {(schema, table, column) for schema, table, column, _ in unnamed},
            opts.get("compare_type", True),
        )
    target: Any = metadatas[0] if len(metadatas) == 1 else list(metadatas)
    try:
        diffs = _alembic_diffs(url, target, metadatas, opts, options or {})
    except Exception as exc:  # the project's models, Alembic's comparison: never a crash
        if skipped is None:
            raise
        skipped.append(("comparison with the models", _comparison_error(exc)))
        diffs = []
    autogenerate = (
        "write the revision that makes head match the models "
        "(`alembic revision --autogenerate`), or change the model back"
    )
    entries = _without_parts_of_missing_tables(_clean(list(_flatten(diffs)), config))
    entries = _without_primary_key_nullability(entries, metadatas)
    entries = _without_uniques_of_the_primary_key(entries, metadatas)
    entries, unmodelled = _unmodelled_tables(entries, head)
    differences = _unnamed_enum_findings(unnamed, head)
    differences += unmodelled + [
        (text, fix or autogenerate) for text, fix in _describe_model_diffs(entries)
    ]
    if head is not None:
        enum_fix = (
            'add the labels in a revision (`op.execute("ALTER TYPE … ADD VALUE …")`), '
            "or change the model back"
        )
        differences += [(text, enum_fix) for text in _enum_drift(metadatas, head)]
        differences += _primary_key_drift(metadatas, head, config, options or {})
    location = Location(path=origin, line=_metadata_line(origin)) if origin else None
    return [
        Finding(
            check=MODELS_DRIFT.code,
            severity=MODELS_DRIFT.severity,
            message=f"models and head differ: {difference}",
            fix=fix,
            location=location,
            context=context,
        )
        for difference, fix, context in _grouped(differences)
    ]


def _alembic_diffs(
    url: str,
    target: Any,
    metadatas: Sequence[Any],
    opts: dict[str, Any],
    options: Mapping[str, Any],
) -> list[Any]:
    """Alembic's comparison of the database at ``url`` with ``target``, as `alembic check`
    makes it, without the indexes and constraints PostgreSQL never gets (``ddl_if``)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, pool
    from sqlalchemy.exc import SAWarning

    engine = create_engine(url, poolclass=pool.NullPool)
    quiet = _quiet_alembic()
    try:
        with quiet, engine.connect() as connection, warnings.catch_warnings():
            # SQLAlchemy's remarks on what it reflects and sorts (tables in a foreign-key
            # cycle, expression indexes) would print with migproof's file and line: noise
            warnings.simplefilter("ignore", SAWarning)
            context = MigrationContext.configure(connection, opts=opts)
            hook = options.get("process_revision_directives")
            with _only_postgresql_ddl(metadatas, connection):
                if callable(hook):
                    return _directed_diffs(context, target, hook)
                # Alembic takes a list of metadata too (target_metadata)
                return list(compare_metadata(context, target))
    finally:
        engine.dispose()


def _comparison_error(exc: BaseException) -> str:
    """Why the comparison with the models did not run: the error's first line."""
    text = str(exc).strip().splitlines()
    detail = f": {text[0]}" if text else ""
    return (
        f"Alembic's comparison of head with the models failed: {type(exc).__name__}{detail}"
        " (the primary keys and enum labels were compared)"
    )


@contextlib.contextmanager
def _only_postgresql_ddl(metadatas: Sequence[Any], connection: Any) -> Iterator[None]:
    """The models without the indexes and constraints whose ``ddl_if`` leaves PostgreSQL
    out, while the comparison runs; put back after. Alembic ignores ``ddl_if`` and maps
    indexes by name from ``set(table.indexes)``: cognee declares ``ix_…`` twice, one for
    PostgreSQL and one for SQLite, and which of them was compared changed from run to run."""
    removed: list[tuple[Any, Any]] = []
    try:
        for metadata in metadatas:
            for table in metadata.tables.values():
                for item in [*table.indexes, *table.constraints]:
                    if not _is_for_postgresql(item, connection):
                        removed.append((table, item))
        for table, item in removed:
            _detach(table, item)
        yield
    finally:
        for table, item in removed:
            _attach(table, item)


def _is_for_postgresql(item: Any, connection: Any) -> bool:
    """Whether ``create_all()`` on PostgreSQL creates the index or constraint ``item``."""
    from sqlalchemy import Index
    from sqlalchemy.schema import AddConstraint, CreateIndex

    condition = getattr(item, "_ddl_if", None)
    if condition is None:
        return True
    ddl = CreateIndex(item) if isinstance(item, Index) else AddConstraint(item)
    try:
        return bool(condition._should_execute(ddl, item, connection))
    except Exception:  # the project's callable failed: compare the item, as before
        return True


def _detach(table: Any, item: Any) -> None:
    from sqlalchemy import ForeignKeyConstraint, Index

    if isinstance(item, Index):
        table.indexes.discard(item)
        return
    table.constraints.discard(item)
    if isinstance(item, ForeignKeyConstraint):  # Alembic reads table.foreign_key_constraints
        for element in item.elements:
            table.foreign_keys.discard(element)


def _attach(table: Any, item: Any) -> None:
    from sqlalchemy import ForeignKeyConstraint, Index

    if isinstance(item, Index):
        table.indexes.add(item)
        return
    table.constraints.add(item)
    if isinstance(item, ForeignKeyConstraint):
        table.foreign_keys.update(item.elements)


def _literal(text: str) -> str:
    """``text`` as a Python string literal in double quotes, as the models are written."""
    return json.dumps(text, ensure_ascii=False)


def _dotted(table: Any) -> str:
    return f"{table.schema}.{table.name}" if table.schema else str(table.name)


def _enum_of(type_: Any) -> Any:
    """The SQLAlchemy Enum ``type_`` is, wraps (a TypeDecorator) or holds (an ARRAY)."""
    from sqlalchemy import Enum

    for candidate in (type_, getattr(type_, "impl", None), getattr(type_, "item_type", None)):
        if isinstance(candidate, Enum):
            return candidate
    return None


def _unnamed_enums(metadatas: Sequence[Any]) -> list[tuple[str | None, str, str, Any]]:
    """(schema, table, column, enum) of each native enum of the models without a name."""
    found = []
    for metadata in metadatas:
        for table in metadata.tables.values():
            for column in table.columns:
                enum = _enum_of(column.type)
                if enum is not None and enum.native_enum and not enum.name:
                    found.append((table.schema, table.name, column.name, enum))
    return found


def _types_compared_but(columns: set[tuple[str | None, str, str]], user: Any) -> Any:
    """A ``compare_type`` that leaves the types of ``columns`` out and is env.py's own
    (``user``: a bool or a callable) for the rest."""

    def compare_type(
        context: Any, inspected: Any, declared: Any, inspected_type: Any, declared_type: Any
    ) -> bool | None:
        table = declared.table
        if (table.schema, table.name, declared.name) in columns:
            return False
        if callable(user):
            result = user(context, inspected, declared, inspected_type, declared_type)
            return None if result is None else bool(result)
        return None if user else False

    return compare_type


def _unnamed_enum_findings(
    unnamed: list[tuple[str | None, str, str, Any]], head: Snapshot | None
) -> list[tuple[str, str]]:
    """MP110's words for each unnamed native enum (PostgreSQL cannot create it); from
    ``_GROUP_FROM`` on, with one fix for all, which ``_grouped`` says in one finding."""
    if len(unnamed) >= _GROUP_FROM:
        fix = (
            'name each: `sa.Enum(..., name="…")`, with the name of the enum type the column '
            "has at head, or of one a revision creates"
        )
        return [(f"column {_qualified(s, t, c)}: {_UNNAMED_ENUM}", fix) for s, t, c, _ in unnamed]
    found = []
    for schema, table, column, enum in unnamed:
        labels = ", ".join(_literal(label) for label in enum.enums)
        at_head = _enum_type_at_head(head, schema, table, column)
        if at_head:
            fix = f"name it as head does: `sa.Enum({labels}, name={_literal(at_head)})`"
        else:
            fix = f'name it: `sa.Enum({labels}, name="…")`, and create that type in a revision'
        name = _qualified(schema, table, column)
        found.append((f"PostgreSQL needs a name for the enum of column {name}: {_NO_NAME}", fix))
    return found


_NO_NAME = (
    "the models' sa.Enum has none (create_all() fails on it; its type is left out of the "
    "comparison)"
)
_UNNAMED_ENUM = f"PostgreSQL needs a name for its enum, {_NO_NAME}"


def _enum_type_at_head(
    head: Snapshot | None, schema: str | None, table: str, column: str
) -> str | None:
    """The name of the enum type of ``column`` at head, when it is one."""
    if head is None:
        return None
    found = head.tables.get(_qualified(schema, table))
    at_head = found.column(column) if found is not None else None
    if at_head is None:
        return None
    type_name = at_head.type.removesuffix("[]")
    for key in (type_name, _qualified(schema, type_name), f"public.{type_name}"):
        if key in head.enums:
            return key.removeprefix("public.")
    return None


def _primary_key_drift(
    metadatas: Sequence[Any], head: Snapshot, config: Config, options: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """Model tables whose primary key is not head's (or head has none): Alembic's
    autogenerate never compares primary keys, and PostgreSQL drops a key with any of its
    columns (manila's drivers_private_data lost its key when a revision dropped one).

    The order of the key's columns counts when the models declare a
    ``PrimaryKeyConstraint``; with ``primary_key=True`` on the columns it follows the
    models' column order, which is no declaration, so only the columns count. Tables at
    head alone, or the models' tables without a key (Core tables, views), are left alone.
    """
    seen: set[str] = set()
    for metadata in metadatas:
        for table in metadata.tables.values():
            key = _qualified(table.schema, table.name)
            declared = [c.name for c in table.primary_key.columns]
            at_head = head.tables.get(key)
            if key in seen or at_head is None or not declared:
                continue
            seen.add(key)
            if _is_left_out(table, config, options):
                continue
            constraint = at_head.primary_key
            existing = list(constraint.columns) if constraint is not None else []
            ordered = not getattr(table.primary_key, "_implicit_generated", True)
            if existing == declared or (not ordered and sorted(existing) == sorted(declared)):
                continue
            yield _primary_key_words(table, key, declared, existing, constraint)


def _primary_key_words(
    table: Any, key: str, declared: list[str], existing: list[str], constraint: Any
) -> tuple[str, str]:
    columns = ", ".join(declared)
    listed = ", ".join(_literal(c) for c in declared)
    create = f'op.create_primary_key("{table.name}_pkey", "{table.name}", [{listed}])'
    if constraint is None:
        return (
            f"table {key} has no primary key at head, the models declare one on ({columns})",
            f"add it in a revision (`{create}`): PostgreSQL drops a primary key with any of "
            "its columns, so a revision that drops one must create the key again",
        )
    drop = f'op.drop_constraint("{constraint.name}", "{table.name}", type_="primary")'
    return (
        f"primary key of {key}: ({', '.join(existing)}) at head, ({columns}) in the models",
        f"replace it in a revision (`{drop}`, then `{create}`), or change the model back",
    )


def _is_left_out(table: Any, config: Config, options: Mapping[str, Any]) -> bool:
    """Whether the configuration or env.py's filters leave ``table`` out of the comparison."""
    names = {table.name, f"{table.schema or 'public'}.{table.name}"}
    if names & set(config.exclude_tables) or table.schema in config.exclude_schemas:
        return True
    include_name, include_object = options.get("include_name"), options.get("include_object")
    try:  # the project's filters, called as Alembic calls them for a table
        if callable(include_name) and not include_name(
            table.name,
            "table",
            {"schema_name": table.schema, "schema_qualified_table_name": _dotted(table)},
        ):
            return True
        return callable(include_object) and not include_object(
            table, table.name, "table", False, None
        )
    except Exception:  # a filter that needs more than Alembic passes here: compare the table
        return False


_GROUP_FROM = 5  # columns that differ the same way, said in one finding from this many on


def _grouped(
    differences: list[tuple[str, str]],
) -> Iterator[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """The differences, those of many columns that differ the same way in one (phoenix:
    85 columns BIGINT at head and INTEGER in the models, one mapping of its types), with
    every column named in the finding's context."""
    same: dict[tuple[str, str], list[str]] = {}
    for text, fix in differences:
        column, sep, how = text.partition(": ")
        if sep and column.startswith("column "):
            same.setdefault((how, fix), []).append(column.removeprefix("column "))
    said: set[tuple[str, str]] = set()
    for text, fix in differences:
        column, _, how = text.partition(": ")
        columns = same.get((how, fix), [])
        if len(columns) < _GROUP_FROM or not column.startswith("column "):
            yield text, fix, ()
        elif (how, fix) not in said:
            said.add((how, fix))
            shown = ", ".join(columns[:3])
            yield (
                f"{len(columns)} columns: {how} ({shown} and {len(columns) - 3} more)",
                fix,
                (("columns", "\n".join(columns)),),
            )


_TARGET_METADATA = re.compile(r"^[ \t]*target_metadata[ \t]*(?::[^=\n]*)?=", re.MULTILINE)


def _metadata_line(origin: Path) -> int | None:
    """The line of env.py's ``target_metadata = …``; None for a models module (or none)."""
    if origin.name != "env.py":
        return None
    try:
        text = origin.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = _TARGET_METADATA.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _enum_drift(metadatas: Sequence[Any], head: Snapshot) -> Iterator[str]:
    """Native enums whose labels differ between the models and head (by name)."""
    from sqlalchemy import Enum

    seen: set[str] = set()
    for metadata in metadatas:
        for table in metadata.tables.values():
            for column in table.columns:
                kind = column.type
                if not isinstance(kind, Enum) or not kind.native_enum or not kind.name:
                    continue
                key = _qualified(kind.schema or table.schema, kind.name)
                existing = head.enums.get(key)
                if key in seen or existing is None:
                    continue
                seen.add(key)
                declared = tuple(kind.enums)
                if declared != tuple(existing.labels):
                    yield (
                        f"enum {key}: labels at head [{', '.join(existing.labels)}], "
                        f"in the models [{', '.join(declared)}]"
                    )


@contextlib.contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic logs every comparison step at INFO when env.py configured logging."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _only_schemas(schemas: set[str | None], user_filter: Any) -> Any:
    def include_name(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
        if type_ == "schema" and name not in schemas:
            return False
        return True if user_filter is None else bool(user_filter(name, type_, parent_names))

    return include_name


def _flatten(diffs: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    for entry in diffs:
        if isinstance(entry, list):
            yield from (tuple(e) for e in entry)
        else:
            yield tuple(entry)


def _directed_diffs(context: Any, target: Any, hook: Callable[..., Any]) -> list[Any]:
    """Alembic's comparison as `alembic check` makes it when env.py passes a
    ``process_revision_directives`` hook: the migration autogenerate would write, through
    the hook (langflow's keeps columns of an expand window out of it), then its diffs. A
    hook that cannot run outside `alembic revision` (it reads the command's options) is
    left out: the comparison is then Alembic's own."""
    from alembic.autogenerate import compare_metadata, produce_migrations

    script = produce_migrations(context, target)
    directives = [script]
    try:
        hook(context, ("head",), directives)
    except Exception:  # the project's code; the plain comparison stands
        return list(compare_metadata(context, target))
    if not directives or directives[0].upgrade_ops is None:
        return []  # the hook emptied it: "no changes", as `alembic check` reports
    return list(directives[0].upgrade_ops.as_diffs())


def _clean(entries: list[tuple[Any, ...]], config: Config) -> list[tuple[Any, ...]]:
    """Alembic's diff without what is the same schema written another way."""
    out: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for entry in entries:
        signature = describe_model_diff(entry)
        if signature in seen:  # sqlalchemy/alembic#844: unique constraints reported twice
            continue
        seen.add(signature)
        if _is_excluded(entry, config) or _is_same_type(entry) or _is_same_default(entry):
            continue
        out.append(entry)
    return _drop_unique_pairs(out)


def _is_excluded(entry: tuple[Any, ...], config: Config) -> bool:
    if entry[0] not in ("add_table", "remove_table"):
        return False
    table = entry[1]
    names = {table.name, f"{table.schema or 'public'}.{table.name}"}
    return bool(names & set(config.exclude_tables)) or (table.schema in config.exclude_schemas)


_TYPE_SYNONYMS = {
    "FLOAT": "DOUBLE PRECISION",
    "FLOAT(53)": "DOUBLE PRECISION",
    "DOUBLE": "DOUBLE PRECISION",
    "FLOAT(24)": "REAL",
    "INT": "INTEGER",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "TIME WITHOUT TIME ZONE": "TIME",
    "CHARACTER VARYING": "VARCHAR",
    "BOOL": "BOOLEAN",
    "DECIMAL": "NUMERIC",
}


def _is_same_type(entry: tuple[Any, ...]) -> bool:
    """``modify_type`` between two spellings of one PostgreSQL type (String vs VARCHAR …)."""
    if entry[0] != "modify_type":
        return False
    return _pg_type(entry[5]) == _pg_type(entry[6])


def _pg_type(type_: Any) -> str:
    from sqlalchemy.dialects import postgresql

    try:
        dialect: Any = postgresql.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
        text = str(type_.compile(dialect=dialect)).upper()
    except Exception:  # a type the dialect cannot render: compare its repr
        return repr(type_)
    text = re.sub(r"\s+", " ", text).strip()
    return _TYPE_SYNONYMS.get(text, text)


def _is_same_default(entry: tuple[Any, ...]) -> bool:
    """``modify_default`` whose two sides are one default written twice."""
    if entry[0] != "modify_default":
        return False
    existing, new = _default_text(entry[5]), _default_text(entry[6])
    if existing.startswith("nextval(") and not new:
        return True  # serial: the model leaves the sequence to the database
    return existing == new


def _default_text(value: Any) -> str:
    if value is None or value is False:
        return ""
    text = getattr(value, "arg", value)
    text = str(getattr(text, "text", text))
    text = re.sub(r"::[\w ]+(\[\])?", "", text)  # casts PostgreSQL adds: 'a'::text
    text = text.strip().strip("()").strip().strip("'")
    return "now()" if text.upper() == "CURRENT_TIMESTAMP" else text.lower()


def _drop_unique_pairs(entries: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """A unique constraint on one side and a unique index on the same columns on the other.

    Two unique indexes (or two constraints) on the same columns stay: Alembic reports such a
    pair only when something else differs (NULLS NOT DISTINCT, a sort order).
    """

    def unique_columns(entry: tuple[Any, ...]) -> tuple[str, str, str, tuple[str, ...]] | None:
        kind, obj = entry[0], entry[1]
        if kind in ("add_index", "remove_index") and getattr(obj, "unique", False):
            cols = tuple(str(getattr(c, "name", c)) for c in obj.expressions)
        elif kind in ("add_constraint", "remove_constraint") and type(obj).__name__ == (
            "UniqueConstraint"
        ):
            cols = tuple(c.name for c in obj.columns)
        else:
            return None
        table = obj.table
        side, what = kind.split("_")
        return (side, what, f"{table.schema}.{table.name}", cols)

    keyed = [(entry, unique_columns(entry)) for entry in entries]
    sides: dict[tuple[str, str, tuple[str, ...]], set[str]] = {}
    for _, k in keyed:
        if k:
            sides.setdefault((k[0], k[2], k[3]), set()).add(k[1])

    def is_pair(k: tuple[str, str, str, tuple[str, ...]] | None) -> bool:
        if k is None:
            return False
        other = sides.get(("remove" if k[0] == "add" else "add", k[2], k[3]), set())
        return bool(other - {k[1]})  # an index facing a constraint, or the reverse

    return [entry for entry, k in keyed if not is_pair(k)]


def _model_table(metadatas: Sequence[Any], schema: str | None, name: str) -> Any:
    """The models' table ``schema.name`` (no schema: the default one), or None."""
    for metadata in metadatas:
        for table in metadata.tables.values():
            if table.name == name and (table.schema or None) == (schema or None):
                return table
    return None


def _without_uniques_of_the_primary_key(
    entries: list[tuple[Any, ...]], metadatas: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """A model's UNIQUE on exactly its primary key's columns: PostgreSQL leaves it out of a
    CREATE TABLE that declares both (letta's ``unique_block_tag``), so ``create_all()`` makes
    no such constraint either, and a revision adding it would fail on the name."""

    def primary_key(schema: str | None, table: str) -> list[str]:
        # the models' table: the one in Alembic's entry is a copy without its key
        model = _model_table(metadatas, schema, table)
        return [c.name for c in model.primary_key.columns] if model is not None else []

    def folded(entry: tuple[Any, ...]) -> bool:
        # PostgreSQL drops only an exact copy of the key: same columns in the same order,
        # neither deferrable nor NULLS NOT DISTINCT
        constraint = entry[1]
        if entry[0] != "add_constraint" or type(constraint).__name__ != "UniqueConstraint":
            return False
        if constraint.deferrable or constraint.initially:
            return False
        if constraint.dialect_options["postgresql"].get("nulls_not_distinct"):
            return False
        table = constraint.table
        columns = [c.name for c in constraint.columns]
        return bool(columns) and columns == primary_key(table.schema, table.name)

    return [entry for entry in entries if not folded(entry)]


def _without_primary_key_nullability(
    entries: list[tuple[Any, ...]], metadatas: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """A primary-key column the models declare ``nullable=True`` is NOT NULL all the same:
    PostgreSQL makes every primary-key column NOT NULL (cinder's encryption.encryption_id)."""

    def is_primary_key(schema: str | None, table: str, column: str) -> bool:
        model = _model_table(metadatas, schema, table)
        found = model.columns.get(column) if model is not None else None
        return found is not None and bool(found.primary_key)

    return [
        entry
        for entry in entries
        if not (
            entry[0] == "modify_nullable"
            and entry[5] is False
            and entry[6] is True
            and is_primary_key(entry[1], entry[2], entry[3])
        )
    ]


def _without_parts_of_missing_tables(entries: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The indexes, constraints and foreign keys of a table that is only at head (or only in
    the models) are said by that table's own line: Alembic lists them too."""
    missing = {
        (entry[0].split("_", 1)[0], _qualified(entry[1].schema, entry[1].name))
        for entry in entries
        if entry[0] in ("add_table", "remove_table")
    }
    if not missing:
        return entries

    def of_missing_table(entry: tuple[Any, ...]) -> bool:
        kind = entry[0]
        side, _, what = kind.partition("_")
        if what not in ("index", "constraint", "fk"):
            return False
        table = getattr(entry[1], "table", None)
        if table is None:
            return False
        return (side, _qualified(table.schema, table.name)) in missing

    return [entry for entry in entries if not of_missing_table(entry)]


# So many tables at head missing from the models means the models were not all imported.
_UNMODELLED_MIN = 5
_UNMODELLED_SHOWN = 5


def _unmodelled_tables(
    entries: list[tuple[Any, ...]], head: Snapshot | None
) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    """When most of head's tables are missing from the models, one line for all of them
    instead of one each (keystone's env.py passes a metadata only some model modules were
    imported into); the entries left, and that line with its fix."""
    removed = [entry for entry in entries if entry[0] == "remove_table"]
    at_head = len(head.tables) if head is not None else 0
    if len(removed) < _UNMODELLED_MIN or len(removed) * 2 < at_head:
        return entries, []
    names = sorted(_qualified(e[1].schema, e[1].name) for e in removed)
    shown = ", ".join(names[:_UNMODELLED_SHOWN])
    more = len(names) - _UNMODELLED_SHOWN
    listed = f"{shown}, … and {more} more" if more > 0 else shown
    total = f" of the {at_head}" if at_head else ""
    text = f"{len(names)}{total} tables at head are not in the models ({listed})"
    fix = (
        "import every module that defines models before env.py reads target_metadata (or "
        "name the complete metadata with verify.models); tables the project keeps no models "
        "for are left out with an include_object filter in env.py"
    )
    return [entry for entry in entries if entry[0] != "remove_table"], [(text, fix)]


def _describe_model_diffs(entries: list[tuple[Any, ...]]) -> list[tuple[str, str | None]]:
    """Each difference in words, with its fix when the general one does not apply.

    An index that Alembic reports as removed and added again (same name, same table: its
    columns or uniqueness changed) is one line saying what differs; an index or a unique
    constraint that is the same on both sides but for its name is one line naming both.
    """
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, obj, *_ in entries:
        key = _index_key(kind, obj)
        if key is not None:
            pairs.setdefault(key, {})[kind] = obj
    renamed = _renamed(entries)
    out: list[tuple[str, str | None]] = []
    for entry in entries:
        if id(entry) in renamed:
            line = renamed[id(entry)]
            if line is not None:  # the pair's line, once, where its first half was
                out.append(line)
            continue
        key = _index_key(entry[0], entry[1])
        pair = pairs.get(key) if key is not None else None
        if pair is None or len(pair) < 2:
            out.append((describe_model_diff(entry), None))
        elif entry[0] == "remove_index":  # the pair's line, once, where the first half was
            out.append((_describe_changed_index(pair["remove_index"], pair["add_index"]), None))
    return out


def _renamed(entries: list[tuple[Any, ...]]) -> dict[int, tuple[str, str] | None]:
    """id(entry) -> the one line of a rename for the first entry of each pair (a removed
    and an added object alike but for their names), None for the second."""
    sides: dict[tuple[str, ...], dict[str, list[tuple[Any, ...]]]] = {}
    for entry in entries:
        shape = _shape(entry)
        if shape is not None:
            side = entry[0].split("_", 1)[0]
            sides.setdefault(shape, {}).setdefault(side, []).append(entry)
    found: dict[int, tuple[str, str] | None] = {}
    for shape, by_side in sides.items():
        removed, added = by_side.get("remove", []), by_side.get("add", [])
        if len(removed) != 1 or len(added) != 1:
            continue  # several alike on a side: which was renamed to which is a guess
        old, new = removed[0][1], added[0][1]
        if not getattr(old, "name", None) or not getattr(new, "name", None) or old.name == new.name:
            continue  # the same name: something else differs (an index's line says what)
        label, where, columns = shape[0], shape[1], shape[2]
        text = f"{label} on {where} ({columns}): named {old.name} at head, {new.name} in the models"
        fix = (
            f"rename it in a revision (ALTER {'INDEX' if label.endswith('index') else 'TABLE'} "
            "… RENAME …), or give the model the name head has (name=, or the MetaData's "
            "naming_convention)"
        )
        first, second = sorted((removed[0], added[0]), key=entries.index)
        found[id(first)] = (text, fix)
        found[id(second)] = None
    return found


def _shape(entry: tuple[Any, ...]) -> tuple[str, ...] | None:
    """What an index or a unique constraint is, but its name: (label, table, columns); None
    for the rest (Alembic matches foreign keys by what they are, so a name alone never
    shows up as a difference)."""
    side, _, what = entry[0].partition("_")
    obj = entry[1]
    table = getattr(obj, "table", None)
    if table is None or side not in ("add", "remove"):
        return None
    where = _qualified(table.schema, table.name)
    shape: tuple[str, ...] | None = None
    if what == "index":
        keys = _index_keys(obj)
        if all(plain for _, plain in keys):  # expressions print differently on each side
            label = "unique index" if obj.unique else "index"
            shape = (label, where, ", ".join(k for k, _ in keys))
    elif what == "constraint" and type(obj).__name__ == "UniqueConstraint":
        shape = ("unique constraint", where, ", ".join(c.name for c in obj.columns))
    return shape


def _index_key(kind: str, obj: Any) -> tuple[str, str] | None:
    if kind not in ("add_index", "remove_index") or not getattr(obj, "name", None):
        return None
    table = obj.table
    return (_qualified(table.schema, table.name), str(obj.name))


def _describe_changed_index(head: Any, models: Any) -> str:
    """``index ix on public.orders: columns at head (a, b), in the models (a)``."""
    where = _qualified(head.table.schema, head.table.name)
    changes = []
    head_keys, model_keys = _index_keys(head), _index_keys(models)
    if head_keys != model_keys:
        what = "columns" if all(plain for _, plain in (*head_keys, *model_keys)) else "keys"
        changes.append(
            f"{what} at head ({', '.join(k for k, _ in head_keys)}), "
            f"in the models ({', '.join(k for k, _ in model_keys)})"
        )
    if bool(head.unique) != bool(models.unique):
        changes.append(f"{_unique(head)} at head, {_unique(models)} in the models")
    if not changes:  # something Alembic compares beyond keys and uniqueness
        changes.append(f"at head {_index_ddl(head)}, in the models {_index_ddl(models)}")
    return f"index {head.name} on {where}: {'; '.join(changes)}"


def _unique(index: Any) -> str:
    return "unique" if index.unique else "not unique"


def _index_keys(index: Any) -> list[tuple[str, bool]]:
    """The index's keys as PostgreSQL prints them (unqualified), each with whether it is a
    plain column."""
    from sqlalchemy import Column
    from sqlalchemy.dialects import postgresql

    dialect: Any = postgresql.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
    keys = []
    for expression in index.expressions:
        if isinstance(expression, Column | str):
            keys.append((str(getattr(expression, "name", expression)), True))
            continue
        try:
            text = str(
                expression.compile(
                    dialect=dialect, compile_kwargs={"include_table": False, "literal_binds": True}
                )
            )
        except Exception:  # an expression the dialect cannot render: its text
            text = str(expression)
        keys.append((text, False))
    return keys


def _index_ddl(index: Any) -> str:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    dialect: Any = postgresql.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
    try:
        return str(CreateIndex(index).compile(dialect=dialect)).strip()
    except Exception:  # a definition the dialect cannot render
        return repr(index)


def describe_model_diff(entry: tuple[Any, ...]) -> str:
    """One autogenerate difference in words, with head's and the models' names."""
    kind = entry[0]
    if kind in ("add_table", "remove_table"):
        table = entry[1]
        name = _qualified(table.schema, table.name)
        return (
            f"table {name} is declared in the models but not at head"
            if kind == "add_table"
            else f"table {name} exists at head but not in the models"
        )
    if kind in ("add_column", "remove_column"):
        name = _qualified(entry[1], entry[2], entry[3].name)
        return (
            f"column {name} is declared in the models but not at head"
            if kind == "add_column"
            else f"column {name} exists at head but not in the models"
        )
    if kind.startswith("modify_"):
        name = _qualified(entry[1], entry[2], entry[3])
        what = kind.removeprefix("modify_").replace("_", " ")
        head, models = _show_value(kind, entry[5]), _show_value(kind, entry[6])
        if kind == "modify_nullable":  # "NOT NULL at head", not "nullable at head NOT NULL"
            return f"column {name}: {head} at head, {models} in the models"
        return f"column {name}: {what} at head {head}, in the models {models}"
    obj = entry[1]
    table = getattr(obj, "table", None) if kind != "add_table_comment" else obj
    where = _qualified(getattr(table, "schema", None), getattr(table, "name", "?"))
    label = {
        "index": "index",
        "constraint": f"{type(obj).__name__.replace('Constraint', '').lower()} constraint",
        "fk": "foreign key",
        "table_comment": "comment",
    }.get(kind.split("_", 1)[1], kind)
    name = getattr(obj, "name", None) or _columns_of(obj)
    side = "is declared in the models but not at head"
    if kind.startswith("remove_"):
        side = "exists at head but not in the models"
    return f"{label} {name} on {where} {side}"


def _columns_of(obj: Any) -> str:
    columns = getattr(obj, "columns", None) or getattr(obj, "expressions", None) or ()
    return "(" + ", ".join(str(getattr(c, "name", c)) for c in columns) + ")"


def _show_value(kind: str, value: Any) -> str:
    if kind == "modify_nullable":
        return "nullable" if value else "NOT NULL"
    if kind == "modify_type":
        return _pg_type(value)
    if kind == "modify_default":
        text = _default_text(value)
        return text or "no default"
    return repr(value)


def _qualified(*parts: str | None) -> str:
    from migproof.catalog.model import quote_ident

    schema, *rest = parts
    return ".".join(quote_ident(p) for p in [schema or "public", *rest] if p is not None)


# -- schema file --------------------------------------------------------------------------


def check_schema_file(
    host: DatabaseHost,
    head: Snapshot,
    path: Path,
    filters: SnapshotFilter,
    *,
    config: Config | None = None,
) -> list[Finding]:
    """Differences between head and the schema ``path`` builds in an empty database.

    Invalid SQL in the file is a SourceError naming the file, line and PostgreSQL's error.
    To fail fast on a bad file, call ``snapshot_schema_file`` before the walk and
    ``compare_schema_file`` after it instead.
    """
    snapshot = snapshot_schema_file(host, path, filters, config=config)
    return compare_schema_file(head, snapshot, path)


def snapshot_schema_file(
    host: DatabaseHost, path: Path, filters: SnapshotFilter, *, config: Config | None = None
) -> Snapshot:
    """The schema ``path`` builds in an empty scratch database of ``host`` (dropped after).

    ``config``'s statement and lock timeouts bound every statement (the defaults' without it).
    """
    from migproof.sources import snapshot_sql_file

    if not path.is_file():
        raise SourceError(
            f"no such schema file: {path}",
            fix=f"check --schema-sql, or {(config or Config()).setting('verify.schema-sql')}",
        )
    return snapshot_sql_file(host, path, filters, config or Config())


def compare_schema_file(head: Snapshot, built: Snapshot, path: Path) -> list[Finding]:
    """MP111, one finding per object that differs between head and the file's schema; a
    warning for a table whose columns differ in order alone (the migrations append a column
    the file declares in the middle, procrastinate's), as MP016 is for a round trip."""
    from migproof.catalog import diff_snapshots

    label = path.name
    return [
        Finding(
            check=SCHEMA_FILE_DRIFT.code,
            severity=Severity.WARNING if difference.is_order_only else SCHEMA_FILE_DRIFT.severity,
            message=f"{label} and head differ: {_schema_drift(difference, label)}",
            fix=f"mirror the migrations' DDL into {label}, or correct the migration",
            location=Location(path=path),
            context=(("diff", _render([difference], "head", label)),)
            if difference.is_multiline
            else (),
        )
        for difference in diff_snapshots(head, built)
    ]


def _schema_drift(difference: Difference, label: str) -> str:
    if difference.property is None:
        head = f"{difference.kind} {difference.name}"
        if difference.a:
            return f"{head} exists at head but is missing from {label}"
        return f"{head} is in {label} but not at head"
    return difference.describe("head", label)


def _render(differences: list[Difference], a: str, b: str) -> str:
    from migproof.catalog import render_diff

    return render_diff(differences, a, b)


# -- bootstrap ----------------------------------------------------------------------------


def load_bootstrap(host: DatabaseHost, path: Path, *, config: Config | None = None) -> str:
    """A fresh scratch database of ``host`` loaded from ``path``; its name.

    Mark it as scratch (``mark_scratch``) before a stepper runs on it. A file that
    fails to load is a SourceError naming the file, the line and PostgreSQL's error.
    ``config``'s statement and lock timeouts bound every statement (the defaults' without it).
    """
    from migproof.sources import apply_sql_file

    limits = config or Config()
    text = read_bootstrap(path, limits)
    try:
        return apply_sql_file(
            host,
            path,
            text,
            statement_timeout=limits.statement_timeout,
            lock_timeout=limits.lock_timeout,
        )
    except SourceError as exc:
        raise SourceError(
            f"bootstrap file {exc.what}",
            fix=exc.fix or "correct the bootstrap file",
        ) from exc


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def read_bootstrap(path: Path, config: Config | None = None) -> str:
    """The text of the bootstrap file ``path``; a SourceError (exit 2) when it is missing,
    unreadable, not UTF-8, or holds no statement: loading nothing would quietly check the
    chain from an empty database again. Fixes name where ``config``'s project sets the file.
    """
    option = f"--bootstrap-sql, or {(config or Config()).setting('verify.bootstrap-sql')}"
    if path.is_dir():
        raise SourceError(
            f"bootstrap file {path} is a directory", fix=f"name the SQL file in {option}"
        )
    if not path.is_file():
        raise SourceError(f"no such bootstrap file: {path}", fix=f"check {option}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(
            f"cannot read bootstrap file {path}: {exc}", fix="check the file's permissions"
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"cannot read bootstrap file {path}: it is not UTF-8 (byte 0x{data[exc.start]:02x} "
            f"at offset {exc.start})",
            fix="save it as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`)",
        ) from exc
    from migproof.sources import without_psql_meta

    text = without_psql_meta(text, path)  # pg_dump 17.6+ writes its \restrict lines
    problem = "is empty" if not text.strip() else None
    if problem is None and not _has_statement(text):
        problem = "holds only comments, no SQL statement"
    if problem:
        raise SourceError(
            f"bootstrap file {path} {problem}",
            fix="put the schema of the database that was set up out of band in it (e.g. "
            "`pg_dump --schema-only --no-owner` of it), or leave out --bootstrap-sql",
        )
    return text


def _has_statement(text: str) -> bool:
    """Whether ``text`` holds more than comments, whitespace and semicolons.

    Every statement starts with a keyword, so a letter outside the comments settles it
    without parsing a large pg_dump; PostgreSQL's parser decides what a pattern cannot:
    nested block comments (``/* a /* b */ c */``), or nothing but punctuation left.
    """
    rest = _COMMENTS.sub(" ", text)
    if "*/" not in rest and re.search(r"[^\W\d_]", rest):
        return True
    if not rest.strip():
        return False
    from migproof.lint.pgsql import SqlSyntaxError, parse_statements

    try:
        return bool(parse_statements(text))
    except SqlSyntaxError:
        return True  # loading it names the line


def stamped_revisions(conn: Any, version_table: tuple[str | None, str]) -> tuple[str, ...]:
    """The revision ids in ``version_table`` ((schema, table), as env.py configures Alembic);
    () when the table is missing, empty or unnamed (a plain-SQL directory has none)."""
    from psycopg import sql

    schema, table = version_table
    if not table:
        return ()
    name = sql.Identifier(table) if schema is None else sql.Identifier(schema, table)
    found = conn.execute(
        sql.SQL("SELECT to_regclass({})").format(sql.Literal(name.as_string(conn)))
    ).fetchone()
    if found is None or found[0] is None:
        return ()
    rows = conn.execute(sql.SQL("SELECT version_num FROM {} ORDER BY 1").format(name)).fetchall()
    return tuple(str(row[0]) for row in rows if row[0])


def applied_by_stamp(
    graph: RevisionGraph,
    stamped: Sequence[str],
    version_table: tuple[str | None, str],
    path: Path,
) -> set[str]:
    """What a database the bootstrap file ``path`` stamped at ``stamped`` has applied: those
    revisions and all they require. A stamp the chain does not have is a SourceError (exit 2)."""
    unknown = [rid for rid in stamped if rid not in graph.by_id]
    if unknown:
        schema, table = version_table
        raise _unknown_stamp_error(path, unknown, f"{schema}.{table}" if schema else table)
    return set(stamped).union(*(graph.ancestors(rid) for rid in stamped))


def _unknown_stamp_error(path: Path, revisions: list[str], version_table: str) -> SourceError:
    """The usage error for a bootstrap file stamped at revisions the chain does not have."""
    ids = ", ".join(repr(r) for r in revisions)
    many = len(revisions) > 1
    return SourceError(
        f"bootstrap file {path} stamps revision{'s' if many else ''} {ids} in {version_table}, "
        f"and the chain has no such revision{'s' if many else ''}",
        fix=f"stamp the file at the revision of this chain its schema matches (INSERT INTO "
        f"{version_table} VALUES ('<revision id>')), or check that --bootstrap-sql names this "
        "project's file",
    )


def check_bootstrap(
    host: DatabaseHost,
    path: Path,
    make_stepper: Callable[[DatabaseHost, str, str], Any],
    *,
    config: Config,
    revision_paths: Mapping[str, Path] | None = None,
    loaded: str | None = None,
) -> list[Finding]:
    """MP112 when upgrading a database loaded from ``path`` to head fails; [] when it works.

    ``make_stepper(host, dbname, token)`` builds the walk's stepper (Alembic's,
    or a plain-SQL directory's) for the scratch database; ``revision_paths`` maps revision
    ids to files, for a failure that names no file. ``loaded``: a database already loaded
    from ``path`` (``load_bootstrap``), cloned rather than loading the file again. The
    database upgraded is dropped afterwards.
    """
    from migproof.chain.stepper import mark_scratch

    path = path.resolve()  # the stepper's session runs in the project's directory
    if loaded is None:
        db = load_bootstrap(host, path, config=config)
    else:
        db = host.create_database(template=loaded)
    try:
        stepper = make_stepper(host, db, mark_scratch(host, db, config))
        with stepper.session():
            failure = stepper.upgrade_to("heads")
    finally:
        host.drop_database(db)
    if failure is None:
        return []
    return [bootstrap_finding(failure, path, (revision_paths or {}).get(failure.revision))]


def bootstrap_finding(failure: StepFailure, bootstrap: Path, revision_path: Path | None) -> Finding:
    """MP112 for a revision that fails on the database loaded from ``bootstrap``."""
    path = failure.path or revision_path
    return Finding(
        check=BOOTSTRAP_FAILS.code,
        severity=BOOTSTRAP_FAILS.severity,
        revision=failure.revision,
        message=(
            f"upgrading a database loaded from {bootstrap.name} fails at {failure.revision}: "
            f"{failure.error}"
        ),
        fix="make the statement idempotent (CREATE … IF NOT EXISTS, CREATE SCHEMA IF NOT "
        f"EXISTS) or stamp databases bootstrapped from {bootstrap.name} at the revision they "
        "match",
        statement=failure.statement,
        location=Location(path=path, line=failure.line) if path else None,
        context=(("bootstrap file", str(bootstrap)),),
    )


# -- lock file ----------------------------------------------------------------------------


def check_lockfile(config: Config, head: Snapshot) -> list[Finding]:
    """MP113 when the lock file exists and head differs from it; nothing when it is absent."""
    from migproof.catalog.lockfile import compare_lockfile, lockfile_path, read_lockfile

    path = lockfile_path(config)
    if not path.is_file():
        return []
    label = config.lockfile
    drift = compare_lockfile(read_lockfile(path), head, label)
    differences = drift.differences
    if not differences:
        return []
    names = "; ".join(d.describe(label, "head") for d in differences[:3])
    more = f" (and {len(differences) - 3} more)" if len(differences) > 3 else ""
    note = f" ({drift.note})" if drift.note else ""
    return [
        Finding(
            check=LOCKFILE_DRIFT.code,
            severity=LOCKFILE_DRIFT.severity,
            message=f"head no longer matches {label}: {names}{more}{note}",
            fix=f"if the change is intended, run `migproof snapshot alembic:head --write` and "
            f"commit {label}",
            location=Location(path=path),
            context=(("diff", _render(differences, label, "head")),),
        )
    ]
