"""MP110 on what Alembic's comparison of head with the models misses or trips over.

Field trials: manila's models use ``sa.Enum("a", "b")`` without a name, which PostgreSQL
cannot create (the comparison raised and the whole report was lost, exit 3); cognee
declares one index name twice, for PostgreSQL and for SQLite, with ``ddl_if`` (which of
them Alembic compared changed from run to run); manila's ``drivers_private_data`` lost its
primary key at head, which Alembic's autogenerate never compares. And a project whose
env.py passes no ``target_metadata`` is told the comparison did not run.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import ENV_CONFIG_URL, Revision, line_of, write_project

from migproof.cli import main
from migproof.config import load_config
from migproof.findings import Report
from migproof.sandbox import Sandbox
from migproof.verify import verify
from migproof.verify.parity import check_models, load_metadata

_names = itertools.count()

NO_MODELS = (
    "comparison with the models",
    "env.py passes no target_metadata: name the models with --models module:attr or "
    "[tool.migproof.verify] models",
)


def env_with(models: str, configure: str = "") -> str:
    """env.py that defines ``models`` (ending in ``md``) and passes ``md`` as target_metadata."""
    env = ENV_CONFIG_URL.replace(
        "target_metadata = None", f"import sqlalchemy as sa\n\n{models}\ntarget_metadata = md\n"
    )
    return env.replace("{configure}", configure)


def run(pg: Sandbox, root: Path) -> Report:
    return verify(load_config(root), root, host=pg)


def mp110(report: Report) -> list[tuple[str, str | None, int | None]]:
    """(message without its prefix, file name, line) of each MP110."""
    return [
        (
            f.message.removeprefix("models and head differ: "),
            f.location.path.name if f.location else None,
            f.location.line if f.location else None,
        )
        for f in report.findings
        if f.check == "MP110"
    ]


def drift(pg: Sandbox, db: str, tmp_path: Path, head_sql: str, models: str) -> list[str]:
    """MP110 messages of ``models`` (a module defining ``metadata``) against a database
    ``head_sql`` builds, with head's snapshot (as verify passes it)."""
    from migproof.catalog import take_snapshot

    with pg.connect(db) as conn:
        conn.execute(head_sql)
        head = take_snapshot(conn)
    module = f"mp_models_head_{next(_names)}"
    (tmp_path / f"{module}.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n" + models
    )
    metadata, _ = load_metadata(f"{module}:metadata", tmp_path)
    found = check_models(
        pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path), head=head
    )
    assert {f.check for f in found} <= {"MP110"}
    return [f.message.removeprefix("models and head differ: ") for f in found]


# -- an enum without a name ---------------------------------------------------------------

T_WITH_S = Revision(
    id="0001",
    down=None,
    upgrade='op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("s", sa.String(1)))',
    downgrade='op.drop_table("t")',
)
UNNAMED_ENUM = (
    "md = sa.MetaData()\n"
    'sa.Table("t", md, sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("s", sa.Enum("a", "b")){more})\n'
)
UNNAMED_ENUM_LINE = (
    "PostgreSQL needs a name for the enum of column public.t.s: the models' sa.Enum has none "
    "(create_all() fails on it; its type is left out of the comparison)"
)


def test_an_unnamed_enum_is_a_finding_not_a_crash(
    pg: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """manila: compare_metadata compiled ``sa.Enum("a", "b")`` for PostgreSQL and raised
    CompileError ("PostgreSQL Enum type requires a name"): exit 3, no report at all."""
    root = write_project(tmp_path, [T_WITH_S], env=env_with(UNNAMED_ENUM.replace("{more}", "")))
    env_py = root / "migrations" / "env.py"
    url = pg.url_for("postgres")
    assert main(["verify", "--database-url", url, "--format", "json", str(root)]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert finding["check"] == "MP110"
    assert finding["line"] == line_of(env_py, "target_metadata = md")
    assert finding["message"] == f"models and head differ: {UNNAMED_ENUM_LINE}"
    assert finding["fix"] == (
        'name it: `sa.Enum("a", "b", name="…")`, and create that type in a revision'
    )


def test_the_rest_of_the_models_is_compared_beside_an_unnamed_enum(
    pg: Sandbox, tmp_path: Path
) -> None:
    models = UNNAMED_ENUM.replace("{more}", ', sa.Column("note", sa.Text)')
    report = run(pg, write_project(tmp_path, [T_WITH_S], env=env_with(models)))
    assert [message for message, _, _ in mp110(report)] == [
        UNNAMED_ENUM_LINE,
        "column public.t.note is declared in the models but not at head",
    ]
    assert report.skipped == []


def test_an_unnamed_enum_fix_names_head_s_type(pg: Sandbox, db: str, tmp_path: Path) -> None:
    head = "CREATE TYPE t_state AS ENUM ('a', 'b'); CREATE TABLE t (id int PRIMARY KEY, s t_state);"
    models = (
        'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("s", sa.Enum("a", "b")))\n'
    )
    from migproof.catalog import take_snapshot

    with pg.connect(db) as conn:
        conn.execute(head)
        snapshot = take_snapshot(conn)
    module = f"mp_models_head_{next(_names)}"
    (tmp_path / f"{module}.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n" + models
    )
    metadata, _ = load_metadata(f"{module}:metadata", tmp_path)
    (finding,) = check_models(
        pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path), head=snapshot
    )
    assert finding.fix == 'name it as head does: `sa.Enum("a", "b", name="t_state")`'


def test_named_and_non_native_enums_are_no_finding(pg: Sandbox, db: str, tmp_path: Path) -> None:
    head = (
        "CREATE TYPE t_state AS ENUM ('a', 'b');"
        "CREATE TABLE t (id int PRIMARY KEY, s t_state, k varchar(1), ss t_state[]);"
    )
    models = (
        'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("s", sa.Enum("a", "b", name="t_state")),'
        ' sa.Column("k", sa.Enum("a", "b", native_enum=False, create_constraint=False)),'
        ' sa.Column("ss", sa.ARRAY(sa.Enum("a", "b", name="t_state"))))\n'
    )
    assert drift(pg, db, tmp_path, head, models) == []


def test_an_unnamed_enum_in_an_array_is_a_finding(pg: Sandbox, db: str, tmp_path: Path) -> None:
    head = (
        "CREATE TYPE t_state AS ENUM ('a', 'b'); CREATE TABLE t (id int PRIMARY KEY, ss t_state[]);"
    )
    models = (
        'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("ss", sa.ARRAY(sa.Enum("a", "b"))))\n'
    )
    assert drift(pg, db, tmp_path, head, models) == [
        UNNAMED_ENUM_LINE.replace("public.t.s:", "public.t.ss:")
    ]


def test_many_unnamed_enums_are_one_finding(pg: Sandbox, db: str, tmp_path: Path) -> None:
    columns = [f"s{n}" for n in range(6)]
    head = f"CREATE TABLE t (id int PRIMARY KEY, {', '.join(f'{c} text' for c in columns)});"
    models = (
        'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), '
        + ", ".join(f'sa.Column("{c}", sa.Enum("a", "b"))' for c in columns)
        + ")\n"
    )
    assert drift(pg, db, tmp_path, head, models) == [
        "6 columns: PostgreSQL needs a name for its enum, the models' sa.Enum has none "
        "(create_all() fails on it; its type is left out of the comparison) (public.t.s0, "
        "public.t.s1, public.t.s2 and 3 more)"
    ]


def test_an_error_of_the_comparison_is_not_checked_not_a_crash(pg: Sandbox, tmp_path: Path) -> None:
    """Whatever the project's models or filters raise inside Alembic's comparison is said
    under "not checked"; the checks migproof makes from head's snapshot still run."""
    models = (
        "def boom(obj, name, type_, reflected, compare_to):\n"
        "    if type_ == 'column':\n"
        "        raise RuntimeError('boom in include_object')\n"
        "    return True\n\n\n"
        "md = sa.MetaData()\n"
        'sa.Table("t", md, sa.Column("s", sa.String(1), primary_key=True))\n'
    )
    env = env_with(models, configure=", include_object=boom")
    report = run(pg, write_project(tmp_path, [T_WITH_S], env=env))
    assert report.skipped == [
        (
            "comparison with the models",
            "Alembic's comparison of head with the models failed: RuntimeError: boom in "
            "include_object (the primary keys and enum labels were compared)",
        )
    ]
    assert [message for message, _, _ in mp110(report)] == [
        "primary key of public.t: (id) at head, (s) in the models"
    ]


# -- ddl_if -------------------------------------------------------------------------------

T_CREATED = """
    op.create_table(
        "t",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime),
    )
    op.create_index("ix_t_created", "t", [sa.text("{key}")])
"""
DDL_IF_MODELS = """
sa.Table(
    "t",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime),
    sa.Index("ix_t_created", sa.text("created_at DESC NULLS LAST")).ddl_if({postgresql}),
    sa.Index("ix_t_created", sa.text("created_at DESC")).ddl_if({other}),
)
"""


def ddl_if_drift(
    pg: Sandbox, tmp_path: Path, at_head: str, postgresql: str, other: str, runs: int = 10
) -> list[list[str]]:
    """The MP110 messages of ``runs`` comparisons, each of a fresh copy of the models (so
    Python's set order, which decided what Alembic compared, varies between them)."""
    db = pg.create_database()
    try:
        with pg.connect(db) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, created_at timestamp)")
            conn.execute(f"CREATE INDEX ix_t_created ON t ({at_head})")
        url = pg.sqlalchemy_url_for(db)
        models = DDL_IF_MODELS.replace("{postgresql}", postgresql).replace("{other}", other)
        found = []
        for _ in range(runs):
            module = f"mp_models_head_{next(_names)}"
            (tmp_path / f"{module}.py").write_text(
                "import sqlalchemy as sa\nmetadata = sa.MetaData()\n" + models
            )
            metadata, _ = load_metadata(f"{module}:metadata", tmp_path)
            findings = check_models(url, metadata, config=load_config(tmp_path))
            found.append([f.message.removeprefix("models and head differ: ") for f in findings])
            (table,) = metadata[0].tables.values()
            assert len(table.indexes) == 2  # the models are as they were
        return found
    finally:
        pg.drop_database(db)


@pytest.mark.parametrize(
    ("postgresql", "other"),
    [
        ('dialect="postgresql"', 'dialect="sqlite"'),
        ('dialect=("postgresql", "mysql")', 'dialect=["sqlite", "mysql"]'),
        (
            "callable_=lambda ddl, target, bind, **kw: kw['dialect'].name == 'postgresql'",
            "callable_=lambda ddl, target, bind, **kw: kw['dialect'].name == 'sqlite'",
        ),
    ],
    ids=["string", "list", "callable"],
)
def test_an_index_declared_for_another_dialect_is_not_compared(
    pg: Sandbox, tmp_path: Path, postgresql: str, other: str
) -> None:
    """cognee: the same index name for PostgreSQL and for SQLite; Alembic ignores ddl_if,
    so the SQLite one was compared in about half the runs: exit 1 or 0 on the same code."""
    found = ddl_if_drift(pg, tmp_path, "created_at DESC NULLS LAST", postgresql, other)
    assert found == [[]] * len(found)


def test_the_postgresql_variant_that_differs_from_head_is_mp110_every_time(
    pg: Sandbox, tmp_path: Path
) -> None:
    found = ddl_if_drift(
        pg, tmp_path, "created_at", 'dialect="postgresql"', 'dialect="sqlite"', runs=4
    )
    line = (
        "index ix_t_created on public.t: keys at head (created_at), in the models "
        "(created_at DESC NULLS LAST)"
    )
    assert found == [[line]] * 4


def test_verify_compares_the_postgresql_variant(pg: Sandbox, tmp_path: Path) -> None:
    rev = Revision(
        id="0001",
        down=None,
        upgrade=T_CREATED.replace("{key}", "created_at DESC NULLS LAST"),
        downgrade='op.drop_table("t")',
    )
    models = "md = sa.MetaData()\nmetadata = md\n" + DDL_IF_MODELS.replace(
        "{postgresql}", 'dialect="postgresql"'
    ).replace("{other}", 'dialect="sqlite"')
    for _ in range(3):
        report = run(pg, write_project(tmp_path, [rev], env=env_with(models)))
        assert (report.findings, report.skipped) == ([], [])


# -- primary keys -------------------------------------------------------------------------

HOST_KEY = Revision(
    id="0001",
    down=None,
    upgrade='op.create_table("t", sa.Column("host", sa.String(10), primary_key=True),'
    ' sa.Column("k", sa.String(10), primary_key=True), sa.Column("v", sa.Text))',
    downgrade='op.drop_table("t")',
)
HOST_DROPPED = Revision(
    id="0002",
    down="0001",
    upgrade='op.drop_column("t", "host")',
    downgrade='op.add_column("t", sa.Column("host", sa.String(10), nullable=False,'
    ' server_default="x"))\nop.alter_column("t", "host", server_default=None)\n'
    'op.create_primary_key("t_pkey", "t", ["host", "k"])',
)
KEY_MODEL = (
    "md = sa.MetaData()\n"
    'sa.Table("t", md, sa.Column("k", sa.String(10), primary_key=True), sa.Column("v", sa.Text))\n'
)


def test_a_primary_key_dropped_with_its_column_is_mp110(pg: Sandbox, tmp_path: Path) -> None:
    """manila's drivers_private_data: dropping one column of a composite key drops the key;
    Alembic's comparison never looks at primary keys."""
    root = write_project(tmp_path, [HOST_KEY, HOST_DROPPED], env=env_with(KEY_MODEL))
    report = run(pg, root)
    env_line = line_of(root / "migrations" / "env.py", "target_metadata = md")
    assert mp110(report) == [
        (
            "table public.t has no primary key at head, the models declare one on (k)",
            "env.py",
            env_line,
        )
    ]
    (finding,) = [f for f in report.findings if f.check == "MP110"]
    assert finding.fix is not None
    assert '`op.create_primary_key("t_pkey", "t", ["k"])`' in finding.fix


def test_a_primary_key_on_other_columns_is_mp110(pg: Sandbox, tmp_path: Path) -> None:
    report = run(pg, write_project(tmp_path, [HOST_KEY], env=env_with(KEY_MODEL)))
    messages = [message for message, _, _ in mp110(report)]
    assert "primary key of public.t: (host, k) at head, (k) in the models" in messages
    (finding,) = [f for f in report.findings if f.message.endswith("(k) in the models")]
    assert finding.fix is not None
    assert 'op.drop_constraint("t_pkey", "t", type_="primary")' in finding.fix


@pytest.mark.parametrize(
    ("head", "models", "expected"),
    [
        (  # primary_key=True on columns declared in another order: no declared order
            "CREATE TABLE t (a int, b int, PRIMARY KEY (a, b))",
            'sa.Table("t", metadata, sa.Column("b", sa.Integer, primary_key=True),'
            ' sa.Column("a", sa.Integer, primary_key=True))',
            [],
        ),
        (  # a PrimaryKeyConstraint in head's order
            "CREATE TABLE t (a int, b int, PRIMARY KEY (b, a))",
            'sa.Table("t", metadata, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer),'
            ' sa.PrimaryKeyConstraint("b", "a"))',
            [],
        ),
        (  # a PrimaryKeyConstraint in another order
            "CREATE TABLE t (a int, b int, PRIMARY KEY (a, b))",
            'sa.Table("t", metadata, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer),'
            ' sa.PrimaryKeyConstraint("b", "a"))',
            ["primary key of public.t: (a, b) at head, (b, a) in the models"],
        ),
        (  # a table at head only: Alembic's line, no primary-key one
            "CREATE TABLE t (a int PRIMARY KEY); CREATE TABLE u (a int PRIMARY KEY)",
            'sa.Table("t", metadata, sa.Column("a", sa.Integer, primary_key=True))',
            ["table public.u exists at head but not in the models"],
        ),
        (  # a models' table without a key (a Core table): nothing said of keys
            "CREATE TABLE t (a int PRIMARY KEY)",
            'sa.Table("t", metadata, sa.Column("a", sa.Integer, nullable=False))',
            [],
        ),
        (  # a table in the models only: Alembic's line, no primary-key one
            "CREATE TABLE t (a int PRIMARY KEY)",
            'sa.Table("t", metadata, sa.Column("a", sa.Integer, primary_key=True))\n'
            'sa.Table("u", metadata, sa.Column("a", sa.Integer, primary_key=True))',
            ["table public.u is declared in the models but not at head"],
        ),
        (  # names PostgreSQL keeps quoted
            'CREATE TABLE "Orders" ("OrderId" int, "Line" int, PRIMARY KEY ("OrderId", "Line"))',
            'sa.Table("Orders", metadata, sa.Column("OrderId", sa.Integer, primary_key=True),'
            ' sa.Column("Line", sa.Integer, primary_key=True))',
            [],
        ),
    ],
    ids=[
        "implicit-order",
        "explicit-same",
        "explicit-other",
        "head-only",
        "no-key",
        "model-only",
        "quoted-names",
    ],
)
def test_primary_keys_compared(
    pg: Sandbox, db: str, tmp_path: Path, head: str, models: str, expected: list[str]
) -> None:
    assert drift(pg, db, tmp_path, head, models + "\n") == expected


def test_a_table_env_py_leaves_out_has_its_key_left_out(pg: Sandbox, tmp_path: Path) -> None:
    models = (
        "def skip_t(obj, name, type_, reflected, compare_to):\n"
        "    return not (type_ == 'table' and name == 't')\n\n\n" + KEY_MODEL
    )
    env = env_with(models, configure=", include_object=skip_t")
    report = run(pg, write_project(tmp_path, [HOST_KEY, HOST_DROPPED], env=env))
    assert mp110(report) == []


# -- no models ----------------------------------------------------------------------------


def test_no_target_metadata_is_said_under_not_checked(pg: Sandbox, tmp_path: Path) -> None:
    """env.py's ``target_metadata = None`` used to leave the comparison out silently."""
    report = run(pg, write_project(tmp_path, [T_WITH_S]))
    assert (report.findings, report.skipped) == ([], [NO_MODELS])


def test_models_named_with_the_option_are_compared_not_said(pg: Sandbox, tmp_path: Path) -> None:
    root = write_project(tmp_path, [T_WITH_S])
    (root / "mp_models_head_option.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"
        'sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("s", sa.String(1)))\n'
    )
    config = load_config(root, overrides={"verify.models": "mp_models_head_option:metadata"})
    report = verify(config, root, host=pg)
    assert (report.findings, report.skipped) == ([], [])


def test_a_plain_sql_project_is_not_told_about_target_metadata(pg: Sandbox, tmp_path: Path) -> None:
    """No env.py, no models to name: nothing to say."""
    (tmp_path / "1_t.up.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    (tmp_path / "1_t.down.sql").write_text("DROP TABLE t;\n")
    report = run(pg, tmp_path)
    assert (report.findings, report.skipped) == ([], [])


def test_a_foreign_key_for_another_dialect_is_not_compared(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    head = "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int PRIMARY KEY, p_id int);"
    models = (
        'sa.Table("p", metadata, sa.Column("id", sa.Integer, primary_key=True))\n'
        'c = sa.Table("c", metadata, sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("p_id", sa.Integer),'
        ' sa.ForeignKeyConstraint(["p_id"], ["p.id"], name="c_p_fk").ddl_if(dialect="sqlite"))\n'
    )
    assert drift(pg, db, tmp_path, head, models) == []
    with_postgresql = models.replace('dialect="sqlite"', 'dialect="postgresql"')
    assert drift(pg, db, tmp_path, "SELECT 1", with_postgresql) == [
        "foreign key c_p_fk on public.c is declared in the models but not at head"
    ]
