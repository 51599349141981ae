"""MP110 names an index that differs between the models and head in one line.

Alembic's comparison reports an index whose columns or uniqueness changed as
``remove_index`` plus ``add_index`` of the same name; migproof says what differs instead of
"exists at head but not in the models" and "is declared in the models but not at head" for
one index. An index that is really only on one side keeps its one line.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, write_project

from migproof.config import load_config
from migproof.findings import Report
from migproof.sandbox import Sandbox
from migproof.verify import verify
from migproof.verify.parity import check_models, load_metadata

_names = itertools.count()

ORDERS = Revision(
    id="r1",
    down=None,
    upgrade="""
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_orders_customer", "orders", ["customer_id", "created_at"])
    op.create_index("ix_orders_note", "orders", ["note"])
    """,
    downgrade='op.drop_table("orders")',
)

MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.Text),
)
{indexes}
"""

AS_AT_HEAD = """
sa.Index("ix_orders_customer", orders.c.customer_id, orders.c.created_at)
sa.Index("ix_orders_note", orders.c.note)
"""


def model_drift(pg: Sandbox, root: Path, indexes: str) -> list[str]:
    """The MP110 messages of verifying ``root``'s chain against models with ``indexes``."""
    module = f"mp_hint_models_{next(_names)}"
    (root / f"{module}.py").write_text(MODELS.replace("{indexes}", indexes))
    config = load_config(root, overrides={"verify.models": f"{module}:metadata"})
    report: Report = verify(config, root, host=pg)
    assert {f.check for f in report.findings} <= {"MP110"}
    assert all(f.location and f.location.path.name == f"{module}.py" for f in report.findings)
    return [f.message.removeprefix("models and head differ: ") for f in report.findings]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, [ORDERS])


def test_models_that_match_head_report_no_index(pg: Sandbox, project: Path) -> None:
    assert model_drift(pg, project, AS_AT_HEAD) == []


def test_an_index_on_other_columns_is_one_line(pg: Sandbox, project: Path) -> None:
    indexes = AS_AT_HEAD.replace(", orders.c.created_at)", ")")
    assert model_drift(pg, project, indexes) == [
        "index ix_orders_customer on public.orders: columns at head (customer_id, created_at), "
        "in the models (customer_id)"
    ]


def test_an_index_unique_in_the_models_only_is_one_line(pg: Sandbox, project: Path) -> None:
    indexes = AS_AT_HEAD.replace("orders.c.note)", "orders.c.note, unique=True)")
    assert model_drift(pg, project, indexes) == [
        "index ix_orders_note on public.orders: not unique at head, unique in the models"
    ]


def test_an_index_on_an_expression_names_the_keys(pg: Sandbox, project: Path) -> None:
    indexes = AS_AT_HEAD.replace("orders.c.note)", "sa.func.lower(orders.c.note), unique=True)")
    assert model_drift(pg, project, indexes) == [
        "index ix_orders_note on public.orders: keys at head (note), in the models "
        "(lower(note)); not unique at head, unique in the models"
    ]


def test_an_index_only_in_the_models_stays_one_missing_line(pg: Sandbox, project: Path) -> None:
    indexes = AS_AT_HEAD + 'sa.Index("ix_orders_created", orders.c.created_at)\n'
    assert model_drift(pg, project, indexes) == [
        "index ix_orders_created on public.orders is declared in the models but not at head"
    ]


def test_an_index_only_at_head_beside_a_changed_one(pg: Sandbox, project: Path) -> None:
    indexes = 'sa.Index("ix_orders_customer", orders.c.customer_id)\n'
    assert sorted(model_drift(pg, project, indexes)) == [
        "index ix_orders_customer on public.orders: columns at head (customer_id, created_at), "
        "in the models (customer_id)",
        "index ix_orders_note on public.orders exists at head but not in the models",
    ]


def test_other_index_differences_name_both_definitions(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    with pg.connect(db) as conn:
        version = conn.info.server_version
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, created_at timestamptz, note text)")
        conn.execute("CREATE INDEX ix_orders_created ON orders (created_at DESC)")
        if version >= 150000:
            conn.execute("CREATE UNIQUE INDEX ix_orders_note ON orders (note) NULLS NOT DISTINCT")
        else:
            conn.execute("CREATE UNIQUE INDEX ix_orders_note ON orders (note)")
    module = f"mp_hint_models_{next(_names)}"
    (tmp_path / f"{module}.py").write_text(
        "import sqlalchemy as sa\n"
        "metadata = sa.MetaData()\n"
        "orders = sa.Table('orders', metadata, sa.Column('id', sa.Integer, primary_key=True),\n"
        "    sa.Column('created_at', sa.DateTime(timezone=True)), sa.Column('note', sa.Text))\n"
        "sa.Index('ix_orders_created', orders.c.created_at)\n"
        "sa.Index('ix_orders_note', orders.c.note, unique=True)\n"
    )
    metadata, _ = load_metadata(f"{module}:metadata", tmp_path)
    found = check_models(pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path))
    expected = [
        "index ix_orders_created on public.orders: keys at head (created_at DESC), "
        "in the models (created_at)"
    ]
    if version >= 150000:  # NULLS NOT DISTINCT: neither keys nor uniqueness, the definitions
        expected.append(
            "index ix_orders_note on public.orders: at head CREATE UNIQUE INDEX ix_orders_note "
            "ON orders (note) NULLS NOT DISTINCT, in the models CREATE UNIQUE INDEX "
            "ix_orders_note ON orders (note)"
        )
    assert [f.message.removeprefix("models and head differ: ") for f in found] == expected
    assert {f.check for f in found} == {"MP110"}


def test_models_that_declare_no_table_are_one_finding(pg: Sandbox, project: Path) -> None:
    """Metadata with no table (the model modules never imported) is said once, not once per
    table and index of head."""
    assert model_drift(pg, project, "metadata.remove(orders)") == [
        "the models' metadata declares no table, and head has 1"
    ]
