"""An Alembic project: its alembic.ini (or pyproject), script directory and revision files."""

from __future__ import annotations

import configparser
import contextlib
import os
import re
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migproof.alembic_ini import is_recursive, project_ini
from migproof.chain.flaskapp import uses_flask
from migproof.chain.graph import (
    RevisionGraph,
    iter_python_files,
    read_revision_file,
    with_module_header,
)
from migproof.config import Config
from migproof.errors import ConfigError

__all__ = [
    "AlembicProject",
    "BrokenRevision",
    "load_project",
    "placeholder_urls",
    "runnable_order",
    "sqlalchemy_pin_fix",
    "sqlalchemy_pins",
    "url_variables",
    "working_directory",
]


@dataclass(frozen=True, slots=True)
class BrokenRevision:
    """A revision file Alembic could not import: where and why."""

    path: Path
    error: str
    line: int | None


@dataclass
class AlembicProject:
    """Everything verify needs to know about one Alembic configuration."""

    root: Path  # the directory alembic.ini is in; Alembic's relative paths start there
    ini_path: Path | None
    section: str
    alembic_config: Any  # alembic.config.Config (typed loosely: alembic is imported lazily)
    script_location: Path
    version_locations: list[Path]
    # a Flask-Migrate project: env.py runs in the Flask application's context, loaded from
    # this directory (where `flask db upgrade` runs) by chain/flaskapp.py
    flask_root: Path | None
    env_source: str  # env.py's text, read once: what it connects with is looked up in it
    graph: RevisionGraph
    url_env: tuple[str, ...] = ()  # the variables verify points at the scratch database
    broken: dict[Path, BrokenRevision] = field(default_factory=dict)
    map_error: str | None = None  # Alembic could not build its revision map (cycle, missing id)
    _script_dir: Any = None

    def script_directory(self) -> Any:
        """Alembic's ScriptDirectory with every revision imported; broken files in ``broken``.

        Imported from the project's directory, as ``alembic`` run there would, so that
        ``prepend_sys_path = .`` and the revisions' own imports resolve (a Flask-Migrate
        project's from the application's directory, on sys.path as `flask` puts it).
        """
        from migproof.chain.tolerant import tolerant_script_directory

        if self._script_dir is None:
            with (
                working_directory(self.flask_root or self.root),
                warnings.catch_warnings(),
                placeholder_urls(self.url_env),
            ):
                warnings.simplefilter("ignore")  # Alembic warns of what the graph checks report
                before = list(sys.path)
                if self.flask_root is not None:  # as `flask` puts the application's directory
                    sys.path.insert(0, str(self.flask_root))
                script_dir = tolerant_script_directory(self.alembic_config, self.broken)
                _absolute_sys_path(before, self.root)
                try:
                    script_dir.revision_map.heads  # noqa: B018 - builds the map: imports every file
                except Exception as exc:  # cycles, missing ids: graph findings
                    self.map_error = f"{type(exc).__name__}: {exc}"
                finally:
                    if self.flask_root is not None and str(self.flask_root) in sys.path:
                        sys.path.remove(str(self.flask_root))
            self._script_dir = script_dir
            self._read_module_headers(script_dir)
        return self._script_dir

    def _read_module_headers(self, script_dir: Any) -> None:
        """Header fields written as names, not literals (glance's ``branch_labels =
        (migration.EXPAND_BRANCH,)``), taken from the imported revisions: the graph then
        has the labels and dependencies Alembic has."""
        files = self.graph.files
        if not any(rev.unresolved for rev in files):
            return
        resolved = []
        for rev in files:
            module = None
            if rev.unresolved and rev.revision:
                with contextlib.suppress(Exception):  # not loaded: it stays as read
                    module = script_dir.revision_map.get_revision(rev.revision).module
            resolved.append(with_module_header(rev, module) if module is not None else rev)
        self.graph = RevisionGraph(resolved)


# What the url-env variables the environment lacks hold while the revision files are
# imported, before any database exists: a URL that parses and never connects anywhere.
PLACEHOLDER_HOST = "migproof-no-database-yet.invalid"
PLACEHOLDER_URL = f"postgresql://{PLACEHOLDER_HOST}/migproof"


@contextlib.contextmanager
def url_variables(names: tuple[str, ...], url: str) -> Iterator[None]:
    """Set the environment variables ``names`` to ``url`` for the duration (with the driver
    a value set already names: ``postgresql+psycopg2://``), and restore them after."""
    saved = {name: os.environ.get(name) for name in names}
    for name, value in saved.items():
        os.environ[name] = _keep_scheme(value, url)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def placeholder_urls(names: tuple[str, ...]) -> contextlib.AbstractContextManager[None]:
    """``names`` hold ``PLACEHOLDER_URL`` while the project is imported: a revision that
    imports the application's settings, which require ``DATABASE_URL``, imports as it does
    under `alembic`, instead of failing with a KeyError; and an SQLAlchemy engine made then
    (airflow builds ``settings.engine`` as it is imported) is made from the placeholder,
    which connects to the scratch database (chain/stepper.py), never from the URL the
    user's shell holds (their development database, which verify would refuse)."""
    return url_variables(names, PLACEHOLDER_URL)


def _keep_scheme(existing: str | None, url: str) -> str:
    """``url`` with the SQLAlchemy driver ``existing`` names (``postgresql+psycopg2``)."""
    if existing and existing.startswith(("postgresql+", "postgres+")) and "://" in existing:
        return existing.split("://", 1)[0] + "://" + url.split("://", 1)[1]
    return url


def _absolute_sys_path(before: list[str], root: Path) -> None:
    """Make the entries Alembic prepended (``prepend_sys_path = .``) absolute.

    Python caches one finder per sys.path string, and the finder for "." is bound to the cwd
    of the moment it was made: a relative entry would find modules in the wrong directory.
    """
    added = len(sys.path) - len(before)
    for index in range(max(added, 0)):
        entry = sys.path[index]
        if not Path(entry).is_absolute():
            sys.path[index] = str((root / entry).resolve())


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Alembic resolves ``prepend_sys_path = .`` and relative paths against the cwd."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def load_project(config: Config, project_dir: Path | None = None) -> AlembicProject:
    """Find and read the Alembic configuration of ``project_dir`` (default: config's root).

    A missing or malformed alembic.ini is a ConfigError; broken revision files are not (they
    are findings, reported by verify).
    """
    from alembic.config import Config as AlembicConfig

    _check_sqlalchemy()
    root = (project_dir or config.root).resolve()
    if not root.is_dir():
        raise ConfigError(
            f"{root} is not a directory", fix="pass the directory of your Alembic project"
        )
    found = project_ini(root, config)
    ini = found or root / config.alembic_config
    if found is None:
        below = _inis_below(root)
        if below:  # nova/db: one chain per directory below
            raise ConfigError(
                f"no Alembic configuration: {ini} does not exist (below it: {', '.join(below)})",
                fix=f"run migproof on the directory of one, e.g. `migproof verify"
                f" {Path(below[0]).parent}`: its own configuration is read from there (one"
                " chain per run)",
            )
        raise ConfigError(
            f"no Alembic configuration: {ini} does not exist",
            fix="run migproof in the directory that has alembic.ini, pass it with -c FILE, "
            f"or set {config.setting('alembic-config')}",
        )
    section = config.alembic_name
    _check_ini(ini, section, config)
    alembic_config = AlembicConfig(str(ini), ini_section=section)
    script_location = alembic_config.get_main_option("script_location")
    if not script_location and (ini.parent / "env.py").is_file():
        # Flask-Migrate's alembic.ini has none: it sets the directory of alembic.ini
        script_location = str(ini.parent)
        alembic_config.set_main_option("script_location", script_location.replace("%", "%%"))
    if not script_location:
        raise ConfigError(
            f"{ini}: section [{section}] has no script_location",
            fix="add `script_location = <directory of env.py>` (see `alembic init`)",
        )
    project_root = ini.parent
    location = _resolve(project_root, script_location)
    if not (location / "env.py").is_file() and root != project_root:
        # Alembic reads a relative script_location from the working directory, where the
        # project directory (or migproof's own) stands for it: `-c pkg/alembic.ini`
        beside = _resolve(root, script_location)
        if (beside / "env.py").is_file():
            location = beside
            alembic_config.set_main_option("script_location", str(beside).replace("%", "%%"))
    if not (location / "env.py").is_file():
        raise ConfigError(
            f"{ini}: script_location {script_location} has no env.py ({location})",
            fix="point script_location at the directory that holds env.py",
        )
    versions = _version_locations(alembic_config, project_root, location)
    recursive = is_recursive(ini, section)
    files = [read_revision_file(p) for p in iter_python_files(versions, recursive=recursive)]
    try:
        env_source = (location / "env.py").read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(
            f"cannot read {location / 'env.py'}: {exc}", fix="check its permissions"
        ) from exc
    flask_root = None
    if uses_flask(env_source):  # run from the directory given, or above migrations/
        flask_root = root if root != project_root else project_root.parent
    return AlembicProject(
        root=project_root,
        ini_path=ini,
        section=section,
        alembic_config=alembic_config,
        script_location=location,
        version_locations=versions,
        flask_root=flask_root,
        env_source=env_source,
        graph=RevisionGraph(files),
        url_env=config.url_env,
    )


_BELOW_2 = re.compile(r"(==|~=|<=)\s*1\.|<\s*2(\.0)*(?![.\d])")


def sqlalchemy_pins() -> list[str]:
    """Installed packages that require a SQLAlchemy older than 2 (``indico 3.2.9 requires
    sqlalchemy==1.4.48``): pip installs migproof's SQLAlchemy 2 over them with a warning,
    and their code then fails as it loads. Read only to explain such a failure."""
    from importlib import metadata

    found: dict[str, str] = {}  # by distribution: one found twice on sys.path is one
    for dist in metadata.distributions():
        for requirement in dist.requires or ():
            spec, _, marker = requirement.partition(";")
            if "extra" in marker:  # an optional extra's: not installed by the project itself
                continue
            spec = spec.strip()
            name = re.match(r"[A-Za-z0-9_.-]+", spec)
            if name and name[0].lower() == "sqlalchemy" and _BELOW_2.search(spec[name.end() :]):
                distribution = dist.metadata["Name"]
                found.setdefault(
                    distribution.lower(), f"{distribution} {dist.version} requires {spec}"
                )
    return sorted(found.values())


# Errors SQLAlchemy 1.x code meets under SQLAlchemy 2 (its exception names; select([...]))
_SQLALCHEMY_2_BREAKS = re.compile(
    r"sqlalchemy|ArgumentError|ObjectNotExecutableError|InvalidRequestError|NoSuchModuleError"
    r"|RemovedIn20Warning|select\(\[",
    re.IGNORECASE,
)


def sqlalchemy_pin_fix(error: str) -> str | None:
    """The fix for a project whose installed packages pin SQLAlchemy 1.x, when ``error``
    looks like one that SQLAlchemy 1.x code meets under 2; else None."""
    if not _SQLALCHEMY_2_BREAKS.search(error):
        return None
    pins = sqlalchemy_pins()
    if not pins:
        return None
    return (
        f"{'; '.join(pins[:2])}, but migproof runs the project with SQLAlchemy 2: such a "
        "project cannot be run by this migproof until it moves to SQLAlchemy 2; meanwhile "
        "lint its files with `migproof lint --static`"
    )


def _inis_below(root: Path, depth: int = 2) -> list[str]:
    """The alembic.ini files up to ``depth`` directories below ``root`` (nova keeps one per
    chain, nova/db/main and nova/db/api), relative to the working directory."""
    found: list[Path] = []
    level = [root]
    for _ in range(depth):
        level = [d for parent in level for d in _subdirectories(parent)]
        found.extend(d / "alembic.ini" for d in level if (d / "alembic.ini").is_file())
    return sorted(_shown(p) for p in found)[:5]


def _subdirectories(directory: Path) -> list[Path]:
    try:
        return [d for d in directory.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))]
    except OSError:
        return []


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _check_sqlalchemy(version: str | None = None) -> None:
    """SQLAlchemy 2 (its psycopg 3 dialect) runs env.py; an application that pins 1.4 in the
    same environment would get a 'Can't load plugin' failure of every revision instead."""
    if version is None:
        import sqlalchemy

        version = sqlalchemy.__version__
    if int(version.split(".")[0]) < 2:
        raise ConfigError(
            f"SQLAlchemy {version} is installed; migproof runs env.py with SQLAlchemy 2.0 or later",
            fix="a project that pins SQLAlchemy 1.4 (Airflow 2) cannot be run by this migproof: "
            "upgrade the project to SQLAlchemy 2 to verify it, and meanwhile lint its files "
            "with `migproof lint --static`",
        )


def _check_ini(ini: Path, section: str, config: Config) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error as exc:
        message = str(exc).splitlines()[0]
        raise ConfigError(
            f"{ini} is malformed: {message}", fix="correct the line it names"
        ) from exc
    if not parser.has_section(section):
        known = ", ".join(parser.sections()) or "none"
        raise ConfigError(
            f"{ini} has no [{section}] section (sections: {known})",
            fix=f"choose the section with --name SECTION, or set {config.setting('alembic-name')}",
        )


def _resolve(root: Path, location: str) -> Path:
    if ":" in location and not Path(location).exists() and not location.startswith("/"):
        # "package:directory" form: resolve through the package
        package, *parts = location.split(":")  # "package:dir:subdir", as Alembic splits it
        with working_directory(root):
            sys.path.insert(0, str(root))
            try:
                import importlib

                module = importlib.import_module(package)
            except ImportError as exc:
                raise ConfigError(
                    f"script_location {location}: cannot import {package} ({exc})"
                ) from exc
            finally:
                sys.path.remove(str(root))
        return Path(next(iter(module.__path__))).joinpath(*parts)
    path = Path(location)
    return path if path.is_absolute() else (root / path).resolve()


def _version_locations(alembic_config: Any, root: Path, location: Path) -> list[Path]:
    listed = getattr(alembic_config, "get_version_locations_list", None)
    if listed is not None:  # Alembic 1.16+: split as its own commands split it (path_separator,
        # version_path_separator, [tool.alembic] in pyproject.toml)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no path_separator: the legacy split, deprecated
            parts = listed() or []
        if not parts:
            return [location / "versions"]
        return [_resolve(root, part.strip()) for part in parts if part.strip()]
    raw = alembic_config.get_main_option("version_locations")
    if not raw:
        return [location / "versions"]
    separator = alembic_config.get_main_option("version_path_separator")
    splitter = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}.get(
        separator or ""
    )
    parts = raw.split(splitter) if splitter else raw.replace(",", " ").split()
    return [_resolve(root, part.strip()) for part in parts if part.strip()]


def runnable_order(project: AlembicProject, blocked: Mapping[str, str] | None = None) -> list[Any]:
    """Revisions in topological order, without broken ones and those that build on them
    (``blocked``: ``unrunnable(project)``, when the caller has it already)."""
    blocked = unrunnable(project) if blocked is None else blocked
    return [rev for rev in project.graph.topological_order() if rev.revision not in blocked]


def unrunnable(project: AlembicProject) -> dict[str, str]:
    """The revisions that cannot run, each to the one that stops it: a revision file that
    does not import or parse, or names a down revision that does not exist (itself), and
    every revision that builds on one."""
    graph = project.graph
    causes: dict[str, str] = {}
    broken_paths = {b.path for b in project.broken.values()}
    stoppers = [
        rev
        for rev in graph.by_id.values()
        if rev.syntax_error or (broken_paths and rev.path.resolve() in broken_paths)
    ] + [rev for rev, _missing in graph.dangling()]
    for rev in stoppers:
        if rev.revision:
            causes[rev.revision] = rev.revision
    order = [r.revision for r in graph.topological_order() if r.revision] if stoppers else []
    for rev in stoppers:
        if rev.revision:
            below = graph.descendants(rev.revision)
            for rid in order:
                if rid in below:
                    causes.setdefault(rid, rev.revision)
    return causes
