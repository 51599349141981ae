"""The lock facts and per-revision summaries built from recorded statements (no database)."""

from __future__ import annotations

from pathlib import Path

from migproof.chain.capture import RecordedStatement
from migproof.chain.record import RevisionRun
from migproof.lint.recorded import _source, lock_summary
from migproof.lint.source import StatementFacts


def _statement(locks: list[tuple[str, str]], **fields: object) -> RecordedStatement:
    return RecordedStatement(
        revision="r2",
        direction="upgrade",
        sql="ALTER TABLE orders ADD COLUMN note text",
        duration_ms=10.0,
        path=None,
        line=None,
        locks=tuple(locks),
        preexisting=("public.orders", "public.users"),
        **fields,  # type: ignore[arg-type]
    )


def test_summary_keeps_the_strongest_blocking_lock_per_existing_relation() -> None:
    first = _statement(
        [
            ("public.orders", "AccessShareLock"),
            ("public.orders", "ShareLock"),
            ("public.users", "RowExclusiveLock"),  # blocks nobody's writes: left out
            ("public.new_table", "AccessExclusiveLock"),  # created here: left out
        ]
    )
    second = _statement([("public.orders", "AccessExclusiveLock")], rewritten=("public.orders",))
    run = RevisionRun("r2", Path("r2.py"), upgrade=[first, second])
    run.held_seconds[id(first)] = 2.0
    assert lock_summary(run) == [
        "blocks reads and writes on public.orders for 2.00 s (ACCESS EXCLUSIVE, table rewrite)"
    ]
    assert lock_summary(RevisionRun("r2", Path("r2.py"), upgrade=[first])) == [
        "blocks writes on public.orders for 0.01 s (SHARE)"
    ]


def test_facts_of_a_statement_under_serializable_rank_predicate_locks_lowest() -> None:
    recorded = _statement(
        [
            ("public.orders", "SIReadLock"),
            ("public.orders", "AccessShareLock"),
            ("public.users", "SIReadLock"),
        ]
    )
    run = RevisionRun("r2", Path("r2.py"), upgrade=[recorded])
    (origin,) = _source(run).origins
    assert origin.facts is not None
    assert origin.facts.locks == (("public.orders", "ACCESS SHARE"), ("public.users", "SIReadLock"))
    assert origin.facts.seconds == 0.01
    assert lock_summary(run) == []


def test_facts_keep_the_strongest_lock_held_before_with_the_line_that_took_it() -> None:
    recorded = _statement(
        [],
        held=(
            ("public.orders", "AccessExclusiveLock", 12),
            ("public.orders", "AccessShareLock", 10),
            ("public.users", "RowExclusiveLock", None),
        ),
    )
    (origin,) = _source(RevisionRun("r2", Path("r2.py"), upgrade=[recorded])).origins
    assert origin.facts is not None
    assert origin.facts.held == (
        ("public.orders", "ACCESS EXCLUSIVE", 12),
        ("public.users", "ROW EXCLUSIVE", None),
    )


def test_describe_shows_a_held_lock_only_on_the_relations_the_statement_names() -> None:
    facts = StatementFacts(
        locks=(("public.orders", "SHARE"), ("public.orders_pkey", "ACCESS EXCLUSIVE")),
        held=(("public.orders", "ACCESS EXCLUSIVE", 12), ("public.users", "ROW EXCLUSIVE", None)),
        seconds=0.5,
    )
    assert facts.describe(["orders"]) == (
        "ACCESS EXCLUSIVE on public.orders (held since line 12),"
        " ACCESS EXCLUSIVE on public.orders_pkey for 0.50 s"
    )
    assert facts.describe(["public.users"]) == (
        "SHARE on public.orders, ACCESS EXCLUSIVE on public.orders_pkey,"
        " ROW EXCLUSIVE on public.users (held since before the revision's statements) for 0.50 s"
    )
    assert facts.describe(["app.orders"]) == (
        "SHARE on public.orders, ACCESS EXCLUSIVE on public.orders_pkey for 0.50 s"
    )
    # a weaker lock held before what the statement took adds nothing
    weaker = StatementFacts(
        locks=(("public.orders", "ACCESS EXCLUSIVE"),), held=(("public.orders", "SHARE", 3),)
    )
    assert weaker.describe(["orders"]) == "ACCESS EXCLUSIVE on public.orders"
    assert StatementFacts(held=(("public.orders", "ACCESS EXCLUSIVE", 12),)).describe() == (
        "no relation locks"
    )
