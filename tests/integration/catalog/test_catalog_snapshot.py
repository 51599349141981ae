"""take_snapshot on the sandbox: what it reads, how it treats the caller's session."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from migproof.catalog import Snapshot, SnapshotFilter, diff_snapshots, take_snapshot
from migproof.config import Config
from migproof.errors import DatabaseError, SourceError
from migproof.sandbox import Sandbox
from migproof.sources import Sources, apply_sql_file

Conn = psycopg.Connection[tuple[object, ...]]

SHOP = """
CREATE SCHEMA entity;
CREATE TABLE entity.account (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
CREATE TABLE "Order" (
    id serial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES entity.account (id) ON DELETE CASCADE,
    total numeric(12,2) DEFAULT 0 CHECK (total >= 0),
    code varchar(8) UNIQUE
);
CREATE INDEX order_account_idx ON "Order" (account_id);
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
"""


def test_tables_columns_and_keys(conn: Conn) -> None:
    conn.execute(SHOP)
    snap = take_snapshot(conn, SnapshotFilter(exclude_tables=("alembic_version",)))
    assert sorted(snap.tables) == ["entity.account", 'public."Order"']
    order = snap.tables['public."Order"']
    assert [(c.name, c.type, c.not_null) for c in order.columns] == [
        ("id", "integer", True),
        ("account_id", "bigint", True),
        ("total", "numeric(12,2)", False),
        ("code", "character varying(8)", False),
    ]
    assert order.column("id") is not None
    assert order.column("id").default == "nextval('public.\"Order_id_seq\"'::regclass)"  # type: ignore[union-attr]
    assert order.primary_key is not None and order.primary_key.columns == ("id",)
    (fk,) = order.foreign_keys
    assert (fk.columns, fk.references, fk.referenced_columns, fk.on_delete) == (
        ("account_id",),
        "entity.account",
        ("id",),
        "CASCADE",
    )
    assert fk.references in snap.tables  # the lead's row generator looks the target up by key
    assert [c.columns for c in order.unique_constraints] == [("code",)]
    assert [c.expression for c in order.checks] == ["total >= 0::numeric"]
    assert [i.name for i in snap.indexes_of('public."Order"')] == ["order_account_idx"]
    account = snap.tables["entity.account"]
    assert account.columns[0].identity == "ALWAYS"
    assert snap.sequences['public."Order_id_seq"'].owned_by == 'public."Order".id'


def test_equal_schemas_built_differently_are_equal(pg: Sandbox, conn: Conn) -> None:
    conn.execute(SHOP)
    with pg.database() as other, pg.connect(other) as conn_b:
        # another creation order (other OIDs), and a dropped column leaving an attnum gap
        conn_b.execute("CREATE TABLE scratch (a int); DROP TABLE scratch;")
        statements = [s for s in SHOP.split(";\n") if s.strip()]
        conn_b.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        for statement in statements[:2]:
            conn_b.execute(statement.encode())
        conn_b.execute(
            "ALTER TABLE entity.account ADD COLUMN tmp int; ALTER TABLE entity.account DROP COLUMN tmp"
        )
        conn_b.execute(statements[2].encode())
        conn_b.execute(statements[3].encode())
        a, b = take_snapshot(conn), take_snapshot(conn_b)
    assert diff_snapshots(a, b) == []
    assert a.to_json() == b.to_json()


def test_inside_an_open_transaction_sees_its_ddl_and_leaves_it_open(pg: Sandbox, db: str) -> None:
    with pg.connect(db, autocommit=False) as conn:
        conn.execute("SET search_path = public, pg_temp")
        conn.execute("CREATE TABLE pending (id int)")
        snap = take_snapshot(conn)
        assert "public.pending" in snap.tables
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert conn.execute("SHOW search_path").fetchone() == ("public, pg_temp",)
        conn.rollback()
        assert "public.pending" not in take_snapshot(conn).tables


def test_autocommit_connection_is_left_idle(conn: Conn) -> None:
    take_snapshot(conn)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_caller_row_factory_does_not_matter(pg: Sandbox, db: str) -> None:
    with pg.connect(db) as plain:
        plain.execute(SHOP)
        expected = take_snapshot(plain)
    with psycopg.connect(pg.url_for(db), autocommit=True, row_factory=dict_row) as conn:
        assert take_snapshot(conn) == expected


def test_filters(conn: Conn) -> None:
    conn.execute(SHOP)
    conn.execute(
        "CREATE SCHEMA audit; CREATE TABLE audit.alembic_version (v text); CREATE TABLE audit.log (id int)"
    )
    only_entity = take_snapshot(conn, SnapshotFilter(include_schemas=("entity",)))
    assert sorted(only_entity.tables) == ["entity.account"]
    assert sorted(only_entity.schemas) == ["entity"]
    assert only_entity.indexes == {}
    no_audit = take_snapshot(conn, SnapshotFilter(exclude_schemas=("audit",)))
    assert "audit.log" not in no_audit.tables and "audit" not in no_audit.schemas
    qualified = take_snapshot(conn, SnapshotFilter(exclude_tables=("audit.alembic_version",)))
    assert "public.alembic_version" in qualified.tables
    assert "audit.alembic_version" not in qualified.tables
    assert SnapshotFilter.from_config(Config()).exclude_tables[0] == "alembic_version"


def test_extension_members_are_left_out(conn: Conn) -> None:
    conn.execute("CREATE EXTENSION citext")
    snap = take_snapshot(conn)
    assert list(snap.extensions) == ["citext"]
    assert snap.functions == {}
    assert snap.composite_types == {} and snap.domains == {}


def test_range_constructors_are_left_out(conn: Conn) -> None:
    conn.execute("CREATE TYPE floatrange AS RANGE (subtype = float8)")
    snap = take_snapshot(conn)
    assert list(snap.range_types) == ["public.floatrange"]
    assert snap.functions == {}


def test_virtual_generated_column(pg: Sandbox, conn: Conn) -> None:
    if pg.binaries.major < 18:
        pytest.skip("virtual generated columns arrived in PostgreSQL 18")
    conn.execute("CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) VIRTUAL)")
    column = take_snapshot(conn).tables["public.t"].column("b")
    assert column is not None and column.generated == "(a * 2) VIRTUAL"


def test_invalid_index_is_reported_invalid(conn: Conn) -> None:
    conn.execute("CREATE TABLE t (a int); INSERT INTO t VALUES (1), (1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("CREATE UNIQUE INDEX CONCURRENTLY t_a ON t (a)")
    assert take_snapshot(conn).indexes["public.t_a"].valid is False


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sql_file_errors_name_file_line_and_message(pg: Sandbox, tmp_path: Path) -> None:
    before = pg.created
    syntax = write(
        tmp_path, "syntax.sql", "CREATE TABLE a (id int);\n\nCREATE TABLE b (id int,);\n"
    )
    with pytest.raises(SourceError, match=r"syntax\.sql:3: syntax error at or near \"\)\""):
        apply_sql_file(pg, syntax)
    missing = write(
        tmp_path,
        "missing.sql",
        "CREATE TABLE a (id int);\nCREATE VIEW v AS\n  SELECT * FROM nope;\n",
    )
    with pytest.raises(SourceError, match=r'missing\.sql:3: relation "nope" does not exist'):
        apply_sql_file(pg, missing)
    assert pg.created == before  # the scratch databases of failed files are dropped


def test_sql_file_with_concurrently_runs_statement_by_statement(
    pg: Sandbox, tmp_path: Path
) -> None:
    path = write(
        tmp_path, "c.sql", "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n"
    )
    dbname = apply_sql_file(pg, path)
    try:
        with pg.connect(dbname) as conn:
            assert "public.t_a" in take_snapshot(conn).indexes
    finally:
        pg.drop_database(dbname)


def test_database_url_source_is_read_only(pg: Sandbox, db: str, conn: Conn) -> None:
    conn.execute(SHOP)
    with Sources(Config(), host=pg) as sources:
        snap = sources.snapshot(pg.url_for(db))
    assert "entity.account" in snap.tables and "public.alembic_version" not in snap.tables
    assert db in pg.created  # the caller's host is not closed by Sources


def test_database_url_source_keeps_the_urls_options(pg: Sandbox, db: str, conn: Conn) -> None:
    conn.execute("CREATE TABLE t (id int)")
    url = pg.url_for(db) + "&options=-c%20application_name%3Dmine"
    with Sources(Config(), host=pg) as sources:
        assert "public.t" in sources.snapshot(url).tables


def test_unreachable_url_is_a_database_error(pg: Sandbox) -> None:
    url = pg.url_for("migproof_no_such_database")
    with (
        Sources(Config(), host=pg) as sources,
        pytest.raises(DatabaseError, match="cannot connect"),
    ):
        sources.snapshot(url)


def test_refused_url_names_the_reason_not_libpq_s_hint(pg: Sandbox) -> None:
    with (
        Sources(Config(), host=pg) as sources,
        pytest.raises(DatabaseError, match="port 1 failed: Connection refused"),
    ):
        sources.snapshot("postgresql://app:secret@127.0.0.1:1/app")


def _statements_sent(conn: Conn, tmp_path: Path) -> int:
    """Take a snapshot with libpq's protocol trace on; count the statements sent (Bind)."""
    trace = tmp_path / "trace.txt"
    with trace.open("w") as handle:
        conn.pgconn.trace(handle.fileno())
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        take_snapshot(conn)
        conn.pgconn.untrace()
    return sum(
        1
        for line in trace.read_text().splitlines()
        if line.startswith("F\t") and "\tBind\t" in line
    )


def test_a_fixed_number_of_statements_whatever_the_size(conn: Conn, tmp_path: Path) -> None:
    conn.execute("CREATE TABLE t0 (id int PRIMARY KEY)")
    small = _statements_sent(conn, tmp_path)
    for n in range(1, 40):
        conn.execute(
            f"CREATE TABLE t{n} (id int PRIMARY KEY, parent int REFERENCES t{n - 1})".encode()
        )
    assert _statements_sent(conn, tmp_path) == small
    assert small == 19  # the session settings, then one query per object kind


RICH = Path(__file__).with_name("rich_schema.sql")


def test_pg_dump_and_restore_gives_the_same_snapshot(
    pg: Sandbox, conn: Conn, tmp_path: Path
) -> None:
    conn.execute(RICH.read_text().encode())
    original = take_snapshot(conn)
    assert len(original.tables) == 7 and original.triggers and original.policies
    assert original.statistics and original.default_privileges
    assert Snapshot.from_json(original.to_json()) == original
    dump = tmp_path / "dump.sql"
    subprocess.run(
        [
            str(pg.binaries.tool("pg_dump")),
            "--schema-only",
            "-f",
            str(dump),
            pg.url_for(conn.info.dbname),
        ],
        check=True,
    )
    restored_db = apply_sql_file(pg, dump)  # pg_dump 17.6+ writes \restrict lines: skipped
    try:
        with pg.connect(restored_db) as restored:
            assert diff_snapshots(original, take_snapshot(restored)) == []
    finally:
        pg.drop_database(restored_db)


def test_key_columns_keep_their_declared_order(conn: Conn) -> None:
    conn.execute(
        "CREATE TABLE p (a int, b int, c int, PRIMARY KEY (c, a), UNIQUE (b, c, a));"
        "CREATE TABLE f (x int, y int, z int, FOREIGN KEY (z, x, y) REFERENCES p (b, c, a));"
        "CREATE INDEX p_idx ON p (c, b) INCLUDE (a)"
    )
    snap = take_snapshot(conn)
    p = snap.tables["public.p"]
    assert p.primary_key is not None and p.primary_key.columns == ("c", "a")
    assert [u.columns for u in p.unique_constraints] == [("b", "c", "a")]
    (fk,) = snap.tables["public.f"].foreign_keys
    assert (fk.columns, fk.referenced_columns) == (("z", "x", "y"), ("b", "c", "a"))
    index = snap.indexes["public.p_idx"]
    assert (index.keys, index.include) == (("c", "b"), ("a",))


def test_names_that_need_quotes(conn: Conn) -> None:
    conn.execute(
        'CREATE SCHEMA "Sales"; CREATE TABLE "Sales"."order" ("select" int PRIMARY KEY, "Total" int);'
        'CREATE INDEX "Order_Total" ON "Sales"."order" ("Total");'
        'CREATE TABLE "Sales".line ("order" int REFERENCES "Sales"."order")'
    )
    snap = take_snapshot(conn)
    assert list(snap.tables) == ['"Sales"."order"', '"Sales".line']
    assert snap.indexes['"Sales"."Order_Total"'].table == '"Sales"."order"'
    assert snap.indexes['"Sales"."Order_Total"'].keys == ('"Total"',)
    (fk,) = snap.tables['"Sales".line'].foreign_keys
    assert fk.references in snap.tables
    assert [c.name for c in snap.tables['"Sales"."order"'].columns] == ["select", "Total"]


def test_a_hanging_sql_file_fails_at_the_statement_timeout(pg: Sandbox, tmp_path: Path) -> None:
    before = pg.created
    path = write(tmp_path, "slow.sql", "CREATE TABLE t (id int);\nSELECT pg_sleep(30);\n")
    with pytest.raises(
        SourceError,
        match=r"slow\.sql: a statement ran longer than the statement timeout \(0\.2 s\)",
    ):
        apply_sql_file(pg, path, statement_timeout=0.2)
    assert pg.created == before
