"""What differs between the engines segmint compiles for: JSON property access,
quantiles, epoch arithmetic, and the name of each SQL dialect in Ibis.

The compiler (rules/compile.py) and the traits (traits/expressions.py) build one Ibis
expression for every engine and ask the engine's :class:`Backend` for the few pieces
that differ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from segmint.errors import BackendError

if TYPE_CHECKING:
    import ibis.expr.types as ir

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The Ibis type of each logical type of the catalogs (store/schema.py STORAGE_TYPES).
IBIS_TYPES = {
    "string": "string",
    "integer": "int64",
    "float": "float64",
    "bool": "boolean",
    "timestamp": "timestamp('UTC')",
    "date": "date",
    "list": "array<string>",
}
# The engines a rule compiles for (segment sql --dialect).
DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")


class Backend:
    """What differs between engines when compiling; subclasses override only that.

    The base reads JSON properties with Ibis's portable accessors, which check the JSON
    type of each value before converting it.
    """

    name: ClassVar[str] = "portable"
    dialect: ClassVar[str] = "duckdb"
    SUPPORTS_LIST_PROPERTIES: ClassVar[bool] = True

    def json_string(self, value: ir.JSONValue) -> ir.StringValue:
        return value.str

    def quantile(self, value: ir.NumericColumn, q: float) -> ir.NumericScalar:
        """The interpolated quantile ``q`` of a column."""
        return value.quantile(q)

    def epoch_us(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        """Microseconds since 1970-01-01 UTC (for exact day arithmetic)."""
        import ibis

        return ts.delta(ibis.literal(EPOCH, type="timestamp('UTC')"), unit="microsecond")

    def json_property(self, properties: ir.JSONValue, prop: str, kind: str) -> ir.Value:
        """The value of property ``prop`` (an identifier) as logical type ``kind``."""
        raw = properties[prop]
        if kind == "string":
            return self.json_string(raw)
        if kind == "integer":
            return raw.int
        if kind == "float":
            return raw.float
        if kind == "bool":
            return raw.bool
        if kind == "timestamp":
            return self.json_string(raw).try_cast("timestamp('UTC')")
        if not self.SUPPORTS_LIST_PROPERTIES:
            # rules/compile.py check_backend refuses such a rule first, with its node path.
            raise BackendError("", self.name, f"the list property {prop!r} in a rule")
        return raw.array.map(lambda item: self.json_string(item))


class DuckDBBackend(Backend):
    name = dialect = "duckdb"

    def epoch_us(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        from segmint.engine.duckdb_functions import epoch_us

        value: ir.IntegerValue = epoch_us(ts)
        return value

    def json_property(self, properties: ir.JSONValue, prop: str, kind: str) -> ir.Value:
        # One ``->>`` extraction and a TRY_CAST: 2-2.7x faster than Ibis's type-checked
        # accessors, which extract each value twice (measured on 1.6M events). The ingest
        # catalogs keep one type per property, so the check buys nothing here.
        if kind == "list":
            return super().json_property(properties, prop, kind)
        from segmint.engine.duckdb_functions import json_extract_string

        text: ir.StringValue = json_extract_string(properties, f"$.{prop}")
        return text if kind == "string" else text.try_cast(IBIS_TYPES[kind])


class PostgresBackend(Backend):
    name = dialect = "postgres"


class SnowflakeBackend(Backend):
    name = dialect = "snowflake"


class BigQueryBackend(Backend):
    name = dialect = "bigquery"
    SUPPORTS_LIST_PROPERTIES = False  # ibis 12 cannot compile JSON arrays for BigQuery

    def quantile(self, value: ir.NumericColumn, q: float) -> ir.NumericScalar:
        # BigQuery has no exact quantile aggregate (ibis 12 compiles none); APPROX_QUANTILES.
        return value.approx_quantile(q)


class SparkBackend(Backend):
    name = "spark"
    dialect = "pyspark"
    SUPPORTS_LIST_PROPERTIES = False

    def json_string(self, value: ir.JSONValue) -> ir.StringValue:
        # ``.str`` becomes a pandas UDF on PySpark that fails (shared/STACK.md).
        return value.cast("string")


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        DuckDBBackend(),
        PostgresBackend(),
        SparkBackend(),
        BigQueryBackend(),
        SnowflakeBackend(),
    )
}
