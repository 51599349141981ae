"""Rows survive round trips: data preservation as the walk runs it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tests.conftest import REPO
from tests.helpers.alembic_projects import Revision, line_of, write_project

from migproof.config import load_config
from migproof.findings import Report
from migproof.sandbox import Sandbox
from migproof.verify import verify


def table_t(v: str) -> Revision:
    """r1: table t, its key id and a column v of type (and constraints) ``v``."""
    return Revision(
        id="r1",
        down=None,
        upgrade=f'op.execute("CREATE TABLE t (id int PRIMARY KEY, v {v})")',
        downgrade='op.execute("DROP TABLE t")',
    )


T1 = table_t("int NOT NULL")


def run(pg: Sandbox, root: Path, **overrides: object) -> Report:
    return verify(load_config(root, overrides=overrides), root, host=pg)


def write_after_t1(root: Path, upgrade: str, downgrade: str) -> None:
    """A project of T1 and one revision r2 on top of it."""
    write_project(root, [T1, Revision(id="r2", down="r1", upgrade=upgrade, downgrade=downgrade)])


def codes(report: Report) -> list[tuple[str, str | None]]:
    return sorted((f.check, f.revision) for f in report.findings)


def test_downgrade_that_recreates_the_table_loses_its_rows(pg: Sandbox, tmp_path: Path) -> None:
    write_after_t1(
        tmp_path,
        'op.execute("ALTER TABLE t ADD COLUMN w int")',
        'op.execute("DROP TABLE t")\nop.execute("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)")',
    )
    report = run(pg, tmp_path)
    assert codes(report) == [("MP101", "r2")]
    finding = report.findings[0]
    assert "public.t" in finding.message
    path = tmp_path / "migrations" / "versions" / "r2.py"
    assert finding.location is not None and finding.location.line == line_of(path, "def downgrade")
    assert not run(pg, tmp_path, **{"verify.data": False}).findings


@pytest.mark.parametrize("name", ["account", "user", "group", "Order"])
def test_rows_of_tables_named_with_keywords_are_tracked(
    pg: Sandbox, tmp_path: Path, name: str
) -> None:
    """open-webui's "user" table: keyed public.user, not public."user" as the snapshot has
    it, its rows were lost track of at every revision, the loss below went unseen, and a
    retry without rows met the rows left (a false MP010)."""
    first = Revision(
        id="r1",
        down=None,
        upgrade=f"op.execute('CREATE TABLE \"{name}\" (id text PRIMARY KEY, info text)')",
        downgrade=f"op.execute('DROP TABLE \"{name}\"')",
    )
    nulls_info = Revision(
        id="r2",
        down="r1",
        upgrade='op.execute("CREATE TABLE other (id int PRIMARY KEY)")',
        downgrade=f'op.execute(\'UPDATE "{name}" SET info = NULL\')\nop.execute("DROP TABLE other")',
    )
    to_json = Revision(
        id="r3",
        down="r2",
        upgrade=f"op.execute('ALTER TABLE \"{name}\" ALTER COLUMN info TYPE json USING info::json')",
        downgrade=f"op.execute('ALTER TABLE \"{name}\" ALTER COLUMN info TYPE text')",
    )
    write_project(tmp_path / "nulls", [first, nulls_info, to_json])
    report = run(pg, tmp_path / "nulls")
    assert codes(report) == [("MP103", "r2")]
    assert [(r["upgrade"], r["roundtrip"]) for r in report.records] == [("ok", "ok")] * 3
    # the json cast fails on the made-up text, and passes once the rows are removed
    keeps = dataclasses.replace(nulls_info, downgrade='op.execute("DROP TABLE other")')
    write_project(tmp_path / "keeps", [first, keeps, to_json])
    report = run(pg, tmp_path / "keeps")
    assert codes(report) == []
    assert [what for what, _ in report.skipped if what.startswith("rows during")] == [
        "rows during the upgrade of r3"
    ]


def test_data_migration_that_rewrites_values_is_not_a_finding(pg: Sandbox, tmp_path: Path) -> None:
    write_after_t1(
        tmp_path,
        'op.execute("UPDATE t SET v = v * 2")',
        'op.execute("UPDATE t SET v = v / 2")',
    )
    assert run(pg, tmp_path).findings == []


def test_not_null_column_without_default_fails_on_real_tables(pg: Sandbox, tmp_path: Path) -> None:
    write_after_t1(
        tmp_path,
        'op.add_column("t", sa.Column("w", sa.Integer, nullable=False))',
        'op.drop_column("t", "w")',
    )
    report = run(pg, tmp_path)
    assert codes(report) == [("MP104", "r2")]
    assert "contains null values" in report.findings[0].message
    assert [r["upgrade"] for r in report.records] == ["ok", "ok"]
    # the record keeps the statements and time of the upgrade the walk went on from
    r2 = report.records[1]
    statements = r2["statements"]
    assert isinstance(statements, list)
    assert (statements[0]["direction"], statements[0]["sql"]) == (
        "upgrade",
        "ALTER TABLE t ADD COLUMN w INTEGER NOT NULL",
    )
    assert isinstance(r2["upgrade_ms"], float) and r2["upgrade_ms"] > 0


@pytest.mark.parametrize(
    "then",
    [
        'op.alter_column("t", "w", nullable=False)',
        'op.create_check_constraint("w_nn", "t", "w IS NOT NULL")',
        'op.execute("ALTER TABLE t DROP CONSTRAINT t_pkey")\nop.create_primary_key("t_pkey", "t", ["w"])',
    ],
    ids=["set-not-null", "check-is-not-null", "primary-key"],
)
def test_a_column_added_then_required_fails_on_real_tables(
    pg: Sandbox, tmp_path: Path, then: str
) -> None:
    """rucio's, and Alembic's usual pattern: add_column nullable, then require it. The new
    column is NULL in every existing row, so any table with rows fails: MP104."""
    write_after_t1(
        tmp_path,
        'op.add_column("t", sa.Column("w", sa.Integer))\n' + then,
        'op.drop_column("t", "w")'
        if "pkey" not in then
        else (
            'op.execute("ALTER TABLE t DROP CONSTRAINT t_pkey")\n'
            'op.create_primary_key("t_pkey", "t", ["id"])\nop.drop_column("t", "w")'
        ),
    )
    report = run(pg, tmp_path)
    assert codes(report) == [("MP104", "r2")]
    assert not [what for what, _ in report.skipped if what.startswith("rows during")]


@pytest.mark.parametrize(
    ("backfill", "found"),
    [
        # letta's: filled from a joined table, which holds no row for migproof's made-up keys
        ('op.execute("UPDATE t SET w = o.w FROM other o WHERE o.id = t.v")', []),
        # filled for some rows only, by a condition on made-up values: the same
        ('op.execute("UPDATE ONLY t SET w = 1 WHERE v = -12345")', []),
        # filled, but another column: w stays NULL in every row, whatever the values
        ('op.execute("UPDATE t SET v = v")', [("MP104", "r2")]),
    ],
)
def test_a_column_added_backfilled_then_required_fails_only_on_made_up_values(
    pg: Sandbox, tmp_path: Path, backfill: str, found: list[tuple[str, str]]
) -> None:
    first = dataclasses.replace(
        table_t("int"),
        upgrade=table_t("int").upgrade
        + '\nop.create_table("other", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("w", sa.Integer))',
        downgrade='op.drop_table("other")\n' + table_t("int").downgrade,
    )
    second = Revision(
        id="r2",
        down="r1",
        upgrade=f'op.add_column("t", sa.Column("w", sa.Integer))\n{backfill}\n'
        'op.alter_column("t", "w", nullable=False)',
        downgrade='op.drop_column("t", "w")',
    )
    write_project(tmp_path, [first, second])
    report = run(pg, tmp_path)
    assert codes(report) == found
    noted = [what for what, _ in report.skipped if what == "rows during the upgrade of r2"]
    assert noted == ([] if found else ["rows during the upgrade of r2"])


@pytest.mark.parametrize(
    ("between", "found"),
    [
        ("pass", [("MP104", "r3")]),  # glance's visibility: NULL in every older row
        ('op.execute("UPDATE t SET w = 1")', []),  # filled by r2b: the NOT NULL passes
        # filled where a made-up value says so: the NULLs left depend on the values
        ('op.execute("UPDATE t SET w = 1 WHERE v = -7")', []),
    ],
)
def test_a_column_an_earlier_revision_added_then_required_fails_on_older_rows(
    pg: Sandbox, tmp_path: Path, between: str, found: list[tuple[str, str]]
) -> None:
    add = Revision(
        id="r2",
        down="r1",
        upgrade=f'op.add_column("t", sa.Column("w", sa.Integer))\n{between}',
        downgrade='op.drop_column("t", "w")',
    )
    require = Revision(
        id="r3",
        down="r2",
        upgrade='op.alter_column("t", "w", existing_type=sa.Integer, nullable=False)',
        downgrade='op.alter_column("t", "w", existing_type=sa.Integer, nullable=True)',
    )
    write_project(tmp_path, [table_t("int"), add, require])
    report = run(pg, tmp_path)
    assert codes(report) == found


def test_requiring_a_column_that_was_there_is_a_note_not_a_finding(
    pg: Sandbox, tmp_path: Path
) -> None:
    """SET NOT NULL on a column the table had: production rows may hold values where
    migproof's made-up rows held NULL; a note says the rows were removed for it."""
    first = table_t("int")
    second = Revision(
        id="r2",
        down="r1",
        upgrade='op.execute("UPDATE t SET v = NULL")\nop.alter_column("t", "v", nullable=False)',
        downgrade='op.alter_column("t", "v", nullable=True)',
    )
    write_project(tmp_path, [first, second])
    report = run(pg, tmp_path)
    assert codes(report) == []
    assert [what for what, _ in report.skipped] == [
        "rows during the upgrade of r2",
        "comparison with the models",
    ]


def test_an_upgrade_that_fails_on_empty_tables_too_reports_that_error(
    pg: Sandbox, tmp_path: Path
) -> None:
    """octavia's: a NOT NULL column (which the rows break), then a statement that fails on
    any database. The second is the upgrade's failure; the rows' is MP104 as well."""
    write_after_t1(
        tmp_path,
        'op.add_column("t", sa.Column("w", sa.Integer, nullable=False))\n'
        'op.drop_constraint("PRIMARY", "t", type_="primary")',
        'op.drop_column("t", "w")',
    )
    report = run(pg, tmp_path)
    assert codes(report) == [("MP010", "r2"), ("MP104", "r2")]
    failed = next(f for f in report.findings if f.check == "MP010")
    assert 'constraint "PRIMARY" of relation "t" does not exist' in failed.message
    path = tmp_path / "migrations" / "versions" / "r2.py"
    assert failed.location is not None
    assert failed.location.line == line_of(path, "op.drop_constraint")
    rows = next(f for f in report.findings if f.check == "MP104")
    assert rows.context == (("tables holding rows", "public.t"),)
    assert [r["upgrade"] for r in report.records] == ["ok", "failed"]


def test_a_downgrade_that_brings_back_a_not_null_column_fails_on_real_tables(
    pg: Sandbox, tmp_path: Path
) -> None:
    """rucio's bf3baa1c1474: the downgrade adds the dropped column back NOT NULL without a
    default, which any rows break. It passes on empty tables: MP104 for the downgrade, not
    MP011, and the round trip goes on from the downgrade that passed."""
    write_after_t1(
        tmp_path,
        'op.drop_column("t", "v")',
        'op.add_column("t", sa.Column("v", sa.Integer, nullable=False))',
    )
    report = run(pg, tmp_path)
    assert codes(report) == [("MP104", "r2")]
    (finding,) = report.findings
    assert finding.message.startswith("downgrade of r2 fails when the tables hold rows")
    assert "contains null values" in finding.message
    assert finding.fix is not None and "the column the downgrade brings back" in finding.fix
    path = tmp_path / "migrations" / "versions" / "r2.py"
    assert finding.location is not None
    assert (finding.location.path, finding.location.line) == (path, line_of(path, "op.add_column"))
    r2 = report.records[1]
    assert (r2["upgrade"], r2["roundtrip"]) == ("ok", "ok")
    statements = r2["statements"]
    assert isinstance(statements, list)
    assert [(s["direction"], s["sql"]) for s in statements] == [
        ("upgrade", "ALTER TABLE t DROP COLUMN v"),
        ("downgrade", "ALTER TABLE t ADD COLUMN v INTEGER NOT NULL"),
    ]
    assert not run(pg, tmp_path, **{"verify.data": False}).findings


def test_a_second_upgrade_that_fails_on_made_up_values_is_a_note(
    pg: Sandbox, tmp_path: Path
) -> None:
    """open-webui's 242a2047eae0: its first upgrade turned migproof's values into NULL, and
    the second one fails on those NULLs. Passing on empty tables, that is a note (as for the
    first upgrade and the downgrade), not MP013."""
    first = table_t("text")
    nulls = Revision(
        id="r2",
        down="r1",
        upgrade=(
            'if op.get_bind().execute(sa.text("SELECT count(*) FROM t WHERE v IS NULL")).scalar():\n'
            '    raise ValueError("v holds NULL")\n'
            'op.execute("UPDATE t SET v = NULL")'
        ),
        downgrade='op.execute("SELECT 1")',
    )
    write_project(tmp_path, [first, nulls])
    report = run(pg, tmp_path)
    assert codes(report) == []
    assert [what for what, _ in report.skipped if what.startswith("rows during")] == [
        "rows during the second upgrade of r2"
    ]
    assert [(r["upgrade"], r["roundtrip"]) for r in report.records] == [("ok", "ok")] * 2


def test_the_repeatability_of_another_worker_downgrades_without_rows_too(
    pg: Sandbox, tmp_path: Path
) -> None:
    """r2's downgrade fails with rows (MP104, found by the first worker). The last worker
    runs the whole chain's downgrade to base with rows seeded too: it removes them and
    downgrades again instead of reporting the same cause as MP015, or MP104 twice."""
    brings_back = Revision(
        id="r2",
        down="r1",
        upgrade='op.drop_column("t", "v")',
        downgrade='op.add_column("t", sa.Column("v", sa.Integer, nullable=False))',
    )
    later = [
        Revision(
            id=f"r{n}",
            down=f"r{n - 1}",
            upgrade=f'op.execute("CREATE TABLE t{n} (id int PRIMARY KEY)")',
            downgrade=f'op.execute("DROP TABLE t{n}")',
        )
        for n in (3, 4, 5)
    ]
    write_project(tmp_path, [T1, brings_back, *later])
    report = run(pg, tmp_path, **{"verify.jobs": 2})
    assert codes(report) == [("MP104", "r2")]  # once: the last worker's is the same cause
    assert not [what for what, _ in report.skipped if what.startswith("rows during")]


def test_a_downgrade_that_fails_on_rows_the_upgraded_schema_allows_is_a_warning(
    pg: Sandbox, tmp_path: Path
) -> None:
    """phoenix's 2f9d1a65945f widens a CHECK to let 'CODE' in, and its downgrade narrows it
    again: rows valid after the upgrade break the rollback. Not migproof's made-up values
    (those fit the schema after the upgrade): MP104 as a warning, and the round trip goes
    on."""
    first = Revision(
        id="r1",
        down=None,
        upgrade='op.execute("CREATE TABLE a (id int PRIMARY KEY, kind text NOT NULL '
        "CONSTRAINT kind_known CHECK (kind IN ('LLM', 'HUMAN')))\")",
        downgrade='op.execute("DROP TABLE a")',
    )
    widen = Revision(
        id="r2",
        down="r1",
        upgrade='op.execute("ALTER TABLE a DROP CONSTRAINT kind_known")\n'
        "op.execute(\"ALTER TABLE a ADD CONSTRAINT kind_known CHECK (kind IN ('LLM', 'HUMAN', "
        "'CODE'))\")\n"
        "op.execute(\"UPDATE a SET kind = 'CODE'\")",
        downgrade='op.execute("ALTER TABLE a DROP CONSTRAINT kind_known")\n'
        "op.execute(\"ALTER TABLE a ADD CONSTRAINT kind_known CHECK (kind IN ('LLM', 'HUMAN'))\")",
    )
    write_project(tmp_path, [first, widen])
    report = run(pg, tmp_path)
    assert [(f.check, f.revision, f.severity.value) for f in report.findings] == [
        ("MP104", "r2", "warning")
    ]
    (finding,) = report.findings
    assert finding.message.startswith(
        "downgrade of r2 fails on rows the schema after r2 allows (it passes on empty tables): "
    )
    assert 'check constraint "kind_known"' in finding.message
    path = tmp_path / "migrations" / "versions" / "r2.py"
    assert finding.location is not None
    assert finding.location.line == line_of(path, "CHECK (kind IN ('LLM', 'HUMAN'))\")")
    assert [(r["upgrade"], r["roundtrip"]) for r in report.records] == [("ok", "ok")] * 2
    assert not [what for what, _ in report.skipped if what.startswith("rows during")]


def test_a_link_table_the_migration_fills_has_its_own_rows_tracked(
    pg: Sandbox, tmp_path: Path
) -> None:
    """argilla's and phoenix's: a table keyed by two foreign keys, filled by INSERT … SELECT
    from migproof's parent rows; migproof's own pairs collided with them ("not checked").
    Its rows are tracked as the migration made them, so a later loss of them is found."""
    parents = Revision(
        id="r1",
        down=None,
        upgrade='op.execute("CREATE TABLE p (id int PRIMARY KEY)")\n'
        'op.execute("CREATE TABLE q (id int PRIMARY KEY)")',
        downgrade='op.execute("DROP TABLE q")\nop.execute("DROP TABLE p")',
    )
    link = Revision(
        id="r2",
        down="r1",
        upgrade='op.execute("CREATE TABLE pq (p_id int NOT NULL REFERENCES p, q_id int NOT NULL'
        ' REFERENCES q, PRIMARY KEY (p_id, q_id))")\n'
        'op.execute("INSERT INTO pq SELECT p.id, q.id FROM p CROSS JOIN q")',
        downgrade='op.execute("DROP TABLE pq")',
    )
    loses = Revision(
        id="r3",
        down="r2",
        upgrade='op.execute("ALTER TABLE pq ADD COLUMN note text")',
        downgrade='op.execute("ALTER TABLE pq DROP COLUMN note")\nop.execute("DELETE FROM pq")',
    )
    write_project(tmp_path, [parents, link, loses])
    report = run(pg, tmp_path)
    assert not [what for what, _ in report.skipped if "public.pq" in what]
    assert codes(report) == [("MP101", "r3")]


def test_a_table_that_cannot_be_given_rows_is_said_with_the_revision_it_was_tried_at(
    pg: Sandbox, tmp_path: Path
) -> None:
    strict = Revision(
        id="r2",
        down="r1",
        upgrade='op.execute("CREATE TABLE strict (id int PRIMARY KEY, code text NOT NULL '
        "CHECK (code ~ '^[A-Z]{3}-[0-9]{4}$'))\")",
        downgrade='op.execute("DROP TABLE strict")',
    )
    write_project(tmp_path, [T1, strict])
    report = run(pg, tmp_path)
    assert report.findings == []
    assert [what for what, _ in report.skipped] == [
        "rows for public.strict (at r2)",
        "comparison with the models",
    ]


@pytest.mark.parametrize(
    ("upgrade", "downgrade"),
    [
        (  # phoenix's 2f9d1a65945f: 'CODE' let in, and refused again by the downgrade
            'op.execute("ALTER TABLE a DROP CONSTRAINT kind_known")\n'
            "op.execute(\"ALTER TABLE a ADD CONSTRAINT kind_known CHECK (kind IN ('LLM', 'HUMAN',"
            " 'CODE'))\")",
            'op.execute("ALTER TABLE a DROP CONSTRAINT kind_known")\n'
            "op.execute(\"ALTER TABLE a ADD CONSTRAINT kind_known CHECK (kind IN ('LLM',"
            " 'HUMAN'))\")",
        ),
        (
            'op.alter_column("a", "kind", nullable=True)',
            'op.alter_column("a", "kind", nullable=False)',
        ),
        (
            "op.execute(\"ALTER TYPE mood ADD VALUE 'sad'\")",
            'op.execute("ALTER TYPE mood RENAME TO mood_old")\n'
            "op.execute(\"CREATE TYPE mood AS ENUM ('ok')\")\n"
            'op.execute("ALTER TABLE a ALTER COLUMN m TYPE mood USING m::text::mood")\n'
            'op.execute("DROP TYPE mood_old")',
        ),
    ],
    ids=["check-widened", "not-null-dropped", "enum-label-added"],
)
def test_a_downgrade_meets_a_row_holding_what_the_upgrade_newly_allows(
    pg: Sandbox, tmp_path: Path, upgrade: str, downgrade: str
) -> None:
    """After an upgrade that lets new values in, the table gets a row holding one, as
    production will once the new code writes it: a downgrade that refuses it again is
    found in one process too (phoenix's was seen only by a worker that seeded later)."""
    first = Revision(
        id="r1",
        down=None,
        upgrade="op.execute(\"CREATE TYPE mood AS ENUM ('ok')\")\n"
        'op.execute("CREATE TABLE a (id int PRIMARY KEY, kind text NOT NULL '
        "CONSTRAINT kind_known CHECK (kind IN ('LLM', 'HUMAN')), m mood)\")",
        downgrade='op.execute("DROP TABLE a")\nop.execute("DROP TYPE mood")',
    )
    write_project(
        tmp_path, [first, Revision(id="r2", down="r1", upgrade=upgrade, downgrade=downgrade)]
    )
    report = run(pg, tmp_path, **{"verify.jobs": 1})
    assert [(f.check, f.revision, f.severity.value) for f in report.findings] == [
        ("MP104", "r2", "warning")
    ]
    assert report.findings[0].message.startswith("downgrade of r2 fails on rows the schema after")


NOT_NULL_X = Revision(
    id="r3",
    down="r2",
    upgrade='op.add_column("t", sa.Column("x", sa.Text, nullable=False))',
    downgrade='op.drop_column("t", "x")',
)


def test_rows_a_downgrade_renumbered_do_not_fail_the_retry_on_empty_tables(
    pg: Sandbox, tmp_path: Path
) -> None:
    """r2's downgrade gives the rows new keys (MP101): migproof loses track of them, and
    r3's retry on empty tables must not meet them (CKAN's 047 stopped the walk there)."""
    renumbers = Revision(
        id="r2",
        down="r1",
        upgrade='op.add_column("t", sa.Column("w", sa.Integer))',
        downgrade='op.drop_column("t", "w")\nop.execute("UPDATE t SET id = id + 100000")',
    )
    write_project(tmp_path, [T1, renumbers, NOT_NULL_X])
    report = run(pg, tmp_path)
    assert codes(report) == [("MP101", "r2"), ("MP104", "r3")]
    assert [r["upgrade"] for r in report.records] == ["ok", "ok", "ok"]


def test_the_revision_after_a_rebuild_meets_rows(pg: Sandbox, tmp_path: Path) -> None:
    """r2's second upgrade fails (an index its downgrade leaves): the database is rebuilt,
    and r3's upgrade must still meet rows, as it would after any other revision."""
    leaves_index = Revision(
        id="r2",
        down="r1",
        upgrade='op.create_index("t_v", "t", ["v"])',
        downgrade="op.execute('SELECT 1')",
    )
    write_project(tmp_path, [T1, leaves_index, NOT_NULL_X])
    report = run(pg, tmp_path)
    assert codes(report) == [("MP012", "r2"), ("MP013", "r2"), ("MP104", "r3")]


def test_examples_keep_their_rows(pg: Sandbox) -> None:
    assert run(pg, REPO / "examples" / "shop").findings == []


def _shop(tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_models_that_drift_by_one_column_are_named(pg: Sandbox, tmp_path: Path) -> None:
    root = _shop(tmp_path)
    models = root / "shop_models.py"
    models.write_text(
        models.read_text().replace(
            '    sa.Column("paid_at", sa.DateTime(timezone=True)),',
            '    sa.Column("paid_at", sa.DateTime(timezone=True)),\n    sa.Column("coupon", sa.Text),',
        )
    )
    report = run(pg, root)
    assert codes(report) == [("MP110", None)]
    assert "coupon" in report.findings[0].message
    # found where env.py hands Alembic the models
    env_py = root / "migrations" / "env.py"
    location = report.findings[0].location
    assert location is not None
    assert (location.path, location.line) == (env_py, line_of(env_py, "target_metadata = "))


def test_schema_file_that_lacks_a_column_is_named(pg: Sandbox, tmp_path: Path) -> None:
    root = _shop(tmp_path)
    schema = root / "schema.sql"
    schema.write_text(
        schema.read_text()
        .replace("    paid_at timestamp with time zone\n", "")
        .replace("total numeric(12, 2) NOT NULL,", "total numeric(12, 2) NOT NULL")
    )
    report = run(pg, root)
    assert codes(report) == [("MP111", None)]
    assert "column public.orders.paid_at" in report.findings[0].message


def test_bootstrapped_database_where_a_non_idempotent_migration_fails(
    pg: Sandbox, tmp_path: Path
) -> None:
    root = _shop(tmp_path)
    (root / "prod.sql").write_text("CREATE TABLE customers (id bigint PRIMARY KEY);\n")
    report = run(pg, root, **{"verify.bootstrap-sql": "prod.sql"})
    assert codes(report) == [("MP112", "3f1c2a9b7d10")]
    assert 'relation "customers" already exists' in report.findings[0].message


def test_invalid_schema_file_is_a_usage_error_naming_its_line(pg: Sandbox, tmp_path: Path) -> None:
    import pytest

    from migproof.errors import SourceError

    root = _shop(tmp_path)
    (root / "schema.sql").write_text("CREATE TABLE a (id int);\nCREATE TABEL b (id int);\n")
    with pytest.raises(SourceError, match=r"schema\.sql:2"):
        run(pg, root)


def test_a_statement_run_once_per_row_that_postgresql_rejects_is_found(
    pg: Sandbox, tmp_path: Path
) -> None:
    """zenml: a loop over existing rows runs `… AND is_service_account = 0` (boolean =
    integer): it never runs on empty tables, and fails on any production row."""
    loop = """
    conn = op.get_bind()
    for (key,) in conn.execute(sa.text("SELECT id FROM t")).fetchall():
        conn.execute(sa.text("SELECT id FROM t WHERE id != :k AND (v > 0) = 0"), {"k": key})
    """
    write_after_t1(tmp_path, loop, "pass")
    report = run(pg, tmp_path)
    (finding,) = [f for f in report.findings if f.check == "MP104"]
    assert finding.revision == "r2"
    assert finding.message.endswith(
        "(it passes on empty tables): operator does not exist: boolean = integer"
    )
    assert finding.fix is not None and finding.fix.startswith("the statement runs only when")
    # a loop whose statement fails on migproof's made-up values alone stays a note
    write_after_t1(
        tmp_path,
        loop.replace("(v > 0) = 0", "v = 1 / (v - v)").replace(
            "SELECT id FROM t WHERE", "SELECT id FROM t WHERE v > 0 AND"
        ),
        "pass",
    )
    report = run(pg, tmp_path)
    assert "MP104" not in [f.check for f in report.findings]
    assert any("rows during the upgrade of r2" in what for what, _ in report.skipped)


def test_a_step_that_fails_with_rows_and_further_on_without_them_says_so(
    pg: Sandbox, tmp_path: Path
) -> None:
    """zenml's 37835ce041d2: its downgrade fails on rows, and without them one line later:
    MP104 said "it passes on empty tables" above the MP011 that showed it does not."""
    write_after_t1(
        tmp_path,
        'op.drop_column("t", "v")',
        'op.add_column("t", sa.Column("v", sa.Integer, nullable=False))\n'
        'op.drop_index("ix_nowhere", table_name="t")',
    )
    report = run(pg, tmp_path)
    assert ("MP011", "r2") in codes(report)
    (finding,) = [f for f in report.findings if f.check == "MP104"]
    assert "(on empty tables it gets past this, then fails further on)" in finding.message
