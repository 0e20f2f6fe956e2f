"""Writing a member list (an Arrow table, ``customer_id`` first) as CSV, Parquet or JSON Lines."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from segmint.errors import ArgumentError

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("csv", "parquet", "jsonl")
BATCH_ROWS = 65_536


def write_members(table: pa.Table, fmt: str, out: Path | None, stdout: IO[str]) -> None:
    """Write ``table`` to ``out`` (atomically) or, for csv/jsonl, to ``stdout``."""
    if fmt not in FORMATS:
        raise ArgumentError(
            f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}", "--format"
        )
    if out is None:
        if fmt == "parquet":
            raise ArgumentError("--format parquet needs --out FILE (Parquet is binary)", "--out")
        _write_text(table, fmt, stdout)
        return
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        else:
            with tmp.open("w", encoding="utf-8", newline="") as handle:
                _write_text(table, fmt, handle)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ArgumentError(f"cannot write {out}: {exc.strerror}", "--out") from None


def _write_text(table: pa.Table, fmt: str, stream: IO[str]) -> None:
    if fmt == "csv":
        _write_csv(table, stream)
        return
    # JSON Lines row by row, a batch at a time so memory stays bounded.
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        for row in batch.to_pylist():
            stream.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")


def _write_csv(table: pa.Table, stream: IO[str]) -> None:
    """CSV, quoting only where needed: every column is turned into text by Arrow
    (timestamps as ISO 8601 ``...T10:11:12.000000Z``, lists as JSON arrays, missing as an
    empty cell), then the csv module writes the rows a batch at a time."""
    import csv

    import pyarrow as pa
    import pyarrow.compute as pc

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(table.column_names)
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        cells = []
        for column in batch.columns:
            kind = column.type
            if pa.types.is_timestamp(kind):
                column = _iso(column.cast(pa.timestamp("us", tz="UTC")).cast(pa.string()))
            elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
                dumped = [
                    None if v is None else json.dumps(v, ensure_ascii=False)
                    for v in column.to_pylist()
                ]
                column = pa.array(dumped, pa.string())
            elif not pa.types.is_string(kind):
                column = column.cast(pa.string())
            cells.append(pc.fill_null(column, "").to_pylist())
        writer.writerows(zip(*cells, strict=True))


def _iso(column: Any) -> Any:
    """``2026-01-02 10:11:12.000000Z`` (Arrow's cast) as ``2026-01-02T10:11:12Z``: the
    same text as the JSON Lines form (microseconds only when there are some)."""
    import pyarrow.compute as pc

    column = pc.replace_substring(column, " ", "T", max_replacements=1)
    return pc.replace_substring_regex(column, r"\.000000Z$", "Z")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
