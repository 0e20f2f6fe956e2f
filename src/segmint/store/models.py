"""CLV fits in the store: ``clv_fits`` (which as_of, data and settings each fit is for,
its models as JSON) and ``clv_predictions`` (the predictions per buyer under a
``fit_id``), and a session's own fits in temporary tables.

Every statement here is parameterized SQL (``?`` placeholders; the table names are this
module's constants, never a caller's): the fits are written by INSERT from an Arrow table
and pruned by DELETE, the session tables are DuckDB temporary tables created on first use
(``CREATE TEMP TABLE IF NOT EXISTS``), and the fit ids are read inside the write that
uses them. Ibis has no INSERT, DELETE or temporary-table DDL.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

from segmint.store.txn import transaction

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

STORED_FITS: Final = "clv_fits"
STORED_PREDICTIONS: Final = "clv_predictions"
SESSION_FITS: Final = "segmint_clv_session_fits"
SESSION_PREDICTIONS: Final = "segmint_clv_session"


def loads_version(con: duckdb.DuckDBPyConnection) -> list[int]:
    """How many loads there are and the newest load id (every load adds a row)."""
    row = con.execute("SELECT count(*), coalesce(max(load_id), 0) FROM loads").fetchone()
    return list(row or ())


def _session_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {SESSION_FITS} "
        "(fit_id INTEGER, as_of TIMESTAMPTZ, fingerprint VARCHAR, models VARCHAR)"
    )
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {SESSION_PREDICTIONS} AS "
        f"SELECT * FROM {STORED_PREDICTIONS} LIMIT 0"
    )


def find_fit(
    con: duckdb.DuckDBPyConnection, as_of: datetime, key: str, session: bool = False
) -> tuple[int, str] | None:
    """The newest fit at ``as_of`` with fingerprint ``key``: (fit id, models JSON); with
    ``session``, among this session's fits (whose tables are created if need be)."""
    fits = SESSION_FITS if session else STORED_FITS
    if session:
        _session_tables(con)
    row = con.execute(
        f"SELECT fit_id, models FROM {fits} WHERE as_of = ? AND fingerprint = ? "
        "ORDER BY fit_id DESC LIMIT 1",
        [as_of, key],
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def store_fit(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    key: str,
    models: str,
    scores: pa.Table,
    keep: int,
) -> int:
    """Store a fit (``models`` JSON) and its predictions ``scores`` in one write, keeping
    the ``keep`` newest fits; the new fit id."""
    con.register("segmint_clv_arrow", scores)
    try:
        with transaction(con, "clv", "storing CLV predictions"):
            row = con.execute(f"SELECT coalesce(max(fit_id), 0) + 1 FROM {STORED_FITS}")
            fit_id = int(row.fetchone()[0])  # type: ignore[index]
            con.execute(
                f"INSERT INTO {STORED_FITS} VALUES (?, ?, ?, ?, now())",
                [fit_id, as_of, key, models],
            )
            _insert_predictions(con, STORED_PREDICTIONS, fit_id)
            _prune(con, fit_id - keep + 1)
    finally:
        con.unregister("segmint_clv_arrow")
    return fit_id


def _insert_predictions(con: duckdb.DuckDBPyConnection, table: str, fit_id: int) -> None:
    con.execute(
        f"INSERT INTO {table} SELECT ?, pid, p_alive, predicted_orders_365d, "
        "predicted_clv_365d FROM segmint_clv_arrow",
        [fit_id],
    )


def _prune(con: duckdb.DuckDBPyConnection, oldest_kept: int) -> None:
    con.execute(f"DELETE FROM {STORED_PREDICTIONS} WHERE fit_id < ?", [oldest_kept])
    con.execute(f"DELETE FROM {STORED_FITS} WHERE fit_id < ?", [oldest_kept])


def keep_session_fit(
    con: duckdb.DuckDBPyConnection, as_of: datetime, key: str, models: str, scores: pa.Table
) -> int:
    """Keep a fit and its predictions for this session only, under a negative fit id
    (never one of the stored ids); the new fit id."""
    _session_tables(con)
    row = con.execute(f"SELECT coalesce(min(fit_id), 0) - 1 FROM {SESSION_FITS}").fetchone()
    fit_id = int(row[0])  # type: ignore[index]
    con.execute(f"INSERT INTO {SESSION_FITS} VALUES (?, ?, ?, ?)", [fit_id, as_of, key, models])
    con.register("segmint_clv_arrow", scores)
    try:
        _insert_predictions(con, SESSION_PREDICTIONS, fit_id)
    finally:
        con.unregister("segmint_clv_arrow")
    return fit_id


# A source-mode workspace keeps its predictions on the source (store/source_clv.py); the
# fits that name them are rows of the local clv_fits, the commit point of a fit there.


def next_fit_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next stored fit takes (ids only grow: pruning keeps the newest)."""
    row = con.execute(f"SELECT coalesce(max(fit_id), 0) + 1 FROM {STORED_FITS}").fetchone()
    return int(row[0])  # type: ignore[index]


def commit_fit(
    con: duckdb.DuckDBPyConnection, fit_id: int, as_of: datetime, key: str, models: str, keep: int
) -> None:
    """Name fit ``fit_id`` (its predictions already written where they are read) in
    ``clv_fits``, keeping the ``keep`` newest fits: from this commit on it is read."""
    with transaction(con, "clv", "storing the CLV fit"):
        con.execute(
            f"INSERT INTO {STORED_FITS} VALUES (?, ?, ?, ?, now())", [fit_id, as_of, key, models]
        )
        _prune(con, fit_id - keep + 1)


def committed_fits(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The ids of the stored fits."""
    return {int(row[0]) for row in con.execute(f"SELECT fit_id FROM {STORED_FITS}").fetchall()}


def session_fit_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next session fit takes: negative, never one of the stored ids."""
    _session_tables(con)
    row = con.execute(f"SELECT coalesce(min(fit_id), 0) - 1 FROM {SESSION_FITS}").fetchone()
    return int(row[0])  # type: ignore[index]


def record_session_fit(
    con: duckdb.DuckDBPyConnection, fit_id: int, as_of: datetime, key: str, models: str
) -> None:
    """Record session fit ``fit_id`` (:func:`session_fit_id`), whose predictions are kept
    elsewhere (a source's temporary table)."""
    _session_tables(con)
    con.execute(f"INSERT INTO {SESSION_FITS} VALUES (?, ?, ?, ?)", [fit_id, as_of, key, models])
