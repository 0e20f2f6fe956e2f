"""The export pipeline's scratch tables, its files and the export ledger
(store/schema.py ``exports``, ``export_sent``).

An export (activation/exports.py) stages the segment's members with the columns it needs
in ``_export_raw``, normalises the identifiers (``_export_norm``: one step stored, see
activation/audiences.py ``fields``), checks consent and suppression into
``_export_checked`` and lays the rows out for the destination in ``_export_out`` (Ibis
expressions, run by the engine).
From there this module takes over with SQL that Ibis has no form for:

- ``_export_rows``: each row with a fingerprint (the MD5 of all its cells as JSON, as a
  128-bit number) and its removal form (the cells a destination needs to take the person
  out again, as JSON; none where that is the customer id alone);
- the delta against ``export_sent``, what the pair (segment, destination) was last sent:
  adds are rows whose customer or fingerprint is new, removes are sent rows whose customer
  left, or whose removal form changed (a new email must also take the old one out);
- the files, written by DuckDB's ``COPY`` (CSV, Parquet or JSON Lines), with removal rows
  rebuilt from their JSON by ``from_json``;
- the ledger: one ``exports`` row per export, and ``export_sent`` replaced for the pair,
  in one transaction (store/txn.py) after the files are in place.

Column names go into statements quoted (``quote_ident``), values as parameters or escaped
literals (``quote_str``); scratch table names are fixed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.engine.sqltext import quote_ident, quote_str
from segmint.store.db import sync_folder

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from segmint.engine.base import Params
    from segmint.engine.duckdb import DuckDBEngine

RAW = "_export_raw"
NORM = "_export_norm"
CHECKED = "_export_checked"
OUT = "_export_out"
ROWS = "_export_rows"
ADDS = "_export_adds"
REMOVES = "_export_removes"
# The customer id of each laid-out row, beside the destination's own columns.
CUSTOMER = "_customer_id"
COPY_FORMATS = {"csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet", "jsonl": "FORMAT json"}


def stage_query(engine: DuckDBEngine, sql: str, params: Params) -> None:
    """The members query ``sql`` (a compiled rule with its columns) into ``_export_raw``."""
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {RAW} AS {sql}", params)


def stage_stream(con: duckdb.DuckDBPyConnection, reader: pa.RecordBatchReader) -> None:
    """The members streamed from a source engine into ``_export_raw``, batch by batch."""
    con.register("_export_stream", reader)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT * FROM _export_stream")
    finally:
        con.unregister("_export_stream")


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    """The Arrow schema of a scratch table."""
    if table not in (RAW, NORM, CHECKED, OUT):
        raise ValueError(f"not an export table: {table!r}")
    schema: pa.Schema = con.execute(f"SELECT * FROM {table} LIMIT 0").arrow().schema
    return schema


def left_out(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many members the checks left out, per reason (``_export_checked.reason``)."""
    rows = con.execute(
        f"SELECT reason, count(*) FROM {CHECKED} WHERE reason IS NOT NULL GROUP BY reason "
        "ORDER BY count(*) DESC, reason"
    ).fetchall()
    return {str(reason): int(n) for reason, n in rows}


def _struct(columns: Sequence[str], alias: str) -> str:
    cells = ", ".join(f"{quote_str(c)}: {alias}.{quote_ident(c)}" for c in columns)
    return "{" + cells + "}"


def fingerprint_rows(
    con: duckdb.DuckDBPyConnection,
    columns: Sequence[str],
    removal: Sequence[str],
    layout: str | None = None,
) -> int:
    """``_export_rows``: the laid-out rows (``_export_out``, or the query ``layout`` where
    reading its cells twice costs nothing) with each row's fingerprint and removal form;
    the number of rows."""
    source = OUT if layout is None else f"({layout})"
    # The removal form of a row keyed by its customer id alone is that id: not stored.
    form = (
        "NULL::VARCHAR"
        if list(removal) == ["customer_id"]
        else f"to_json({_struct(removal, 'o')})::VARCHAR"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {ROWS} AS SELECT o.*, "
        f"md5_number(to_json({_struct(columns, 'o')})::VARCHAR) AS _fp, "
        f"{form} AS _removal FROM {source} o"
    )
    return _rows(con, ROWS)


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    found = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(found[0]) if found else 0


def delta(con: duckdb.DuckDBPyConnection, segment: str, destination: str) -> tuple[int, int]:
    """``_export_adds`` and ``_export_removes`` against what the pair was last sent; their
    sizes."""
    pair = [segment, destination]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {ADDS} AS SELECT r.* FROM {ROWS} r ANTI JOIN "
        "(SELECT customer_id, fingerprint FROM export_sent WHERE segment = ? "
        f"AND destination = ?) s ON r.{CUSTOMER} = s.customer_id AND r._fp = s.fingerprint",
        pair,
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {REMOVES} AS SELECT s.customer_id, s.removal "
        "FROM export_sent s WHERE s.segment = ? AND s.destination = ? AND NOT EXISTS "
        f"(SELECT 1 FROM {ROWS} r WHERE r.{CUSTOMER} = s.customer_id "
        "AND r._removal IS NOT DISTINCT FROM s.removal)",
        pair,
    )
    return _rows(con, ADDS), _rows(con, REMOVES)


def _removed(removal: Sequence[str]) -> str:
    """The removal cells of ``_export_removes`` as columns (the customer id where that is
    the whole form)."""
    if list(removal) == ["customer_id"]:
        return f"SELECT customer_id FROM {REMOVES}"
    shape = quote_str(json.dumps(dict.fromkeys(removal, "VARCHAR")))
    return f"SELECT unnest(from_json(removal, {shape})) FROM {REMOVES}"


def full_query(columns: Sequence[str]) -> str:
    """Every row, ordered by customer."""
    cells = ", ".join(quote_ident(c) for c in columns)
    return f"SELECT {cells} FROM {ROWS} ORDER BY {CUSTOMER}"


def changes_query(
    columns: Sequence[str],
    removal: Sequence[str],
    change: str | None,
    removal_cells: dict[str, str],
) -> str:
    """The adds then the removes, as one file: ``change`` (when given) the column that
    says which ('add' or 'remove'); ``removal_cells`` fixed texts of the removal rows (a
    Mailchimp tag)."""
    cells = ", ".join(quote_ident(c) for c in columns)
    mark = f", {quote_ident(change)}" if change else ""
    add_mark = f", 'add' AS {quote_ident(change)}" if change else ""
    remove_mark = f", 'remove' AS {quote_ident(change)}" if change else ""
    fixed = "".join(f", {quote_str(v)} AS {quote_ident(k)}" for k, v in removal_cells.items())
    removes = f"SELECT r.*{remove_mark}{fixed} FROM ({_removed(removal)}) r"
    return (
        f"SELECT {cells}{mark} FROM (SELECT {cells}{add_mark}, 0 AS _order, {CUSTOMER} "
        f"AS _key FROM {ADDS} UNION ALL BY NAME SELECT *, 1 AS _order, NULL AS _key "
        f"FROM ({removes})) ORDER BY _order, _key"
    )


def adds_query(columns: Sequence[str]) -> str:
    cells = ", ".join(quote_ident(c) for c in columns)
    return f"SELECT {cells} FROM {ADDS} ORDER BY {CUSTOMER}"


def removes_query(removal: Sequence[str]) -> str:
    return _removed(removal)


def write_file(con: duckdb.DuckDBPyConnection, query: str, fmt: str, path: Path) -> None:
    """``query``'s rows to ``path`` by ``COPY``, atomically: written to a hidden file
    beside it, flushed to disk, then renamed over it."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        con.execute(f"COPY ({query}) TO {quote_str(str(tmp))} ({COPY_FORMATS[fmt]})")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        sync_folder(path.parent)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            # The file system refused (permissions, a read-only folder): the user's to fix.
            from segmint.errors import ArgumentError

            raise ArgumentError(f"cannot write {path}: {exc.strerror or exc}", "--out") from None
        raise


def drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the export's scratch tables (they hold a copy of the audience)."""
    for table in (RAW, NORM, CHECKED, OUT, ROWS, ADDS, REMOVES):
        con.execute(f"DROP TABLE IF EXISTS temp.{table}")


def next_export_id(con: duckdb.DuckDBPyConnection) -> int:
    found = con.execute("SELECT coalesce(max(export_id), 0) + 1 FROM exports").fetchone()
    return int(found[0]) if found else 1


def record(con: duckdb.DuckDBPyConnection, entry: dict[str, Any]) -> None:
    """The ledger entry of one export (``entry``: the columns of ``exports``), and what
    its pair has now been sent: ``_export_rows`` replaces the pair's ``export_sent``."""
    columns = (
        "export_id, segment, destination, exported_at, as_of, version, fingerprint, delta, "
        "members, exported, added, removed, left_out, file, remove_file"
    )
    names = [c.strip() for c in columns.split(",")]
    values = [entry[n] for n in names]
    values[names.index("left_out")] = json.dumps(entry["left_out"])
    con.execute(f"INSERT INTO exports ({columns}) VALUES ({', '.join('?' * len(names))})", values)
    pair = [entry["segment"], entry["destination"]]
    con.execute("DELETE FROM export_sent WHERE segment = ? AND destination = ?", pair)
    con.execute(f"INSERT INTO export_sent SELECT ?, ?, {CUSTOMER}, _fp, _removal FROM {ROWS}", pair)


def history(con: duckdb.DuckDBPyConnection, segment: str | None) -> list[dict[str, Any]]:
    """The ledger, oldest first (of one segment when named)."""
    where, params = ("WHERE segment = ?", [segment]) if segment else ("", [])
    cursor = con.execute(f"SELECT * FROM exports {where} ORDER BY export_id", params)
    names = [d[0] for d in cursor.description or ()]
    found = []
    for row in cursor.fetchall():
        entry = dict(zip(names, row, strict=True))
        entry["left_out"] = json.loads(entry["left_out"])
        found.append(entry)
    return found


def sent_count(con: duckdb.DuckDBPyConnection, segment: str, destination: str) -> int:
    """How many rows the pair holds as sent."""
    found = con.execute(
        "SELECT count(*) FROM export_sent WHERE segment = ? AND destination = ?",
        [segment, destination],
    ).fetchone()
    return int(found[0]) if found else 0
