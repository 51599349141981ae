"""Where migrations and models are: alembic.ini, pyproject, env.py imports, detection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.guard.scenario import EMAIL, MODELS, revision

from migproof.config import load_config
from migproof.errors import ConfigError
from migproof.guard import guard
from migproof.guard.project import absolute_module, compile_glob, is_test_path, load_project


def dirs(repo: GitRepo, start: Path | None = None) -> list[tuple[str, str]]:
    return list(load_project(load_config(start or repo.path), repo.path).migration_dirs)


def test_version_locations_and_here(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write(
        {
            "alembic.ini": "[alembic]\nscript_location = %(here)s/db\n"
            "version_locations = %(here)s/db/core %(here)s/db/billing\n"
        }
    )
    assert dirs(repo) == [
        ("db/core", "alembic.ini version_locations"),
        ("db/billing", "alembic.ini version_locations"),
    ]


def test_package_script_location(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write(
        {
            "alembic.ini": "[alembic]\nscript_location = shop:migrations\n",
            "src/shop/migrations/env.py": "",
        }
    )
    assert dirs(repo) == [("src/shop/migrations/versions", "alembic.ini script_location")]


def test_pyproject_tool_alembic(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write({"pyproject.toml": '[tool.alembic]\nscript_location = "%(here)s/alembic"\n'})
    assert dirs(repo) == [("alembic/versions", "pyproject.toml [tool.alembic] script_location")]


def test_config_in_a_subdirectory_of_the_repository(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "mono")
    repo.write(
        {
            "services/api/pyproject.toml": "[tool.migproof.guard]\n"
            'migration-dirs = ["db/versions"]\nallow-edited = ["db/versions/0001_*"]\n',
        }
    )
    project = load_project(load_config(repo.path / "services/api"), repo.path)
    assert project.migration_dirs == (("services/api/db/versions", "guard.migration-dirs"),)
    assert project.is_allowed_edit("services/api/db/versions/0001_init.py")
    assert not project.is_allowed_edit("db/versions/0001_init.py")


def test_detected_sql_and_alembic_directories(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write(
        {
            "db/migrations/000001_init.up.sql": "SELECT 1;\n",
            "tools/alembic/env.py": "",
            "tools/alembic/versions/a1.py": "",
            "node_modules/x/migrations/1_x.sql": "",
        }
    )
    assert dirs(repo) == [
        ("db/migrations", "detected (.sql migrations)"),
        ("tools/alembic/versions", "detected (env.py)"),
    ]


def test_env_py_imports_are_followed_to_the_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.commit(
        {
            "alembic.ini": "[alembic]\nscript_location = migrations\n",
            "migrations/env.py": "from app.db.base import Base\ntarget_metadata = Base.metadata\n",
            "migrations/versions/a1.py": revision("a1", None),
            "app/db/base.py": "from app.db.base_class import Base\nfrom app.users import User\n",
            "app/db/base_class.py": "from sqlalchemy.orm import DeclarativeBase\n"
            "class Base(DeclarativeBase):\n    pass\n",
            "app/users.py": MODELS,
            "app/reports.py": MODELS.replace('"users"', '"report_users"'),
        }
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    repo.commit(
        {
            "app/users.py": MODELS + EMAIL,
            "app/reports.py": MODELS.replace('"users"', '"report_users"') + EMAIL,
        }
    )
    report = guard(load_config(repo.path), "main")
    assert [(f.check, str(f.location.path) if f.location else "") for f in report.findings] == [
        ("MP701", "app/users.py")
    ]


def test_without_env_py_any_non_test_file_declaring_tables_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.commit(
        {
            "pyproject.toml": '[tool.migproof.guard]\nmigration-dirs = ["migrations"]\n',
            "migrations/0001.sql": "CREATE TABLE users (id int);\n",
            "app/models.py": MODELS,
            "tests/test_models.py": MODELS,
        }
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    repo.commit({"app/models.py": MODELS + EMAIL, "tests/test_models.py": MODELS + EMAIL})
    report = guard(load_config(repo.path), "main")
    assert [str(f.location.path) for f in report.findings if f.location] == ["app/models.py"]


def test_syntax_error_in_a_models_file(repo: GitRepo) -> None:
    repo.commit({"shop/models.py": MODELS + "    email: Mapped[str = 1\n"})
    report = guard(load_config(repo.path), "main")
    assert [(f.check, f.location.line if f.location else 0) for f in report.findings] == [
        ("MP706", 16)
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("app/**/*.py", "app/models.py", True),
        ("app/**/*.py", "app/a/b/models.py", True),
        ("app/*.py", "app/a/models.py", False),
        ("schema/*.sql", "schema/x.sql", True),
        ("**/schema.sql", "schema.sql", True),
        ("v?/x.py", "v1/x.py", True),
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert bool(compile_glob(pattern).match(path)) is matches


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/models.py", True),
        ("app/test_x.py", True),
        ("app/conftest.py", True),
        ("app/models.py", False),
        ("app/contest.py", False),
    ],
)
def test_test_paths(path: str, expected: bool) -> None:
    assert is_test_path(path) is expected


INTERPOLATED_URL = "sqlalchemy.url = postgresql://%(DB_USER)s:%(DB_PASS)s@%(DB_HOST)s/shop\n"


def test_interpolation_keys_in_options_guard_does_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # env.py fills DB_USER etc. with config.set_section_option; the file alone cannot expand them
    repo = GitRepo(tmp_path / "p")
    repo.commit(
        {
            "alembic.ini": "[alembic]\nscript_location = migrations\n" + INTERPOLATED_URL,
            "migrations/env.py": "from shop.models import Base\ntarget_metadata = Base.metadata\n",
            "migrations/versions/a1.py": revision("a1", None),
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
        }
    )
    assert dirs(repo) == [("migrations/versions", "alembic.ini script_location")]
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    repo.commit({"shop/models.py": MODELS + EMAIL})
    report = guard(load_config(repo.path), "main")
    assert [(f.check, f.location.line if f.location else 0) for f in report.findings] == [
        ("MP701", 16)
    ]


def test_interpolation_error_in_an_option_guard_reads_is_a_config_error(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write({"alembic.ini": "[alembic]\nscript_location = %(APP_DIR)s/migrations\n"})
    with pytest.raises(ConfigError) as caught:
        dirs(repo)
    assert "[alembic] script_location cannot be read" in caught.value.what
    assert "'app_dir'" in caught.value.what
    assert caught.value.fix is not None and "migration-dirs" in caught.value.fix


def test_an_ini_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    (repo.path / "alembic.ini").write_bytes(b"[alembic]\nscript_location = caf\xe9\n")
    with pytest.raises(ConfigError, match="is not a valid ini file"):
        dirs(repo)


@pytest.mark.parametrize(
    ("settings", "locations", "expected"),
    [
        # Alembic >= 1.16 writes `path_separator = os` in its templates
        ("path_separator = os\n", "%(here)s/db/core{os}%(here)s/db/billing", ["core", "billing"]),
        ("path_separator = ;\n", "db/core; db/billing", ["core", "billing"]),
        ("path_separator = space\n", "db/core db/billing", ["core", "billing"]),
        ("path_separator = newline\n", "\n    db/core\n    db/billing", ["core", "billing"]),
        ("path_separator = os\n", "%(here)s/db/my core", ["my core"]),  # a space is no separator
        ("version_path_separator = :\n", "db/core:db/billing", ["core", "billing"]),
        # path_separator wins over the deprecated version_path_separator, as in Alembic
        ("path_separator = space\nversion_path_separator = ;\n", "db/a;b db/c", ["a;b", "c"]),
        ("", "db/core, db/billing db/x;y", ["core", "billing", "x;y"]),  # legacy: space, comma
    ],
)
def test_version_locations_split_as_alembic_splits_them(
    tmp_path: Path, settings: str, locations: str, expected: list[str]
) -> None:
    repo = GitRepo(tmp_path / "p")
    locations = locations.replace("{os}", os.pathsep)
    repo.write(
        {
            "alembic.ini": f"[alembic]\nscript_location = db\n{settings}"
            f"version_locations = {locations}\n"
        }
    )
    assert dirs(repo) == [(f"db/{d}", "alembic.ini version_locations") for d in expected]


def test_prepend_sys_path_split_by_path_separator(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write(
        {
            "alembic.ini": "[alembic]\nscript_location = db\npath_separator = ;\n"
            "prepend_sys_path = .; my src\n"
        }
    )
    project = load_project(load_config(repo.path), repo.path)
    assert project.search_roots[:2] == ("", "my src")


def test_an_invalid_path_separator_is_a_config_error(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write(
        {
            "alembic.ini": "[alembic]\nscript_location = db\npath_separator = comma\n"
            "version_locations = db/a,db/b\n"
        }
    )
    with pytest.raises(ConfigError, match="'comma' is not a valid value for path_separator"):
        dirs(repo)


def test_alembic_ini_and_pyproject_tool_alembic_together(tmp_path: Path) -> None:
    # `alembic init --template pyproject`: the URL in alembic.ini, the paths in pyproject.toml
    repo = GitRepo(tmp_path / "p")
    repo.write(
        {
            "alembic.ini": "[alembic]\n" + INTERPOLATED_URL,
            "pyproject.toml": '[tool.alembic]\nscript_location = "%(here)s/db"\n'
            'version_locations = ["%(here)s/db/my core", "db/billing"]\n',
        }
    )
    assert dirs(repo) == [
        ("db/my core", "pyproject.toml [tool.alembic] version_locations"),
        ("db/billing", "pyproject.toml [tool.alembic] version_locations"),
    ]


@pytest.mark.parametrize(("add_revision", "expected"), [(False, ["MP701"]), (True, [])])
def test_a_revision_in_a_path_separated_version_location_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, add_revision: bool, expected: list[str]
) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.commit(
        {
            "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n"
            "path_separator = os\nversion_locations = "
            f"%(here)s/migrations/versions{os.pathsep}%(here)s/migrations/data\n",
            "migrations/env.py": "from shop.models import Base\ntarget_metadata = Base.metadata\n",
            "migrations/versions/a1.py": revision("a1", None),
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
        }
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    new = {"migrations/data/b2.py": revision("b2", "a1")} if add_revision else {}
    repo.commit({"shop/models.py": MODELS + EMAIL, **new})
    report = guard(load_config(repo.path), "main")
    assert [f.check for f in report.findings] == expected


MIXIN = """
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

class TimestampMixin:
    created_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime)
"""
UPDATED_AT = "    updated_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime)\n"
USER = """
from sqlalchemy.orm import Mapped, mapped_column
from app.db import Base
from app.mixins import TimestampMixin

class User(TimestampMixin, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def _models_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> GitRepo:
    """env.py imports the package app.models; the mixin is reached only through its files."""
    repo = GitRepo(tmp_path / "p")
    repo.commit(
        {
            "alembic.ini": "[alembic]\nscript_location = migrations\n",
            "migrations/env.py": "from app.models import Base\ntarget_metadata = Base.metadata\n",
            "migrations/versions/a1.py": revision("a1", None),
            "app/__init__.py": "",
            "app/db.py": "from sqlalchemy.orm import DeclarativeBase\n\n"
            "class Base(DeclarativeBase):\n    pass\n",
            "app/mixins.py": MIXIN,
            "app/legacy_mixins.py": MIXIN,  # imported by nothing: not this database's schema
            **files,
        }
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    return repo


def _changed_mixins(repo: GitRepo) -> list[tuple[str, str]]:
    text = MIXIN.lstrip("\n")
    repo.commit({"app/mixins.py": text + UPDATED_AT, "app/legacy_mixins.py": text + UPDATED_AT})
    report = guard(load_config(repo.path), "main")
    return [(f.check, str(f.location.path) if f.location else "") for f in report.findings]


@pytest.mark.parametrize(
    "files",
    [
        {  # absolute imports, the module imported by the package's __init__
            "app/models/__init__.py": "from app.db import Base\nfrom app.models.user import User\n",
            "app/models/user.py": USER,
        },
        {  # relative imports
            "app/models/__init__.py": "from ..db import Base\nfrom .user import User\n",
            "app/models/user.py": USER.replace("from app.mixins", "from ..mixins"),
        },
        {  # `from . import user`, one more package level
            "app/models/__init__.py": "from app.db import Base\nfrom . import accounts\n",
            "app/models/accounts/__init__.py": "from .user import User\n",
            "app/models/accounts/user.py": USER,
        },
        {  # the package imports its modules in a loop: none is imported by name
            "app/models/__init__.py": "import importlib, pkgutil\nfrom app.db import Base\n"
            "for m in pkgutil.iter_modules(__path__):\n"
            "    importlib.import_module(f'{__name__}.{m.name}')\n",
            "app/models/user.py": USER,
        },
    ],
)
def test_imports_of_files_inside_a_package_in_scope_are_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> None:
    repo = _models_package(tmp_path, monkeypatch, files)
    assert _changed_mixins(repo) == [("MP701", "app/mixins.py")]


def test_a_mixin_module_nothing_in_scope_imports_stays_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "app/models/__init__.py": "from app.db import Base\nfrom app.models.user import User\n",
        "app/models/user.py": USER.replace("from app.mixins import TimestampMixin\n", "").replace(
            "TimestampMixin, ", ""
        ),
    }
    repo = _models_package(tmp_path, monkeypatch, files)
    assert _changed_mixins(repo) == []


def _chain(tmp_path: Path, length: int) -> GitRepo:
    """env.py -> app/m1.py -> app/m2.py -> ... -> app/m<length>.py, and an unrelated module."""
    repo = GitRepo(tmp_path / "p")
    files: dict[str, str | None] = {
        "alembic.ini": "[alembic]\nscript_location = migrations\n",
        "migrations/env.py": "import app.m1\n",
        "app/other.py": "",
    }
    for index in range(1, length + 1):
        files[f"app/m{index}.py"] = f"import app.m{index + 1}\n" if index < length else ""
    repo.write(files)
    return repo


@pytest.mark.parametrize(
    ("length", "last", "other"),
    [
        (4, True, False),  # four modules deep: all in scope, the walk is complete
        (5, None, None),  # the fourth imports a fifth: the walk stops short, so unknown
    ],
)
def test_scope_beyond_the_depth_limit_is_unknown_not_out(
    tmp_path: Path, length: int, last: bool | None, other: bool | None
) -> None:
    repo = _chain(tmp_path, length)
    project = load_project(load_config(repo.path), repo.path)
    assert project.is_in_env_scope("app/m4.py") is True
    assert project.is_in_env_scope(f"app/m{length}.py") is last
    assert project.is_in_env_scope("app/other.py") is other


def test_scope_beyond_the_file_limit_is_unknown_not_out(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    many = {f"app/models/m{i}.py": "import app.helpers\n" for i in range(70)}
    repo.write(
        {
            "alembic.ini": "[alembic]\nscript_location = migrations\n",
            "migrations/env.py": "import app.models\n",
            "app/__init__.py": "",
            "app/models/__init__.py": "",
            "app/helpers.py": "",
            "app/other.py": "",
            **many,
        }
    )
    project = load_project(load_config(repo.path), repo.path)
    assert project.is_in_env_scope("app/models/m69.py") is True  # the package counts whole
    assert project.is_in_env_scope("app/other.py") is None  # 60 files parsed, 10 left


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("shop/models.py", ("shop.models", "shop")),
        ("shop/models/__init__.py", ("shop.models", "shop.models")),
        ("src/billing/enums.py", ("billing.enums", "billing")),  # under the src/ root
        ("enums.py", ("enums", "")),
        ("my app/enums.py", None),  # not importable by that path
    ],
)
def test_module_names(tmp_path: Path, path: str, expected: tuple[str, str] | None) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write({"alembic.ini": "[alembic]\nscript_location = migrations\n"})
    project = load_project(load_config(repo.path), repo.path)
    assert project.module_name(path) == expected


@pytest.mark.parametrize(
    ("package", "level", "module", "sep", "expected"),
    [
        ("shop", 1, "enums", ".", "shop.enums"),  # from .enums import Status
        ("shop", 1, None, ".", "shop"),  # from . import enums
        ("shop.models", 2, "db", ".", "shop.db"),  # from ..db import Base
        ("shop.models", 2, "db.base", ".", "shop.db.base"),
        ("shop.models", 3, "db", ".", None),  # above the top-level package
        ("", 1, "enums", ".", "enums"),  # a top-level module, read leniently
        ("shop", 0, "shop.enums", ".", "shop.enums"),  # absolute: as written
        ("services/api.v2/shop", 1, "enums", "/", "services/api.v2/shop/enums"),
        ("app/models", 2, "db.base", "/", "app/db/base"),
        ("app", 3, None, "/", None),
    ],
)
def test_absolute_module(
    package: str, level: int, module: str | None, sep: str, expected: str | None
) -> None:
    assert absolute_module(package, level, module, sep=sep) == expected


def test_relative_imports_in_a_directory_with_a_dot_are_followed(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "p")
    repo.write(
        {
            "api.v2/alembic.ini": "[alembic]\nscript_location = migrations\n",
            "api.v2/migrations/env.py": "from shop.models import Base\n",
            "api.v2/shop/__init__.py": "",
            "api.v2/shop/models.py": "from .base import Base\n",
            "api.v2/shop/base.py": "",
            "api.v2/shop/other.py": "",
        }
    )
    project = load_project(load_config(repo.path / "api.v2"), repo.path)
    assert project.is_in_env_scope("api.v2/shop/base.py") is True
    assert project.is_in_env_scope("api.v2/shop/other.py") is False
