"""Every lint rule's cases: bad fires exactly its ``-- expect:`` markers, good fires nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.checks import all_checks
from migproof.lint.cases import case_codes, expected_markers, load_case, run_case
from migproof.lint.pgsql import parse_statements

LINT_FAMILIES = ("lint:",)
LINT_CODES = [c.code for c in all_checks() if c.family.startswith(LINT_FAMILIES)]


@pytest.mark.parametrize("code", LINT_CODES)
def test_bad_case_fires_exactly_its_markers(code: str, tmp_path: Path) -> None:
    case = load_case(code)
    assert case is not None, f"{code} has no cases in lint/cases/{code}/"
    path = tmp_path / ("bad.py" if case.python else "bad.sql")
    findings = run_case(case, "bad", path)
    found = sorted((f.check, f.location.line if f.location else 0) for f in findings)
    expected = expected_markers(case.bad)
    assert expected, f"{code}/bad has no -- expect: marker"
    assert {c for c, _ in expected} == {code}, "a bad case fires only its own rule"
    assert found == expected, [f.message for f in findings]
    assert all(f.location is not None and f.location.path == path for f in findings)


@pytest.mark.parametrize("code", LINT_CODES)
def test_good_case_is_clean(code: str, tmp_path: Path) -> None:
    case = load_case(code)
    assert case is not None
    path = tmp_path / ("good.py" if case.python else "good.sql")
    findings = run_case(case, "good", path)
    assert findings == [], [f"{f.check} {f.message}" for f in findings]


@pytest.mark.parametrize("code", LINT_CODES)
def test_cases_parse(code: str) -> None:
    """A broken good case would pass for the wrong reason (squawk's test_utils does this too)."""
    case = load_case(code)
    assert case is not None
    if case.python:
        compile(case.good, f"{code}/good.py", "exec")
        compile(case.bad, f"{code}/bad.py", "exec")
        return
    for text in (case.setup, case.good, case.bad_down, case.good_down):
        if text:
            parse_statements(text)
    if code != "MP901":
        parse_statements(case.bad)


def test_every_case_directory_belongs_to_a_rule() -> None:
    assert set(case_codes()) <= set(LINT_CODES)
