"""Opening the workspace's DuckDB file with the session settings segmint relies on.

Settings go to DuckDB as a configuration mapping, never pasted into SQL, so neither a value
in ``segmint.toml`` nor a path with a quote in it can change what runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.config import StoreConfig
from segmint.errors import StoreFullError, WorkspaceBusyError, WorkspaceError

if TYPE_CHECKING:
    import duckdb

DB_FILE = "segmint.duckdb"


def connect(root: Path, settings: StoreConfig) -> duckdb.DuckDBPyConnection:
    """Connect to ``root/segmint.duckdb`` in UTC with the configured memory limit.

    Optimistic writes are off: with them, DuckDB 1.5 writes a large insert's row groups into
    the database file before COMMIT, and a process killed while COMMIT writes the log can
    come back with those rows but without the rest of the transaction (docs/crash-safety.md).
    Without them every change goes through the write-ahead log, and a kill at any point
    leaves the state before or after the transaction.
    """
    import duckdb

    config: dict[str, Any] = {
        "memory_limit": settings.memory_limit,
        "temp_directory": str(root / "tmp"),
        "enable_optimistic_write": False,
    }
    if settings.threads:
        config["threads"] = settings.threads
    path = root / DB_FILE
    try:
        con = duckdb.connect(str(path), config=config)
    except duckdb.Error as exc:
        raise open_error(path, exc) from exc
    # Naive timestamps in input mean UTC (DESIGN section 3); the session zone decides that.
    # (TimeZone belongs to the ICU extension, which cannot be set before it loads.)
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB never prints its own bar; progress tracking is switched on only while a
    # visible progress bar polls it (ingest/context.py), as tracking costs ~10 %.
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET progress_bar_time = 0")
    return con


def open_error(path: Path, exc: Exception) -> WorkspaceError:
    """What to tell a user whose workspace database cannot be opened."""
    text = str(exc)
    if "Could not set lock" in text:
        holder = text.split("(PID ", 1)[1].split(")", 1)[0] if "(PID " in text else None
        by = f"process {holder}" if holder and holder.isdigit() else "another process"
        return WorkspaceBusyError(
            f"{path} is in use by {by}; wait for it to finish (only one segmint command "
            "can write to a workspace at a time)"
        )
    if "No space left on device" in text:
        return StoreFullError(f"no space left on device to open {path}; the workspace is unchanged")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return WorkspaceError(
        f"{path} cannot be opened as a DuckDB database ({first}); it is damaged or not a "
        "segmint workspace file: restore it from a backup"
    )
