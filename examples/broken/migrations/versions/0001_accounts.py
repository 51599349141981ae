"""create accounts and members

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "account_id", sa.BigInteger, sa.ForeignKey("accounts.id", ondelete="CASCADE")
        ),
    )


def downgrade() -> None:
    op.drop_table("members")
    op.drop_table("accounts")
