"""Writing a member list (an Arrow table, ``customer_id`` first) as CSV, Parquet or JSON Lines."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from segmint.errors import SegmintError

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("csv", "parquet", "jsonl")


def write_members(table: pa.Table, fmt: str, out: Path | None, stdout: IO[str]) -> None:
    """Write ``table`` to ``out`` (atomically) or, for csv/jsonl, to ``stdout``."""
    if fmt not in FORMATS:
        raise SegmintError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if out is None:
        if fmt == "parquet":
            raise SegmintError("--format parquet needs --out FILE (Parquet is binary)")
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
        raise SegmintError(f"cannot write {out}: {exc.strerror}") from None


def _write_text(table: pa.Table, fmt: str, stream: IO[str]) -> None:
    if fmt == "csv":
        import csv

        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow([_csv_cell(v) for v in row.values()])
        return
    for row in table.to_pylist():
        stream.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
