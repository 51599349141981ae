"""Alembic revision files read without importing them, and checks on the graph they form.

Headers come from the module's AST (``revision = "…"``, ``down_revision: str | None = …``),
so a file that fails to import still has a place in the graph, and the graph checks need no
database and run no project code.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "VERSION_NUM_LENGTH",
    "DowngradeKind",
    "RevisionFile",
    "RevisionGraph",
    "iter_python_files",
    "read_revision_file",
]

# alembic_version.version_num is varchar(32): a longer id fails when it is stamped.
VERSION_NUM_LENGTH = 32


class DowngradeKind(enum.Enum):
    """What a revision's ``downgrade()`` does, as far as its source shows."""

    PRESENT = "present"
    MISSING = "missing"  # no downgrade() at all
    EMPTY = "empty"  # only pass, ..., a docstring or comments
    IRREVERSIBLE = "irreversible"  # raises NotImplementedError (or anything) unconditionally


@dataclass(frozen=True, slots=True)
class RevisionFile:
    """One revision file's header and the shape of its functions."""

    path: Path
    revision: str | None
    down_revisions: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    message: str = ""
    revision_line: int | None = None  # the line of ``revision = "…"``
    upgrade_line: int | None = None
    downgrade_line: int | None = None
    downgrade: DowngradeKind = DowngradeKind.MISSING
    upgrade_is_empty: bool = True
    upgrade_alters_schema: bool = False  # it calls a schema operation (op.create_table ...)
    # top-level code makes a MetaData of its own (a declarative base) its functions may add
    # tables to: loaded afresh for each run, as each `alembic` command loads it
    module_state: bool = False
    syntax_error: tuple[str, int, int] | None = None  # message, line, column
    down_path: Path | None = None  # where downgrade lives when not in ``path`` (SQL down files)
    # header names whose value is no literal (glance: ``branch_labels = (EXPAND_BRANCH,)``):
    # read from the imported module instead (``with_module_header``)
    unresolved: tuple[str, ...] = ()

    @property
    def downgrade_path(self) -> Path:
        return self.down_path or self.path

    @property
    def label(self) -> str:
        return self.revision or self.path.name


def read_revision_file(path: Path) -> RevisionFile:
    """Parse a revision file's header; a syntax error is kept on the result, not raised."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return RevisionFile(path=path, revision=None, syntax_error=(str(exc), 1, 1))
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        guessed = _guess_header(source)
        revision = guessed.get("revision")
        return RevisionFile(
            path=path,
            revision=revision if isinstance(revision, str) else None,
            down_revisions=_as_ids(guessed.get("down_revision")),
            syntax_error=(exc.msg, exc.lineno or 1, exc.offset or 1),
        )
    values, unresolved = _module_assignments(tree)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    revision = values.get("revision")
    return RevisionFile(
        path=path,
        revision=revision if isinstance(revision, str) else None,
        down_revisions=_as_ids(values.get("down_revision")),
        depends_on=_as_ids(values.get("depends_on")),
        branch_labels=_as_ids(values.get("branch_labels")),
        message=_first_line(ast.get_docstring(tree)),
        revision_line=_assignment_line(tree, "revision"),
        upgrade_line=upgrade.lineno if upgrade else None,
        downgrade_line=downgrade.lineno if downgrade else None,
        downgrade=_downgrade_kind(downgrade),
        upgrade_is_empty=upgrade is None or _is_empty_body(upgrade.body),
        upgrade_alters_schema=upgrade is not None and _calls_schema_operation(upgrade),
        module_state=any(_makes_state(node) for node in tree.body),
        unresolved=tuple(sorted(unresolved & set(_HEADER))),
    )


# the header fields read from the module when they are no literal
_HEADER = ("down_revision", "depends_on", "branch_labels")


def with_module_header(rev: RevisionFile, module: Any) -> RevisionFile:
    """``rev`` with the header fields its source gave no literal for read from ``module``,
    the revision file as imported."""
    if not rev.unresolved:
        return rev

    def read(name: str, current: tuple[str, ...]) -> tuple[str, ...]:
        if name in rev.unresolved and hasattr(module, name):
            return _as_ids(getattr(module, name))
        return current

    return dataclasses.replace(
        rev,
        down_revisions=read("down_revision", rev.down_revisions),
        depends_on=read("depends_on", rev.depends_on),
        branch_labels=read("branch_labels", rev.branch_labels),
        unresolved=(),
    )


def _module_assignments(tree: ast.Module) -> tuple[dict[str, object], set[str]]:
    """The module's literal assignments, and the names assigned something else."""
    values: dict[str, object] = {}
    unresolved: set[str] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                try:
                    values[target.id] = ast.literal_eval(value)
                    unresolved.discard(target.id)
                except ValueError:
                    unresolved.add(target.id)
    return values, unresolved


def _assignment_line(tree: ast.Module, name: str) -> int | None:
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return node.lineno
    return None


def _as_ids(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(str(v) for v in value if v is not None)
    return ()


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0].strip() if text and text.strip() else ""


_HEADER_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*(?:#.*)?$")


def _guess_header(source: str) -> dict[str, object]:
    """revision and down_revision from a file that does not parse, line by line."""
    values: dict[str, object] = {}
    for line in source.splitlines():
        match = _HEADER_LINE.match(line)
        if match and match.group(1) not in values:
            try:
                values[match.group(1)] = ast.literal_eval(match.group(2))
            except (ValueError, SyntaxError):
                continue
    return values


# op. methods that only run statements or read: every other op. method changes the schema
_STATEMENT_OPERATIONS = frozenset(
    {"execute", "bulk_insert", "get_bind", "get_context", "inline_literal", "f", "run_async"}
)
_DDL = re.compile(r"\s*(?:create|alter|drop|comment|rename)\b", re.IGNORECASE)


def _calls_schema_operation(func: ast.FunctionDef) -> bool:
    """Whether a function calls an Alembic schema operation (``op.add_column`` ...) or runs
    literal DDL; data migrations (``op.execute("UPDATE ...")``, ``op.bulk_insert``) do not."""
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (
                isinstance(owner, ast.Name)
                and owner.id == "op"
                and node.func.attr not in _STATEMENT_OPERATIONS
            ):
                return True
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _DDL.match(node.value)
        ):
            return True
    return False


def _makes_state(node: ast.stmt) -> bool:
    """Whether a top-level statement of a revision file makes a MetaData of its own (directly,
    or through a declarative base) that its functions may add tables to. A Table added to
    one imported from the application is not: loading the file again would add it twice."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    if isinstance(node, ast.ClassDef):
        return any(_dotted_tail(base) in _DECLARATIVE_BASES for base in node.bases)
    return any(
        isinstance(part, ast.Call) and _dotted_tail(part.func) in _METADATA_MAKERS
        for part in ast.walk(node)
    )


_METADATA_MAKERS = frozenset({"MetaData", "declarative_base", "registry", "automap_base"})
_DECLARATIVE_BASES = frozenset({"DeclarativeBase", "DeclarativeBaseNoMeta"})


def _dotted_tail(node: ast.expr) -> str:
    """``MetaData`` of ``sa.MetaData`` or ``MetaData``; '' for anything else."""
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _is_empty_body(body: list[ast.stmt]) -> bool:
    """Nothing but ``pass``, docstrings, ``...`` and bare returns, also under an ``if`` (a
    guard such as CKAN's ``if skip_based_on_legacy_engine_version(op, __name__): return``)."""
    for node in body:
        if isinstance(node, ast.Pass):
            continue
        if isinstance(node, ast.Expr | ast.Return) and (
            node.value is None or isinstance(node.value, ast.Constant)
        ):
            continue  # docstring, ..., return
        if isinstance(node, ast.If) and _is_empty_body(node.body) and _is_empty_body(node.orelse):
            continue
        return False
    return True


def _downgrade_kind(func: ast.FunctionDef | None) -> DowngradeKind:
    if func is None:
        return DowngradeKind.MISSING
    if _is_empty_body(func.body):
        return DowngradeKind.EMPTY
    meaningful = [
        n for n in func.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
    ]
    first = meaningful[0]
    if isinstance(first, ast.Raise) and first.exc is not None:
        # NotImplementedError, or whatever the project raises (zuul's `raise Exception(
        # "Downgrades not supported")`): a downgrade that can only raise is a declaration
        return DowngradeKind.IRREVERSIBLE
    return DowngradeKind.PRESENT


@dataclass
class RevisionGraph:
    """Revision files by id, with the graph questions verify asks of them."""

    files: list[RevisionFile]
    by_id: dict[str, RevisionFile] = field(init=False)
    duplicates: dict[str, list[RevisionFile]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {}
        self.duplicates = {}
        for rev in sorted(self.files, key=lambda f: str(f.path)):
            if rev.revision is None:
                continue
            if rev.revision in self.by_id:
                self.duplicates.setdefault(rev.revision, [self.by_id[rev.revision]]).append(rev)
                continue
            self.by_id[rev.revision] = rev

    @functools.cached_property
    def _labels(self) -> dict[str, str]:
        """Each branch label's revision (read once: ``requires`` asks for every revision)."""
        return {
            label: rev.revision
            for rev in self.by_id.values()
            if rev.revision
            for label in rev.branch_labels
        }

    def dangling(self) -> Iterator[tuple[RevisionFile, str]]:
        """(revision, missing id) for every down_revision or depends_on that names nothing."""
        labels = self._labels
        for rev in self.by_id.values():
            for parent in (*rev.down_revisions, *rev.depends_on):
                if parent not in self.by_id and parent not in labels and not self._prefix(parent):
                    yield rev, parent

    def _prefix(self, partial: str) -> str | None:
        matches = [rid for rid in self.by_id if rid.startswith(partial)]
        return matches[0] if len(matches) == 1 else None

    def parents(self, rev: RevisionFile) -> list[str]:
        """``rev``'s down revisions: what makes heads and branches (and carries labels)."""
        return [p for p in rev.down_revisions if p in self.by_id]

    def requires(self, rev: RevisionFile) -> list[str]:
        """What must be applied before ``rev``: its down revisions and what it ``depends_on``
        (an id, an id prefix or a branch label, as Alembic resolves them). glance's
        ``*_contract01`` revisions depend on their release's expand revision, on another
        branch: applied first, as ``alembic upgrade`` does."""
        found = self.parents(rev)
        if not rev.depends_on:
            return found
        labels = self._labels
        for dependency in rev.depends_on:
            rid = dependency if dependency in self.by_id else labels.get(dependency)
            rid = rid or self._prefix(dependency)
            if rid is not None and rid not in found:
                found.append(rid)
        return found

    def heads(self) -> list[RevisionFile]:
        referenced = {p for rev in self.by_id.values() for p in rev.down_revisions}
        return sorted(
            (r for rid, r in self.by_id.items() if rid not in referenced), key=lambda r: r.label
        )

    def cycles(self) -> list[list[str]]:
        """Each cycle once, as the ids along it."""
        state: dict[str, int] = {}
        found: list[list[str]] = []
        for start in sorted(self.by_id):
            if state.get(start):
                continue
            stack: list[tuple[str, Iterator[str]]] = [
                (start, iter(self.requires(self.by_id[start])))
            ]
            path = [start]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    state[node] = 2
                    stack.pop()
                    path.pop()
                elif state.get(child) == 1:
                    found.append([*path[path.index(child) :], child])
                elif not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(self.requires(self.by_id[child]))))
        return found

    def children(self) -> dict[str, list[str]]:
        """The revisions that require each revision (``requires``), in a stable order."""
        children: dict[str, list[str]] = {rid: [] for rid in self.by_id}
        for rid in sorted(self.by_id):
            for parent in dict.fromkeys(self.requires(self.by_id[rid])):
                children[parent].append(rid)
        return children

    def topological_order(self) -> list[RevisionFile]:
        """Base first; each revision after all it requires; ties in a stable order."""
        children = self.children()
        waiting = {rid: len(set(self.requires(rev))) for rid, rev in self.by_id.items()}
        ready = sorted(rid for rid, count in waiting.items() if count == 0)
        order: list[RevisionFile] = []
        while ready:
            rid = ready.pop(0)
            order.append(self.by_id[rid])
            for child in children[rid]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        return order  # revisions on a cycle are left out; cycles() names them

    def ancestors(self, revision: str, *, dependencies: bool = True) -> set[str]:
        """Every revision ``revision`` requires, directly or not; with ``dependencies``
        False, only what it builds on through down revisions (its branch's history)."""
        result: set[str] = set()
        frontier = [revision]
        step = self.requires if dependencies else self.parents
        while frontier:
            for parent in step(self.by_id[frontier.pop()]):
                if parent not in result:
                    result.add(parent)
                    frontier.append(parent)
        return result

    def descendants(self, revision: str) -> set[str]:
        """Every revision that requires ``revision``, directly or not."""
        children = self.children()
        result: set[str] = set()
        frontier = [revision]
        while frontier:
            for child in children.get(frontier.pop(), ()):
                if child not in result:
                    result.add(child)
                    frontier.append(child)
        return result


def iter_python_files(directories: Iterable[Path], *, recursive: bool = False) -> Iterator[Path]:
    """Revision files: ``*.py`` in each versions directory (and below it, ``recursive``),
    as Alembic finds them: ``__init__.py`` and what is in ``__pycache__`` left out."""
    for directory in directories:
        if directory.is_dir():
            found = directory.rglob("*.py") if recursive else directory.glob("*.py")
            yield from sorted(
                p
                for p in found
                if not p.name.startswith("__")
                and "__pycache__" not in p.relative_to(directory).parts[:-1]
            )
