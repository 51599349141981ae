"""MP509-MP510: Alembic revision files, read as Python syntax trees (never imported)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from migproof.findings import Finding, Location, Severity
from migproof.lint.registry import revision_rule
from migproof.lint.revisions import RevisionFile

_VERSION_NUM_LENGTH = 32  # alembic_version.version_num is varchar(32)

_ENGINE_MAKERS = frozenset({"create_engine", "create_async_engine"})
# what an engine answers without connecting
_HARMLESS = frozenset({"dialect", "url", "name", "driver", "dispose"})


def _engine_used(call: ast.Call, parents: dict[ast.AST, ast.AST], tree: ast.Module) -> bool:
    """Whether the engine ``call`` makes is used for more than its dialect or URL: kept in
    a name that is used otherwise, or used on the spot (``create_engine(url).connect()``)."""
    parent = parents.get(call)
    if isinstance(parent, ast.Attribute):
        return parent.attr not in _HARMLESS
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1):
        return True
    target = parent.targets[0]
    if not isinstance(target, ast.Name):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == target.id and isinstance(node.ctx, ast.Load):
            use = parents.get(node)
            if not (isinstance(use, ast.Attribute) and use.attr in _HARMLESS):
                return True
    return False


_CONNECTORS = frozenset(
    {
        "psycopg.connect",
        "psycopg.Connection.connect",
        "psycopg.AsyncConnection.connect",
        "psycopg2.connect",
        "asyncpg.connect",
        "asyncpg.create_pool",
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "pg8000.connect",
        "pg8000.native.Connection",
    }
)


@revision_rule(
    "MP509",
    "revision-id-exceeds-version-num",
    severity=Severity.ERROR,
    summary="an Alembic revision id longer than alembic_version.version_num (32)",
)
def revision_id_exceeds_version_num(revision: RevisionFile) -> Iterator[Finding]:
    """
    ## What it does
    Flags a revision file whose `revision = "..."` is longer than 32 characters.

    ## Why is this bad?
    Alembic stores the current revision in `alembic_version.version_num`, a
    `varchar(32)`: the upgrade runs, then stamping the id fails with "value too long for
    type character varying(32)", leaving the schema changed and the version unrecorded.

    ## How to fix
    Shorten the id (and every `down_revision` that names it) to 32 characters or fewer.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `alembic revision --rev-id` lets you choose a short id; descriptive text belongs in the
    file name and message.
    """
    rev = revision.revision
    if rev is not None and len(rev) > _VERSION_NUM_LENGTH:
        yield Finding(
            check="MP509",
            severity=Severity.ERROR,
            message=f"revision id {rev!r} is {len(rev)} characters: alembic_version.version_num"
            f" holds {_VERSION_NUM_LENGTH}, so stamping it fails after the upgrade ran",
            fix=f"shorten it to {_VERSION_NUM_LENGTH} characters or fewer (and every"
            " down_revision naming it)",
            location=Location(path=revision.path, line=revision.revision_line),
            revision=rev,
        )


@revision_rule(
    "MP510",
    "revision-opens-connection",
    severity=Severity.ERROR,
    summary="a revision that opens its own database connection",
)
def revision_opens_connection(revision: RevisionFile) -> Iterator[Finding]:
    """
    ## What it does
    Flags calls in a revision file that open a database connection of their own:
    `psycopg.connect`, `psycopg2.connect`, `asyncpg.connect`, `create_engine`,
    `create_async_engine`, however they were imported. An engine that is only asked for its
    `dialect` or `url` (which connects nowhere) is not reported.

    ## Why is this bad?
    The statements run outside Alembic's connection: outside its transaction (a failure
    leaves them applied while the revision is rolled back), invisible to `--sql` offline
    mode, against whatever URL the file finds (not necessarily the database being
    migrated), and blocked by the locks the revision itself holds.

    ## How to fix
    Use `op.get_bind()` / `op.execute(...)`; for statements that cannot run in a
    transaction (CREATE INDEX CONCURRENTLY), use `with op.get_context().autocommit_block():`.

    ## PostgreSQL versions
    All supported versions.

    ## With Alembic
    `autocommit_block()` exists since Alembic 1.2.
    """
    imported = revision.imported_names()
    parents: dict[ast.AST, ast.AST] | None = None
    for name, call in revision.calls():
        head, _, rest = name.partition(".")
        resolved = imported.get(head, head) + (f".{rest}" if rest else "")
        if resolved in _CONNECTORS or (not rest and resolved in {"create_engine"}):
            if resolved.rpartition(".")[2] in _ENGINE_MAKERS:
                parents = parents or {
                    c: n for n in ast.walk(revision.tree) for c in ast.iter_child_nodes(n)
                }
                if not _engine_used(call, parents, revision.tree):
                    continue  # an engine only asked for its dialect or URL connects nowhere
            yield Finding(
                check="MP510",
                severity=Severity.ERROR,
                message=f"{name}() opens a connection of its own, outside Alembic's transaction"
                " and offline mode",
                fix="use op.get_bind() or op.execute(), and autocommit_block() for statements"
                " that cannot run in a transaction",
                location=Location(path=revision.path, line=call.lineno, column=call.col_offset + 1),
                revision=revision.revision,
            )
