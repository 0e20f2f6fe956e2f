"""Writing a member list (an Arrow table, ``customer_id`` first) as CSV, Parquet or JSON Lines."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from segmint.errors import ArgumentError

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("csv", "parquet", "jsonl")
BATCH_ROWS = 65_536


def write_members(
    table: pa.Table | pa.RecordBatchReader, fmt: str, out: Path | None, stdout: IO[str]
) -> int:
    """Write ``table`` (a table, or a stream of batches written as they come) to ``out``
    (atomically) or, for csv/jsonl, to ``stdout``; the number of rows written."""
    if fmt not in FORMATS:
        raise ArgumentError(
            f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}", "--format"
        )
    if out is None:
        if fmt == "parquet":
            raise ArgumentError("--format parquet needs --out FILE (Parquet is binary)", "--out")
        return _write_text(table.schema.names, _batches(table), fmt, stdout)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            rows = 0
            with pq.ParquetWriter(tmp, table.schema) as writer:
                for batch in _batches(table):
                    writer.write_batch(batch)
                    rows += batch.num_rows
        else:
            with tmp.open("w", encoding="utf-8", newline="") as handle:
                rows = _write_text(table.schema.names, _batches(table), fmt, handle)
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ArgumentError(f"cannot write {out}: {exc.strerror}", "--out") from None
        raise
    return rows


def _batches(table: pa.Table | pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The batches of a table (at most BATCH_ROWS rows each) or of a stream."""
    import pyarrow as pa

    if isinstance(table, pa.Table):
        yield from table.to_batches(max_chunksize=BATCH_ROWS)
    else:
        yield from table


def _write_text(
    names: list[str], batches: Iterator[pa.RecordBatch], fmt: str, stream: IO[str]
) -> int:
    if fmt == "csv":
        return _write_csv(names, batches, stream)
    # JSON Lines row by row, a batch at a time so memory stays bounded.
    rows = 0
    for batch in batches:
        for row in batch.to_pylist():
            stream.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")
        rows += batch.num_rows
    return rows


def _write_csv(names: list[str], batches: Iterator[pa.RecordBatch], stream: IO[str]) -> int:
    """CSV, quoting only where needed: every column is turned into text by Arrow
    (timestamps as ISO 8601 ``...T10:11:12.000000Z``, lists as JSON arrays, missing as an
    empty cell), then the csv module writes the rows a batch at a time."""
    import csv

    import pyarrow as pa
    import pyarrow.compute as pc

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(names)
    rows = 0
    for batch in batches:
        rows += batch.num_rows
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
    return rows


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
