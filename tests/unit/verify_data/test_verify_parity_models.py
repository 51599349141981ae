"""Loading a models module: every way it can fail is one clear error naming file and line."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from migproof.errors import EXIT_USAGE, ConfigError, SourceError
from migproof.verify.parity import load_metadata

_names = itertools.count()


def module(tmp_path: Path, source: str) -> str:
    name = f"mp_unit_models_{next(_names)}"
    (tmp_path / f"{name}.py").write_text(source)
    return name


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    name = module(tmp_path, "import sqlalchemy\n\nclass Broken(:\n    pass\n")
    with pytest.raises(SourceError) as caught:
        load_metadata(f"{name}:metadata", tmp_path)
    assert caught.value.what.startswith(f"{tmp_path / name}.py:3: the models module {name} has")
    assert caught.value.exit_code == EXIT_USAGE


def test_an_exception_while_importing_names_file_line_and_error(tmp_path: Path) -> None:
    name = module(tmp_path, "import os\n\nSETTINGS = os.environ['MP_NO_SUCH_SETTING']\n")
    with pytest.raises(SourceError) as caught:
        load_metadata(f"{name}:metadata", tmp_path)
    assert caught.value.what == (
        f"{tmp_path / name}.py:3: importing the models module {name} fails: "
        "KeyError: 'MP_NO_SUCH_SETTING'"
    )


def test_missing_module_and_missing_dependency(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot import the models module mp_nowhere"):
        load_metadata("mp_nowhere.models:metadata", tmp_path)
    name = module(tmp_path, "import mp_not_installed_dependency\n")
    with pytest.raises(SourceError) as caught:
        load_metadata(f"{name}:metadata", tmp_path)
    assert caught.value.what.endswith(
        "ModuleNotFoundError: No module named 'mp_not_installed_dependency'"
    )
    assert caught.value.what.startswith(f"{tmp_path / name}.py:1: ")


def test_spec_attribute_and_type_errors_are_config_errors(tmp_path: Path) -> None:
    name = module(tmp_path, "import sqlalchemy as sa\nmetadata = sa.MetaData()\nnumber = 3\n")
    with pytest.raises(ConfigError, match="is not module:attribute"):
        load_metadata(name, tmp_path)
    with pytest.raises(ConfigError, match=r"has no attribute Base\.metadata"):
        load_metadata(f"{name}:Base.metadata", tmp_path)
    with pytest.raises(ConfigError, match="is a int, not SQLAlchemy MetaData"):
        load_metadata(f"{name}:number", tmp_path)
    metadata, origin = load_metadata(f"{name}:metadata", tmp_path)
    assert len(metadata) == 1 and origin == tmp_path / f"{name}.py"


def test_a_declarative_base_or_a_list_of_metadata_is_accepted(tmp_path: Path) -> None:
    name = module(
        tmp_path,
        "import sqlalchemy as sa\n"
        "from sqlalchemy.orm import DeclarativeBase\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "other = sa.MetaData()\n"
        "both = [Base.metadata, other]\n",
    )
    base, _ = load_metadata(f"{name}:Base", tmp_path)
    both, _ = load_metadata(f"{name}:both", tmp_path)
    assert len(base) == 1 and len(both) == 2 and both[0] is base[0]
