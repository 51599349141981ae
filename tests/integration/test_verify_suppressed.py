"""``# migproof: ignore CODE`` in a revision file accepts a verify finding (verify/suppressed.py)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.alembic_projects import Revision, write_project

from migproof.config import load_config
from migproof.sandbox import Sandbox
from migproof.verify import verify

TABLE = 'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'
REQUIRED = 'op.add_column("t", sa.Column("x", sa.Integer, nullable=False)){comment}'
NO_INDEX_DROP = 'op.create_index("ix_t_x", "t", ["x"])'


def _project(tmp_path: Path, add: str, index_header: str = "") -> Path:
    return write_project(
        tmp_path,
        [
            Revision(id="r1", down=None, upgrade=TABLE, downgrade='op.drop_table("t")'),
            Revision(id="r2", down="r1", upgrade=add, downgrade='op.drop_column("t", "x")'),
            Revision(
                id="r3",
                down="r2",
                upgrade=NO_INDEX_DROP,
                downgrade="pass  # the index stays",
                header=index_header,
            ),
        ],
    )


def _checks(pg: Sandbox, root: Path) -> tuple[list[tuple[str, str | None]], list[tuple[str, str]]]:
    report = verify(load_config(root), root, host=pg)
    return [(f.check, f.revision) for f in report.findings], report.skipped


def test_findings_without_comments_are_reported(pg: Sandbox, tmp_path: Path) -> None:
    root = _project(tmp_path, REQUIRED.format(comment=""))
    checks, _ = _checks(pg, root)
    assert ("MP104", "r2") in checks
    assert ("MP012", "r3") in checks


def test_a_comment_on_the_line_or_for_the_file_accepts_them(pg: Sandbox, tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        REQUIRED.format(comment="  # migproof: ignore MP104 -- ran in 2019 on an empty table"),
        index_header="# migproof: ignore-file incomplete-downgrade -- the index is harmless",
    )
    checks, skipped = _checks(pg, root)
    assert ("MP104", "r2") not in checks
    assert ("MP012", "r3") not in checks
    assert ("MP006", "r3") in checks  # not named by the comment: still reported
    assert (
        "2 findings (MP012, MP104)",
        "accepted by `# migproof: ignore` comments in the files they point at",
    ) in skipped


def test_a_comment_for_another_check_or_line_accepts_nothing(pg: Sandbox, tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        "# migproof: ignore MP104\n"
        + TABLE.replace('"t"', '"t2"')
        + "\n"
        + REQUIRED.format(comment="  # migproof: ignore MP012"),
    )
    checks, skipped = _checks(pg, root)
    assert ("MP104", "r2") in checks
    assert not any("accepted by" in why for _, why in skipped)


def test_an_ignore_file_comment_as_the_last_line_counts(pg: Sandbox, tmp_path: Path) -> None:
    root = _project(tmp_path, REQUIRED.format(comment=""))
    r2 = root / "migrations" / "versions" / "r2.py"
    r2.write_text(r2.read_text() + "\n# migproof: ignore-file MP104 -- ran in 2019\n")
    checks, _ = _checks(pg, root)
    assert ("MP104", "r2") not in checks
