"""The interface every engine implements: run Ibis expressions (or the SQL rendered from
them) with named parameters, and create, fill and drop tables.

Parameters are plain values by name (``{"segmint_as_of_minus_7d": datetime(...)}``); how an
engine passes them (DuckDB: ``SET VARIABLE``) is its own business, so nothing above this
layer writes engine-specific statements. What an engine can do is said by its capability
flags, class constants a caller checks before it relies on a feature.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from segmint.engine.dialects import BACKENDS, Backend

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

# A query: an Ibis expression, or SQL text rendered for this engine (a cached template).
Query = Any
Params = Mapping[str, object]


class Engine(ABC):
    """One database segmint runs on."""

    name: ClassVar[str]
    # Named parameters fold into a prepared query, so one SQL text serves every as_of.
    SUPPORTS_PARAMETERS: ClassVar[bool] = False
    # Temporary tables private to the session (staging, per-session CLV fits).
    SUPPORTS_TEMP_TABLES: ClassVar[bool] = True
    # Rules may read list-valued event properties (JSON arrays).
    SUPPORTS_LIST_PROPERTIES: ClassVar[bool] = True
    # BEGIN / COMMIT / ROLLBACK around several statements.
    SUPPORTS_TRANSACTIONS: ClassVar[bool] = True

    @property
    def backend(self) -> Backend:
        """What differs when compiling for this engine (engine/dialects.py)."""
        return BACKENDS[self.name]

    def sql(self, expr: ir.Expr, pretty: bool = False) -> str:
        """The SQL text of ``expr`` in this engine's dialect."""
        from segmint.engine.render import render_sql

        return render_sql(expr, self.name, pretty=pretty)

    def literal_text(self, query: Query, params: Params | None = None) -> str:
        """The SQL text of ``query`` for an engine without parameters: its values must be
        literals in the query, so parameters are refused."""
        if params:
            raise ValueError(
                f"the {self.name} engine takes no query parameters (got {sorted(params)}): "
                "write the values into the query as literals"
            )
        return query if isinstance(query, str) else self.sql(query)

    @abstractmethod
    def to_arrow(self, query: Query, params: Params | None = None) -> pa.Table:
        """The whole result of ``query`` as an Arrow table."""

    @abstractmethod
    def batches(
        self, query: Query, params: Params | None = None, rows: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        """The result of ``query`` in Arrow batches of at most ``rows`` rows, for results
        too large to hold at once; at least one batch (empty when the result is), so the
        schema is always known."""

    @abstractmethod
    def run(self, statement: str) -> None:
        """Run one statement that returns no rows (a view, a setting)."""

    def scalar(self, query: Query, params: Params | None = None) -> Any:
        """The first column of the first row of ``query`` (None without rows)."""
        table = self.to_arrow(query, params)
        return table.column(0)[0].as_py() if table.num_rows else None

    @abstractmethod
    def create_table(
        self, name: str, source: Query | pa.Table, temporary: bool = False, replace: bool = True
    ) -> None:
        """Create table ``name`` from an expression, SQL text or an Arrow table."""

    @abstractmethod
    def insert(self, name: str, source: Query | pa.Table) -> None:
        """Append the rows of ``source`` to table ``name``."""

    @abstractmethod
    def drop_table(self, name: str, temporary: bool = False) -> None:
        """Drop table ``name`` if it exists."""

    @abstractmethod
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction: committed when it ends, rolled back when it
        raises. (The store's crash-safe writes, store/txn.py, build on the DuckDB file.)"""
