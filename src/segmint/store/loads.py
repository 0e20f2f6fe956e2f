"""The loads ledger: one row per load that landed, written in the load's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import duckdb


class LoadInProgress(Protocol):
    """What the store's load statements need of the load in progress (ingest's
    LoadContext has it)."""

    @property
    def con(self) -> duckdb.DuckDBPyConnection: ...
    @property
    def load_id(self) -> int: ...
    @property
    def started_at(self) -> datetime: ...

    def run(self, phase: str, sql: str) -> None:
        """Run one long statement as a progress phase."""


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next load takes (ids are never reused: a failed load writes no row)."""
    row = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchone()
    return int(row[0]) if row else 1


def record_load(con: duckdb.DuckDBPyConnection, values: Sequence[object]) -> None:
    """The ledger row of a load, in the column order of the ``loads`` table."""
    con.execute("INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(values))


def rejects_files(con: duckdb.DuckDBPyConnection) -> set[str]:
    """File names of the rejects files that committed loads wrote."""
    rows = con.execute("SELECT rejects_file FROM loads WHERE rejects_file IS NOT NULL").fetchall()
    return {str(name) for (name,) in rows}
