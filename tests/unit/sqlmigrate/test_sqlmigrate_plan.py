"""The plan (disk against applied set) and the findings that block a migrate; no database."""

from __future__ import annotations

from pathlib import Path

from migproof.findings import Location
from migproof.sqlmigrate.apply import prepare_script
from migproof.sqlmigrate.diagnostics import check_findings, plan_findings
from migproof.sqlmigrate.layout import Migration
from migproof.sqlmigrate.plan import make_plan
from migproof.sqlmigrate.tracker import AppliedRow, flyway_checksum


def mig(version: str | None, name: str, sql: str = "SELECT 1;", **kw: object) -> Migration:
    fname = f"{version}_{name}.up.sql" if version is not None else f"R__{name}.sql"
    return Migration(
        version=version,
        name=name,
        path=Path("db") / fname,
        up_sql=sql,
        down_sql=None,
        checksum=f"sum-{version}-{name}-{sql}",
        repeatable=version is None,
        **kw,  # type: ignore[arg-type]
    )


def row(m: Migration, *, checksum: str | None = "same", name: str | None = None) -> AppliedRow:
    return AppliedRow(
        key=m.key,
        name=m.name if name is None else name,
        checksum=m.checksum if checksum == "same" else checksum,
    )


def test_a_lower_version_merged_late_is_pending_and_out_of_order() -> None:
    m1, m2, m3 = mig("101", "a"), mig("102", "late"), mig("103", "c")
    plan = make_plan([m1, m2, m3], {r.key: r for r in (row(m1), row(m3))})
    assert plan.pending == [m2] and plan.out_of_order == [m2]
    assert list(plan_findings(plan, "public.t", strict_order=False)) == []
    assert [(f.check, f.revision) for f in check_findings(plan, "public.t")] == [("MP808", "102")]
    [strict] = plan_findings(plan, "public.t", strict_order=True)
    assert (strict.check, strict.location) == ("MP805", Location(path=m2.path, line=1))


def test_rename_drift_and_duplicates_block() -> None:
    m1, m2 = mig("1", "a"), mig("2", "b")
    dup_a, dup_b = mig("3", "x"), mig("3", "y")
    applied = {
        "1": row(m1, name="old_name"),
        "2": row(m2, checksum="other"),
        "3": row(dup_a),
    }
    plan = make_plan([m1, m2, dup_a, dup_b], applied)
    found = sorted((f.check, str(f.location)) for f in plan_findings(plan, "t", strict_order=False))
    assert found == [
        ("MP801", "db/3_y.up.sql:1"),
        ("MP802", "db/1_a.up.sql:1"),
        ("MP803", "db/2_b.up.sql:1"),
    ]
    assert plan.pending == [] and plan.missing == []


def test_bootstrapped_rows_without_checksum_are_accepted_and_listed_to_fill() -> None:
    m1 = mig("1", "a")
    plan = make_plan([m1], {"1": row(m1, checksum=None)})
    assert plan.unfilled == [m1]
    assert list(check_findings(plan, "public.t")) == []


def test_repeatable_rerun_only_when_its_checksum_changed() -> None:
    views = mig(None, "views", "CREATE VIEW v AS SELECT 1;")
    assert make_plan([views], {"R__views": row(views)}).pending == []
    assert make_plan([views], {"R__views": row(views, checksum="old")}).pending == [views]


def test_status_check_findings_for_pending_and_missing() -> None:
    m1, m2 = mig("1", "a"), mig("2", "b")
    gone = AppliedRow(key="7", name="gone", checksum="x")
    plan = make_plan([m1, m2], {"1": row(m1), "7": gone})
    found = [(f.check, f.revision) for f in check_findings(plan, "public.t")]
    assert found == [("MP808", "2"), ("MP807", "7")]
    in_sync = make_plan([m1], {"1": row(m1)})
    assert list(check_findings(in_sync, "public.t")) == []


def test_script_steps_carry_file_lines_and_drop_a_begin_commit_wrapper() -> None:
    m = mig("1", "a", "BEGIN;\nCREATE TABLE a ();\n\nCREATE TABLE b ();\nCOMMIT;\n", up_line=3)
    script = prepare_script(m)
    assert script.transactional
    assert [(s.text, s.line) for s in script.steps] == [
        ("CREATE TABLE a ()", 4),
        ("CREATE TABLE b ()", 6),
    ]
    inner = prepare_script(mig("2", "b", "CREATE TABLE a ();\nCOMMIT;\nVACUUM a;\n"))
    assert not inner.transactional  # the file manages its own transactions


def test_flyway_checksum_ignores_line_break_style() -> None:
    assert flyway_checksum("a\nb\n") == flyway_checksum("a\r\nb") == flyway_checksum("\ufeffa\rb")
    assert flyway_checksum("a\nb\n") != flyway_checksum("a\nc\n")
    assert -(2**31) <= flyway_checksum("CREATE TABLE t ();") < 2**31


def test_a_duplicate_names_the_file_the_database_did_not_run() -> None:
    ran_second, other = mig("3", "y"), mig("3", "x")
    plan = make_plan([other, ran_second], {"3": row(ran_second)})
    [finding] = plan_findings(plan, "t", strict_order=False)
    assert (finding.check, str(finding.location)) == ("MP801", "db/3_x.up.sql:1")
    assert (
        finding.message == "3_x.up.sql and 3_y.up.sql share version 3 (the database ran 3_y.up.sql)"
    )
