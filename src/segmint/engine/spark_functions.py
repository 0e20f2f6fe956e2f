"""Spark SQL builtins that the compiler calls by name through Ibis.

Like engine/duckdb_functions.py: imported only when compiling for Spark, without
postponed annotations, because Ibis reads these type hints at runtime. Ibis's own JSON
accessors compile to Python UDFs registered only inside an Ibis session (shared/STACK.md);
these are plain Spark SQL, so the compiled query runs on any Spark and stays in the JVM.
"""

import ibis
import ibis.expr.datatypes as dt


@ibis.udf.scalar.builtin(name="get_json_object")  # type: ignore[untyped-decorator]
def get_json_object(value: str, path: str) -> str:  # type: ignore[empty-body]
    """The text of the JSON value at ``path`` (``$.key``): a string without its quotes, a
    number or boolean as written, an array or object as JSON; NULL when missing or null."""


@ibis.udf.scalar.builtin(name="from_json")  # type: ignore[untyped-decorator]
def strings_from_json(value: str, schema: str) -> dt.Array(dt.string):  # type: ignore[valid-type]
    """A JSON array text as an array of strings (``schema`` is ``'array<string>'``)."""


@ibis.udf.scalar.builtin(name="unix_micros")  # type: ignore[untyped-decorator]
def unix_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """Microseconds since 1970-01-01 UTC, whatever the session time zone."""


@ibis.udf.agg.builtin(name="bit_or")  # type: ignore[untyped-decorator]
def bit_or(value: dt.int64) -> dt.int64:
    """The bitwise OR of a column's values (Ibis has no PySpark rule for ``bit_or``)."""
