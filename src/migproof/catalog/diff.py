"""The semantic diff of two snapshots: every difference names the object and the property.

Pure: takes snapshots, returns data. ``diff_snapshots`` is sorted and deterministic (kind,
then name, then property); a table present on one side only is one difference, not one per
column, and the indexes, triggers and policies that went with it are not repeated.
"""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from migproof.catalog.model import (
    KINDS,
    CatalogObject,
    Snapshot,
    Table,
    Value,
    quote_ident,
)

__all__ = ["Difference", "diff_snapshots", "diff_to_dict", "render_diff"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One object or one property that differs between snapshot A and snapshot B.

    ``property`` is None when the object exists on one side only (``a``/``b`` then say on
    which side it exists). ``is_order_only`` marks a difference in column order alone, a
    lower-severity kind: a downgrade that re-adds a dropped column can only add it last.

    >>> str(Difference(kind="enum", name="public.status_enum", property=None, a=False, b=True))
    'enum public.status_enum: only in B'
    """

    kind: str
    name: str
    property: str | None
    a: Value
    b: Value
    is_order_only: bool = False

    @builtins.property
    def is_presence(self) -> bool:
        """The object exists on one side only."""
        return self.property is None

    @builtins.property
    def is_multiline(self) -> bool:
        """A property whose values span lines (a body, a view definition)."""
        return any(isinstance(v, str) and "\n" in v for v in (self.a, self.b))

    def describe(self, a_label: str = "A", b_label: str = "B") -> str:
        """The human line, with the two sides called ``a_label`` and ``b_label``."""
        head = f"{self.kind} {self.name}"
        if self.property is None:
            return f"{head}: only in {a_label if self.a else b_label}"
        if self.property == "not_null":  # "not null false -> true" read as a riddle
            return f"{head}: {_NULLABILITY[bool(self.a)]} -> {_NULLABILITY[bool(self.b)]}"
        label = self.property.replace("_", " ")
        if self.property == "column_order" and isinstance(self.a, tuple):
            moved = _moved_columns(self.a, self.b)
            if moved is not None:
                return f"{head}: {label}: {moved}"
        if self.is_multiline:
            return f"{head}: {label} differs"
        return f"{head}: {label} {format_value(self.a)} -> {format_value(self.b)}"

    def __str__(self) -> str:
        return self.describe()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; tuples become lists."""
        return {
            "kind": self.kind,
            "name": self.name,
            "property": self.property,
            "a": list(self.a) if isinstance(self.a, tuple) else self.a,
            "b": list(self.b) if isinstance(self.b, tuple) else self.b,
            "is_order_only": self.is_order_only,
            "text": str(self),
        }


_NULLABILITY = {False: "nullable", True: "NOT NULL"}


def format_value(value: Value) -> str:
    """A property value as the diff prints it: ``none``, ``true``, ``[a, b]``, text as is."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return str(value)


_SortKey = tuple[int, str, int, str]
_TABLE_RANK = next(i for i, kind in enumerate(KINDS) if kind.attribute == "tables")


def diff_snapshots(a: Snapshot, b: Snapshot) -> list[Difference]:
    """Every difference between A and B, sorted; empty when the schemas are equal.

    >>> diff_snapshots(snapshot, snapshot)
    []
    """
    found: list[tuple[_SortKey, Difference]] = []
    relations_a = a.tables.keys() | a.views.keys()
    relations_b = b.tables.keys() | b.views.keys()
    both = relations_a & relations_b
    for rank, kind in enumerate(KINDS):
        objects_a, objects_b = a.collection(kind), b.collection(kind)
        # Any order: every sort key is unique, and ``found`` is sorted once at the end.
        for key in objects_a.keys() | objects_b.keys():
            obj_a, obj_b = objects_a.get(key), objects_b.get(key)
            if obj_a is None or obj_b is None:
                table = getattr(obj_a or obj_b, "table", None)
                if table is not None and table not in both:
                    continue  # went with its table or view, which is reported itself
                found.append(((rank, key, 0, ""), _presence(obj_a, obj_b, key)))
                continue
            if obj_a == obj_b:
                continue  # the common case, compared field by field in one go
            found.extend(((rank, key, 0, d.property or ""), d) for d in _compare(obj_a, obj_b, key))
            if isinstance(obj_a, Table) and isinstance(obj_b, Table):
                found.extend(_compare_tables(obj_a, obj_b, key))
    found.sort(key=lambda item: item[0])
    return [diff for _, diff in found]


def _presence(a: CatalogObject | None, b: CatalogObject | None, name: str) -> Difference:
    """The difference of an object that exists on one side only."""
    obj = a or b
    assert obj is not None
    return Difference(
        kind=obj.kind_label, name=name, property=None, a=a is not None, b=b is not None
    )


def _compare(a: CatalogObject, b: CatalogObject, name: str) -> Iterator[Difference]:
    kind = a.kind_label
    for (prop, value_a), (_, value_b) in zip(a.properties(), b.properties(), strict=True):
        if value_a != value_b and not _is_equivalent(prop, value_a, value_b):
            yield Difference(kind=kind, name=name, property=prop, a=value_a, b=value_b)


def _is_equivalent(prop: str, a: Value, b: Value) -> bool:
    """Values that differ and mean the same: a table becoming partitioned is one difference
    (its partition key), not two; a function body that differs only in its lines'
    indentation and blank lines (a downgrade that recreates it from differently indented
    source) is the same body."""
    if prop == "kind":
        return {a, b} == {"table", "partitioned table"}
    if prop == "body" and isinstance(a, str) and isinstance(b, str):
        return _lines(a) == _lines(b)
    if prop == "expression" and isinstance(a, str) and isinstance(b, str):
        return _cast_arrays(a) == _cast_arrays(b)
    return False


def _cast_arrays(expression: str) -> str:
    """An expression with each ``ARRAY[x::S::T, y::S::T]`` written ``ARRAY[x::S, y::S]::T[]``.

    PostgreSQL stores ``c IN ('a', 'b')`` on a varchar column as the second form; printed
    and parsed again (a pg_dump file a walk starts from, a downgrade that recreates the
    CHECK from its printed text) it comes back as the first: the same condition.

    >>> _cast_arrays("c::text = ANY (ARRAY['a'::varchar::text, 'b'::varchar::text])")
    "c::text = ANY (ARRAY['a'::varchar, 'b'::varchar]::text[])"
    """
    out: list[str] = []
    index = 0
    while (start := expression.find("ARRAY[", index)) != -1:
        end = _closing(expression, start + len("ARRAY"))
        if end is None:
            break
        elements = _top_level_split(expression[start + len("ARRAY[") : end])
        casts = [_last_cast(element) for element in elements]
        types = {cast[1] for cast in casts if cast is not None}
        out.append(expression[index:start])
        if elements and all(cast is not None for cast in casts) and len(types) == 1:
            inner = ", ".join(cast[0] for cast in casts if cast is not None)
            out.append(f"ARRAY[{inner}]::{types.pop()}[]")
        else:
            out.append(expression[start : end + 1])
        index = end + 1
    out.append(expression[index:])
    return "".join(out)


def _top_level(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """(index, depth) of each character of ``text`` from ``start`` that is outside quotes,
    depth counted in brackets, and the depth after it for a closing bracket."""
    depth, quoted = 0, False
    for index in range(start, len(text)):
        char = text[index]
        if char == "'":
            quoted = not quoted
            continue
        if quoted:
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        yield index, depth


def _closing(text: str, opening: int) -> int | None:
    """The index of the bracket that closes the one at ``opening`` (quotes respected)."""
    return next(
        (i for i, depth in _top_level(text, opening) if depth == 0 and text[i] in ")]"), None
    )


def _top_level_split(text: str, separator: str = ",") -> list[str]:
    """``text`` split at each ``separator`` outside brackets and quotes."""
    cuts = [i for i, depth in _top_level(text) if depth == 0 and text.startswith(separator, i)]
    bounds = [0, *(cut for i in cuts for cut in (i, i + len(separator))), len(text)]
    return [text[a:b].strip() for a, b in zip(bounds[::2], bounds[1::2], strict=True)]


def _last_cast(element: str) -> tuple[str, str] | None:
    """``'a'::character varying::text`` -> (``'a'::character varying``, ``text``): an
    element cast twice, split at its last cast; None for anything else."""
    parts = _top_level_split(element, "::")
    if len(parts) < 3 or any(char in parts[-1] for char in "()[]'"):
        return None
    return "::".join(parts[:-1]), parts[-1]


def _lines(text: str) -> list[str]:
    return [stripped for line in text.splitlines() if (stripped := line.strip())]


def _compare_tables(a: Table, b: Table, key: str) -> Iterator[tuple[_SortKey, Difference]]:
    for rank, children_a, children_b in (
        (1, a.columns, b.columns),
        (2, a.constraints, b.constraints),
    ):
        by_name_a = {c.name: c for c in children_a}
        by_name_b = {c.name: c for c in children_b}
        for child in by_name_a.keys() | by_name_b.keys():
            name = f"{key}.{quote_ident(child)}"
            child_a, child_b = by_name_a.get(child), by_name_b.get(child)
            if child_a is None or child_b is None:
                yield (_TABLE_RANK, key, rank, child), _presence(child_a, child_b, name)
                continue
            if child_a == child_b:
                continue
            for diff in _compare(child_a, child_b, name):
                yield (_TABLE_RANK, key, rank, f"{child}\0{diff.property}"), diff
    order = _column_order(a, b)
    if order is not None:
        yield (
            (_TABLE_RANK, key, 0, "column order"),
            Difference(
                kind=a.kind_label,
                name=key,
                property="column_order",
                a=order[0],
                b=order[1],
                is_order_only=True,
            ),
        )


# Up to this many columns, a column order difference shows both orders whole; in a wider
# table (mailman's mailinglist has 95) it names the columns that moved.
_WHOLE_ORDER = 8
_MOVED_SHOWN = 4


def _moved_columns(a: Value, b: Value) -> str | None:
    """``acceptable_aliases_id 13th -> 95th of 95``: the columns outside the longest run
    the two orders share, with their places; None for a narrow table (shown whole)."""
    if not isinstance(a, tuple) or not isinstance(b, tuple) or len(a) <= _WHOLE_ORDER:
        return None
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    kept = {
        name
        for block in matcher.get_matching_blocks()
        for name in a[block.a : block.a + block.size]
    }
    moved = [name for name in b if name not in kept]
    shown = [f"{name} {_nth(a.index(name) + 1)} -> {_nth(b.index(name) + 1)}" for name in moved]
    more = len(shown) - _MOVED_SHOWN
    text = ", ".join(shown[:_MOVED_SHOWN]) + (f" and {more} more" if more > 0 else "")
    return f"{text} (of {len(a)} columns)"


def _nth(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _column_order(a: Table, b: Table) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The common columns in A's and B's order, when those orders differ."""
    names_a = {c.name for c in a.columns}
    names_b = {c.name for c in b.columns}
    order_a = tuple(c.name for c in a.columns if c.name in names_b)
    order_b = tuple(c.name for c in b.columns if c.name in names_a)
    return None if order_a == order_b else (order_a, order_b)


def render_diff(diffs: Sequence[Difference], a_label: str = "A", b_label: str = "B") -> str:
    """The text form: one line per difference, multi-line values as an indented unified diff.

    >>> print(render_diff(diff_snapshots(before, after), "before", "after"))   # doctest: +SKIP
    column public.orders.total: type integer -> numeric(12,2)
    """
    if not diffs:
        return "no differences\n"
    lines: list[str] = []
    for diff in diffs:
        lines.append(diff.describe(a_label, b_label))
        if diff.is_multiline:
            lines.extend(_unified(diff, a_label, b_label))
    return "\n".join(lines) + "\n"


def _unified(diff: Difference, a_label: str, b_label: str) -> Iterator[str]:
    old = format_value(diff.a).splitlines()
    new = format_value(diff.b).splitlines()
    for line in difflib.unified_diff(old, new, a_label, b_label, lineterm="", n=2):
        yield "    " + line


def diff_to_dict(
    diffs: Sequence[Difference], a_label: str = "A", b_label: str = "B"
) -> dict[str, Any]:
    """The JSON form: the two labels, whether they are equal, and every difference."""
    return {
        "a": a_label,
        "b": b_label,
        "equal": not diffs,
        "differences": [diff.to_dict() for diff in diffs],
    }
