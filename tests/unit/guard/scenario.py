"""The guard tests' project: an Alembic shop in a real git repository, and its fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.gitrepo import GitRepo

MODELS = '''
"""Models of the shop."""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))  # shown on invoices
'''
# a nullable column added to User: the model change most guard tests make
EMAIL = "    email: Mapped[str | None] = mapped_column(sa.String(200))\n"

ENV_PY = """
from alembic import context

from shop.models import Base

target_metadata = Base.metadata
"""


def revision(rev: str, down: str | None, body: str = "pass") -> str:
    """The text of an Alembic revision file."""
    return f'''"""{rev}

Revision ID: {rev}
Revises: {down}
"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    {body}


def downgrade():
    pass
'''


def make_shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """An Alembic project on ``main`` with one revision, checked out on branch ``feature``."""
    repo = GitRepo(tmp_path / "shop")
    repo.commit(
        {
            "alembic.ini": "[alembic]\nscript_location = migrations\n",
            "migrations/env.py": ENV_PY,
            "migrations/versions/a1_init.py": revision("a1", None),
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
            "README.md": "shop\n",
        },
        "initial",
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    return repo
