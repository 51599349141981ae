"""Python enums kept in a module of their own, whose members a model column stores."""

from __future__ import annotations

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.guard.scenario import MODELS, revision

from migproof.config import load_config
from migproof.guard import guard

ENUMS = """
import enum


class Status(enum.Enum):
    active = "active"
    banned = "banned"


class Colour(enum.Enum):  # used by no column
    red = "red"
"""
SUSPENDED = '    suspended = "suspended"\n'
COLUMN = "    status: Mapped[Status] = mapped_column(sa.Enum(Status, name='user_status'))\n"


def _setup(repo: GitRepo, models: str, extra: dict[str, str | None] | None = None) -> None:
    repo.checkout("main")
    repo.commit({"shop/enums.py": ENUMS, "shop/models.py": models, **(extra or {})})
    repo.checkout("feature")
    repo.git("merge", "-q", "main")


def run(repo: GitRepo) -> list[tuple[str, str, int | None, str]]:
    report = guard(load_config(repo.path), "main")
    return [
        (f.check, str(f.location.path), f.location.line, f.message)
        for f in report.sorted_findings()
        if f.location is not None
    ]


def _enums_with(member: str) -> str:
    return ENUMS.replace('    banned = "banned"\n', '    banned = "banned"\n' + member)


IMPORTED = MODELS.replace(
    "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom shop.enums import Status\n"
)


@pytest.mark.parametrize(
    "models",
    [
        IMPORTED + COLUMN,
        # a relative import, and the enum given by the annotation alone
        MODELS.replace(
            "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom .enums import Status\n"
        )
        + "    status: Mapped[Status]\n",
        # the module imported, the enum reached as an attribute
        MODELS.replace(
            "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom shop import enums\n"
        )
        + "    status = mapped_column(sa.Enum(enums.Status))\n",
    ],
)
def test_member_added_to_an_enum_a_column_uses(repo: GitRepo, models: str) -> None:
    _setup(repo, models)
    repo.commit({"shop/enums.py": _enums_with(SUSPENDED)}, "new status")
    assert run(repo) == [
        (
            "MP701",
            "shop/enums.py",
            7,
            "schema change without a migration: enum class Status: member suspended added "
            "(used by a column in shop/models.py)",
        )
    ]


def test_member_added_with_its_migration(repo: GitRepo) -> None:
    _setup(repo, IMPORTED + COLUMN)
    repo.commit(
        {
            "shop/enums.py": _enums_with(SUSPENDED),
            "migrations/versions/b2.py": revision("b2", "a1"),
        }
    )
    assert run(repo) == []


@pytest.mark.parametrize(
    ("change", "extra"),
    [
        # an enum no column uses
        ({"shop/enums.py": ENUMS + '    blue = "blue"\n'}, None),
        # comments and formatting of the used one
        ({"shop/enums.py": ENUMS.replace("class Status", "# shown to admins\nclass Status")}, None),
        # a Status of another module, which only an API schema uses
        (
            {"shop/api.py": "import enum\n\nclass Status(enum.Enum):\n    up = 1\n    down = 2\n"},
            {"shop/api.py": "import enum\n\nclass Status(enum.Enum):\n    up = 1\n"},
        ),
        # the used enum, used by a test's model only
        (
            {"shop/enums.py": _enums_with(SUSPENDED)},
            {"shop/models.py": MODELS, "tests/test_models.py": IMPORTED + COLUMN},
        ),
    ],
)
def test_enum_changes_no_column_sees(
    repo: GitRepo, change: dict[str, str | None], extra: dict[str, str | None] | None
) -> None:
    _setup(repo, IMPORTED + COLUMN, extra)
    repo.commit(change)
    assert run(repo) == []


def test_enum_used_in_its_own_models_file_is_reported_once(repo: GitRepo) -> None:
    # Status lives in shop/models.py, a column there uses it, and shop/admins.py's too
    status = 'class Status(enum.Enum):\n    active = "active"\n    banned = "banned"\n'
    models = "import enum\n" + MODELS.lstrip("\n") + COLUMN + "\n\n" + status
    admins = (
        "import sqlalchemy as sa\nfrom sqlalchemy.orm import Mapped, mapped_column\n"
        "from shop.models import Base, Status\n\n\nclass Admin(Base):\n"
        '    __tablename__ = "admins"\n    id: Mapped[int] = mapped_column(primary_key=True)\n'
        + COLUMN
    )
    _setup(repo, models, {"shop/admins.py": admins})
    repo.commit({"shop/models.py": models + SUSPENDED})
    assert run(repo) == [
        (
            "MP701",
            "shop/models.py",
            23,
            "schema change without a migration: enum class Status: member suspended added",
        )
    ]


def test_a_column_removed_with_the_local_enum_it_used_left_defined(repo: GitRepo) -> None:
    status = 'class Status(enum.Enum):\n    active = "active"\n    banned = "banned"\n'
    models = "import enum\n" + MODELS.lstrip("\n")
    _setup(repo, models + COLUMN + "\n\n" + status)
    repo.commit({"shop/models.py": models + "\n\n" + status})
    assert [(check, path, message) for check, path, _, message in run(repo)] == [
        (
            "MP701",
            "shop/models.py",
            "schema change without a migration: table users: column status removed "
            "(line 17 in main's version)",
        )
    ]


RELATIVE = MODELS.replace(
    "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom .enums import Status\n"
)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (IMPORTED + COLUMN, RELATIVE + COLUMN),
        (RELATIVE + COLUMN, IMPORTED + COLUMN),
        (
            IMPORTED.replace("from shop.enums import Status", "from shop import enums")
            + COLUMN.replace("sa.Enum(Status", "sa.Enum(enums.Status"),
            IMPORTED.replace("from shop.enums import Status", "from . import enums")
            + COLUMN.replace("sa.Enum(Status", "sa.Enum(enums.Status"),
        ),
    ],
)
def test_an_import_rewritten_relative_or_absolute_is_no_change(
    repo: GitRepo, before: str, after: str
) -> None:
    _setup(repo, before)
    repo.commit({"shop/models.py": after})
    assert run(repo) == []


def test_a_relative_import_of_another_enum_is_a_change(repo: GitRepo) -> None:
    # the same name, from a module beside it: another enum, so another set of labels
    _setup(repo, IMPORTED + COLUMN, {"shop/kinds.py": ENUMS})
    repo.commit({"shop/models.py": RELATIVE.replace(".enums", ".kinds") + COLUMN})
    assert run(repo) == [
        (
            "MP701",
            "shop/models.py",
            17,
            "schema change without a migration: table users: column status changed",
        )
    ]


@pytest.mark.parametrize(
    ("module_import", "base"),
    [("import enum as e", "e.Enum"), ("from enum import StrEnum as Labels", "Labels")],
)
def test_member_added_to_an_enum_whose_base_is_imported_under_an_alias(
    repo: GitRepo, module_import: str, base: str
) -> None:
    aliased = ENUMS.replace("import enum", module_import).replace("enum.Enum", base)
    _setup(repo, IMPORTED + COLUMN, {"shop/enums.py": aliased})
    repo.commit(
        {
            "shop/enums.py": aliased.replace(
                '    banned = "banned"\n', '    banned = "banned"\n' + SUSPENDED
            )
        }
    )
    assert run(repo) == [
        (
            "MP701",
            "shop/enums.py",
            7,
            "schema change without a migration: enum class Status: member suspended added "
            "(used by a column in shop/models.py)",
        )
    ]


def test_member_removed_from_an_enum_a_column_uses_points_at_the_base_line(
    repo: GitRepo,
) -> None:
    _setup(repo, IMPORTED + COLUMN)
    repo.commit({"shop/enums.py": ENUMS.replace('    banned = "banned"\n', "")})
    assert run(repo) == [
        (
            "MP701",
            "shop/enums.py",
            6,
            "schema change without a migration: enum class Status: member banned removed "
            "(used by a column in shop/models.py) (line 6 in main's version)",
        )
    ]
