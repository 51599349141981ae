"""index accounts.email and add accounts.region; the downgrade forgets the index

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_index("ix_accounts_email", "accounts", ["email"])
    op.add_column("accounts", sa.Column("region", sa.Text))


def downgrade() -> None:
    op.drop_column("accounts", "region")
