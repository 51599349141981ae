"""migproof's pytest plugin (entry point ``pytest11``): inert unless used.

- ``migproof_sandbox``: a session-scoped private PostgreSQL (or scratch databases on the
  configured ``database-url``), one per pytest-xdist worker;
- ``migproof_database``: a factory handing a test a fresh database at any revision of the
  project, cloned from a template built once per revision;
- ``pytest --migproof``: the verify checks as test items, one per check per revision
  (``migproof::<revision>::upgrade``, ``migproof::<revision>::roundtrip``,
  ``migproof::graph::<check>``, ``migproof::chain::repeatable``), failing with the
  finding's message and its titled context blocks.

The project is the directory of ``--migproof-project`` (or the ``migproof_project`` ini
option), else pytest's rootdir; its ``[tool.migproof]`` configures everything.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from migproof.config import Config, load_config
from migproof.sandbox import DatabaseHost, open_host

if TYPE_CHECKING:
    import psycopg

    from migproof.findings import Report
    from migproof.report.junit import Case

__all__ = ["MigproofFailure", "SandboxDatabase"]

_GROUP = "migproof"
_OTHER = ("checks", "other-checks")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migproof", "migproof: prove database migrations safe")
    group.addoption(
        "--migproof",
        action="store_true",
        default=False,
        help="Collect migproof's verify checks as tests: one per check per revision.",
    )
    group.addoption(
        "--migproof-project",
        metavar="DIR",
        default=None,
        help="The project (alembic.ini, [tool.migproof]) to verify; default: the rootdir.",
    )
    parser.addini(
        "migproof_project",
        "The project directory migproof's fixtures and checks use (default: the rootdir).",
        default="",
    )


# -- one state per pytest process (each xdist worker is its own process) ---------------------


@dataclass
class _State:
    """The project, the host and what was built on it, for one pytest process."""

    project_dir: Path
    _config: Config | None = None
    _host: DatabaseHost | None = None
    _report: Report | None = None
    templates: dict[str, str] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.project_dir)
        return self._config

    @property
    def host(self) -> DatabaseHost:
        if self._host is None:
            self._host = self.stack.enter_context(open_host(self.config))
        return self._host

    def report(self) -> Report:
        """``migproof verify`` of the project, run once, on this process's host."""
        if self._report is None:
            from migproof.verify import verify

            self._report = verify(self.config, self.project_dir, host=self.host)
        return self._report


_STATE = pytest.StashKey[_State]()


def _project_dir(config: pytest.Config) -> Path:
    given = config.getoption("--migproof-project") or config.getini("migproof_project")
    if not given:
        return Path(config.rootpath)
    path = Path(str(given))
    return path if path.is_absolute() else Path(config.rootpath) / path


def _state(config: pytest.Config) -> _State:
    if _STATE not in config.stash:
        config.stash[_STATE] = _State(_project_dir(config).resolve())
    return config.stash[_STATE]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _STATE in config.stash:
        config.stash[_STATE].stack.close()


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def migproof_sandbox(pytestconfig: pytest.Config) -> DatabaseHost:
    """A private PostgreSQL (or scratch databases on ``database-url``) for the whole session.

    >>> def test_orders(migproof_sandbox):               # doctest: +SKIP
    ...     with migproof_sandbox.database() as name, migproof_sandbox.connect(name) as conn:
    ...         conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY)")
    """
    return _state(pytestconfig).host


@dataclass(frozen=True, slots=True)
class SandboxDatabase:
    """A fresh database at a revision: its name and URLs, and a way to connect."""

    name: str
    revision: str
    url: str
    sqlalchemy_url: str
    host: DatabaseHost

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
        return self.host.connect(self.name, autocommit=autocommit)


@pytest.fixture
def migproof_database(
    pytestconfig: pytest.Config, migproof_sandbox: DatabaseHost
) -> Iterator[Callable[[str], SandboxDatabase]]:
    """Hand the test a fresh database at ``revision`` ("head", "base" or an id).

    Each revision is built once per session, as a template; every call clones it, so asking
    twice does not replay the chain. The databases are dropped after the test.

    >>> def test_backfill(migproof_database):            # doctest: +SKIP
    ...     db = migproof_database("3f1c2a9b7d10")
    ...     with db.connect() as conn:
    ...         conn.execute("INSERT INTO customers (email) VALUES ('a@example.com')")
    """
    state = _state(pytestconfig)
    made: list[str] = []

    def make(revision: str = "head") -> SandboxDatabase:
        template = state.templates.get(revision)
        if template is None:
            from migproof.chain import database_at

            template = database_at(state.config, migproof_sandbox, revision, state.project_dir)
            state.templates[revision] = template
        name = migproof_sandbox.create_database(template=template)
        made.append(name)
        return SandboxDatabase(
            name=name,
            revision=revision,
            url=migproof_sandbox.url_for(name),
            sqlalchemy_url=migproof_sandbox.sqlalchemy_url_for(name),
            host=migproof_sandbox,
        )

    yield make
    for name in made:
        migproof_sandbox.drop_database(name)


# -- pytest --migproof: the verify checks as items -----------------------------------------------


class MigproofFailure(AssertionError):  # noqa: N818 - reads as what failed in pytest's summary
    """A check's findings: the message, then titled blocks (as pytest-alembic shows them)."""

    def __init__(self, message: str, context: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.context = context

    def __str__(self) -> str:
        lines = [super().__str__()]
        for title, body in self.context:
            lines += ["", f"{title}:", textwrap.indent(body.rstrip(), "    ")]
        return "\n".join(lines)


def _failure(case: Case) -> MigproofFailure:
    from migproof.findings import Severity

    failing = [f for f in case.findings if f.severity is not Severity.INFO]
    message = "\n".join(
        f"{f.check} {f.message}" + (f" ({f.location})" if f.location else "") for f in failing
    )
    context: list[tuple[str, str]] = []
    for finding in failing:
        prefix = f"{finding.check} " if len(failing) > 1 else ""
        if finding.statement:
            context.append((f"{prefix}statement", finding.statement.strip()))
        context.extend((f"{prefix}{title}", body) for title, body in finding.context)
        if finding.fix:
            context.append((f"{prefix}fix", finding.fix))
    return MigproofFailure(message, context)


class MigproofItem(pytest.Item):
    """One verify check on one revision (or on the graph, or the chain)."""

    def __init__(self, *, group: str, check: str, path: Path | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.group = group
        self.check = check
        self.revision_path = path
        self.add_marker(pytest.mark.migproof)

    def runtest(self) -> None:
        from migproof.findings import Severity
        from migproof.report.junit import describe_finding

        case = self._case()
        if case is None:
            return
        notes = [describe_finding(f) for f in case.findings if f.severity is Severity.INFO]
        if notes:
            self.add_report_section("call", "migproof notes", "\n\n".join(notes))
        if case.is_failed:
            raise _failure(case)
        if case.skipped is not None:
            # reported on the revision file, not on this line (as a skip mark would be)
            raise pytest.skip.Exception(case.skipped, _use_item_location=True)

    def _case(self) -> Case | None:
        collector = self.parent.parent if self.parent is not None else None
        assert isinstance(collector, MigproofCollector)
        return collector.case(self.group, self.check)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, MigproofFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path | str, int, str]:
        where: Path | str = self.revision_path or _state(self.config).project_dir
        return where, 0, f"migproof: {self.group} {self.check}"


class _GroupCollector(pytest.Collector):
    """The items of one revision (or of the graph, the chain, the other checks)."""

    def __init__(self, *, items: list[tuple[str, Path | None]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._items = items

    def collect(self) -> list[pytest.Item]:
        return [
            MigproofItem.from_parent(self, name=check, group=self.name, check=check, path=path)
            for check, path in self._items
        ]


class MigproofCollector(pytest.Collector):
    """``migproof``: the project's revisions, read without a database or importing them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.revisions: list[str] = []
        self.case_keys: set[tuple[str, str]] = set()
        self._cases: dict[tuple[str, str], Case] | None = None

    def collect(self) -> list[pytest.Collector]:
        from migproof.findings import Report
        from migproof.report.junit import verify_cases

        self.revisions, paths = _revision_files(_state(self.config))
        groups: dict[str, list[tuple[str, Path | None]]] = {}
        for case in verify_cases(Report(command="verify"), self.revisions):
            self.case_keys.add((case.group, case.name))
            groups.setdefault(case.group, []).append((case.name, paths.get(case.group)))
        groups.setdefault(_OTHER[0], []).append((_OTHER[1], None))
        return [
            _GroupCollector.from_parent(self, name=group, items=items)
            for group, items in groups.items()
        ]

    def case(self, group: str, check: str) -> Case | None:
        """One item's case of the verify report; the report is split into cases once."""
        if self._cases is None:
            from migproof.findings import Finding
            from migproof.report.junit import Case, verify_cases

            cases = verify_cases(_state(self.config).report(), self.revisions)
            other: tuple[Finding, ...] = tuple(  # every check the other items do not cover
                f for c in cases if (c.group, c.name) not in self.case_keys for f in c.findings
            )
            self._cases = {_OTHER: Case(*_OTHER, other)}
            for case in cases:
                self._cases.setdefault((case.group, case.name), case)
        return self._cases.get((group, check))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> str | Any:  # type: ignore[override]  # Collector takes no style
        from migproof.errors import MigproofError

        if isinstance(excinfo.value, MigproofError):  # no alembic.ini, a malformed one
            fix = f"\n  fix: {excinfo.value.fix}" if excinfo.value.fix else ""
            return f"error: {excinfo.value.what}{fix}"
        return super().repr_failure(excinfo)


def _revision_files(state: _State) -> tuple[list[str], dict[str, Path]]:
    """The project's revisions in topological order, and their files."""
    from migproof.verify import is_sql_project, sqldir

    root = state.project_dir
    if is_sql_project(state.config, root):
        graph = sqldir.load(state.config, root)[0]
    else:
        from migproof.chain.project import load_project

        graph = load_project(state.config, root).graph
    order = [rev for rev in graph.topological_order() if rev.revision]
    return [str(r.revision) for r in order], {str(r.revision): r.path for r in order}


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """Add the ``migproof`` collector next to the session's own (``pytest --migproof``)."""
    report: Any = yield
    if (
        isinstance(collector, pytest.Session)
        and collector.config.getoption("--migproof")
        and report.passed
    ):
        report.result.append(MigproofCollector.from_parent(collector, name=_GROUP, nodeid=_GROUP))
    return report  # type: ignore[no-any-return]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "migproof: a migproof verify check (pytest --migproof)")
