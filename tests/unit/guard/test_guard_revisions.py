"""Revision headers read with ast, heads, SQL migration names, and schema SQL comparison."""

from __future__ import annotations

import pytest

from migproof.guard.revisions import (
    Revision,
    base_heads,
    parse_revision,
    parse_sql_migration_name,
)
from migproof.guard.sqlfiles import compare_sql, schema_statements

MODERN = '''"""add email

Revision ID: b2c3
Revises: a1b2
def not_code():
"""
from typing import Sequence, Union

from alembic import op

revision: str = "b2c3"
down_revision: Union[str, None] = "a1b2"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    revision = "not this one"
'''


def test_annotated_header_and_docstring_with_def() -> None:
    assert parse_revision(MODERN, "v/b2c3.py") == Revision(
        revision="b2c3", down_revisions=("a1b2",), branch_labels=(), path="v/b2c3.py", line=12
    )


def test_header_declared_below_the_models_of_the_revision() -> None:
    """superset's 258b5280a45e declares its ids after the model classes it uses."""
    source = (
        "import sqlalchemy as sa\n\n\nclass Slice(Base):\n    id = sa.Column(sa.Integer)\n\n\n"
        'revision = "258b"\ndown_revision = "2b4a"\n'
    )
    assert parse_revision(source, "v/258b.py") == Revision(
        revision="258b", down_revisions=("2b4a",), branch_labels=(), path="v/258b.py", line=9
    )


def test_merge_revision_and_branch_labels() -> None:
    source = 'revision = "m1"\ndown_revision = ("a", "b")\nbranch_labels = ("core",)\n'
    found = parse_revision(source, "m1.py")
    assert found is not None
    assert (found.down_revisions, found.branch_labels) == (("a", "b"), ("core",))


def test_not_a_revision_and_syntax_error() -> None:
    assert parse_revision("HELPER = 1\n", "helpers.py") is None
    with pytest.raises(SyntaxError):
        parse_revision("revision = (\n", "broken.py")


def test_heads() -> None:
    chain = [
        Revision("a", (), (), "a.py", 1),
        Revision("b", ("a",), (), "b.py", 1),
        Revision("c", ("a",), (), "c.py", 1),
    ]
    assert [r.revision for r in base_heads(chain)] == ["b", "c"]


@pytest.mark.parametrize(
    ("name", "version", "repeatable"),
    [
        ("000012_add_users.up.sql", (12,), False),
        ("000012_add_users.down.sql", (12,), False),
        ("V1_2__add_users.sql", (1, 2), False),
        ("V3.1__x.sql", (3, 1), False),
        ("V1.0__x.sql", (1,), False),
        ("U1_0__x.sql", (1,), False),
        ("R__views.sql", (), True),
        ("20240101120000_create.sql", (20240101120000,), False),
    ],
)
def test_sql_migration_names(name: str, version: tuple[int, ...], repeatable: bool) -> None:
    parsed = parse_sql_migration_name(name)
    assert parsed is not None
    assert (parsed.version, parsed.repeatable) == (version, repeatable)


def test_unrecognised_sql_name() -> None:
    assert parse_sql_migration_name("schema.sql") is None
    assert parse_sql_migration_name("0001-a.sql") is None  # `migrate` rejects it too
    assert parse_sql_migration_name("0001_a.py") is None


def test_sql_comparison_ignores_comments_case_and_data() -> None:
    base = schema_statements("CREATE TABLE t (id int); -- x\nINSERT INTO t VALUES (1);\n")
    head = schema_statements(
        "/* the table */\ncreate   table T(\n  ID INT\n);\nUPDATE t SET id = 2;\nBEGIN;\nCOMMIT;\n"
    )
    assert compare_sql(base, head) == []


def test_sql_comparison_names_added_changed_removed() -> None:
    base = schema_statements(
        "CREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);\nCREATE VIEW v AS SELECT 1;\n"
    )
    head = schema_statements(
        "CREATE TABLE t (id bigint);\nCREATE VIEW v AS SELECT 1;\nCREATE TABLE u (id int);\n"
    )
    found = [(d.description, d.line, d.in_base) for d in compare_sql(base, head)]
    assert found == [
        ("CREATE TABLE t: changed", 1, False),
        ("CREATE TABLE u: added", 3, False),
        ("CREATE INDEX t_id ON t: removed", 2, True),
    ]
