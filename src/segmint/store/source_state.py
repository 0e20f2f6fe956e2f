"""segmint's own tables on a source: what a source-mode workspace writes where the data
lives (memberships, entries and exits, each customer's first and last event, CLV
predictions, cluster assignments), so that nothing large travels to the workspace.

Each table is a set of **versions**, written whole and never changed: a refresh writes
version ``refresh_id`` of ``segment_members``, a CLV fit version ``fit_id`` of
``clv_predictions``. A version is only read once the workspace's own DuckDB file names it
(its refresh, fit or run committed there), so the local commit is the one commit point:
a version written by a process killed before that commit is never read, and the next
write of the same number replaces it (docs/sources.md, "How it works").

- PostgreSQL: one table per name in ``[source] schema`` (created when first needed), with
  a ``v`` column; a version is written in one transaction (DELETE of the same version,
  then INSERT ... SELECT).
- Spark: one Parquet directory per version, ``STATE/TABLE/v=N``, written by a Spark job
  (which commits its files when it ends) and read back as a temporary view with ``v`` as
  a partition column. Dropping a version deletes its directory through Hadoop's file
  system API, so the state may be on any file system Spark reads (file:, hdfs:, s3a:).

Every table, column and type is declared here (``TABLES``); the queries written into a
version are the store's own SQL, and version numbers are integers.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmint.engine.base import Engine

# Each table's columns and their logical types (text, int, float, ts, bool).
TABLES: dict[str, dict[str, str]] = {
    # Who is in each segment after a refresh (version: the refresh id).
    "segment_members": {"name": "text", "pid": "text"},
    # Who entered and exited each segment in a refresh (version: the refresh id).
    "segment_changes": {"name": "text", "pid": "text", "change": "text", "as_of": "ts"},
    # Each customer's first and last event (version: the build number).
    "activity": {"pid": "text", "first_event_at": "ts", "last_event_at": "ts"},
    # Each customer's cluster in a cluster run (version: the run id).
    "cluster_members": {"pid": "text", "cluster": "int"},
    # The CLV predictions per buyer of a fit (version: the fit id, kept in ``fit_id`` too,
    # the column compiled rules filter on, as on the workspace's store).
    "clv_predictions": {
        "fit_id": "int",
        "pid": "text",
        "p_alive": "float",
        "predicted_orders_365d": "float",
        "predicted_clv_365d": "float",
    },
}

_TYPES = {
    "postgres": {
        "text": "TEXT",
        "int": "BIGINT",
        "float": "DOUBLE PRECISION",
        "ts": "TIMESTAMPTZ",
        "bool": "BOOLEAN",
    },
    "spark": {
        "text": "STRING",
        "int": "BIGINT",
        "float": "DOUBLE",
        "ts": "TIMESTAMP",
        "bool": "BOOLEAN",
    },
}
_VIEWS = itertools.count()


@dataclass
class SourceState:
    """The versioned tables segmint keeps on ``engine``: in PostgreSQL schema ``schema``,
    or on Spark under ``location`` (a folder or URI)."""

    engine: Engine
    schema: str
    location: str

    def _columns(self, table: str) -> dict[str, str]:
        try:
            return TABLES[table]
        except KeyError:
            raise ValueError(f"not a source-state table: {table!r}") from None

    def _typed(self, table: str, alias: str) -> str:
        types = _TYPES[self.engine.name]
        return ", ".join(
            f"CAST({alias}.{column} AS {types[kind]}) AS {column}"
            for column, kind in self._columns(table).items()
        )

    def write(self, table: str, version: int, query: str) -> None:
        """Write ``query`` (the table's columns, by name) as version ``version`` of
        ``table``, replacing whatever an earlier, uncommitted attempt left there."""
        version = int(version)
        select = f"SELECT {self._typed(table, 'q')} FROM ({query}) q"
        if self.engine.name == "spark":
            frame = self.engine.spark.sql(select)  # type: ignore[attr-defined]
            frame.write.mode("overwrite").parquet(self._path(table, version))
            return
        qualified = self._qualified(table)
        with self.engine.transaction():
            self._declare(table)
            self.engine.run(f"DELETE FROM {qualified} WHERE v = {version}")
            self.engine.run(f"INSERT INTO {qualified} SELECT s.*, {version} FROM ({select}) s")

    def rows(self, table: str, versions: Collection[int]) -> str:
        """SQL a FROM clause can read: the rows of ``versions`` of ``table``, with their
        version as ``v`` (no rows when ``versions`` is empty)."""
        chosen = sorted({int(v) for v in versions})
        if not chosen:
            types = _TYPES[self.engine.name]
            nothing = ", ".join(
                f"CAST(NULL AS {types[kind]}) AS {column}"
                for column, kind in self._columns(table).items()
            )
            return f"(SELECT {nothing}, CAST(NULL AS BIGINT) AS v WHERE 1 = 0)"
        if self.engine.name == "spark":
            return self._spark_view(table, chosen)
        listed = ", ".join(str(v) for v in chosen)
        self._declare(table)
        return f"(SELECT * FROM {self._qualified(table)} WHERE v IN ({listed}))"

    def attach(self, table: str, versions: Collection[int], view: str) -> None:
        """Make the session's temporary view ``view`` (a plain name) show the rows of
        ``versions`` of ``table`` (without ``v``): how compiled rules, which name tables,
        read a version (``segment_members`` for segment references, ``clv_predictions``
        for the CLV traits)."""
        from segmint.engine.sqltext import plain_name

        columns = ", ".join(self._columns(table))
        self.engine.run(
            f"CREATE OR REPLACE TEMP VIEW {plain_name(view)} AS "
            f"SELECT {columns} FROM {self.rows(table, versions)} r"
        )

    def versions(self, table: str) -> set[int]:
        """The versions of ``table`` that hold rows (committed or not; on Spark, every
        version written, empty or not): what :meth:`drop` may have to remove."""
        if self.engine.name == "spark":
            return {int(name.removeprefix("v=")) for name in self._spark_list(table)}
        self._declare(table)
        found = self.engine.to_arrow(f"SELECT DISTINCT v FROM {self._qualified(table)}")
        return {int(v) for v in found.column(0).to_pylist()}

    def drop(self, table: str, versions: Collection[int]) -> None:
        """Remove ``versions`` of ``table``."""
        chosen = sorted({int(v) for v in versions})
        if not chosen:
            return
        if self.engine.name == "spark":
            for version in chosen:
                self._spark_delete(self._path(table, version))
            return
        listed = ", ".join(str(v) for v in chosen)
        self._declare(table)
        self.engine.run(f"DELETE FROM {self._qualified(table)} WHERE v IN ({listed})")

    # PostgreSQL -------------------------------------------------------------------------

    def _qualified(self, table: str) -> str:
        self._columns(table)
        return f'"{self.schema}"."{table}"'

    def _declare(self, table: str) -> None:
        types = _TYPES["postgres"]
        columns = ", ".join(f"{c} {types[k]}" for c, k in self._columns(table).items())
        qualified = self._qualified(table)
        found = self.engine.scalar(f"SELECT to_regclass('{qualified}') IS NOT NULL")
        if found:
            return
        with self.engine.transaction():
            self.engine.run(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            self.engine.run(
                f"CREATE TABLE IF NOT EXISTS {qualified} ({columns}, v BIGINT NOT NULL)"
            )
            self.engine.run(f'CREATE INDEX IF NOT EXISTS "{table}_v" ON {qualified} (v)')

    # Spark --------------------------------------------------------------------------------

    def _path(self, table: str, version: int) -> str:
        self._columns(table)
        return f"{self.location.rstrip('/')}/{table}/v={int(version)}"

    def _spark_view(self, table: str, versions: list[int]) -> str:
        spark: Any = self.engine.spark  # type: ignore[attr-defined]
        base = f"{self.location.rstrip('/')}/{table}"
        frame = spark.read.option("basePath", base).parquet(
            *(self._path(table, v) for v in versions)
        )
        name = f"_state_{table}_{next(_VIEWS)}"
        columns = [*self._columns(table), "v"]
        frame.selectExpr(
            *[c if c != "v" else "CAST(v AS BIGINT) AS v" for c in columns]
        ).createOrReplaceTempView(name)
        return name

    def _hadoop(self, path: str) -> tuple[Any, Any]:
        spark: Any = self.engine.spark  # type: ignore[attr-defined]
        jvm = spark.sparkContext._jvm
        target = jvm.org.apache.hadoop.fs.Path(path)
        return target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), target

    def _spark_list(self, table: str) -> list[str]:
        system, folder = self._hadoop(f"{self.location.rstrip('/')}/{table}")
        if not system.exists(folder):
            return []
        return [
            str(status.getPath().getName())
            for status in system.listStatus(folder)
            if status.isDirectory() and str(status.getPath().getName()).startswith("v=")
        ]

    def _spark_delete(self, path: str) -> None:
        system, target = self._hadoop(path)
        system.delete(target, True)
