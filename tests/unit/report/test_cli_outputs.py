"""``--format``/``--output`` pairs and ``--html`` on a command, through the command line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from migproof.cli import main

BAD = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations/1_bad.sql").write_text(BAD)
    return tmp_path


def test_several_reports_in_one_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["lint", "migrations", "--format", "sarif", "--output", "a.sarif"]
    argv += ["--format", "text", "--format", "junit", "-o", "a.xml", "--html", "r.html"]
    # each --output belongs to the --format before it; text goes to standard output
    assert main(argv) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("migrations/1_bad.sql:1:1: MP201 CREATE INDEX")
    assert out[-1] == "lint: 1 error, 1 warning"
    sarif = json.loads((project / "a.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["MP201", "MP210"]
    suite = ET.parse(project / "a.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "2"
    assert "MP201" in (project / "r.html").read_text()


def test_a_file_format_and_standard_output(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", "migrations", "--format", "json", "--format", "github", "-o", "a.gh"]) == 1
    assert json.loads(capsys.readouterr().out)["summary"]["error"] == 1
    assert (project / "a.gh").read_text().startswith("::error file=migrations/1_bad.sql,line=1")


def test_one_format_to_several_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "migrations", "--format", "json", "-o", "a.json", "-o", "b.json"]) == 1
    assert capsys.readouterr().out == ""
    assert (project / "a.json").read_text() == (project / "b.json").read_text()


def test_html_alone_keeps_text_on_standard_output(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", "migrations", "--html", "r.html"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "lint: 1 error, 1 warning"
    assert (project / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_an_output_before_its_format_and_pairs_by_position(project: Path) -> None:
    from migproof.cli._options import _pair_outputs

    assert main(["lint", "migrations", "-o", "a.json", "--format", "json"]) == 1
    assert json.loads((project / "a.json").read_text())["command"] == "lint"
    # without the order click parsed them in, the n-th --output goes with the n-th --format
    assert _pair_outputs(("json", "text"), (Path("a"),), None) == [
        ("json", Path("a")),
        ("text", None),
    ]
    assert _pair_outputs((), (Path("a"),), None) == [("text", Path("a"))]
    assert _pair_outputs((), (), None) == [("text", None)]


def test_format_html_to_a_file(project: Path) -> None:
    assert main(["lint", "migrations", "--format", "html", "-o", "r.html"]) == 1
    assert "CREATE INDEX" in (project / "r.html").read_text()


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (
            ["--format", "json", "--format", "sarif"],
            "only one --format can write to standard output",
        ),
        (["--format", "pdf"], "'pdf' is not one of"),
    ],
)
def test_usage_errors_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    assert main(["lint", "migrations", *argv]) == 2
    assert problem in capsys.readouterr().err


def test_help_lists_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--format [text|json|junit|sarif|github|html]" in text
    assert "--html FILE" in text
