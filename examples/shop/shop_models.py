"""The shop's SQLAlchemy models: what head must equal."""

import sqlalchemy as sa

metadata = sa.MetaData()

order_status = sa.Enum("pending", "paid", "shipped", name="order_status")

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "customer_id",
        sa.BigInteger,
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("status", order_status, nullable=False, server_default="pending"),
    sa.Column("total", sa.Numeric(12, 2), nullable=False),
    sa.Column("paid_at", sa.DateTime(timezone=True)),
)

order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "order_id",
        sa.BigInteger,
        sa.ForeignKey("orders.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.CheckConstraint("quantity > 0", name="order_items_quantity_positive"),
)
