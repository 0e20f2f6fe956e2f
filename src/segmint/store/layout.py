"""The physical order of the events table.

Segment queries filter events by name and by a time window. When the table is ordered by
``(event, ts)``, DuckDB's per-row-group min/max statistics (zone maps) let a scan skip every
row group outside the name and window; shared/STACK.md measured 1.9-5.6x faster rules on
that layout. Loads append in arrival order (sorting 50M rows at load time costs more
memory than a load may use), so :func:`sort_events` rewrites the table in order on demand
(``segmint optimize``), one event name at a time to keep each sort small.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from segmint.console import Progress, SilentProgress
from segmint.errors import WorkspaceError
from segmint.store.schema import EVENTS_DDL
from segmint.store.txn import transaction

if TYPE_CHECKING:
    import duckdb

SORTED_KEY = "events_sorted_rows"


@dataclass(frozen=True)
class LayoutResult:
    """What :func:`sort_events` did."""

    rows: int
    names: int
    seconds: float
    already_sorted: bool


def unsorted_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Events appended since the table was last sorted (all of them if it never was)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM events) - coalesce("
        f"(SELECT CAST(value AS BIGINT) FROM meta WHERE key = '{SORTED_KEY}'), 0)"
    ).fetchone()
    return int(row[0]) if row else 0


def sort_events(
    con: duckdb.DuckDBPyConnection, progress: Progress | None = None, force: bool = False
) -> LayoutResult:
    """Rewrite ``events`` ordered by ``(event, ts)`` in one transaction."""
    progress = progress or SilentProgress()
    start = time.perf_counter()
    total = int((con.execute("SELECT count(*) FROM events").fetchone() or (0,))[0])
    if not force and unsorted_rows(con) == 0:
        return LayoutResult(total, 0, time.perf_counter() - start, True)
    names = [
        n for (n,) in con.execute("SELECT DISTINCT event FROM event_names ORDER BY 1").fetchall()
    ]
    try:
        with transaction(con, "optimize", "optimize"):
            con.execute(EVENTS_DDL.format(table="events_sorted"))
            progress.phase("sorting events by name and time", total=len(names))
            for done, name in enumerate(names, 1):
                con.execute(
                    "INSERT INTO events_sorted SELECT * FROM events WHERE event = ? ORDER BY ts",
                    [name],
                )
                progress.advance(done)
            copied = int((con.execute("SELECT count(*) FROM events_sorted").fetchone() or (0,))[0])
            if copied != total:  # an event name missing from the catalog: never drop rows
                raise WorkspaceError(f"sorted copy has {copied} of {total} events; nothing changed")
            con.execute("DROP TABLE events")
            con.execute("ALTER TABLE events_sorted RENAME TO events")
            con.execute(f"DELETE FROM meta WHERE key = '{SORTED_KEY}'")
            con.execute(f"INSERT INTO meta VALUES ('{SORTED_KEY}', ?)", [str(total)])
    finally:
        progress.done()
    return LayoutResult(total, len(names), time.perf_counter() - start, False)
