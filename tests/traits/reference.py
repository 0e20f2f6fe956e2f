"""An independent pandas evaluation of the computed traits (docs/traits.md), for differential
tests.

It reads raw rows of ``profiles`` and ``events`` (plain SELECTs, no aggregation in SQL) and
computes every trait with pandas, numpy and plain Python, written from docs/traits.md and
the rule semantics of docs/rules.md alone, not from segmint's trait expressions:

* the population at ``as_of``: profiles with a ``customer_id`` whose creation time (its
  ``created_at``, else its earliest event of all time) is ``<= as_of``, or that have neither;
* only events with ``ts <= as_of`` count; "days since t" is ``floor((as_of - t) / 1 day)``;
  "the last N days" is ``as_of - N days < t <= as_of``;
* R is scored as ``[rfm] recency`` says: "cadence" counts the day thresholds (R = 5 up to
  ``recent_days``, then the lifecycle thresholds) that days since the last order exceed,
  "quintiles" ranks among buyers like F and M; the grid's R = 1 row differs with cadence;
* "buyers" for RFM and value tiers are the population's customers with a purchase up to
  ``as_of``; the lifecycle thresholds use "all buyers": every profile's purchases up to
  ``as_of``, also of profiles outside the population (a ``created_at`` after ``as_of``), as
  the shop's cadence is all of its purchases;
* the CLV model outputs (``p_alive``, ``predicted_*``) are not computed here: the caller
  passes segmint's own columns, and only the documented rules built on them
  (``churn_risk``, ``value_tier``) are applied.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tests.conftest import db

if TYPE_CHECKING:
    import segmint
    from segmint.config import Config

DAY = timedelta(days=1)

# The trait columns of `segmint traits`, in the order of the table in docs/traits.md.
TRAIT_COLUMNS = (
    "orders_count",
    "revenue_total",
    "aov",
    "first_order_at",
    "last_order_at",
    "days_since_last_order",
    "first_seen_at",
    "last_seen_at",
    "days_since_last_seen",
    "tenure_days",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "lifecycle_stage",
    "orders_trend_60d",
    "email_open_rate_90d",
    "email_click_rate_90d",
    "p_alive",
    "predicted_orders_365d",
    "predicted_clv_365d",
    "churn_risk",
    "value_tier",
)
MODEL_OUTPUTS = ("p_alive", "predicted_orders_365d", "predicted_clv_365d")

# docs/traits.md, "The RFM groups": rows R = 5..1, columns FM = 1..5.
RFM_GRID = {
    5: ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalist", "Loyal", "Loyal", "Champions"),
    3: ("About to Sleep", "Need Attention", "Need Attention", "Loyal", "Loyal"),
    2: ("Hibernating", "About to Sleep", "At Risk", "At Risk", "Can't Lose"),
    1: ("Lost", "Hibernating", "At Risk", "Can't Lose", "Can't Lose"),
}
# docs/traits.md: with cadence recency R = 1 (churned) is never At Risk or Can't Lose.
CADENCE_GRID = RFM_GRID | {
    1: ("Lost", "Hibernating", "Hibernating", "Hibernating", "Hibernating"),
}


@dataclass(frozen=True)
class RawData:
    """Raw rows of the store: ``profiles`` (pid, customer_id, created_at, ...) and
    ``events`` (pid, event, ts, revenue), timestamps as UTC pandas timestamps."""

    profiles: pd.DataFrame
    events: pd.DataFrame


def read_raw(ws: segmint.Workspace) -> RawData:
    """The rows the reference needs, read with plain SELECTs."""
    profiles = _frame(
        ws,
        "SELECT pid, customer_id, created_at, first_event_at, last_event_at FROM profiles",
    )
    events = _frame(ws, "SELECT pid, event, ts, revenue FROM events")
    for frame, column in [(profiles, "created_at"), (events, "ts")]:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return RawData(profiles, events)


def _frame(ws: segmint.Workspace, sql: str) -> pd.DataFrame:
    # Through Arrow rather than DuckDB's .df(), which with pandas 3 can emit a deprecation
    # warning that the test settings turn into an error (see tests/rules/reference.py).
    return db(ws).execute(sql).arrow().read_all().to_pandas()


def missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def days_since(as_of: datetime, t: Any) -> int | None:
    """``floor((as_of - t) / 1 day)`` in whole microseconds (exact), None for no time."""
    if missing(t):
        return None
    return (pd.Timestamp(as_of) - pd.Timestamp(t)) // pd.Timedelta(DAY)


# --- population and per-customer facts ---------------------------------------------------


def population(raw: RawData, as_of: datetime) -> pd.DataFrame:
    """Profiles with a customer_id that exist at ``as_of``, with their creation time."""
    first_event = raw.events.groupby("pid")["ts"].min()
    people = raw.profiles[raw.profiles["customer_id"].notna()].copy()
    created = people["created_at"]
    people["created"] = created.where(created.notna(), people["pid"].map(first_event))
    exists = people["created"].isna() | (people["created"] <= pd.Timestamp(as_of))
    return people[exists].set_index("pid")


def purchases_up_to(raw: RawData, as_of: datetime, config: Config) -> pd.DataFrame:
    """Every purchase event at or before ``as_of``, of any profile."""
    events = raw.events
    bought = events["event"].isin(config.ingest.purchase_events)
    return events[bought & (events["ts"] <= pd.Timestamp(as_of))]


def _in_window(ts: pd.Series, as_of: datetime, older: int, newer: int) -> pd.Series:
    """``as_of - older days < ts <= as_of - newer days``."""
    a = pd.Timestamp(as_of)
    return (ts > a - older * pd.Timedelta(DAY)) & (ts <= a - newer * pd.Timedelta(DAY))


def purchase_facts(purchases: pd.DataFrame) -> pd.DataFrame:
    """Per pid: orders_count, revenue_total (exact Decimal), first and last order."""
    by_pid = purchases.groupby("pid")
    revenue = purchases["revenue"].map(lambda v: Decimal(0) if missing(v) else Decimal(v))
    return pd.DataFrame(
        {
            "orders_count": by_pid.size(),
            # Python's sum of Decimals: exact, whatever the number of terms.
            "revenue_total": revenue.groupby(purchases["pid"]).agg(lambda s: sum(s, Decimal(0))),
            "first_order_at": by_pid["ts"].min(),
            "last_order_at": by_pid["ts"].max(),
        }
    )


# --- RFM ----------------------------------------------------------------------------------


def scores(values: list[Any], worse_is_more: bool) -> list[int]:
    """``1 + floor(5 w / n)`` per value, ``w`` the number of values strictly worse."""
    ordered = sorted(values)
    n = len(values)
    out = []
    for v in values:
        worse = n - bisect_right(ordered, v) if worse_is_more else bisect_left(ordered, v)
        out.append(1 + (5 * worse) // n)
    return out


def rfm_segment(r: int, f: int, m: int, recency: str = "quintiles") -> str:
    fm = -(-(f + m) // 2)  # ceil((F + M) / 2) in integers
    grid = CADENCE_GRID if recency == "cadence" else RFM_GRID
    return grid[r][fm - 1]


def recency_days(purchases: pd.DataFrame, config: Config) -> dict[str, int]:
    """docs/traits.md "Recency against the shop's cadence": recent_days and the lifecycle
    day thresholds, from every purchase up to as_of."""
    days = lifecycle_thresholds(purchases, config)
    c = config.rfm
    gaps = purchase_gaps(purchases)
    if c.recent_days:
        recent = c.recent_days
    elif len(gaps) < config.lifecycle.min_gaps:
        recent = c.fallback_recent_days
    else:
        recent = max(1, _quantile_up(gaps, c.recent_quantile))
    return {
        "recent_days": min(recent, days["at_risk_days"] - 1),
        "at_risk_days": days["at_risk_days"],
        "lapsed_days": days["lapsed_days"],
        "churned_days": days["churned_days"],
    }


def cadence_score(d: int, days: dict[str, int]) -> int:
    """5 less the number of the four day thresholds that ``d`` exceeds."""
    bounds = ("recent_days", "at_risk_days", "lapsed_days", "churned_days")
    return 5 - sum(d > days[b] for b in bounds)


# --- lifecycle ----------------------------------------------------------------------------


def purchase_gaps(purchases: pd.DataFrame) -> list[int]:
    """Days between consecutive purchase days (UTC dates) of each buyer."""
    gaps: list[int] = []
    days = purchases.assign(day=purchases["ts"].dt.date)[["pid", "day"]].drop_duplicates()
    for _, group in days.groupby("pid"):
        ordered = sorted(group["day"])
        gaps += [(b - a).days for a, b in pairwise(ordered)]
    return gaps


def _quantile_up(values: list[int], q: float) -> int:
    return math.ceil(np.quantile(np.array(values, dtype=float), q, method="linear"))


def lifecycle_thresholds(purchases: pd.DataFrame, config: Config) -> dict[str, int]:
    """docs/traits.md "Lifecycle stage": configured values, else derived from ``purchases``
    (see :func:`purchases_up_to`)."""
    c = config.lifecycle
    gaps = purchase_gaps(purchases)
    if len(gaps) < c.min_gaps:
        derived = list(c.fallback_days)
    else:
        quantiles = (c.at_risk_quantile, c.lapsed_quantile, c.churned_quantile)
        derived = [max(1, _quantile_up(gaps, q)) for q in quantiles]
    configured = [c.at_risk_days, c.lapsed_days, c.churned_days]
    days = []
    for i, (given, fallback) in enumerate(zip(configured, derived, strict=True)):
        if given:
            days.append(given)  # "a number set in the config is used as is"
        else:
            days.append(fallback if i == 0 else max(fallback, days[-1] + 1))
    per_buyer = purchases.groupby("pid").size().tolist()
    derived_loyal = max(3, _quantile_up(per_buyer, c.loyal_quantile)) if per_buyer else 3
    loyal = c.loyal_orders or derived_loyal
    return {
        "at_risk_days": days[0],
        "lapsed_days": days[1],
        "churned_days": days[2],
        "loyal_orders": loyal,
    }


def lifecycle_stage(orders: int, d: int | None, thresholds: dict[str, int]) -> str:
    if orders == 0 or d is None:
        return "subscriber"
    if d > thresholds["churned_days"]:
        return "churned"
    if d > thresholds["lapsed_days"]:
        return "lapsed"
    if d > thresholds["at_risk_days"]:
        return "at_risk"
    if orders >= thresholds["loyal_orders"]:
        return "loyal"
    if orders >= 2:
        return "repeat_buyer"
    return "first_time_buyer"


# --- churn_risk and value_tier ------------------------------------------------------------


def churn_risk(p_alive: Any, d: int, thresholds: dict[str, int], config: Config) -> str:
    """A missing p_alive compares false, so then only recency decides."""
    known = not missing(p_alive)
    if (known and p_alive < config.clv.churn_high_p_alive) or d > thresholds["lapsed_days"]:
        return "high"
    if (known and p_alive < config.clv.churn_medium_p_alive) or d > thresholds["at_risk_days"]:
        return "medium"
    return "low"


def value_tiers(predicted: list[float], config: Config) -> list[str]:
    """Per buyer with a prediction; ``h`` buyers have a strictly higher prediction."""
    ordered = sorted(predicted)
    n = len(predicted)
    c = config.clv
    out = []
    for v in predicted:
        higher = n - bisect_right(ordered, v)
        if higher < c.vip_share * n:
            out.append("vip")
        elif higher < c.high_share * n:
            out.append("high")
        elif higher < c.medium_share * n:
            out.append("medium")
        else:
            out.append("low")
    return out


# --- the table ----------------------------------------------------------------------------


def reference_traits(
    raw: RawData, as_of: datetime, config: Config, models: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every trait of every customer at ``as_of``, indexed by customer_id.

    ``models`` holds segmint's ``p_alive``, ``predicted_orders_365d`` and
    ``predicted_clv_365d`` by customer_id (missing columns: no model).
    """
    people = population(raw, as_of)
    events = raw.events[raw.events["ts"] <= pd.Timestamp(as_of)]
    every_purchase = purchases_up_to(raw, as_of, config)
    purchases = every_purchase[every_purchase["pid"].isin(people.index)]
    table = pd.DataFrame(index=people.index)
    table["customer_id"] = people["customer_id"]
    facts = purchase_facts(purchases)
    table = table.join(facts)
    table["orders_count"] = table["orders_count"].fillna(0).astype(int)
    table["revenue_total"] = [Decimal(0) if missing(v) else v for v in table["revenue_total"]]
    seen = events.groupby("pid")["ts"]
    table["first_seen_at"] = seen.min()
    table["last_seen_at"] = seen.max()
    table["created"] = people["created"]
    _add_scalar_traits(table, as_of)
    _add_rfm(table, recency_days(every_purchase, config), config.rfm.recency)
    thresholds = lifecycle_thresholds(every_purchase, config)
    table["lifecycle_stage"] = [
        lifecycle_stage(n, d, thresholds)
        for n, d in zip(table["orders_count"], table["days_since_last_order"], strict=True)
    ]
    table["orders_trend_60d"] = _trend(purchases, table.index, as_of)
    _add_email_rates(table, events, as_of, config)
    _add_model_traits(table, models, thresholds, config)
    return table.set_index("customer_id")[list(TRAIT_COLUMNS)]


def _add_scalar_traits(table: pd.DataFrame, as_of: datetime) -> None:
    table["aov"] = [
        float(total / n) if n else None
        for total, n in zip(table["revenue_total"], table["orders_count"], strict=True)
    ]
    for trait, column in [
        ("days_since_last_order", "last_order_at"),
        ("days_since_last_seen", "last_seen_at"),
        ("tenure_days", "created"),
    ]:
        table[trait] = pd.Series(
            [days_since(as_of, t) for t in table[column]], index=table.index, dtype=object
        )


def _add_rfm(table: pd.DataFrame, days: dict[str, int], recency: str) -> None:
    buyers = table[table["orders_count"] > 0]
    if recency == "cadence":
        r = [cadence_score(d, days) for d in buyers["days_since_last_order"]]
    else:
        r = scores(buyers["days_since_last_order"].tolist(), worse_is_more=True)
    f = scores(buyers["orders_count"].tolist(), worse_is_more=False)
    m = scores(buyers["revenue_total"].tolist(), worse_is_more=False)
    for name, values in [("r_score", r), ("f_score", f), ("m_score", m)]:
        table[name] = pd.Series(values, index=buyers.index, dtype=object)
    segments = [rfm_segment(*rfm, recency) for rfm in zip(r, f, m, strict=True)]
    table["rfm_segment"] = pd.Series(segments, index=buyers.index, dtype=object)


def _trend(purchases: pd.DataFrame, index: pd.Index, as_of: datetime) -> pd.Series:
    """``(p - q) / q`` over the last 60 days and the 60 before; missing when ``q = 0``."""
    recent = purchases[_in_window(purchases["ts"], as_of, 60, 0)].groupby("pid").size()
    before = purchases[_in_window(purchases["ts"], as_of, 120, 60)].groupby("pid").size()
    trend = {}
    for pid in index:
        p, q = int(recent.get(pid, 0)), int(before.get(pid, 0))
        trend[pid] = (p - q) / q if q else None
    return pd.Series(trend, index=index, dtype=object)


def _add_email_rates(
    table: pd.DataFrame, events: pd.DataFrame, as_of: datetime, config: Config
) -> None:
    last_90 = events[_in_window(events["ts"], as_of, 90, 0)]
    counts = last_90.groupby(["pid", "event"]).size()
    t = config.traits

    def count(pid: int, event: str) -> int:
        return int(counts.get((pid, event), 0))

    for trait, event in [
        ("email_open_rate_90d", t.email_open_event),
        ("email_click_rate_90d", t.email_click_event),
    ]:
        rates = {}
        for pid in table.index:
            sent = count(pid, t.email_sent_event)
            rates[pid] = min(count(pid, event) / sent, 1.0) if sent else None
        table[trait] = pd.Series(rates, index=table.index, dtype=object)


def _add_model_traits(
    table: pd.DataFrame,
    models: pd.DataFrame | None,
    thresholds: dict[str, int],
    config: Config,
) -> None:
    buyers = table[table["orders_count"] > 0]
    for column in MODEL_OUTPUTS:
        # segmint's own values, for buyers only: what is compared is that non-buyers have
        # none ("buyers only"), and the rules below that use them.
        given = models is not None and column in models
        values = buyers["customer_id"].map(models[column]) if given else None
        table[column] = pd.Series(values, index=buyers.index, dtype=float)
    buyers = table[table["orders_count"] > 0]
    risk = [
        churn_risk(p, d, thresholds, config)
        for p, d in zip(buyers["p_alive"], buyers["days_since_last_order"], strict=True)
    ]
    table["churn_risk"] = pd.Series(risk, index=buyers.index, dtype=object)
    predicted = buyers[buyers["predicted_clv_365d"].notna()]["predicted_clv_365d"]
    tiers = value_tiers(predicted.tolist(), config)
    table["value_tier"] = pd.Series(tiers, index=predicted.index, dtype=object)
