"""Reading an input (CSV, Parquet, JSON Lines file, or an in-memory table) into DuckDB.

A :class:`Source` is a temporary view with one row per input record, a ``_record`` number
(1-based, in file order), and the input's columns; plus a table of records that could not
even be parsed (bad CSV lines, bad bytes, JSON Lines lines that are not JSON objects).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.errors import IngestError
from segmint.ingest.types import SourceColumn, json_path, quote_ident, quote_str

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

FORMATS = ("csv", "parquet", "jsonl")
_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}
_EXTENSIONS |= {".ndjson": "jsonl", ".json": "jsonl"}
# One CSV field may be large (a 10 MB description); DuckDB's default line limit is 2 MB.
_MAX_LINE_BYTES = 32 * 1024 * 1024
_RAW_KEEP = 1000  # characters of a bad line kept in the rejects file


@dataclass(frozen=True)
class Source:
    """An input opened in DuckDB: view ``_src`` and parse-level rejects in ``_parse_rejects``."""

    label: str
    format: str
    columns: list[SourceColumn]

    def column(self, name: str) -> SourceColumn | None:
        """The column called ``name`` (case-sensitive), if the input has it."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def names(self) -> list[str]:
        """Column names in input order."""
        return [c.name for c in self.columns]


def detect_format(path: Path, fmt: str | None) -> str:
    """The format from ``--format`` or the file extension; a clear error otherwise."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise IngestError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        return fmt
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise IngestError(
            f"{path.name}: cannot tell the format from extension {path.suffix!r}; "
            f"pass --format {'|'.join(FORMATS)}"
        )
    return found


def open_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> Source:
    """Open ``path`` as the ``_src`` view; raise :class:`IngestError` if it is unreadable."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    _create_parse_rejects(con)
    if fmt == "csv":
        return _open_csv(con, path)
    if fmt == "parquet":
        return _open_parquet(con, path)
    return _open_jsonl(con, path)


def open_table(con: duckdb.DuckDBPyConnection, data: Any, label: str) -> Source:
    """Open an Arrow table, pandas or polars DataFrame as the ``_src`` view."""
    table = _to_arrow(data)
    _create_parse_rejects(con)
    con.register("_src_arrow", table)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _src AS "
        "SELECT row_number() OVER () AS _record, * FROM _src_arrow"
    )
    return Source(label, "arrow", _typed_columns(con))


def _to_arrow(data: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "to_arrow"):  # polars
        return data.to_arrow()
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise IngestError(
        f"cannot ingest a {type(data).__name__}: pass a file path, an Arrow table, "
        "or a pandas or polars DataFrame"
    )


def _create_parse_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _parse_rejects (line BIGINT, reason VARCHAR, raw VARCHAR)"
    )


def _typed_columns(con: duckdb.DuckDBPyConnection) -> list[SourceColumn]:
    described = con.execute("DESCRIBE _src").fetchall()
    return [
        SourceColumn(name, quote_ident(name), "typed", str(dtype))
        for name, dtype, *_ in described
        if name not in ("_record", "file_row_number")
    ]


def _open_csv(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    if path.stat().st_size == 0:
        raise IngestError(f"{path.name}: the file is empty; a CSV file needs a header line")
    # Everything is read as text; segmint does its own strict typing (see types.py).
    scan = (
        f"read_csv({quote_str(str(path))}, all_varchar = true, header = true, delim = ',', "
        f"quote = '\"', escape = '\"', store_rejects = true, rejects_table = '_csv_errors', "
        f"rejects_scan = '_csv_scans', max_line_size = {_MAX_LINE_BYTES})"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _src AS SELECT row_number() OVER () AS _record, * FROM {scan}"
    )
    # The same rows unnumbered: numbering serialises the parallel CSV scan, so the one full
    # pass reads this and takes record numbers from its order-preserving output instead.
    con.execute(f"CREATE OR REPLACE TEMP VIEW _src_unnumbered AS SELECT * FROM {scan}")
    try:
        names = [row[0] for row in con.execute("DESCRIBE _src").fetchall()][1:]
    except Exception as exc:  # DuckDB raises several types for unreadable files
        raise IngestError(f"{path.name}: cannot read as CSV: {_first_line(exc)}") from exc
    _check_unique(path.name, names)
    return Source(path.name, "csv", [SourceColumn(n, quote_ident(n), "text") for n in names])


def collect_csv_parse_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Copy DuckDB's CSV parse errors (bad quoting, column count, encoding) to ``_parse_rejects``.

    Call after the scan that parses the file; DuckDB fills ``_csv_errors`` during a scan.
    """
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_csv_errors'"
    ).fetchone()
    if not exists or not exists[0]:
        return
    con.execute(
        # Every scan of the file reports its errors again: keep one row per line.
        "INSERT INTO _parse_rejects SELECT line, "
        "min('unreadable CSV line: ' || error_type || ': ' || error_message), "
        f"min(left(csv_line, {_RAW_KEEP})) FROM _csv_errors GROUP BY line"
    )


def _open_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    # file_row_number numbers rows in parallel; row_number() OVER () would serialise the scan.
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _src AS SELECT * EXCLUDE (file_row_number), "
        "file_row_number + 1 AS _record "
        f"FROM read_parquet({quote_str(str(path))}, file_row_number = true)"
    )
    try:
        columns = _typed_columns(con)
    except Exception as exc:
        raise IngestError(f"{path.name}: cannot read as Parquet: {_first_line(exc)}") from exc
    _check_unique(path.name, [c.name for c in columns])
    return Source(path.name, "parquet", columns)


def _open_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    import pyarrow as pa

    lines, texts, bad = _split_jsonl(path)
    con.register("_src_lines", pa.table({"_record": lines, "j": texts}))
    if bad:
        con.register("_src_bad", pa.table({k: [b[i] for b in bad] for i, k in enumerate("lrw")}))
        con.execute("INSERT INTO _parse_rejects SELECT l, r, w FROM _src_bad")
    # Lines that are not JSON objects are rejected here, before anything reads their keys.
    con.execute(
        "INSERT INTO _parse_rejects SELECT _record, CASE WHEN NOT json_valid(j) "
        "THEN 'not valid JSON' ELSE 'not a JSON object (got ' || json_type(j::JSON) || ')' END, "
        f"left(j, {_RAW_KEEP}) FROM _src_lines "
        "WHERE NOT json_valid(j) OR json_type(j::JSON) <> 'OBJECT'"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _src_json AS SELECT _record, j::JSON AS j FROM _src_lines "
        "WHERE json_valid(j) AND json_type(j::JSON) = 'OBJECT'"
    )
    keys = con.execute(
        "SELECT k FROM (SELECT unnest(json_keys(j)) AS k, _record FROM _src_json) "
        "GROUP BY k ORDER BY min(_record), k"
    ).fetchall()
    columns = [SourceColumn(k, quote_ident(k), "json", "JSON") for (k,) in keys]
    select = ", ".join(
        f"json_extract(j, {quote_str(json_path(c.name))}) AS {c.sql}" for c in columns
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _src AS SELECT _record, j AS _raw"
        f"{', ' if select else ''}{select} FROM _src_json"
    )
    return Source(path.name, "jsonl", columns)


def _split_jsonl(path: Path) -> tuple[list[int], list[str], list[tuple[int, str, str]]]:
    """Split into lines; a line that is not UTF-8 is set aside with its reason."""
    lines: list[int] = []
    texts: list[str] = []
    bad: list[tuple[int, str, str]] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            stripped = raw.strip()
            if not stripped:
                continue
            try:
                texts.append(stripped.decode("utf-8"))
            except UnicodeDecodeError as exc:
                reason = f"not UTF-8 (byte {exc.start + 1} of the line)"
                bad.append((number, reason, stripped[:_RAW_KEEP].decode("utf-8", "replace")))
                continue
            lines.append(number)
    return lines, texts, bad


def _check_unique(label: str, names: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in names:
        if name in seen:
            raise IngestError(f"{label}: column {name!r} appears twice in the header")
        seen[name] = name


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def raw_json(source: Source) -> str:
    """SQL for the whole input record as JSON text, kept for rejected rows only."""
    if source.format == "jsonl":
        return "CAST(_raw AS VARCHAR)"
    pairs = ", ".join(f"{quote_str(c.name)}, {c.sql}" for c in source.columns)
    return f"CAST(json_object({pairs}) AS VARCHAR)"


def dumps(value: object) -> str:
    """Compact JSON used in messages."""
    return json.dumps(value, ensure_ascii=False, default=str)
