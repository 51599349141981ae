"""Hints a verify finding gives when its failure has a known cause outside the revision.

A chain that starts from a schema ``metadata.create_all()`` built: jupyterhub, mlflow and
buildbot create a fresh database with ``create_all()`` and ``alembic stamp head``, so their
base revision creates nothing and the next one alters a table no revision created. Such an
upgrade failure gets a fix that says how to write a ``--bootstrap-sql`` file the walk can
start from (and, when one is given, what it lacks).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from migproof.catalog.model import Snapshot
from migproof.chain.graph import RevisionFile
from migproof.chain.stepper import StepFailure

__all__ = [
    "foreign_type_fix",
    "import_fix",
    "mentions",
    "missing_object",
    "outside_schema_fix",
    "signature_fix",
]


def outside_schema_fix(
    rev: RevisionFile,
    failure: StepFailure,
    *,
    before: Snapshot,
    statements: Sequence[Any],
    bootstrap: str | None,
    stamped: list[str] | None,
    version_table: tuple[str | None, str],
    option: str,
) -> str | None:
    """The hint for a chain that starts from a schema ``create_all()`` built, or None.

    jupyterhub, mlflow and buildbot create a fresh database with ``metadata.create_all()``
    and ``alembic stamp head``: their base revision does nothing and the next one alters a
    table no revision created. Only when no table exists before ``rev`` and no statement
    an earlier revision ran names the missing object (a table a revision dropped is the
    chain's own bug, not a schema from outside). ``option`` is where the project's
    configuration sets the bootstrap file (``Config.setting("verify.bootstrap-sql")``).
    """
    missing = missing_object(failure)
    if missing is None or failure.in_env or before.tables:
        return None
    rid = rev.revision or ""
    if any(s.revision != rid and not s.failed and mentions(s.sql, missing[1]) for s in statements):
        return None
    seems = (
        f'no revision before {rid} creates {missing[0]} "{missing[1]}", and no table exists '
        f"before {rid}: the chain seems to start from a schema created outside the migrations"
        " (as `metadata.create_all()` then `alembic stamp head` do). "
    )
    if bootstrap and stamped:  # stamped, but it holds no table
        at = " and ".join(stamped)
        return (
            f"{seems}{Path(bootstrap).name} is stamped at {at} but creates no table:"
            f" put the schema as it stood at {at} in it (e.g. `pg_dump --schema-only"
            " --no-owner` of a database `create_all()` made then)"
        )
    if bootstrap:  # the walk started empty: the file stamps no revision
        return f"{seems}{_stamp_advice(rev, Path(bootstrap).name, version_table)}"
    parents = " and ".join(p for p in rev.down_revisions if p)
    if not parents:  # a base revision: the file holds what it needs, unstamped (mlflow's)
        return (
            f"{seems}Write those tables as they stood before {rid} to a SQL file (e.g."
            " `pg_dump --schema-only --no-owner` of a database `create_all()` made of them),"
            f" with no version table, and pass it as `--bootstrap-sql FILE` ({option}): the"
            " walk then starts from the database it builds, at base, and round-trips every"
            f" revision, {rid} included"
        )
    write = f"{seems}{_bootstrap_contents(rev, version_table)}"
    return (
        f"{write} Pass the file as `--bootstrap-sql FILE`"
        f" ({option}): the walk then starts from the database"
        f" it builds, takes {parents} and every revision before as applied, and round-trips"
        f" {rid} and the revisions after it"
    )


def _stamp_advice(rev: RevisionFile, name: str, version_table: tuple[str | None, str]) -> str:
    """What to add to a bootstrap file that stamps nothing, for a chain failing at ``rev``."""
    rid = rev.revision or ""
    empty = (
        f"{name} stamps no revision and the chain does not upgrade on the database it builds"
        f" (MP112), so the walk started from an empty database, where {rid}"
        " cannot run."
    )
    parents = [p for p in rev.down_revisions if p]
    if not parents:  # a base revision: stamp the file at it, with its work in it
        return (
            f"{empty} {rid} is a base revision: put the schema as it stood after {rid} in"
            f" {name} and end it with {_stamp_sql([rid], version_table)} Then the walk starts"
            f" from the database {name} builds, takes {rid} as applied, and round-trips the"
            f" revisions after it; to verify {rid} too, let it create those tables"
        )
    at = " and ".join(parents)
    return (
        f"{empty} Stamp {name} at the revision{'s' if len(parents) > 1 else ''} its schema"
        f" matches: end it with {_stamp_sql(parents, version_table)} Then the walk starts from the"
        f" database {name} builds, takes {at} and every revision before as applied, and"
        f" round-trips {rid} and the revisions after it"
    )


def _stamp_sql(revisions: list[str], version_table: tuple[str | None, str]) -> str:
    """The statements that stamp a database at ``revisions``, in the walk's version table."""
    name = _version_table_name(version_table)
    rows = ", ".join(f"('{r}')" for r in revisions)
    return (
        f"`CREATE TABLE {name} (version_num varchar(32) PRIMARY KEY);"
        f" INSERT INTO {name} VALUES {rows};`."
    )


# Types that come with an extension, which projects often create outside their migrations
# (an init script, a Docker image's entrypoint): pgvector's above all
_EXTENSION_TYPES = {
    "vector": "vector",
    "halfvec": "vector",
    "sparsevec": "vector",
    "hstore": "hstore",
    "citext": "citext",
    "ltree": "ltree",
    "cube": "cube",
    "geometry": "postgis",
    "geography": "postgis",
}


def extension_type_fix(failure: StepFailure, *, bootstrap: str | None, option: str) -> str | None:
    """For an upgrade that fails on a type an extension makes (letta's ``vector``, which
    its ``init.sql`` creates): what to put in the bootstrap file. None for other failures.

    >>> extension_type_fix(StepFailure("r1", "upgrade", 'type "vector" does not exist',
    ...     None, None, None), bootstrap=None, option="bootstrap-sql").split(",")[0]
    'type "vector" comes with the extension vector'
    """
    missing = missing_object(failure)
    if missing is None or missing[0] != "type":
        return None
    name = missing[1].rpartition(".")[2]
    extension = _EXTENSION_TYPES.get(name)
    if extension is None:
        return None
    where = (
        f"add `CREATE EXTENSION IF NOT EXISTS {extension};` to {Path(bootstrap).name}"
        if bootstrap
        else f"put `CREATE EXTENSION IF NOT EXISTS {extension};` in a SQL file and pass it as"
        f" `--bootstrap-sql FILE` ({option})"
    )
    return (
        f'type "{name}" comes with the extension {extension}, which no revision creates (the'
        f" project creates it outside its migrations): {where}; the walk then starts from"
        " the database the file builds"
    )


def _version_table_name(version_table: tuple[str | None, str]) -> str:
    """The version table, schema-qualified (``public`` when env.py names none): a
    ``pg_dump`` file empties the search_path, where an unqualified CREATE TABLE fails."""
    schema, table = version_table
    return f"{schema or 'public'}.{table}"


def _bootstrap_contents(rev: RevisionFile, version_table: tuple[str | None, str]) -> str:
    """What to write to a bootstrap file for a chain that fails at ``rev`` (not a base
    revision): the schema ``create_all()`` made when ``rev``'s parents were head, stamped
    at them."""
    parents = [p for p in rev.down_revisions if p]
    name = _version_table_name(version_table)
    at = " and ".join(parents)
    return (
        f"Write that schema as it stood at {at} to a SQL file: the tables `create_all()` made"
        f" when {at} {'was head' if len(parents) == 1 else 'were the heads'} (e.g. `pg_dump"
        f" --schema-only --no-owner --exclude-table={name}` of such a database), then"
        f" {_stamp_sql(parents, version_table)}"
    )


# The SQLSTATEs of an object that is not there: undefined_table, undefined_column,
# undefined_object, invalid_schema_name; the message names it (a StepFailure of a Python
# error, or of a driver that gives no SQLSTATE, has the message alone)
_UNDEFINED_STATES = frozenset({"42P01", "42703", "42704", "3F000"})
_UNDEFINED = re.compile(
    r'^(relation|table|view|sequence|index|type|schema|constraint|column) "([^"]+)"'
    r'(?: of relation "[^"]+")? does not exist'
)


# Column types of other databases a revision written for them renders, and the generic
# SQLAlchemy type that is the PostgreSQL type too
_FOREIGN_TYPES = {
    "blob": "sa.LargeBinary",
    "tinyblob": "sa.LargeBinary",
    "mediumblob": "sa.LargeBinary",
    "longblob": "sa.LargeBinary",
    "tinytext": "sa.Text",
    "mediumtext": "sa.Text",
    "longtext": "sa.Text",
    "tinyint": "sa.SmallInteger (or sa.Boolean)",
    "datetime": "sa.DateTime",
    "double": "sa.Float",
    "nvarchar": "sa.String",
}
_CANNOT_RENDER = re.compile(r"can't render element of type (\w+)")


def foreign_type_fix(failure: StepFailure) -> str | None:
    """The fix for a revision that renders a column type of another database (mlrun's
    ``sa.BLOB``: ``type "blob" does not exist``; its ``mysql.MEDIUMBLOB``: SQLAlchemy cannot
    render it for PostgreSQL), or None. Not a schema made outside the chain."""
    missing = missing_object(failure)
    if missing is not None and missing[0] == "type":
        name = missing[1]
    elif (match := _CANNOT_RENDER.search(failure.error)) is not None:
        name = match[1]
    else:
        return None
    generic = _FOREIGN_TYPES.get(name.lower())
    if generic is None:
        return None
    return (
        f"{name} is not a PostgreSQL type: the revision renders a type of another database"
        f" (SQLite, MySQL), as a chain written for it does; use {generic}, which SQLAlchemy"
        " renders for each database"
    )


def missing_object(failure: StepFailure) -> tuple[str, str] | None:
    """(kind, name) of the object PostgreSQL says does not exist, or None.

    >>> missing_object(StepFailure("r2", "upgrade", 'relation "users" does not exist',
    ...     None, None, None))
    ('relation', 'users')
    """
    if not failure.from_database or failure.timeout:
        return None
    if failure.sqlstate is not None and failure.sqlstate not in _UNDEFINED_STATES:
        return None
    match = _UNDEFINED.match(failure.error)
    return (match[1], match[2]) if match else None


def mentions(sql: str, name: str) -> bool:
    """Whether ``sql`` mentions the identifier ``name`` (quoted or not, any case)."""
    return re.search(rf'(?<![\w$])"?{re.escape(name)}"?(?![\w$])', sql, re.IGNORECASE) is not None


_NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '(?P<name>[^']+)'")


_UNEXPECTED_ARGUMENT = re.compile(
    r"TypeError: (?P<function>upgrade|downgrade)\(\) got an unexpected keyword argument "
    r"'(?P<argument>\w+)'"
)


def signature_fix(error: str) -> str | None:
    """The hint for a revision whose ``upgrade()`` or ``downgrade()`` does not take what
    env.py passes to ``context.run_migrations(...)``: Alembic hands those keyword arguments
    to every revision's functions. None for any other error."""
    match = _UNEXPECTED_ARGUMENT.match(error)
    if match is None:
        return None
    function, argument = match["function"], match["argument"]
    return (
        f"env.py passes {argument} to context.run_migrations(), and Alembic passes it on to"
        f" every revision's upgrade() and downgrade(): give this one the parameter, def"
        f" {function}({argument}=...), as the others have it"
    )


def import_fix(error: str) -> str | None:
    """The hint for env.py or a revision that imports a module this Python cannot find (the
    application's package, a driver): migproof runs the project's code in its own process,
    so it must be installed where the project's dependencies are. ``error`` is Python's
    ``ModuleNotFoundError: No module named '…'``; None for any other error."""
    match = _NO_MODULE.match(error)
    if match is None:
        return None
    name = match["name"]
    top = name.split(".")[0]
    if top != name and _importable(top):  # the package is there, a part of it is not
        return (
            f"{top} is installed here but has no {name}: the installed version lacks it (a"
            f" compiled part not built for Python {sys.version_info[0]}.{sys.version_info[1]},"
            " or a version of the package older or newer than the project's): install the"
            " version the project pins, for this Python"
        )
    return (
        f"the Python running migproof cannot import {top!r}: install migproof in the project's "
        "virtualenv (or install the project and its dependencies, e.g. `pip install -e .`, "
        "where migproof is), then run it again"
    )


def _importable(module: str) -> bool:
    """Whether a top-level module can be found here (nothing is imported)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
