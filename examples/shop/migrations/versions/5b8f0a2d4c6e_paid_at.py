"""add orders.paid_at and backfill it for paid orders (a data migration)

Revision ID: 5b8f0a2d4c6e
Revises: c7d9e1f3a5b2
"""

import sqlalchemy as sa
from alembic import op

revision = "5b8f0a2d4c6e"
down_revision = "c7d9e1f3a5b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("paid_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE orders SET paid_at = now() WHERE status = 'paid'")


def downgrade() -> None:
    op.drop_column("orders", "paid_at")
