"""What the façade reads and writes of the segments' history directly: retiring a
segment (``segment_state``), a segment's entries and exits (``segment_changes``), and
which segments have a good refresh (``segment_runs``). The rest of the segments' tables
is store/segments.py's.

Parameterized SQL (values as ``?``, no names written into a statement): retiring is a
DELETE and an INSERT inside the caller's transaction (store/txn.py), which Ibis cannot
say; the history keeps its one statement, whose optional ``since`` is a parameter, and is
returned as Arrow as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


def retire(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Mark segment ``name`` retired now (call it inside a transaction)."""
    con.execute("DELETE FROM segment_state WHERE name = ?", [name])
    con.execute("INSERT INTO segment_state VALUES (?, now())", [name])


def changes(con: duckdb.DuckDBPyConnection, name: str, since: datetime | None) -> pa.Table:
    """Every entry and exit of segment ``name`` (since ``since``): ``customer_id``,
    ``change`` and ``as_of``, oldest first."""
    result = con.execute(
        "SELECT p.customer_id, c.change, c.as_of FROM segment_changes c "
        "JOIN profiles p USING (pid) WHERE c.name = ? AND (? IS NULL OR c.as_of >= ?) "
        "ORDER BY c.as_of, c.change, p.customer_id",
        [name, since, since],
    )
    return result.arrow().read_all()


def refreshed_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The segments with at least one good refresh."""
    rows = con.execute("SELECT DISTINCT name FROM segment_runs WHERE status = 'ok'")
    return {name for (name,) in rows.fetchall()}
