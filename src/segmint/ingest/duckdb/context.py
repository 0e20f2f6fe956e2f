"""State shared by the steps of one load: the connection, its id, clock and progress."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from segmint.config import Config
from segmint.console import Progress, SilentProgress

if TYPE_CHECKING:
    import duckdb

# DuckDB 1.5.6's common-subexpression pass grows faster than the square of a select's width:
# it took 4 of the 5 s spent planning the stage of a one-row file with 1,000 columns.
_WIDE_SELECT = 256


@dataclass
class LoadContext:
    """One load in progress; every step runs inside its single transaction."""

    con: duckdb.DuckDBPyConnection
    config: Config
    load_id: int
    started_at: datetime
    progress: Progress
    scratch: Path  # folder for this load's scratch files, removed when the load ends
    warnings: list[str] = field(default_factory=list)
    # Names no custom attribute may take (the computed traits; the layer above says which).
    reserved: frozenset[str] = frozenset()

    def run(self, phase: str, sql: str) -> None:
        """Run one long statement as a progress phase, polling DuckDB for its percentage."""
        self.progress.phase(phase, total=100)
        if isinstance(self.progress, SilentProgress):
            self.con.execute(sql)
            return
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(0.2):
                done = self.con.query_progress()
                if done >= 0:
                    self.progress.advance(done)

        poller = threading.Thread(target=poll, daemon=True)
        self.con.execute("SET enable_progress_bar = true")
        poller.start()
        try:
            self.con.execute(sql)
        finally:
            stop.set()
            poller.join()
            self.con.execute("SET enable_progress_bar = false")

    @contextlib.contextmanager
    def planning(self, width: int) -> Iterator[None]:
        """Plan the statements inside for a select list ``width`` items long: past
        ``_WIDE_SELECT`` items, without DuckDB's common-subexpression pass (a wide input then
        repeats a few string functions per value, instead of taking seconds to plan)."""
        if width <= _WIDE_SELECT:
            yield
            return
        self.con.execute("SET disabled_optimizers = 'common_subexpressions'")
        try:
            yield
        finally:
            self.con.execute("RESET disabled_optimizers")

    def scalar(self, sql: str, params: list[object] | None = None) -> object:
        """First column of the first row of ``sql``."""
        row = self.con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]

    def count(self, sql: str) -> int:
        """An integer result (a count), 0 when NULL."""
        value = self.scalar(sql)
        return int(value) if isinstance(value, int) else 0


def drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the load's temp tables and views, and unregister its Arrow inputs."""
    # Temp objects outlive a COMMIT; a long-lived connection should not keep 50M staged rows.
    for name, kind in con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = 'temp'"
    ).fetchall():
        with contextlib.suppress(Exception):
            con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} IF EXISTS "{name}"')
    for name in ("_src_arrow", "_src_lines", "_src_bad"):
        with contextlib.suppress(Exception):
            con.unregister(name)
