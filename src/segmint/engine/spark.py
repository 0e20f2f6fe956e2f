"""The Spark engine: segments on a SparkSession, through Spark SQL.

Queries arrive as Ibis expressions (rendered to Spark SQL) or as SQL text, with their
instants written in as literals: this engine takes no named parameters
(``SUPPORTS_PARAMETERS = False``) and refuses them. Results come back through Spark's
Arrow path (``DataFrame.toArrow()``), so types are exact and no row becomes a Python
object.

* **Temporary tables** are temp views. One made from a query is materialized at once
  (``localCheckpoint``), so it holds the rows of the moment it was made, like a table, and
  is not the query again on each read. Inserting into a temp view makes it the union of
  its rows and the new ones, materialized again.
* **Tables** are managed tables of the session catalog (``saveAsTable``), files under
  ``spark.sql.warehouse.dir``.
* **Transactions**: Spark has none. ``SUPPORTS_TRANSACTIONS = False`` and
  :meth:`SparkEngine.transaction` only runs the block: what it wrote stays when it raises.

pyspark is imported inside the functions that use it: ``segmint --help`` never loads it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, ClassVar

from segmint.engine.base import Engine, Params, Query
from segmint.engine.sqltext import plain_name

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession


def session(
    master: str = "local[2]", conf: Mapping[str, str] | None = None, warehouse: str | None = None
) -> SparkSession:
    """A SparkSession set up for segmint: UTC session time zone, no web UI, two shuffle
    partitions, its warehouse in ``warehouse`` (a new temporary folder, removed when the
    process ends, if not given). ``conf`` adds or overrides settings.

    Workers run this Python (``PYSPARK_PYTHON``, so they have segmint's packages) and
    Spark binds to 127.0.0.1 (``SPARK_LOCAL_IP``), unless those variables are already
    set. A session is slow to start (~10 s): make one and keep it.
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if warehouse is None:
        warehouse = tempfile.mkdtemp(prefix="segmint-spark-")
        atexit.register(shutil.rmtree, warehouse, ignore_errors=True)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.warehouse.dir": warehouse,
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        **(conf or {}),
    }
    builder = SparkSession.builder.master(master).appName("segmint")
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkEngine(Engine):
    """An engine on one SparkSession (see :func:`session` to make one)."""

    name: ClassVar[str] = "spark"
    SUPPORTS_PARAMETERS = False
    SUPPORTS_TRANSACTIONS = False

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def _text(self, query: Query, params: Params | None = None) -> str:
        return self.literal_text(query, params)

    def frame(self, source: Query | pa.Table, params: Params | None = None) -> DataFrame:
        """A Spark DataFrame of a query or an Arrow table."""
        if _is_arrow(source):
            return self.spark.createDataFrame(source)
        return self.spark.sql(self._text(source, params))

    def run(self, statement: str) -> None:
        self.spark.sql(statement)

    def to_arrow(self, query: Query, params: Params | None = None) -> pa.Table:
        frame = self.frame(query, params)
        with warnings.catch_warnings():
            # pyspark reads the result from a local socket it leaves to the garbage
            # collector to close (pyspark/util.py ``_load_from_socket``): quietly.
            warnings.simplefilter("ignore", ResourceWarning)
            return frame.toArrow()

    def batches(
        self, query: Query, params: Params | None = None, rows: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        """The result collected to the driver as Arrow (``toArrow``), then cut into
        batches: memory holds the whole result once, in Arrow's compact form. The
        alternative, ``toLocalIterator``, holds one partition at a time but turns every
        value into a Python object (far slower, and timestamps into naive local times)."""
        import pyarrow as pa

        table = self.to_arrow(query, params)
        batches = table.to_batches(max_chunksize=rows)
        yield from batches or [pa.RecordBatch.from_pylist([], schema=table.schema)]

    def _is_view(self, name: str) -> bool:
        return any(t.name == name and t.isTemporary for t in self.spark.catalog.listTables())

    def create_table(
        self, name: str, source: Query | pa.Table, temporary: bool = False, replace: bool = True
    ) -> None:
        name = plain_name(name)
        frame = self.frame(source)
        if temporary:
            if not _is_arrow(source):
                frame = frame.localCheckpoint()
            if replace:
                frame.createOrReplaceTempView(name)
            else:
                frame.createTempView(name)
            return
        if replace:
            self.spark.sql(f"DROP TABLE IF EXISTS {name}")
        frame.write.saveAsTable(name, mode="overwrite" if replace else "errorifexists")

    def insert(self, name: str, source: Query | pa.Table) -> None:
        """Append by position, as ``INSERT INTO name SELECT ...`` does."""
        name = plain_name(name)
        frame = self.frame(source)
        if self._is_view(name):
            old = self.spark.table(name)
            both = old.union(frame.toDF(*old.columns)).localCheckpoint()
            both.createOrReplaceTempView(name)
            return
        frame.write.insertInto(name)

    def drop_table(self, name: str, temporary: bool = False) -> None:
        name = plain_name(name)
        if temporary:
            self.spark.catalog.dropTempView(name)
        else:
            self.spark.sql(f"DROP TABLE IF EXISTS {name}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Spark has no transactions: the block just runs, and what it wrote before an
        error stays (``SUPPORTS_TRANSACTIONS`` is False)."""
        yield


def _is_arrow(source: object) -> bool:
    import pyarrow as pa

    return isinstance(source, pa.Table)
