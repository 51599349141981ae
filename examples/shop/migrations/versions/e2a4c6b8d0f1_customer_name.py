"""add customers.name

Revision ID: e2a4c6b8d0f1
Revises: 5b8f0a2d4c6e
"""

import sqlalchemy as sa
from alembic import op

revision = "e2a4c6b8d0f1"
down_revision = "5b8f0a2d4c6e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("name", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("customers", "name")
