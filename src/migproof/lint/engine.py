"""Parse once, walk once: every enabled rule over every migration, suppressions applied.

``lint_sources`` takes migrations in the order they run. What earlier ones create exists
(in production) when later ones run, so a table is "new" only inside the migration that
creates it; what the setup SQL creates exists from the start.
"""

from __future__ import annotations

import bisect
import dataclasses
import enum
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from migproof.checks import CheckInfo, find_check, register_check, resolve_check
from migproof.config import Config
from migproof.errors import SourceError
from migproof.findings import Finding, Location, Severity
from migproof.lint.context import (
    AddedForeignKey,
    LintSettings,
    LockEvent,
    MigrationContext,
    MigrationState,
    StatementContext,
    _Where,
)
from migproof.lint.effects import strong_lock_targets
from migproof.lint.parallel import lint_split, worth_splitting
from migproof.lint.pgsql import (
    PARSER_MAJOR,
    Deferred,
    SqlSyntaxError,
    Statement,
    ast,
    child_slots,
    comments,
    enums,
    parse_migration,
    parse_nodes,
    parse_statements,
    unvalidated_nodes,
)
from migproof.lint.registry import Rule, all_rules
from migproof.lint.revisions import RevisionFile, read_revision
from migproof.lint.rules.integrity import unindexed_foreign_keys
from migproof.lint.schema import Schema, created_type, qualified, qualified_list
from migproof.lint.source import SqlSource
from migproof.memory import cyclic_gc_paused
from migproof.suppress import (
    PythonSuppressions,
    Suppression,
    parse_python_suppressions,
    parse_sql_suppressions,
    read_python_suppressions,
)

__all__ = ["Linter", "enabled_codes", "lint_revision_files", "lint_sources", "settings_from"]

SYNTAX_ERROR = register_check(
    CheckInfo(
        code="MP901",
        name="syntax-error",
        summary="SQL (or a revision's Python) that does not parse",
        severity=Severity.ERROR,
        family="lint: meta",
        aliases=(),
        docs="""## What it does
Reports a migration that PostgreSQL's own parser (or Python's, for a revision file) rejects,
with the parser's message and the line and column where it stopped.

## Why is this bad?
The migration fails the moment it runs, possibly halfway through a deploy. No other rule can
look at a file that does not parse, so nothing else is reported for it.

## How to fix
Correct the SQL at the reported position; `psql -f file.sql` against a scratch database
shows the same message.

## PostgreSQL versions
migproof parses with the grammar of the PostgreSQL release pglast embeds (18 with pglast 8):
syntax a later release adds is reported here until pglast follows, and syntax an older
target does not have yet is left to `migproof verify` to reject.""",
    )
)
UNKNOWN_SUPPRESSION = register_check(
    CheckInfo(
        code="MP902",
        name="unknown-suppression",
        summary="a suppression comment names a rule that does not exist",
        severity=Severity.WARNING,
        family="lint: meta",
        docs="""## What it does
Reports `-- migproof: ignore CODE` (or `ignore-file`) naming a code, name or squawk name
that no rule has.

## Why is this bad?
A typo in a suppression suppresses nothing: the hazard it was meant to acknowledge is
reported anyway, or, worse, the reader believes a rule was considered when it was not.

## How to fix
Use a code, name or squawk name from `migproof rules`, or remove the comment.

## PostgreSQL versions
Not version specific.""",
    )
)
UNUSED_SUPPRESSION = register_check(
    CheckInfo(
        code="MP903",
        name="unused-suppression",
        summary="a suppression comment matches no finding",
        severity=Severity.WARNING,
        family="lint: meta",
        aliases=("unused-ignore",),
        docs="""## What it does
Reports a suppression comment whose rule reported nothing on the statement (or file) it
covers.

## Why is this bad?
Stale suppressions hide the next real finding on that statement and mislead reviewers
about what was considered.

## How to fix
Remove the comment, or move it to the line above the statement it was meant for.

## PostgreSQL versions
Not version specific.""",
    )
)
META_CODES = frozenset({SYNTAX_ERROR.code, UNKNOWN_SUPPRESSION.code, UNUSED_SUPPRESSION.code})

TS = enums.TransactionStmtKind
CT = enums.ConstrType
AT = enums.AlterTableType

# Rules look at statements and at the parts of DDL statements below; the walk descends only
# into these containers (expressions, queries and VALUES lists are never walked).
NESTED = frozenset({ast.AlterTableCmd, ast.ColumnDef, ast.Constraint, ast.PartitionCmd})
_CONTAINERS = frozenset(
    {
        ast.CreateStmt,
        ast.AlterTableStmt,
        ast.AlterTableCmd,
        ast.ColumnDef,
        ast.AlterDomainStmt,
        ast.CreateDomainStmt,
        ast.CompositeTypeStmt,
    }
)


FK_WITHOUT_INDEX = "MP502"
# A statement rule ready to call: its function, code and severity.
_Bound = tuple[Callable[..., Iterator[Finding]], str, Severity]
# The rules of a node class, or of one kind of it: (class, kind) for the classes below.
_Key = type | tuple[type, Any]
# Classes whose nodes are dispatched by kind (a rule's ``kinds``): the field and its enum.
_KINDS: dict[type, tuple[str, type[enum.Enum]]] = {
    ast.Constraint: ("contype", CT),
    ast.AlterTableCmd: ("subtype", AT),
}
_DATA_NODES = frozenset({ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.SelectStmt})


# Deferring data statements (``parse_migration``) costs a second pass of the parser: it pays
# for large seed data only. Smaller scripts are built whole; the rules that look at data
# statements report the same either way (``data_only_when_held``).
_DEFER_FROM = 16_384  # characters


def _parse(sql: str) -> list[Statement]:
    return parse_statements(sql) if len(sql) < _DEFER_FROM else parse_migration(sql)


def _walked_slots(cls: type, reached: frozenset[type] | set[type]) -> tuple[str, ...]:
    """The fields of a container the walk must look into: lists and untyped nodes, and
    fields typed as a class it visits (``ColumnDef.typeName``, a ``TypeName``, never is)."""
    declared = getattr(cls, "__slots__", {})
    names = {c.__name__ for c in reached}
    kept = []
    for slot in child_slots(cls):
        c_type = declared[slot].c_type
        if c_type in ("Node*", "List*") or c_type.rstrip("*") in names:
            kept.append(slot)
    return tuple(kept)


def _dispatch_keys(rule: Rule) -> list[_Key]:
    """Where a statement rule goes in the dispatch table: its classes, or their kinds."""
    keys: list[_Key] = []
    for cls in rule.nodes:
        if cls not in NESTED and not cls.__name__.endswith("Stmt"):
            raise ValueError(f"rule {rule.code}: the walk never reaches {cls.__name__}")
        kinds = _KINDS[cls][1] if cls in _KINDS else None
        if kinds is None:
            if rule.kinds is not None:
                raise ValueError(f"rule {rule.code}: {cls.__name__} nodes have no kinds")
            keys.append(cls)
            continue
        wanted = set(kinds) if rule.kinds is None else rule.kinds
        strangers = [k for k in wanted if not isinstance(k, kinds)]  # IntEnums compare as ints
        if strangers:
            raise ValueError(f"rule {rule.code}: kinds {strangers} are not {kinds.__name__}")
        keys.extend((cls, kind) for kind in kinds if kind in wanted)
    return keys


def settings_from(config: Config) -> LintSettings:
    lint = config.lint
    settings = LintSettings(
        protected_schemas=frozenset(lint.protected_schemas),
        assume_in_transaction=lint.assume_in_transaction,
        tracker_tables=frozenset(config.exclude_tables),
    )
    if lint.pg_version is not None:
        settings = dataclasses.replace(settings, pg_version=lint.pg_version)
    return settings


def enabled_codes(config: Config) -> frozenset[str]:
    """Lint codes that run: on by default, plus ``enable``, minus ``disable``."""
    codes = {r.code for r in all_rules() if r.info.enabled_by_default} | set(META_CODES)
    for name in config.lint.enable:
        codes.add(resolve_check(name, where="lint.enable").code)
    for name in config.lint.disable:
        codes.discard(resolve_check(name, where="lint.disable").code)
    return frozenset(codes)


class Linter:
    """Lints migrations in the order they run, carrying the schema from one to the next."""

    def __init__(self, config: Config, *, setup_sql: str | None = None) -> None:
        self.settings = settings_from(config)
        self.enabled = enabled_codes(config)
        rules = [r for r in all_rules() if r.code in self.enabled]
        self.statement_rules: dict[_Key, list[_Bound]] = {}
        self.down_rules: dict[_Key, list[_Bound]] = {}
        for rule in rules:
            if rule.kind != "statement":
                continue
            bound = (rule.check, rule.code, rule.info.severity)
            for key in _dispatch_keys(rule):
                self.statement_rules.setdefault(key, []).append(bound)
                if rule.in_downgrade:
                    self.down_rules.setdefault(key, []).append(bound)
        # the node classes the walk calls _visit on: those with rules, and the containers
        self._reached = _CONTAINERS | {
            k if isinstance(k, type) else k[0] for k in self.statement_rules
        }
        self._plans = {cls: _walked_slots(cls, self._reached) for cls in _CONTAINERS}
        # Data statements are built only when a rule could fire on them (``data_only_when_held``
        # rules need a transaction holding locks or new enum values; others need them always).
        self.data_always = any(
            set(rule.nodes) & _DATA_NODES and not rule.data_only_when_held
            for rule in rules
            if rule.kind == "statement"
        )
        self.migration_rules = [r for r in rules if r.kind == "migration"]
        self.revision_rules = [r for r in rules if r.kind == "revision"]
        self._sql_codes = frozenset(r.code for r in rules if r.kind != "revision")
        self.schema = Schema()
        # a revision file's suppressions, parsed once: (by line covered, file-level ones)
        self._python_suppressions: dict[Path, PythonSuppressions] = {}
        self._held: list[tuple[Finding, AddedForeignKey]] = []
        self._last: _Where | None = None
        if setup_sql:
            self._apply_setup(setup_sql)

    # -- one migration -------------------------------------------------------------------

    def lint(self, source: SqlSource) -> list[Finding]:
        """Every finding of one migration, suppressions applied.

        A foreign key without an index (MP502) is held until the next migration has run:
        adding the key in one file and the index CONCURRENTLY in the next is the safe way
        on a table with data. ``finish`` releases what the last migration left.
        """
        held, self._held = self._held, []
        findings = self._lint(source)
        released = [f for f, fk in held if not self._has_index(fk)]
        keys: dict[Finding, AddedForeignKey] | None = None
        kept = []
        for finding in findings:
            if finding.check != FK_WITHOUT_INDEX or self._last is None:
                kept.append(finding)
                continue
            if keys is None:
                keys = self._foreign_keys_of_findings(self._last, finding.severity)
            fk = keys.get(finding)
            if fk is None:
                kept.append(finding)
            else:
                self._held.append((finding, fk))
        return released + kept

    def finish(self) -> list[Finding]:
        """Findings still held after the last migration (see ``lint``)."""
        held, self._held = self._held, []
        return [f for f, fk in held if not self._has_index(fk)]

    def lint_all(self, sources: Sequence[SqlSource]) -> list[Finding]:
        """Every finding of ``sources`` in order, then those the last one left held."""
        findings: list[Finding] = []
        for source in sources:
            findings.extend(self.lint(source))
        findings.extend(self.finish())
        return findings

    def advance(self, source: SqlSource) -> None:
        """Carry the schema over one migration without linting it.

        Leaves the schema as ``lint(source)`` leaves it: only CREATE, ALTER and DROP
        statements change it, and a migration that does not parse changes nothing. Held
        findings are dropped: they belong to whoever lints the migrations before.
        """
        self._held = []
        self.schema.begin_migration()
        if source.setup_sql:
            self._apply_setup(source.setup_sql)
        try:
            if len(source.sql) < _DEFER_FROM:  # positions and text are not needed here
                nodes = parse_nodes(source.sql)
            else:
                nodes = [s.node for s in parse_migration(source.sql)]
        except SqlSyntaxError:
            return
        for node in nodes:
            if not isinstance(node, Deferred):  # data statements change no schema
                self.schema.apply(node, new=True)

    def handover(self, source: SqlSource) -> list[Finding]:
        """Advance over ``source`` and release what is held as ``lint(source)`` would.

        For a linter whose migrations end before ``source``, while another linter (started
        from ``advance``) lints ``source`` and what follows it.
        """
        held = self._held
        self.advance(source)
        return [f for f, fk in held if not self._has_index(fk)]

    @staticmethod
    def _foreign_keys_of_findings(
        where: _Where, severity: Severity
    ) -> dict[Finding, AddedForeignKey]:
        """The migration's MP502 findings (made again, equal to the rule's), each to its key."""
        where.code, where.severity = FK_WITHOUT_INDEX, severity
        return dict(unindexed_foreign_keys(MigrationContext(where, None)))

    def _has_index(self, fk: AddedForeignKey) -> bool:
        return self.schema.has_index_on(self.schema.current_name(fk.table), fk.columns)

    def _lint(self, source: SqlSource) -> list[Finding]:
        self.schema.begin_migration()
        if source.setup_sql:
            self._apply_setup(source.setup_sql)
        state = MigrationState(schema=self.schema)
        where = _Where(source=source, settings=self.settings, state=state)
        self._last = where
        raw: list[Finding] = []
        try:
            statements = _parse(source.sql)
        except SqlSyntaxError as exc:
            origin = source.origin_before(exc.line)
            if origin is not None and origin.location is not None:  # a recorded statement
                return [self._syntax_finding(exc, None, 0, source.revision, origin.location)]
            return [self._syntax_finding(exc, source.path, source.line_offset, source.revision)]
        state.script = statements
        self._walk_up(statements, where, raw)
        down_statements = self._walk_down(source, raw)
        for rule in self.migration_rules:
            where.code, where.severity = rule.code, rule.info.severity
            raw.extend(rule.check(MigrationContext(where, down_statements)))
        return self._apply_suppressions(source, statements, down_statements, raw)

    def _apply_setup(self, sql: str) -> None:
        try:
            statements = _parse(sql)
        except SqlSyntaxError as exc:
            raise SourceError(
                f"the setup SQL (the schema before the migrations) does not parse: {exc}",
                fix="correct the setup SQL; it is applied before linting, never linted",
            ) from exc
        for statement in statements:
            if not isinstance(statement.node, Deferred):
                self.schema.apply(statement.node, new=False)

    def _syntax_finding(
        self,
        exc: SqlSyntaxError,
        path: Path | None,
        offset: int,
        revision: str | None,
        location: Location | None = None,
    ) -> Finding:
        if location is None and path is not None:
            location = Location(path=path, line=exc.line + offset, column=exc.column)
        message = f"PostgreSQL cannot parse this migration: {exc.message}"
        fix = "correct the SQL at this position; no other rule ran on this file"
        if self.settings.pg_version > PARSER_MAJOR:
            message += (
                f" (migproof parses with PostgreSQL {PARSER_MAJOR}'s grammar: syntax new in"
                f" PostgreSQL {self.settings.pg_version} is unknown to it)"
            )
            fix = (
                "if this is newer syntax, move it to a file of its own and exclude that file"
                " (lint.exclude); no other rule ran on this file"
            )
        return Finding(
            check=SYNTAX_ERROR.code,
            severity=SYNTAX_ERROR.severity,
            message=message,
            fix=fix,
            location=location,
            revision=revision,
        )

    def _walk_up(self, statements: list[Statement], where: _Where, out: list[Finding]) -> None:
        ctx = StatementContext(where)
        state, source = where.state, where.source
        # assume-in-transaction (Flyway): a runner runs a lone statement that cannot run in
        # a transaction (CREATE INDEX CONCURRENTLY) without one
        implicit = source.in_transaction or (
            self.settings.assume_in_transaction
            and not all(
                _runs_outside_transaction(s.node)
                for s in statements
                if not isinstance(s.node, ast.VariableSetStmt)
            )
        )
        if source.whole_file_query and len(statements) > 1:
            implicit = implicit or not any(
                isinstance(s.node, ast.TransactionStmt) for s in statements
            )
        for written in statements:
            statement = written
            origin = source.origin_of(statement.line) if source.origins else None
            in_txn = implicit
            if origin is not None and origin.in_transaction is not None:
                in_txn = origin.in_transaction
                if not in_txn:  # it ran outside one: the transaction before it has ended
                    state.end_transaction()  # (committed by the driver, no COMMIT recorded)
            ctx.in_transaction = state.explicit_transaction or in_txn
            if isinstance(statement.node, Deferred):
                locked = state.strong_locks or state.enum_values_added
                if not (
                    self.data_always
                    or (ctx.in_transaction and locked)
                    or _SET_CONFIG(statement.text)  # SELECT set_config('lock_timeout', ...)
                ):
                    state.statements.append(statement)  # no rule can fire on it
                    continue
                statement = dataclasses.replace(statement, node=statement.node.parse())
            ctx.statement = statement
            self._visit(statement.node, ctx, self.statement_rules, out)
            self._track(statement, ctx)
            self.schema.apply(statement.node, new=True)
            state.statements.append(statement)

    def _walk_down(self, source: SqlSource, out: list[Finding]) -> list[Statement] | None:
        if not source.down_sql:
            return None
        try:
            statements = _parse(source.down_sql)
        except SqlSyntaxError as exc:
            path = source.down_path or source.path
            out.append(self._syntax_finding(exc, path, source.down_line_offset, source.revision))
            return None
        where = _Where(source=source, settings=self.settings, state=MigrationState(schema=Schema()))
        ctx = StatementContext(where)
        ctx.down = True
        for statement in statements:
            if isinstance(statement.node, Deferred):
                continue  # downgrade rules look at DROP and TRUNCATE only
            ctx.statement = statement
            self._visit(statement.node, ctx, self.down_rules, out)
        return statements

    def _visit(
        self,
        node: Any,
        ctx: StatementContext,
        dispatch: dict[_Key, list[_Bound]],
        out: list[Finding],
    ) -> None:
        cls = type(node)
        kind = _KINDS.get(cls)
        rules = dispatch.get(cls if kind is None else (cls, getattr(node, kind[0])))
        if rules:
            where = ctx._where
            for check, code, severity in rules:
                where.code, where.severity = code, severity
                out.extend(check(node, ctx))
        slots = self._plans.get(cls)
        if slots is None:  # not a container
            return
        ctx.parents.append(node)
        reached = self._reached
        for slot in slots:
            value = getattr(node, slot, None)
            if type(value) in reached:
                self._visit(value, ctx, dispatch, out)
            elif isinstance(value, tuple):
                self._visit_many(value, ctx, dispatch, out)
        ctx.parents.pop()

    def _visit_many(
        self,
        values: tuple[Any, ...],
        ctx: StatementContext,
        dispatch: dict[_Key, list[_Bound]],
        out: list[Finding],
    ) -> None:
        reached = self._reached
        for item in values:
            if type(item) in reached:
                self._visit(item, ctx, dispatch, out)
            elif isinstance(item, tuple):
                self._visit_many(item, ctx, dispatch, out)

    # -- facts for later statements ------------------------------------------------------

    def _track(self, statement: Statement, ctx: StatementContext) -> None:
        node, state = statement.node, ctx.state
        if isinstance(node, ast.TransactionStmt):
            if node.kind in (TS.TRANS_STMT_BEGIN, TS.TRANS_STMT_START):
                state.explicit_transaction = True
            elif node.kind in (TS.TRANS_STMT_COMMIT, TS.TRANS_STMT_ROLLBACK):
                state.end_transaction()
            return
        if isinstance(node, ast.VariableSetStmt | ast.SelectStmt):
            for name, value, local in _settings_made(node):
                if ctx.in_transaction or not local:  # SET LOCAL outside one only warns
                    _set(state, name, value, local=local)
            if isinstance(node, ast.VariableSetStmt):
                return
        constraints = list(_constraints_in(node))
        referenced = [  # last first, the order the lock messages have always listed them in
            qualified(c.pktable)
            for _, c, _ in reversed(constraints)
            if c.contype == CT.CONSTR_FOREIGN and c.pktable is not None
        ]
        targets = [
            t
            for t in strong_lock_targets(node, self.schema, referenced)
            if not ctx.drops_nothing(t)
        ]
        state.lock_events.append(
            LockEvent(
                statement, tuple(targets), state.lock_timeout_set, state.statement_timeout_set
            )
        )
        if ctx.in_transaction:
            for table in targets:
                state.strong_locks.setdefault(table, statement)
                if table not in referenced:
                    state.own_locks.setdefault(table, statement)
        self._track_types(statement, ctx)
        for table, constraint, column in constraints:
            self._note_constraint(table, constraint, column, statement, ctx)

    def _track_types(self, statement: Statement, ctx: StatementContext) -> None:
        node, state = statement.node, ctx.state
        if isinstance(node, ast.AlterEnumStmt) and node.newVal and ctx.in_transaction:
            state.enum_values_added[node.newVal] = qualified_list(node.typeName or ())
        elif (name := created_type(node)) is not None and self.schema.types.get(name) is not False:
            # a name an earlier migration made is made again here only after the old type
            # was renamed away: alembic_postgresql_enum's swap (rename, create, convert,
            # drop the old), whose downgrade swaps back; the type is not new (MP503)
            state.types_created[name] = statement

    def _note_constraint(
        self,
        table: str,
        constraint: Any,
        column: str | None,
        statement: Statement,
        ctx: StatementContext,
    ) -> None:
        state = ctx.state
        if constraint.contype == CT.CONSTR_FOREIGN and constraint.pktable is not None:
            columns = tuple(n.sval for n in constraint.fk_attrs or ()) or (
                (column,) if column else ()
            )
            state.foreign_keys.append(
                AddedForeignKey(table, columns, qualified(constraint.pktable), statement)
            )
        if constraint.skip_validation and constraint.conname and ctx.in_transaction:
            state.not_valid_added.add((table, constraint.conname))

    # -- suppressions --------------------------------------------------------------------

    def _apply_suppressions(
        self,
        source: SqlSource,
        statements: list[Statement],
        down_statements: list[Statement] | None,
        raw: list[Finding],
    ) -> list[Finding]:
        sql_suppressions = _sql_suppressions(
            source.sql, statements, source.path, source.line_offset
        )
        if source.down_sql and down_statements is not None:
            sql_suppressions += _sql_suppressions(
                source.down_sql,
                down_statements,
                source.down_path or source.path,
                source.down_line_offset,
            )
        index = _SuppressionIndex(sql_suppressions)
        kept: list[Finding] = []
        for finding in raw:
            matched = index.match(finding)
            location = finding.location
            if matched is None and location is not None and location.path.suffix == ".py":
                matched = self._python_match(finding)
            if matched is None:
                kept.append(finding)
        kept.extend(self._suppression_findings(sql_suppressions, source.revision))
        if source.origins and source.path is not None and source.path.suffix == ".py":
            kept.extend(self._unused_in_revision(source.path, source.revision))
        return kept

    def _python_suppressions_of(self, path: Path) -> PythonSuppressions:
        """A Python file's suppressions (by line covered, file-level ones), read once."""
        parsed = self._python_suppressions.get(path)
        if parsed is None:
            parsed = self._python_suppressions[path] = read_python_suppressions(path)
        return parsed

    def _python_match(self, finding: Finding) -> Suppression | None:
        assert finding.location is not None
        path, line = finding.location.path, finding.location.line
        covered, file_level = self._python_suppressions_of(path)
        for suppression in covered.get(line or 0, []) + file_level:
            if suppression.covers(finding.check):
                suppression.used.add(finding.check)
                return suppression
        return None

    def _unused_in_revision(self, path: Path, revision: str | None) -> list[Finding]:
        """MP903 for a revision file's suppressions of SQL rules its recorded SQL never needed.

        Only the SQL rules' codes are judged here: revision rules' codes are judged (and unknown
        names reported) where revision files are linted.
        """
        covered, _ = self._python_suppressions_of(path)
        found: list[Finding] = []
        for suppression in (s for items in covered.values() for s in items):
            codes = tuple(
                c
                for c in suppression.codes
                if (info := find_check(c)) and info.code in self._sql_codes
            )
            if codes:
                location = Location(path=path, line=suppression.line, column=suppression.column)
                judged = dataclasses.replace(suppression, codes=codes)
                found.extend(self._problems_of(judged, location, revision))
        return found

    def _suppression_findings(
        self, suppressions: list[tuple[Suppression, Path | None, int]], revision: str | None
    ) -> list[Finding]:
        found: list[Finding] = []
        for suppression, path, offset in suppressions:
            location = (
                Location(path=path, line=suppression.line + offset, column=suppression.column)
                if path
                else None
            )
            found.extend(self._problems_of(suppression, location, revision))
        return found

    def _problems_of(
        self, suppression: Suppression, location: Location | None, revision: str | None
    ) -> list[Finding]:
        found: list[Finding] = []
        for code in suppression.codes:
            info = find_check(code)
            if info is None:
                if suppression.from_squawk:
                    continue  # a squawk rule migproof does not have: nothing to suppress
                if UNKNOWN_SUPPRESSION.code in self.enabled:
                    found.append(
                        Finding(
                            check=UNKNOWN_SUPPRESSION.code,
                            severity=UNKNOWN_SUPPRESSION.severity,
                            message=f"suppression names unknown rule {code!r}",
                            fix="use a code or name from `migproof rules`, or remove it",
                            location=location,
                            revision=revision,
                        )
                    )
                continue
            unused = info.code not in suppression.used and info.code in self.enabled
            if unused and UNUSED_SUPPRESSION.code in self.enabled and info.code not in META_CODES:
                scope = "file" if suppression.file_level else "statement below it"
                found.append(
                    Finding(
                        check=UNUSED_SUPPRESSION.code,
                        severity=UNUSED_SUPPRESSION.severity,
                        message=f"suppression of {info.code} ({info.name}) matches nothing"
                        f" on the {scope}",
                        fix="remove the suppression",
                        location=location,
                        revision=revision,
                    )
                )
        return found

    # -- Alembic revision files ----------------------------------------------------------

    def lint_revision(self, path: Path) -> list[Finding]:
        """Findings of the revision rules on one Alembic revision file."""
        try:
            revision = read_revision(path)
        except SyntaxError as exc:
            return [
                Finding(
                    check=SYNTAX_ERROR.code,
                    severity=SYNTAX_ERROR.severity,
                    message=f"Python cannot parse this revision file: {exc.msg}",
                    fix="correct the syntax at this position",
                    location=Location(path=path, line=exc.lineno, column=exc.offset),
                )
            ]
        # each revision rule writes its own code and severity into its findings
        raw = [finding for rule in self.revision_rules for finding in rule.check(revision)]
        return self._python_suppressed(revision, raw)

    def _python_suppressed(self, revision: RevisionFile, raw: list[Finding]) -> list[Finding]:
        covered = parse_python_suppressions(revision.lines)
        suppressions = [s for items in covered.values() for s in items]
        kept = []
        for finding in raw:
            line = finding.location.line if finding.location else None
            matched = None
            for suppression in suppressions:
                if (
                    suppression.file_level or suppression.statement_line == line
                ) and suppression.covers(finding.check):
                    suppression.used.add(finding.check)
                    matched = suppression
                    break
            if matched is None:
                kept.append(finding)
        revision_codes = {r.code for r in self.revision_rules}
        for suppression in suppressions:
            # other codes on a revision's op lines are for its recorded statements
            suppression.codes = tuple(
                c
                for c in suppression.codes
                if (info := find_check(c)) is None or info.code in revision_codes
            )
            location = Location(
                path=revision.path, line=suppression.line, column=suppression.column
            )
            kept.extend(self._problems_of(suppression, location, revision.revision))
        return kept


def _constraints_in(node: Any) -> Iterator[tuple[str, Any, str | None]]:
    """The constraints a CREATE TABLE or ALTER TABLE adds: (table, constraint, its column)."""
    if isinstance(node, ast.CreateStmt) and node.relation is not None:
        table = qualified(node.relation)
        for element in node.tableElts or ():
            for constraint, column in _constraints_of(element):
                yield table, constraint, column
    elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        table = qualified(node.relation)
        for cmd in node.cmds or ():
            if cmd.subtype in (AT.AT_AddColumn, AT.AT_AddConstraint):
                for constraint, column in _constraints_of(cmd.def_):
                    yield table, constraint, column


def _constraints_of(element: Any) -> Iterable[tuple[Any, str | None]]:
    if isinstance(element, ast.Constraint):
        yield element, None
    elif isinstance(element, ast.ColumnDef):
        for constraint in element.constraints or ():
            yield constraint, element.colname


_LEADING_NUMBER = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)")


def _runs_outside_transaction(node: Any) -> bool:
    """A statement PostgreSQL refuses in a transaction block: Flyway runs a migration of only
    such statements (and SETs) without one."""
    if isinstance(node, ast.IndexStmt | ast.DropStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(p.defname == "concurrently" for p in node.params or ())
    return isinstance(node, ast.VacuumStmt | ast.CreatedbStmt | ast.DropdbStmt)


_SET_CONFIG = re.compile(r"\bset_config\b", re.IGNORECASE).search
_BOOLEANS = {"true": True, "t": True, "on": True, "false": False, "f": False, "off": False}
_TRACKED_SETTINGS = frozenset({"lock_timeout", "statement_timeout", "timezone"})
# TimeZone values at offset 0 all year (PostgreSQL's tz database names for UTC)
_UTC_ZONES = frozenset(
    {"utc", "etc/utc", "uct", "etc/uct", "gmt", "etc/gmt", "zulu", "etc/zulu", "universal"}
    | {"etc/universal", "greenwich", "etc/greenwich", "gmt0", "etc/gmt0", "z", "0"}
)


def _set(state: MigrationState, name: str, value: bool, *, local: bool) -> None:
    """Record a setting the migration made (SET, SET LOCAL, RESET, set_config)."""
    if local:
        state.local_settings.add(name)
    if name == "lock_timeout":
        state.lock_timeout_set = value
    elif name == "statement_timeout":
        state.statement_timeout_set = value
    elif name == "timezone":
        state.timezone_utc = value


def _set_value(node: Any) -> bool:
    """Whether a SET sets what the migration needs: a timeout (not 0, DEFAULT or RESET), or
    the TimeZone UTC."""
    if node.kind != enums.VariableSetKind.VAR_SET_VALUE or not node.args:
        return False
    value = getattr(node.args[0], "val", None)
    if isinstance(value, ast.Integer):
        text = str(value.ival)
    elif isinstance(value, ast.Float):
        text = value.fval or ""
    elif isinstance(value, ast.String):
        text = value.sval or ""
    else:  # an expression: some timeout, no zone migproof can read
        return bool(node.name != "timezone")
    return _value_sets(node.name, text)


def _value_sets(setting: str, text: str) -> bool:
    """Whether ``setting`` set to ``text`` (a SET's or set_config's value) does it."""
    if setting == "timezone":
        return text.strip().lower() in _UTC_ZONES
    number = _LEADING_NUMBER.match(text)
    return float(number[1]) != 0 if number else text.strip() != ""


def _settings_made(node: Any) -> Iterator[tuple[str, bool, bool]]:
    """(setting, whether it is set, is_local) of what a SET, RESET ALL or a SELECT of
    ``set_config('lock_timeout', '2s', false)`` (constant arguments) does to the settings
    migproof tracks."""
    if isinstance(node, ast.VariableSetStmt):
        if node.kind == enums.VariableSetKind.VAR_RESET_ALL:
            yield from ((name, False, False) for name in _TRACKED_SETTINGS)
        elif node.name in _TRACKED_SETTINGS:
            yield node.name, _set_value(node), bool(node.is_local)
        return
    for target in node.targetList or ():
        call = getattr(target, "val", None)
        if not isinstance(call, ast.FuncCall) or len(call.args or ()) != 3:
            continue
        if [n.sval for n in call.funcname or ()][-1:] != ["set_config"]:
            continue
        name, value, local = (getattr(a, "val", None) for a in call.args or ())
        setting = (name.sval or "").lower() if isinstance(name, ast.String) else ""
        if setting not in _TRACKED_SETTINGS or not isinstance(value, ast.String):
            continue
        if isinstance(local, ast.Boolean):
            is_local = bool(local.boolval)
        elif isinstance(local, ast.String) and (local.sval or "").lower() in _BOOLEANS:
            is_local = _BOOLEANS[(local.sval or "").lower()]
        else:
            continue
        yield setting, _value_sets(setting, value.sval or ""), is_local


def _sql_suppressions(
    sql: str, statements: list[Statement], path: Path | None, offset: int
) -> list[tuple[Suppression, Path | None, int]]:
    if "migproof:" not in sql and "squawk-" not in sql:
        return []
    found = parse_sql_suppressions(comments(sql))
    ends = [statement.end_line for statement in statements]  # in order: never decreasing
    for suppression in found:
        if suppression.file_level:
            continue
        at = bisect.bisect_left(ends, suppression.line)  # the first statement ending below it
        if at < len(statements):
            suppression.statement_line = statements[at].line + offset
    return [(s, path, offset) for s in found]


class _SuppressionIndex:
    """A migration's SQL suppressions by (file, statement line), and its file-level ones."""

    def __init__(self, suppressions: list[tuple[Suppression, Path | None, int]]) -> None:
        # (position in the list, suppression): the first written wins, as in a scan
        self._at: dict[tuple[Path | None, int | None], list[tuple[int, Suppression]]] = {}
        self._files: dict[Path | None, list[tuple[int, Suppression]]] = {}
        for position, (suppression, path, _) in enumerate(suppressions):
            if suppression.file_level:
                self._files.setdefault(path, []).append((position, suppression))
            else:
                key = (path, suppression.statement_line)
                self._at.setdefault(key, []).append((position, suppression))

    def match(self, finding: Finding) -> Suppression | None:
        """The first suppression covering the finding, marked used; None when none does."""
        location = finding.location
        if location is None or finding.check == SYNTAX_ERROR.code:
            return None
        candidates = self._at.get((location.path, location.line), []) + self._files.get(
            location.path, []
        )
        for _, suppression in sorted(candidates, key=lambda item: item[0]):
            if suppression.covers(finding.check):
                suppression.used.add(finding.check)
                return suppression
        return None


def lint_sources(sources: Sequence[SqlSource], config: Config) -> list[Finding]:
    """Lint migrations in the order they run; findings in that order.

    >>> sql = "CREATE INDEX orders_idx ON orders (customer_id);"
    >>> [f.check for f in lint_sources([SqlSource(sql, Path("0001.sql"))], Config())]
    ['MP201', 'MP210']
    """
    # The linter and its schema are gone before the collector runs again: it would walk them.
    with unvalidated_nodes(), cyclic_gc_paused():
        linter = Linter(config)
        if worth_splitting(sources):
            return lint_split(sources, linter)
        return linter.lint_all(sources)


def lint_revision_files(paths: Sequence[Path], config: Config) -> list[Finding]:
    """Revision rules (revision id length, own connections) over Alembic revision files."""
    linter = Linter(config)
    findings: list[Finding] = []
    for path in paths:
        findings.extend(linter.lint_revision(path))
    return findings
