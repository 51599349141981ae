"""A renamed column takes its indexes, constraints and key along (designate d9a1883e93e9)."""

from __future__ import annotations

from pathlib import Path

from migproof.config import Config
from migproof.findings import Finding
from migproof.lint import SqlSource, lint_sources
from migproof.lint.pgsql import parse_statements
from migproof.lint.schema import Schema

TABLES = """\
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, pid int, name text, CONSTRAINT uq_child_pid_name UNIQUE (pid, name));
"""
RENAME = "ALTER TABLE child RENAME COLUMN pid TO parent_id;\n"
FOREIGN_KEY = (
    "ALTER TABLE child ADD CONSTRAINT fk_child_parent FOREIGN KEY (parent_id)"
    " REFERENCES parent (id) NOT VALID;\n"
)


def lint(*files: str) -> list[Finding]:
    sources = [SqlSource(sql, Path(f"{n}.sql")) for n, sql in enumerate(files, start=1)]
    return lint_sources(sources, Config())


def found(*files: str) -> list[tuple[str, str]]:
    return [(f.check, str(f.location)) for f in lint(*files)]


def schema_of(sql: str) -> Schema:
    schema = Schema()
    for statement in parse_statements(sql):
        schema.apply(statement.node, new=False)
    return schema


def test_the_unique_constraint_of_a_renamed_column_indexes_its_foreign_key() -> None:
    assert found(TABLES + RENAME + FOREIGN_KEY) == []


def test_the_rename_and_the_key_in_migrations_of_their_own() -> None:
    # the rename of a column of an existing table is a hazard of its own (MP401, MP210)
    key = "SET lock_timeout = '1s';\n" + FOREIGN_KEY
    assert found(TABLES, RENAME, key) == [("MP401", "2.sql:1:1"), ("MP210", "2.sql:1:1")]


def test_an_index_on_another_column_does_not_index_the_renamed_one() -> None:
    tables = TABLES.replace("UNIQUE (pid, name)", "UNIQUE (name, pid)")
    (finding,) = lint(tables + RENAME + FOREIGN_KEY)
    assert (finding.check, str(finding.location)) == ("MP502", "1.sql:4:1")
    assert finding.message == (
        "foreign key public.child (parent_id) -> public.parent has no index on public.child"
        " (parent_id): deletes on public.parent scan public.child"
    )


def test_a_column_made_under_the_old_name_is_another_column() -> None:
    sql = (
        TABLES
        + RENAME
        + "ALTER TABLE child ADD COLUMN pid int;\n"
        + FOREIGN_KEY.replace("(parent_id)", "(pid)").replace("fk_child_parent", "fk_pid")
    )
    assert found(sql) == [("MP502", "1.sql:5:1")]


def test_a_key_added_before_its_column_is_renamed_finds_the_index_under_the_new_name() -> None:
    key_first = (
        "CREATE TABLE parent (id int PRIMARY KEY);\n"
        "CREATE TABLE child (id int PRIMARY KEY, pid int);\n"
        "ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES parent (id);\n" + RENAME
    )
    assert found(key_first + "CREATE INDEX ix_child_parent_id ON child (parent_id);\n") == []
    assert found(key_first) == [("MP502", "1.sql:3:1")]
    # the index in the next migration, which the key's finding waits for
    index = "CREATE INDEX CONCURRENTLY ix_child_parent_id ON child (parent_id);\n"
    assert found(key_first, index) == []


def test_a_renamed_column_keeps_its_index_columns_partial_where_and_not_null_check() -> None:
    schema = schema_of(
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int,"
        " CONSTRAINT t_a_nn CHECK (a IS NOT NULL), CONSTRAINT t_ab UNIQUE (a, b));\n"
        "CREATE INDEX t_a_part ON t (a) WHERE a IS NOT NULL;\n"
        "ALTER TABLE t RENAME COLUMN a TO x;\n"
    )
    assert list(schema.tables["public.t"].columns) == ["id", "x", "b"]
    assert schema.tables["public.t"].columns["x"].name == "x"
    assert schema.indexes["public.t_a_part"].columns == ("x",)
    assert schema.indexes["public.t_a_part"].not_null_where == frozenset({"x"})
    check = schema.constraint("public.t", "t_a_nn")
    assert check is not None and check.not_null_of == "x"
    unique = schema.constraint("public.t", "t_ab")
    assert unique is not None and unique.columns == ("x", "b")
    assert schema.has_index_on("public.t", ("x",))
    assert schema.has_index_on("public.t", ("a",))  # a key named before the rename
    assert not schema.has_index_on("public.t", ("b",))


def test_a_renamed_column_of_a_table_the_files_did_not_make_keeps_its_index() -> None:
    schema = schema_of(
        "CREATE INDEX child_pid_idx ON child (pid);\nALTER TABLE child RENAME COLUMN pid TO p;\n"
    )
    assert schema.indexes["public.child_pid_idx"].columns == ("p",)


def test_a_validated_not_null_check_of_a_renamed_column_lets_set_not_null_skip_the_scan() -> None:
    setup = "CREATE TABLE t (id int PRIMARY KEY, a int, CONSTRAINT t_a_nn CHECK (a IS NOT NULL));\n"
    migration = (
        "SET lock_timeout = '1s';\nALTER TABLE t RENAME COLUMN a TO b;\n"
        "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\n"
    )
    findings = lint_sources([SqlSource(migration, Path("1.sql"), setup_sql=setup)], Config())
    # MP401 is the rename itself; no MP207 for the SET NOT NULL
    assert [(f.check, str(f.location)) for f in findings] == [("MP401", "1.sql:2:1")]


def test_a_renamed_primary_key_is_the_key_a_bare_references_compares() -> None:
    tables = (
        "CREATE TABLE parent (id uuid PRIMARY KEY);\n"
        "ALTER TABLE parent RENAME COLUMN id TO parent_uuid;\n"
    )
    for references in ("parent", "parent (parent_uuid)"):
        child = f"CREATE TABLE child (parent_id integer REFERENCES {references});\n"
        child += "CREATE INDEX ix_child_parent_id ON child (parent_id);\n"
        (finding,) = lint(tables + child)
        assert (finding.check, str(finding.location)) == ("MP501", "1.sql:3:1")
        assert finding.message == (
            "foreign key column public.child.parent_id is integer but"
            " public.parent.parent_uuid is uuid"
        )
    same_type = "CREATE TABLE child (parent_id uuid REFERENCES parent);\n"
    assert found(tables + same_type + "CREATE INDEX ix ON child (parent_id);\n") == []


def test_a_key_named_before_its_column_is_renamed_is_reported_under_the_new_name() -> None:
    sql = (
        "CREATE TABLE parent (id int PRIMARY KEY);\n"
        "CREATE TABLE child (id int PRIMARY KEY, pid int REFERENCES parent (id));\n"
        "ALTER TABLE child RENAME COLUMN pid TO parent_id;\n"
    )
    findings = lint_sources([SqlSource(sql, Path("0001.sql"))], Config())
    (mp502,) = [f for f in findings if f.check == "MP502"]
    assert mp502.message.startswith("foreign key public.child (parent_id) -> public.parent")
    assert mp502.fix is not None and "ON public.child (parent_id)" in mp502.fix
