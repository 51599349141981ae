"""Models files compared by their SQLAlchemy declarations: what must and must not differ."""

from __future__ import annotations

import textwrap

import pytest

from migproof.guard.models import (
    DeltaKind,
    ModelModule,
    SchemaDelta,
    compare_declarations,
    extract_declarations,
)

BASE = '''
"""Models of the shop."""

import sqlalchemy as sa
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAME_LENGTH = 50


class Base(DeclarativeBase):
    pass


class User(Base):
    """Someone who buys."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_LENGTH), nullable=False)  # display name
    orders: Mapped[list["Order"]] = relationship(back_populates="user")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (sa.Index("ix_orders_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship(back_populates="orders")
'''


def deltas(base: str, head: str, package: str | None = None) -> list[tuple[str, int, bool]]:
    """What guard sees change between two versions of a models file (of ``package``)."""
    found = compare_declarations(
        extract_declarations(base, package), extract_declarations(head, package)
    )
    return [(d.description, d.line, d.in_base) for d in found]


def test_column_added_is_reported_at_its_line() -> None:
    head = BASE.replace(
        '    orders: Mapped[list["Order"]]',
        "    email: Mapped[str | None] = mapped_column(sa.String(200))\n"
        '    orders: Mapped[list["Order"]]',
    )
    assert deltas(BASE, head) == [("table users: column email added", 22, False)]


def test_column_removed_is_reported_at_its_base_line() -> None:
    head = BASE.replace(
        "    name: Mapped[str] = mapped_column(sa.String(NAME_LENGTH), nullable=False)"
        "  # display name\n",
        "",
    )
    assert deltas(BASE, head) == [("table users: column name removed", 21, True)]


def test_deltas_name_the_declaration_the_member_and_what_happened() -> None:
    head = BASE.replace('    __tablename__ = "orders"', '    __tablename__ = "purchases"').replace(
        "    id: Mapped[int] = mapped_column(primary_key=True)\n    name",
        "    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)\n    name",
    )
    assert compare_declarations(extract_declarations(BASE), extract_declarations(head)) == [
        SchemaDelta("table users", DeltaKind.CHANGED, 20, "column id"),
        SchemaDelta("table purchases", DeltaKind.ADDED, 25),
        SchemaDelta("table orders", DeltaKind.REMOVED, 25, in_base=True),
    ]


def test_every_python_enum_class_is_kept_and_the_used_ones_declared() -> None:
    source = BASE + (
        "\n\nclass Colour(enum.Enum):\n    red = 1\n"
        "\n\nclass Status(enum.Enum):\n    active = 'active'\n"
        "\n\nclass Account(Base):\n    __tablename__ = 'accounts'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    status: Mapped[Status]\n"
    )
    module = ModelModule("import enum\n" + textwrap.dedent(source))
    assert sorted(module.enums) == ["enum class Colour", "enum class Status"]
    assert [key for key in module.declarations if key.startswith("enum")] == ["enum class Status"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("sa.String(NAME_LENGTH)", "sa.String(80)", "table users: column name changed"),
        ("nullable=False", "nullable=True", "table users: column name changed"),
        ('"ix_orders_user_id"', '"ix_orders_user"', "table orders: index ix_orders_user added"),
        (
            'ForeignKey("users.id")',
            'ForeignKey("users.id", ondelete="CASCADE")',
            "table orders: column user_id changed",
        ),
        ('__tablename__ = "orders"', '__tablename__ = "purchases"', "table purchases: added"),
        ("NAME_LENGTH = 50", "NAME_LENGTH = 60", "table users: column name changed"),
    ],
)
def test_schema_changes_are_reported(old: str, new: str, expected: str) -> None:
    assert old in BASE
    found = [d[0] for d in deltas(BASE, BASE.replace(old, new))]
    assert expected in found


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("  # display name", "  # the name shown on invoices", id="comment"),
        pytest.param('"""Someone who buys."""', '"""A customer."""', id="docstring"),
        pytest.param(
            "from sqlalchemy import ForeignKey\n"
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
            "from sqlalchemy.orm import relationship, mapped_column, Mapped, DeclarativeBase\n"
            "from sqlalchemy import ForeignKey",
            id="reordered-imports",
        ),
        pytest.param("import sqlalchemy as sa", "import sqlalchemy as sqla", id="import-alias"),
        pytest.param("NAME_LENGTH", "MAX_NAME", id="renamed-module-constant"),
        pytest.param("class Base(", "class Model(", id="renamed-base-class"),
        pytest.param(
            "mapped_column(sa.String(NAME_LENGTH), nullable=False)",
            "mapped_column(\n        sa.String(NAME_LENGTH),\n        nullable=False,\n    )",
            id="reformatted",
        ),
        pytest.param(
            "mapped_column(sa.String(NAME_LENGTH), nullable=False)",
            "mapped_column(sa.String(NAME_LENGTH), default='', nullable=False, doc='shown')",
            id="python-side-default-and-doc",
        ),
        pytest.param(
            'relationship(back_populates="orders")',
            'relationship(back_populates="orders", lazy="selectin")',
            id="relationship",
        ),
        pytest.param(
            "    user: Mapped[User]",
            "    def total(self) -> int:\n        return 0\n\n    user: Mapped[User]",
            id="new-method",
        ),
    ],
)
def test_refactorings_are_not_schema_changes(old: str, new: str) -> None:
    assert old in BASE
    head = BASE.replace(old, new)
    if old == "class Base(":
        head = head.replace("(Base)", "(Model)")
    if old == "import sqlalchemy as sa":
        head = head.replace("sa.", "sqla.")
    assert deltas(BASE, head) == []


def test_optional_and_union_none_compare_equal() -> None:
    base = textwrap.dedent("""
        from typing import Optional
        from sqlalchemy.orm import Mapped, mapped_column
        class A(Base):
            __tablename__ = "a"
            x: Mapped[Optional[int]] = mapped_column()
    """)
    head = base.replace("Optional[int]", "int | None")
    assert deltas(base, head) == []


def test_table_call_renamed_variable_equal_and_column_added_reported() -> None:
    base = textwrap.dedent("""
        from sqlalchemy import Column, Integer, MetaData, Table, Text
        metadata = MetaData()
        users = Table("users", metadata, Column("id", Integer, primary_key=True))
        Index("ix_users_id", users.c.id)
    """)
    renamed = base.replace("users =", "users_table =").replace("users.c", "users_table.c")
    renamed = renamed.replace("metadata", "meta")
    assert deltas(base, renamed) == []
    added = base.replace("primary_key=True))", 'primary_key=True),\n    Column("bio", Text))')
    assert deltas(base, added) == [("table users: column bio added", 5, False)]


def test_enum_values_are_schema() -> None:
    base = textwrap.dedent("""
        import enum
        import sqlalchemy as sa
        class Status(enum.Enum):
            ACTIVE = "active"
        class Account(Base):
            __tablename__ = "accounts"
            status = sa.Column(sa.Enum(Status, name="status"))
    """)
    head = base.replace('ACTIVE = "active"', 'ACTIVE = "active"\n    CLOSED = "closed"')
    assert deltas(base, head) == [("enum class Status: member CLOSED added", 6, False)]


def test_unused_python_enum_is_not_schema() -> None:
    base = textwrap.dedent("""
        import enum
        class Colour(enum.Enum):
            RED = 1
    """)
    assert deltas(base, base.replace("RED = 1", "RED = 1\n    BLUE = 2")) == []


def test_flask_sqlalchemy_db_model() -> None:
    base = textwrap.dedent("""
        from app.extensions import db
        class Post(db.Model):
            __tablename__ = "posts"
            id = db.Column(db.Integer, primary_key=True)
    """)
    head = base + "    title = db.Column(db.String(100))\n"
    assert deltas(base, head) == [("table posts: column title added", 6, False)]


def test_sqlmodel_table_fields() -> None:
    base = textwrap.dedent("""
        from sqlmodel import Field, SQLModel
        class Hero(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str = Field(index=True, description="shown")
    """)
    assert deltas(base, base.replace('description="shown"', 'description="the name"')) == []
    head = base + "    age: int | None = None\n"
    assert deltas(base, head) == [("model Hero: column age added", 6, False)]


def test_declared_attr_locals_renamed_are_equal() -> None:
    base = textwrap.dedent("""
        from sqlalchemy import Column, Integer, ForeignKey
        from sqlalchemy.orm import declared_attr
        class HasOwner:
            @declared_attr
            def owner_id(cls):
                target = "users.id"
                return Column(Integer, ForeignKey(target))
    """)
    head = base.replace("target", "fk_target")
    assert deltas(base, head) == []
    changed = base.replace('"users.id"', '"accounts.id"')
    assert deltas(base, changed) == [("model HasOwner: declared_attr owner_id changed", 6, False)]


def test_file_without_sqlalchemy_declares_nothing() -> None:
    source = textwrap.dedent("""
        from dataclasses import dataclass
        @dataclass
        class Point:
            x: int
            y: int
    """)
    assert extract_declarations(source) == {}


def test_column_helpers_count_only_when_used_here() -> None:
    base = textwrap.dedent("""
        import sqlalchemy as sa
        def pk():
            return sa.Column(sa.Integer, primary_key=True)
        class A(Base):
            __tablename__ = "a"
            id = pk()
    """)
    changed = base.replace("sa.Integer", "sa.BigInteger")
    assert deltas(base, changed) == [("function pk: body changed", 3, False)]
    unused = base.replace("id = pk()", "id = sa.Column(sa.Integer, primary_key=True)")
    assert "function pk" not in extract_declarations(unused)


def test_sqlalchemy_2_style_rewrite_declares_the_same_columns() -> None:
    old_style = textwrap.dedent("""
        from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
        class Order(Base):
            __tablename__ = "orders"
            id = Column(Integer, primary_key=True)
            note = Column(String)
            name = Column(String(50), nullable=False)
            placed_at = Column(DateTime())
            user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    """)
    new_style = textwrap.dedent("""
        import datetime
        from typing import Optional
        from sqlalchemy import ForeignKey, String
        from sqlalchemy.orm import Mapped, mapped_column
        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            note: Mapped[Optional[str]]
            name: Mapped[str] = mapped_column(String(50))
            placed_at: Mapped[datetime.datetime | None]
            user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    """)
    assert deltas(old_style, new_style) == []
    not_null = new_style.replace("Mapped[Optional[str]]", "Mapped[str]")
    assert deltas(old_style, not_null) == [("table orders: column note changed", 9, False)]


def test_naming_convention_set_on_metadata() -> None:
    base = textwrap.dedent("""
        from sqlalchemy.orm import DeclarativeBase
        class Base(DeclarativeBase):
            pass
        Base.metadata.naming_convention = {"pk": "pk_%(table_name)s"}
    """)
    head = base.replace("pk_%", "%").replace('"pk_', '"')
    assert deltas(base, head) == [
        ("setting Base.metadata.naming_convention: value changed", 5, False)
    ]


STAR = """
from sqlalchemy import *
from sqlalchemy.orm import *
from app.types import Money

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    balance = Column(Money)
    orders = relationship("Order")
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("String(50)", "String(80)", [("table users: column name changed", 11, False)]),
        (
            "    orders =",
            "    email = Column(String(100))\n    orders =",
            [("table users: column email added", 13, False)],
        ),
        ('    orders = relationship("Order")\n', "", []),  # a relationship is not schema
        ("Base = declarative_base()", "Base = declarative_base()  # the registry", []),
    ],
)
def test_star_imports_of_sqlalchemy_modules(
    old: str, new: str, expected: list[tuple[str, int, bool]]
) -> None:
    base = textwrap.dedent(STAR).lstrip("\n")
    assert "column name" in " ".join(extract_declarations(base)["table users"].members)
    assert old in base
    assert deltas(base, base.replace(old, new)) == expected


def test_a_star_import_of_another_module_resolves_nothing() -> None:
    # without `from sqlalchemy import *`, Column here is the project's own, not a column
    base = "from app.fields import *\n\nclass Form:\n    name = Column(String(50))\n"
    assert extract_declarations(base) == {}


TWO_SCHEMAS = """
import sqlalchemy as sa
from app.db import Base

BILLING = "billing"


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = {"schema": "crm"}
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(50))


class BillingAccount(Base):
    __tablename__ = "accounts"
    __table_args__ = (sa.Index("ix_accounts_name", "name"), {"schema": BILLING})
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(50))
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # the first table's column: it was overwritten by the second's, which did not change
        (
            "name = sa.Column(sa.String(50))\n\n",
            "name = sa.Column(sa.String(200))\n\n",
            [("table crm.accounts: column name changed", 11, False)],
        ),
        (
            '{"schema": "crm"}',
            '{"schema": "sales"}',
            [("table sales.accounts: added", 7, False), ("table crm.accounts: removed", 7, True)],
        ),
        (
            'BILLING = "billing"',
            'BILLING = "invoicing"',
            [
                ("table invoicing.accounts: added", 14, False),
                ("table billing.accounts: removed", 14, True),
            ],
        ),
        ("class BillingAccount(Base):", "class Invoicing(Base):", []),  # the class name
    ],
)
def test_one_table_name_in_two_schemas(
    old: str, new: str, expected: list[tuple[str, int, bool]]
) -> None:
    base = textwrap.dedent(TWO_SCHEMAS).lstrip("\n")
    assert sorted(extract_declarations(base)) == [
        "table billing.accounts",
        "table crm.accounts",
    ]
    assert deltas(base, base.replace(old, new, 1)) == expected


def test_declarative_schema_and_table_call_schema_share_the_key() -> None:
    declarative = textwrap.dedent(TWO_SCHEMAS).lstrip("\n")
    table = declarative.replace(
        'class Account(Base):\n    __tablename__ = "accounts"\n'
        '    __table_args__ = {"schema": "crm"}\n'
        "    id = sa.Column(sa.Integer, primary_key=True)\n"
        "    name = sa.Column(sa.String(50))\n",
        'accounts = sa.Table("accounts", Base.metadata, sa.Column("id", sa.Integer), '
        'schema="crm")\n',
    )
    assert sorted(extract_declarations(table)) == sorted(extract_declarations(declarative))


def test_relative_imports_resolve_against_the_package() -> None:
    relative = (
        "from .db import Base\nimport sqlalchemy as sa\n\nclass U(Base):\n"
        "    __tablename__ = 'u'\n    id = sa.Column(sa.Integer, primary_key=True)\n"
    )
    absolute = relative.replace("from .db import", "from shop.db import")
    parent = relative.replace("from .db import", "from ..db import")
    assert deltas(relative, absolute, "shop") == []
    assert deltas(parent, absolute, "shop.models") == []
    assert deltas(relative, absolute, None) == [("table u: bases changed", 4, False)]


NAMED = """
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from app.db import Base


class User(Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    uname = sa.Column("user_name", sa.String(50))
    mail: Mapped[str] = mapped_column(name="email")
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    uname =", "    username =", []),  # the Python attribute only
        ("    mail:", "    email_address:", []),
        ('uname = sa.Column("user_name", ', "user_name = sa.Column(", []),  # same name, said once
        (
            'mapped_column(name="email")',
            "mapped_column()",
            [
                ("table users: column mail added", 10, False),
                ("table users: column email removed", 10, True),
            ],
        ),
        (
            '"user_name"',
            '"login"',
            [
                ("table users: column login added", 9, False),
                ("table users: column user_name removed", 9, True),
            ],
        ),
        ("sa.String(50)", "sa.String(80)", [("table users: column user_name changed", 9, False)]),
    ],
)
def test_columns_are_known_by_their_database_name(
    old: str, new: str, expected: list[tuple[str, int, bool]]
) -> None:
    base = textwrap.dedent(NAMED).lstrip("\n")
    assert old in base
    assert deltas(base, base.replace(old, new)) == expected


TYPED = """
import sqlalchemy as sa
from app.db import Base


class Event(Base):
    __tablename__ = "events"
    id = sa.Column(sa.Integer, primary_key=True)
    title = sa.Column(sa.String(50))
    at = sa.Column(sa.DateTime())
    amount = sa.Column(sa.Numeric(10, 2))
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("sa.String(50)", "sa.String(length=50)", []),
        ("sa.DateTime()", "sa.DateTime(timezone=False)", []),
        ("sa.DateTime()", "sa.DateTime", []),
        ("sa.Numeric(10, 2)", "sa.Numeric(precision=10, scale=2, asdecimal=True)", []),
        (
            "sa.String(50)",
            "sa.String(length=60)",
            [("table events: column title changed", 8, False)],
        ),
        ("sa.DateTime()", "sa.DateTime(True)", [("table events: column at changed", 9, False)]),
        (
            "sa.Numeric(10, 2)",
            "sa.Numeric(10, scale=3)",
            [("table events: column amount changed", 10, False)],
        ),
    ],
)
def test_type_arguments_by_position_keyword_or_default(
    old: str, new: str, expected: list[tuple[str, int, bool]]
) -> None:
    base = textwrap.dedent(TYPED).lstrip("\n")
    assert old in base
    assert deltas(base, base.replace(old, new)) == expected


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        (
            "postgresql.TIMESTAMP(True, 3)",
            "postgresql.TIMESTAMP(timezone=True, precision=3)",
            False,
        ),
        ("postgresql.TIMESTAMP(False, None)", "postgresql.TIMESTAMP()", False),
        ("postgresql.TIME(True, 3)", "postgresql.TIME(precision=3, timezone=True)", False),
        ("postgresql.TIMESTAMP(True, 3)", "postgresql.TIMESTAMP(True, 6)", True),
        # the generic DateTime takes no precision: a second argument is not read as one
        ("sa.DateTime(False, 3)", "sa.DateTime(precision=3)", True),
        ("sa.DateTime(True)", "sa.DateTime(timezone=True)", False),
        ("sa.DateTime(True)", "sa.DateTime(timezone=False)", True),
    ],
)
def test_postgresql_time_types_take_a_precision(old: str, new: str, changed: bool) -> None:
    base = textwrap.dedent(TYPED).lstrip("\n").replace("sa.DateTime()", old)
    base = base.replace(
        "import sqlalchemy as sa\n",
        "import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n",
    )
    expected = [("table events: column at changed", 10, False)] if changed else []
    assert old in base
    assert deltas(base, base.replace(old, new)) == expected
