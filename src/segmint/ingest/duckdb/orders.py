"""What makes an order a purchase: its money in the base currency, its status, its refunds.

An order file goes through the events path (ingest/duckdb/events.py) with three more role
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
from segmint.ingest.duckdb.context import LoadContext
from segmint.ingest.duckdb.sources import Source
from segmint.ingest.duckdb.stage import Check, convert_check, json_text_checks
from segmint.ingest.duckdb.types import cast_expr, money_can_fail, money_reason
from segmint.store.orders import compare_with_stored, fix_currency, rate_orders

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


def check_currency(ctx: LoadContext) -> str:
    """The base currency, fixed by the first load of orders or rates: a workspace whose
    money was converted into one currency cannot change it by editing the config."""
    base = ctx.config.money.currency
    fixed = fix_currency(ctx.con, base)
    if fixed != base:
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
    rate_orders(ctx.con, base, f"SELECT * FROM _stage WHERE _reason IS NULL{_not_repeated(ctx)}")
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
    compare_with_stored(ctx.con)


def _not_repeated(ctx: LoadContext) -> str:
    if ctx.count("SELECT count(*) FROM _extra_rejects"):
        return " AND _record NOT IN (SELECT _record FROM _extra_rejects)"
    return ""


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
