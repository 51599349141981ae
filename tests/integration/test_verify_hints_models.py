"""MP110 names an index that differs between the models and head in one line.

Alembic's comparison reports an index whose columns or uniqueness changed as
``remove_index`` plus ``add_index`` of the same name; migproof says what differs instead of
"exists at head but not in the models" and "is declared in the models but not at head" for
one index. An index that is really only on one side keeps its one line.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, write_project

from migproof.config import load_config
from migproof.findings import Report
from migproof.sandbox import Sandbox
from migproof.verify import verify
from migproof.verify.parity import check_models, load_metadata

_names = itertools.count()

ORDERS = Revision(
    id="r1",
    down=None,
    upgrade="""
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_orders_customer", "orders", ["customer_id", "created_at"])
    op.create_index("ix_orders_note", "orders", ["note"])
    """,
    downgrade='op.drop_table("orders")',
)

MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.Text),
)
{indexes}
"""

AS_AT_HEAD = """
sa.Index("ix_orders_customer", orders.c.customer_id, orders.c.created_at)
sa.Index("ix_orders_note", orders.c.note)
"""


def model_drift(pg: Sandbox, root: Path, indexes: str) -> list[str]:
    """The MP110 messages of verifying ``root``'s chain against models with ``indexes``."""
    module = f"mp_hint_models_{next(_names)}"
    (root / f"{module}.py").write_text(MODELS.replace("{indexes}", indexes))
    config = load_config(root, overrides={"verify.models": f"{module}:metadata"})
    report: Report = verify(config, root, host=pg)
    assert {f.check for f in report.findings} <= {"MP110"}
    assert all(f.location and f.location.path.name == f"{module}.py" for f in report.findings)
    return [f.message.removeprefix("models and head differ: ") for f in report.findings]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, [ORDERS])


def test_models_that_match_head_report_no_index(pg: Sandbox, project: Path) -> None:
    assert model_drift(pg, project, AS_AT_HEAD) == []


def test_an_index_on_other_columns_is_one_line(pg: Sandbox, project: Path) -> None:
    indexes = AS_AT_HEAD.replace(", orders.c.created_at)", ")")
    assert model_drift(pg, project, indexes) == [
        "index ix_orders_customer on public.orders: columns at head (customer_id, created_at), "
        "in the models (customer_id)"
    ]


def test_an_index_unique_in_the_models_only_is_one_line(pg: Sandbox, project: Path) -> None:
    indexes = AS_AT_HEAD.replace("orders.c.note)", "orders.c.note, unique=True)")
    assert model_drift(pg, project, indexes) == [
        "index ix_orders_note on public.orders: not unique at head, unique in the models"
    ]


def test_an_index_on_an_expression_names_the_keys(pg: Sandbox, project: Path) -> None:
    indexes = AS_AT_HEAD.replace("orders.c.note)", "sa.func.lower(orders.c.note), unique=True)")
    assert model_drift(pg, project, indexes) == [
        "index ix_orders_note on public.orders: keys at head (note), in the models "
        "(lower(note)); not unique at head, unique in the models"
    ]


def test_an_index_only_in_the_models_stays_one_missing_line(pg: Sandbox, project: Path) -> None:
    indexes = AS_AT_HEAD + 'sa.Index("ix_orders_created", orders.c.created_at)\n'
    assert model_drift(pg, project, indexes) == [
        "index ix_orders_created on public.orders is declared in the models but not at head"
    ]


def test_an_index_only_at_head_beside_a_changed_one(pg: Sandbox, project: Path) -> None:
    indexes = 'sa.Index("ix_orders_customer", orders.c.customer_id)\n'
    assert sorted(model_drift(pg, project, indexes)) == [
        "index ix_orders_customer on public.orders: columns at head (customer_id, created_at), "
        "in the models (customer_id)",
        "index ix_orders_note on public.orders exists at head but not in the models",
    ]


def test_other_index_differences_name_both_definitions(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    with pg.connect(db) as conn:
        version = conn.info.server_version
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, created_at timestamptz, note text)")
        conn.execute("CREATE INDEX ix_orders_created ON orders (created_at DESC)")
        if version >= 150000:
            conn.execute("CREATE UNIQUE INDEX ix_orders_note ON orders (note) NULLS NOT DISTINCT")
        else:
            conn.execute("CREATE UNIQUE INDEX ix_orders_note ON orders (note)")
    module = f"mp_hint_models_{next(_names)}"
    (tmp_path / f"{module}.py").write_text(
        "import sqlalchemy as sa\n"
        "metadata = sa.MetaData()\n"
        "orders = sa.Table('orders', metadata, sa.Column('id', sa.Integer, primary_key=True),\n"
        "    sa.Column('created_at', sa.DateTime(timezone=True)), sa.Column('note', sa.Text))\n"
        "sa.Index('ix_orders_created', orders.c.created_at)\n"
        "sa.Index('ix_orders_note', orders.c.note, unique=True)\n"
    )
    metadata, _ = load_metadata(f"{module}:metadata", tmp_path)
    found = check_models(pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path))
    expected = [
        "index ix_orders_created on public.orders: keys at head (created_at DESC), "
        "in the models (created_at)"
    ]
    if version >= 150000:  # NULLS NOT DISTINCT: neither keys nor uniqueness, the definitions
        expected.append(
            "index ix_orders_note on public.orders: at head CREATE UNIQUE INDEX ix_orders_note "
            "ON orders (note) NULLS NOT DISTINCT, in the models CREATE UNIQUE INDEX "
            "ix_orders_note ON orders (note)"
        )
    assert [f.message.removeprefix("models and head differ: ") for f in found] == expected
    assert {f.check for f in found} == {"MP110"}


def test_models_that_declare_no_table_are_one_finding(pg: Sandbox, project: Path) -> None:
    """Metadata with no table (the model modules never imported) is said once, not once per
    table and index of head."""
    assert model_drift(pg, project, "metadata.remove(orders)") == [
        "the models' metadata declares no table, and head has 1"
    ]


def drift(pg: Sandbox, db: str, tmp_path: Path, head_sql: str, models: str) -> list[str]:
    """MP110 messages (with fixes) of ``models`` against a database built by ``head_sql``."""
    from migproof.catalog import take_snapshot

    with pg.connect(db) as conn:
        conn.execute(head_sql)
        head = take_snapshot(conn)
    module = f"mp_hint_models_{next(_names)}"
    (tmp_path / f"{module}.py").write_text(
        "import sqlalchemy as sa\nmetadata = sa.MetaData()\n" + models
    )
    metadata, _ = load_metadata(f"{module}:metadata", tmp_path)
    found = check_models(
        pg.sqlalchemy_url_for(db), metadata, config=load_config(tmp_path), head=head
    )
    assert {f.check for f in found} <= {"MP110"}
    return [f"{f.message.removeprefix('models and head differ: ')} | {f.fix}" for f in found]


USERS_AT_HEAD = """
CREATE TABLE users (id int PRIMARY KEY, name text, team_id int);
CREATE TABLE teams (id int PRIMARY KEY);
ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name);
ALTER TABLE users ADD CONSTRAINT users_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id);
CREATE INDEX users_team_idx ON users (team_id);
"""
USERS_MODEL = """
teams = sa.Table("teams", metadata, sa.Column("id", sa.Integer, primary_key=True))
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("team_id", sa.Integer),
    sa.UniqueConstraint("name", name="{unique}"),
    sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="{fk}"),
    sa.Index("{index}", "{indexed}"),
)
"""


def users_model(
    unique: str = "users_name_key",
    fk: str = "users_team_id_fkey",
    index: str = "users_team_idx",
    indexed: str = "team_id",
) -> str:
    return (
        USERS_MODEL.replace("{unique}", unique)
        .replace("{fk}", fk)
        .replace("{index}", index)
        .replace("{indexed}", indexed)
    )


def test_models_alike_but_for_names_match(pg: Sandbox, db: str, tmp_path: Path) -> None:
    assert drift(pg, db, tmp_path, USERS_AT_HEAD, users_model()) == []


def test_a_renamed_constraint_and_index_are_one_line_each(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    """jupyterhub's models name unique constraints uq_*, its database has PostgreSQL's
    *_key names: one line per constraint naming both, not two that look like two objects.
    (A foreign key's name alone is no difference to Alembic: nothing to say.)"""
    models = users_model(unique="uq_users_name", fk="fk_users_team", index="ix_users_team")
    found = drift(pg, db, tmp_path, USERS_AT_HEAD, models)
    assert sorted(line.split(" | ")[0] for line in found) == [
        "index on public.users (team_id): named users_team_idx at head, ix_users_team in the "
        "models",
        "unique constraint on public.users (name): named users_name_key at head, uq_users_name "
        "in the models",
    ]
    assert all("naming_convention" in line.split(" | ")[1] for line in found)


def test_an_index_on_other_columns_under_another_name_stays_two_lines(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    found = drift(
        pg, db, tmp_path, USERS_AT_HEAD, users_model(index="ix_users_name", indexed="name")
    )
    assert sorted(line.split(" | ")[0] for line in found) == [
        "index ix_users_name on public.users is declared in the models but not at head",
        "index users_team_idx on public.users exists at head but not in the models",
    ]


def test_a_table_only_at_head_is_one_line_not_one_per_part(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    head = (
        USERS_AT_HEAD
        + "CREATE TABLE audit (id int PRIMARY KEY, user_id int REFERENCES users (id));\n"
    )
    head += "CREATE INDEX audit_user_idx ON audit (user_id);\n"
    found = drift(pg, db, tmp_path, head, users_model())
    assert [line.split(" | ")[0] for line in found] == [
        "table public.audit exists at head but not in the models"
    ]


def test_most_tables_missing_from_the_models_are_one_line(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    """keystone's env.py passes a metadata few model modules were imported into: one line
    for the tables it lacks, saying why that happens, not fifty."""
    head = USERS_AT_HEAD + "".join(f"CREATE TABLE t{n} (id int PRIMARY KEY);\n" for n in range(6))
    found = drift(pg, db, tmp_path, head, users_model())
    (line,) = found
    text, fix = line.split(" | ")
    assert text == (
        "6 of the 8 tables at head are not in the models (public.t0, public.t1, public.t2, "
        "public.t3, public.t4, … and 1 more)"
    )
    assert "import every module that defines models" in fix


def test_a_few_tables_missing_from_the_models_are_named_one_by_one(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    head = USERS_AT_HEAD + "".join(f"CREATE TABLE t{n} (id int PRIMARY KEY);\n" for n in range(2))
    found = drift(pg, db, tmp_path, head, users_model())
    assert sorted(line.split(" | ")[0] for line in found) == [
        "table public.t0 exists at head but not in the models",
        "table public.t1 exists at head but not in the models",
    ]


def test_sqlalchemy_s_remarks_while_comparing_are_not_printed(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    """galaxy: tables in a foreign-key cycle made SQLAlchemy warn from inside the comparison,
    printed with migproof's own file and line."""
    import warnings

    head = (
        "CREATE TABLE a (id int PRIMARY KEY, b_id int);"
        "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id));"
        "ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b (id);"
    )
    models = (
        'sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("b_id", sa.Integer, sa.ForeignKey("b.id")))\n'
        'sa.Table("b", metadata, sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("a_id", sa.Integer, sa.ForeignKey("a.id")))\n'
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert drift(pg, db, tmp_path, head, models) == []
    assert [str(w.message) for w in caught] == []


def test_a_primary_key_the_models_call_nullable_is_no_difference(
    pg: Sandbox, db: str, tmp_path: Path
) -> None:
    """cinder: ``primary_key=True, nullable=True``; PostgreSQL makes it NOT NULL anyway."""
    head = "CREATE TABLE encryption (encryption_id varchar(36) PRIMARY KEY, note text NOT NULL);"
    models = (
        'sa.Table("encryption", metadata,'
        ' sa.Column("encryption_id", sa.String(36), primary_key=True, nullable=True),'
        ' sa.Column("note", sa.Text, nullable=True))\n'
    )
    found = drift(pg, db, tmp_path, head, models)
    # the plain column's nullability still differs
    assert [line.split(" | ")[0] for line in found] == [
        "column public.encryption.note: NOT NULL at head, nullable in the models"
    ]
