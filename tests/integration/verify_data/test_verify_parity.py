"""Models, schema file, bootstrap and lock file parity with head, on the real sandbox."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.helpers.alembic_projects import Revision, write_project

from migproof.catalog import SnapshotFilter, take_snapshot
from migproof.catalog.lockfile import write_lockfile
from migproof.chain.project import load_project
from migproof.config import load_config
from migproof.errors import SourceError
from migproof.findings import Severity
from migproof.sandbox import Sandbox
from migproof.verify.parity import (
    check_bootstrap,
    check_lockfile,
    check_models,
    check_schema_file,
    load_bootstrap,
    load_metadata,
)
from migproof.verify.roundtrip import alembic_stepper

Conn = psycopg.Connection[Any]
_names = itertools.count()

HEAD = """
CREATE TABLE customers (
    id serial PRIMARY KEY,
    email varchar(200) NOT NULL,
    note text,
    score double precision NOT NULL DEFAULT 0,
    created timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    status varchar(20) NOT NULL DEFAULT 'new',
    CONSTRAINT customers_email_key UNIQUE (email)
);
CREATE UNIQUE INDEX customers_lower_note ON customers (note);
"""

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    note: Mapped[str | None] = mapped_column(sa.Text)
    score: Mapped[float] = mapped_column(sa.Float, server_default=sa.text("0"))
    created: Mapped[object] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    status: Mapped[str] = mapped_column(sa.String(20), server_default="new")
    {extra}
    __table_args__ = (sa.UniqueConstraint("note", name="customers_lower_note"),)
"""


def models(tmp_path: Path, extra: str = "") -> tuple[list[Any], Path | None]:
    package = f"mp_models_{next(_names)}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "models.py").write_text(MODELS.replace("{extra}", extra))
    return load_metadata(f"{package}.models:Base.metadata", tmp_path)


@pytest.mark.parametrize("server_defaults", [False, True])
def test_models_that_match_head_report_nothing(
    pg: Sandbox, db: str, conn: Conn, tmp_path: Path, server_defaults: bool
) -> None:
    conn.execute(HEAD)
    metadata, _ = models(tmp_path)
    options = {"compare_server_default": server_defaults}
    found = check_models(
        pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path), options=options
    )
    assert [f.message for f in found] == []


def test_a_model_column_without_its_revision_is_reported(
    pg: Sandbox, db: str, conn: Conn, tmp_path: Path
) -> None:
    conn.execute(HEAD)
    metadata, origin = models(tmp_path, "phone: Mapped[str | None] = mapped_column(sa.String(30))")
    found = check_models(
        pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path), origin=origin
    )
    assert [(f.check, f.location.path if f.location else None) for f in found] == [
        ("MP110", origin)
    ]
    assert found[0].message == (
        "models and head differ: column public.customers.phone is declared in the models "
        "but not at head"
    )
    assert found[0].fix == (
        "write the revision that makes head match the models "
        "(`alembic revision --autogenerate`), or change the model back"
    )


@pytest.mark.parametrize(
    ("columns", "found"),
    [
        (("block_id", "tag"), []),
        (("tag",), ["u"]),
        (("tag", "block_id"), ["u"]),  # another order: PostgreSQL keeps it, create_all() too
    ],
)
def test_a_unique_constraint_on_the_primary_key_is_folded_into_it(
    pg: Sandbox, db: str, conn: Conn, tmp_path: Path, columns: tuple[str, ...], found: list[str]
) -> None:
    # letta's blocks_tags: PRIMARY KEY (block_id, tag) and UNIQUE (block_id, tag) in one
    # CREATE TABLE; PostgreSQL keeps the key alone, as create_all() of the models would
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    metadata = sa.MetaData()
    table = sa.Table(
        "blocks_tags",
        metadata,
        sa.Column("block_id", sa.Integer, primary_key=True),
        sa.Column("tag", sa.Text, primary_key=True),
        sa.UniqueConstraint(*columns, name="u"),
    )
    conn.execute(str(sa.schema.CreateTable(table).compile(dialect=postgresql.dialect())))
    if columns != ("block_id", "tag"):  # a unique of its own: the table is made without it
        conn.execute("ALTER TABLE blocks_tags DROP CONSTRAINT u")
    result = check_models(pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path))
    assert [f.message for f in result] == [
        f"models and head differ: unique constraint {name} on public.blocks_tags is declared"
        " in the models but not at head"
        for name in found
    ]


def test_env_pys_process_revision_directives_shapes_the_comparison(
    pg: Sandbox, db: str, conn: Conn, tmp_path: Path
) -> None:
    # langflow keeps the columns of an expand window out of autogenerate with a hook:
    # `alembic check` passes, and so does MP110; without the hook the column is reported
    import sqlalchemy as sa
    from alembic.operations import ops

    conn.execute("CREATE TABLE conf (id int PRIMARY KEY, legacy text)")
    metadata = sa.MetaData()
    sa.Table("conf", metadata, sa.Column("id", sa.Integer, primary_key=True))

    def keep_legacy(context: Any, revision: Any, directives: list[Any]) -> None:
        def keep(operations: list[Any]) -> list[Any]:
            kept = []
            for op in operations:
                if isinstance(op, ops.ModifyTableOps):
                    op.ops = keep(op.ops)
                    if not op.ops:
                        continue
                elif isinstance(op, ops.DropColumnOp) and op.column_name == "legacy":
                    continue
                kept.append(op)
            return kept

        directives[0].upgrade_ops.ops = keep(directives[0].upgrade_ops.ops)

    url, config = pg.sqlalchemy_url_for(db), load_config(tmp_path)
    assert check_models(url, metadata, config=config, options={}) != []
    hooked = {"process_revision_directives": keep_legacy}
    assert check_models(url, metadata, config=config, options=hooked) == []

    def empties(context: Any, revision: Any, directives: list[Any]) -> None:
        directives[:] = []  # the usual "no changes, no file" hook

    assert (
        check_models(url, metadata, config=config, options={"process_revision_directives": empties})
        == []
    )

    def fails(context: Any, revision: Any, directives: list[Any]) -> None:
        raise AttributeError("'NoneType' object has no attribute 'cmd_opts'")

    failing = {"process_revision_directives": fails}  # needs `alembic revision`'s options
    assert check_models(url, metadata, config=config, options=failing) != []


def test_type_nullability_and_default_drift_are_named(
    pg: Sandbox, db: str, conn: Conn, tmp_path: Path
) -> None:
    conn.execute(HEAD.replace("note text,", "note text NOT NULL,").replace("'new'", "'old'"))
    conn.execute("ALTER TABLE customers ALTER COLUMN score TYPE real")
    metadata, _ = models(tmp_path)
    found = check_models(
        pg.sqlalchemy_url_for(db),
        metadata,
        config=load_config(tmp_path),
        options={"compare_server_default": True},
    )
    assert sorted(f.message.removeprefix("models and head differ: ") for f in found) == [
        "column public.customers.note: NOT NULL at head, nullable in the models",
        "column public.customers.score: type at head REAL, in the models DOUBLE PRECISION",
        "column public.customers.status: default at head old, in the models new",
    ]


def test_many_columns_that_differ_the_same_way_are_one_finding(
    pg: Sandbox, db: str, conn: Conn, tmp_path: Path
) -> None:
    """phoenix: 85 columns are BIGINT at head (with_variant) and INTEGER in the models. One
    finding names the pattern, its context every column; fewer than five stay one each."""
    tables = [f"t{n}" for n in range(6)]
    conn.execute("".join(f"CREATE TABLE {t} (id bigint PRIMARY KEY);" for t in tables))
    package = f"mp_models_{next(_names)}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "models.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"
        + "".join(
            f"sa.Table('{t}', metadata, sa.Column('id', sa.Integer, primary_key=True))\n"
            for t in tables
        )
    )
    (metadata,), _ = load_metadata(f"{package}.models:metadata", tmp_path)
    (found,) = check_models(pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path))
    assert found.message == (
        "models and head differ: 6 columns: type at head BIGINT, in the models INTEGER "
        "(public.t0.id, public.t1.id, public.t2.id and 3 more)"
    )
    assert found.context == (("columns", "\n".join(f"public.{t}.id" for t in tables)),)
    conn.execute("DROP TABLE t4, t5")
    metadata.remove(metadata.tables["t4"])
    metadata.remove(metadata.tables["t5"])
    found_each = check_models(pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path))
    assert len(found_each) == 4 and all(f.context == () for f in found_each)


def test_schema_file_equal_to_head_reports_nothing(pg: Sandbox, conn: Conn, tmp_path: Path) -> None:
    conn.execute(HEAD)
    path = tmp_path / "create_database.sql"
    path.write_text(HEAD)
    assert check_schema_file(pg, take_snapshot(conn), path, SnapshotFilter()) == []


def test_schema_file_drift_is_reported_both_ways(pg: Sandbox, conn: Conn, tmp_path: Path) -> None:
    conn.execute(HEAD)
    path = tmp_path / "create_database.sql"
    path.write_text(
        HEAD.replace("    note text,\n", "").replace(
            "CREATE UNIQUE INDEX customers_lower_note", "--"
        )
        + "CREATE TABLE legacy (id int PRIMARY KEY);\n"
    )
    found = check_schema_file(pg, take_snapshot(conn), path, SnapshotFilter())
    assert {(f.check, f.location.path if f.location else None) for f in found} == {("MP111", path)}
    messages = [f.message.removeprefix("create_database.sql and head differ: ") for f in found]
    assert (
        "column public.customers.note exists at head but is missing from create_database.sql"
        in messages
    )
    assert "table public.legacy is in create_database.sql but not at head" in messages


def test_schema_file_whose_columns_differ_in_order_alone_is_a_warning(
    pg: Sandbox, conn: Conn, tmp_path: Path
) -> None:
    # procrastinate: the migrations append priority, schema.sql declares it in the middle
    conn.execute("CREATE TABLE jobs (id int PRIMARY KEY, status text, priority int);")
    path = tmp_path / "schema.sql"
    path.write_text("CREATE TABLE jobs (id int PRIMARY KEY, priority int, status text);\n")
    (found,) = check_schema_file(pg, take_snapshot(conn), path, SnapshotFilter())
    assert (found.check, found.severity) == ("MP111", Severity.WARNING)
    assert "column order" in found.message
    # anything else that differs stays an error
    path.write_text("CREATE TABLE jobs (id int PRIMARY KEY, priority bigint, status text);\n")
    found = check_schema_file(pg, take_snapshot(conn), path, SnapshotFilter())
    errors = [f.message for f in found if f.severity is Severity.ERROR]
    assert len(errors) == 1
    assert "public.jobs.priority" in errors[0]


def test_schema_file_with_invalid_sql_names_file_and_line(
    pg: Sandbox, conn: Conn, tmp_path: Path
) -> None:
    path = tmp_path / "schema.sql"
    path.write_text("CREATE TABLE a (id int);\n\nCREATE TABLE b (id int REFERENCES nowhere);\n")
    with pytest.raises(SourceError) as caught:
        check_schema_file(pg, take_snapshot(conn), path, SnapshotFilter())
    assert caught.value.what == f'{path}:3: relation "nowhere" does not exist'
    assert caught.value.exit_code == 2


def _project(tmp_path: Path, idempotent: bool) -> Path:
    create = "CREATE SCHEMA IF NOT EXISTS entity; CREATE TABLE {} entity.identity (id int)"
    revisions = [
        Revision(
            id="r1",
            down=None,
            upgrade=f'op.execute("{create.format("IF NOT EXISTS" if idempotent else "")}")',
            downgrade='op.execute("DROP TABLE entity.identity")',
        ),
        Revision(
            id="r2",
            down="r1",
            upgrade='op.execute("CREATE TABLE entity.release (id int)")',
            downgrade='op.execute("DROP TABLE entity.release")',
        ),
    ]
    return write_project(tmp_path / "project", revisions)


@pytest.mark.parametrize("idempotent", [True, False])
def test_bootstrapped_database_upgrades_only_with_idempotent_migrations(
    pg: Sandbox, tmp_path: Path, idempotent: bool
) -> None:
    root = _project(tmp_path, idempotent)
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text("CREATE SCHEMA entity;\nCREATE TABLE entity.identity (id int);\n")
    config = load_config(root)
    project = load_project(config, root)
    project.script_directory()
    paths = {f.revision: f.path for f in project.graph.files if f.revision}
    found = check_bootstrap(
        pg, bootstrap, alembic_stepper(project, config), config=config, revision_paths=paths
    )
    if idempotent:
        assert found == []
        return
    (finding,) = found
    assert (finding.check, finding.revision) == ("MP112", "r1")
    assert finding.location is not None and finding.location.path.name == "r1.py"
    assert finding.statement is not None and "CREATE TABLE" in finding.statement
    assert finding.message == (
        'upgrading a database loaded from prod.sql fails at r1: relation "identity" already exists'
    )


def test_a_bootstrap_file_that_fails_names_file_and_line(pg: Sandbox, tmp_path: Path) -> None:
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text("CREATE SCHEMA entity;\nCREATE TABLE entity.x (id nosuchtype);\n")
    with pytest.raises(SourceError) as caught:
        load_bootstrap(pg, bootstrap)
    assert caught.value.what == (f'bootstrap file {bootstrap}:2: type "nosuchtype" does not exist')


@pytest.mark.parametrize(
    ("stamp", "fix"),
    [
        # pg_dump empties the search_path: an unqualified stamp has no schema to go to
        (
            "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);",
            "qualify the name with its schema (`public.alembic_version`)",
        ),
        # and the dump of an upgraded database holds the version table already
        (
            "CREATE TABLE public.users (id int);",
            "create it once: the file made it already",
        ),
        ("CREATE TABLE public.x (id nosuchtype);", "correct the SQL at that line"),
    ],
)
def test_a_bootstrap_file_that_fails_as_pg_dump_files_do_says_why(
    pg: Sandbox, tmp_path: Path, stamp: str, fix: str
) -> None:
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text(
        "SELECT pg_catalog.set_config('search_path', '', false);\n"
        f"CREATE TABLE public.users (id int);\n{stamp}\n"
    )
    with pytest.raises(SourceError) as caught:
        load_bootstrap(pg, bootstrap)
    assert caught.value.what.startswith(f"bootstrap file {bootstrap}:3: ")
    assert caught.value.fix is not None
    assert caught.value.fix.startswith(fix)


def test_hanging_schema_and_bootstrap_files_stop_at_the_statement_timeout(
    pg: Sandbox, conn: Conn, tmp_path: Path
) -> None:
    config = load_config(tmp_path, overrides={"statement-timeout": 0.5})
    slow = tmp_path / "schema.sql"
    slow.write_text("CREATE TABLE t (id int);\nSELECT pg_sleep(30);\n")
    before = pg.created
    with pytest.raises(SourceError) as caught:
        check_schema_file(pg, take_snapshot(conn), slow, SnapshotFilter(), config=config)
    assert caught.value.what == (
        f"{slow}: a statement ran longer than the statement timeout (0.5 s)"
    )
    with pytest.raises(SourceError) as caught:
        load_bootstrap(pg, slow, config=config)
    assert caught.value.what == (
        f"bootstrap file {slow}: a statement ran longer than the statement timeout (0.5 s)"
    )
    assert pg.created == before  # the scratch databases are dropped


def test_lock_file_absent_equal_and_drifted(conn: Conn, tmp_path: Path) -> None:
    config = load_config(tmp_path)
    conn.execute(HEAD)
    head = take_snapshot(conn)
    assert check_lockfile(config, head) == []  # no lock file: nothing to compare
    write_lockfile(tmp_path / "migproof.schema.json", head)
    assert check_lockfile(config, head) == []
    conn.execute("ALTER TABLE customers ADD COLUMN phone text")
    (finding,) = check_lockfile(config, take_snapshot(conn))
    assert finding.check == "MP113"
    assert finding.location is not None
    assert finding.location.path == tmp_path / "migproof.schema.json"
    assert finding.message.startswith("head no longer matches migproof.schema.json: ")
    assert "column public.customers.phone: only in head" in finding.message  # not "only in B"
    assert finding.context[0][0] == "diff"


def test_models_module_is_loaded_from_the_project(tmp_path: Path) -> None:
    metadata, origin = models(tmp_path)
    assert origin is not None and origin.name == "models.py"
    assert list(metadata[0].tables) == ["customers"]
    assert textwrap.dedent("x") == "x"


def test_missing_schema_and_bootstrap_files_are_usage_errors(
    pg: Sandbox, conn: Conn, tmp_path: Path
) -> None:
    with pytest.raises(SourceError) as caught:
        check_schema_file(pg, take_snapshot(conn), tmp_path / "nope.sql", SnapshotFilter())
    assert (caught.value.what, caught.value.exit_code) == (
        f"no such schema file: {tmp_path / 'nope.sql'}",
        2,
    )
    with pytest.raises(SourceError, match="no such bootstrap file"):
        load_bootstrap(pg, tmp_path / "nope.sql")


def test_enum_labels_the_models_add_without_a_revision(
    pg: Sandbox, db: str, conn: Conn, tmp_path: Path
) -> None:
    conn.execute(
        "CREATE TYPE status AS ENUM ('new', 'paid');"
        "CREATE TABLE orders (id int PRIMARY KEY, status status NOT NULL)"
    )
    package = f"mp_models_{next(_names)}"
    (tmp_path / f"{package}.py").write_text(
        "import sqlalchemy as sa\n"
        "metadata = sa.MetaData()\n"
        "sa.Table('orders', metadata, sa.Column('id', sa.Integer, primary_key=True),\n"
        "    sa.Column('status', sa.Enum({labels}, name='status'), nullable=False))\n"
    )
    source = (tmp_path / f"{package}.py").read_text()
    config = load_config(tmp_path)
    url = pg.sqlalchemy_url_for(db)
    for labels, expected in (
        ("'new', 'paid'", []),
        (
            "'new', 'paid', 'refunded'",
            [
                "models and head differ: enum public.status: labels at head [new, paid], "
                "in the models [new, paid, refunded]"
            ],
        ),
    ):
        name = f"{package}_{len(expected)}"
        (tmp_path / f"{name}.py").write_text(source.replace("{labels}", labels))
        metadata, _ = load_metadata(f"{name}:metadata", tmp_path)
        found = check_models(url, metadata, config=config, head=take_snapshot(conn))
        assert [f.message for f in found] == expected
