"""MP406 on a column known to allow NULL already is no finding (octavia 2351ea316465)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.config import Config
from migproof.lint import SqlSource, lint_sources

SETUP = "CREATE TABLE amphora (id int PRIMARY KEY, role text, vrrp_ip text NOT NULL);\n"


def found(statement: str, setup: str | None = SETUP) -> list[tuple[str, str, str]]:
    sql = f"SET lock_timeout = '1s';\n{statement}\n"
    findings = lint_sources([SqlSource(sql, Path("m.sql"), setup_sql=setup)], Config())
    return [(f.check, str(f.location), f.message) for f in findings]


def test_dropping_not_null_of_a_nullable_column_changes_nothing() -> None:
    # what op.alter_column("amphora", "role", nullable=True) sends, whatever the column was
    assert found("ALTER TABLE amphora ALTER COLUMN role DROP NOT NULL;") == []
    both = (
        "ALTER TABLE amphora ALTER COLUMN role DROP NOT NULL, ALTER COLUMN vrrp_ip DROP NOT NULL;"
    )
    assert [(code, where) for code, where, _ in found(both)] == [("MP406", "m.sql:2:1")]


def test_dropping_not_null_of_a_not_null_column_is_reported() -> None:
    assert found("ALTER TABLE amphora ALTER COLUMN vrrp_ip DROP NOT NULL;") == [
        (
            "MP406",
            "m.sql:2:1",
            "dropping NOT NULL on public.amphora.vrrp_ip lets NULLs reach code that assumes"
            " there are none",
        )
    ]


def test_a_column_made_not_null_by_an_earlier_statement_is_reported() -> None:
    setup = SETUP + "ALTER TABLE amphora ALTER COLUMN role SET NOT NULL;\n"
    statement = "ALTER TABLE amphora ALTER COLUMN role DROP NOT NULL;"
    assert [(code, where) for code, where, _ in found(statement, setup)] == [("MP406", "m.sql:2:1")]


@pytest.mark.parametrize(
    ("statement", "setup"),
    [
        ("ALTER TABLE listener ALTER COLUMN name DROP NOT NULL;", SETUP),  # a table never seen
        ("ALTER TABLE amphora ALTER COLUMN role DROP NOT NULL;", None),
        ("ALTER TABLE amphora ALTER COLUMN cert_busy DROP NOT NULL;", SETUP),  # a column never seen
    ],
)
def test_dropping_not_null_of_an_unknown_column_is_reported(
    statement: str, setup: str | None
) -> None:
    assert [(code, where) for code, where, _ in found(statement, setup)] == [("MP406", "m.sql:2:1")]


@pytest.mark.parametrize("declared", ["serial", "bigserial", "int GENERATED ALWAYS AS IDENTITY"])
def test_serial_and_identity_columns_are_not_null_without_saying_so(declared: str) -> None:
    setup = f"CREATE TABLE counter (n {declared}, name text PRIMARY KEY);\n"
    assert [
        code for code, _, _ in found("ALTER TABLE counter ALTER COLUMN n DROP NOT NULL;", setup)
    ] == ["MP406"]
