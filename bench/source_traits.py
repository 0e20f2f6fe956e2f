"""The SQL traits written by hand for a source engine (Spark or PostgreSQL), as an analyst
would write them on the user's own tables: the baseline of ``ws.traits()`` on a source in
bench/engines_bench.py ``--traits``. It is bench/traits_bench.py's hand-written DuckDB
query in the engine's dialect, reading the customers and events tables directly (the
first and last event of each customer aggregated in the query).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

# The traits bench/traits_bench.py compares with its DuckDB query, and the RFM names.
from traits_bench import SQL_TRAITS

from segmint.traits.definitions import RFM_GRID as GRID


class Sql:
    """What differs between the engines' SQL for the traits."""

    def __init__(self, engine: str, as_of: datetime) -> None:
        self.engine, self.as_of = engine, as_of
        self.spark = engine == "spark"

    def ts(self, days: int = 0) -> str:
        instant = self.as_of - timedelta(days=days)
        if self.spark:  # the session's time zone is UTC
            return f"TIMESTAMP '{instant.strftime('%Y-%m-%d %H:%M:%S')}'"
        return f"TIMESTAMPTZ '{instant.isoformat()}'"

    def epoch_us(self, value: str) -> str:
        if self.spark:
            return f"unix_micros({value})"
        return f"(CAST(EXTRACT(epoch FROM {value}) * 1000000 AS BIGINT))"

    def div(self, a: str, b: str) -> str:
        return f"({a}) div ({b})" if self.spark else f"div({a}, {b})"

    def double(self, value: str) -> str:
        return f"CAST({value} AS DOUBLE)" if self.spark else f"CAST({value} AS DOUBLE PRECISION)"

    def quantile(self, value: str, q: float) -> str:
        if self.spark:
            return f"percentile({value}, {q})"
        return f"percentile_cont({q}) WITHIN GROUP (ORDER BY {value})"

    def text(self, value: str) -> str:
        return "'" + value.replace("'", "\\'" if self.spark else "''") + "'"

    def col(self, name: str) -> str:
        return f"`{name}`" if self.spark else f'"{name}"'


def hand_written_traits(
    engine: str,
    as_of: datetime,
    customers: str,
    events: str,
    purchase: str = "order_completed",
) -> str:
    """The SQL traits of everyone at ``as_of`` from ``customers`` (customer_id,
    created_at) and ``events`` (customer_id, event, timestamp, revenue)."""
    s = Sql(engine, as_of)
    now, t, day = s.ts(), s.col("timestamp"), 86_400_000_000

    def since(value: str) -> str:
        return s.div(f"{s.epoch_us(now)} - {s.epoch_us(value)}", str(day))

    cells = " ".join(
        f"WHEN {r * 10 + i + 1} THEN {s.text(name)}"
        for r, row in GRID.items()
        for i, name in enumerate(row)
    )
    limit = "CEIL" if s.spark else "ceil"
    return f"""
WITH seen AS (
  SELECT customer_id, min({t}) AS first_at, max({t}) AS last_at FROM {events}
  WHERE {t} <= {now} GROUP BY customer_id
), people AS (
  SELECT c.customer_id, c.created_at, s.first_at, s.last_at FROM {customers} c
  LEFT JOIN seen s ON s.customer_id = c.customer_id
  WHERE c.customer_id IS NOT NULL AND (c.created_at <= {now} OR
        (c.created_at IS NULL AND s.first_at IS NOT NULL))
), purchases AS (
  SELECT customer_id, {t} AS ts, revenue FROM {events}
  WHERE event = {s.text(purchase)} AND {t} <= {now}
), orders AS (
  SELECT customer_id, count(*) AS n, sum(revenue) AS revenue, min(ts) AS first_at,
         max(ts) AS last_at,
         count(*) FILTER (WHERE ts > {s.ts(60)}) AS recent,
         count(*) FILTER (WHERE ts > {s.ts(120)} AND ts <= {s.ts(60)}) AS prior
  FROM purchases GROUP BY customer_id
), gaps AS (
  SELECT d - lag(d) OVER (PARTITION BY customer_id ORDER BY d) AS gap
  FROM (SELECT DISTINCT customer_id, {s.div(s.epoch_us("ts"), str(day))} AS d
        FROM purchases) x
), cadence AS (
  SELECT CASE WHEN count(gap) >= 30 THEN greatest(CAST({limit}({s.quantile("gap", 0.75)})
              AS BIGINT), 1) ELSE 90 END AS at_risk,
         CASE WHEN count(gap) >= 30 THEN greatest(CAST({limit}({s.quantile("gap", 0.9)})
              AS BIGINT), 1) ELSE 180 END AS lapsed0,
         CASE WHEN count(gap) >= 30 THEN greatest(CAST({limit}({s.quantile("gap", 0.97)})
              AS BIGINT), 1) ELSE 365 END AS churned0
  FROM gaps
), loyal AS (
  SELECT greatest(coalesce(CAST({limit}({s.quantile("n", 0.8)}) AS BIGINT), 3), 3) AS loyal
  FROM orders
), limits AS (
  SELECT at_risk, greatest(lapsed0, at_risk + 1) AS lapsed,
         greatest(churned0, greatest(lapsed0, at_risk + 1) + 1) AS churned, loyal
  FROM cadence CROSS JOIN loyal
), email AS (
  SELECT customer_id, count(*) FILTER (WHERE event = 'email_sent') AS sent,
         count(*) FILTER (WHERE event = 'email_opened') AS opens,
         count(*) FILTER (WHERE event = 'email_clicked') AS clicks
  FROM {events} WHERE event IN ('email_sent', 'email_opened', 'email_clicked')
    AND {t} > {s.ts(90)} AND {t} <= {now}
  GROUP BY customer_id
), scored AS (
  SELECT o.customer_id,
    1 + {
        s.div(f"5 * (rank() OVER (ORDER BY {since('o.last_at')} DESC) - 1)", "count(*) OVER ()")
    } AS r,
    1 + {s.div("5 * (rank() OVER (ORDER BY o.n) - 1)", "count(*) OVER ()")} AS f,
    1 + {s.div("5 * (rank() OVER (ORDER BY o.revenue) - 1)", "count(*) OVER ()")} AS m
  FROM orders o JOIN people p ON p.customer_id = o.customer_id
)
SELECT p.customer_id,
  coalesce(o.n, 0) AS orders_count,
  CAST(coalesce(o.revenue, 0) AS DECIMAL(38, 4)) AS revenue_total,
  {s.double("coalesce(o.revenue, 0)")} / o.n AS aov,
  o.first_at AS first_order_at, o.last_at AS last_order_at,
  {since("o.last_at")} AS days_since_last_order,
  p.first_at AS first_seen_at, p.last_at AS last_seen_at,
  {since("p.last_at")} AS days_since_last_seen,
  {since("coalesce(p.created_at, p.first_at)")} AS tenure_days,
  sc.r AS r_score, sc.f AS f_score, sc.m AS m_score,
  CASE sc.r * 10 + {s.div("sc.f + sc.m + 1", "2")} {cells} END AS rfm_segment,
  CASE WHEN o.n IS NULL THEN 'subscriber'
       WHEN {since("o.last_at")} > l.churned THEN 'churned'
       WHEN {since("o.last_at")} > l.lapsed THEN 'lapsed'
       WHEN {since("o.last_at")} > l.at_risk THEN 'at_risk'
       WHEN o.n >= l.loyal THEN 'loyal'
       WHEN o.n >= 2 THEN 'repeat_buyer'
       ELSE 'first_time_buyer' END AS lifecycle_stage,
  {s.double("o.recent - o.prior")} / nullif(o.prior, 0) AS orders_trend_60d,
  CASE WHEN {s.double("e.opens")} / nullif(e.sent, 0) > 1 THEN 1.0
       ELSE {s.double("e.opens")} / nullif(e.sent, 0) END AS email_open_rate_90d,
  CASE WHEN {s.double("e.clicks")} / nullif(e.sent, 0) > 1 THEN 1.0
       ELSE {s.double("e.clicks")} / nullif(e.sent, 0) END AS email_click_rate_90d
FROM people p
LEFT JOIN orders o ON o.customer_id = p.customer_id
LEFT JOIN scored sc ON sc.customer_id = p.customer_id
LEFT JOIN email e ON e.customer_id = p.customer_id
CROSS JOIN limits l
ORDER BY p.customer_id
"""


def differences(got: Any, want: Any) -> list[str]:
    """Where two Arrow tables of traits differ (floats within 1e-9 relative), by column."""
    out = []
    if got.column("customer_id").to_pylist() != want.column("customer_id").to_pylist():
        return ["customer_id: the customers differ"]
    for name in SQL_TRAITS:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        bad = [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if not _same(x, y)]
        if bad:
            out.append(f"{name}: {len(bad)} differ, e.g. {bad[:3]}")
    return out


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, datetime) and isinstance(y, datetime):
        return _utc(x) == _utc(y)
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    if x is not None and y is not None and not isinstance(x, (str, bool)):
        try:
            return math.isclose(float(x), float(y), rel_tol=1e-9) or x == y
        except (TypeError, ValueError):
            return bool(x == y)
    return bool(x == y)


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
