"""MP408 after the migration emptied the table: the ADD passes, inserts still break."""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.config import Config
from migproof.lint import SqlSource, lint_sources

SETUP = "CREATE TABLE dag_code (id int PRIMARY KEY, fileloc text);\n"


def mp408(body: str) -> list[str]:
    sql = f"SET lock_timeout = '1s';\n{body}\nALTER TABLE dag_code ADD COLUMN h text NOT NULL;\n"
    findings = lint_sources([SqlSource(sql, Path("m.sql"), setup_sql=SETUP)], Config())
    return [f.message for f in findings if f.check == "MP408"]


@pytest.mark.parametrize("empties", ["DELETE FROM dag_code;", "TRUNCATE dag_code;"])
def test_a_table_emptied_first_does_not_fail_the_add(empties: str) -> None:
    # airflow 3's 0047: delete from dag_code, then the NOT NULL columns
    assert mp408(empties) == [
        "adding NOT NULL column public.dag_code.h without a default breaks inserts from"
        " application code still running during the deploy (or after a rollback) (the"
        " migration empties public.dag_code first, so the ADD passes)"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "DELETE FROM dag_code WHERE id > 5;",  # some rows stay
        "DELETE FROM other_table;",
        "SELECT 1;",
        "DELETE FROM dag_code;\nINSERT INTO dag_code VALUES (1, 'x');",  # rows put back
        "TRUNCATE dag_code;\nCOPY dag_code FROM '/dev/null';",
    ],
)
def test_a_table_not_emptied_fails_the_add(body: str) -> None:
    (message,) = mp408(body)
    assert "fails on a non-empty public.dag_code" in message
