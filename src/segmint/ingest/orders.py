"""What makes an order a purchase: its money in the base currency, its status, its refunds.

An order file goes through the events path (ingest/events.py) with three more role
columns, read here:

- ``currency`` (ISO 4217; without the column every order is in the base currency,
  ``[money] currency``): the order's ``total`` is converted at its ``ordered_at`` with the
  rate in force then (``rates``: a rate holds from its ``valid_from`` until the next one).
  An order in a currency without a rate at that time is rejected with that reason.
- ``status``: an order whose status is one of ``[purchases] exclude_statuses`` is stored
  in ``orders`` but is not a purchase, so no event stands for it.
- ``refunded_amount``: part of the total given back; revenue is ``total - refunded_amount``
  converted. An order refunded in full is not a purchase either.

Every order as last loaded is a row of ``orders``; the events table holds it as a purchase
event (``revenue`` in the base currency; the original ``total``, ``currency``, ``status``
and ``refunded_amount`` as properties) only while it counts. Re-loading an order with the
same ``order_id`` and the same values changes nothing; with a new status, total, refund,
time or customer it replaces the stored order and its event.
"""

from __future__ import annotations

from segmint.engine.sqltext import quote_str
from segmint.errors import IngestError
from segmint.ingest.context import LoadContext
from segmint.ingest.sources import Source
from segmint.ingest.stage import Check, convert_check, json_text_checks
from segmint.ingest.types import cast_expr, money_can_fail, money_reason

# Order columns with a role beyond a property; they are stored as properties explicitly.
ROLE_COLUMNS = ("currency", "status", "refunded_amount")
# Rates are exact decimals with up to this many places (DECIMAL(18, 10) in the store).
RATE_SCALE = 10
# Types of the properties every stored order carries (for the property catalog).
ORDER_PROPERTIES = {
    "total": "float",
    "currency": "string",
    "status": "string",
    "refunded_amount": "float",
}
_META_KEY = "currency"


def check_currency(ctx: LoadContext) -> str:
    """The base currency, fixed by the first load of orders or rates: a workspace whose
    money was converted into one currency cannot change it by editing the config."""
    base = ctx.config.money.currency
    fixed = ctx.scalar("SELECT value FROM meta WHERE key = ?", [_META_KEY])
    if fixed is None:
        ctx.con.execute("INSERT INTO meta VALUES (?, ?)", [_META_KEY, base])
    elif fixed != base:
        raise IngestError(
            f"this workspace's money is in {fixed} (fixed when orders or rates were first "
            f'loaded) but segmint.toml [money] currency is "{base}"; set it back to "{fixed}"'
        )
    return base


def order_columns(ctx: LoadContext, source: Source) -> tuple[list[str], list[Check]]:
    """Stage columns ``s_currency``, ``s_status``, ``s_refunded`` and their checks."""
    col = source.column
    selects: list[str] = []
    checks: list[Check] = []
    currency = col("currency")
    if currency is None:
        selects.append(f"{quote_str(ctx.config.money.currency)} AS s_currency")
    else:
        checks.extend(json_text_checks(currency, "currency", integers=False))
        selects.append(f"upper({currency.clean()}) AS s_currency")
        checks.append(
            (
                "s_currency IS NULL",
                "'missing currency (the file has a currency column; an order without one "
                "would be mixed into the base currency unconverted)'",
            )
        )
        checks.append(
            (
                "NOT regexp_full_match(s_currency, '[A-Z]{3}')",
                '\'currency: expected an ISO 4217 code such as "EUR", got "\' || '
                f"left({currency.text()}, 60) || '\"'",
            )
        )
    status = col("status")
    if status is None:
        selects.append("CAST(NULL AS VARCHAR) AS s_status")
    else:
        checks.extend(json_text_checks(status, "status", integers=False))
        selects.append(f"{status.clean()} AS s_status")
    refunded = col("refunded_amount")
    scale = ctx.config.ingest.money_scale
    if refunded is None:
        selects.append("CAST(NULL AS DECIMAL(18, 4)) AS s_refunded")
    else:
        selects.append(f"{cast_expr(refunded, 'money', scale)} AS s_refunded")
        if money_can_fail(refunded, scale):
            checks.append(
                convert_check(
                    "s_refunded", refunded, money_reason("refunded_amount", refunded, scale)
                )
            )
        checks.append(
            (
                "s_refunded < 0 OR s_refunded > s_revenue",
                "'refunded_amount: must be between 0 and the total ' || s_revenue || "
                "', got ' || s_refunded",
            )
        )
    return selects, checks


def prepare_orders(ctx: LoadContext) -> None:
    """``_orders_in``: the valid orders of the load with their rate, revenue in the base
    currency, whether they count as purchases, and how they compare with the stored order
    (``new``, ``changed`` or ``same``). Orders without a rate become rejects."""
    base = check_currency(ctx)
    excluded = [s.lower() for s in ctx.config.purchases.exclude_statuses]
    statuses = ", ".join(map(quote_str, excluded)) or "NULL"
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _orders_rated AS SELECT s.*, "
        f"CASE WHEN s.s_currency = {quote_str(base)} THEN CAST(1 AS DECIMAL(18, 10)) "
        "ELSE r.rate END AS s_rate FROM (SELECT * FROM _stage WHERE _reason IS NULL"
        f"{_not_repeated(ctx)}) s ASOF LEFT JOIN rates r "
        "ON r.currency = s.s_currency AND s.s_ts >= r.valid_from"
    )
    net = "CAST(s_revenue - coalesce(s_refunded, 0) AS DECIMAL(38, 4))"
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _orders_conv AS SELECT *, "
        f"TRY_CAST({net} * CAST(s_rate AS DECIMAL(38, 10)) AS DECIMAL(18, 4)) AS s_base, "
        f"coalesce(lower(s_status) NOT IN ({statuses}), true) "
        "AND NOT coalesce(s_refunded > 0 AND s_refunded >= s_revenue, false) AS s_counted "
        "FROM _orders_rated"
    )
    ctx.con.execute(
        "INSERT INTO _extra_rejects SELECT _record, CASE WHEN s_rate IS NULL THEN "
        f"'currency ' || s_currency || ': no exchange rate into {base} on or before ' || "
        "strftime(s_ts, '%Y-%m-%dT%H:%M:%SZ') || ' (load one with segmint ingest rates)' "
        f"ELSE 'total: too large once converted into {base}' END, "
        "CAST(json_object('order_id', s_event_id, 'customer_id', s_customer_id, "
        "'ordered_at', s_ts, 'total', s_revenue, 'currency', s_currency, 'status', s_status, "
        "'refunded_amount', s_refunded) AS VARCHAR) FROM _orders_conv WHERE s_base IS NULL"
    )
    # The stored order an order of this load replaces, if any; "same" when nothing about
    # it changed (a re-load of the same file adds nothing).
    same = (
        "o.ordered_at = c.s_ts AND o.status IS NOT DISTINCT FROM c.s_status "
        "AND o.currency = c.s_currency AND o.total = c.s_revenue "
        "AND o.refunded_amount = coalesce(c.s_refunded, 0) AND o.revenue = c.s_base "
        "AND o.counted = c.s_counted "
        "AND p.customer_id IS NOT DISTINCT FROM c.s_customer_id"
    )
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _orders_in AS SELECT c.* EXCLUDE (s_revenue, s_base), "
        "c.s_base AS s_revenue, c.s_revenue AS s_total, "
        f"CASE WHEN o.order_id IS NULL THEN 'new' WHEN {same} THEN 'same' ELSE 'changed' END "
        "AS s_change FROM _orders_conv c LEFT JOIN orders o ON o.order_id = c.s_event_id "
        "LEFT JOIN profiles p ON p.pid = o.pid WHERE c.s_base IS NOT NULL"
    )


def _not_repeated(ctx: LoadContext) -> str:
    if ctx.count("SELECT count(*) FROM _extra_rejects"):
        return " AND _record NOT IN (SELECT _record FROM _extra_rejects)"
    return ""


def store_orders(ctx: LoadContext, good: str, order_event: str) -> None:
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


def update_activity(ctx: LoadContext) -> None:
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


def order_properties() -> str:
    """SQL of the properties every stored order event carries (a missing value is left
    out: a JSON merge patch drops the keys whose value is null)."""
    return (
        "json_object('total', g.s_total, 'currency', g.s_currency, 'status', g.s_status, "
        "'refunded_amount', g.s_refunded)"
    )


def order_counts(ctx: LoadContext) -> tuple[int, int, int]:
    """Orders of this load that were new, changed, and the same as stored."""
    row = ctx.con.execute(
        "SELECT count(*) FILTER (WHERE s_change = 'new'), "
        "count(*) FILTER (WHERE s_change = 'changed'), "
        "count(*) FILTER (WHERE s_change = 'same') FROM _orders_in"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def reconvert(ctx: LoadContext, order_event: str) -> int:
    """After rates change: convert every stored order again with the rates now in force,
    and carry the new revenue to its purchase event. Returns the orders whose revenue
    changed."""
    base = ctx.config.money.currency
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _reconverted AS SELECT o.order_id, r.rate, "
        "TRY_CAST(CAST(o.total - o.refunded_amount AS DECIMAL(38, 4)) * "
        "CAST(r.rate AS DECIMAL(38, 10)) AS DECIMAL(18, 4)) AS revenue "
        "FROM orders o ASOF JOIN rates r ON r.currency = o.currency "
        "AND o.ordered_at >= r.valid_from WHERE o.currency <> ?",
        [base],
    )
    overflow = ctx.scalar("SELECT order_id FROM _reconverted WHERE revenue IS NULL LIMIT 1")
    if overflow is not None:
        raise IngestError(
            f"order {overflow}: its total is too large once converted into {base} "
            "with these rates; nothing was loaded"
        )
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _rechanged AS SELECT x.* FROM _reconverted x "
        "JOIN orders o ON o.order_id = x.order_id "
        "WHERE o.rate <> x.rate OR o.revenue <> x.revenue"
    )
    changed = ctx.count("SELECT count(*) FROM _rechanged")
    if changed:
        ctx.con.execute(
            "UPDATE orders SET rate = x.rate, revenue = x.revenue FROM _rechanged x "
            "WHERE orders.order_id = x.order_id"
        )
        ctx.con.execute(
            "UPDATE events SET revenue = x.revenue FROM _rechanged x "
            "WHERE events.event = ? AND events.event_id = x.order_id "
            "AND events.load_id IN (SELECT load_id FROM loads WHERE kind = 'orders')",
            [order_event],
        )
    return changed
