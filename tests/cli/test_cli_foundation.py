"""The command line's contract: exit codes, one-line errors with a fix, --debug, --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import migproof
import migproof.cli.sandbox
from migproof.cli import cli, main


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in an empty directory with no migproof variables set."""
    monkeypatch.chdir(tmp_path)
    for name in ("MIGPROOF_PG_BIN", "MIGPROOF_DATABASE_URL", "MIGPROOF_DEBUG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_error(err: str, what: str, fix_contains: str) -> None:
    """Exactly ``error: <what>`` and ``  fix: …``: no traceback, nothing else."""
    lines = err.splitlines()
    assert lines[0] == f"error: {what}", err
    assert lines[1].startswith("  fix: "), err
    assert fix_contains in lines[1], err
    assert len(lines) == 2, err
    assert "Traceback" not in err


def test_pg_bin_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-dir"
    code, out, err = _run(capsys, "sandbox", "--pg-bin", str(missing))
    assert code == 2
    assert out == ""
    _assert_one_error(err, f"{missing} (--pg-bin): no such directory", "pg_config --bindir")


def test_pg_bin_directory_without_binaries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    (empty / "initdb").write_text("")
    code, _, err = _run(capsys, "sandbox", "--pg-bin", str(empty))
    assert code == 2
    _assert_one_error(err, f"{empty} (--pg-bin) has no pg_ctl, postgres", "pg_config --bindir")


def test_pg_bin_from_the_environment_is_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGPROOF_PG_BIN", str(tmp_path / "gone"))
    code, _, err = _run(capsys, "sandbox")
    assert code == 2
    _assert_one_error(
        err, f"{tmp_path / 'gone'} (MIGPROOF_PG_BIN): no such directory", "pg_config --bindir"
    )


def test_pg_bin_from_the_config_file_is_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "migproof.toml").write_text('pg-bin = "gone"\n')
    code, _, err = _run(capsys, "sandbox")
    assert code == 2
    _assert_one_error(
        err,
        f"{tmp_path / 'gone'} (pg-bin in {tmp_path / 'migproof.toml'}): no such directory",
        "pg_config --bindir",
    )


@pytest.mark.parametrize("name", ["pyproject.toml", "migproof.toml"])
def test_malformed_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (tmp_path / name).write_text("[tool.migproof\npg-bin = 1\n")
    code, out, err = _run(capsys, "sandbox")
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"error: {tmp_path / name} is not valid TOML: ")
    assert "line 1" in lines[0]
    assert lines[1] == "  fix: correct the syntax at that line"
    assert "Traceback" not in err


def test_unknown_config_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.migproof]\nstatement-timout = 5\n")
    code, _, err = _run(capsys, "sandbox")
    assert code == 2
    _assert_one_error(
        err,
        f"unknown option 'statement-timout' in {tmp_path / 'pyproject.toml'}",
        "did you mean 'statement-timeout'?",
    )


def test_wrong_type_in_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "migproof.toml").write_text('lock-timeout = "a while"\n')
    code, _, err = _run(capsys, "sandbox")
    assert code == 2
    _assert_one_error(
        err,
        f"option 'lock-timeout' in {tmp_path / 'migproof.toml'} must be a number, not 'a while'",
        "for example: lock-timeout = 30",
    )


def test_config_is_found_from_a_subdirectory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "migproof.toml").write_text("pg-bni = 1\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    code, _, err = _run(capsys, "sandbox")
    assert code == 2
    assert f"unknown option 'pg-bni' in {tmp_path / 'migproof.toml'}" in err


def test_flag_beats_a_broken_environment_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGPROOF_PG_BIN", str(tmp_path / "from-env"))
    code, _, err = _run(capsys, "sandbox", "--pg-bin", str(tmp_path / "from-flag"))
    assert code == 2
    assert f"{tmp_path / 'from-flag'} (--pg-bin)" in err


def test_sandbox_refuses_database_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "sandbox", "--database-url", "postgresql:///x")
    assert code == 2
    assert "--database-url does not apply" in err


def test_unknown_flag_and_command_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "sandbox", "--no-such-flag")
    assert code == 2
    assert "No such option" in err
    assert "--no-such-flag" in err
    code, _, err = _run(capsys, "no-such-command")
    assert code == 2
    assert "No such command" in err
    assert "no-such-command" in err


def _broken(*args: object, **kwargs: object) -> object:
    raise RuntimeError("simulated bug; password postgresql://u:hunter2@h/d")


def test_internal_error_without_debug_is_a_bug_notice_and_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migproof.cli.sandbox, "configured_binaries", _broken)
    code, _, err = _run(capsys, "sandbox")
    assert code == 3
    assert err.splitlines() == [
        "error: a bug in migproof: RuntimeError: simulated bug; password postgresql://u:***@h/d",
        "  rerun as `migproof --debug <command> ...` (or with MIGPROOF_DEBUG=1) for the"
        " traceback, and report it",
    ]


def test_internal_error_with_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migproof.cli.sandbox, "configured_binaries", _broken)
    with pytest.raises(RuntimeError, match="simulated bug"):
        main(["--debug", "sandbox"])
    monkeypatch.setenv("MIGPROOF_DEBUG", "1")
    with pytest.raises(RuntimeError, match="simulated bug"):
        main(["sandbox"])


def test_debug_traceback_reaches_the_terminal(tmp_path: Path) -> None:
    """Through the real entry point: --debug prints Python's traceback, exit 1 as Python does."""
    script = (
        "import sys, migproof.cli.sandbox as s\n"
        "def broken(*a, **k): raise RuntimeError('simulated bug')\n"
        "s.configured_binaries = broken\n"
        "from migproof.cli import entry_point\n"
        "sys.argv = ['migproof', *sys.argv[1:]]\n"
        "entry_point()\n"
    )
    debug = subprocess.run(
        [sys.executable, "-c", script, "--debug", "sandbox"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "RuntimeError: simulated bug" in debug.stderr
    plain = subprocess.run(
        [sys.executable, "-c", script, "sandbox"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert plain.returncode == 3
    assert "Traceback" not in plain.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--version")
    assert code == 0
    assert out == f"migproof, version {migproof.__version__}\n"


def test_python_dash_m_migproof_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "migproof", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"migproof, version {migproof.__version__}\n"


def test_help_lists_every_command_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    assert "--debug" in out
    section = out.split("Commands:\n", 1)[1].splitlines()
    listed = [line.split()[0] for line in section if line.startswith("  ") and line.strip()]
    with click.Context(cli) as ctx:
        names = cli.list_commands(ctx)
        commands = {name: cli.get_command(ctx, name) for name in names}
    assert listed == names
    assert "sandbox" in listed
    for line in section:
        assert line.startswith("  ") and not line.startswith("   "), line  # no wrapped lines
    for name, command in commands.items():
        assert command is not None
        assert command.name == name
        assert command.help, f"{name} has no help text"


def test_a_command_imports_only_its_own_module() -> None:
    """`migproof sandbox` must not pay for the imports of every other command."""
    code = (
        "import sys\n"
        "from migproof.cli import cli\n"
        "import click\n"
        "with click.Context(cli) as ctx:\n"
        "    cli.get_command(ctx, 'sandbox')\n"
        "print(sorted(m for m in sys.modules if m.startswith('migproof.cli.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "['migproof.cli._options', 'migproof.cli.sandbox']"


def test_command_help_through_clirunner() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "--help"])
    assert result.exit_code == 0
    assert "--pg-bin DIR" in result.output
    assert "--database-url URL" in result.output


def test_main_maps_click_abort_to_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def abort(*args: object, **kwargs: object) -> object:
        raise click.Abort

    monkeypatch.setattr(migproof.cli.sandbox, "configured_binaries", abort)
    code, _, err = _run(capsys, "sandbox")
    assert code == 130
    assert err.strip() == "interrupted"
