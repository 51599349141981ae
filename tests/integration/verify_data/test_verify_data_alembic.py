"""RowTracker driven the way verify's walk drives it, over real Alembic revisions.

``walk`` below is the reference for wiring data preservation into the walk: one scratch
database, one env.py run, per revision upgrade, snapshot, downgrade, upgrade, snapshot.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.helpers.alembic_projects import Revision, line_of, write_project

from migproof.catalog import SnapshotFilter, take_snapshot
from migproof.chain.project import load_project
from migproof.chain.stepper import Stepper, mark_scratch
from migproof.config import load_config
from migproof.findings import Finding, Location
from migproof.sandbox import Sandbox
from migproof.verify.data import RowTracker

ORDERS = Revision(
    id="r1",
    down=None,
    upgrade="""
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("total", sa.Numeric(10, 2), nullable=False),
        sa.Column("status", sa.Enum("new", "paid", name="order_status"), nullable=False),
        sa.Column("tags", sa.ARRAY(sa.Text)),
        sa.Column("extra", sa.dialects.postgresql.JSONB),
    )
    """,
    downgrade='op.drop_table("orders")\nsa.Enum(name="order_status").drop(op.get_bind())',
)
ITEMS = Revision(
    id="r2",
    down="r1",
    upgrade="""
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("items.id")),
        sa.Column("qty", sa.Integer, sa.CheckConstraint("qty > 0"), nullable=False),
    )
    """,
    downgrade='op.drop_table("items")',
)
# r3's downgrade rebuilds items (drop, then r2's create_table): its rows are lost
REBUILD_ITEMS = Revision(
    id="r3",
    down="r2",
    upgrade='op.alter_column("items", "qty", type_=sa.BigInteger)',
    downgrade='op.drop_table("items")\n' + textwrap.dedent(ITEMS.upgrade).strip(),
)


def walk(pg: Sandbox, root: Path) -> tuple[list[Finding], list[tuple[str, str]]]:
    config = load_config(root)
    project = load_project(config, root)
    project.script_directory()
    revisions = {r.revision: r for r in project.graph.topological_order() if r.revision}
    filters = SnapshotFilter(exclude_tables=("alembic_version",))
    db = pg.create_database()
    stepper = Stepper.on(project, config, pg, db, mark_scratch(pg, db, config))
    findings: list[Finding] = []
    conn: Any = pg.connect(db)
    tracker = RowTracker(conn)

    def steps() -> Iterator[Any]:
        before = take_snapshot(conn, filters)
        tracker.seed(before)
        for rid, rev in revisions.items():
            yield stepper.step(rid, up=True)
            after = take_snapshot(conn, filters)
            tracker.after_upgrade(after)
            yield stepper.step(rid, up=False)
            yield stepper.step(rid, up=True)
            now = take_snapshot(conn, filters)
            where = Location(path=rev.path, line=rev.downgrade_line)
            findings.extend(
                tracker.after_round_trip(now, before=before, revision=rid, location=where)
            )
            before = after

    try:
        with stepper.session():
            assert stepper.run_steps(steps()) is None
    finally:
        conn.close()
        pg.drop_database(db)
    return findings, tracker.take_skipped()


def summary(findings: list[Finding]) -> list[tuple[str, str | None, str, int | None]]:
    return [
        (
            f.check,
            f.revision,
            f.location.path.name if f.location else "",
            f.location.line if f.location else None,
        )
        for f in findings
    ]


def test_a_clean_chain_with_a_data_migration_keeps_every_row(pg: Sandbox, tmp_path: Path) -> None:
    upper = Revision(
        id="r3",
        down="r2",
        upgrade='op.add_column("orders", sa.Column("note", sa.Text))\n'
        'op.execute("UPDATE orders SET customer = upper(customer)")',
        downgrade='op.execute("UPDATE orders SET customer = lower(customer)")\n'
        'op.drop_column("orders", "note")',
    )
    findings, skipped = walk(pg, write_project(tmp_path, [ORDERS, ITEMS, upper]))
    assert summary(findings) == []
    assert skipped == []


def test_a_downgrade_that_rebuilds_the_table_loses_rows(pg: Sandbox, tmp_path: Path) -> None:
    root = write_project(tmp_path, [ORDERS, ITEMS, REBUILD_ITEMS])
    findings, _ = walk(pg, root)
    line = line_of(root / "migrations" / "versions" / "r3.py", "def downgrade")
    assert summary(findings) == [("MP101", "r3", "r3.py", line)]
    assert findings[0].message.startswith("2 of 2 rows put into public.items are gone")
    # the table whose rows were lost is seeded again at once: the next round trip covers it
    delete_all = Revision(
        id="r4",
        down="r3",
        upgrade='op.alter_column("items", "qty", type_=sa.Integer)',
        downgrade='op.execute("DELETE FROM items")\nop.alter_column("items", "qty", type_=sa.BigInteger)',
    )
    (root / "migrations" / "versions" / "r4.py").write_text(delete_all.source())
    findings, _ = walk(pg, root)
    assert [(f.check, f.revision) for f in findings] == [("MP101", "r3"), ("MP101", "r4")]


def test_a_downgrade_that_re_adds_a_column_or_restores_another_type(
    pg: Sandbox, tmp_path: Path
) -> None:
    retype = Revision(
        id="r3",
        down="r2",
        upgrade='op.alter_column("orders", "total", type_=sa.Numeric(12, 2))\n'
        'op.alter_column("orders", "customer", server_default="anonymous")',
        downgrade='op.alter_column("orders", "total", type_=sa.Integer)\n'
        'op.drop_column("orders", "customer")\n'
        'op.add_column("orders", sa.Column("customer", sa.Text, nullable=True))',
    )
    findings, _ = walk(pg, write_project(tmp_path, [ORDERS, ITEMS, retype]))
    assert [(f.check, f.revision) for f in findings] == [("MP103", "r3"), ("MP102", "r3")]
    assert "public.orders.customer is NULL in 2 of 2 rows" in findings[0].message
    assert "public.orders.total changed in 2 of 2 rows" in findings[1].message
