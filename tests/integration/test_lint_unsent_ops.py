"""op calls of upgrade() that sent nothing in the sandbox are listed as not checked.

skypilot's and cognee's revisions guard their DDL (``if "ix" not in inspector...``): in the
sandbox, where an earlier revision made the object, they send nothing, and lint said "no
findings"; in production those CREATE INDEX statements lock tables.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.alembic_projects import Revision, line_of, write_project

from migproof.chain.project import load_project
from migproof.config import load_config
from migproof.findings import Report
from migproof.lint.recorded import lint_alembic_project
from migproof.sandbox import Sandbox

UNSENT = (
    "sent nothing in the sandbox (a guard, or a branch for another database, skipped them):"
    " not linted"
)
BASE = Revision(
    id="r1",
    down=None,
    upgrade='op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),'
    ' sa.Column("a", sa.Integer))\nop.create_index("ix_t_a", "t", ["a"])',
    downgrade='op.drop_table("t")',
)
GUARDED = """
if "ix_t_a" not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("t")}:
    op.create_index("ix_t_a", "t", ["a"])
"""


def _lint(pg: Sandbox, root: Path, revisions: list[Revision], **overrides: object) -> Report:
    write_project(root, revisions)
    config = load_config(root, overrides=overrides or None)
    return lint_alembic_project(config, load_project(config, root), pg)


def _unsent(report: Report) -> list[tuple[str, str]]:
    return [(what, why) for what, why in report.skipped if why == UNSENT]


def _path(root: Path, rid: str) -> Path:
    return root / "migrations" / "versions" / f"{rid}.py"


def test_a_guarded_create_index_that_sent_nothing_is_not_checked(
    pg: Sandbox, tmp_path: Path
) -> None:
    report = _lint(pg, tmp_path, [BASE, Revision(id="r2", down="r1", upgrade=GUARDED)])
    assert report.findings == []
    line = line_of(_path(tmp_path, "r2"), "op.create_index")
    assert report.skipped == [(f"upgrade() of revision r2: op.create_index at line {line}", UNSENT)]


def test_each_operation_is_named_with_its_lines(pg: Sandbox, tmp_path: Path) -> None:
    upgrade = """
    conn = op.get_bind()
    if conn.dialect.name == "mysql":
        op.execute("ALTER TABLE t ENGINE=InnoDB")
        op.add_column("t", sa.Column("b", sa.Integer))
    if "ix_t_a" not in {i["name"] for i in sa.inspect(conn).get_indexes("t")}:
        op.create_index(
            "ix_t_a", "t", ["a"]
        )
    for name in []:
        op.execute(name)
    """
    report = _lint(pg, tmp_path, [BASE, Revision(id="r2", down="r1", upgrade=upgrade)])
    path = _path(tmp_path, "r2")
    first, second = line_of(path, "op.execute("), line_of(path, "op.execute(", last=True)
    add, index = line_of(path, "op.add_column"), line_of(path, "op.create_index")
    assert _unsent(report) == [
        (
            f"upgrade() of revision r2: op.execute at lines {first}, {second};"
            f" op.add_column at line {add}; op.create_index at line {index}",
            UNSENT,
        )
    ]


def test_op_calls_that_sent_something_or_never_send_are_not_listed(
    pg: Sandbox, tmp_path: Path
) -> None:
    # a helper's op call is recorded at its own line, a batch block at its with line or
    # its batch_op lines, a call over several lines at one of them; op.f, op.get_bind,
    # op.inline_literal and op.get_context send nothing by design
    helper = (
        "\n\ndef _add(name):\n"
        "    if name:\n        op.add_column('t', sa.Column(name, sa.Integer))\n"
    )
    upgrade = """
    _add("c")
    with op.batch_alter_table("t") as batch_op:
        batch_op.add_column(
            sa.Column("d", sa.Integer)
        )
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY ix_t_c ON t (c)"
        )
    op.create_index(
        op.f("ix_t_d"),
        "t",
        ["d"],
    )
    op.execute(
        sa.text("UPDATE t SET a = 1 WHERE a = ")
        .columns()
        .bindparams()
        if False
        else "UPDATE t SET a = " + str(op.inline_literal(1))
    )
    op.get_bind().execute(sa.text("SELECT 1"))
    """
    report = _lint(
        pg,
        tmp_path,
        [BASE, Revision(id="r2", down="r1", upgrade=upgrade, header=helper)],
    )
    assert _unsent(report) == []
    assert report.skipped == []


def test_a_failing_or_blocked_revision_gets_no_entry_of_its_own(
    pg: Sandbox, tmp_path: Path
) -> None:
    fails = Revision(
        id="r2",
        down="r1",
        upgrade='op.execute("ALTER TABLE nowhere ADD x int")\n' + GUARDED,
    )
    blocked = Revision(id="r3", down="r2", upgrade=GUARDED)
    report = _lint(pg, tmp_path, [BASE, fails, blocked])
    assert [f.check for f in report.findings] == ["MP010"]
    assert _unsent(report) == []
    assert report.skipped == [("revision r3", "not run: a revision it builds on fails")]


def test_many_revisions_with_such_calls_are_one_entry(pg: Sandbox, tmp_path: Path) -> None:
    guarded = [
        Revision(id=f"r{n}", down=f"r{n - 1}", upgrade=GUARDED) for n in range(2, 9)
    ]  # seven revisions
    report = _lint(pg, tmp_path, [BASE, *guarded])
    line = line_of(_path(tmp_path, "r2"), "op.create_index")
    at = f"op.create_index at line {line}"
    assert _unsent(report) == [
        (f"upgrade() of 7 revisions: r2 ({at}), r3 ({at}), r4 ({at}), …", UNSENT)
    ]


def test_revisions_a_bootstrap_file_stamps_are_not_run_and_get_no_entry(
    pg: Sandbox, tmp_path: Path
) -> None:
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text(
        "CREATE TABLE public.t (id int PRIMARY KEY, a int);\n"
        "CREATE INDEX ix_t_a ON public.t (a);\n"
        "CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY);\n"
        "INSERT INTO public.alembic_version VALUES ('r2');\n"
    )
    revisions = [
        BASE,
        Revision(id="r2", down="r1", upgrade=GUARDED),
        Revision(id="r3", down="r2", upgrade=GUARDED),
    ]
    report = _lint(pg, tmp_path, revisions, **{"verify.bootstrap-sql": str(bootstrap)})
    line = line_of(_path(tmp_path, "r3"), "op.create_index")
    assert _unsent(report) == [
        (f"upgrade() of revision r3: op.create_index at line {line}", UNSENT)
    ]
