"""members.account_id: ON DELETE CASCADE -> SET NULL; the downgrade restores NO ACTION

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.drop_constraint("members_account_id_fkey", "members", type_="foreignkey")
    op.create_foreign_key(
        "members_account_id_fkey", "members", "accounts", ["account_id"], ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint("members_account_id_fkey", "members", type_="foreignkey")
    op.create_foreign_key(
        "members_account_id_fkey", "members", "accounts", ["account_id"], ["id"]
    )
