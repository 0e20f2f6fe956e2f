"""Cluster runs in the store: ``cluster_runs`` (one row per run, its result as JSON) and
``cluster_members`` (everyone's cluster in a run).

Reads of plain columns are Ibis expressions. The writes (INSERT from an Arrow table,
UPDATE of the JSON result) and the reads of stored JSON and timestamps are parameterized
SQL (``?`` placeholders, no names from callers): Ibis has no INSERT or UPDATE, and the
rows keep the Python values DuckDB gives (timestamps in the session's time zone, JSON as
text) that the cluster layer has always read. The caller holds the transaction
(store/txn.py) around :func:`next_run_id` and :func:`insert_run`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    import pyarrow as pa


@dataclass(frozen=True)
class RunRow:
    """One row of ``cluster_runs``; ``params`` and ``result`` are JSON text."""

    run_id: int
    created_at: datetime
    as_of: datetime
    k: int
    seconds: float
    params: str
    result: str


def _members_table() -> ir.Table:
    import ibis

    return ibis.table(
        {"run_id": "int32", "customer_id": "string", "cluster": "int32"}, name="cluster_members"
    )


def _runs_table() -> ir.Table:
    import ibis

    return ibis.table({"run_id": "int32"}, name="cluster_runs")


def has_events(con: duckdb.DuckDBPyConnection, events: list[str], until: datetime) -> bool:
    """Whether any event named in ``events`` happened at or before ``until``."""
    from segmint.engine.duckdb import DuckDBEngine
    from segmint.engine.tables import events_table

    e = events_table()
    found = e.filter(e.event.isin(events), e.ts <= until).select(one=1).limit(1)
    return bool(DuckDBEngine(con).to_arrow(found).num_rows > 0)


def next_run_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next run gets (one more than the largest; call it inside the write)."""
    row = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM cluster_runs").fetchone()
    return int(row[0]) if row else 1


def insert_run(con: duckdb.DuckDBPyConnection, run: RunRow, members: pa.Table) -> None:
    """Store a run and its ``members`` (``customer_id`` string, ``cluster`` int32)."""
    con.execute(
        "INSERT INTO cluster_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [run.run_id, run.created_at, run.as_of, run.k, run.seconds, run.params, run.result],
    )
    con.register("segmint_cluster_labels", members)
    try:
        con.execute(
            "INSERT INTO cluster_members SELECT ?, customer_id, cluster "
            "FROM segmint_cluster_labels",
            [run.run_id],
        )
    finally:
        con.unregister("segmint_cluster_labels")


def run_result(con: duckdb.DuckDBPyConnection, run_id: int) -> str | None:
    """The JSON result of run ``run_id``, or None when there is no such run."""
    row = con.execute("SELECT result FROM cluster_runs WHERE run_id = ?", [run_id]).fetchone()
    return None if row is None else str(row[0])


def run_ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The ids of the stored runs, oldest first."""
    from segmint.engine.duckdb import DuckDBEngine

    runs = _runs_table()
    table = DuckDBEngine(con).to_arrow(runs.select("run_id").order_by("run_id"))
    return [int(r) for r in table.column("run_id").to_pylist()]


def all_runs(con: duckdb.DuckDBPyConnection) -> list[RunRow]:
    """Every stored run without its result (``result`` is empty), oldest first."""
    rows = con.execute(
        "SELECT run_id, created_at, as_of, k, seconds, params FROM cluster_runs ORDER BY run_id"
    ).fetchall()
    return [
        RunRow(run_id, created, as_of, k, seconds, params, "")
        for run_id, created, as_of, k, seconds, params in rows
    ]


def update_result(con: duckdb.DuckDBPyConnection, run_id: int, result: str) -> None:
    """Replace the JSON result of run ``run_id``."""
    con.execute("UPDATE cluster_runs SET result = ? WHERE run_id = ?", [result, run_id])


def member_ids(con: duckdb.DuckDBPyConnection, run_id: int, cluster: int) -> list[str]:
    """The customer ids in cluster ``cluster`` of run ``run_id``, sorted."""
    from segmint.engine.duckdb import DuckDBEngine

    m = _members_table()
    query = (
        m.filter(m.run_id == run_id, m.cluster == cluster)
        .select("customer_id")
        .order_by("customer_id")
    )
    return list(DuckDBEngine(con).to_arrow(query).column("customer_id").to_pylist())
