"""Configuration: where it is found, how its keys are spelled, what overrides what, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.config import Config, find_config_file, load_config, option_docs
from migproof.errors import ConfigError

_NO_ENV: dict[str, str] = {}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ=_NO_ENV)
    assert config == Config(root=tmp_path.resolve())
    assert config.source_file is None
    assert config.pg_bin is None
    assert config.statement_timeout == 60.0


def test_pyproject_section_is_found_from_a_subdirectory(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "app"\n\n[tool.migproof]\npg-bin = "/opt/pg/bin"\n'
        '[tool.migproof.lint]\ndisable = ["MP201"]\n',
    )
    deep = tmp_path / "src" / "app" / "models"
    deep.mkdir(parents=True)
    config = load_config(deep, environ=_NO_ENV)
    assert config.source_file == source.resolve()
    assert config.root == tmp_path.resolve()
    assert config.pg_bin == "/opt/pg/bin"
    assert config.lint.disable == ("MP201",)
    assert config.path("db/schema.sql") == (tmp_path / "db" / "schema.sql").resolve()


def test_migproof_toml_is_found_and_wins_over_pyproject_in_the_same_directory(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "pyproject.toml", '[tool.migproof]\npg-bin = "/from/pyproject"\n')
    source = _write(tmp_path / "migproof.toml", 'pg-bin = "/from/migproof-toml"\n')
    config = load_config(tmp_path, environ=_NO_ENV)
    assert config.source_file == source.resolve()
    assert config.pg_bin == "/from/migproof-toml"


def test_pyproject_without_a_migproof_section_is_passed_over(tmp_path: Path) -> None:
    """A sub-package's own pyproject.toml does not hide the project's migproof.toml above."""
    source = _write(tmp_path / "migproof.toml", "lock-timeout = 3\n")
    _write(tmp_path / "lib" / "pyproject.toml", '[project]\nname = "lib"\n')
    config = load_config(tmp_path / "lib", environ=_NO_ENV)
    assert config.source_file == source.resolve()
    assert config.lock_timeout == 3.0


def test_nearest_file_wins(tmp_path: Path) -> None:
    _write(tmp_path / "migproof.toml", "lock-timeout = 3\n")
    inner = _write(tmp_path / "sub" / "migproof.toml", "lock-timeout = 4\n")
    found = find_config_file((tmp_path / "sub").resolve())
    assert found is not None
    assert found[0] == inner.resolve()
    assert load_config(tmp_path / "sub", environ=_NO_ENV).lock_timeout == 4.0


def test_kebab_and_snake_case_keys_are_the_same_option(tmp_path: Path) -> None:
    _write(
        tmp_path / "migproof.toml",
        'pg_bin = "/a"\nstatement-timeout = 5\n[lint]\nprotected_schemas = ["entity"]\n'
        "pg-version = 15\n[migrate]\nstrict_order = true\n",
    )
    config = load_config(tmp_path, environ=_NO_ENV)
    assert config.pg_bin == "/a"
    assert config.statement_timeout == 5.0
    assert config.lint.protected_schemas == ("entity",)
    assert config.lint.pg_version == 15
    assert config.migrate.strict_order is True


def test_the_same_option_spelled_twice_is_an_error(tmp_path: Path) -> None:
    source = _write(tmp_path / "migproof.toml", 'pg_bin = "/a"\npg-bin = "/b"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ=_NO_ENV)
    assert caught.value.what == (
        f"option 'pg-bin' is set twice in {source.resolve()} (as 'pg_bin' and 'pg-bin')"
    )


def test_precedence_flags_over_environment_over_file_over_defaults(tmp_path: Path) -> None:
    _write(
        tmp_path / "pyproject.toml",
        '[tool.migproof]\npg-bin = "/file"\ndatabase-url = "postgresql:///file"\n',
    )
    env = {"MIGPROOF_PG_BIN": "/env", "MIGPROOF_DATABASE_URL": "postgresql:///env"}
    from_file = load_config(tmp_path, environ=_NO_ENV)
    assert (from_file.pg_bin, from_file.database_url) == ("/file", "postgresql:///file")
    from_env = load_config(tmp_path, environ=env)
    assert (from_env.pg_bin, from_env.database_url) == ("/env", "postgresql:///env")
    from_flags = load_config(
        tmp_path, environ=env, overrides={"pg-bin": "/flag", "database_url": "postgresql:///flag"}
    )
    assert (from_flags.pg_bin, from_flags.database_url) == ("/flag", "postgresql:///flag")
    not_given = load_config(tmp_path, environ=env, overrides={"pg-bin": None})
    assert not_given.pg_bin == "/env"  # a flag left out (None) overrides nothing


def test_empty_environment_variable_is_not_set(tmp_path: Path) -> None:
    _write(tmp_path / "migproof.toml", 'pg-bin = "/file"\n')
    assert load_config(tmp_path, environ={"MIGPROOF_PG_BIN": ""}).pg_bin == "/file"


def test_process_environment_is_read_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGPROOF_PG_BIN", "/env")
    assert load_config(tmp_path).pg_bin == "/env"


@pytest.mark.parametrize(
    ("content", "what", "fix"),
    [
        pytest.param(
            '[tool.migproof]\npg-bni = "/x"\n',
            "unknown option 'pg-bni' in {source}",
            "did you mean 'pg-bin'?",
            id="key",
        ),
        pytest.param(
            '[tool.migproof.lint]\ndisabel = ["MP201"]\n',
            "unknown option 'lint.disabel' in {source}",
            "did you mean 'lint.disable'?",
            id="key-in-a-section",
        ),
        pytest.param(
            '[tool.migproof.lnit]\ndisable = ["MP201"]\n',
            "unknown section [tool.migproof.lnit] in {source}",
            "did you mean [tool.migproof.lint]?",
            id="section",
        ),
    ],
)
def test_unknown_name_in_the_file_names_it_the_file_and_the_nearest(
    tmp_path: Path, content: str, what: str, fix: str
) -> None:
    source = _write(tmp_path / "pyproject.toml", content)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ=_NO_ENV)
    assert caught.value.what == what.format(source=source.resolve())
    assert caught.value.fix == fix


@pytest.mark.parametrize(
    ("key", "fix"),
    [
        ("pg-bni", "did you mean 'pg-bin'?"),
        ("lint.disabel", "did you mean 'lint.disable'?"),
        ("lnit.disable", "did you mean 'lint.disable'?"),
    ],
)
def test_unknown_override_names_the_command_line(tmp_path: Path, key: str, fix: str) -> None:
    """A flag wired to a key that does not exist is caught, whatever its section."""
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ=_NO_ENV, overrides={key: "x"})
    assert caught.value.what == f"unknown option {key!r} in the command line"
    assert caught.value.fix == fix


def test_section_option_at_the_top_level_points_to_its_section(tmp_path: Path) -> None:
    _write(tmp_path / "migproof.toml", 'protected-schemas = ["entity"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ=_NO_ENV)
    assert caught.value.fix == "did you mean 'lint.protected-schemas'?"


def test_section_that_is_not_a_table(tmp_path: Path) -> None:
    source = _write(tmp_path / "migproof.toml", 'lint = "all"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ=_NO_ENV)
    assert (
        caught.value.what == f"'lint' in {source.resolve()} must be a table of options, not 'all'"
    )
    assert caught.value.fix == "write its options under [lint]"


@pytest.mark.parametrize(
    ("toml", "key", "expected_type", "example"),
    [
        ('statement-timeout = "soon"', "statement-timeout", "number", "statement-timeout = 30"),
        ("pg-bin = 5", "pg-bin", "string", 'pg-bin = "…"'),
        ("url-env = 3", "url-env", "list of strings", 'url-env = ["…"]'),
        ("url-env = [1, 2]", "url-env", "list of strings", 'url-env = ["…"]'),
        ('[verify]\ndata = "maybe"', "verify.data", "bool", "data = true"),
        ("[lint]\npg-version = 15.5", "lint.pg-version", "integer", "pg-version = 15"),
    ],
)
def test_wrong_type_names_option_file_and_an_example(
    tmp_path: Path, toml: str, key: str, expected_type: str, example: str
) -> None:
    source = _write(tmp_path / "migproof.toml", toml + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ=_NO_ENV)
    assert caught.value.what.startswith(
        f"option {key!r} in {source.resolve()} must be a {expected_type}, not "
    )
    assert caught.value.fix == f"for example: {example}"


def test_wrong_type_from_a_flag_blames_the_command_line(tmp_path: Path) -> None:
    _write(tmp_path / "migproof.toml", "lock-timeout = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ=_NO_ENV, overrides={"lock-timeout": "never"})
    assert caught.value.what == (
        "option 'lock-timeout' in the command line must be a number, not 'never'"
    )


def test_a_string_is_accepted_as_a_list_of_one(tmp_path: Path) -> None:
    _write(tmp_path / "migproof.toml", 'url-env = "DATABASE_URL"\n')
    assert load_config(tmp_path, environ=_NO_ENV).url_env == ("DATABASE_URL",)


@pytest.mark.parametrize("name", ["pyproject.toml", "migproof.toml"])
def test_malformed_toml_names_the_file_and_line(tmp_path: Path, name: str) -> None:
    source = _write(tmp_path / name, "[tool.migproof]\npg-bin = \n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ=_NO_ENV)
    assert caught.value.what.startswith(f"{source.resolve()} is not valid TOML: ")
    assert "line 2" in caught.value.what
    assert caught.value.fix == "correct the syntax at that line"


def test_tool_migproof_that_is_not_a_table(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[tool]\nmigproof = "yes"\n')
    with pytest.raises(ConfigError, match=r"\[tool.migproof\] must be a table"):
        load_config(tmp_path, environ=_NO_ENV)


def test_every_option_is_documented_with_an_example() -> None:
    docs = option_docs()
    assert docs
    keys = [d.key for d in docs]
    assert len(keys) == len(set(keys))
    for doc in docs:
        assert doc.doc, doc.key
        assert doc.example, doc.key
        assert doc.key == doc.key.lower()
        assert "_" not in doc.key  # kebab-case in the README and in files
    env = {d.key: d.env for d in docs if d.env}
    assert env["pg-bin"] == "MIGPROOF_PG_BIN"
    assert env["database-url"] == "MIGPROOF_DATABASE_URL"


def test_origin_of_names_flag_variable_or_file(tmp_path: Path) -> None:
    source = _write(tmp_path / "migproof.toml", 'pg-bin = "bin"\n[lint]\npg-version = 15\n')
    config = load_config(
        tmp_path,
        environ={"MIGPROOF_DATABASE_URL": "postgresql:///x"},
        overrides={"lock-timeout": 2},
    )
    assert config.origin_of("pg-bin") == f"pg-bin in {source.resolve()}"
    assert config.origin_of("lint.pg-version") == f"lint.pg-version in {source.resolve()}"
    assert config.origin_of("database-url") == "MIGPROOF_DATABASE_URL"
    assert config.origin_of("lock-timeout") == "--lock-timeout"
    assert config.origin_of("statement-timeout") == "the default"


def test_paths_in_the_file_are_relative_to_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "migproof.toml", 'pg-bin = "tools/pg/bin"\n')
    (tmp_path / "sub").mkdir()
    config = load_config(tmp_path / "sub", environ=_NO_ENV)
    assert config.located("pg-bin", "tools/pg/bin") == str((tmp_path / "tools/pg/bin").resolve())
    from_flag = load_config(tmp_path, overrides={"pg-bin": "rel/bin"}, environ=_NO_ENV)
    assert from_flag.located("pg-bin", "rel/bin") == "rel/bin"
