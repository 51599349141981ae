"""migproof's public API: ``__all__`` sorted and complete, every name importable."""

from __future__ import annotations

import migproof


def test_all_is_sorted() -> None:
    assert migproof.__all__ == sorted(migproof.__all__)


def test_every_public_name_resolves_and_nothing_else_is_lazy() -> None:
    for name in migproof.__all__:
        assert getattr(migproof, name) is not None
    assert set(migproof._HOMES) | {"__version__"} == set(migproof.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        migproof.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    import migproof

    assert migproof.__version__ == version("migproof")
    assert migproof.__version__.count(".") == 2
