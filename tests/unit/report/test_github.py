"""``--format github``: workflow commands on the offending file and line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from migproof.findings import Finding, Location, Report, Severity
from migproof.report import github


def _lines(*findings: Finding) -> list[str]:
    out = io.StringIO()
    github.render(Report(command="lint", findings=list(findings)), out)
    return out.getvalue().splitlines()


def test_severity_maps_to_the_command() -> None:
    where = Location(path=Path("m/1.sql"), line=2, column=3)
    assert _lines(
        Finding(check="MP201", severity=Severity.ERROR, message="e", location=where),
        Finding(check="MP202", severity=Severity.WARNING, message="w", location=where),
        Finding(check="MP008", severity=Severity.INFO, message="i", location=where),
    ) == [
        "::error file=m/1.sql,line=2,col=3,title=MP201::e",
        "::warning file=m/1.sql,line=2,col=3,title=MP202::w",
        "::notice file=m/1.sql,line=2,col=3,title=MP008::i",
    ]


def test_multi_line_spans_get_end_line_and_no_column() -> None:
    where = Location(path=Path("m/1.sql"), line=2, column=3, end_line=5, end_column=1)
    assert _lines(Finding(check="MP201", severity=Severity.ERROR, message="e", location=where)) == [
        "::error file=m/1.sql,line=2,endLine=5,title=MP201::e"
    ]


def test_escapes_fix_revision_and_no_location() -> None:
    finding = Finding(
        check="MP012",
        severity=Severity.ERROR,
        message="100% of rows\nlost",
        fix="restore it",
        revision="0003",
        location=Location(path=Path("a,b:c.py")),
    )
    bare = Finding(check="MP015", severity=Severity.ERROR, message="chain differs")
    assert _lines(finding, bare) == [
        "::error title=MP015::chain differs",
        "::error file=a%2Cb%3Ac.py,title=MP012::[0003] 100%25 of rows%0Alost%0Afix: restore it",
    ]


def test_real_report(
    broken_report: Report, monkeypatch: pytest.MonkeyPatch, broken_dir: Path
) -> None:
    monkeypatch.chdir(broken_dir)
    out = io.StringIO()
    github.render(broken_report, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 9  # a finding each, and what was not checked, one notice
    assert lines[0] == (
        "::error file=migrations/versions/0002_downgrade_typo.py,line=18,title=MP011::"
        '[0002] downgrade fails: syntax error at or near "plan"'
    )
    assert lines[-1].startswith(
        "::notice title=migproof verify%3A not checked::downgrade to base and upgrade to head:"
    )
    assert "%0Acomparisons with head: head was not reached" in lines[-1]


@pytest.mark.parametrize(
    ("command", "given", "shown"),
    [
        ("lint", "shop/1.sql", "backend/shop/1.sql"),  # relative to the working directory
        ("verify", "../db/2.sql", "db/2.sql"),
        ("guard", "backend/shop/models.py", "backend/shop/models.py"),  # as git diff names it
    ],
)
def test_paths_are_relative_to_the_repository_from_a_subdirectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, given: str, shown: str
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "backend").mkdir()
    monkeypatch.chdir(tmp_path / "backend")
    finding = Finding(
        check="MP201", severity=Severity.ERROR, message="e", location=Location(path=Path(given))
    )
    out = io.StringIO()
    github.render(Report(command=command, findings=[finding]), out)
    assert out.getvalue() == f"::error file={shown},title=MP201::e\n"


def test_a_file_outside_the_repository_keeps_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo")
    outside = (tmp_path / "elsewhere" / "1.sql").resolve()
    assert _lines(
        Finding(
            check="MP201", severity=Severity.ERROR, message="e", location=Location(path=outside)
        )
    ) == [f"::error file={outside.as_posix()},title=MP201::e"]
