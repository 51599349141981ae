"""The engine: newness across files, transactions, versions, suppressions, recorded statements."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from migproof.config import Config, LintConfig
from migproof.errors import ConfigError, SourceError
from migproof.findings import Finding, Location
from migproof.lint import RecordedStatement, SqlSource, lint_sources


def config(**lint: object) -> Config:
    return Config(lint=LintConfig(**lint))  # type: ignore[arg-type]


def lint(sql: str, *, setup: str | None = None, **options: object) -> list[tuple[str, int]]:
    findings = lint_sources([SqlSource(sql, Path("m.sql"), setup_sql=setup)], config(**options))
    return sorted((f.check, (f.location.line or 0) if f.location else 0) for f in findings)


# A realistic migration written the recommended way: it must pass cleanly.
GOOD_MIGRATION = """\
-- 0042: orders get a status, a customer link and an index; all written the safe way
SET lock_timeout = '2s';
SET statement_timeout = '5min';

CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');

CREATE TABLE order_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    status order_status NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_id_idx ON order_events (order_id);
CREATE UNIQUE INDEX order_events_order_status_key ON order_events (order_id, status);

ALTER TABLE orders ADD COLUMN status order_status;
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';
ALTER TABLE orders ADD COLUMN note text DEFAULT '';
ALTER TABLE orders ADD COLUMN customer_id bigint;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
ALTER TABLE orders ALTER COLUMN reference TYPE varchar(200);
CREATE UNIQUE INDEX CONCURRENTLY orders_reference_key ON orders (reference);
ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE USING INDEX orders_reference_key;
"""
GOOD_SETUP = """\
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(12, 2), reference varchar(100));
"""


def test_a_migration_written_the_recommended_way_passes_cleanly() -> None:
    assert lint(GOOD_MIGRATION, setup=GOOD_SETUP) == []


def test_the_same_migration_done_the_naive_way_is_reported() -> None:
    naive = """\
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
ALTER TABLE orders ALTER COLUMN reference TYPE varchar(50);
ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE (reference);
"""
    setup = GOOD_SETUP + "ALTER TABLE orders ADD COLUMN customer_id bigint;\n"
    assert lint(naive, setup=setup) == [
        ("MP201", 1),
        ("MP204", 2),
        ("MP205", 3),
        ("MP208", 5),
        ("MP210", 1),
        ("MP301", 4),
    ]


def test_a_table_is_new_only_in_the_migration_that_creates_it() -> None:
    first = SqlSource(
        "CREATE TABLE t (id bigint PRIMARY KEY, v int);\nCREATE INDEX t_v ON t (v);\n",
        Path("1.sql"),
    )
    second = SqlSource("SET lock_timeout = '1s';\nCREATE INDEX t_v2 ON t (v);\n", Path("2.sql"))
    findings = lint_sources([first, second], config())
    assert [(f.check, str(f.location)) for f in findings] == [("MP201", "2.sql:2:1")]


def test_unknown_tables_are_existing_tables() -> None:
    assert lint("SET lock_timeout = '1s';\nALTER TABLE t DROP COLUMN c;\n") == [("MP403", 2)]


def test_create_table_if_not_exists_of_an_existing_table_is_not_new() -> None:
    sql = "SET lock_timeout = '1s';\nCREATE TABLE IF NOT EXISTS t (id int);\nCREATE INDEX i ON t (id);\n"
    assert lint(sql, setup="CREATE TABLE t (id int);") == [("MP201", 3)]


@pytest.mark.parametrize(
    ("version", "expected"),
    [(10, [("MP302", 2)]), (11, [])],
)
def test_constant_default_rewrites_only_before_11(version: int, expected: list[object]) -> None:
    sql = "SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c text DEFAULT 'x';\n"
    assert lint(sql, pg_version=version) == expected


def test_volatile_default_rewrites_on_every_version() -> None:
    sql = "SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid();\n"
    assert lint(sql, pg_version=17) == [("MP302", 2)]


@pytest.mark.parametrize(("version", "expected"), [(11, [("MP505", 2)]), (12, [])])
def test_enum_value_in_transaction_before_12(version: int, expected: list[object]) -> None:
    sql = "BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;\n"
    assert lint(sql, pg_version=version) == expected


@pytest.mark.parametrize(("version", "expected"), [(11, [("MP207", 5)]), (12, [])])
def test_validated_check_lets_set_not_null_skip_the_scan_since_12(
    version: int, expected: list[object]
) -> None:
    sql = """SET lock_timeout = '1s';
ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;
-- now the column
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
"""
    assert lint(sql, pg_version=version) == expected


def test_detach_concurrently_only_exists_since_14() -> None:
    sql = "SET lock_timeout = '1s';\nALTER TABLE m DETACH PARTITION m_2020;\n"
    assert lint(sql, pg_version=13) == []
    assert lint(sql, pg_version=14) == [("MP212", 2)]


def test_in_transaction_source_makes_concurrently_fail() -> None:
    sql = "CREATE INDEX CONCURRENTLY i ON t (c);\n"
    wrapped = SqlSource(sql, Path("m.sql"), in_transaction=True)
    assert [f.check for f in lint_sources([wrapped], config())] == ["MP203"]
    assert lint(sql) == []
    # assume-in-transaction is Flyway's: it runs a lone non-transactional statement without one
    assert lint(sql, assume_in_transaction=True) == []
    two = "CREATE TABLE u (id int);\n" + sql
    assert lint(two, assume_in_transaction=True) == [("MP203", 2)]


def test_set_local_outside_a_transaction_sets_no_timeout() -> None:
    """PostgreSQL only warns ("SET LOCAL can only be used in transaction blocks")."""
    sql = "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;\n"
    assert lint(sql) == [("MP210", 2)]
    assert lint("BEGIN;\n" + sql + "COMMIT;\n") == []
    assert lint(sql, assume_in_transaction=True) == []


def test_reset_all_and_set_config_set_or_clear_the_timeout() -> None:
    alter = "ALTER TABLE orders ADD COLUMN note text;\n"
    assert lint("SET lock_timeout = '2s';\nRESET ALL;\n" + alter) == [("MP210", 3)]
    assert lint("SELECT set_config('lock_timeout', '2s', false);\n" + alter) == []
    assert lint("SELECT set_config('lock_timeout', '0', false);\n" + alter) == [("MP210", 2)]
    # is_local = true outside a transaction: nothing set
    assert lint("SELECT set_config('lock_timeout', '2s', true);\n" + alter) == [("MP210", 2)]


def test_set_not_null_after_a_check_validated_in_its_transaction_does_not_scan() -> None:
    """PostgreSQL 12+ uses the CHECK validated earlier in the transaction; MP206 reports the
    validation's own scan."""
    sql = (
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE t ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT c_nn;\n"
        "ALTER TABLE t ALTER COLUMN c SET NOT NULL;\nCOMMIT;\n"
    )
    assert lint(sql) == [("MP206", 4)]
    assert lint(sql, pg_version=11) == [("MP206", 4), ("MP207", 5)]


def test_set_local_lock_timeout_ends_with_the_transaction() -> None:
    sql = """BEGIN;
SET LOCAL lock_timeout = '1s';
ALTER TABLE t ADD COLUMN a text;
COMMIT;
ALTER TABLE t ADD COLUMN b text;
"""
    assert lint(sql) == [("MP210", 5)]


def test_statement_timeout_of_zero_or_an_ended_set_local_is_no_timeout() -> None:
    on = ("missing-statement-timeout",)
    alter = "ALTER TABLE t ADD COLUMN a text;\n"
    lock = "SET lock_timeout = '2s';\n"
    assert lint(lock + "SET statement_timeout = '5min';\n" + alter, enable=on) == []
    assert lint(lock + "SET statement_timeout = 5000;\n" + alter, enable=on) == []
    assert lint(lock + alter, enable=on) == [("MP611", 2)]
    assert lint(lock + "SET statement_timeout = 0;\n" + alter, enable=on) == [("MP611", 3)]
    assert lint(lock + "SET statement_timeout = '0ms';\n" + alter, enable=on) == [("MP611", 3)]
    assert lint(lock + "SET statement_timeout TO DEFAULT;\n" + alter, enable=on) == [("MP611", 3)]
    assert lint("SET lock_timeout = '0s';\n" + alter) == [("MP210", 2)]
    sql = f"""{lock}BEGIN;
SET LOCAL statement_timeout = '5min';
ALTER TABLE t ADD COLUMN a text;
COMMIT;
ALTER TABLE t ADD COLUMN b text;
"""
    assert lint(sql, enable=on) == [("MP611", 6)]
    assert lint(sql.replace("SET LOCAL", "SET"), enable=on) == []


def test_syntax_error_is_one_finding_with_the_parser_position() -> None:
    findings = lint_sources(
        [SqlSource("SELECT 1;\n\nCREATE TABLE t (id int,, x int);\n", Path("bad.sql"))],
        config(),
    )
    assert len(findings) == 1
    finding = findings[0]
    assert finding.check == "MP901"
    assert finding.location == Location(path=Path("bad.sql"), line=3, column=24)
    assert 'syntax error at or near ","' in finding.message


def test_syntax_error_respects_line_offset() -> None:
    source = SqlSource("CREATE TABLE (;\n", Path("f.sql"), line_offset=10)
    [finding] = lint_sources([source], config())
    assert finding.location is not None and finding.location.line == 11


# -- suppressions ----------------------------------------------------------------------


def test_suppression_above_a_statement_by_code_name_or_squawk_name() -> None:
    for name in ("MP404", "drop-table", "ban-drop-table"):
        sql = f"SET lock_timeout = '1s';\n-- migproof: ignore {name} -- empty\nDROP TABLE t;\n"
        assert lint(sql) == []


def test_suppression_covers_only_the_next_statement() -> None:
    sql = """SET lock_timeout = '1s';
-- migproof: ignore MP404 -- empty
DROP TABLE a;
DROP TABLE b;
"""
    assert lint(sql) == [("MP404", 4)]


def test_suppression_at_the_end_of_the_statement_line() -> None:
    sql = "SET lock_timeout = '1s';\nDROP TABLE a;  -- migproof: ignore MP404 -- empty\n"
    assert lint(sql) == []


def test_file_suppression() -> None:
    sql = "-- migproof: ignore-file MP404, MP210\nDROP TABLE a;\nDROP TABLE b;\n"
    assert lint(sql) == []


def test_squawk_ignore_comments_are_honoured() -> None:
    sql = "SET lock_timeout = '1s';\n-- squawk-ignore ban-drop-table\nDROP TABLE a;\n"
    assert lint(sql) == []
    assert lint("-- squawk-ignore-file\nDROP TABLE a;\n") == []
    assert lint("-- squawk-ignore some-rule-we-lack\nSELECT 1;\n") == []


def test_unknown_and_unused_suppressions_are_findings() -> None:
    sql = """-- migproof: ignore MP9999 -- typo
SELECT 1;
-- migproof: ignore MP201 -- nothing to suppress
SELECT 2;
-- migproof: ignore MP601 -- rule is off: not reported as unused
SELECT 3;
"""
    assert lint(sql) == [("MP902", 1), ("MP903", 3)]


def test_disabled_unused_suppression_check() -> None:
    sql = "-- migproof: ignore MP201\nSELECT 1;\n"
    assert lint(sql, disable=("unused-suppression",)) == []


def test_config_disable_accepts_squawk_names_and_rejects_unknown_ones() -> None:
    sql = "SET lock_timeout = '1s';\nDROP TABLE a;\n"
    assert lint(sql, disable=("ban-drop-table",)) == []
    with pytest.raises(ConfigError):
        lint(sql, disable=("no-such-rule",))


def test_enable_turns_advisory_rules_on() -> None:
    sql = "CREATE TABLE t (id bigint PRIMARY KEY, j json);\n"
    assert lint(sql) == []
    assert lint(sql, enable=("prefer-jsonb",)) == [("MP601", 1)]


# -- integrity rules -------------------------------------------------------------------


def test_fk_type_mismatch_across_files_and_primary_key_default() -> None:
    first = SqlSource("CREATE TABLE accounts (id uuid PRIMARY KEY);\n", Path("1.sql"))
    second = SqlSource(
        "SET lock_timeout = '1s';\nCREATE TABLE logs (id int, account_id integer REFERENCES accounts);\n"
        "CREATE INDEX logs_account ON logs (account_id);\n",
        Path("2.sql"),
    )
    findings = lint_sources([first, second], config())
    assert [(f.check, str(f.location)) for f in findings] == [("MP501", "2.sql:2:1")]
    assert findings[0].message == (
        "foreign key column public.logs.account_id is integer but public.accounts.id is uuid"
    )


@pytest.mark.parametrize(
    ("mine", "theirs", "found"),
    [
        ("text", "varchar", False),  # open-webui's user_id text -> "user".id varchar
        ("text", "varchar(64)", False),
        ("varchar", "text", False),
        ("varchar(32)", "text", True),  # a key longer than 32 characters cannot be referenced
        ("varchar(32)", "varchar(64)", True),
        ("varchar(64)", "varchar(32)", False),  # holds every key
        ("text[]", "varchar", True),
        ("integer", "text", True),
        ("bigint", "integer", False),  # phoenix's: the key can never outgrow it
        ("bigint", "smallint", False),
        ("integer", "bigint", True),  # too narrow once the key passes 2^31
        ("smallint", "integer", True),
    ],
)
def test_fk_between_strings_or_integers_is_a_mismatch_only_when_it_can_be_too_narrow(
    mine: str, theirs: str, found: bool
) -> None:
    sql = f"""SET lock_timeout = '1s';
CREATE TABLE u (id {theirs} PRIMARY KEY);
CREATE TABLE m (id int PRIMARY KEY, user_id {mine} REFERENCES u (id));
CREATE INDEX m_user_id ON m (user_id);
"""
    assert [code for code, _ in lint(sql)] == (["MP501"] if found else [])


@pytest.mark.parametrize(
    ("default", "found"),
    [
        ("extract(epoch from now()) * 1000", False),  # synapse's inserted_ts
        ("date_part('epoch', now())", False),
        ("date_trunc('day', now())", False),
        ("clock_timestamp()", True),
        ("my_function()", True),  # unknown: maybe volatile
    ],
)
def test_a_stable_default_adds_a_column_without_a_rewrite(default: str, found: bool) -> None:
    sql = (
        f"SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c bigint NOT NULL DEFAULT {default};\n"
    )
    source = SqlSource(sql, Path("1.sql"), setup_sql="CREATE TABLE t (id int);")
    codes = [f.check for f in lint_sources([source], config())]
    assert ("MP302" in codes) is found


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("ALTER TABLE t ADD COLUMN p_id bigint REFERENCES p (id)", False),  # synapse's
        ("ALTER TABLE t ADD COLUMN p_id bigint DEFAULT 1 REFERENCES p (id)", True),
        (
            "ALTER TABLE t ADD COLUMN p_id bigint REFERENCES p (id), ADD COLUMN n int DEFAULT 0",
            True,
        ),
        ("ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (id) REFERENCES p (id)", True),
    ],
)
def test_a_key_on_a_new_column_without_a_default_is_not_checked_row_by_row(
    statement: str, found: bool
) -> None:
    """PostgreSQL marks it valid without a scan: every row holds NULL in the new column."""
    sql = f"SET lock_timeout = '1s';\n{statement};\n"
    setup = "CREATE TABLE p (id bigint PRIMARY KEY);\nCREATE TABLE t (id bigint);\n"
    source = SqlSource(sql, Path("1.sql"), setup_sql=setup)
    codes = [f.check for f in lint_sources([source], config())]
    assert ("MP204" in codes) is found


@pytest.mark.parametrize(
    ("setup", "script", "found"),
    [
        # synapse's deltas that can run twice: the scratch table a first run left
        ("", "DROP TABLE IF EXISTS scratch;\nCREATE TABLE scratch AS SELECT 1 AS x;", False),
        ("", "DROP TABLE IF EXISTS scratch;\nCREATE TABLE scratch (x int);", False),
        ("", "DROP TABLE IF EXISTS scratch;", True),  # a legacy table, maybe with data
        ("", "DROP TABLE scratch;\nCREATE TABLE scratch (x int);", True),
        # a table the files made earlier: its rows are gone
        (
            "CREATE TABLE scratch (x int);",
            "DROP TABLE IF EXISTS scratch;\nCREATE TABLE scratch (x int);",
            True,
        ),
    ],
)
def test_a_table_dropped_if_it_exists_and_made_again_is_an_idempotent_script(
    setup: str, script: str, found: bool
) -> None:
    source = SqlSource(f"SET lock_timeout = '1s';\n{script}\n", Path("1.sql"), setup_sql=setup)
    codes = [f.check for f in lint_sources([source], config())]
    assert ("MP404" in codes) is found


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # the index went with its table: DROP INDEX IF EXISTS drops nothing, locks nothing
        ("DROP TABLE t;\nCREATE TABLE t (x int);\nDROP INDEX IF EXISTS t_x;", ["MP404"]),
        ("DROP INDEX t_x;\nDROP INDEX IF EXISTS t_x;", ["MP202"]),
        ("DROP TABLE t;\nDROP TABLE IF EXISTS t;", ["MP404"]),
        # still there: each drop is reported
        ("DROP INDEX IF EXISTS t_x;", ["MP202"]),
        ("DROP TABLE IF EXISTS t;", ["MP404"]),
        # renamed away, then dropped by its old name
        ("ALTER TABLE t RENAME TO u;\nDROP TABLE IF EXISTS t;", ["MP402"]),
        # made again after the drop (by this migration: its drop is no hazard either)
        (
            "DROP INDEX t_x;\nCREATE INDEX CONCURRENTLY t_x ON t (x);\nDROP INDEX IF EXISTS t_x;",
            ["MP202"],
        ),
    ],
)
def test_a_drop_if_exists_of_what_the_files_dropped_already_is_no_drop(
    script: str, expected: list[str]
) -> None:
    setup = "CREATE TABLE t (x int);\nCREATE INDEX t_x ON t (x);"
    source = SqlSource(f"SET lock_timeout = '1s';\n{script}\n", Path("1.sql"), setup_sql=setup)
    assert [f.check for f in lint_sources([source], config())] == expected


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # alembic_postgresql_enum's swap: the column's type is the old one, renamed away
        (
            "ALTER TYPE mood RENAME TO mood_old;\nCREATE TYPE mood AS ENUM ('a', 'b', 'c');\n"
            "ALTER TABLE t ALTER COLUMN m TYPE mood USING m::text::mood;\nDROP TYPE mood_old;",
            ["MP301"],
        ),
        # the same type under its new name: nothing to convert
        ("ALTER TYPE mood RENAME TO feeling;\nALTER TABLE t ALTER COLUMN m TYPE feeling;", []),
        ("ALTER TABLE t ALTER COLUMN m TYPE mood;", []),
    ],
)
def test_a_column_keeps_its_type_when_the_type_is_renamed(script: str, expected: list[str]) -> None:
    setup = "CREATE TYPE mood AS ENUM ('a', 'b');\nCREATE TABLE t (id int PRIMARY KEY, m mood);"
    source = SqlSource(f"SET lock_timeout = '1s';\n{script}\n", Path("1.sql"), setup_sql=setup)
    assert [f.check for f in lint_sources([source], config())] == expected


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        # procrastinate's worker_id: ON DELETE SET NULL looks rows up by worker_id alone
        ("CREATE INDEX c_p ON c (p_id) WHERE s = 'doing'", ["MP502"]),
        ("CREATE INDEX c_p ON c (p_id) WHERE p_id IS NOT NULL AND s = 'doing'", ["MP502"]),
        # implied by p_id = $1: PostgreSQL uses it
        ("CREATE INDEX c_p ON c (p_id) WHERE p_id IS NOT NULL", []),
        # a NOT NULL test on another column: p_id = $1 does not imply it
        ("CREATE INDEX c_p ON c (p_id, s) WHERE s IS NOT NULL", ["MP502"]),
        ("CREATE INDEX c_p ON c (p_id)", []),
    ],
)
def test_a_partial_index_serves_a_foreign_key_only_when_the_lookup_implies_it(
    index: str, expected: list[str]
) -> None:
    setup = (
        "CREATE TABLE p (id bigint PRIMARY KEY);\nCREATE TABLE c (id bigint PRIMARY KEY, s text);"
    )
    script = f"ALTER TABLE c ADD COLUMN p_id bigint REFERENCES p (id);\n{index};"
    source = SqlSource(f"SET lock_timeout = '1s';\n{script}\n", Path("1.sql"), setup_sql=setup)
    found = [f for f in lint_sources([source], config()) if f.check != "MP201"]
    assert [f.check for f in found] == expected
    if found:
        assert "but a partial one" in found[0].message


def test_a_renamed_index_keeps_its_table() -> None:
    setup = (
        "CREATE TABLE p (id bigint PRIMARY KEY);\nCREATE TABLE c (id bigint PRIMARY KEY, p_id bigint);"
        "\nCREATE INDEX c_tmp ON c (p_id);\nALTER INDEX c_tmp RENAME TO c_p;"
    )
    script = "DROP INDEX c_p;"
    source = SqlSource(f"SET lock_timeout = '1s';\n{script}\n", Path("1.sql"), setup_sql=setup)
    (found,) = lint_sources([source], config())
    assert found.check == "MP202"
    assert (
        found.message == "DROP INDEX public.c_p locks its table public.c against reads and writes"
    )
    # and it still serves the foreign key added later
    script = "ALTER TABLE c ADD FOREIGN KEY (p_id) REFERENCES p (id) NOT VALID;"
    source = SqlSource(f"SET lock_timeout = '1s';\n{script}\n", Path("1.sql"), setup_sql=setup)
    assert [f.check for f in lint_sources([source], config())] == []


def test_a_using_expression_to_the_same_type_rewrites() -> None:
    setup = "CREATE TYPE st AS ENUM ('a', 'b');\nCREATE TABLE t (id int PRIMARY KEY, s st);"
    script = "ALTER TABLE t ALTER COLUMN s TYPE st USING (CASE s::text WHEN 'a' THEN 'b' END)::st;"
    source = SqlSource(f"SET lock_timeout = '1s';\n{script}\n", Path("1.sql"), setup_sql=setup)
    (found,) = lint_sources([source], config())
    assert found.check == "MP301"
    assert "to its own type st with a USING expression rewrites public.t" in found.message


@pytest.mark.parametrize(
    ("backfill", "message"),
    [
        # mlflow: the lock the backfilled table's own ALTER took, not the foreign key's
        ("UPDATE jobs SET x = 1;", "holds the lock on public.jobs taken on line 5"),
        # another table: the first lock a statement took on a table it changed itself
        ("UPDATE other SET y = 1;", "holds the lock on public.jobs taken on line 5"),
    ],
)
def test_a_backfill_names_the_lock_on_its_own_table(backfill: str, message: str) -> None:
    setup = "CREATE TABLE jobs (id int PRIMARY KEY);\nCREATE TABLE other (y int);"
    script = (
        "SET lock_timeout = '1s';\nBEGIN;\n"
        "CREATE TABLE job_locks (id int PRIMARY KEY, job_id int REFERENCES jobs (id));\n"
        "CREATE INDEX ON job_locks (job_id);\n"
        "ALTER TABLE jobs ADD COLUMN x int;\n"
        f"{backfill}\nCOMMIT;\n"
    )
    found = [
        f
        for f in lint_sources([SqlSource(script, Path("1.sql"), setup_sql=setup)], config())
        if f.check == "MP213"
    ]
    assert len(found) == 1
    assert message in found[0].message


def test_an_enum_swapped_for_a_new_one_of_the_same_name_is_not_left_by_the_downgrade() -> None:
    """alembic_postgresql_enum's sync_enum_values (dstack's): rename the type away, create
    it again with the new labels, convert the columns, drop the old one; the downgrade
    swaps back. The type existed before: MP503 is for types the migration makes."""
    first = SqlSource(
        "CREATE TYPE mood AS ENUM ('a', 'b');\nCREATE TABLE t (id int PRIMARY KEY, m mood);\n",
        Path("1.up.sql"),
        down_sql="DROP TABLE t;\nDROP TYPE mood;\n",
        down_path=Path("1.down.sql"),
    )
    swap = """SET lock_timeout = '2s';
ALTER TYPE mood RENAME TO mood_old;
CREATE TYPE mood AS ENUM ({labels});
ALTER TABLE t ALTER COLUMN m TYPE mood USING m::text::mood;
DROP TYPE mood_old;
"""
    second = SqlSource(
        swap.format(labels="'a', 'b', 'c'"),
        Path("2.up.sql"),
        down_sql=swap.format(labels="'a', 'b'"),
        down_path=Path("2.down.sql"),
    )
    assert "MP503" not in [f.check for f in lint_sources([first, second], config())]
    # a type the migration makes and its downgrade leaves
    third = SqlSource(
        "CREATE TYPE level AS ENUM ('x');\n",
        Path("3.up.sql"),
        down_sql="SELECT 1;\n",
        down_path=Path("3.down.sql"),
    )
    assert [f.check for f in lint_sources([first, third], config())] == ["MP503"]


@pytest.mark.parametrize(
    ("change", "what"),
    [("UPDATE t SET c = 0", "backfill of"), ("DELETE FROM t WHERE id < 0", "delete from")],
)
def test_rows_changed_under_the_ddl_lock_are_named_for_what_they_are(
    change: str, what: str
) -> None:
    sql = f"SET lock_timeout = '1s';\nBEGIN;\nALTER TABLE t ADD COLUMN c int;\n{change};\nCOMMIT;\n"
    source = SqlSource(sql, Path("1.sql"), setup_sql="CREATE TABLE t (id int);")
    (finding,) = (f for f in lint_sources([source], config()) if f.check == "MP213")
    assert finding.message == (
        f"this {what} public.t runs while the transaction holds the lock on public.t taken on"
        " line 3: that lock is held until it ends"
    )


def test_fk_index_from_a_later_statement_or_a_primary_key_counts() -> None:
    sql = """SET lock_timeout = '1s';
CREATE TABLE a (id bigint PRIMARY KEY);
CREATE TABLE b (a_id bigint REFERENCES a, x int, PRIMARY KEY (a_id, x));
CREATE TABLE c (a_id bigint REFERENCES a);
CREATE TABLE d (a_id bigint REFERENCES a);
CREATE INDEX d_a ON d (a_id);
"""
    assert lint(sql) == [("MP502", 4)]


def test_fk_index_of_a_table_renamed_afterwards_counts() -> None:
    """zuul's bundle refactor: a table rebuilt as c_new, with its index and key, then
    renamed: the index went with the table (and with the rename alone, it is still missing)."""
    rebuild = """SET lock_timeout = '1s';
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c_new (id int PRIMARY KEY, p_id int);
{index}ALTER TABLE c_new ADD CONSTRAINT c_new_p_id_fkey FOREIGN KEY (p_id) REFERENCES p (id);
ALTER TABLE c_new RENAME TO c;
"""
    assert lint(rebuild.format(index="CREATE INDEX c_new_p_id_idx ON c_new (p_id);\n")) == []
    (finding,) = lint_sources([SqlSource(rebuild.format(index=""), Path("1.sql"))], config())
    assert finding.message.startswith(
        "foreign key public.c_new (p_id) -> public.p has no index on public.c (p_id)"
    )
    assert finding.fix is not None and finding.fix.startswith("CREATE INDEX ... ON public.c (p_id)")
    # in the next migration, under its new name
    held = SqlSource(rebuild.format(index=""), Path("1.sql"))
    index = SqlSource(
        "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY c_p ON c (p_id);\n", Path("2.sql")
    )
    assert lint_sources([held, index], config()) == []


def test_protected_schema_in_the_downgrade() -> None:
    source = SqlSource(
        "CREATE TABLE entity.log (id int);\n",
        Path("1.up.sql"),
        down_sql="DROP TABLE entity.log;\nDROP SCHEMA entity CASCADE;\n",
        down_path=Path("1.down.sql"),
    )
    findings = lint_sources([source], config(protected_schemas=("entity",)))
    assert [(f.check, str(f.location)) for f in findings] == [
        ("MP504", "1.down.sql:1:1"),
        ("MP504", "1.down.sql:2:1"),
    ]


def test_enum_dropped_by_drop_schema_cascade_is_fine() -> None:
    source = SqlSource(
        "CREATE SCHEMA s;\nCREATE TYPE s.mood AS ENUM ('a');\n",
        Path("1.up.sql"),
        down_sql="DROP SCHEMA s CASCADE;\n",
    )
    assert lint_sources([source], config()) == []


# -- statements recorded while an Alembic revision ran -----------------------------------


def test_recorded_statements_point_at_the_op_line(tmp_path: Path) -> None:
    revision = tmp_path / "a1b2_add_index.py"
    revision.write_text(
        "def upgrade():\n"
        "    op.create_index('i', 't', ['c'])\n"
        "    # migproof: ignore MP403 -- column unused since 2.4\n"
        "    op.drop_column('t', 'old')\n",
        encoding="utf-8",
    )
    source = SqlSource.from_statements(
        [
            RecordedStatement("SET lock_timeout = '1s'", None),
            RecordedStatement("CREATE INDEX i ON t (c)", Location(path=revision, line=2)),
            RecordedStatement("ALTER TABLE t DROP COLUMN old", Location(path=revision, line=4)),
            RecordedStatement(
                "CREATE INDEX CONCURRENTLY j ON t (d)",
                Location(path=revision, line=5),
                in_transaction=False,
            ),
        ],
        path=revision,
        revision="a1b2",
    )
    findings: list[Finding] = lint_sources([source], config())
    assert [(f.check, f.location.line if f.location else 0, f.revision) for f in findings] == [
        ("MP201", 2, "a1b2")
    ]


def test_recorded_statement_with_a_trailing_comment_is_closed() -> None:
    source = SqlSource.from_statements(
        [RecordedStatement("SELECT 1 -- note"), RecordedStatement("DROP TABLE t")],
        path=Path("r.py"),
    )
    assert [f.check for f in lint_sources([source], config())] == ["MP404", "MP210"]


def test_setup_sql_that_does_not_parse_is_a_usage_error() -> None:
    with pytest.raises(SourceError):
        lint("SELECT 1;", setup="CREATE TABL x;")


def test_config_is_frozen_dataclass_replace_works() -> None:
    base = config()
    assert dataclasses.replace(base.lint, disable=("MP201",)).disable == ("MP201",)


def test_sandbox_facts_clear_or_confirm_a_rewrite() -> None:
    from migproof.lint import StatementFacts

    def run(rewritten: tuple[str, ...]) -> list[Finding]:
        facts = StatementFacts(
            locks=(("public.t", "AccessExclusiveLock"),), rewritten=rewritten, seconds=1.2
        )
        source = SqlSource.from_statements(
            [
                RecordedStatement("SET lock_timeout = '1s'"),
                RecordedStatement("ALTER TABLE t ALTER COLUMN c TYPE text", facts=facts),
            ],
            path=Path("r.py"),
        )
        return lint_sources([source], config())

    assert run(()) == []
    [finding] = run(("public.t",))
    assert finding.check == "MP301"
    assert finding.context == (
        ("observed in the sandbox", "AccessExclusiveLock on public.t for 1.20 s, rewrote public.t"),
    )


def test_unknown_default_functions_are_reported_as_possibly_volatile() -> None:
    sql = "SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c int DEFAULT next_code();\n"
    [finding] = lint_sources([SqlSource(sql, Path("m.sql"))], config())
    assert finding.message.startswith("unless next_code() is STABLE or IMMUTABLE, adding")


def test_index_on_only_a_partitioned_parent_builds_nothing() -> None:
    sql = "SET lock_timeout = '1s';\nCREATE INDEX m_idx ON ONLY measurements (taken);\n"
    assert lint(sql) == []


def test_tracker_table_updates_are_not_backfills() -> None:
    sql = """BEGIN;
SET LOCAL lock_timeout = '1s';
ALTER TABLE t ADD COLUMN c text;
UPDATE alembic_version SET version_num = 'b2' WHERE alembic_version.version_num = 'a1';
UPDATE t SET c = 'x';
COMMIT;
"""
    assert lint(sql) == [("MP213", 5)]


def test_a_recorded_statement_pglast_cannot_parse_points_at_its_op_line() -> None:
    where = Location(path=Path("versions/a1.py"), line=12)
    source = SqlSource.from_statements(
        [RecordedStatement("SELECT 1"), RecordedStatement("CREATE TABLE (", location=where)],
        path=Path("versions/a1.py"),
        revision="a1",
    )
    [finding] = lint_sources([source], config())
    assert (finding.check, finding.location, finding.revision) == ("MP901", where, "a1")


def test_fk_index_in_the_next_migration_counts_but_not_later() -> None:
    fk = "SET lock_timeout = '1s';\nALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p NOT VALID;\n"
    index = "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY c_p_id ON c (p_id);\n"
    other = "SELECT 1;\n"
    ok = [SqlSource(fk, Path("1.sql")), SqlSource(index, Path("2.sql"))]
    assert lint_sources(ok, config()) == []
    late = [
        SqlSource(fk, Path("1.sql")),
        SqlSource(other, Path("2.sql")),
        SqlSource(index, Path("3.sql")),
    ]
    assert [(f.check, str(f.location)) for f in lint_sources(late, config())] == [
        ("MP502", "1.sql:2:1")
    ]
    last = [SqlSource(fk, Path("1.sql"))]
    (finding,) = lint_sources(last, config())
    # c was made before the files linted: an index of its own is not known to be missing
    assert finding.message == (
        "foreign key public.c (p_id) -> public.p has no index on public.c (p_id) that the"
        " files linted create: deletes on public.p scan public.c"
    )


def _fk_messages(*migrations: str) -> list[str]:
    sources = [SqlSource(sql, Path(f"{n}.sql")) for n, sql in enumerate(migrations, 1)]
    return [f.message.split(":")[0] for f in lint_sources(sources, config()) if f.check == "MP502"]


def test_two_foreign_keys_in_one_statement_are_held_each_with_its_own_index() -> None:
    """The next migration's index clears only the key it covers, whichever comes first."""
    fks = "CREATE TABLE t (id int, a int REFERENCES x, b int REFERENCES y);\n"
    a_missing = "foreign key public.t (a) -> public.x has no index on public.t (a)"
    b_missing = "foreign key public.t (b) -> public.y has no index on public.t (b)"
    for column, missing in (("a", b_missing), ("b", a_missing)):
        index = f"CREATE INDEX t_{column} ON t ({column});\n"
        assert _fk_messages(fks + index) == [missing]
        assert _fk_messages(fks + index, "SELECT 1;\n") == [missing]
        assert _fk_messages(fks, index) == [missing]
    assert _fk_messages(fks, "SELECT 1;\n") == [a_missing, b_missing]
    assert _fk_messages(fks, "CREATE INDEX t_ab ON t (a);\nCREATE INDEX t_b ON t (b);\n") == []


def test_drop_schema_cascade_drops_tables() -> None:
    sql = "SET lock_timeout = '1s';\nDROP SCHEMA legacy CASCADE;\nDROP SCHEMA empty;\n"
    assert lint(sql) == [("MP404", 2)]
    fresh = "CREATE SCHEMA tmp;\nCREATE TABLE tmp.t (id int);\nDROP SCHEMA tmp CASCADE;\n"
    assert lint(fresh) == []


def _locked(sql: str) -> list[str]:
    """The tables MP210 (no lock_timeout) says a migration's statements lock."""
    findings = lint_sources([SqlSource(sql, Path("m.sql"))], config())
    prefix, suffix = "this statement locks ", " with no lock_timeout"
    return [
        f.message[len(prefix) : f.message.index(suffix)] for f in findings if f.check == "MP210"
    ]


def test_foreign_keys_lock_the_tables_they_reference() -> None:
    """Every existing table a statement locks is named, the ones its foreign keys reference too."""
    create = "CREATE TABLE t (id int, a int REFERENCES ta, b int, FOREIGN KEY (b) REFERENCES tb);\n"
    assert _locked(create) == ["public.tb, public.ta"]
    alter = (
        "ALTER TABLE t ADD COLUMN a int REFERENCES ta,"
        " ADD CONSTRAINT k FOREIGN KEY (b) REFERENCES tb NOT VALID;\n"
    )
    assert _locked(alter) == ["public.t, public.tb, public.ta"]
    # tables created in this migration are nobody else's yet: they are not named
    assert _locked("CREATE TABLE ta (id int PRIMARY KEY);\n" + create) == ["public.tb"]
    assert _locked("CREATE TABLE t (id int, a int);\n") == []
    # a table that references itself (a tree: keystone's project.parent_id) is new too
    tree = "CREATE TABLE node (id int PRIMARY KEY, parent_id int REFERENCES node (id));\n"
    assert _locked(tree) == []
    assert _locked(tree.replace("REFERENCES node", "REFERENCES other")) == ["public.other"]


@pytest.mark.parametrize(
    ("name", "too_long"),
    [
        ("т" * 32, True),  # 64 bytes in 32 characters
        ("т" * 31 + "t", False),  # 63 bytes
        ('"' + "a b " * 16 + '"', True),  # quoted, with spaces: no long word
        ('"' + 'a""b ' * 17 + '"', True),  # quoted, with escaped quotes: 68 bytes
        ('"' + "a b " * 15 + 'abc"', False),  # 63 bytes, quoted
        ("x" * 64, True),
        ("x" * 63, False),
    ],
)
def test_identifier_length_is_counted_in_bytes(name: str, too_long: bool) -> None:
    found = lint(f"CREATE TABLE {name} (id bigint PRIMARY KEY);")
    assert (("MP508", 1) in found) is too_long


def test_large_scripts_defer_data_statements_with_the_same_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from migproof.lint import engine

    rows = ",\n".join(f"({i}, 'name {i}')" for i in range(1200))
    sql = (
        "BEGIN;\nALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT '';\n"
        f"INSERT INTO lookup (id, name) VALUES\n{rows};\nUPDATE orders SET note = 'x';\n"
        f"COMMIT;\nINSERT INTO lookup (id, name) VALUES\n{rows};\n"
    )
    assert len(sql) > engine._DEFER_FROM
    setup = "CREATE TABLE orders (id bigint PRIMARY KEY); CREATE TABLE lookup (id int, name text);"
    deferred = lint(sql, setup=setup)
    monkeypatch.setattr(engine, "_DEFER_FROM", len(sql) + 1)
    assert lint(sql, setup=setup) == deferred
    assert ("MP213", 1204) in deferred  # the UPDATE inside the ALTER's transaction


def test_schema_keeps_constraints_by_table_through_adds_and_drops() -> None:
    from migproof.lint.pgsql import parse_statements
    from migproof.lint.schema import Schema

    schema = Schema()
    for statement in parse_statements(
        "CREATE TABLE a (id int PRIMARY KEY, email text);\n"
        "CREATE TABLE b (code text, CONSTRAINT b_pk PRIMARY KEY (code));\n"
        "ALTER TABLE a ADD CONSTRAINT a_email CHECK (email IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE b DROP CONSTRAINT b_pk;\n"
    ):
        schema.apply(statement.node, new=False)
    assert schema.primary_key("public.a") == ("id",)
    assert schema.primary_key("public.b") == ()
    assert [(c.kind, c.not_null_of, c.valid) for c in schema.constraints_of("public.a")] == [
        ("primary", None, True),
        ("check", "email", False),
    ]
    assert schema.constraints_of("public.b") == [] == schema.constraints_of("public.c")
    assert [c.name for c in schema.constraints_of("public.a")] == [
        "public.a.primary(id)",
        "a_email",
    ]
    assert schema.constraint("public.a", "a_email") is schema.constraints_of("public.a")[1]
    assert schema.constraint("public.b", "b_pk") is None


def test_constraints_follow_their_table_through_rename_and_go_with_its_drop() -> None:
    from migproof.lint.pgsql import parse_statements
    from migproof.lint.schema import Schema

    schema = Schema()
    for statement in parse_statements(
        "CREATE TABLE users (id bigint PRIMARY KEY, code int CONSTRAINT users_code_key UNIQUE);\n"
        "ALTER TABLE users RENAME TO accounts;\n"
        "ALTER TABLE accounts DROP CONSTRAINT users_code_key;\n"
        "CREATE TABLE gone (id int PRIMARY KEY);\n"
        "DROP TABLE gone;\n"
        "CREATE TABLE gone (id int);\n"
    ):
        schema.apply(statement.node, new=False)
    assert schema.primary_key("public.accounts") == ("id",)
    assert schema.primary_key("public.users") == ()
    assert schema.has_index_on("public.accounts", ("id",))
    assert not schema.has_index_on("public.accounts", ("code",))  # its constraint was dropped
    assert [
        (table, name) for table, named in schema._constraints_by_table.items() for name in named
    ] == [("public.accounts", "public.users.primary(id)")]
    assert [c.table for c in schema.constraints_of("public.accounts")] == ["public.accounts"]
    assert schema.primary_key("public.gone") == ()  # the dropped table's key went with it


def test_a_foreign_key_to_a_renamed_table_is_checked_against_its_primary_key() -> None:
    first = SqlSource("CREATE TABLE users (id bigint PRIMARY KEY);", Path("1.sql"))
    second = SqlSource(
        "SET lock_timeout = '1s';\nALTER TABLE users RENAME TO accounts;", Path("2.sql")
    )
    third = SqlSource(
        "SET lock_timeout = '1s';\n"
        "CREATE TABLE logs (id int, account_id integer REFERENCES accounts);\n"
        "CREATE INDEX logs_account_idx ON logs (account_id);\n",
        Path("3.sql"),
    )
    findings = lint_sources([first, second, third], config())
    assert [(f.check, f.location.path.name if f.location else None) for f in findings] == [
        ("MP402", "2.sql"),
        ("MP501", "3.sql"),
    ]


def test_syntax_newer_than_the_parser_says_so() -> None:
    from migproof.lint.pgsql import PARSER_MAJOR

    sql = "REPACK (CONCURRENTLY) orders;\n"
    newer = config(pg_version=PARSER_MAJOR + 1)
    [finding] = lint_sources([SqlSource(sql, Path("m.sql"))], newer)
    assert finding.check == "MP901"
    assert f"PostgreSQL {PARSER_MAJOR}'s grammar" in finding.message
    [current] = lint_sources([SqlSource(sql, Path("m.sql"))], config())
    assert "grammar" not in current.message


def test_a_table_moved_to_another_schema_keeps_its_columns() -> None:
    setup = "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(50));"
    sql = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users SET SCHEMA archive;\n"
        "ALTER TABLE archive.users ALTER COLUMN name TYPE varchar(100);\n"  # known: in place
        "ALTER TABLE archive.users ALTER COLUMN id TYPE int;\n"
    )
    assert lint(sql, setup=setup) == [("MP301", 4), ("MP402", 2)]


def test_validate_after_another_lock_of_its_transaction_scans_under_it() -> None:
    sql = (
        "SET lock_timeout = '2s';\nBEGIN;\n"
        "ALTER TABLE t ADD COLUMN note text;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT t_check;\nCOMMIT;\n"
    )
    assert lint(sql) == [("MP206", 4)]
    committed = sql.replace("ADD COLUMN note text;\n", "ADD COLUMN note text;\nCOMMIT;\nBEGIN;\n")
    assert lint(committed) == []


def test_validations_and_statistics_lock_nothing_a_later_validate_waits_under() -> None:
    """Two VALIDATEs in one transaction (the follow-up migration to NOT VALID), or one with
    SET STATISTICS, take SHARE UPDATE EXCLUSIVE: reads and writes go on."""
    sql = (
        "SET lock_timeout = '2s';\nBEGIN;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT t_a;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT t_b, ALTER COLUMN c SET STATISTICS 500;\nCOMMIT;\n"
    )
    assert lint(sql) == []
    assert lint(sql.replace("SET lock_timeout = '2s';\n", "")) == []  # no MP210 either


def test_set_config_names_and_flags_as_postgresql_reads_them() -> None:
    setup = "CREATE TABLE users (id bigint PRIMARY KEY, created_at timestamp);"
    alter = "ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;\n"
    utc = "SET lock_timeout = '2s';\nSELECT set_config('TimeZone', 'UTC', false);\n"
    assert lint(utc + alter, setup=setup) == []
    paris = utc.replace("'UTC'", "'Europe/Paris'")
    assert lint(paris + alter, setup=setup) == [("MP301", 3)]
    assert lint(
        paris.replace(
            "SELECT set_config('TimeZone', 'Europe/Paris', false)", "SET TIME ZONE 'Europe/Paris'"
        )
        + alter,
        setup=setup,
    ) == [("MP301", 3)]
    add = "ALTER TABLE orders ADD COLUMN note text;\n"
    assert lint("SELECT set_config('lock_timeout', '2s', 'false');\n" + add) == []
    # is_local 'true' outside a transaction: nothing set
    assert lint("SELECT set_config('lock_timeout', '2s', 'true');\n" + add) == [("MP210", 2)]


def test_a_using_expression_computes_every_row_again() -> None:
    setup = "CREATE TABLE users (id bigint PRIMARY KEY, seen_at timestamp(3), name varchar(20));"
    head = "SET lock_timeout = '2s';\n"
    same = "ALTER TABLE users ALTER COLUMN seen_at TYPE timestamp(6) USING seen_at::timestamp(6);\n"
    shifted = "ALTER TABLE users ALTER COLUMN seen_at TYPE timestamp(6) USING seen_at + interval '1 hour';\n"
    upper = "ALTER TABLE users ALTER COLUMN name TYPE varchar(40) USING upper(name);\n"
    assert lint(head + same, setup=setup) == []
    assert lint(head + shifted, setup=setup) == [("MP301", 2)]
    assert lint(head + upper, setup=setup) == [("MP301", 2)]


def test_set_default_null_of_a_required_column_is_a_dropped_default() -> None:
    setup = "CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'new');"
    sql = "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN status SET DEFAULT NULL;\n"
    assert lint(sql, setup=setup) == [("MP412", 2)]
    # after SET DEFAULT NULL the column has no default left to drop
    again = sql + "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;\n"
    assert lint(again, setup=setup) == [("MP412", 2)]


def test_a_setting_beside_a_lone_concurrent_index_leaves_it_alone() -> None:
    sql = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (c);\n"
    assert lint(sql, assume_in_transaction=True) == []
