"""alembic.ini and pyproject.toml's ``[tool.alembic]``, read as Alembic reads them, without
importing Alembic.

Alembic (1.16+, ``alembic/config.py``) reads an option from alembic.ini's section when it is
there, else from ``[tool.alembic]``; ``%(here)s`` is the directory of the file the value came
from; the list options ``version_locations`` and ``prepend_sys_path`` are split on the
``path_separator`` alembic.ini names (``version_path_separator``, deprecated, for
version_locations only), or by the legacy rule without one, while ``[tool.alembic]`` gives
them as TOML lists. Each alembic.ini option is interpolated only when read, as Alembic does:
other options may hold ``%(DB_USER)s`` keys that env.py fills in with ``set_section_option``.

>>> settings = read_alembic_settings(Path("alembic.ini"))  # doctest: +SKIP
>>> settings.version_locations()  # doctest: +SKIP
PathList(items=('/repo/db/core', '/repo/db/billing'), from_ini=True)
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migproof.errors import ConfigError

if TYPE_CHECKING:
    from migproof.config import Config

__all__ = [
    "FLASK_DIRECTORY",
    "LOCATION_OPTIONS",
    "AlembicSettings",
    "PathList",
    "project_ini",
    "read_alembic_settings",
    "read_ini_options",
    "read_tool_alembic",
]

# The options that say where a project's scripts, revisions and modules are.
LOCATION_OPTIONS = (
    "script_location",
    "version_locations",
    "path_separator",
    "version_path_separator",
    "prepend_sys_path",
)
# Where `flask db init` (Flask-Migrate) puts the Alembic directory: alembic.ini, env.py and
# versions/ together, the ini without a script_location (Flask-Migrate sets it at run time).
FLASK_DIRECTORY = "migrations"
# Alembic's Config._get_file_separator_char.
_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
# Alembic's legacy split when alembic.ini names no separator (deprecated since 1.16).
_LEGACY_SPLIT = {
    "version_locations": re.compile(r", *|(?: +)"),
    "prepend_sys_path": re.compile(r", *|(?: +)|\:"),
}
# The keys naming each list option's separator, in the order Alembic looks them up.
_SEPARATOR_KEYS = {
    "version_locations": ("path_separator", "version_path_separator"),
    "prepend_sys_path": ("path_separator",),
}


def project_ini(directory: Path, config: Config) -> Path | None:
    """The alembic.ini of the project in ``directory``: alembic-config (relative to it), or,
    when that option kept its default and the file is absent, a Flask-Migrate project's
    ``migrations/alembic.ini`` beside its env.py; None when there is none.
    """
    ini = Path(config.alembic_config)
    ini = ini if ini.is_absolute() else directory / ini
    if ini.is_file():
        return ini
    flask = directory / FLASK_DIRECTORY
    default = config.uses_default("alembic-config")
    if default and (flask / "alembic.ini").is_file() and (flask / "env.py").is_file():
        return flask / "alembic.ini"
    return None


@dataclass(frozen=True, slots=True)
class PathList:
    """A list option split as Alembic splits it, ``%(here)s`` expanded; ``from_ini``: it
    came from alembic.ini (else from ``[tool.alembic]``)."""

    items: tuple[str, ...]
    from_ini: bool


@dataclass(frozen=True, slots=True)
class AlembicSettings:
    """The location options of one alembic.ini section and of ``[tool.alembic]``.

    ``ini`` is None when alembic.ini does not exist or has no such section.
    """

    ini_path: Path
    section: str
    ini: Mapping[str, str] | None
    toml: Mapping[str, str | list[str]] = field(default_factory=dict)

    @property
    def has_section(self) -> bool:
        return self.ini is not None

    def script_location(self) -> tuple[str, bool] | None:
        """The script directory as written (``path`` or ``package:path``), and whether it
        came from alembic.ini; None when neither file sets one."""
        if self.ini is not None and "script_location" in self.ini:
            value = self.ini["script_location"]
            return (value, True) if value else None
        found = self.toml.get("script_location")
        return (found, False) if isinstance(found, str) and found else None

    def version_locations(self) -> PathList | None:
        """``version_locations``; None when unset (the revisions are in script_location's
        ``versions``). Raises ConfigError for a separator Alembic rejects."""
        return self._path_list("version_locations")

    def prepend_sys_path(self) -> PathList | None:
        """``prepend_sys_path``; None when unset. Raises ConfigError as version_locations."""
        return self._path_list("prepend_sys_path")

    def _path_list(self, name: str) -> PathList | None:
        value = self.ini.get(name) if self.ini is not None else None
        if value and self.ini is not None:
            return PathList(tuple(_split(value, name, self.ini, self.ini_path)), from_ini=True)
        found = self.toml.get(name)
        if isinstance(found, list):
            return PathList(tuple(item for item in found if item), from_ini=False)
        return None


def read_alembic_settings(
    ini_path: Path, section: str = "alembic", pyproject: Path | None = None
) -> AlembicSettings:
    """alembic.ini's ``section`` (when the file exists) and ``pyproject``'s [tool.alembic]
    (when given). Raises ConfigError when alembic.ini cannot be read or an option there
    cannot be interpolated."""
    ini = read_ini_options(ini_path, section) if ini_path.is_file() else None
    toml = read_tool_alembic(pyproject) if pyproject is not None else {}
    return AlembicSettings(ini_path, section, ini, toml)


def read_ini_options(
    ini_path: Path, section: str, names: Iterable[str] = LOCATION_OPTIONS
) -> dict[str, str] | None:
    """The ``names`` set in one section of alembic.ini, each interpolated alone, with
    ``%(here)s`` the file's directory; None when the file has no such section."""
    parser = configparser.ConfigParser(defaults={"here": ini_path.absolute().parent.as_posix()})
    try:
        parser.read(ini_path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{ini_path} is not a valid ini file: {exc}", fix=f"correct {ini_path.name}"
        ) from exc
    if not parser.has_section(section):
        return None
    options: dict[str, str] = {}
    for name in names:
        try:
            value = parser.get(section, name, fallback=None)
        except configparser.InterpolationError as exc:
            raise ConfigError(
                f"{ini_path}: [{section}] {name} cannot be read: {exc.message}",
                fix=f"correct {name} in {ini_path.name} (write a literal % as %%)",
            ) from exc
        if value is not None:
            options[name] = value
    return options


def read_tool_alembic(
    pyproject: Path, names: Iterable[str] = LOCATION_OPTIONS
) -> dict[str, str | list[str]]:
    """``[tool.alembic]``'s strings and lists of strings among ``names``, ``%(here)s``
    expanded to the file's directory; empty when the file is missing or is no valid TOML
    (the configuration loader reports that)."""
    section = _tool_alembic_table(pyproject)
    if not section:
        return {}
    here = {"here": pyproject.absolute().parent.as_posix()}
    out: dict[str, str | list[str]] = {}
    for name in names:
        value = section.get(name)
        try:
            if isinstance(value, str):
                out[name] = value % here
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                out[name] = [v % here for v in value]
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{pyproject}: [tool.alembic] {name} cannot be read: {exc!r}",
                fix=f"correct {name}: %(here)s is the only key, a literal % is written %%",
            ) from exc
    return out


def _split(value: str, name: str, ini: Mapping[str, str], ini_path: Path) -> list[str]:
    """Alembic's Config.get_version_locations_list / get_prepend_sys_paths_list split."""
    key, separator = next(((k, ini[k]) for k in _SEPARATOR_KEYS[name] if k in ini), (None, None))
    if key is None or separator is None:
        # (Alembic keeps the empty items `a ,b` gives; they name no directory)
        return [item for item in _LEGACY_SPLIT[name].split(value) if item]
    if separator not in _SEPARATORS:
        raise ConfigError(
            f"{ini_path}: {separator!r} is not a valid value for {key}",
            fix=f"set {key} to one of space, newline, os, ':', ';' (as Alembic expects)",
        )
    return [item.strip() for item in value.split(_SEPARATORS[separator]) if item]


def _tool_alembic_table(pyproject: Path) -> dict[str, object]:
    """pyproject.toml's ``[tool.alembic]`` as TOML reads it; empty when there is none or the
    file is no valid TOML (the configuration loader reports that)."""
    try:
        with pyproject.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    tool = data.get("tool")
    section = tool.get("alembic") if isinstance(tool, dict) else None
    return section if isinstance(section, dict) else {}


_RECURSIVE = "recursive_version_locations"


def is_recursive(ini: Path, section: str = "alembic") -> bool:
    """Whether Alembic reads revision files below the versions directories too
    (``recursive_version_locations``: neutron keeps its revisions in
    ``versions/<release>/{expand,contract}/``).

    Read as Alembic 1.16+ reads it (``Config.get_alembic_boolean_option``): alembic.ini's
    section decides when it sets the option, and only the exact value ``true`` is true;
    else ``[tool.alembic]`` of the pyproject.toml beside it, where it is a TOML boolean.
    """
    try:
        options = read_ini_options(ini, section, (_RECURSIVE,)) if ini.is_file() else None
    except ConfigError:
        options = None  # the reading of its location options says what is wrong with it
    if options is not None and _RECURSIVE in options:
        return options[_RECURSIVE] == "true"
    value = _tool_alembic_table(ini.parent / "pyproject.toml").get(_RECURSIVE, False)
    if not isinstance(value, bool):
        raise ConfigError(
            f"{ini.parent / 'pyproject.toml'}: [tool.alembic] {_RECURSIVE} is {value!r},"
            " not a boolean",
            fix=f"write {_RECURSIVE} = true (or false), as Alembic expects",
        )
    return value
