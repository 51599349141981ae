"""Where a project keeps its migrations, models and schema files, from config or detected.

Every path here is relative to the git top level, in POSIX form, so it compares directly
with the paths ``git diff`` prints.
"""

from __future__ import annotations

import ast
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from migproof.alembic_ini import read_alembic_settings
from migproof.config import Config
from migproof.errors import ConfigError

__all__ = ["GuardProject", "absolute_module", "compile_glob", "is_test_path", "load_project"]

_SKIP_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", ".tox", "build", "dist"}
)
_MAX_SCOPE_FILES = 60  # files parsed while following env.py's imports: bounds the cost
# The imports of env.py and of the modules up to this many imports away from it are followed,
# so files up to _MAX_SCOPE_DEPTH + 1 imports away are in scope (env.py -> m1 -> m2 -> m3 ->
# m4: all four); those last are parsed only to see whether the walk stops short of something.
_MAX_SCOPE_DEPTH = 3


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A glob over POSIX paths: ``*`` and ``?`` stay inside one segment, ``**`` spans many.

    >>> bool(compile_glob("app/**/*.py").match("app/models/user.py"))
    True
    """
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:[^/]*/)*")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
        index += 1
    return re.compile("".join(out) + r"\Z")


def absolute_module(package: str, level: int, module: str | None, *, sep: str = ".") -> str | None:
    """What ``from <"." * level><module> import ...`` names in a module of ``package``, as
    importlib resolves it; None when it climbs above the top-level package. With
    ``sep="/"``, ``package`` and the result are directories and ``module`` is still dotted.

    >>> absolute_module("shop.models", 2, "db")
    'shop.db'
    >>> absolute_module("services/api.v2/shop", 1, "enums", sep="/")
    'services/api.v2/shop/enums'
    """
    if level == 0:
        return module
    bits = package.rsplit(sep, level - 1)
    if len(bits) < level:
        return None
    tail = module.replace(".", sep) if module else ""
    return sep.join(part for part in (bits[0], tail) if part)


def is_test_path(path: str) -> bool:
    """True for files under a tests directory, or named like a test or a conftest."""
    parts = PurePosixPath(path).parts
    name = parts[-1]
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(part in ("test", "tests", "testing") for part in parts[:-1])


@dataclass(slots=True)
class GuardProject:
    """Migration directories and schema-bearing globs, relative to the git top level."""

    toplevel: Path
    migration_dirs: tuple[tuple[str, str], ...]  # (directory, where it was configured or found)
    model_globs: tuple[re.Pattern[str], ...]
    schema_sql_globs: tuple[re.Pattern[str], ...]
    allow_edited: tuple[re.Pattern[str], ...]
    env_py: str | None = None
    search_roots: tuple[str, ...] = ()
    allow_edited_setting: str = ""  # where the project's configuration sets allow-edited
    _scope: list[_ImportScope] = field(default_factory=list, repr=False)

    def migration_dir_of(self, path: str) -> str | None:
        for directory, _ in self.migration_dirs:
            if not directory or path.startswith(directory + "/"):
                return directory
        return None

    def is_allowed_edit(self, path: str) -> bool:
        return any(glob.match(path) for glob in self.allow_edited)

    def is_schema_sql(self, path: str) -> bool:
        return any(glob.match(path) for glob in self.schema_sql_globs)

    @property
    def has_model_globs(self) -> bool:
        return bool(self.model_globs)

    def is_model_by_glob(self, path: str) -> bool:
        return any(glob.match(path) for glob in self.model_globs)

    def module_name(self, path: str) -> tuple[str, str] | None:
        """The dotted module a Python file is imported as, and its package (what its
        relative imports start from), under the longest search root holding it."""
        for root in sorted(self.search_roots, key=len, reverse=True):
            if root and not path.startswith(root + "/"):
                continue
            parts = path[len(root) + 1 if root else 0 :].removesuffix(".py").split("/")
            if not all(part.isidentifier() for part in parts):
                continue
            if parts[-1] == "__init__":
                parts.pop()
                return ".".join(parts), ".".join(parts)
            return ".".join(parts), ".".join(parts[:-1])
        return None

    def is_in_env_scope(self, path: str) -> bool | None:
        """Whether env.py's model imports reach this file; None when that is unknown."""
        if self.env_py is None:
            return None
        if not self._scope:  # built once, and only when a changed file declares tables
            self._scope.append(_ImportScope(self.toplevel, self.env_py, self.search_roots))
        return self._scope[0].contains(path)


def load_project(config: Config, toplevel: Path) -> GuardProject:
    """Read ``[tool.migproof.guard]``, alembic.ini and the layout; no migration dir is an error."""
    root = _relative(config.root.resolve(), toplevel.resolve())
    guard = config.guard

    def under_root(pattern: str) -> str:
        return _join(root, pattern)

    dirs: list[tuple[str, str]] = []
    env_py: str | None = None
    search_roots: list[str] = [root, _join(root, "src")]
    if guard.migration_dirs:
        dirs.extend((_norm(under_root(d)), "guard.migration-dirs") for d in guard.migration_dirs)
    else:
        alembic = _alembic_locations(config, toplevel.resolve())
        if alembic is not None:
            versions, env_py, extra_roots = alembic
            dirs.extend(versions)
            search_roots = [*extra_roots, *search_roots]
    if config.migrate.directory:
        dirs.append((_norm(under_root(config.migrate.directory)), "migrate.directory"))
    if not dirs:
        dirs.extend(_detect_dirs(toplevel, root))
        env_py = env_py or next(
            (f"{d.rsplit('/', 1)[0]}/env.py" for d, _ in dirs if d.endswith("/versions")), None
        )
    if not dirs:
        raise ConfigError(
            "no migration directory found: no alembic.ini with a script_location, and no "
            "migrations/ directory of .sql files",
            fix=f"set {config.setting('guard.migration-dirs')}, e.g. migration-dirs = "
            '["migrations/versions"] (or alembic-config for an alembic.ini elsewhere)',
        )
    return GuardProject(
        toplevel=toplevel,
        migration_dirs=tuple(dict.fromkeys(dirs)),
        model_globs=tuple(compile_glob(under_root(g)) for g in guard.models),
        schema_sql_globs=tuple(compile_glob(under_root(g)) for g in guard.schema_sql),
        allow_edited=tuple(compile_glob(under_root(g)) for g in guard.allow_edited),
        env_py=env_py if env_py and (toplevel / env_py).is_file() else None,
        search_roots=tuple(dict.fromkeys(search_roots)),
        allow_edited_setting=config.setting("guard.allow-edited"),
    )


def _relative(path: Path, toplevel: Path) -> str:
    try:
        relative = path.relative_to(toplevel).as_posix()
    except ValueError:
        return ""
    return "" if relative == "." else relative


def _join(root: str, relative: str) -> str:
    relative = relative.replace(os.sep, "/").removeprefix("./")
    return f"{root}/{relative}" if root else relative


def _norm(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts:
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _alembic_locations(
    config: Config, toplevel: Path
) -> tuple[list[tuple[str, str]], str | None, list[str]] | None:
    """Version directories, env.py and sys.path roots from alembic.ini and [tool.alembic].

    Read as Alembic (1.16+) reads them: each option from alembic.ini's section when there,
    else from pyproject.toml's ``[tool.alembic]`` (whose lists need no separator).
    """
    ini_path = config.path(config.alembic_config)
    try:
        settings = read_alembic_settings(
            ini_path, config.alembic_name, config.root / "pyproject.toml"
        )
        script = settings.script_location()
        locations = settings.version_locations()
        prepend = settings.prepend_sys_path()
    except ConfigError as exc:
        raise ConfigError(
            exc.what, fix=f"{exc.fix}, or set {config.setting('guard.migration-dirs')}"
        ) from exc
    if script is None:
        return None
    ini_where, toml_where = config.alembic_config, "pyproject.toml [tool.alembic]"
    script_location, where = script[0], (ini_where if script[1] else toml_where)
    toplevel_root = config.root.resolve()
    ini_dir = ini_path.parent.resolve()
    script_dir = _resolve_location(script_location, ini_dir, toplevel_root)
    if locations is not None and locations.items:
        version_dirs = [_resolve_location(item, ini_dir, toplevel_root) for item in locations.items]
        source = f"{ini_where if locations.from_ini else toml_where} version_locations"
    else:
        version_dirs = [script_dir / "versions"]
        source = f"{where} script_location"
    dirs = [(_relative(d.resolve(), toplevel), source) for d in version_dirs]
    roots = [
        _relative((ini_dir / p).resolve(), toplevel)
        for p in (prepend.items if prepend is not None else (".",))
    ]
    env_py = _relative((script_dir / "env.py").resolve(), toplevel)
    return [(d, s) for d, s in dirs if d], env_py, roots


def _resolve_location(location: str, ini_dir: Path, root: Path) -> Path:
    """``path``, ``%(here)s/path`` (already expanded) or ``package:path`` to a directory."""
    if ":" in location and not Path(location).is_absolute() and not re.match(r"^\w:\\", location):
        package, _, sub = location.partition(":")
        relative = Path(*package.split("."), sub)
        for base in (root, root / "src", ini_dir):
            if (base / relative).is_dir():
                return base / relative
        return root / relative
    path = Path(location)
    return path if path.is_absolute() else ini_dir / path


def _detect_dirs(toplevel: Path, root: str) -> list[tuple[str, str]]:
    """Alembic ``versions/`` next to an ``env.py``, or ``migrations/`` holding .sql files."""
    start = toplevel / root if root else toplevel
    found: list[tuple[str, str]] = []
    for directory in _walk_dirs(start, depth=3):
        names = {entry.name for entry in os.scandir(directory)}
        rel = _relative(Path(directory), toplevel)
        if "env.py" in names and "versions" in names:
            found.append((f"{rel}/versions" if rel else "versions", "detected (env.py)"))
        elif Path(directory).name == "migrations" and any(n.endswith(".sql") for n in names):
            found.append((rel, "detected (.sql migrations)"))
    return found


def _walk_dirs(start: Path, depth: int) -> Iterator[str]:
    if depth < 0 or not start.is_dir():
        return
    yield str(start)
    with os.scandir(start) as entries:
        children = sorted(
            e.path for e in entries if e.is_dir() and e.name not in _SKIP_DIRS and e.name[0] != "."
        )
    for child in children:
        yield from _walk_dirs(Path(child), depth - 1)


class _ImportScope:
    """The project files env.py's imports reach, followed transitively, and walked lazily.

    A module env.py imports, directly or through other project modules, is in scope; an
    imported package is in scope as a whole (its ``__init__`` may import its modules in a
    loop). Every file reached is parsed and its imports followed, those inside a package in
    scope too (a mixin module imported by ``app/models/user.py``). The other files of such
    packages, which nothing imports by name, are parsed only when a path outside the scope
    is asked about. When the limits (``_MAX_SCOPE_FILES`` parsed files, files
    ``_MAX_SCOPE_DEPTH`` + 1 imports away from env.py) stop the walk before it is complete,
    a path not reached is unknown (None), never out of scope.
    """

    def __init__(self, toplevel: Path, env_py: str, roots: Iterable[str]) -> None:
        self.toplevel = toplevel
        self.env_py = env_py
        self.roots = tuple(roots)
        self.files: set[str] = set()
        self.packages: list[str] = []  # directory prefixes, ending in "/"
        self._queue: deque[tuple[str, int]] = deque([(env_py, 0)])
        self._members: deque[tuple[str, int]] = deque()  # unimported files of packages
        self._seen: set[str] = {env_py}
        self._parsed = 0
        self._complete = False
        self._truncated = False
        self._walk(members=False)

    def contains(self, path: str) -> bool | None:
        if not self.files and not self.packages:
            return None  # env.py imports no project module: it says nothing about models
        if self._in_scope(path):
            return True
        if not self._complete:
            self._walk(members=True)
            if self._in_scope(path):
                return True
        return None if self._truncated else False

    def _in_scope(self, path: str) -> bool:
        return path in self.files or any(path.startswith(p) for p in self.packages)

    def _walk(self, *, members: bool) -> None:
        while self._queue or (members and self._members):
            if self._parsed >= _MAX_SCOPE_FILES:
                self._truncated = True
                break
            if self._queue:
                current, depth = self._queue.popleft()
            else:
                current, depth = self._members.popleft()
                if current in self._seen:
                    continue  # imported by name meanwhile
                self._seen.add(current)
            self._parsed += 1
            for resolved in self._imports(current):
                if depth > _MAX_SCOPE_DEPTH:  # as deep as the walk goes: this is beyond
                    if not self._in_scope(resolved):
                        self._truncated = True
                    continue
                self.files.add(resolved)
                if resolved in self._seen:
                    continue
                self._seen.add(resolved)
                self._queue.append((resolved, depth + 1))
                if resolved.endswith("/__init__.py"):
                    self._add_package(resolved.removesuffix("__init__.py"), depth + 1)
        self._complete = not self._queue and not self._members

    def _add_package(self, prefix: str, depth: int) -> None:
        """A package in scope as a whole; its other files are walked only if asked."""
        if any(prefix.startswith(p) for p in self.packages):
            return
        self.packages.append(prefix)
        for path in _python_files(self.toplevel / prefix):
            if path == "__init__.py":
                continue
            if depth > _MAX_SCOPE_DEPTH:
                self._truncated = True  # in scope, but what they import is not followed
                return
            self._members.append((f"{prefix}{path}", depth + 1))

    def _imports(self, current: str) -> Iterator[str]:
        """Project files the module at ``current`` imports, absolute and relative imports."""
        for level, module, names in _imported_modules(self.toplevel / current):
            if level == 0:
                roots = self.roots
            else:
                directory = PurePosixPath(current).parent.as_posix()
                package = absolute_module(
                    "" if directory == "." else directory, level, None, sep="/"
                )
                if package is None:
                    continue  # above the top-level package: Python refuses it too
                roots = (package,)
            prefix = ""
            if module:
                found = _resolve_module(self.toplevel, roots, module)
                if found is None:
                    continue
                yield found
                if not found.endswith("/__init__.py"):
                    continue
                prefix = f"{module}."  # `from package import module`
            for name in names:
                sub = _resolve_module(self.toplevel, roots, prefix + name)
                if sub is not None:
                    yield sub


def _python_files(directory: Path) -> list[str]:
    """``.py`` files under a package directory, relative to it, sorted; skipped dirs left out."""
    found: list[str] = []
    for current, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        rel = _relative(Path(current), directory)
        found.extend(f"{rel}/{n}" if rel else n for n in sorted(names) if n.endswith(".py"))
    return found


def _imported_modules(path: Path) -> list[tuple[int, str, list[str]]]:
    """(level, module, imported names) of each import statement; ``import a.b`` is (0, a.b)."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    modules: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.extend((0, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names if alias.name != "*"]
            modules.append((node.level, node.module or "", names))
    return modules


def _resolve_module(toplevel: Path, roots: tuple[str, ...], module: str) -> str | None:
    """The project file a dotted module name is under the first root that has it:
    ``a/b.py`` or ``a/b/__init__.py``."""
    relative = module.replace(".", "/")
    for root in roots:
        base = f"{root}/{relative}" if root else relative
        if (toplevel / f"{base}.py").is_file():
            return f"{base}.py"
        if (toplevel / base / "__init__.py").is_file():
            return f"{base}/__init__.py"
    return None
