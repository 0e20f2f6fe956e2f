"""Type inference and checked casts for incoming columns, written as DuckDB SQL.

Every incoming column has a *source kind*: ``text`` (CSV cells, string columns), ``json``
(JSON Lines values) or ``typed`` (Parquet / Arrow columns with a native type). For each kind
this module builds a SQL expression that converts the value to a logical type of
:data:`segmint.store.schema.STORAGE_TYPES` and yields NULL when it cannot; a row whose
source value is present but whose converted value is NULL is a rejected row.

Casts are strict on purpose: DuckDB's ``TRY_CAST('12.5' AS BIGINT)`` rounds to 13 and
``TRY_CAST('1e3' AS BIGINT)`` gives 1000, so integers and money are matched by pattern first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from segmint.engine.sqltext import quote_str
from segmint.store.schema import STORAGE_TYPES

SourceKind = Literal["text", "json", "typed"]

_BOOL_WORDS: Final = "('true', 'false')"

# Logical types in widening order: a column of integers that later holds 2.5 is widened to
# float automatically; every other change is a type conflict.
WIDENS_TO: Final[dict[str, str]] = {"integer": "float"}


def json_path(key: str) -> str:
    """A JSON path selecting one top-level key, whatever characters it holds."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class SourceColumn:
    """One incoming column: its user-visible name, how to read it, and its source kind."""

    name: str
    sql: str
    kind: SourceKind
    duck_type: str = "VARCHAR"

    def text(self) -> str:
        """The value as text with empty strings as NULL (an empty CSV cell is missing)."""
        if self.kind == "json":
            return f"NULLIF(json_extract_string({self.sql}, '$'), '')"
        if self.kind == "text":
            return f"NULLIF({self.sql}, '')"
        return f"CAST({self.sql} AS VARCHAR)"

    def clean(self) -> str:
        """The value as an identifier-like string: text inputs are trimmed (a cell of spaces
        is missing); typed string columns are taken as they are."""
        if self.kind == "typed":
            return self.sql if self.duck_type == "VARCHAR" else f"CAST({self.sql} AS VARCHAR)"
        return f"NULLIF(trim({self.text()}), '')"

    def present(self) -> str:
        """SQL that is true when the row has a value for this column."""
        if self.kind == "json":
            return f"({self.sql} IS NOT NULL AND json_type({self.sql}) <> 'NULL')"
        if self.kind == "text":
            return f"NULLIF({self.sql}, '') IS NOT NULL"
        return f"{self.sql} IS NOT NULL"


def cast_expr(col: SourceColumn, logical: str, money_scale: int = 4) -> str:
    """SQL converting ``col`` to ``logical`` (or to money: ``'money'``), NULL when it can't."""
    if col.kind == "typed" and not col.duck_type.startswith("VARCHAR"):
        return _cast_typed(col, logical, money_scale)
    if logical == "list" and col.kind == "json":
        return f"TRY_CAST({col.sql} AS VARCHAR[])"
    if logical == "money":
        return _cast_text(number_text(col), logical, money_scale)
    return _cast_text(col.text(), logical, money_scale)


def number_text(col: SourceColumn) -> str:
    """The value as text; for a JSON Lines number, the digits as written in the record.

    DuckDB reads a JSON number with a fraction as a DOUBLE, so -99999999999999.9999 came
    back as -100000000000000.0. Money must not pass through a float: the number is taken
    from the record's own text (``_raw``), as the first number written for this key that
    equals the DOUBLE (the key may also appear in nested objects; a key written with
    escapes in the record is not found, and then only the DOUBLE is known).
    """
    if col.kind != "json":
        return col.text()
    written = quote_str('"' + re.escape(col.name) + r'"\s*:\s*(-?[0-9][0-9.eE+-]*)')
    found = f"regexp_extract_all(CAST(_raw AS VARCHAR), {written}, 1)"
    same = f"list_filter({found}, x -> TRY_CAST(x AS DOUBLE) = TRY_CAST({col.sql} AS DOUBLE))"
    return (
        f"CASE WHEN json_type({col.sql}) = 'DOUBLE' THEN coalesce({same}[1], {col.text()}) "
        f"ELSE {col.text()} END"
    )


def money_limit(scale: int) -> str:
    """The largest magnitude of money kept as DECIMAL(18, ``scale``): 99999999999999.9999."""
    return "9" * (18 - scale) + "." + "9" * scale


def money_reason(name: str, col: SourceColumn, scale: int) -> str:
    """SQL text of the reason for a money value that did not convert: too large, or not a
    number with at most ``scale`` decimals."""
    t = f"trim({number_text(col)})"
    bound = "1" + "0" * (18 - scale)
    # Exact where the value fits DECIMAL(38, 10); a DOUBLE tells only for larger ones.
    large = (
        f"coalesce(abs(TRY_CAST({t} AS DECIMAL(38, 10))) >= {bound}, "
        f"abs(TRY_CAST({t} AS DOUBLE)) >= {bound})"
    )
    got = f"'\"' || left({number_text(col)}, 60) || '\"'"
    return (
        f"CASE WHEN {large} THEN '{name}: too large: money holds -{money_limit(scale)} "
        f"to {money_limit(scale)}, got ' || {got} "
        f"ELSE '{name}: expected a number with at most {scale} decimals, got ' || {got} END"
    )


def cast_can_fail(col: SourceColumn, logical: str) -> bool:
    """False when a typed column already has the logical type, so no row can be rejected."""
    return not (col.kind == "typed" and typed_logical(col.duck_type) == logical)


def money_can_fail(col: SourceColumn, scale: int) -> bool:
    """False when a typed DECIMAL column always fits DECIMAL(18, scale) exactly."""
    found = (
        re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", col.duck_type) if col.kind == "typed" else None
    )
    if found is None:
        return True
    precision, places = int(found[1]), int(found[2])
    return places > scale or precision - places > 18 - scale


# ISO 8601 instants as the files we read write them: a date alone, or a date and a time of
# hh:mm or hh:mm:ss (a fraction after '.' or ','), then 'Z', an offset or nothing (UTC), in
# the extended form (2024-06-01T10:00:00Z; a space for the 'T', as RFC 3339 and most CSV
# exports write it) or the basic form (20240601T100000Z), not mixed. Nothing else is read:
# DuckDB's own parser also takes 2024-6-1, 'epoch', 2-digit years and zone names (' UTC').
_HOUR_OFFSET = (r"(?:[01][0-9]|2[0-3])", "[0-5][0-9]")
_ANY_OFFSET = ("[0-9]{2}", "[0-9]{2}")


def _iso_pattern(offset: tuple[str, str]) -> str:
    hours, minutes = offset
    fraction = r"(?:[.,][0-9]+)?"
    extended = (
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}" + fraction + ")?"
        r"(?:Z|[+-]" + hours + "(?::?" + minutes + ")?)?)?"
    )
    basic = (
        r"[0-9]{8}(?:T[0-9]{4}(?:[0-9]{2}" + fraction + ")?"
        r"(?:Z|[+-]" + hours + "(?:" + minutes + ")?)?)?"
    )
    return f"(?:{extended})|(?:{basic})"


# The common form DuckDB reads as it is: checked, then cast without rewriting.
_ISO_PLAIN: Final = quote_str(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?"
)
_ISO: Final = quote_str(_iso_pattern(_HOUR_OFFSET))
_ISO_ANY_OFFSET: Final = quote_str(_iso_pattern(_ANY_OFFSET))
# Groups of any form above, once checked: date, hour, minute, second, fraction, offset.
_ISO_PARTS: Final = quote_str(
    r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})(?:[T ]([0-9]{2}):?([0-9]{2})"
    r"(?::?([0-9]{2})(?:[.,]([0-9]+))?)?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)


def _iso_rewritten(s: str) -> str:
    """SQL: a checked ISO 8601 instant (:data:`_ISO`) rewritten in the extended form with
    seconds and a '.' fraction, which DuckDB reads."""

    def part(n: int) -> str:
        return f"regexp_extract({s}, {_ISO_PARTS}, {n})"

    return (
        f"{part(1)} || '-' || {part(2)} || '-' || {part(3)} || CASE WHEN {part(4)} = '' "
        f"THEN '' ELSE ' ' || {part(4)} || ':' || {part(5)} || ':' || "
        f"coalesce(nullif({part(6)}, ''), '00') || CASE WHEN {part(7)} = '' THEN '' "
        f"ELSE '.' || {part(7)} END || {part(8)} END"
    )


_DIGITS_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_DIGITS_TIME = "[T ][0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
# The commonest forms, matched by GLOB first: a regular expression took twice as long.
_SIMPLE_FORMS: Final = tuple(
    quote_str(_DIGITS_DATE + tail)
    for tail in (
        _DIGITS_TIME + "Z",
        _DIGITS_TIME + ".[0-9][0-9][0-9][0-9][0-9][0-9]Z",  # microseconds, as Python writes
        _DIGITS_TIME + ".[0-9][0-9][0-9]Z",  # milliseconds, as JavaScript writes
        # Real offsets are -12:00..+14:00; "-" first: DuckDB's GLOB matches nothing with [+-].
        _DIGITS_TIME + "[-+][01][0-9]:[0-5][0-9]",
        _DIGITS_TIME,
        "",
    )
)


def _iso_simple(s: str) -> str:
    return "(" + " OR ".join(f"{s} GLOB {form}" for form in _SIMPLE_FORMS) + ")"


def iso_instant(s: str) -> str:
    """SQL: the ISO 8601 instant in the trimmed text ``s`` as a TIMESTAMPTZ (no offset:
    UTC), NULL when ``s`` is not one. The commonest forms cost a GLOB, other extended forms
    a regular expression, the rest (basic form, ',' fractions, hh:mm) a rewrite as well."""
    return (
        f"CASE WHEN {_iso_simple(s)} THEN TRY_CAST({s} AS TIMESTAMPTZ) "
        # Text that cannot be a date (most of a string column) skips the expressions.
        f"WHEN length({s}) < 8 OR NOT substr({s}, 1, 1) BETWEEN '0' AND '9' THEN NULL "
        f"WHEN regexp_full_match({s}, {_ISO_PLAIN}) THEN TRY_CAST({s} AS TIMESTAMPTZ) "
        f"WHEN regexp_full_match({s}, {_ISO}) THEN TRY_CAST({_iso_rewritten(s)} AS TIMESTAMPTZ) "
        "END"
    )


def bad_offset(text_sql: str) -> str:
    """SQL: true when ``text_sql`` is an ISO 8601 timestamp but for its UTC offset (DuckDB
    reads +24:00 as a day and +05:60 as six hours; offsets are -23:59..+23:59)."""
    s = f"trim({text_sql})"
    return (
        f"coalesce(regexp_full_match({s}, {_ISO_ANY_OFFSET}) "
        f"AND NOT regexp_full_match({s}, {_ISO}), false)"
    )


def _int_text(s: str) -> str:
    # BIGINT casts round 12.5 to 13 and read 0x10 as hex; equal to its DOUBLE reading or not.
    as_int = f"TRY_CAST({s} AS BIGINT)"
    return f"CASE WHEN TRY_CAST({s} AS DOUBLE) = {as_int} THEN {as_int} END"


def _cast_text(t: str, logical: str, scale: int) -> str:
    s = f"trim({t})"
    if logical == "string":
        return t
    if logical == "bool":
        return f"TRY_CAST({s} AS BOOLEAN)"
    if logical == "integer":
        return _int_text(s)
    if logical == "float":
        return f"CASE WHEN isfinite(TRY_CAST({s} AS DOUBLE)) THEN TRY_CAST({s} AS DOUBLE) END"
    if logical == "money":
        # More decimals than we keep: the DECIMAL(18, scale) reading differs from the exact one.
        kept = f"TRY_CAST({s} AS DECIMAL(18, {scale}))"
        return f"CASE WHEN {kept} = TRY_CAST({s} AS DECIMAL(38, 10)) THEN {kept} END"
    if logical in ("timestamp", "date"):
        return f"CAST({iso_instant(s)} AS {STORAGE_TYPES[logical]})"
    if logical == "list":
        return f"TRY_CAST(TRY_CAST({s} AS JSON) AS VARCHAR[])"
    raise ValueError(f"unknown logical type {logical!r}")


def _cast_typed(col: SourceColumn, logical: str, scale: int) -> str:
    c, dt = col.sql, col.duck_type
    numeric = _is_numeric(dt)
    if logical == "string":
        return f"CAST({c} AS VARCHAR)"
    if logical == "integer" and numeric and not _is_integer(dt):
        # Reject 12.5 instead of rounding it; whole floats (3.0) are fine.
        return f"CASE WHEN {c} = trunc({c}) THEN TRY_CAST({c} AS BIGINT) END"
    if logical == "money":
        if not numeric:
            return _cast_text(col.text(), logical, scale)
        if not money_can_fail(col, scale):
            return f"CAST({c} AS DECIMAL(18, {scale}))"
        exact = f"TRY_CAST(round({c}, {scale}) AS DECIMAL(18, {scale}))"
        if dt.startswith("DECIMAL"):
            # An exact decimal with more places than we keep is rejected, not rounded.
            return f"CASE WHEN {c} = round({c}, {scale}) THEN {exact} END"
        return exact
    if logical == "float" and numeric:
        return f"CASE WHEN isfinite(CAST({c} AS DOUBLE)) THEN CAST({c} AS DOUBLE) END"
    if logical in ("integer", "float", "bool", "timestamp", "date") and dt == "VARCHAR":
        return _cast_text(col.text(), logical, scale)
    return f"TRY_CAST({c} AS {STORAGE_TYPES[logical]})"


def _is_numeric(duck_type: str) -> bool:
    return duck_type.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")) or _is_integer(duck_type)


def _is_integer(duck_type: str) -> bool:
    names = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT")
    return duck_type in (*names, "UINTEGER", "UBIGINT", "UHUGEINT")


def typed_logical(duck_type: str) -> str | None:
    """The logical type a natively typed column maps to; None means infer from its text."""
    if duck_type == "BOOLEAN":
        return "bool"
    if _is_integer(duck_type):
        return "integer"
    if _is_numeric(duck_type):
        return "float"
    if duck_type.startswith(("TIMESTAMP", "DATE")):
        return "timestamp"
    if duck_type.endswith("[]"):
        return "list"
    if duck_type == "VARCHAR":
        return "string"
    return "string"


def inference_aggregates(col: SourceColumn, idx: int) -> list[str]:
    """Aggregates whose results :func:`pick_type` turns into the column's logical type."""
    if col.kind == "typed":
        # A typed input (Parquet, Arrow) already says what a column is; a string is a string.
        return [f"count({col.sql}) AS n{idx}"]
    t = f"trim({col.text()})"
    not_ts = f"{iso_instant(t)} IS NULL"
    if col.kind == "json":
        jt = f"json_type({col.sql})"
        return [
            f"count(*) FILTER (WHERE {col.present()}) AS n{idx}",
            f"list_distinct(list({jt}) FILTER (WHERE {col.present()})) AS jt{idx}",
            f"count(*) FILTER (WHERE {jt} = 'VARCHAR' AND {not_ts}) AS badts{idx}",
        ]
    bad = f"count(*) FILTER (WHERE {t} IS NOT NULL AND "
    return [
        f"count({col.text()}) AS n{idx}",
        f"{bad}lower({t}) NOT IN {_BOOL_WORDS}) AS badbool{idx}",
        f"{bad}{_int_text(t)} IS NULL) AS badint{idx}",
        f"{bad}NOT coalesce(isfinite(TRY_CAST({t} AS DOUBLE)), false)) AS badfloat{idx}",
        f"{bad}{not_ts}) AS badts{idx}",
    ]


def pick_type(col: SourceColumn, idx: int, stats: dict[str, object]) -> str | None:
    """The inferred logical type from :func:`inference_aggregates` results (None: no values)."""
    if not stats[f"n{idx}"]:
        return None
    if col.kind == "typed":
        return typed_logical(col.duck_type)
    if col.kind == "json":
        kinds = set(stats[f"jt{idx}"] or [])  # type: ignore[call-overload]
        return _json_type(kinds, bad_ts=bool(stats[f"badts{idx}"]))
    for logical, key in (("bool", "badbool"), ("integer", "badint"), ("float", "badfloat")):
        if not stats[f"{key}{idx}"]:
            return logical
    return "timestamp" if not stats[f"badts{idx}"] else "string"


def _json_type(kinds: set[str], bad_ts: bool) -> str:
    if kinds == {"BOOLEAN"}:
        return "bool"
    if kinds <= {"BIGINT", "UBIGINT"}:
        return "integer"
    if kinds <= {"BIGINT", "UBIGINT", "DOUBLE"}:
        return "float"
    if kinds == {"ARRAY"}:
        return "list"
    if kinds == {"VARCHAR"} and not bad_ts:
        return "timestamp"
    return "string"
