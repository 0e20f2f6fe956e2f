"""Reading an input (CSV, Parquet, JSON Lines file, or an in-memory table) into DuckDB.

A :class:`Source` is a temporary view with one row per input record, a ``_record`` number
(1-based, in file order), and the input's columns; plus a table of records that could not
even be parsed (bad CSV lines, bad bytes, JSON Lines lines that are not JSON objects or that
nest too deep).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from segmint.engine.sqltext import quote_ident, quote_str
from segmint.errors import IngestError
from segmint.ingest.duckdb.types import SourceColumn

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

FORMATS = ("csv", "parquet", "jsonl")
_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}
_EXTENSIONS |= {".ndjson": "jsonl", ".json": "jsonl"}
# One CSV field may be large (a 10 MB description); DuckDB's default line limit is 2 MB.
_MAX_LINE_BYTES = 32 * 1024 * 1024
_RAW_KEEP = 1000  # characters of a bad line kept in the rejects file
# Every column costs SQL in each step of a load; a wider file is refused whole.
MAX_COLUMNS = 1000
# A JSON Lines record whose objects and arrays nest deeper than this is rejected: readers of
# the stored JSON (Python's json module among them) recurse once per level.
MAX_JSON_DEPTH = 64
# A CSV line with a quote never closed swallowed the rest of the file into one field; the
# line is set aside and the file read again, at most this many times.
MAX_QUOTE_REPAIRS = 16
_BOM = b"\xef\xbb\xbf"
# The field separator of CSV inputs: a comma unless a caller (``segmint ingest --delimiter``)
# sets another around one load with :func:`csv_delimiter`.
_DELIMITER: ContextVar[str] = ContextVar("csv_delimiter", default=",")
# Separators a header is checked for when it does not contain the one in use.
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


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


def check_delimiter(text: str) -> str:
    """A CSV field separator: one character other than a quote or a line break; ``\\t`` and
    ``tab`` mean a tab.

    >>> check_delimiter(";"), check_delimiter("\\t")
    (';', '\\t')
    """
    delimiter = "\t" if text in ("\\t", "tab") else text
    if len(delimiter) != 1 or delimiter in '"\r\n':
        shown = repr(text) if len(text) <= 20 else repr(text[:17]) + "..."
        raise IngestError(
            f"--delimiter: expected one character such as ';', '|' or \\t (tab), got {shown}"
        )
    return delimiter


@contextmanager
def csv_delimiter(delimiter: str) -> Iterator[None]:
    """Read CSV inputs with ``delimiter`` (checked by :func:`check_delimiter`) inside."""
    token = _DELIMITER.set(check_delimiter(delimiter))
    try:
        yield
    finally:
        _DELIMITER.reset(token)


def delimiter_hint(path: Path) -> str | None:
    """When a CSV file's header has none of the separator in use but another one: what to
    pass instead (the file then read as one column, which misses every required one)."""
    try:
        with path.open("rb") as fh:
            first = fh.readline(64 * 1024).decode("utf-8", "replace").removeprefix("\ufeff")
    except OSError:
        return None
    if _DELIMITER.get() in first:
        return None
    for delimiter, name in _OTHER_DELIMITERS.items():
        if delimiter in first:
            shown = "\\t" if delimiter == "\t" else delimiter
            return f"the header looks {name}-separated; pass --delimiter '{shown}'"
    return None


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
    check_names(label, table.schema.names, "columns")
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
    names = _csv_header(path)
    check_names(path.name, names, "header")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _csv_input (label VARCHAR, path VARCHAR, repairs INTEGER)"
    )
    con.execute("INSERT INTO _csv_input VALUES (?, ?, 0)", [path.name, str(path)])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _csv_blanked (line BIGINT, reason VARCHAR, raw VARCHAR)"
    )
    _create_csv_views(con, path, names)
    try:
        con.execute("DESCRIBE _src").fetchall()
    except Exception as exc:  # DuckDB raises several types for unreadable files
        raise IngestError(f"{path.name}: cannot read as CSV: {_first_line(exc)}") from exc
    return Source(path.name, "csv", [SourceColumn(n, quote_ident(n), "text") for n in names])


def _csv_header(path: Path) -> list[str]:
    """The header's column names, read here rather than detected by DuckDB's sniffer.

    The sniffer renamed repeated names (``channel`` twice became ``channel_1``), and on a
    small file one malformed line made it refuse the whole file. Given the names, DuckDB
    reads every line with the one dialect, and a bad line is a reject at any file size.
    Names are trimmed of spaces and an empty one is ``column<i>``, as the sniffer had them.
    """
    import csv
    import itertools

    try:
        with path.open("rb") as fh:
            # Lines are decoded one at a time: only the header's need be UTF-8 here. A byte
            # order mark is not data.
            first = fh.readline().decode("utf-8").removeprefix("\ufeff")
            lines = itertools.chain([first], (line.decode("utf-8") for line in fh))
            header = next(
                csv.reader(lines, delimiter=_DELIMITER.get(), quotechar='"', doublequote=True),
                [],
            )
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path.name}: the header line is not UTF-8") from exc
    except csv.Error as exc:
        raise IngestError(f"{path.name}: cannot read the header line: {exc}") from exc
    if not any(cell.strip() for cell in header):
        raise IngestError(f"{path.name}: the first line is empty; a CSV file needs a header line")
    width = len(str(len(header) - 1))
    return [cell.strip(" ") or f"column{i:0{width}d}" for i, cell in enumerate(header)]


def _create_csv_views(con: duckdb.DuckDBPyConnection, path: Path, names: list[str]) -> None:
    """``_src`` (numbered records) and ``_src_unnumbered`` over the CSV file at ``path``."""
    columns = ", ".join(f"{quote_str(n)}: 'VARCHAR'" for n in names)
    # Everything is read as text; segmint does its own strict typing (see types.py).
    scan = (
        f"read_csv({quote_str(str(path))}, auto_detect = false, columns = {{{columns}}}, "
        f"header = true, delim = {quote_str(_DELIMITER.get())}, quote = '\"', escape = '\"', "
        "store_rejects = true, "
        "rejects_table = '_csv_errors', rejects_scan = '_csv_scans', "
        f"max_line_size = {_MAX_LINE_BYTES})"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _src AS SELECT row_number() OVER () AS _record, * FROM {scan}"
    )
    # The same rows unnumbered: numbering serialises the parallel CSV scan, so the one full
    # pass reads this and takes record numbers from its order-preserving output instead.
    con.execute(f"CREATE OR REPLACE TEMP VIEW _src_unnumbered AS SELECT * FROM {scan}")


def repair_unterminated_quote(con: duckdb.DuckDBPyConnection, scratch: Path) -> bool:
    """After a scan of a CSV input: set aside a line that opened a quote never closed.

    Such a quote made the rest of the file one field of one rejected record, so every row
    after it was lost. The line is blanked in a copy of the file (DuckDB skips a blank line,
    and the line numbers stay), kept as a reject, and the views read the copy: the caller
    scans again. True when the input changed.
    """
    if not _exists(con, "_csv_errors") or not _exists(con, "_csv_input"):
        return False
    label, current, repairs = con.execute(
        "SELECT label, path, repairs FROM _csv_input"
    ).fetchone() or ("", "", 0)
    found = con.execute(
        "SELECT e.line, e.line_byte_position, e.error_type, e.error_message, e.csv_line "
        "FROM _csv_errors e JOIN _csv_scans s ON s.scan_id = e.scan_id AND s.file_id = e.file_id "
        "WHERE s.file_path = ? AND e.error_type = 'UNQUOTED VALUE' "
        "AND contains(rtrim(e.csv_line, chr(13) || chr(10)), chr(10)) ORDER BY e.line LIMIT 1",
        [current],
    ).fetchone()
    if found is None:
        return False
    line, position, error_type, message, text = found
    # After blank lines (lines set aside before) DuckDB starts the line's text with their
    # line breaks; its line number is the right one.
    body = text.lstrip("\r\n")
    first = body.split("\n", 1)[0].rstrip("\r")
    if not first:
        return False
    if repairs >= MAX_QUOTE_REPAIRS:
        raise IngestError(
            f"{label}: more than {MAX_QUOTE_REPAIRS} lines open a quote that is never closed "
            f"(line {line}: {first[:60]!r}); fix the quoting and load again"
        )
    copy = scratch / f"input-{repairs + 1}.csv"
    lead = len(text) - len(body)
    if not _blank_line(Path(current), copy, (int(position), int(position) + lead), first):
        return False
    reason = f"unreadable CSV line: {error_type}: {message}"
    con.execute("INSERT INTO _csv_blanked VALUES (?, ?, ?)", [line, reason, first[:_RAW_KEEP]])
    con.execute("UPDATE _csv_input SET path = ?, repairs = repairs + 1", [str(copy)])
    names = [row[0] for row in con.execute("DESCRIBE _src_unnumbered").fetchall()]
    _create_csv_views(con, copy, names)
    return True


def _blank_line(source: Path, target: Path, positions: tuple[int, int], first: str) -> bool:
    """Copy ``source`` to ``target`` with the line ``first`` at one of the byte ``positions``
    emptied (its line break kept); False when the bytes there are not that line."""
    import shutil

    expected = first.encode("utf-8", "replace")
    with source.open("rb") as src:
        # DuckDB counts the byte position of a line from 1; check rather than trust it.
        for start in (p + shift for p in positions for shift in (-1, 0)):
            src.seek(max(start, 0))
            if src.read(len(expected)) == expected:
                break
        else:
            return False
        src.seek(start)
        rest = src.readline()
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            src.seek(0)
            _copy_bytes(src, out, start)
            out.write(rest[len(rest.rstrip(b"\r\n")) :])
            src.seek(start + len(rest))
            shutil.copyfileobj(src, out, 1 << 20)
    return True


def _copy_bytes(src: BinaryIO, out: BinaryIO, n: int) -> None:
    while n > 0:
        chunk = src.read(min(n, 1 << 20))
        if not chunk:
            return
        out.write(chunk)
        n -= len(chunk)


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [table]
    ).fetchone()
    return bool(row and row[0])


def collect_csv_parse_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Copy DuckDB's CSV parse errors (bad quoting, column count, encoding) to ``_parse_rejects``.

    Call after the scan that parses the file; DuckDB fills ``_csv_errors`` during a scan.
    Only scans of the file as finally read count; lines set aside for a quote never closed
    (:func:`repair_unterminated_quote`) are added with their reason.
    """
    if not _exists(con, "_csv_errors"):
        return
    con.execute(
        # Every scan of the file reports its errors again: keep one row per line.
        "INSERT INTO _parse_rejects SELECT e.line, min('unreadable CSV line: ' || e.error_type "
        "|| ': ' || CASE WHEN e.error_type = 'INVALID ENCODING' AND e.column_name IS NOT NULL "
        "THEN 'invalid UTF-8 in column ''' || e.column_name || '''' ELSE e.error_message END), "
        f"min(left(e.csv_line, {_RAW_KEEP})) FROM _csv_errors e "
        "JOIN _csv_scans s ON s.scan_id = e.scan_id AND s.file_id = e.file_id "
        "WHERE s.file_path = (SELECT path FROM _csv_input) GROUP BY e.line "
        "UNION ALL SELECT line, reason, raw FROM _csv_blanked"
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
    # DuckDB renames a repeated name (``x`` twice reads as ``x`` and ``x_1``): check the
    # names as the file has them.
    check_names(path.name, _parquet_names(path) or [c.name for c in columns], "schema")
    return Source(path.name, "parquet", columns)


def _parquet_names(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception:  # DuckDB read the file; pyarrow's own limits are no reason to refuse it
        return []


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
    check_names(path.name, [k for (k,) in keys], "top-level keys")
    columns = [SourceColumn(k, quote_ident(k), "json", "JSON") for (k,) in keys]
    con.execute(f"CREATE OR REPLACE TEMP VIEW _src AS {json_columns('j', columns, '_src_json')}")
    return Source(path.name, "jsonl", columns)


def json_columns(value: str, columns: list[SourceColumn], table: str) -> str:
    """SQL selecting ``_record``, ``_raw`` (the object) and one JSON column per key of the
    JSON objects in column ``value`` of ``table``.

    One json_transform parses each object once; a json_extract per key parsed it once per
    key, so a record with 1,000 keys was parsed 1,000 times (and 2,000 such records ran out
    of memory).
    """
    if not columns:
        return f"SELECT _record, {value} AS _raw FROM {table}"
    shape = quote_str(json.dumps({c.name: "JSON" for c in columns}))
    picks = ", ".join(f"_t.{quote_ident(c.name)} AS {c.sql}" for c in columns)
    return (
        f"SELECT _record, _raw, {picks} FROM (SELECT _record, {value} AS _raw, "
        f"json_transform({value}, {shape}) AS _t FROM {table})"
    )


def _split_jsonl(path: Path) -> tuple[list[int], list[str], list[tuple[int, str, str]]]:
    """Split into lines; a line that is not UTF-8, or nests objects and arrays too deep, is
    set aside with its reason. A UTF-8 byte order mark before the first line is not data."""
    lines: list[int] = []
    texts: list[str] = []
    bad: list[tuple[int, str, str]] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            stripped = raw.strip()
            if number == 1 and stripped.startswith(_BOM):
                stripped = stripped[len(_BOM) :].strip()
            if not stripped:
                continue
            try:
                text = stripped.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = f"not UTF-8 (byte {exc.start + 1} of the line)"
                bad.append((number, reason, stripped[:_RAW_KEEP].decode("utf-8", "replace")))
                continue
            # Counting brackets is cheap; only a line with many is measured.
            deep = stripped.count(b"[") + stripped.count(b"{") > MAX_JSON_DEPTH
            if deep and json_depth(text) > MAX_JSON_DEPTH:
                reason = f"objects or arrays nested more than {MAX_JSON_DEPTH} levels deep"
                bad.append((number, reason, text[:_RAW_KEEP]))
                continue
            texts.append(text)
            lines.append(number)
    return lines, texts, bad


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep objects and arrays nest in JSON ``text`` (a scalar is 0, ``[]`` is 1),
    counted up to just past ``limit``; brackets inside strings do not count.

    >>> json_depth('{"a": [1, {"b": "]]"}]}')
    3
    """
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def json_members(con: duckdb.DuckDBPyConnection, text: str) -> list[tuple[str, str]]:
    """The members of JSON object (or array) ``text`` as (key, value as JSON text), split by
    DuckDB, whose JSON reader does not recurse once per level as Python's does."""
    rows = con.execute("SELECT key, CAST(value AS VARCHAR) FROM json_each(?)", [text])
    return [(str(key), "null" if value is None else str(value)) for key, value in rows.fetchall()]


def check_names(label: str, names: Sequence[str], where: str) -> None:
    """Refuse an input with more than :data:`MAX_COLUMNS` columns, a column without a name,
    or two columns whose
    names are equal once letter case is ignored: names are case-sensitive, but DuckDB
    identifiers are not, so the two cannot both be kept as columns (DuckDB itself renamed
    one, ``Plan`` and ``PLAN`` to ``Plan`` and ``PLAN_1``, without a word)."""
    if len(names) > MAX_COLUMNS:
        raise IngestError(
            f"{label}: {len(names):,} columns ({where}); at most {MAX_COLUMNS:,} are "
            "supported: split the file or leave columns out"
        )
    if any(not name.strip() for name in names):
        raise IngestError(
            f"{label}: a name in the {where} is empty; every column and key needs a name "
            "(name it or leave it out)"
        )
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.lower(), []).append(name)
    repeated = [group for group in groups.values() if len(group) > 1]
    if repeated:
        raise IngestError(f"{label}: {repeats_message(repeated, where)}")


def repeats_message(repeated: list[list[str]], where: str) -> str:
    """The message for names that repeat (exactly or but for letter case) in ``where``."""
    parts = []
    for group in repeated:
        if len(set(group)) == 1:
            parts.append(f"{group[0]!r} {len(group)} times")
        else:
            parts.append(" and ".join(repr(name) for name in dict.fromkeys(group)))
    return (
        f"repeated names in the {where}: {'; '.join(parts)} (names that differ only "
        "in letter case are the same to DuckDB, so both cannot be kept): rename them"
    )


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
