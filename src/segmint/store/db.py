"""Opening the workspace's DuckDB file with the session settings segmint relies on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from segmint.config import StoreConfig

if TYPE_CHECKING:
    import duckdb

DB_FILE = "segmint.duckdb"


def connect(root: Path, settings: StoreConfig) -> duckdb.DuckDBPyConnection:
    """Connect to ``root/segmint.duckdb`` in UTC with the configured memory limit."""
    import duckdb

    con = duckdb.connect(str(root / DB_FILE))
    # Naive timestamps in input mean UTC (DESIGN section 3); the session zone decides that.
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{settings.memory_limit}'")
    con.execute(f"SET temp_directory = '{root / 'tmp'}'")
    # DuckDB never prints its own bar; progress tracking is switched on only while a
    # visible progress bar polls it (ingest/context.py), as tracking costs ~10 %.
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET progress_bar_time = 0")
    if settings.threads:
        con.execute(f"SET threads = {int(settings.threads)}")
    return con
