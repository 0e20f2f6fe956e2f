"""Orders as last loaded, the exchange rates, and the base currency they are kept in.

A load of orders or rates (ingest/duckdb/orders.py, rates.py) stages and checks the rows;
the statements that change the stored orders, rates and purchase events are here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segmint.engine.sqltext import quote_str
from segmint.errors import IngestError
from segmint.store.loads import LoadInProgress

if TYPE_CHECKING:
    import duckdb

_CURRENCY_KEY = "currency"


def fix_currency(con: duckdb.DuckDBPyConnection, base: str) -> str:
    """The workspace's base currency: the one fixed by the first load of orders or rates,
    else ``base``, which is fixed now."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", [_CURRENCY_KEY]).fetchone()
    if row is not None:
        return str(row[0])
    con.execute("INSERT INTO meta VALUES (?, ?)", [_CURRENCY_KEY, base])
    return base


def rate_orders(con: duckdb.DuckDBPyConnection, base: str, staged_sql: str) -> None:
    """``_orders_rated``: the staged orders of ``staged_sql`` with ``s_rate``, the rate into
    ``base`` in force at each order's time (1 for the base currency; NULL without one)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _orders_rated AS SELECT s.*, "
        f"CASE WHEN s.s_currency = {quote_str(base)} THEN CAST(1 AS DECIMAL(18, 10)) "
        f"ELSE r.rate END AS s_rate FROM ({staged_sql}) s ASOF LEFT JOIN rates r "
        "ON r.currency = s.s_currency AND s.s_ts >= r.valid_from"
    )


def compare_with_stored(con: duckdb.DuckDBPyConnection) -> None:
    """``_orders_in``: the converted orders of the load (``_orders_conv``) that have a
    revenue, each marked ``new``, ``changed`` or ``same`` against the stored order of its
    ``order_id`` (same: nothing about it changed, so a re-load of a file adds nothing)."""
    same = (
        "o.ordered_at = c.s_ts AND o.status IS NOT DISTINCT FROM c.s_status "
        "AND o.currency = c.s_currency AND o.total = c.s_revenue "
        "AND o.refunded_amount = coalesce(c.s_refunded, 0) AND o.revenue = c.s_base "
        "AND o.counted = c.s_counted "
        "AND p.customer_id IS NOT DISTINCT FROM c.s_customer_id"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _orders_in AS SELECT c.* EXCLUDE (s_revenue, s_base), "
        "c.s_base AS s_revenue, c.s_revenue AS s_total, "
        f"CASE WHEN o.order_id IS NULL THEN 'new' WHEN {same} THEN 'same' ELSE 'changed' END "
        "AS s_change FROM _orders_conv c LEFT JOIN orders o ON o.order_id = c.s_event_id "
        "LEFT JOIN profiles p ON p.pid = o.pid WHERE c.s_base IS NOT NULL"
    )


def store_orders(ctx: LoadInProgress, good: str, order_event: str) -> None:
    """Replace the stored orders (and their purchase events) that this load changes, and
    add the new ones (``good``: the rows of ``_orders_in`` that are not the same as
    stored). Runs after identities are resolved, so every order has a profile."""
    ctx.con.execute(
        "DELETE FROM events WHERE event = ? AND event_id IN "
        "(SELECT s_event_id FROM _orders_in WHERE s_change = 'changed') "
        "AND load_id IN (SELECT load_id FROM loads WHERE kind = 'orders')",
        [order_event],
    )
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _orders_old AS SELECT order_id, pid, first_load_id "
        "FROM orders WHERE order_id IN "
        "(SELECT s_event_id FROM _orders_in WHERE s_change = 'changed')"
    )
    ctx.con.execute("DELETE FROM orders WHERE order_id IN (SELECT order_id FROM _orders_old)")
    ctx.con.execute(
        "INSERT INTO orders SELECT g.s_event_id, m.pid, g.s_ts, g.s_status, g.s_currency, "
        "g.s_total, coalesce(g.s_refunded, 0), g.s_rate, g.s_revenue, g.s_counted, ?, "
        "coalesce(old.first_load_id, ?) "
        f"FROM ({good}) g JOIN _idmap m ON m.kk = g._kk AND m.key = g._key "
        "LEFT JOIN _orders_old old ON old.order_id = g.s_event_id",
        [ctx.load_id, ctx.load_id],
    )


def update_activity(ctx: LoadInProgress) -> None:
    """First and last event time of the profiles whose orders this load added or changed,
    from their events: a refunded order is no event, and an order that stopped counting
    took its event away, so the times are taken again rather than only widened."""
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT pid FROM orders WHERE load_id = ? "
        "UNION SELECT pid FROM _orders_old",
        [ctx.load_id],
    )
    ctx.con.execute(
        "UPDATE profiles AS p SET first_event_at = x.mn, last_event_at = x.mx FROM "
        "(SELECT t.pid, min(e.ts) AS mn, max(e.ts) AS mx FROM _touched t "
        "LEFT JOIN events e ON e.pid = t.pid GROUP BY t.pid) x WHERE p.pid = x.pid"
    )


def reconvert(con: duckdb.DuckDBPyConnection, base: str, order_event: str) -> int:
    """After rates change: convert every stored order again with the rates now in force,
    and carry the new revenue to its purchase event. Returns the orders whose revenue
    changed."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _reconverted AS SELECT o.order_id, r.rate, "
        "TRY_CAST(CAST(o.total - o.refunded_amount AS DECIMAL(38, 4)) * "
        "CAST(r.rate AS DECIMAL(38, 10)) AS DECIMAL(18, 4)) AS revenue "
        "FROM orders o ASOF JOIN rates r ON r.currency = o.currency "
        "AND o.ordered_at >= r.valid_from WHERE o.currency <> ?",
        [base],
    )
    row = con.execute("SELECT order_id FROM _reconverted WHERE revenue IS NULL LIMIT 1").fetchone()
    if row is not None:
        overflow = row[0]
        raise IngestError(
            f"order {overflow}: its total is too large once converted into {base} "
            "with these rates; nothing was loaded"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rechanged AS SELECT x.* FROM _reconverted x "
        "JOIN orders o ON o.order_id = x.order_id "
        "WHERE o.rate <> x.rate OR o.revenue <> x.revenue"
    )
    counted = con.execute("SELECT count(*) FROM _rechanged").fetchone()
    changed = int(counted[0]) if counted else 0
    if changed:
        con.execute(
            "UPDATE orders SET rate = x.rate, revenue = x.revenue FROM _rechanged x "
            "WHERE orders.order_id = x.order_id"
        )
        con.execute(
            "UPDATE events SET revenue = x.revenue FROM _rechanged x "
            "WHERE events.event = ? AND events.event_id = x.order_id "
            "AND events.load_id IN (SELECT load_id FROM loads WHERE kind = 'orders')",
            [order_event],
        )
    return changed


def store_rates(
    con: duckdb.DuckDBPyConnection, staged_sql: str, load_id: int
) -> tuple[int, int, int]:
    """Store the rates of ``staged_sql`` (``s_currency``, ``s_from``, ``s_rate``): a rate for a
    new (currency, valid_from) is added, a different one replaces the stored rate. Returns
    how many were new, changed and the same as stored."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rates_in AS SELECT s.s_currency, s.s_from, s.s_rate, "
        f"r.rate AS old FROM ({staged_sql}) s LEFT JOIN rates r ON r.currency = s.s_currency "
        "AND r.valid_from = s.s_from"
    )
    con.execute(
        "DELETE FROM rates USING _rates_in x WHERE rates.currency = x.s_currency "
        "AND rates.valid_from = x.s_from AND x.old <> x.s_rate"
    )
    con.execute(
        "INSERT INTO rates SELECT s_currency, s_from, s_rate, ? FROM _rates_in "
        "WHERE old IS NULL OR old <> s_rate",
        [load_id],
    )
    row = con.execute(
        "SELECT count(*) FILTER (WHERE old IS NULL), count(*) FILTER (WHERE old <> s_rate), "
        "count(*) FILTER (WHERE old = s_rate) FROM _rates_in"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])
