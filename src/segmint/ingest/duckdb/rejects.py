"""The rejects file: every row a load did not take, with the reason, as it came in.

Rows from CSV, Parquet or in-memory tables go to ``rejects/<name>-<time>.csv`` with columns
``reason, record, line, raw`` then the input's own columns (as text). JSON Lines inputs go to
``rejects/<name>-<time>.jsonl`` with ``reason``, ``line`` and the original ``row`` object (or
``raw`` text for a line that is not JSON).

The file is written (and synced) next to its final name before the load commits and renamed
after, so a failed load leaves no rejects file behind, and a load row that counts rejects
always has them on disk: a process killed between COMMIT and the rename leaves the
temporary file, which :func:`recover_rejects` renames the next time the workspace opens.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from segmint.engine.sqltext import quote_ident, quote_str
from segmint.ingest.duckdb.context import LoadContext
from segmint.ingest.duckdb.sources import Source
from segmint.ingest.duckdb.types import json_path
from segmint.store import loads
from segmint.store.db import sync_folder

if TYPE_CHECKING:
    import duckdb

TMP_PREFIX, TMP_SUFFIX = ".", ".tmp"

# Rows rejected by validation, and by later steps (see load.py's _extra_rejects).
_REJECTED = (
    "SELECT _record, _reason, _raw FROM _stage WHERE _reason IS NOT NULL "
    "UNION ALL SELECT _record, _reason, _raw FROM _extra_rejects"
)


def rejects_path(root: Path, source: Source, started_at: datetime) -> Path:
    """``rejects/<input stem>-<UTC time>.<csv|jsonl>`` inside the workspace."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(source.label).stem) or "input"
    ext = "jsonl" if source.format == "jsonl" else "csv"
    return root / "rejects" / f"{stem}-{started_at:%Y%m%dT%H%M%S%fZ}.{ext}"


def write_rejects(ctx: LoadContext, source: Source, final: Path) -> Path:
    """Write the rejects to a temporary file beside ``final``; returns the temporary path."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(TMP_PREFIX + final.name + TMP_SUFFIX)
    if source.format == "jsonl":
        # Each line is built as text around the record's own JSON text: DuckDB's JSON writer
        # would print its numbers again as binary floats (-99999999999999.9999 became
        # -100000000000000.0). One text column, written without quotes.
        line = (
            "'{\"reason\": ' || to_json(reason) || ', \"line\": ' || line || "
            "', \"row\": ' || coalesce(row, 'null') || ', \"raw\": ' || "
            "coalesce(CAST(to_json(raw) AS VARCHAR), 'null') || '}'"
        )
        query = (
            f"SELECT {line} FROM (SELECT _reason AS reason, _record AS line, "
            f"CAST(_raw AS VARCHAR) AS row, NULL AS raw FROM ({_REJECTED}) r "
            "UNION ALL SELECT reason, line, NULL, raw FROM _parse_rejects) ORDER BY line"
        )
        ctx.con.execute(
            f"COPY ({query}) TO {quote_str(str(tmp))} "
            "(FORMAT CSV, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')"
        )
        return _synced(tmp)
    fields = ", ".join(
        f"json_extract_string(CAST(_raw AS JSON), {quote_str(json_path(c.name))}) AS "
        f"{quote_ident(c.name)}"
        for c in source.columns
    )
    nulls = ", ".join(f"NULL AS {quote_ident(c.name)}" for c in source.columns)
    query = (
        "SELECT * FROM (SELECT _reason AS reason, _record AS record, NULL AS line, NULL AS raw"
        f"{', ' + fields if fields else ''} FROM ({_REJECTED}) r "
        "UNION ALL SELECT reason, NULL, line, raw"
        f"{', ' + nulls if nulls else ''} FROM _parse_rejects) ORDER BY coalesce(record, line)"
    )
    ctx.con.execute(f"COPY ({query}) TO {quote_str(str(tmp))} (FORMAT CSV, HEADER)")
    return _synced(tmp)


def publish_rejects(tmp: Path, final: Path) -> None:
    """Give the written rejects file its final name (after the load committed)."""
    tmp.rename(final)
    sync_folder(final.parent)


def settle_rejects(root: Path, con: duckdb.DuckDBPyConnection) -> None:
    """:func:`recover_rejects` after a failed load; when the store cannot be read (a
    broken connection) the temporary file is left for the next open."""
    import duckdb

    with contextlib.suppress(duckdb.Error):
        recover_rejects(root, con)


def recover_rejects(root: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Finish what a killed or interrupted load left in ``rejects/``: a temporary file whose
    load row was committed gets its final name; one whose load never committed is removed.

    Call it only while holding the workspace (no load can be running)."""
    folder = root / "rejects"
    pending = [p for p in folder.glob(TMP_PREFIX + "*" + TMP_SUFFIX) if p.is_file()]
    if not pending:
        return
    named = {Path(name).name for name in loads.rejects_files(con)}
    for tmp in pending:
        final = tmp.with_name(tmp.name[len(TMP_PREFIX) : -len(TMP_SUFFIX)])
        if final.name in named and not final.exists():
            publish_rejects(tmp, final)
        else:
            tmp.unlink(missing_ok=True)


def _synced(path: Path) -> Path:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())
    return path


def create_extra_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """``_extra_rejects``: rows a step after validation rejects (a repeated event_id)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _extra_rejects "
        "(_record BIGINT, _reason VARCHAR, _raw VARCHAR)"
    )


def parse_failures(con: duckdb.DuckDBPyConnection) -> int:
    """Lines of the input that could not be read as rows at all."""
    row = con.execute("SELECT count(*) FROM _parse_rejects").fetchone()
    return int(row[0]) if row else 0
