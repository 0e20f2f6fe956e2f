"""DuckDB builtins that the compiler calls by name through Ibis.

Kept in its own module, imported only when compiling for DuckDB: Ibis reads the type
hints of these declarations at runtime, so this module must not use postponed
annotations (``from __future__ import annotations``) and must import ibis eagerly.
"""

import ibis
import ibis.expr.datatypes as dt


@ibis.udf.scalar.builtin(name="json_extract_string")  # type: ignore[untyped-decorator]
def json_extract_string(value: dt.JSON, path: str) -> str:  # type: ignore[empty-body]
    """The text of the JSON value at ``path`` (``->>``); NULL when missing or null."""


@ibis.udf.scalar.builtin(name="getvariable")  # type: ignore[untyped-decorator]
def getvariable(variable: str) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type]
    """The value of a DuckDB variable (``SET VARIABLE``); folded to a constant when the
    query is planned, so filters on it still prune row groups."""


@ibis.udf.scalar.builtin(name="getvariable")  # type: ignore[untyped-decorator]
def getvariable_int(variable: str) -> dt.int32:
    """:func:`getvariable` of an integer variable (the id of a CLV fit)."""


@ibis.udf.scalar.builtin(name="epoch_us")  # type: ignore[untyped-decorator]
def epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """Microseconds since 1970-01-01 UTC: plain arithmetic, where ``date_diff`` on a
    TIMESTAMPTZ goes through the ICU calendar (about 100x slower on 50M rows)."""


@ibis.udf.scalar.builtin(name="strip_accents")  # type: ignore[untyped-decorator]
def strip_accents(value: str) -> str:  # type: ignore[empty-body]
    """``value`` without its accents (``é`` becomes ``e``): one pass in C++, where a
    TRANSLATE of every accented Latin letter takes 25x longer."""
