"""migproof lint on an Alembic project: the SQL each revision really ran, with its locks."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pytest
from tests.helpers.alembic_projects import ENV_CONFIG_URL, Revision, line_of, write_project

from migproof.chain.project import load_project
from migproof.cli import main
from migproof.config import load_config
from migproof.findings import Report
from migproof.lint.recorded import lint_alembic_project
from migproof.sandbox import Sandbox

BASE = Revision(
    id="r1",
    down=None,
    upgrade='op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("total", sa.Integer))',
    downgrade='op.drop_table("orders")',
)


# r2: an index built without CONCURRENTLY on the table r1 created
INDEX_ON_ORDERS = Revision(
    id="r2",
    down="r1",
    upgrade='op.create_index("ix_total", "orders", ["total"])',
    downgrade='op.drop_index("ix_total", table_name="orders")',
)


def _summaries(report: Report) -> dict[object, list[str]]:
    """revision -> its lock summary lines."""
    return {r["revision"]: cast(list[str], r["locks"]) for r in report.records}


def _lint(pg: Sandbox, root: Path, overrides: dict[str, object] | None = None) -> Report:
    """Lint the Alembic project at ``root`` by running it in ``pg``."""
    config = load_config(root, overrides=overrides)
    return lint_alembic_project(config, load_project(config, root), pg)


def _lint_r2(
    pg: Sandbox,
    root: Path,
    upgrade: str,
    downgrade: str,
    *,
    base: Revision = BASE,
    then: Sequence[Revision] = (),
) -> tuple[Report, Path]:
    """Write an Alembic project of ``base`` (r1), an r2 of these bodies and ``then``, and
    lint what it runs in ``pg``; the report and r2's file."""
    write_project(
        root, [base, Revision(id="r2", down="r1", upgrade=upgrade, downgrade=downgrade), *then]
    )
    report = _lint(pg, root)
    return report, root / "migrations" / "versions" / "r2.py"


def test_index_on_existing_table_is_found_at_the_op_line_with_its_lock(
    pg: Sandbox, tmp_path: Path
) -> None:
    report, path = _lint_r2(pg, tmp_path, INDEX_ON_ORDERS.upgrade, INDEX_ON_ORDERS.downgrade)
    found = {
        (f.check, f.revision, f.location.line if f.location else None) for f in report.findings
    }
    assert ("MP201", "r2", line_of(path, "op.create_index")) in found
    summaries = _summaries(report)
    assert summaries["r2"] and summaries["r2"][0].startswith("blocks writes on public.orders for ")
    assert summaries["r2"][0].endswith("(SHARE)")
    assert summaries["r1"] == []  # a table created in the revision blocks nobody


BATCH = """
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text))
        batch_op.create_index("ix_total", ["total"])
        batch_op.alter_column("total", type_=sa.BigInteger)
    """


def test_statements_of_a_batch_block_are_found_at_their_own_batch_op_lines(
    pg: Sandbox, tmp_path: Path
) -> None:
    """Alembic sends a batch_alter_table block's SQL when the block ends; each statement is
    still found at the ``batch_op.`` call it came from, not at the ``with`` line."""
    downgrade = """
    with op.batch_alter_table("orders") as batch_op:
        batch_op.alter_column("total", type_=sa.Integer)
        batch_op.drop_index("ix_total")
        batch_op.drop_column("note")
    """
    report, path = _lint_r2(pg, tmp_path, BATCH, downgrade)
    found = {
        (f.check, f.location.line) for f in report.findings if f.location and f.revision == "r2"
    }
    assert ("MP201", line_of(path, "batch_op.create_index")) in found
    assert ("MP301", line_of(path, 'batch_op.alter_column("total", type_=sa.BigInteger')) in found
    assert not any(line == line_of(path, "with op.batch_alter_table") for _, line in found)


def _codes(report: Report, revision: str = "r2") -> list[str]:
    return sorted(f.check for f in report.findings if f.revision == revision)


CONCURRENT_INDEX = 'op.execute("CREATE INDEX CONCURRENTLY ix_total ON orders (total)")'


def test_concurrently_inside_alembics_autocommit_block_is_outside_the_transaction(
    pg: Sandbox, tmp_path: Path
) -> None:
    """Alembic's way to run CONCURRENTLY and backfills: PostgreSQL sees no transaction
    there, though SQLAlchemy's connection says it is in one (prefect: 23 false MP203)."""
    backfill = (
        'op.add_column("orders", sa.Column("note", sa.Text))\n'
        "with op.get_context().autocommit_block():\n"
        '    op.execute("UPDATE orders SET note = total::text WHERE note IS NULL")\n'
        "    " + CONCURRENT_INDEX
    )
    report, _ = _lint_r2(pg, tmp_path / "block", backfill, 'op.drop_column("orders", "note")')
    assert _codes(report) == ["MP210"]  # the ADD COLUMN's lock, with no lock_timeout
    # the same backfill in the migration's transaction runs while the ADD COLUMN's lock is held
    plain = backfill.replace("with op.get_context().autocommit_block():\n    ", "")
    plain = plain.replace("\n    " + CONCURRENT_INDEX, "")
    report, path = _lint_r2(pg, tmp_path / "plain", plain, 'op.drop_column("orders", "note")')
    assert sorted((f.check, f.location.line if f.location else 0) for f in report.findings) == [
        ("MP210", line_of(path, "op.add_column")),
        ("MP213", line_of(path, "UPDATE orders")),
    ]


def test_type_change_is_confirmed_as_a_rewrite_and_a_nullable_column_is_not(
    pg: Sandbox, tmp_path: Path
) -> None:
    report, _ = _lint_r2(
        pg,
        tmp_path,
        'op.alter_column("orders", "total", type_=sa.BigInteger)',
        'op.alter_column("orders", "total", type_=sa.Integer)',
        then=[
            Revision(
                id="r3",
                down="r2",
                upgrade='op.add_column("orders", sa.Column("note", sa.Text))',
                downgrade='op.drop_column("orders", "note")',
            ),
        ],
    )
    codes = {(f.check, f.revision) for f in report.findings}
    assert ("MP301", "r2") in codes
    assert not any(code.startswith("MP3") and rev == "r3" for code, rev in codes)
    summaries = _summaries(report)
    assert any("(ACCESS EXCLUSIVE, table rewrite)" in line for line in summaries["r2"])
    assert not any("table rewrite" in line for line in summaries["r3"])


def test_parameters_are_inlined_so_every_recorded_statement_parses(
    pg: Sandbox, tmp_path: Path
) -> None:
    report, _ = _lint_r2(
        pg,
        tmp_path,
        'sa.Enum("a", "b", name="kind").create(op.get_bind(), checkfirst=True)\nop.bulk_insert(sa.table("orders", sa.column("id"), sa.column("total")), [{"id": 1, "total": 5}])',
        'op.execute("DELETE FROM orders")\nsa.Enum(name="kind").drop(op.get_bind(), checkfirst=True)',
    )
    checks = {f.check for f in report.findings}
    assert "MP901" not in checks
    assert "MP010" not in checks  # the revision ran: nothing failed to record
    assert "r2" in {r["revision"] for r in report.records}


def test_a_failed_statement_with_parameters_is_recorded_as_sent_and_judged_by_its_sql(
    pg: Sandbox, tmp_path: Path
) -> None:
    """privacyidea's revisions catch their errors: the failed statement was recorded with
    its %(n)s placeholders, one MP901 silenced every rule on the file. Nothing was seen of
    it in the sandbox, so its findings claim nothing observed either."""
    upgrade = (
        'op.create_index("ix_total", "orders", ["total"])\n'
        "bind = op.get_bind()\n"
        "try:\n"
        "    with bind.begin_nested():\n"
        '        bind.execute(sa.text("SELECT id FROM missing WHERE name = :n"), {"n": "x"})\n'
        "except sa.exc.ProgrammingError:\n"
        "    pass\n"
        "try:\n"
        "    with bind.begin_nested():\n"
        '        op.execute("ALTER TABLE missing ALTER COLUMN id TYPE bigint")\n'
        "except sa.exc.ProgrammingError:\n"
        "    pass"
    )
    report, path = _lint_r2(pg, tmp_path, upgrade, 'op.drop_index("ix_total", table_name="orders")')
    found = {(f.check, f.location.line if f.location else 0) for f in report.findings}
    assert "MP901" not in {c for c, _ in found}
    assert ("MP201", line_of(path, "op.create_index")) in found
    rewrite = next(f for f in report.findings if f.check == "MP301")
    assert rewrite.location is not None
    assert rewrite.location.line == line_of(path, "ALTER COLUMN id TYPE bigint")
    assert "observed" not in rewrite.message


def test_drop_if_exists_of_a_table_the_sandbox_did_not_have_drops_nothing(
    pg: Sandbox, tmp_path: Path
) -> None:
    """open-webui drops a leftover batch table of Alembic's: nothing was there to drop or
    to lock. The same statement on a table that exists is both findings."""
    report, _ = _lint_r2(
        pg, tmp_path / "tmp", 'op.execute("DROP TABLE IF EXISTS _alembic_tmp_orders")', "pass"
    )
    assert _codes(report) == []
    report, path = _lint_r2(
        pg, tmp_path / "real", 'op.execute("DROP TABLE IF EXISTS orders")', "pass"
    )
    assert sorted((f.check, f.location.line if f.location else 0) for f in report.findings) == [
        ("MP210", line_of(path, "DROP TABLE")),
        ("MP404", line_of(path, "DROP TABLE")),
    ]
    # found through the search_path in another schema: lint names it public.orders
    in_app = Revision(
        id="r1",
        down=None,
        upgrade='op.execute("CREATE SCHEMA app")\nop.execute("CREATE TABLE app.orders (id int)")',
        downgrade='op.execute("DROP SCHEMA app CASCADE")',
    )
    report, path = _lint_r2(
        pg,
        tmp_path / "app",
        'op.execute("SET LOCAL search_path TO app, public")\n'
        'op.execute("DROP TABLE IF EXISTS orders")',
        "pass",
        base=in_app,
    )
    assert "MP404" in _codes(report)


def test_an_autocommit_engine_keeps_the_static_verdicts(pg: Sandbox, tmp_path: Path) -> None:
    """privacyidea's env.py runs in AUTOCOMMIT: each statement's locks are released before
    pg_locks is read, so "no rewrite seen" proves nothing and MP301 stays."""
    write_project(
        tmp_path,
        [
            BASE,
            Revision(
                id="r2",
                down="r1",
                upgrade='op.alter_column("orders", "total", type_=sa.Text, postgresql_using="total::text")',
                downgrade='op.alter_column("orders", "total", type_=sa.Integer, postgresql_using="total::int")',
            ),
        ],
    )
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(
            "[alembic]\n", "[alembic]\nsqlalchemy.isolation_level = AUTOCOMMIT\n"
        )
    )
    report = _lint(pg, tmp_path)
    rewrite = [f for f in report.findings if f.check == "MP301" and f.revision == "r2"]
    assert len(rewrite) == 1
    assert "no relation locks" not in rewrite[0].message


def test_an_op_line_suppression_of_an_sql_rule_that_matches_nothing_is_reported(
    pg: Sandbox, tmp_path: Path
) -> None:
    report, path = _lint_r2(
        pg,
        tmp_path,
        'op.create_index("ix_total", "orders", ["total"])  # migproof: ignore MP201'
        '\nop.add_column("orders", sa.Column("note", sa.Text))  # migproof: ignore MP201',
        'op.drop_column("orders", "note")\nop.drop_index("ix_total", table_name="orders")',
    )
    found = {(f.check, f.location.line if f.location else None) for f in report.findings}
    used, unused = line_of(path, "op.create_index"), line_of(path, "op.add_column")
    assert ("MP201", used) not in found
    assert ("MP903", used) not in found
    assert ("MP903", unused) in found


def test_cli_prints_lock_summaries_and_static_mode_runs_nothing(
    pg: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_project(tmp_path, [BASE, INDEX_ON_ORDERS])
    monkeypatch.chdir(tmp_path)
    assert main(["lint", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "blocks writes on public.orders" in out and "MP201" in out
    assert main(["lint", "--static", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "blocks writes" not in out
    # what --static leaves out is said, not passed off as "no findings"
    assert "the SQL of 2 revision files: --static reads revision files" in " ".join(out.split())
    (tmp_path / "0001.sql").write_text("SELECT 1;\n")
    assert main(["lint", "--static", str(tmp_path / "0001.sql")]) == 0
    assert "not checked" not in capsys.readouterr().out


def test_env_py_that_fails_before_any_revision_is_one_finding(pg: Sandbox, tmp_path: Path) -> None:
    write_project(tmp_path, [BASE])
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text('raise RuntimeError("needs the app")\n' + env_py.read_text())
    report = _lint(pg, tmp_path)
    assert [(f.check, f.location.path, f.location.line) for f in report.findings if f.location] == [
        ("MP010", env_py, 1)
    ]
    assert "env.py fails before" in report.findings[0].message


def test_env_py_that_fails_after_the_last_revision_is_a_finding_not_a_crash(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(tmp_path, [BASE])
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(env_py.read_text() + '\nraise RuntimeError("after the run")\n')
    report = _lint(pg, tmp_path)
    assert [(f.check, f.revision) for f in report.findings] == [("MP010", "r1")]
    assert "RuntimeError: after the run" in report.findings[0].message


def _observed(report: Report, path: Path) -> dict[tuple[str, int | None], str]:
    """(check, line) -> what the sandbox saw, for the findings in ``path``."""
    return {
        (f.check, f.location.line): dict(f.context)["observed in the sandbox"]
        for f in report.findings
        if f.location is not None and f.location.path == path and f.context
    }


def test_a_lock_taken_by_an_earlier_statement_of_the_transaction_is_shown_as_held(
    pg: Sandbox, tmp_path: Path
) -> None:
    # pg_locks shows ACCESS EXCLUSIVE on orders once: the second ALTER takes nothing new
    report, path = _lint_r2(
        pg,
        tmp_path,
        'op.add_column("orders", sa.Column("note", sa.Text))'
        '\nop.alter_column("orders", "total", type_=sa.BigInteger)'
        "\nop.execute(\"CREATE TYPE mood AS ENUM ('calm', 'busy')\")",
        'op.alter_column("orders", "total", type_=sa.Integer)\nop.drop_column("orders", "note")',
    )
    add, change = line_of(path, "op.add_column"), line_of(path, "op.alter_column")
    observed = _observed(report, path)
    assert sorted(observed) == [
        ("MP210", add),
        ("MP301", change),
        ("MP503", line_of(path, "CREATE TYPE")),
    ]
    assert observed["MP210", add].startswith("ACCESS EXCLUSIVE on public.orders for ")
    # the primary key's index, locked with its table, is not listed apart
    assert observed["MP301", change].startswith(
        f"ACCESS EXCLUSIVE on public.orders (held since line {add}) for "
    )
    assert observed["MP301", change].endswith(", rewrote public.orders, public.orders_pkey")
    # CREATE TYPE locks no relation: the lock its transaction holds on orders is not its own
    assert observed["MP503", line_of(path, "CREATE TYPE")] == "no relation locks"  # no "for X s"


def test_a_rewrite_by_a_statement_that_takes_no_new_lock_is_still_seen(
    pg: Sandbox, tmp_path: Path
) -> None:
    # no index on events: the type change takes no lock the ADD COLUMN before it did not
    events = Revision(
        id="r1",
        down=None,
        upgrade='op.execute("CREATE TABLE events (id int, payload int)")',
        downgrade='op.drop_table("events")',
    )
    report, path = _lint_r2(
        pg,
        tmp_path,
        "op.execute(\"SET lock_timeout = '2s'\")"
        '\nop.add_column("events", sa.Column("note", sa.Text))'
        '\nop.alter_column("events", "payload", type_=sa.BigInteger)',
        'op.alter_column("events", "payload", type_=sa.Integer)\nop.drop_column("events", "note")',
        base=events,
    )
    add, change = line_of(path, "op.add_column"), line_of(path, "op.alter_column")
    observed = _observed(report, path)
    assert list(observed) == [("MP301", change)]  # not cleared as "did not rewrite"
    assert observed["MP301", change].startswith(
        f"ACCESS EXCLUSIVE on public.events (held since line {add}) for "
    )
    assert observed["MP301", change].endswith(", rewrote public.events")


def test_revisions_that_cannot_run_are_listed_as_not_checked(pg: Sandbox, tmp_path: Path) -> None:
    broken = Revision(id="r2", down="r1", header="import not_installed_module", upgrade="pass")
    write_project(tmp_path, [BASE, broken, Revision(id="r3", down="r2", upgrade="pass")])
    report = _lint(pg, tmp_path)
    assert report.findings == []
    assert report.skipped == [
        (
            "revision r2",
            "its file fails to import (ModuleNotFoundError: No module named"
            " 'not_installed_module'); `migproof verify` reports it",
        ),
        ("revision r3", "it builds on a revision that is missing or fails to import"),
    ]


def test_a_chain_with_nothing_runnable_and_a_failing_env_py_is_no_crash(
    pg: Sandbox, tmp_path: Path
) -> None:
    orphan = Revision(id="r2", down="gone", upgrade="pass")
    write_project(tmp_path, [orphan], env='raise RuntimeError("settings missing")')
    report = _lint(pg, tmp_path)
    assert report.findings == []
    assert [what for what, _ in report.skipped] == ["revision r2"]


def test_a_project_that_cannot_be_run_is_listed_as_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow 2 under SQLAlchemy 1.4: lint read the files only and said "no findings" in a
    JSON report with nothing under "skipped"; what it could not run is said there too."""
    write_project(tmp_path, [BASE])
    (tmp_path / "migrations" / "env.py").unlink()
    monkeypatch.chdir(tmp_path)
    main(["lint", "--format", "json", str(tmp_path)])
    captured = capsys.readouterr()
    skipped = json.loads(captured.out)["skipped"]
    assert [s["what"] for s in skipped] == [f"the SQL the revisions of {tmp_path} send"]
    assert skipped[0]["why"].startswith("not run: ")
    assert "linted its files only" in captured.err


def test_a_failing_revision_blocks_only_what_builds_on_it(pg: Sandbox, tmp_path: Path) -> None:
    """r2 fails; r4 builds on it and is not run; r3, on another branch, is still run and
    linted (its index on an existing table is MP201)."""
    fails = Revision(id="r2", down="r1", upgrade='op.execute("ALTER TABLE nowhere ADD x int")')
    after_it = Revision(id="r4", down="r2", upgrade='op.execute("SELECT 1")')
    other_branch = Revision(
        id="r3",
        down="r1",
        upgrade='op.create_index("ix_total", "orders", ["total"])',
        downgrade='op.drop_index("ix_total", table_name="orders")',
    )
    write_project(tmp_path, [BASE, fails, other_branch, after_it])
    report = _lint(pg, tmp_path, {"verify.heads": ["r3", "r4"]})
    assert ("MP010", "r2") in {(f.check, f.revision) for f in report.findings}
    assert "MP201" in _codes(report, "r3")
    assert _codes(report, "r4") == []
    failure = next(f for f in report.findings if f.check == "MP010")
    assert "so it and the revisions that build on it were not linted" in failure.message
    assert report.skipped == [("revision r4", "not run: a revision it builds on fails")]


ENUM_LEFT = Revision(
    id="r1",
    down=None,
    upgrade='op.create_table("u", sa.Column("s", sa.Enum("a", name="u_state")))',
    downgrade='op.drop_table("u")',
)


def _typo(n: int) -> Revision:
    return Revision(
        id=f"r{n}",
        down=f"r{n - 1}",
        upgrade=f'op.execute("CREATE TABLE w{n} (id int)")',
        downgrade=f'op.execute("DROP TABLE w{n}_typo")',
    )


def test_revisions_below_a_failing_or_irreversible_downgrade_are_downgraded_too(
    pg: Sandbox, tmp_path: Path
) -> None:
    """The chain goes down from head; past a downgrade that fails (rucio) or an irreversible
    revision (optuna, zuul), the database is made again up to the revisions below, whose
    downgrades run from there: r1's enum left behind (MP503) is found all the same."""
    for name, above in [
        ("fails", _typo(2)),
        ("irreversible", dataclasses.replace(_typo(2), downgrade="raise NotImplementedError")),
        ("raises", dataclasses.replace(_typo(2), downgrade='raise Exception("no way back")')),
    ]:
        write_project(tmp_path / name, [ENUM_LEFT, above])
        report = _lint(pg, tmp_path / name)
        assert "MP503" in _codes(report, "r1"), name
        assert report.skipped == (
            [
                (
                    "downgrade rules of revision r2",
                    'its downgrade fails (table "w2_typo" does not exist): not linted',
                )
            ]
            if name == "fails"
            else [
                (
                    "downgrade rules of 1 irreversible revision",
                    "not downgraded: their downgrade() can only raise, is missing (or empty, in an "
                    "upgrade-only chain), or "
                    "verify.irreversible or minimum-downgrade-revision names them",
                )
            ]
        )


def test_an_enum_left_behind_is_said_to_break_the_next_upgrade_unless_it_is_looked_up_first(
    pg: Sandbox, tmp_path: Path
) -> None:
    """prefect creates its enums with checkfirst (a pg_type lookup first): the next upgrade
    takes the type left behind and passes. The type still stays: MP503, worded so."""
    for name, create in [
        ("plain", "op.execute(\"CREATE TYPE mood AS ENUM ('a', 'b')\")"),
        (
            "checkfirst",
            'postgresql.ENUM("a", "b", name="mood").create(op.get_bind(), checkfirst=True)',
        ),
    ]:
        write_project(
            tmp_path / name,
            [
                Revision(
                    id="r1",
                    down=None,
                    upgrade=f"from sqlalchemy.dialects import postgresql\n{create}",
                    downgrade='op.execute("SELECT 1")',
                )
            ],
        )
        report = _lint(pg, tmp_path / name)
        (finding,) = (f for f in report.findings if f.check == "MP503")
        assert finding.message.startswith(
            "type public.mood is created here but the downgrade does not drop it: "
        )
        assert finding.message.endswith(
            'the next upgrade fails with type "mood" already exists'
            if name == "plain"
            else "it stays after a downgrade (the upgrade looks for it first, and takes it as it is)"
        )


def test_a_tables_indexes_locked_with_it_are_not_listed_apart(pg: Sandbox, tmp_path: Path) -> None:
    """DROP TABLE locks each of the table's indexes too: the summary names the table. An
    index locked more strongly than its table (REINDEX) is still named."""
    report, _ = _lint_r2(
        pg,
        tmp_path,
        'op.execute("REINDEX INDEX orders_pkey")',
        'op.execute("SELECT 1")',
        then=[
            Revision(
                id="r3",
                down="r2",
                upgrade='op.drop_table("orders")',
                downgrade='op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))',
            )
        ],
    )
    summaries = _summaries(report)
    assert [line.split(" for ")[0] for line in summaries["r3"]] == [
        "blocks reads and writes on public.orders"
    ]
    assert sorted(line.split(" for ")[0] for line in summaries["r2"]) == [
        "blocks reads and writes on public.orders_pkey",
        "blocks writes on public.orders",
    ]


def test_a_lock_timeout_env_py_sets_for_the_session_counts_for_every_revision(
    pg: Sandbox, tmp_path: Path
) -> None:
    """dstack's env.py runs SET lock_timeout = '15s' before the migrations: no revision
    lacks one (121 false MP210). A SET LOCAL there would end with its transaction."""
    for name, setting, found in [
        ("session", "SET lock_timeout = '15s'", False),
        ("local", "SET LOCAL lock_timeout = '15s'", True),
    ]:
        env = ENV_CONFIG_URL.replace(
            "    with connectable.connect() as connection:\n",
            "    with connectable.connect() as connection:\n"
            f'        connection.exec_driver_sql("{setting}")\n'
            "        connection.commit()\n",
        )
        write_project(tmp_path / name, [BASE, INDEX_ON_ORDERS], env=env)
        report = _lint(pg, tmp_path / name)
        assert ("MP210" in _codes(report)) is found, name
        assert "MP201" in _codes(report)


def test_a_set_local_inside_env_pys_transaction_counts_for_every_revision_of_the_run(
    pg: Sandbox, tmp_path: Path
) -> None:
    """langflow's env.py: SET LOCAL lock_timeout inside `with context.begin_transaction():`.
    `alembic upgrade head` runs every revision in that one transaction; migproof commits
    each on its own, but the setting counts for all of them (99 false MP210)."""
    env = ENV_CONFIG_URL.replace(
        "        with context.begin_transaction():\n",
        "        with context.begin_transaction():\n"
        "            connection.exec_driver_sql(\"SET LOCAL lock_timeout = '180s'\")\n",
    )
    second = Revision(
        id="r3", down="r2", upgrade='op.add_column("orders", sa.Column("memo", sa.Text))'
    )
    write_project(tmp_path, [BASE, INDEX_ON_ORDERS, second], env=env)
    report = _lint(pg, tmp_path)
    assert "MP210" not in _codes(report) + _codes(report, "r3")
    assert "MP201" in _codes(report)


def test_revisions_below_many_failing_downgrades_are_said_not_downgraded(
    pg: Sandbox, tmp_path: Path
) -> None:
    """The database is made again a few times at most: below that, the rules that read the
    downgrades had nothing to read, which is said under "not checked", not passed off as
    clean."""
    write_project(tmp_path, [ENUM_LEFT, *(_typo(n) for n in range(2, 6))])
    report = _lint(pg, tmp_path)
    assert "MP503" not in _codes(report, "r1")
    assert report.skipped == [
        *(
            (
                f"downgrade rules of revision r{n}",
                f'its downgrade fails (table "w{n}_typo" does not exist): not linted',
            )
            for n in range(2, 6)
        ),
        (
            "downgrade rules of revision r1",
            "not downgraded: the downgrade of r2, run before, fails, and below it the database"
            " was made again 3 times, the most",
        ),
    ]


@pytest.mark.parametrize(
    ("first", "hinted"),
    [
        ("pass", True),  # jupyterhub's: the schema came from create_all() and stamp head
        ('op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))', False),
    ],
)
def test_an_upgrade_failing_on_a_table_no_revision_made_says_how_to_lint_it(
    pg: Sandbox, tmp_path: Path, first: str, hinted: bool
) -> None:
    second = 'op.add_column("users", sa.Column("name", sa.Text))'
    if not hinted:  # made, then dropped again by the chain itself: its own bug
        second = f'op.drop_table("users")\n{second}'
    write_project(
        tmp_path,
        [Revision(id="r1", down=None, upgrade=first), Revision(id="r2", down="r1", upgrade=second)],
    )
    report = _lint(pg, tmp_path)
    (failed,) = [f for f in report.findings if f.check == "MP010"]
    assert 'relation "users" does not exist' in failed.message
    if hinted:
        assert failed.fix is not None
        assert 'no revision before r2 creates relation "users"' in failed.fix
        assert "--bootstrap-sql FILE" in failed.fix
    else:
        assert failed.fix is None


def test_the_bootstrap_files_tables_are_the_schema_the_rules_see(
    pg: Sandbox, tmp_path: Path
) -> None:
    # mlflow: metrics.value is NOT NULL in the schema the file builds; the revision's
    # SET NOT NULL changes nothing (MP207 was reported), an ADD COLUMN on its table is linted
    write_project(
        tmp_path,
        [
            Revision(id="r1", down=None, upgrade="pass"),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.alter_column("metrics", "value", existing_type=sa.Float(),'
                ' nullable=False)\nop.alter_column("metrics", "step", existing_type=sa.Integer(),'
                " nullable=False)",
            ),
        ],
    )
    bootstrap = tmp_path / "prod.sql"
    bootstrap.write_text(
        "SELECT pg_catalog.set_config('search_path', '', false);\n"
        "CREATE TABLE public.metrics (key text PRIMARY KEY, value float NOT NULL, step int);\n"
        "CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY);\n"
        "COPY public.alembic_version (version_num) FROM stdin;\nr1\n\\.\n"
    )
    report = _lint(pg, tmp_path, {"verify.bootstrap-sql": str(bootstrap)})
    found = [f.message for f in report.findings if f.check == "MP207"]
    assert len(found) == 1
    assert found[0].startswith("SET NOT NULL on public.metrics.step ")


def test_below_a_failing_downgrade_the_bootstrap_files_database_is_made_again(
    pg: Sandbox, tmp_path: Path
) -> None:
    # letta's: 152 downgrades were left unrecorded below the first one that failed
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.add_column("m", sa.Column("step", sa.Integer))',
                downgrade='op.drop_column("m", "step")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.add_column("m", sa.Column("x", sa.Integer))',
                downgrade='op.execute("DROP TABLE nowhere")',
            ),
        ],
    )
    bootstrap = tmp_path / "initial.sql"
    bootstrap.write_text("CREATE TABLE m (id int PRIMARY KEY);\n")
    before = set(pg.created)
    report = _lint(pg, tmp_path, {"verify.bootstrap-sql": str(bootstrap)})
    # r1's downgrade was recorded on a database made again from the file (before, it was
    # "not downgraded: … a database loaded from the bootstrap file is not made again")
    assert report.skipped == [
        (
            "downgrade rules of revision r2",
            'its downgrade fails (table "nowhere" does not exist): not linted',
        )
    ]
    assert set(pg.created) == before  # the template and the clones are dropped


def test_a_table_name_typo_in_a_chain_that_makes_its_tables_gets_no_bootstrap_hint(
    pg: Sandbox, tmp_path: Path
) -> None:
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
            ),
            Revision(id="r2", down="r1", upgrade='op.add_column("user", sa.Column("n", sa.Text))'),
        ],
    )
    report = _lint(pg, tmp_path)
    (failed,) = [f for f in report.findings if f.check == "MP010"]
    assert 'relation "user" does not exist' in failed.message
    assert failed.fix is None


def test_a_bootstrap_file_lints_parser_cannot_read_leaves_the_rules_the_revisions_tables(
    pg: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL loads it (a syntax newer than the parser lint uses): said, and linted on
    from migproof.lint import pgsql

    write_project(
        tmp_path,
        [Revision(id="r1", down=None, upgrade='op.add_column("m", sa.Column("w", sa.Integer))')],
    )
    bootstrap = tmp_path / "initial.sql"
    bootstrap.write_text("CREATE TABLE m (id int PRIMARY KEY);\n")

    def newer(sql: str) -> list[object]:
        raise pgsql.SqlSyntaxError('syntax error at or near "ENFORCED"', 0, 1, 1)

    monkeypatch.setattr(pgsql, "parse_nodes", newer)
    report = _lint(pg, tmp_path, {"verify.bootstrap-sql": str(bootstrap)})
    assert report.skipped == [
        (
            "the schema initial.sql builds, for the rules",
            'line 1: syntax error at or near "ENFORCED": the rules know only the tables the'
            " revisions make",
        )
    ]
    assert "MP210" in _codes(report, "r1")  # the revision was linted all the same


def test_a_dropped_index_shows_the_lock_held_on_its_table(pg: Sandbox, tmp_path: Path) -> None:
    # ironic's 3bea56f25597: ADD CONSTRAINT UNIQUE, then DROP INDEX of the same table
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade='op.execute("CREATE TABLE t (id int PRIMARY KEY, a int)")\n'
                'op.execute("CREATE INDEX ix_t_a ON t (a)")',
                downgrade='op.execute("DROP TABLE t")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade="op.execute(\"SET LOCAL lock_timeout = '2s'\")\n"
                'op.create_unique_constraint("uq_t_a", "t", ["a"])\n'
                'op.drop_index("ix_t_a", "t")',
                downgrade='op.create_index("ix_t_a", "t", ["a"])\n'
                'op.drop_constraint("uq_t_a", "t")',
            ),
        ],
    )
    report = _lint(pg, tmp_path)
    (dropped,) = [f for f in report.findings if f.check == "MP202"]
    observed = dict(dropped.context)["observed in the sandbox"]
    assert observed.startswith("ACCESS EXCLUSIVE on public.t (held since line ")


@pytest.mark.parametrize(
    ("made", "found"),
    [
        # made where lint cannot see it (dynamic SQL): the sandbox saw its table locked
        ("DO $$ BEGIN EXECUTE 'CREATE INDEX ix ON t (a)'; END $$", ["MP202", "MP210"]),
        ("SELECT 1", []),  # not there: IF EXISTS dropped nothing, nobody waited
    ],
)
def test_drop_index_if_exists_of_an_index_lint_did_not_see_made(
    pg: Sandbox, tmp_path: Path, made: str, found: list[str]
) -> None:
    write_project(
        tmp_path,
        [
            Revision(
                id="r1",
                down=None,
                upgrade=f'op.execute("CREATE TABLE t (id int PRIMARY KEY, a int)")\n'
                f'op.execute("""{made}""")',
                downgrade='op.execute("DROP TABLE t")',
            ),
            Revision(
                id="r2",
                down="r1",
                upgrade='op.execute("DROP INDEX IF EXISTS ix")',
                downgrade='op.execute("SELECT 1")',
            ),
        ],
    )
    assert _codes(_lint(pg, tmp_path)) == found


def test_a_revision_whose_own_downgrade_fails_is_said_not_downgraded(
    pg: Sandbox, tmp_path: Path
) -> None:
    """r2r's and zenml's: the downgrade fails, its statements are rolled back with it, and
    its downgrade rules saw nothing; that was said of the revisions below it only."""
    report, _ = _lint_r2(
        pg,
        tmp_path,
        'op.create_index("ix_total", "orders", ["total"])',
        'op.drop_index("ix_totl", table_name="orders")',
    )
    assert (
        "downgrade rules of revision r2",
        'its downgrade fails (index "ix_totl" does not exist): not linted',
    ) in report.skipped
    # a downgrade that runs says nothing of the kind
    report, _ = _lint_r2(
        pg,
        tmp_path,
        'op.create_index("ix_total", "orders", ["total"])',
        'op.drop_index("ix_total", table_name="orders")',
    )
    assert not [what for what, _ in report.skipped if what.startswith("downgrade rules")]
