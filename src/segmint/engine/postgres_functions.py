"""PostgreSQL builtins that the compiler calls by name through Ibis.

Like engine/duckdb_functions.py: imported only when compiling for PostgreSQL, without
postponed annotations, because Ibis reads these type hints at runtime.
"""

import ibis
import ibis.expr.datatypes as dt

JSONB = dt.JSON(binary=True)


@ibis.udf.scalar.builtin(name="jsonb_extract_path")  # type: ignore[untyped-decorator]
def jsonb_member(value: JSONB, key: str) -> JSONB:  # type: ignore[valid-type]
    """The member ``key`` of a JSON object (``->``); NULL when missing."""


@ibis.udf.scalar.builtin(name="jsonb_typeof")  # type: ignore[untyped-decorator]
def jsonb_typeof(value: JSONB) -> str:  # type: ignore[valid-type,empty-body]
    """``string``, ``number``, ``boolean``, ``array``, ``object`` or ``null``."""


@ibis.udf.scalar.builtin(name="jsonb_extract_path_text")  # type: ignore[untyped-decorator]
def jsonb_text(value: JSONB, key: str) -> str:  # type: ignore[valid-type,empty-body]
    """The text of member ``key`` (``->>``): a string without its quotes, a number or a
    boolean as written; NULL when missing or JSON null."""


@ibis.udf.scalar.builtin(name="convert_to")  # type: ignore[untyped-decorator]
def convert_to(value: str, encoding: str) -> dt.binary:
    """The bytes of ``value`` in ``encoding`` (``'UTF8'``)."""


@ibis.udf.scalar.builtin(name="sha256")  # type: ignore[untyped-decorator]
def sha256(value: dt.binary) -> dt.binary:
    """The SHA-256 digest of ``value`` (PostgreSQL 11+), as 32 bytes."""


@ibis.udf.scalar.builtin(name="encode")  # type: ignore[untyped-decorator]
def encode(value: dt.binary, form: str) -> str:  # type: ignore[empty-body]
    """``value`` written as text in ``form`` (``'hex'``: lower-case hex digits)."""
