"""The rejects file: every row a load did not take, with the reason, as it came in.

Rows from CSV, Parquet or in-memory tables go to ``rejects/<name>-<time>.csv`` with columns
``reason, record, line, raw`` then the input's own columns (as text). JSON Lines inputs go to
``rejects/<name>-<time>.jsonl`` with ``reason``, ``line`` and the original ``row`` object (or
``raw`` text for a line that is not JSON). The file is written next to its final name and
renamed only when the load commits, so a failed load leaves no rejects file behind.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from segmint.ingest.context import LoadContext
from segmint.ingest.sources import Source
from segmint.ingest.types import json_path, quote_ident, quote_str

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
    tmp = final.with_name("." + final.name + ".tmp")
    if source.format == "jsonl":
        query = (
            "SELECT reason, line, row, raw FROM (SELECT _reason AS reason, _record AS line, "
            f"CAST(_raw AS JSON) AS row, NULL AS raw FROM ({_REJECTED}) r "
            "UNION ALL SELECT reason, line, NULL, raw FROM _parse_rejects) ORDER BY line"
        )
        ctx.con.execute(f"COPY ({query}) TO {quote_str(str(tmp))} (FORMAT JSON)")
        return tmp
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
    return tmp
