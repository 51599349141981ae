"""How a refused connection's driver is named."""

from __future__ import annotations

import sqlite3
import types

from migproof.chain.stepper import driver_name


def test_a_driver_is_named_as_its_module_or_the_adapter_sqlalchemy_wraps_it_in() -> None:
    assert driver_name(sqlite3.connect(":memory:")) == "sqlite3"
    # SQLAlchemy's async adapters live in the dialect's module named after the driver
    adapter = types.new_class("AsyncAdapt_aiosqlite_connection")
    adapter.__module__ = "sqlalchemy.dialects.sqlite.aiosqlite"
    assert driver_name(adapter()) == "aiosqlite"
