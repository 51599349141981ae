"""add accounts.billing_contact; the revision id is longer than version_num holds

Revision ID: 0006_add_billing_contact_to_accounts_table
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_add_billing_contact_to_accounts_table"
down_revision = "0005"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("billing_contact", sa.Text))


def downgrade() -> None:
    op.drop_column("accounts", "billing_contact")
