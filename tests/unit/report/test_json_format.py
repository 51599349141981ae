"""``--format json`` follows the documented schema, docs/json-schema.json."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO

from migproof.findings import Finding, Location, Report, Severity
from migproof.report import json_format

jsonschema = pytest.importorskip("jsonschema", reason="the test extra's jsonschema validates")

SCHEMA = json.loads((REPO / "docs" / "json-schema.json").read_text(encoding="utf-8"))


def _document(report: Report) -> Any:
    out = io.StringIO()
    json_format.render(report, out)
    return json.loads(out.getvalue())


def _errors(document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schema_version"]["const"] == json_format.SCHEMA_VERSION


def test_a_verify_report_with_findings_validates(broken_report: Report) -> None:
    document = _document(broken_report)
    assert _errors(document) == []
    assert document["summary"] == {"error": 8, "warning": 0, "info": 0}
    assert [r["revision"] for r in document["records"]][:2] == ["0001", "0002"]


def test_a_clean_verify_report_validates(shop_report: Report) -> None:
    document = _document(shop_report)
    assert _errors(document) == []
    assert document["findings"] == []
    assert {r["roundtrip"] for r in document["records"]} == {"ok"}


def test_a_lint_report_validates(lint_report: Report) -> None:
    document = _document(lint_report)
    assert _errors(document) == []
    assert [f["check"] for f in document["findings"]] == ["MP509"]


def test_every_field_of_a_finding_is_in_the_schema() -> None:
    finding = Finding(
        check="MP012",
        severity=Severity.WARNING,
        message="downgrade leaves enum public.status behind",
        fix="drop the type in downgrade()",
        location=Location(path=Path("v/0003.py"), line=4, column=2, end_line=5, end_column=9),
        revision="0003",
        statement="DROP TABLE t",
        context=(("diff", "- enum public.status"),),
    )
    document = _document(Report(command="verify", findings=[finding]))
    assert _errors(document) == []
    assert set(document["findings"][0]) == set(SCHEMA["$defs"]["finding"]["required"])
    assert set(document) == set(SCHEMA["required"])


def test_the_schema_rejects_what_it_does_not_describe() -> None:
    document = _document(Report(command="lint"))
    document["findings"] = [{"check": "X1", "severity": "fatal"}]
    assert _errors(document) != []


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from migproof.cli import main

    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_usage_error_still_writes_a_document_that_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    code, out, err = _run(["verify", str(missing), "--format", "json"], capsys)
    assert code == 2
    document = json.loads(out)
    assert _errors(document) == []
    assert document["error"] == {
        "message": f"{missing}: no such directory",
        "fix": "pass the directory of your Alembic project",
        "exit_code": 2,
    }
    assert (document["command"], document["findings"]) == ("verify", [])
    assert "no such directory" in err  # and the terminal is told as before


def test_the_error_document_goes_to_the_json_output_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    args = ["lint", str(tmp_path / "nowhere.sql"), "--format", "json", "--output", str(report)]
    code, out, _ = _run(args, capsys)
    assert (code, out) == (2, "")
    document = json.loads(report.read_text())
    assert document["command"] == "lint"
    assert document["error"]["exit_code"] == 2
    assert "does not exist" in document["error"]["message"]


def test_no_document_for_a_text_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["verify", str(tmp_path / "nowhere")], capsys)
    assert (code, out) == (2, "")
    assert "no such directory" in err


def test_an_internal_error_writes_exit_code_3_with_passwords_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom at postgresql://app:secret@db/app")

    monkeypatch.setattr("migproof.lint.lint_paths", broken)
    (tmp_path / "0001.sql").write_text("SELECT 1;\n")
    monkeypatch.delenv("MIGPROOF_DEBUG", raising=False)
    code, out, _ = _run(["lint", str(tmp_path / "0001.sql"), "--format", "json"], capsys)
    assert code == 3
    error = json.loads(out)["error"]
    assert error["exit_code"] == 3
    assert error["message"] == "internal error: RuntimeError: boom at postgresql://app:***@db/app"


def _found_at(path: Path, line: int) -> Finding:
    return Finding(
        check="MP201", severity=Severity.ERROR, message="m", location=Location(path=path, line=line)
    )


def test_paths_inside_the_working_directory_are_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lint named its files absolute and verify relative: one convention, as the terminal."""
    monkeypatch.chdir(tmp_path)
    inside, outside = tmp_path / "migrations" / "r1.py", Path("/elsewhere/r2.py")
    report = Report(command="lint")
    report.findings = [_found_at(inside, 3), _found_at(outside, 4)]
    report.records = [
        {"file": str(inside), "kind": "revision"},
        {"file": "rel.sql", "kind": "sql"},
        {"revision": "r1", "statements": [{"path": str(inside), "sql": "SELECT 1"}]},
    ]
    document = _document(report)
    assert [f["path"] for f in document["findings"]] == ["/elsewhere/r2.py", "migrations/r1.py"]
    assert [r.get("file") for r in document["records"]] == ["migrations/r1.py", "rel.sql", None]
    assert document["records"][2]["statements"][0]["path"] == "migrations/r1.py"


def test_guard_paths_stay_as_git_names_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = Report(command="guard")
    report.findings = [_found_at(tmp_path / "app" / "models.py", 1)]
    assert _document(report)["findings"][0]["path"] == str(tmp_path / "app" / "models.py")
