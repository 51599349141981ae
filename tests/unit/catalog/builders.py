"""Hand-made snapshot objects for the database-free tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from migproof.catalog.model import (
    CatalogObject,
    Collation,
    Column,
    CompositeType,
    Constraint,
    DefaultPrivileges,
    Domain,
    Enum,
    Extension,
    Function,
    Index,
    Policy,
    RangeType,
    Schema,
    Sequence,
    Statistics,
    Table,
    Trigger,
    View,
)

# The fields each kind needs besides its defaults.
REQUIRED: dict[type[CatalogObject], dict[str, Any]] = {
    Schema: {"name": "audit"},
    Extension: {"name": "citext", "version": "1.6", "schema": "public"},
    Column: {"name": "id", "position": 1, "type": "integer"},
    Constraint: {"name": "t_pkey", "kind": "PRIMARY KEY", "columns": ("id",)},
    Table: {"schema": "public", "name": "orders"},
    Index: {"schema": "public", "name": "ix", "table": "public.orders", "keys": ("id",)},
    Trigger: {"table": "public.orders", "name": "tg", "definition": "CREATE TRIGGER tg …"},
    Policy: {"table": "public.orders", "name": "mine"},
    Sequence: {"schema": "public", "name": "s"},
    View: {"schema": "public", "name": "v", "definition": " SELECT 1;"},
    Function: {"schema": "public", "name": "f", "identity_arguments": "x integer"},
    Enum: {"schema": "public", "name": "status", "labels": ("new", "done")},
    Domain: {"schema": "public", "name": "code", "type": "text"},
    CompositeType: {"schema": "public", "name": "pair", "attributes": ("x integer",)},
    RangeType: {"schema": "public", "name": "floatrange", "subtype": "double precision"},
    DefaultPrivileges: {"role": "app", "schema": "public", "object_type": "tables"},
    Collation: {"schema": "public", "name": "ci", "provider": "icu", "locale": "und"},
    Statistics: {"schema": "public", "name": "st", "table": "public.orders", "definition": "…"},
}


def make(cls: type[CatalogObject], **changes: Any) -> Any:
    """An object of ``cls`` with its required fields filled in and ``changes`` applied."""
    return cls(**{**REQUIRED[cls], **changes})


def changed(obj: Any, prop: str) -> Any:
    """A copy of ``obj`` whose ``prop`` holds another value of the same JSON type."""
    return dataclasses.replace(obj, **{prop: changed_value(getattr(obj, prop))})


def changed_value(value: Any) -> Any:
    """A different value of the same JSON type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, tuple):
        return (*value, "extra")
    if value is None:
        return "something"
    return f"{value} changed"
