"""``--format junit``: one test case per check per revision (verify) or per file (lint, guard).

Verify reports become, in this order: one case per graph check (``graph`` /
``multiple-heads``, …), per revision an ``upgrade`` and a ``roundtrip`` case, the chain's
``repeatable`` case, then one case per further check that found something. The pytest plugin
collects the same cases as test items (``migproof::<group>::<name>``), so the two JUnit files
CI sees agree. Other reports get one case per (file, check) with findings, and one passing case
per file the command read without finding anything.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from migproof import __version__
from migproof.checks import all_checks, find_check
from migproof.findings import Finding, Report, Severity, display_path

__all__ = [
    "Case",
    "describe_finding",
    "graph_check_names",
    "render",
    "report_cases",
    "verify_cases",
]

# The phase of a revision each round-trip check belongs to.
_PHASES = {
    "MP010": "upgrade",
    "MP011": "roundtrip",
    "MP012": "roundtrip",
    "MP013": "roundtrip",
    "MP014": "roundtrip",
}
_CHAIN = {"MP015": "repeatable"}
GRAPH_GROUP = "graph"
CHAIN_GROUP = "chain"
CHECKS_GROUP = "checks"


@dataclass(frozen=True, slots=True)
class Case:
    """One test case: a check (or a phase of a revision) and what it found."""

    group: str  # "graph", a revision id, "chain", "checks", or a file path
    name: str  # "upgrade", "roundtrip", a check's name, "MP201 index-without-concurrently"
    findings: tuple[Finding, ...] = ()
    skipped: str | None = None  # why it did not run
    seconds: float = 0.0

    @property
    def is_failed(self) -> bool:
        return any(f.severity is not Severity.INFO for f in self.findings)

    @property
    def node_id(self) -> str:
        return f"migproof::{self.group}::{self.name}"

    def failure_message(self) -> str:
        failing = [f for f in self.findings if f.severity is not Severity.INFO]
        first = failing[0]
        more = f" (and {len(failing) - 1} more)" if len(failing) > 1 else ""
        return f"{first.check} {first.message}{more}"


def describe_finding(finding: Finding) -> str:
    """A finding as plain text: where, code and message, then its titled blocks and the fix."""
    where = f"{finding.location}: " if finding.location else ""
    revision = f"[{finding.revision}] " if finding.revision else ""
    lines = [f"{where}{finding.check} {revision}{finding.message}"]
    if finding.statement:
        lines += ["", "statement:", _indent(finding.statement.strip())]
    for title, body in finding.context:
        lines += ["", f"{title}:", _indent(body.rstrip())]
    if finding.fix:
        lines += ["", f"fix: {finding.fix}"]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())


def graph_check_names() -> list[tuple[str, str]]:
    """(code, name) of the checks on the revision graph: MP001 to MP009."""
    return [
        (info.code, info.name)
        for info in all_checks()
        if info.family == "verify" and info.code < "MP010"
    ]


def _check_name(code: str) -> str:
    info = find_check(code)
    return info.name if info is not None else code


def verify_cases(report: Report, revisions: Sequence[str] | None = None) -> list[Case]:
    """The test cases of a verify report; ``revisions`` defaults to the report's records."""
    records = {str(r.get("revision")): r for r in report.records}
    order = list(revisions) if revisions is not None else list(records)
    placed: dict[tuple[str, str], list[Finding]] = {}
    extras: dict[tuple[str, str], list[Finding]] = {}
    graph_names = dict(graph_check_names())
    known_revisions = set(order)
    for finding in report.sorted_findings():
        key = _verify_key(finding, graph_names, known_revisions)
        if key is None:
            group = finding.revision if finding.revision in known_revisions else CHECKS_GROUP
            extras.setdefault((str(group), _check_name(finding.check)), []).append(finding)
        else:
            placed.setdefault(key, []).append(finding)
    cases = [
        Case(GRAPH_GROUP, name, tuple(placed.get((GRAPH_GROUP, name), ())))
        for name in graph_names.values()
    ]
    for revision in order:
        record = records.get(revision, {})
        for phase in ("upgrade", "roundtrip"):
            cases.append(_phase_case(revision, phase, record, placed.get((revision, phase), [])))
    chain = tuple(placed.get((CHAIN_GROUP, "repeatable"), ()))
    skipped = _chain_skipped(report) if not chain else None
    cases.append(Case(CHAIN_GROUP, "repeatable", chain, skipped=skipped))
    cases.extend(Case(group, name, tuple(found)) for (group, name), found in extras.items())
    return cases


def _verify_key(
    finding: Finding, graph_names: dict[str, str], revisions: set[str]
) -> tuple[str, str] | None:
    if finding.check in graph_names:
        return (GRAPH_GROUP, graph_names[finding.check])
    if finding.check in _CHAIN:
        return (CHAIN_GROUP, _CHAIN[finding.check])
    phase = _PHASES.get(finding.check)
    if phase is not None and finding.revision in revisions:
        return (str(finding.revision), phase)
    return None


def _phase_case(
    revision: str, phase: str, record: dict[str, object], findings: list[Finding]
) -> Case:
    status = str(record.get(phase, "not run"))
    millis = record.get("upgrade_ms" if phase == "upgrade" else "downgrade_ms", 0.0)
    seconds = float(millis) / 1000 if isinstance(millis, int | float) else 0.0
    if findings:
        return Case(revision, phase, tuple(findings), seconds=seconds)
    if status == "failed":  # a failure whose finding sits elsewhere (e.g. a graph check)
        failure = Finding(
            check=phase, severity=Severity.ERROR, message=f"{phase} failed", revision=revision
        )
        return Case(revision, phase, (failure,), seconds=seconds)
    if status in ("skipped", "not run", "bootstrap"):
        return Case(revision, phase, skipped=_why_not_run(revision, phase, status, record))
    return Case(revision, phase, seconds=seconds)


def _why_not_run(revision: str, phase: str, status: str, record: dict[str, object]) -> str:
    if record.get("upgrade") == "bootstrap":
        return f"{revision} came with the bootstrap file (stamped there): not run"
    if status == "skipped":
        return f"{revision} is irreversible: its round trip is skipped"
    if not record:
        return f"{revision} was not run: its file or one it builds on is broken"
    if phase == "roundtrip" and record.get("upgrade") == "failed":
        return f"{revision}'s upgrade failed"
    return f"{revision} was not run: an earlier revision failed"


def _chain_skipped(report: Report) -> str | None:
    for what, why in report.skipped:
        if "base" in what and "head" in what:
            return f"{what}: {why}"
    return None


def report_cases(report: Report) -> list[Case]:
    """The test cases of any report: verify's shape for verify, per file otherwise."""
    if report.command == "verify":
        return verify_cases(report)
    return _file_cases(report)


def _file_cases(report: Report) -> list[Case]:
    groups: dict[str, dict[str, list[Finding]]] = {}
    for record in report.records:
        path = record.get("file") or record.get("path")
        if isinstance(path, str) and path:
            groups.setdefault(display_path(Path(path)), {})
    for finding in report.sorted_findings():
        group = display_path(finding.location.path) if finding.location else report.command
        name = f"{finding.check} {_check_name(finding.check)}"
        groups.setdefault(group, {}).setdefault(name, []).append(finding)
    cases: list[Case] = []
    for group, by_check in groups.items():
        if not by_check:
            cases.append(Case(group, report.command))
        cases.extend(Case(group, name, tuple(found)) for name, found in by_check.items())
    if not cases:
        cases.append(Case(report.command, report.command))
    return cases


def render(report: Report, out: TextIO) -> None:
    """Write the report as a JUnit XML document (the schema Jenkins and pytest use)."""
    cases = report_cases(report)
    root = ET.Element("testsuites", name="migproof")
    suite = ET.SubElement(root, "testsuite", name=f"migproof {report.command}")
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="migproof.version", value=__version__)
    for case in cases:
        _case_element(suite, case)
    counts = _counts(cases)
    for element in (root, suite):
        element.set("tests", str(counts["tests"]))
        element.set("failures", str(counts["failures"]))
        element.set("errors", "0")
        element.set("time", _seconds(sum(c.seconds for c in cases)))
    suite.set("skipped", str(counts["skipped"]))
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def _case_element(suite: ET.Element, case: Case) -> None:
    element = ET.SubElement(
        suite,
        "testcase",
        classname=f"migproof.{case.group}",
        name=case.name,
        time=_seconds(case.seconds),
    )
    if case.is_failed:
        failing = [f for f in case.findings if f.severity is not Severity.INFO]
        failure = ET.SubElement(
            element,
            "failure",
            type=failing[0].check,
            message=_xml_safe(case.failure_message()),
        )
        failure.text = _xml_safe("\n\n".join(describe_finding(f) for f in failing))
    elif case.skipped is not None:
        ET.SubElement(element, "skipped", message=_xml_safe(case.skipped))
    notes = [f for f in case.findings if f.severity is Severity.INFO]
    if notes:
        ET.SubElement(element, "system-out").text = _xml_safe(_join(notes))


def _join(findings: Iterable[Finding]) -> str:
    return "\n\n".join(describe_finding(f) for f in findings)


def _counts(cases: Sequence[Case]) -> dict[str, int]:
    failures = sum(1 for c in cases if c.is_failed)
    skipped = sum(1 for c in cases if not c.is_failed and c.skipped is not None)
    return {"tests": len(cases), "failures": failures, "skipped": skipped}


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _xml_safe(text: str) -> str:
    """Drop the control characters XML 1.0 cannot carry (PostgreSQL errors may quote any byte)."""
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or (" " <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ch >= "\U00010000"
    )
