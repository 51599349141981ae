"""alembic.ini and [tool.alembic] read without Alembic, checked against Alembic's own reading."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from migproof.alembic_ini import (
    PathList,
    read_alembic_settings,
    read_ini_options,
    read_tool_alembic,
)
from migproof.errors import ConfigError

INTERPOLATED_URL = "sqlalchemy.url = postgresql://%(DB_USER)s:%(DB_PASS)s@%(DB_HOST)s/shop\n"


def _write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")


def _alembics(ini: Path, toml: Path | None = None) -> tuple[list[str] | None, list[str] | None]:
    """What Alembic itself (1.16+) makes of the same files, empty items left out."""
    from alembic.config import Config

    if not hasattr(Config, "get_prepend_sys_paths_list"):
        pytest.skip("Alembic < 1.16 has no path_separator")
    config = Config(str(ini), toml_file=str(toml) if toml else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy split is deprecated
        versions, prepend = config.get_version_locations_list(), config.get_prepend_sys_paths_list()
    return _non_empty(versions), _non_empty(prepend)


def _non_empty(items: list[str] | None) -> list[str] | None:
    return None if items is None else [item for item in items if item]


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
        ("", "db/core ,db/billing", ["core", "billing"]),  # legacy: empty items dropped
    ],
)
def test_version_locations_split_as_alembic_splits_them(
    tmp_path: Path, settings: str, locations: str, expected: list[str]
) -> None:
    ini = tmp_path / "alembic.ini"
    locations = locations.replace("{os}", os.pathsep)
    _write(tmp_path, {"alembic.ini": f"[alembic]\n{settings}version_locations = {locations}\n"})
    found = read_alembic_settings(ini).version_locations()
    assert found is not None and found.from_ini
    assert [item.rsplit("db/", 1)[1] for item in found.items] == expected
    assert list(found.items) == _alembics(ini)[0]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("path_separator = ;\nprepend_sys_path = .; my src\n", [".", "my src"]),
        ("path_separator = os\nprepend_sys_path = .{os}src\n", [".", "src"]),
        ("prepend_sys_path = . src:lib,vendor\n", [".", "src", "lib", "vendor"]),  # legacy
        # version_path_separator is for version_locations only
        ("version_path_separator = ;\nprepend_sys_path = a;b c\n", ["a;b", "c"]),
    ],
)
def test_prepend_sys_path_split_as_alembic_splits_it(
    tmp_path: Path, settings: str, expected: list[str]
) -> None:
    ini = tmp_path / "alembic.ini"
    _write(tmp_path, {"alembic.ini": "[alembic]\n" + settings.replace("{os}", os.pathsep)})
    assert read_alembic_settings(ini).prepend_sys_path() == PathList(tuple(expected), True)
    assert expected == _alembics(ini)[1]


def test_here_is_the_directory_of_the_file_the_value_came_from(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "db/alembic.ini": "[alembic]\nscript_location = %(here)s/scripts\n",
            "pyproject.toml": '[tool.alembic]\nversion_locations = ["%(here)s/a", "b"]\n',
        },
    )
    settings = read_alembic_settings(
        tmp_path / "db/alembic.ini", pyproject=tmp_path / "pyproject.toml"
    )
    assert settings.script_location() == (f"{tmp_path.as_posix()}/db/scripts", True)
    assert settings.version_locations() == PathList((f"{tmp_path.as_posix()}/a", "b"), False)
    ini, toml = tmp_path / "db/alembic.ini", tmp_path / "pyproject.toml"
    assert _alembics(ini, toml)[0] == [f"{tmp_path.as_posix()}/a", "b"]


def test_alembic_ini_beats_tool_alembic_option_by_option(tmp_path: Path) -> None:
    # `alembic init --template pyproject`: the URL in alembic.ini, the paths in pyproject.toml
    _write(
        tmp_path,
        {
            "alembic.ini": "[alembic]\nversion_locations = db/x\n" + INTERPOLATED_URL,
            "pyproject.toml": '[tool.alembic]\nscript_location = "db"\n'
            'version_locations = ["db/a"]\nprepend_sys_path = ["src"]\n',
        },
    )
    settings = read_alembic_settings(
        tmp_path / "alembic.ini", pyproject=tmp_path / "pyproject.toml"
    )
    assert settings.script_location() == ("db", False)
    assert settings.version_locations() == PathList(("db/x",), True)
    assert settings.prepend_sys_path() == PathList(("src",), False)


def test_an_empty_script_location_in_alembic_ini_is_none_not_tool_alembics(
    tmp_path: Path,
) -> None:
    # Alembic's get_alembic_option: an option alembic.ini has, even empty, is alembic.ini's
    _write(
        tmp_path,
        {
            "alembic.ini": "[alembic]\nscript_location =\n",
            "pyproject.toml": '[tool.alembic]\nscript_location = "db"\n',
        },
    )
    settings = read_alembic_settings(
        tmp_path / "alembic.ini", pyproject=tmp_path / "pyproject.toml"
    )
    assert settings.script_location() is None


def test_a_missing_file_or_section_is_no_settings(tmp_path: Path) -> None:
    missing = read_alembic_settings(tmp_path / "alembic.ini")
    assert (missing.has_section, missing.script_location(), missing.version_locations()) == (
        False,
        None,
        None,
    )
    _write(tmp_path, {"alembic.ini": "[reporting]\nscript_location = db\n"})
    assert read_ini_options(tmp_path / "alembic.ini", "alembic") is None
    other = read_alembic_settings(tmp_path / "alembic.ini", "reporting")
    assert other.has_section and other.script_location() == ("db", True)


def test_options_it_does_not_read_are_not_interpolated(tmp_path: Path) -> None:
    # env.py fills DB_USER etc. with config.set_section_option; the file alone cannot expand them
    _write(tmp_path, {"alembic.ini": "[alembic]\nscript_location = db\n" + INTERPOLATED_URL})
    assert read_ini_options(tmp_path / "alembic.ini", "alembic") == {"script_location": "db"}


def test_an_interpolation_error_in_an_option_it_reads(tmp_path: Path) -> None:
    _write(tmp_path, {"alembic.ini": "[alembic]\nscript_location = %(APP_DIR)s/migrations\n"})
    with pytest.raises(ConfigError) as caught:
        read_alembic_settings(tmp_path / "alembic.ini")
    assert "[alembic] script_location cannot be read" in caught.value.what
    assert "'app_dir'" in caught.value.what
    assert caught.value.fix == "correct script_location in alembic.ini (write a literal % as %%)"


def test_an_ini_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_bytes(b"[alembic]\nscript_location = caf\xe9\n")
    with pytest.raises(ConfigError, match="is not a valid ini file"):
        read_alembic_settings(tmp_path / "alembic.ini")


def test_an_invalid_path_separator_when_a_list_is_read(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"alembic.ini": "[alembic]\npath_separator = comma\nversion_locations = db/a,db/b\n"},
    )
    settings = read_alembic_settings(tmp_path / "alembic.ini")  # Alembic too: only when read
    with pytest.raises(ConfigError, match="'comma' is not a valid value for path_separator"):
        settings.version_locations()


def test_tool_alembic_with_an_unknown_key_or_no_valid_toml(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    _write(tmp_path, {"pyproject.toml": '[tool.alembic]\nscript_location = "%(root)s/db"\n'})
    with pytest.raises(ConfigError, match=r"\[tool.alembic\] script_location cannot be read"):
        read_tool_alembic(pyproject)
    _write(tmp_path, {"pyproject.toml": "[tool.alembic\n"})
    assert read_tool_alembic(pyproject) == {}
    assert read_tool_alembic(tmp_path / "missing.toml") == {}
