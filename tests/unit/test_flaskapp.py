"""Flask-Migrate projects read without importing them: env.py's use of current_app, and the
application `flask` would load from .env / .flaskenv."""

from __future__ import annotations

from pathlib import Path

import pytest

from migproof.chain.flaskapp import app_import_path, uses_binds, uses_flask


@pytest.mark.parametrize(
    ("source", "flask"),
    [
        ("from flask import current_app\n", True),
        ("from flask import (\n    Flask,\n    current_app,\n)\n", True),
        ("import flask\nengine = flask.current_app.extensions['migrate'].db.engine\n", True),
        ("from flask import Flask\n", False),
        ("from alembic import context\n", False),
    ],
    ids=["import", "parenthesised", "attribute", "other-name", "plain"],
)
def test_env_py_using_current_app(source: str, flask: bool) -> None:
    assert uses_flask(source) is flask
    assert uses_binds(source) is False


def test_a_multidb_env_py_migrates_every_bind() -> None:
    """Flask-Migrate's flask-multidb template, as `flask db init --multidb` writes it."""
    import flask_migrate

    template = Path(flask_migrate.__file__).parent / "templates" / "flask-multidb" / "env.py"
    assert uses_binds(template.read_text()) is True
    assert uses_flask(template.read_text()) is True


def test_the_application_is_named_as_flask_names_it(tmp_path: Path) -> None:
    assert app_import_path("given:create_app()", tmp_path) == "given:create_app()"
    assert app_import_path(None, tmp_path) is None  # Flask looks for wsgi.py or app.py
    (tmp_path / ".flaskenv").write_text("FLASK_DEBUG=1\nFLASK_APP=factory:create_app()\n")
    assert app_import_path(None, tmp_path) == "factory:create_app()"
    (tmp_path / ".env").write_text("FLASK_APP=wsgi:app  # the application\n")
    assert app_import_path(None, tmp_path) == "wsgi:app"  # .env overrides .flaskenv
    (tmp_path / ".env").write_text("export FLASK_APP='pkg:make(\"a # b\")'  # quoted\n")
    assert app_import_path(None, tmp_path) == 'pkg:make("a # b")'
