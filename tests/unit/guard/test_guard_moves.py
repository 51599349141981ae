"""Declarations moved between changed files: a refactoring, unless they change on the way."""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.guard.scenario import MODELS

from migproof.config import load_config
from migproof.guard import guard

ORDER = """

class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey(User.id))
    total: Mapped[int] = mapped_column(sa.Integer)
"""
HEADER = (
    "import sqlalchemy as sa\n"
    "from sqlalchemy.orm import Mapped, mapped_column\n"
    "from shop.models import Base, User\n"
)
IMPORT_ORDERS = "\nfrom shop.orders import Order  # noqa: E402\n"
SELF = MODELS.lstrip("\n")


def run(repo: GitRepo) -> list[tuple[str, str, int | None, str]]:
    report = guard(load_config(repo.path), "main")
    return [
        (f.check, str(f.location.path), f.location.line, f.message.split(": ", 1)[1])
        for f in report.sorted_findings()
        if f.location is not None
    ]


@pytest.fixture
def shop(repo: GitRepo) -> GitRepo:
    repo.checkout("main")
    repo.commit({"shop/models.py": SELF + ORDER})
    repo.checkout("feature")
    repo.git("merge", "-q", "main")
    return repo


@pytest.mark.parametrize(
    "orders",
    [
        HEADER + ORDER,
        # relative import, and the class reformatted on the way
        HEADER.replace("from shop.models", "from .models")
        + ORDER.replace("mapped_column(sa.Integer)", "mapped_column(\n        sa.Integer\n    )"),
    ],
)
def test_a_model_moved_unchanged_to_a_new_module(shop: GitRepo, orders: str) -> None:
    shop.commit({"shop/models.py": SELF + IMPORT_ORDERS, "shop/orders.py": orders})
    assert run(shop) == []


def test_a_model_moved_and_changed_reports_the_change(shop: GitRepo) -> None:
    moved = ORDER.replace("sa.Integer)", "sa.BigInteger)").replace(
        "    user_id: Mapped[int] = mapped_column(sa.ForeignKey(User.id))\n", ""
    )
    shop.commit({"shop/models.py": SELF + IMPORT_ORDERS, "shop/orders.py": HEADER + moved})
    assert run(shop) == [
        (
            "MP701",
            "shop/models.py",
            21,
            "table orders: column user_id removed (line 21 in main's version)",
        ),
        ("MP701", "shop/orders.py", 9, "table orders: column total changed"),
    ]


def test_a_model_moved_onto_another_base_is_a_change(shop: GitRepo) -> None:
    other_base = HEADER.replace("Base, User", "User") + (
        "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n"
        "    type_annotation_map = {int: sa.BigInteger}\n"
    )
    shop.commit({"shop/models.py": SELF + IMPORT_ORDERS, "shop/orders.py": other_base + ORDER})
    assert [(path, message) for _, path, _, message in run(shop)] == [
        ("shop/orders.py", "model Base: added"),
        ("shop/orders.py", "table orders: bases changed"),
    ]


def test_removed_here_and_added_there_in_two_places_stays_reported(shop: GitRepo) -> None:
    shop.commit(
        {
            "shop/models.py": SELF + IMPORT_ORDERS + "from shop.archive import Order as Old\n",
            "shop/orders.py": HEADER + ORDER,
            "shop/archive.py": HEADER + ORDER,
        }
    )
    assert [(path, message) for _, path, _, message in run(shop)] == [
        ("shop/archive.py", "table orders: added"),
        ("shop/models.py", "table orders: removed (line 18 in main's version)"),
        ("shop/orders.py", "table orders: added"),
    ]


def test_a_model_removed_and_another_added_are_both_reported(shop: GitRepo) -> None:
    invoices = HEADER + ORDER.replace('"orders"', '"invoices"').replace("Order", "Invoice")
    shop.commit(
        {
            "shop/models.py": SELF + "\nfrom shop.invoices import Invoice  # noqa\n",
            "shop/invoices.py": invoices,
        }
    )
    assert [(path, message) for _, path, _, message in run(shop)] == [
        ("shop/invoices.py", "table invoices: added"),
        ("shop/models.py", "table orders: removed (line 18 in main's version)"),
    ]


STATUS = """

class Status(enum.Enum):
    open = "open"
    paid = "paid"
"""
WITH_STATUS = (
    ORDER + "    status: Mapped[Status]\n    kind = mapped_column(sa.Enum(Status, name='kind'))\n"
)


def test_a_model_moved_with_the_enum_its_columns_use_left_behind(repo: GitRepo) -> None:
    models = "import enum\n" + SELF + STATUS
    repo.checkout("main")
    repo.commit({"shop/models.py": models + WITH_STATUS})
    repo.checkout("feature")
    repo.git("merge", "-q", "main")
    header = HEADER.replace("Base, User", "Base, Status, User")
    repo.commit({"shop/models.py": models + IMPORT_ORDERS, "shop/orders.py": header + WITH_STATUS})
    assert run(repo) == []
    repo.commit({"shop/models.py": models + '    void = "void"\n' + IMPORT_ORDERS})
    assert [(path, message) for _, path, _, message in run(repo)] == [
        (
            "shop/models.py",
            "enum class Status: member void added (used by a column in shop/orders.py)",
        ),
    ]


def test_each_version_of_a_changed_models_file_is_parsed_once(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a move (symbols, extracted again) and an enum's member (enums, their users) at once
    models = "import enum\n" + SELF + STATUS
    repo.checkout("main")
    repo.commit({"shop/models.py": models + WITH_STATUS})
    repo.checkout("feature")
    repo.git("merge", "-q", "main")
    header = HEADER.replace("Base, User", "Base, Status, User")
    repo.commit(
        {
            "shop/models.py": models + '    void = "void"\n' + IMPORT_ORDERS,
            "shop/orders.py": header + WITH_STATUS,
        }
    )
    versions = [
        repo.git("show", spec)
        for spec in ("main:shop/models.py", "HEAD:shop/models.py", "HEAD:shop/orders.py")
    ]
    parsed: Counter[str] = Counter()
    real_parse = ast.parse

    def counting_parse(source: str | bytes, *args: Any, **kwargs: Any) -> ast.Module:
        if isinstance(source, str):  # env.py's imports are followed in bytes read from disk
            parsed[source] += 1
        tree: ast.Module = real_parse(source, *args, **kwargs)
        return tree

    monkeypatch.setattr(ast, "parse", counting_parse)
    assert [(path, message) for _, path, _, message in run(repo)] == [
        (
            "shop/models.py",
            "enum class Status: member void added (used by a column in shop/orders.py)",
        ),
    ]
    assert [parsed[text] for text in versions] == [1, 1, 1]
    assert max(parsed.values()) == 1


@pytest.fixture
def split_shop(repo: GitRepo) -> GitRepo:
    """Order in shop/orders.py, which shop/models.py imports at the base."""
    repo.checkout("main")
    repo.commit({"shop/models.py": SELF + IMPORT_ORDERS, "shop/orders.py": HEADER + ORDER})
    repo.checkout("feature")
    repo.git("merge", "-q", "main")
    return repo


def test_a_deleted_models_module_drops_its_tables(split_shop: GitRepo) -> None:
    # nothing imports shop/orders.py at HEAD, yet its tables were the schema's at the base
    split_shop.commit({"shop/models.py": SELF, "shop/orders.py": None})
    assert run(split_shop) == [
        ("MP701", "shop/orders.py", 6, "table orders: removed (line 6 in main's version)")
    ]


def test_a_deleted_module_whose_model_moved_back(split_shop: GitRepo) -> None:
    split_shop.commit({"shop/models.py": SELF + ORDER, "shop/orders.py": None})
    assert run(split_shop) == []


def test_a_deleted_test_module_is_not_schema(split_shop: GitRepo) -> None:
    split_shop.checkout("main")
    split_shop.commit({"tests/test_models.py": HEADER + ORDER.replace('"orders"', '"t"')})
    split_shop.checkout("feature")
    split_shop.git("merge", "-q", "main")
    split_shop.commit({"tests/test_models.py": None})
    assert run(split_shop) == []
