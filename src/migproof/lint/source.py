"""What the linter reads: one migration's SQL, from a file or recorded while a revision ran."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migproof.findings import Location

__all__ = ["RecordedStatement", "SqlSource", "StatementFacts", "StatementOrigin"]


@dataclass(frozen=True, slots=True)
class StatementFacts:
    """What the sandbox saw while a recorded statement ran (MISSION.md section 4).

    ``locks``: (relation, lock mode) pairs its backend held, from pg_locks; ``rewritten``:
    relations whose relfilenode changed; ``seconds``: how long it ran. Rules use them to
    confirm or clear a static suspicion (a type change that did not rewrite is not reported).
    """

    locks: tuple[tuple[str, str], ...] = ()
    rewritten: tuple[str, ...] = ()
    seconds: float | None = None

    def describe(self) -> str:
        """``ACCESS EXCLUSIVE on public.orders for 1.20 s, rewrote public.orders``."""
        parts = [f"{mode} on {relation}" for relation, mode in self.locks]
        text = ", ".join(parts) or "no relation locks"
        if self.seconds is not None:
            text += f" for {self.seconds:.2f} s"
        if self.rewritten:
            text += f", rewrote {', '.join(self.rewritten)}"
        return text


@dataclass(frozen=True, slots=True)
class StatementOrigin:
    """Where a statement that starts on ``line`` of ``SqlSource.sql`` really came from.

    For a statement recorded while an Alembic revision ran: the revision file and the line
    of the ``op.`` call that emitted it; ``in_transaction`` says whether it ran inside the
    migration's transaction (False inside ``autocommit_block()``).
    """

    line: int
    location: Location | None = None
    in_transaction: bool | None = None
    facts: StatementFacts | None = None


@dataclass(frozen=True, slots=True)
class RecordedStatement:
    """One statement as a revision ran it, for ``SqlSource.from_statements``."""

    sql: str
    location: Location | None = None
    in_transaction: bool | None = None
    facts: StatementFacts | None = None


@dataclass(frozen=True, slots=True)
class SqlSource:
    """One migration's SQL: a file, or the statements one Alembic revision ran, joined.

    ``line_offset`` is added to every line (SQL cut out of a bigger file); ``setup_sql`` is
    the schema before the migration (its tables exist, so locking rules apply to them).
    ``down_sql`` is the migration's downgrade, read by the rules that compare the two.
    ``in_transaction`` says the runner wraps the whole migration in one transaction
    (Alembic, goose and dbmate do). ``whole_file_query`` says it sends the file as one query
    (golang-migrate): PostgreSQL then runs a file of several statements, with no BEGIN or
    COMMIT of its own, as one implicit transaction.
    """

    sql: str
    path: Path | None
    revision: str | None = None
    line_offset: int = 0
    setup_sql: str | None = None
    down_sql: str | None = None
    down_path: Path | None = None
    down_line_offset: int = 0
    in_transaction: bool = False
    whole_file_query: bool = False
    origins: tuple[StatementOrigin, ...] = field(default=())
    _by_line: dict[int, StatementOrigin] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_line", {o.line: o for o in self.origins})

    @classmethod
    def from_statements(
        cls,
        statements: Sequence[RecordedStatement],
        *,
        path: Path | None,
        revision: str | None = None,
        setup_sql: str | None = None,
        down: Sequence[RecordedStatement] = (),
        in_transaction: bool = True,
    ) -> SqlSource:
        """Join recorded statements into one source that remembers where each came from.

        >>> s = SqlSource.from_statements([RecordedStatement("CREATE TABLE t (id int)")],
        ...                               path=Path("versions/a1_init.py"), revision="a1")
        >>> s.sql
        'CREATE TABLE t (id int);\\n'
        """
        sql, origins = _join(statements)
        down_sql, _ = _join(down) if down else ("", ())
        return cls(
            sql=sql,
            path=path,
            revision=revision,
            setup_sql=setup_sql,
            down_sql=down_sql or None,
            down_path=path,
            in_transaction=in_transaction,
            origins=origins,
        )

    def origin_of(self, line: int) -> StatementOrigin | None:
        """The origin recorded for the statement starting on ``line`` (before the offset)."""
        return self._by_line.get(line)

    def origin_before(self, line: int) -> StatementOrigin | None:
        """The origin of the last statement starting on or before ``line``."""
        candidates = [o for o in self.origins if o.line <= line]
        return max(candidates, key=lambda o: o.line) if candidates else None


def _join(statements: Sequence[RecordedStatement]) -> tuple[str, tuple[StatementOrigin, ...]]:
    parts: list[str] = []
    origins: list[StatementOrigin] = []
    line = 1
    for statement in statements:
        text = statement.sql.strip().rstrip(";").rstrip()
        origins.append(
            StatementOrigin(line, statement.location, statement.in_transaction, statement.facts)
        )
        # a trailing "-- comment" would swallow the semicolon: end the statement below it
        end = "\n;\n" if "--" in text.rsplit("\n", 1)[-1] else ";\n"
        parts.append(text + end)
        line += text.count("\n") + end.count("\n")
    return "".join(parts), tuple(origins)
