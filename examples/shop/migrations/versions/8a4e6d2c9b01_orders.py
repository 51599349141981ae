"""create orders with an order_status enum

Revision ID: 8a4e6d2c9b01
Revises: 3f1c2a9b7d10
"""

import sqlalchemy as sa
from alembic import op

revision = "8a4e6d2c9b01"
down_revision = "3f1c2a9b7d10"
branch_labels = None
depends_on = None

order_status = sa.Enum("pending", "paid", "shipped", name="order_status")


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "customer_id",
            sa.BigInteger,
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", order_status, nullable=False, server_default="pending"),
        sa.Column("total", sa.Numeric(12, 2), nullable=False),
    )
    # PostgreSQL does not index foreign-key columns by itself.
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])


def downgrade() -> None:
    op.drop_table("orders")  # drops its indexes too
    order_status.drop(op.get_bind(), checkfirst=True)
