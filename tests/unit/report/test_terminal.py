"""The text report: findings, then what was not checked and why, then the summary."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from migproof.findings import Finding, Report, Severity
from migproof.report.terminal import render


def _text(report: Report) -> list[str]:
    out = StringIO()
    render(report, Console(file=out, no_color=True, width=200, highlight=False))
    return out.getvalue().splitlines()


def test_what_was_not_checked_is_listed_before_the_summary() -> None:
    report = Report(
        "verify",
        findings=[Finding(check="MP012", severity=Severity.ERROR, message="index left behind")],
        skipped=[("downgrade to base and upgrade to head", "the chain has irreversible revisions")],
    )
    assert _text(report) == [
        "MP012 index left behind",
        "not checked:",
        "    downgrade to base and upgrade to head: the chain has irreversible revisions",
        "verify: 1 error",
    ]


def test_a_clean_report_without_skips_is_one_line() -> None:
    assert _text(Report("verify")) == ["verify: no findings"]
    skipped = Report("verify", skipped=[("revision r2", "an earlier revision failed")])
    assert _text(skipped) == [
        "not checked:",
        "    revision r2: an earlier revision failed",
        "verify: no findings",
    ]


def test_consecutive_revisions_skipped_for_one_reason_are_one_line() -> None:
    skipped = [(f"revision r{n}", "an earlier revision failed") for n in range(2, 41)]
    skipped += [("revision x1", "env.py failed"), ("comparisons with head", "head was not reached")]
    assert _text(Report("verify", skipped=skipped)) == [
        "not checked:",
        "    revisions r2 … r40 (39): an earlier revision failed",
        "    revision x1: env.py failed",
        "    comparisons with head: head was not reached",
        "verify: no findings",
    ]


def test_entries_about_a_part_of_a_revision_are_not_grouped() -> None:
    why = "sent nothing in the sandbox"
    skipped = [(f"revision r{n}: op.create_index at line 9", why) for n in range(1, 4)]
    assert _text(Report("lint", skipped=skipped)) == [
        "not checked:",
        *(f"    revision r{n}: op.create_index at line 9: {why}" for n in range(1, 4)),
        "lint: no findings",
    ]


def test_the_revision_table_fits_eighty_columns_with_every_status_whole() -> None:
    from migproof.report.verify_table import render_verify_table

    report = Report(command="verify")
    report.records = [
        {
            "revision": rid,
            "message": "add metric step, and a message longer than the column",
            "upgrade": upgrade,
            "roundtrip": "not run",
            "upgrade_ms": 1234.0,
            "downgrade_ms": 0.0,
        }
        for rid, upgrade in (("451aebb31d03", "bootstrap"), ("0006_add_billing_contact", "ok"))
    ]
    for width in (80, 120):
        out = StringIO()
        render_verify_table(report, Console(file=out, width=width, color_system=None))
        lines = out.getvalue().splitlines()
        assert max(len(line) for line in lines) <= width
        assert "│ bootstrap │ not run    │ 1234 ms" in lines[2]
        assert "add metric step" in lines[2]


def test_many_upgrades_that_caught_their_errors_are_shortened() -> None:
    caught = [
        (
            f"2 statements of the upgrade of r{n}",
            f"failed, and the revision caught the error (e{n})",
        )
        for n in range(1, 9)
    ]
    lines = _text(Report("verify", skipped=[*caught, ("comparisons with head", "not reached")]))
    assert lines == [
        "not checked:",
        "    2 statements of the upgrade of r1: failed, and the revision caught the error (e1)",
        "    2 statements of the upgrade of r2: failed, and the revision caught the error (e2)",
        "    2 statements of the upgrade of r3: failed, and the revision caught the error (e3)",
        "    statements of 5 more upgrades: failed, and the revisions caught the errors: what they"
        " would have done was not checked (the JSON report names each)",
        "    comparisons with head: not reached",
        "verify: no findings",
    ]
    few = _text(Report("verify", skipped=caught[:5]))
    assert len(few) == 7  # five are shown whole


def test_the_lines_of_a_message_after_its_first_are_indented() -> None:
    from migproof.findings import Finding, Severity

    message = (
        "downgrade fails: cannot drop table t because other objects depend on it\n"
        "DETAIL:  constraint u_t_fkey on table u depends on table t"
    )
    finding = Finding(check="MP011", severity=Severity.ERROR, message=message)
    report = Report("verify", findings=[finding])
    assert _text(report)[:2] == [
        "MP011 downgrade fails: cannot drop table t because other objects depend on it",
        "    DETAIL:  constraint u_t_fkey on table u depends on table t",
    ]
