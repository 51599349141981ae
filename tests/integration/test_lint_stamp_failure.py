"""An upgrade that fails where Alembic stamps the version table points at the revision id.

A revision id longer than alembic_version.version_num (32) fails at the stamp, whose
statement runs from env.py's ``run_migrations()``: lint's MP010 pointed there, where verify
points at the revision file's ``revision =`` line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, line_of, write_project

from migproof.chain.project import load_project
from migproof.config import load_config
from migproof.findings import Finding
from migproof.lint.recorded import lint_alembic_project
from migproof.sandbox import Sandbox

LONG = "b" * 40
TABLE = 'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'


def _failure(pg: Sandbox, root: Path, revisions: list[Revision]) -> Finding:
    write_project(root, revisions)
    config = load_config(root)
    report = lint_alembic_project(config, load_project(config, root), pg)
    (failure,) = [f for f in report.findings if f.check == "MP010"]
    return failure


@pytest.mark.parametrize("first", [True, False], ids=["insert-stamp", "update-stamp"])
def test_a_revision_id_too_long_to_stamp_points_at_its_revision_line(
    pg: Sandbox, tmp_path: Path, first: bool
) -> None:
    long = Revision(id=LONG, down=None if first else "r1", upgrade="pass", filename="long.py")
    revisions = [long] if first else [Revision(id="r1", down=None, upgrade=TABLE), long]
    failure = _failure(pg, tmp_path, revisions)
    path = tmp_path / "migrations" / "versions" / "long.py"
    assert failure.revision == LONG
    assert failure.location is not None
    assert (failure.location.path, failure.location.line) == (path, line_of(path, "revision ="))
    assert failure.statement is not None and "version_num" in failure.statement


def test_a_statement_of_the_revision_that_fails_still_points_at_its_op_line(
    pg: Sandbox, tmp_path: Path
) -> None:
    fails = Revision(
        id="r2", down="r1", upgrade="op.execute(\"UPDATE nowhere SET version_num = 'r2'\")"
    )
    failure = _failure(pg, tmp_path, [Revision(id="r1", down=None, upgrade=TABLE), fails])
    path = tmp_path / "migrations" / "versions" / "r2.py"
    assert failure.location is not None
    assert (failure.location.path, failure.location.line) == (path, line_of(path, "op.execute"))
