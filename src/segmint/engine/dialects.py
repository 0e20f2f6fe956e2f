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
    # Event conditions as bits of one left-joined hit mask per customer rather than
    # ``pid IN``/``NOT IN`` subqueries (rules/compile.py): where ``NOT IN`` is null-aware
    # and slow (a nested loop on Spark, a hashed subplan bounded by work_mem on PostgreSQL).
    JOIN_MEASURES: ClassVar[bool] = False
    # RFM scores from a cumulative count over the distinct values of each measure rather
    # than ``rank()`` over every buyer (traits/expressions.py ``add_rfm``): where a window
    # without a partition runs in one task (Spark moves every buyer to one partition).
    GROUPED_RANKS: ClassVar[bool] = False
    # With JOIN_MEASURES, a rule's required event conditions also filter the customers
    # through ``pid IN`` (rules/compile.py ``Compiler.required``), which the planner turns
    # into a semi join it can drive from the few customers they find.
    SEMI_JOINS: ClassVar[bool] = False
    # What a letter is inside a regular-expression bracket, in any script (hashed names
    # keep their non-ASCII letters, activation/audiences.py): Unicode classes on RE2
    # (DuckDB) and Java (Spark).
    LETTER: ClassVar[str] = r"\p{L}\p{M}"

    def sha256_hex(self, value: ir.StringValue) -> ir.StringValue:
        """The SHA-256 digest of the UTF-8 bytes of ``value`` as 64 lower-case hex digits."""
        digest: ir.StringValue = value.hexdigest("sha256")
        return digest

    def strip_accents(self, value: ir.StringValue, accented: str, plain: str) -> ir.StringValue:
        """``value`` with each letter of ``accented`` replaced by the letter of ``plain`` at
        the same place (a TRANSLATE every engine has)."""
        return value.translate(accented, plain)

    def lookup(self, value: ir.StringValue, mapping: dict[str, str]) -> ir.StringValue:
        """``mapping[value]`` (NULL for a value it lacks): one CASE, which every engine
        compiles."""
        import ibis

        null = ibis.null().cast("string")
        found: ir.StringValue = value.cases(*mapping.items(), else_=null)
        return found

    def json_string(self, value: ir.JSONValue) -> ir.StringValue:
        return value.str

    def quantile(self, value: ir.NumericColumn, q: float) -> ir.NumericScalar:
        """The interpolated quantile ``q`` of a column."""
        return value.quantile(q)

    def bit_or(self, value: ir.IntegerColumn) -> ir.IntegerScalar:
        """The bitwise OR of an integer column (the compiler's hit masks)."""
        return value.bit_or()

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


# The ISO 8601 shape an instant must have before PostgreSQL casts it (a cast that fails
# would fail the whole query); the ingest stores timestamp properties in this shape.
_ISO_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
)


# An offset after a time of day (a bare date's "-01" is its day, not an offset).
_OFFSET = r"^.{10}[T ].*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def _utc_if_naive(
    text: ir.StringValue, suffix: str, date_only: str | None = None
) -> ir.StringValue:
    """An instant written without an offset is UTC (DESIGN section 4), as DuckDB reads it;
    PostgreSQL and Spark would read it in the session time zone, so the offset is added.
    ``date_only`` is the suffix for a bare date, where it differs."""
    import ibis

    naive = text + suffix
    if date_only is not None:
        naive = ibis.ifelse(text.length() == 10, text + date_only, naive)
    return ibis.ifelse(text.re_search(_OFFSET), text, naive)


class DuckDBBackend(Backend):
    name = dialect = "duckdb"

    def lookup(self, value: ir.StringValue, mapping: dict[str, str]) -> ir.StringValue:
        # A MAP literal: DuckDB writes ``CASE x WHEN a ...`` as ``CASE WHEN x = a ...``, so a
        # CASE of 245 calling codes compares every row 245 times, again wherever the
        # expression is repeated (NULLIF repeats its argument); the map looks it up once
        # (a 100k-row phone column: 0.9 s instead of 6.9 s).
        import ibis

        found: ir.StringValue = ibis.map(mapping).get(value)
        return found

    def strip_accents(self, value: ir.StringValue, accented: str, plain: str) -> ir.StringValue:
        # DuckDB's own, which drops every combining mark after decomposing: the same
        # letters for the Latin ones ``accented`` lists, in one pass (a TRANSLATE of them
        # takes 3 s on 400k cities).
        from segmint.engine.duckdb_functions import strip_accents

        stripped: ir.StringValue = strip_accents(value)
        return stripped

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
    """PostgreSQL: properties are read as ``jsonb`` (a ``json`` column is cast, once per
    query), each through one member lookup whose JSON type is checked before converting,
    since PostgreSQL has no TRY_CAST. Epochs come from ``EXTRACT(epoch FROM timestamptz)``,
    which does not depend on the session time zone (Ibis's own difference casts both sides
    to a zone-less timestamp first)."""

    name = dialect = "postgres"
    JOIN_MEASURES = True
    SEMI_JOINS = True
    # PostgreSQL's regular expressions have no \p{...}; [:alpha:] follows the database's
    # locale, which knows non-ASCII letters in a UTF-8 database.
    LETTER = "[:alpha:]"

    def sha256_hex(self, value: ir.StringValue) -> ir.StringValue:
        # Ibis 12 compiles no HexDigest for PostgreSQL; sha256() takes bytes (PostgreSQL 11+).
        from segmint.engine.postgres_functions import convert_to, encode, sha256

        digest: ir.StringValue = encode(sha256(convert_to(value, "UTF8")), "hex")
        return digest

    def epoch_us(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        # EXTRACT(epoch ...) is an exact numeric on PostgreSQL 14+.
        return (ts.epoch_seconds() * 1_000_000).cast("int64")

    def json_property(self, properties: ir.JSONValue, prop: str, kind: str) -> ir.Value:
        import ibis

        from segmint.engine.postgres_functions import JSONB, jsonb_member, jsonb_text, jsonb_typeof

        jsonb = properties.cast(JSONB)
        value = jsonb_member(jsonb, prop)
        json_type = jsonb_typeof(value)
        text: ir.StringValue = jsonb_text(jsonb, prop)
        none = ibis.null().cast("string")
        if kind == "string":
            return ibis.ifelse(json_type == "string", text, none)
        if kind == "float":
            return ibis.ifelse(json_type == "number", text, none).cast("float64")
        if kind == "integer":
            # A JSON number with a fraction or an exponent is no integer (NULL), as a
            # failed TRY_CAST on DuckDB.
            whole = (json_type == "number") & text.re_search(r"^-?[0-9]+$")
            return ibis.ifelse(whole, text, none).cast("int64")
        if kind == "bool":
            return ibis.ifelse(json_type == "boolean", text, none).cast("boolean")
        if kind == "timestamp":
            iso = (json_type == "string") & text.re_search(_ISO_INSTANT)
            return ibis.ifelse(iso, _utc_if_naive(text, " UTC"), none).cast(IBIS_TYPES[kind])
        # A list: NULL when the member is missing or not an array (an empty array stays
        # empty); its string items, other items NULL.
        items = value.array.map(lambda item: self.json_string(item))
        return ibis.ifelse(json_type == "array", items, ibis.null().cast(IBIS_TYPES["list"]))


class SnowflakeBackend(Backend):
    name = dialect = "snowflake"


class BigQueryBackend(Backend):
    name = dialect = "bigquery"
    SUPPORTS_LIST_PROPERTIES = False  # ibis 12 cannot compile JSON arrays for BigQuery

    def quantile(self, value: ir.NumericColumn, q: float) -> ir.NumericScalar:
        # BigQuery has no exact quantile aggregate (ibis 12 compiles none); APPROX_QUANTILES.
        return value.approx_quantile(q)


class SparkBackend(Backend):
    """Spark: properties are a JSON string column, read with ``get_json_object`` and
    converted with ``TRY_CAST`` (Ibis's typed accessors become Python UDFs that exist only
    inside an Ibis session, shared/STACK.md); epochs with ``unix_micros``, which does not
    depend on the session time zone. Quantiles stay exact (Ibis compiles them to Spark's
    ``percentile``, which keeps a count per distinct value: the traits' quantiles are over
    day gaps and order counts, few distinct values; docs/engines.md)."""

    name = "spark"
    dialect = "pyspark"
    JOIN_MEASURES = True
    GROUPED_RANKS = True

    def json_string(self, value: ir.JSONValue) -> ir.StringValue:
        # ``.str`` becomes a pandas UDF on PySpark that fails (shared/STACK.md).
        return value.cast("string")

    def bit_or(self, value: ir.IntegerColumn) -> ir.IntegerScalar:
        from segmint.engine.spark_functions import bit_or

        result: ir.IntegerScalar = bit_or(value)
        return result

    def epoch_us(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        from segmint.engine.spark_functions import unix_micros

        value: ir.IntegerValue = unix_micros(ts)
        return value

    def json_property(self, properties: ir.JSONValue, prop: str, kind: str) -> ir.Value:
        from segmint.engine.spark_functions import get_json_object, strings_from_json

        text: ir.StringValue = get_json_object(properties.cast("string"), f"$.{prop}")
        if kind == "string":
            return text
        if kind == "list":
            items: ir.ArrayValue = strings_from_json(text, "array<string>")
            return items
        if kind == "timestamp":
            text = _utc_if_naive(text, "Z", date_only="T00:00:00Z")
        return text.try_cast(IBIS_TYPES[kind])


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
