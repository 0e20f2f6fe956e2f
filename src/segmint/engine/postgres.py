"""The PostgreSQL engine: segments where the data already lives.

It runs on one psycopg 3 connection in autocommit mode (its own, from :func:`connect`, or
the one inside an Ibis postgres backend). Queries arrive as Ibis expressions or as SQL
text rendered for PostgreSQL, with their instants written in as literals: this engine
takes no named parameters (``SUPPORTS_PARAMETERS = False``) and refuses them.

Results become Arrow tables column by column from the rows psycopg returns, typed from
the result's column types (``_ARROW_OF_OID``); JSON values stay JSON text. Arrow tables
are written with ``COPY ... FROM STDIN`` into columns typed by ``_pg_type``. The session
time zone is UTC, so ``timestamptz`` values come back as UTC instants.

psycopg is imported inside the functions that use it: ``segmint --help`` never loads it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from segmint.engine.base import Engine, Params, Query
from segmint.engine.sqltext import plain_name, quote_ident

if TYPE_CHECKING:
    import psycopg
    import pyarrow as pa


# PostgreSQL type oids of result columns -> Arrow type names (``_arrow_type``); a type not
# listed (numeric, arrays...) is left to Arrow to infer from the Python values.
_ARROW_OF_OID: dict[int, str] = {
    16: "bool",
    17: "binary",
    20: "int64",
    21: "int16",
    23: "int32",
    25: "string",
    114: "json",
    700: "float32",
    701: "float64",
    1042: "string",
    1043: "string",
    1082: "date32",
    1083: "time64",
    1114: "timestamp",
    1184: "timestamptz",
    1186: "duration",
    2950: "uuid",
    3802: "json",
    1009: "strings",  # text[]
    1015: "strings",  # varchar[]
}


def _checked(name: str) -> str:
    """A plain identifier, quoted (so that its letter case is kept)."""
    return quote_ident(plain_name(name))


def connect(url: str) -> PostgresEngine:
    """An engine on a new connection to ``url`` (``postgresql://user@127.0.0.1:5432/db``),
    in autocommit mode with the session time zone set to UTC."""
    import psycopg

    return PostgresEngine(psycopg.connect(url, autocommit=True))


class PostgresEngine(Engine):
    """An engine on one PostgreSQL connection: a psycopg 3 connection, or an Ibis postgres
    backend (its ``con`` is used). Sets the session time zone to UTC."""

    name: ClassVar[str] = "postgres"
    SUPPORTS_PARAMETERS = False

    def __init__(self, con: psycopg.Connection[Any] | Any) -> None:
        # An Ibis backend holds its psycopg connection as ``con``.
        inner = getattr(con, "con", None)
        self.con: psycopg.Connection[Any] = inner if inner is not None else con
        self.con.execute("SET TIME ZONE 'UTC'")

    def _text(self, query: Query, params: Params | None = None) -> str:
        return self.literal_text(query, params)

    def run(self, statement: str) -> None:
        self.con.execute(statement)

    def to_arrow(self, query: Query, params: Params | None = None) -> pa.Table:
        import pyarrow as pa

        with self.con.cursor() as cur:
            _json_as_text(cur)
            cur.execute(self._text(query, params))
            names, oids = _columns(cur)
            rows = cur.fetchall()
        return pa.Table.from_batches([_batch(rows, names, oids)])

    def batches(
        self, query: Query, params: Params | None = None, rows: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        """A server-side cursor, fetched ``rows`` rows at a time. A cursor without hold
        lives in a transaction: outside :meth:`transaction` it gets one of its own, which
        ends when the batches are read."""
        text = self._text(query, params)
        with self.con.transaction(), self.con.cursor(name="segmint_batches") as cur:
            _json_as_text(cur)
            cur.itersize = rows
            cur.execute(text)
            names, oids = _columns(cur)
            chunk = cur.fetchmany(rows)
            yield _batch(chunk, names, oids)
            while chunk := cur.fetchmany(rows):
                yield _batch(chunk, names, oids)

    def scalar(self, query: Query, params: Params | None = None) -> object:
        with self.con.cursor() as cur:
            _json_as_text(cur)
            cur.execute(self._text(query, params))
            row = cur.fetchone()
        return None if row is None else row[0]

    def create_table(
        self, name: str, source: Query | pa.Table, temporary: bool = False, replace: bool = True
    ) -> None:
        table = _checked(name)
        kind = "TEMP " if temporary else ""
        with self.con.transaction():
            if replace and temporary:
                self.drop_table(name, temporary)
            elif replace:
                # The table CREATE makes is in current_schema(); an unqualified DROP would
                # find the first schema on the search_path that has one, maybe another's.
                schema = str(self.scalar("SELECT current_schema()"))
                self.con.execute(f"DROP TABLE IF EXISTS {quote_ident(schema)}.{table}")
            if _is_arrow(source):
                columns = ", ".join(
                    f"{quote_ident(f.name)} {_pg_type(f.type)}" for f in source.schema
                )
                self.con.execute(f"CREATE {kind}TABLE {table} ({columns})")
                self._copy(table, source)
            else:
                self.con.execute(f"CREATE {kind}TABLE {table} AS {self._text(source)}")

    def insert(self, name: str, source: Query | pa.Table) -> None:
        table = _checked(name)
        if _is_arrow(source):
            with self.con.transaction():
                self._copy(table, source)
        else:
            self.con.execute(f"INSERT INTO {table} {self._text(source)}")

    def _copy(self, table: str, source: pa.Table) -> None:
        columns = ", ".join(quote_ident(n) for n in source.column_names)
        with (
            self.con.cursor() as cur,
            cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for batch in source.to_batches(max_chunksize=10_000):
                for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                    copy.write_row(row)

    def drop_table(self, name: str, temporary: bool = False) -> None:
        where = "pg_temp." if temporary else ""
        self.con.execute(f"DROP TABLE IF EXISTS {where}{_checked(name)}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.con.transaction():
            yield


def _json_as_text(cur: psycopg.Cursor[Any]) -> None:
    """Read json and jsonb values as their text, not parsed into Python objects."""
    from psycopg.types.string import TextLoader

    for json_type in ("json", "jsonb"):
        cur.adapters.register_loader(json_type, TextLoader)


def _columns(cur: psycopg.Cursor[Any]) -> tuple[list[str], list[int]]:
    description = cur.description or []
    return [c.name for c in description], [c.type_code for c in description]


def _arrow_type(oid: int) -> pa.DataType | None:
    import pyarrow as pa

    kind = _ARROW_OF_OID.get(oid)
    types: dict[str, pa.DataType] = {
        "bool": pa.bool_(),
        "binary": pa.binary(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float32": pa.float32(),
        "float64": pa.float64(),
        "string": pa.string(),
        "json": pa.string(),
        "uuid": pa.string(),
        "date32": pa.date32(),
        "time64": pa.time64("us"),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "duration": pa.duration("us"),
        "strings": pa.list_(pa.string()),
    }
    return types.get(kind) if kind else None


def _batch(rows: list[tuple[Any, ...]], names: list[str], oids: list[int]) -> pa.RecordBatch:
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for values, oid in zip(columns, oids, strict=True):
        kind = _arrow_type(oid)
        if _ARROW_OF_OID.get(oid) == "uuid":
            values = tuple(None if v is None else str(v) for v in values)
        if kind is None and not rows:
            kind = pa.null()
        arrays.append(pa.array(values, type=kind))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _pg_type(arrow_type: pa.DataType) -> str:
    """The PostgreSQL column type for an Arrow type."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_boolean(arrow_type):
        return "boolean"
    if t.is_int8(arrow_type) or t.is_int16(arrow_type) or t.is_uint8(arrow_type):
        return "smallint"
    if t.is_int32(arrow_type) or t.is_uint16(arrow_type):
        return "integer"
    if t.is_int64(arrow_type) or t.is_uint32(arrow_type):
        return "bigint"
    if t.is_uint64(arrow_type):
        return "numeric(20, 0)"
    if t.is_float16(arrow_type) or t.is_float32(arrow_type):
        return "real"
    if t.is_float64(arrow_type):
        return "double precision"
    if t.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision}, {arrow_type.scale})"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_null(arrow_type):
        return "text"
    if t.is_binary(arrow_type) or t.is_large_binary(arrow_type):
        return "bytea"
    if t.is_date(arrow_type):
        return "date"
    if t.is_time(arrow_type):
        return "time"
    if t.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    if t.is_duration(arrow_type):
        return "interval"
    if isinstance(arrow_type, pa.DictionaryType):
        return _pg_type(arrow_type.value_type)
    if t.is_list(arrow_type) or t.is_large_list(arrow_type):
        # An array of the item type (list attributes: text[]).
        return _pg_type(arrow_type.value_type) + "[]"
    raise ValueError(f"no PostgreSQL column type for the Arrow type {arrow_type}")


def _is_arrow(source: object) -> bool:
    import pyarrow as pa

    return isinstance(source, pa.Table)
