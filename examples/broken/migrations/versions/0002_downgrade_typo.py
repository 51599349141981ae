"""add accounts.plan; the downgrade has a typo that nobody ever ran

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE accounts ADD COLUMN plan text")


def downgrade() -> None:
    op.execute("ALTER TABLE accounts DROP COLUMNN plan")
