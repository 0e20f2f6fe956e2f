"""Appending a load's events and keeping each profile's first and last event time.

The rows come from the load's staged tables (ingest/duckdb/): the functions take the query
that yields them and write in one set-based statement each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segmint.store.identities import KEY_ANONYMOUS, KEY_CUSTOMER, KEY_EMAIL
from segmint.store.loads import LoadInProgress

if TYPE_CHECKING:
    import duckdb

# Which identifier decides the profile of a staged row (``_kk``) and its value (``_key``).
ROW_KEY = (
    f"CASE WHEN s_customer_id IS NOT NULL THEN {KEY_CUSTOMER} WHEN s_anonymous_id IS NOT "
    f"NULL THEN {KEY_ANONYMOUS} ELSE {KEY_EMAIL} END AS _kk, "
    "coalesce(s_customer_id, s_anonymous_id, s_email) AS _key"
)


def identity_map(con: duckdb.DuckDBPyConnection) -> None:
    """``_idmap`` (a temp view): the profile of each identifier, as ``(kk, key, pid)``."""
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _idmap AS "
        f"SELECT {KEY_CUSTOMER} AS kk, customer_id AS key, pid FROM profiles "
        "WHERE customer_id IS NOT NULL UNION ALL "
        f"SELECT CASE kind WHEN 'anonymous_id' THEN {KEY_ANONYMOUS} ELSE {KEY_EMAIL} END, "
        "value, pid FROM identities"
    )


def mark_loaded_before(con: duckdb.DuckDBPyConnection) -> bool:
    """``_seen``: the staged records whose event_id an earlier events load stored (orders
    are another namespace). False, and no table, while the store has no events."""
    if con.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None:
        return False
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _seen AS SELECT s._record FROM _stage s "
        "SEMI JOIN events e ON e.event_id = s.s_event_id AND e.load_id IN "
        "(SELECT load_id FROM loads WHERE kind = 'events') WHERE s._reason IS NULL"
    )
    return True


def append_events(ctx: LoadInProgress, rows_sql: str, properties_sql: str) -> int:
    """Append the rows of ``rows_sql`` (staged columns ``s_event``, ``s_ts``, ...; their
    properties as the expression ``properties_sql`` over alias ``g``) to their profiles
    (``_idmap``). Returns the number of events written."""
    # Physical order of events does not matter (the layout sorts them for scans), and
    # keeping the input order made this insert single-threaded in places.
    ctx.con.execute("SET preserve_insertion_order = false")
    try:
        ctx.run(
            "writing events",
            "INSERT INTO events SELECT m.pid, g.s_event, g.s_ts, g.s_event_id, g.s_revenue, "
            f"{properties_sql}, g.s_anonymous_id, {int(ctx.load_id)} FROM ({rows_sql}) g "
            "JOIN _idmap m ON m.kk = g._kk AND m.key = g._key",
        )
    finally:
        ctx.con.execute("SET preserve_insertion_order = true")
    row = ctx.con.execute("SELECT count(*) FROM events WHERE load_id = ?", [ctx.load_id]).fetchone()
    return int(row[0]) if row else 0


def widen_activity(con: duckdb.DuckDBPyConnection) -> None:
    """First and last event time per profile, widened by the identifier combinations of
    the load (``_combos``: cid, anon, email, first_ts, last_ts)."""
    con.execute(
        "UPDATE profiles AS p SET "
        "first_event_at = least(coalesce(p.first_event_at, x.mn), x.mn), "
        "last_event_at = greatest(coalesce(p.last_event_at, x.mx), x.mx) "
        "FROM (SELECT m.pid, min(c.first_ts) AS mn, max(c.last_ts) AS mx FROM _combos c "
        f"JOIN _idmap m ON m.kk = CASE WHEN c.cid IS NOT NULL THEN {KEY_CUSTOMER} "
        f"WHEN c.anon IS NOT NULL THEN {KEY_ANONYMOUS} ELSE {KEY_EMAIL} END "
        "AND m.key = coalesce(c.cid, c.anon, c.email) GROUP BY m.pid) x WHERE p.pid = x.pid"
    )
