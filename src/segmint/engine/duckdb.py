"""The DuckDB engine: segmint's embedded default.

Named parameters are DuckDB variables (``SET VARIABLE``), read in queries through
``getvariable`` (engine/duckdb_functions.py), which the planner folds to a constant, so
filters on them still prune row groups and one SQL text serves every as_of.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from segmint.engine.base import Engine, Params, Query
from segmint.engine.sqltext import plain_name

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


class DuckDBEngine(Engine):
    """An engine on one DuckDB connection (a workspace's ``segmint.duckdb``).

    >>> import duckdb, ibis
    >>> engine = DuckDBEngine(duckdb.connect())
    >>> engine.create_table("t", "SELECT range AS n FROM range(5)", temporary=True)
    >>> engine.scalar("SELECT count(*) FROM t WHERE n >= getvariable('low')", {"low": 2})
    3
    >>> t = ibis.table({"n": "int64"}, name="t")
    >>> engine.to_arrow(t.filter(t.n < 2).order_by("n")).column("n").to_pylist()
    [0, 1]
    """

    name: ClassVar[str] = "duckdb"
    SUPPORTS_PARAMETERS = True

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def _text(self, query: Query) -> str:
        return query if isinstance(query, str) else self.sql(query)

    def execute(self, query: Query, params: Params | None = None) -> duckdb.DuckDBPyConnection:
        """Set the parameters, run ``query`` and return the connection holding its result
        (for the few callers that read it row by row)."""
        for name, value in (params or {}).items():
            if value is None:
                # A NULL variable keeps its type: an integer one (a CLV fit id) stays one.
                self.con.execute(f"SET VARIABLE {plain_name(name)} = NULL::INTEGER")
            else:
                self.con.execute(f"SET VARIABLE {plain_name(name)} = ?", [value])
        return self.con.execute(self._text(query))

    def run(self, statement: str) -> None:
        self.con.execute(statement)

    def to_arrow(self, query: Query, params: Params | None = None) -> pa.Table:
        return self.execute(query, params).arrow().read_all()

    def batches(
        self, query: Query, params: Params | None = None, rows: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        reader = self.execute(query, params).arrow(rows)
        empty = True
        for batch in reader:
            empty = False
            yield batch
        if empty:
            yield pa.RecordBatch.from_pylist([], schema=reader.schema)

    def scalar(self, query: Query, params: Params | None = None) -> object:
        row = self.execute(query, params).fetchone()
        return None if row is None else row[0]

    def create_table(
        self, name: str, source: Query | pa.Table, temporary: bool = False, replace: bool = True
    ) -> None:
        kind = ("OR REPLACE " if replace else "") + ("TEMP " if temporary else "")
        if _is_arrow(source):
            self.con.register("_segmint_arrow", source)
            try:
                self.con.execute(
                    f"CREATE {kind}TABLE {plain_name(name)} AS SELECT * FROM _segmint_arrow"
                )
            finally:
                self.con.unregister("_segmint_arrow")
            return
        self.con.execute(f"CREATE {kind}TABLE {plain_name(name)} AS {self._text(source)}")

    def insert(self, name: str, source: Query | pa.Table) -> None:
        if _is_arrow(source):
            self.con.register("_segmint_arrow", source)
            try:
                self.con.execute(f"INSERT INTO {plain_name(name)} SELECT * FROM _segmint_arrow")
            finally:
                self.con.unregister("_segmint_arrow")
            return
        self.con.execute(f"INSERT INTO {plain_name(name)} {self._text(source)}")

    def drop_table(self, name: str, temporary: bool = False) -> None:
        where = "temp." if temporary else ""
        self.con.execute(f"DROP TABLE IF EXISTS {where}{plain_name(name)}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")


def _is_arrow(source: object) -> bool:
    import pyarrow as pa

    return isinstance(source, pa.Table)
