"""``--format junit``: one case per check per revision, valid against Jenkins' JUnit XSD."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.unit.report.conftest import SCHEMAS

from migproof.findings import Finding, Location, Report, Severity
from migproof.report import junit

GRAPH = [
    "revision-file-broken",
    "multiple-heads",
    "missing-down-revision",
    "revision-cycle",
    "revision-id-too-long",
    "downgrade-missing",
    "duplicate-revision-id",
    "irreversible-revision",
]


def _xml(report: Report) -> str:
    out = io.StringIO()
    junit.render(report, out)
    return out.getvalue()


try:
    from lxml import etree
except ImportError:  # in the test extra; without it only the XSD checks are left out
    etree = None


def _validate(document: str) -> None:
    if etree is None:
        return
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "junit-10.xsd")))
    schema.assertValid(etree.fromstring(document.encode()))


def test_the_xsd_check_runs() -> None:
    if etree is None:
        pytest.skip("lxml (the test extra) validates against the JUnit XSD")
    with pytest.raises(etree.DocumentInvalid):
        _validate('<testsuites><testsuite name="x"/></testsuites>')


def _outcomes(document: str) -> list[tuple[str, str, str]]:
    rows = []
    for case in ET.fromstring(document).iter("testcase"):
        outcome = "passed"
        if case.find("failure") is not None:
            outcome = "failed:" + str(case.find("failure").get("type"))  # type: ignore[union-attr]
        elif case.find("skipped") is not None:
            outcome = "skipped"
        rows.append((str(case.get("classname")), str(case.get("name")), outcome))
    return rows


def test_broken_example_one_case_per_check_per_revision(broken_report: Report) -> None:
    document = _xml(broken_report)
    _validate(document)
    long_id = "0006_add_billing_contact_to_accounts_table"
    expected = [
        ("migproof.graph", name, "failed:MP005" if name == "revision-id-too-long" else "passed")
        for name in GRAPH
    ] + [
        ("migproof.0001", "upgrade", "passed"),
        ("migproof.0001", "roundtrip", "passed"),
        ("migproof.0002", "upgrade", "passed"),
        ("migproof.0002", "roundtrip", "failed:MP011"),
        ("migproof.0003", "upgrade", "passed"),
        ("migproof.0003", "roundtrip", "failed:MP013"),
        ("migproof.0004", "upgrade", "passed"),
        ("migproof.0004", "roundtrip", "failed:MP013"),
        ("migproof.0005", "upgrade", "passed"),
        ("migproof.0005", "roundtrip", "failed:MP012"),
        (f"migproof.{long_id}", "upgrade", "failed:MP010"),
        (f"migproof.{long_id}", "roundtrip", "skipped"),
        ("migproof.chain", "repeatable", "skipped"),
    ]
    assert _outcomes(document) == expected
    suite = ET.fromstring(document).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("21", "6", "2")


def test_failures_carry_every_finding_with_its_statement(broken_report: Report) -> None:
    root = ET.fromstring(_xml(broken_report))
    case = next(
        c
        for c in root.iter("testcase")
        if c.get("classname") == "migproof.0003" and c.get("name") == "roundtrip"
    )
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        'MP013 upgrade fails after its downgrade: type "account_status" already exists (and 1 more)'
    )
    text = str(failure.text)
    assert "statement:\n    CREATE TYPE account_status AS ENUM ('active', 'suspended')" in text
    assert "MP012 [0003] downgrade of 0003 does not restore the schema before it" in text
    skipped = next(c for c in root.iter("testcase") if c.get("name") == "repeatable")
    assert skipped.find("skipped").get("message") == (  # type: ignore[union-attr]
        "downgrade to base and upgrade to head: earlier revisions failed"
    )


def test_clean_example_all_cases_pass(shop_report: Report) -> None:
    document = _xml(shop_report)
    _validate(document)
    outcomes = _outcomes(document)
    assert len(outcomes) == len(GRAPH) + 2 * 5 + 1
    assert {outcome for _, _, outcome in outcomes} == {"passed"}
    assert outcomes[len(GRAPH)] == ("migproof.3f1c2a9b7d10", "upgrade", "passed")


def test_context_blocks_are_titled_and_info_goes_to_system_out() -> None:
    diff = Finding(
        check="MP012",
        severity=Severity.ERROR,
        message="downgrade of 0003 leaves enum public.status behind",
        revision="0003",
        context=(("diff", "--- before 0003\n+++ after downgrade\n+enum public.status"),),
    )
    note = Finding(check="MP008", severity=Severity.INFO, message="0003 is irreversible")
    report = Report(
        command="verify",
        findings=[diff, note],
        records=[{"revision": "0003", "upgrade": "ok", "roundtrip": "failed", "upgrade_ms": 1.5}],
    )
    document = _xml(report)
    _validate(document)
    root = ET.fromstring(document)
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    failure = cases[("migproof.0003", "roundtrip")].find("failure")
    assert failure is not None
    assert failure.text == (
        "MP012 [0003] downgrade of 0003 leaves enum public.status behind\n\n"
        "diff:\n    --- before 0003\n    +++ after downgrade\n    +enum public.status"
    )
    irreversible = cases[("migproof.graph", "irreversible-revision")]
    assert irreversible.find("failure") is None
    assert irreversible.findtext("system-out") == "MP008 0003 is irreversible"
    assert cases[("migproof.0003", "upgrade")].get("time") == "0.002"


def test_lint_report_one_case_per_file_and_check(lint_report: Report, broken_dir: Path) -> None:
    document = _xml(lint_report)
    _validate(document)
    rows = _outcomes(document)
    assert len(rows) == 6  # six revision files
    failed = [r for r in rows if r[2] != "passed"]
    assert len(failed) == 1
    classname, name, outcome = failed[0]
    assert classname.endswith("0006_add_billing_contact_to_accounts_table.py")
    assert (name, outcome) == ("MP509 revision-id-exceeds-version-num", "failed:MP509")
    assert {r[1] for r in rows if r[2] == "passed"} == {"lint"}


def test_findings_without_a_file_and_control_characters() -> None:
    finding = Finding(
        check="MP702",
        severity=Severity.ERROR,
        message="bad byte \x00\x1b here",
        location=None,
    )
    located = Finding(
        check="MP701",
        severity=Severity.WARNING,
        message="models changed",
        location=Location(path=Path("app/models.py"), line=3),
    )
    document = _xml(Report(command="guard", findings=[finding, located]))
    _validate(document)
    assert _outcomes(document) == [
        ("migproof.guard", _name("MP702"), "failed:MP702"),
        ("migproof.app/models.py", _name("MP701"), "failed:MP701"),
    ]
    assert "bad byte  here" in document


def test_an_empty_report_is_one_passing_case() -> None:
    document = _xml(Report(command="guard"))
    _validate(document)
    assert _outcomes(document) == [("migproof.guard", "guard", "passed")]


def _name(code: str) -> str:
    from migproof.checks import find_check

    info = find_check(code)
    assert info is not None
    return f"{code} {info.name}"
