"""Values for generated rows: text literals made from a column's type, as PostgreSQL reads them.

Every value is the text form PostgreSQL's input function accepts for the type (``'1.5'``,
``'{"a","b"}'``, ``'[1,11)'``); rows are sent as untyped parameters, so the server coerces
them to the column's type exactly as an ``INSERT`` of a quoted literal would. Each type has
several candidates, most likely first; ``n`` (the row's number) makes the first candidates of
two rows differ, so unique constraints hold. The CHECK constraints of a table and of a domain
add their own literals (``status IN ('open', 'closed')``) as candidates. No database here:
``data.py`` tries the candidates against PostgreSQL and keeps the first one it accepts.

>>> types = TypeCatalog.from_snapshot(Snapshot())
>>> candidates("numeric(6,2)", types, 3)[:2]
['3.25', '103.25']
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from migproof.catalog.model import Column, CompositeType, Domain, Enum, RangeType, Snapshot, Table

__all__ = [
    "Literals",
    "TypeCatalog",
    "candidates",
    "check_literals",
    "column_candidates",
    "column_literals",
    "columns_in_expression",
]

_TYPMOD = re.compile(r"\(([^)]*)\)")
_STRING_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_NUMBER_LITERAL = re.compile(r"(?<![\w.'])(-?\d+(?:\.\d+)?)(?![\w'])")
_BASE_DATE = dt.date(2024, 1, 1)
_MAX_CANDIDATES = 12


@dataclass(frozen=True, slots=True)
class TypeCatalog:
    """The user-defined types of a snapshot that values must be made for, by key."""

    enums: dict[str, Enum] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)
    composites: dict[str, CompositeType] = field(default_factory=dict)
    ranges: dict[str, RangeType] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> TypeCatalog:
        return cls(
            enums=dict(snapshot.enums),
            domains=dict(snapshot.domains),
            composites=dict(snapshot.composite_types),
            ranges=dict(snapshot.range_types),
        )


@dataclass(frozen=True, slots=True)
class Literals:
    """Constants a CHECK compares a column with: candidates worth trying for it."""

    strings: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    prefer_strings: bool = False  # ``= ANY (ARRAY[...])``, ``IN (...)``, ``= '...'``

    def __add__(self, other: Literals) -> Literals:
        return Literals(
            self.strings + other.strings,
            self.numbers + other.numbers,
            self.prefer_strings or other.prefer_strings,
        )


def candidates(
    type_name: str, types: TypeCatalog, n: int, literals: Literals | None = None, *, depth: int = 0
) -> list[str]:
    """Text values of type ``type_name`` for row number ``n`` (>= 1), most likely first.

    ``literals`` come from CHECK constraints on the column: the strings of an ``IN (...)``
    list go first (rotated by ``n``), other constants right after the first candidate.
    """
    generated = _type_candidates(type_name.strip(), types, n, depth)
    literals = literals or Literals()
    fits = _string_fits(type_name.strip())
    strings = _rotate([s for s in literals.strings if fits(s)], n - 1)
    if literals.prefer_strings:
        out = strings + generated[:1] + list(literals.numbers) + generated[1:]
    else:
        out = generated[:1] + list(literals.numbers) + strings + generated[1:]
    seen: set[str] = set()
    unique = []
    for value in out:
        if value not in seen:
            seen.add(value)
            unique.append(value)
    return unique[:_MAX_CANDIDATES]


_BOOLEAN_WORDS = frozenset({"true", "false", "t", "f", "yes", "no", "on", "off", "1", "0"})
_NUMERIC_TYPES = frozenset(
    {"smallint", "integer", "bigint", "numeric", "real", "double precision", "decimal"}
)
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)


def _string_fits(type_name: str) -> Callable[[str], bool]:
    """Which of a CHECK's string literals can be a value of ``type_name``: a CHECK that
    names a boolean and a text column (langflow's ``NOT enabled OR protocol = ANY
    (ARRAY['oidc', 'saml'])``) gives its strings to both, and 'oidc' is no boolean.

    >>> [s for s in ("oidc", "true") if _string_fits("boolean")(s)]
    ['true']
    """
    base = type_name.split("(", maxsplit=1)[0].strip().lower()
    if base in ("boolean", "bool"):
        return lambda value: value.strip().lower() in _BOOLEAN_WORDS
    if base in _NUMERIC_TYPES:
        return lambda value: _NUMBER.match(value.strip()) is not None
    if base == "uuid":
        return lambda value: _UUID.match(value.strip()) is not None
    return _any_string


def _any_string(value: str) -> bool:
    del value
    return True


_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$", re.I)


def column_candidates(
    column: Column, table: Table, types: TypeCatalog, n: int, extra: Literals | None = None
) -> list[str]:
    """Candidates for ``column`` of ``table``, with the literals of the CHECKs that name it."""
    return candidates(column.type, types, n, column_literals(column, table, extra))


def column_literals(column: Column, table: Table, extra: Literals | None = None) -> Literals:
    """``extra`` and the literals of ``table``'s CHECKs that name ``column``: compute them once
    per column and pass them to ``candidates`` for each row."""
    literals = extra or Literals()
    for check in table.checks:
        if check.expression and column.name in columns_in_expression(check.expression, table):
            literals = literals + check_literals(check.expression)
    return literals


def columns_in_expression(expression: str, table: Table) -> set[str]:
    """The columns of ``table`` that an expression mentions (by word, quoted or not)."""
    bare = _strip_strings(expression)
    found: set[str] = set()
    for column in table.columns:
        quoted = '"' + column.name.replace('"', '""') + '"'
        if quoted in bare or re.search(rf"(?<![\w.\"']){re.escape(column.name)}(?![\w\"'])", bare):
            found.add(column.name)
    return found


def check_literals(expression: str) -> Literals:
    """String and number literals of a CHECK expression, and numbers just around them."""
    strings = tuple(m.group(1).replace("''", "'") for m in _STRING_LITERAL.finditer(expression))
    numbers: list[str] = []
    for m in _NUMBER_LITERAL.finditer(_strip_strings(expression)):
        numbers += _around(m.group(1))
    prefer = bool(re.search(r"= ANY|\bIN \(|= '", expression))
    return Literals(strings, tuple(numbers), prefer)


def _around(number: str) -> list[str]:
    if "." in number:
        value = float(number)
        return [number, repr(value + 0.5), repr(value - 0.5)]
    whole = int(number)
    return [number, str(whole + 1), str(whole - 1)]


def _strip_strings(expression: str) -> str:
    return _STRING_LITERAL.sub("''", expression)


def _rotate(values: list[str], k: int) -> list[str]:
    k = k % len(values) if values else 0
    return values[k:] + values[:k]


# -- types ------------------------------------------------------------------------------


def _type_candidates(type_name: str, types: TypeCatalog, n: int, depth: int) -> list[str]:
    if depth > 4:  # a domain over a composite over a domain …: give up, let NULL or text try
        return [str(n)]
    if type_name.endswith("[]"):
        element = type_name[:-2]
        first = _type_candidates(element, types, n, depth + 1)
        second = _type_candidates(element, types, n + 1, depth + 1)
        arrays = [_array([first[0], second[0]]), "{}"]
        arrays += [_array([value]) for value in first[1:4]]
        return arrays
    user = _user_type(type_name, types, n, depth)
    if user is not None:
        return user
    base, mods = _split_typmod(type_name)
    if base.startswith("interval "):  # interval day to second, interval year …
        base, mods = "interval", []
    maker = _BUILTIN.get(base)
    if maker is not None:
        return maker(n, mods)
    short = base.rsplit(".", 1)[-1].strip('"')  # an extension's type: citext, hstore, vector
    maker = _EXTENSION.get(short)
    if maker is not None:
        return maker(n, mods)
    return [f"migproof {n}", str(n), f"mp{n}"]


def _user_type(type_name: str, types: TypeCatalog, n: int, depth: int) -> list[str] | None:
    if type_name in types.enums:
        labels = list(types.enums[type_name].labels)
        return _rotate(labels, n - 1) if labels else [""]
    if type_name in types.domains:
        domain = types.domains[type_name]
        literals = Literals()
        for constraint in domain.constraints:
            literals = literals + check_literals(constraint.split(": ", 1)[-1])
        return candidates(domain.type, types, n, literals, depth=depth + 1)
    if type_name in types.composites:
        values = []
        for attribute in types.composites[type_name].attributes:
            attribute_type = _attribute_type(attribute)
            values.append(_type_candidates(attribute_type, types, n, depth + 1)[0])
        return ["(" + ",".join(_quote_element(v) for v in values) + ")"]
    if type_name in types.ranges:
        subtype = types.ranges[type_name].subtype
        low = _type_candidates(subtype, types, n, depth + 1)[0]
        high = _type_candidates(subtype, types, n + 10, depth + 1)[0]
        return [f"[{_quote_element(low)},{_quote_element(high)})", "empty"]
    return None


def _attribute_type(attribute: str) -> str:
    """``"name type [COLLATE c]"`` (name quoted when it must be) -> ``type``."""
    if attribute.startswith('"'):
        end = attribute.index('"', 1)
        while end + 1 < len(attribute) and attribute[end + 1] == '"':
            end = attribute.index('"', end + 2)
        rest = attribute[end + 1 :].strip()
    else:
        rest = attribute.split(" ", 1)[1]
    return rest.split(" COLLATE ", 1)[0].strip()


def _split_typmod(type_name: str) -> tuple[str, list[str]]:
    """``character varying(64)`` -> (``character varying``, ['64']);
    ``timestamp(3) with time zone`` -> (``timestamp with time zone``, ['3'])."""
    match = _TYPMOD.search(type_name)
    if match is None:
        return type_name, []
    base = (type_name[: match.start()] + type_name[match.end() :]).strip()
    return re.sub(r"\s+", " ", base), [m.strip() for m in match.group(1).split(",")]


def _array(values: list[str]) -> str:
    return "{" + ",".join(_quote_element(v) for v in values) + "}"


def _quote_element(value: str) -> str:
    """An element of an array or a field of a row literal, always double-quoted."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _integers(n: int, _mods: list[str]) -> list[str]:
    return [str(n), str(n + 100), "0", str(-n), str(1_000_000 + n), "1"]


def _smallints(n: int, _mods: list[str]) -> list[str]:
    return [str(n % 30000), str(n % 30000 + 100), "0", str(-(n % 30000)), "1"]


def _numerics(n: int, mods: list[str]) -> list[str]:
    if not mods:
        return [f"{n}.25", f"{n + 100}.25", str(n), "0", f"-{n}.25", "1"]
    precision = int(mods[0])
    scale = int(mods[1]) if len(mods) > 1 else 0
    digits = precision - scale
    whole = n % (10**digits) if digits > 0 else 0
    fraction = "25"[:scale] if scale > 0 else ""
    first = f"{whole}.{fraction}" if fraction else str(whole)
    second = f"{(n + 100) % (10**digits) if digits > 0 else 0}" + (
        f".{fraction}" if fraction else ""
    )
    return [first, second, "0", "1" if digits > 0 else "0"]


def _floats(n: int, _mods: list[str]) -> list[str]:
    return [f"{n}.5", f"{n + 100}.5", "0", f"-{n}.5", "1"]


def _money(n: int, _mods: list[str]) -> list[str]:
    return [f"{n}.25", f"{n + 100}.25", "0", "1"]


def _texts(n: int, mods: list[str]) -> list[str]:
    values = [f"migproof {n}", f"mp{n}", str(n), _base26(n), f"migproof row {n} " + "x" * 40]
    if not mods:
        return values
    limit = int(mods[0])
    fitting = [v for v in values if len(v) <= limit]
    return [*fitting, _base26(n)[-limit:], "a" * limit]


def _chars(n: int, mods: list[str]) -> list[str]:
    return _texts(n, mods or ["1"])


def _base26(n: int) -> str:
    out = ""
    n = max(n, 0)
    while True:
        out = chr(ord("a") + n % 26) + out
        n //= 26
        if n == 0:
            return out


def _booleans(n: int, _mods: list[str]) -> list[str]:
    return ["true", "false"] if n % 2 else ["false", "true"]


def _date(n: int) -> dt.date:
    return _BASE_DATE + dt.timedelta(days=n % 3000)


def _dates(n: int, _mods: list[str]) -> list[str]:
    return [_date(n).isoformat(), (_date(n) + dt.timedelta(days=20000)).isoformat(), "2000-01-01"]


def _timestamps(n: int, _mods: list[str]) -> list[str]:
    day = _date(n).isoformat()
    return [f"{day} 03:04:{n % 60:02d}.25", f"2080-01-01 00:00:{n % 60:02d}", "2000-01-01 00:00:00"]


def _timestamptzs(n: int, mods: list[str]) -> list[str]:
    return [f"{v}+00" for v in _timestamps(n, mods)]


def _times(n: int, _mods: list[str]) -> list[str]:
    return [f"{n % 24:02d}:{n % 60:02d}:05.25", "12:00:00", "00:00:00"]


def _timetzs(n: int, mods: list[str]) -> list[str]:
    return [f"{v}+00" for v in _times(n, mods)]


def _intervals(n: int, _mods: list[str]) -> list[str]:
    return [f"{n} days 02:03:04", f"{n} hours", "00:00:01", "1 year"]


def _uuids(n: int, _mods: list[str]) -> list[str]:
    return [f"00000000-0000-4000-8000-{n:012x}", f"ffffffff-0000-4000-8000-{n:012x}"]


def _jsons(n: int, _mods: list[str]) -> list[str]:
    return [f'{{"migproof": {n}}}', f"[{n}]", f'"mp{n}"', str(n), "{}", "[]"]


def _bytes(n: int, _mods: list[str]) -> list[str]:
    return ["\\x" + f"mp{n}".encode().hex(), "\\x00"]


def _inets(n: int, _mods: list[str]) -> list[str]:
    return [f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}", "192.168.0.1/24", "::1"]


def _cidrs(n: int, _mods: list[str]) -> list[str]:
    return [f"10.{(n >> 8) & 255}.{n & 255}.0/24", "192.168.0.0/16"]


def _macaddrs(n: int, _mods: list[str]) -> list[str]:
    return [f"08:00:2b:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"]


def _macaddr8s(n: int, _mods: list[str]) -> list[str]:
    return [f"08:00:2b:01:02:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"]


def _bits(n: int, mods: list[str]) -> list[str]:
    width = int(mods[0]) if mods else 1
    return [bin(n)[2:].zfill(width)[-width:], "0" * width]


def _varbits(n: int, mods: list[str]) -> list[str]:
    value = bin(n)[2:]
    return [value[-int(mods[0]) :] if mods else value, "1"]


def _range(low: str, high: str) -> str:
    return f"[{low},{high})"


def _int_ranges(n: int, _mods: list[str]) -> list[str]:
    return [_range(str(n), str(n + 10)), "empty"]


def _num_ranges(n: int, _mods: list[str]) -> list[str]:
    return [_range(f"{n}.5", f"{n + 10}.5"), "empty"]


def _date_ranges(n: int, _mods: list[str]) -> list[str]:
    return [_range(_date(n).isoformat(), (_date(n) + dt.timedelta(days=10)).isoformat()), "empty"]


def _ts_ranges(n: int, _mods: list[str]) -> list[str]:
    day, end = _date(n).isoformat(), (_date(n) + dt.timedelta(days=10)).isoformat()
    return [_range(f'"{day} 03:04:05"', f'"{end} 03:04:05"'), "empty"]


def _tstz_ranges(n: int, _mods: list[str]) -> list[str]:
    day, end = _date(n).isoformat(), (_date(n) + dt.timedelta(days=10)).isoformat()
    return [_range(f'"{day} 03:04:05+00"', f'"{end} 03:04:05+00"'), "empty"]


def _multi(maker: Callable[[int, list[str]], list[str]]) -> Callable[[int, list[str]], list[str]]:
    def make(n: int, mods: list[str]) -> list[str]:
        return ["{" + maker(n, mods)[0] + "}", "{}"]

    return make


def _constant(*values: str) -> Callable[[int, list[str]], list[str]]:
    return lambda _n, _mods: list(values)


def _vectors(n: int, mods: list[str]) -> list[str]:
    dims = int(mods[0]) if mods else 3
    return ["[" + ",".join(str(n + i) for i in range(dims)) + "]"]


_BUILTIN: dict[str, Callable[[int, list[str]], list[str]]] = {
    "smallint": _smallints,
    "integer": _integers,
    "bigint": _integers,
    "oid": _integers,
    "xid": _integers,
    "numeric": _numerics,
    "real": _floats,
    "double precision": _floats,
    "money": _money,
    "text": _texts,
    "character varying": _texts,
    "character": _chars,
    "bpchar": _texts,
    "name": _texts,
    '"char"': lambda n, _m: [_base26(n)[-1], "a"],
    "boolean": _booleans,
    "date": _dates,
    "timestamp without time zone": _timestamps,
    "timestamp with time zone": _timestamptzs,
    "time without time zone": _times,
    "time with time zone": _timetzs,
    "interval": _intervals,
    "uuid": _uuids,
    "json": _jsons,
    "jsonb": _jsons,
    "jsonpath": _constant("$.migproof", "$"),
    "xml": lambda n, _m: [f"<migproof>{n}</migproof>"],
    "bytea": _bytes,
    "inet": _inets,
    "cidr": _cidrs,
    "macaddr": _macaddrs,
    "macaddr8": _macaddr8s,
    "bit": _bits,
    "bit varying": _varbits,
    "tsvector": lambda n, _m: [f"migproof row{n}"],
    "tsquery": lambda n, _m: [f"migproof & row{n}"],
    "point": lambda n, _m: [f"({n},{n + 1})"],
    "line": lambda n, _m: [f"{{1,-1,{n}}}"],
    "lseg": lambda n, _m: [f"[({n},0),({n + 1},1)]"],
    "box": lambda n, _m: [f"({n + 1},1),({n},0)"],
    "path": lambda n, _m: [f"[({n},0),({n + 1},1)]"],
    "polygon": lambda n, _m: [f"(({n},0),({n + 1},1),({n + 1},0))"],
    "circle": lambda n, _m: [f"<({n},0),1>"],
    "int4range": _int_ranges,
    "int8range": _int_ranges,
    "numrange": _num_ranges,
    "daterange": _date_ranges,
    "tsrange": _ts_ranges,
    "tstzrange": _tstz_ranges,
    "int4multirange": _multi(_int_ranges),
    "int8multirange": _multi(_int_ranges),
    "nummultirange": _multi(_num_ranges),
    "datemultirange": _multi(_date_ranges),
    "tsmultirange": _multi(_ts_ranges),
    "tstzmultirange": _multi(_tstz_ranges),
    "pg_lsn": lambda n, _m: [f"0/{n:X}"],
    "regclass": _constant("pg_class"),
    "regtype": _constant("integer"),
    "regproc": _constant("now"),
    "regnamespace": _constant("public"),
    "regconfig": _constant("simple"),
}

_EXTENSION: dict[str, Callable[[int, list[str]], list[str]]] = {
    "citext": _texts,
    "hstore": lambda n, _m: [f'"migproof"=>"{n}"'],
    "ltree": lambda n, _m: [f"migproof.row{n}"],
    "vector": _vectors,
    "halfvec": _vectors,
    "isbn": _constant("978-0-393-04002-9"),
}
