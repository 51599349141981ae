"""What the linter reads: one migration's SQL, from a file or recorded while a revision ran."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migproof.findings import Location

__all__ = [
    "LOCK_STRENGTH",
    "RecordedStatement",
    "SqlSource",
    "StatementFacts",
    "StatementOrigin",
    "lock_rank",
]

# PostgreSQL's table lock modes in the order its documentation lists them, weakest first
# (how many modes each conflicts with; SHARE and SHARE UPDATE EXCLUSIVE are not nested).
LOCK_STRENGTH = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
_RANK = {mode: rank for rank, mode in enumerate(LOCK_STRENGTH)}


def lock_rank(mode: str) -> int:
    """A lock mode's place in ``LOCK_STRENGTH``; other modes (SIReadLock) rank below all."""
    return _RANK.get(mode, -1)


@dataclass(frozen=True, slots=True)
class StatementFacts:
    """What the sandbox saw while a recorded statement ran (MISSION.md section 4).

    ``locks``: (relation, lock mode) for the strongest lock its backend newly took on each
    relation, from pg_locks; ``held``: (relation, mode, line) for the strongest lock its
    transaction already held on each relation when it began, with the line of the
    statement that took it (None: before the first), as pg_locks shows a lock once however
    many statements take it. One entry per relation in both. ``rewritten``: relations
    whose relfilenode changed; ``seconds``: how long it ran. Rules use them to confirm or
    clear a static suspicion (a type change that did not rewrite is not reported).
    """

    locks: tuple[tuple[str, str], ...] = ()
    rewritten: tuple[str, ...] = ()
    seconds: float | None = None
    held: tuple[tuple[str, str, int | None], ...] = ()

    def describe(self, named: Collection[str] = ()) -> str:
        """``ACCESS EXCLUSIVE on public.orders for 1.20 s, rewrote public.orders``.

        ``named``: the relations the statement names (``schema.name``, or a bare name for
        any schema). A lock held since an earlier statement is shown on those, when it is
        stronger than what the statement newly took there: the statement runs under it,
        though pg_locks saw nothing new. A relation reached only through a function the
        statement calls is not named, so such a lock is not shown.

        >>> StatementFacts(held=(("public.orders", "ACCESS EXCLUSIVE", 12),)).describe(
        ...     ["public.orders"])
        'ACCESS EXCLUSIVE on public.orders (held since line 12)'
        >>> StatementFacts(held=(("public.orders", "ACCESS EXCLUSIVE", 12),)).describe()
        'no relation locks'
        """
        taken = {relation: lock_rank(mode) for relation, mode in self.locks}
        stronger_held: dict[str, str] = {}  # relation -> how the lock held on it reads
        for relation, mode, line in self.held:
            if lock_rank(mode) > taken.get(relation, -1) and _is_named(relation, named):
                since = f"line {line}" if line is not None else "before the revision's statements"
                stronger_held[relation] = f"{mode} on {relation} (held since {since})"
        # a weaker lock newly taken where a stronger one is held reads as the held one
        parts = [
            stronger_held.get(relation, f"{mode} on {relation}") for relation, mode in self.locks
        ]
        parts.extend(text for relation, text in stronger_held.items() if relation not in taken)
        text = ", ".join(parts) or "no relation locks"
        if self.seconds is not None and parts:  # how long nothing was held says nothing
            text += f" for {self.seconds:.2f} s"
        if self.rewritten:
            text += f", rewrote {', '.join(self.rewritten)}"
        return text


def _is_named(relation: str, named: Collection[str]) -> bool:
    """``public.orders`` is named by ``public.orders``, or by ``orders`` alone."""
    return relation in named or relation.rpartition(".")[2] in named


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
