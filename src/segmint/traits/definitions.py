"""The computed traits of DESIGN section 5: names, types, groups and meanings.

This module is the one list of traits. It imports nothing heavy, so the ingest (which
refuses custom attributes named like a trait) and the rule catalog can read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Trait:
    """One computed trait: its name in rules, logical type, group and meaning."""

    name: str
    type: str
    group: str
    description: str


# The order of DESIGN section 5; `segmint traits` writes the columns in this order.
TRAITS: Final[tuple[Trait, ...]] = (
    Trait("orders_count", "integer", "orders", "purchase events up to as_of"),
    Trait("revenue_total", "float", "orders", "sum of purchase revenue up to as_of"),
    Trait("aov", "float", "orders", "average order value: revenue_total / orders_count"),
    Trait("first_order_at", "timestamp", "orders", "time of the first purchase"),
    Trait("last_order_at", "timestamp", "orders", "time of the latest purchase"),
    Trait("days_since_last_order", "integer", "orders", "whole days from last_order_at"),
    Trait("first_seen_at", "timestamp", "activity", "time of the earliest event"),
    Trait("last_seen_at", "timestamp", "activity", "time of the latest event"),
    Trait("days_since_last_seen", "integer", "activity", "whole days from last_seen_at"),
    Trait("tenure_days", "integer", "activity", "whole days since the profile was created"),
    Trait("r_score", "integer", "rfm", "recency score 1-5, 5 = most recent ([rfm] recency)"),
    Trait("f_score", "integer", "rfm", "frequency score 1-5 among buyers (5 = most orders)"),
    Trait("m_score", "integer", "rfm", "monetary score 1-5 among buyers (5 = most revenue)"),
    Trait("rfm_segment", "string", "rfm", "named RFM group (Champions ... Lost)"),
    Trait("lifecycle_stage", "string", "lifecycle", "subscriber ... churned"),
    Trait("orders_trend_60d", "float", "trend", "order count change, last 60 vs prior 60 days"),
    Trait("email_open_rate_90d", "float", "engagement", "opens / emails sent, last 90 days"),
    Trait("email_click_rate_90d", "float", "engagement", "clicks / emails sent, last 90 days"),
    Trait("p_alive", "float", "clv", "BG/NBD probability the customer is still active"),
    Trait("predicted_orders_365d", "float", "clv", "BG/NBD expected orders, next 365 days"),
    Trait("predicted_clv_365d", "float", "clv", "expected orders x Gamma-Gamma spend, 365 days"),
    Trait("churn_risk", "string", "clv", "high, medium or low, from p_alive and recency"),
    Trait("value_tier", "string", "clv", "vip, high, medium or low by predicted CLV"),
)

TRAIT_TYPES: Final[dict[str, str]] = {t.name: t.type for t in TRAITS}
TRAIT_NAMES: Final[tuple[str, ...]] = tuple(t.name for t in TRAITS)

# Traits that need the fitted CLV models (churn_risk falls back to recency without them).
CLV_TRAITS: Final = frozenset({"p_alive", "predicted_orders_365d", "predicted_clv_365d"})
MODEL_TRAITS: Final = CLV_TRAITS | {"churn_risk", "value_tier"}

# RFM groups: rows are the recency score R (5 first), columns the combined score
# FM = ceil((F + M) / 2) from 1 to 5. Every cell names exactly one group.
RFM_GRID: Final[dict[int, tuple[str, str, str, str, str]]] = {
    5: ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalist", "Loyal", "Loyal", "Champions"),
    3: ("About to Sleep", "Need Attention", "Need Attention", "Loyal", "Loyal"),
    2: ("Hibernating", "About to Sleep", "At Risk", "At Risk", "Can't Lose"),
    1: ("Lost", "Hibernating", "At Risk", "Can't Lose", "Can't Lose"),
}
# With cadence recency R = 1 means churned (silent past the lifecycle churned threshold,
# by default longer than 97 % of the shop's repeat purchases took): a win-back audience,
# never "At Risk" or "Can't Lose", whose campaign (a personal call) is for a valuable buyer
# still within reach (R = 2 there).
CADENCE_RFM_GRID: Final[dict[int, tuple[str, str, str, str, str]]] = {
    **RFM_GRID,
    1: ("Lost", "Hibernating", "Hibernating", "Hibernating", "Hibernating"),
}
RFM_SEGMENTS: Final[tuple[str, ...]] = (
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose",
    "Hibernating",
    "Lost",
)
LIFECYCLE_STAGES: Final[tuple[str, ...]] = (
    "subscriber",
    "first_time_buyer",
    "repeat_buyer",
    "loyal",
    "at_risk",
    "lapsed",
    "churned",
)
CHURN_RISKS: Final[tuple[str, ...]] = ("high", "medium", "low")
VALUE_TIERS: Final[tuple[str, ...]] = ("vip", "high", "medium", "low")

# The values a string trait can take, for validation messages and the docs.
TRAIT_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "rfm_segment": RFM_SEGMENTS,
    "lifecycle_stage": LIFECYCLE_STAGES,
    "churn_risk": CHURN_RISKS,
    "value_tier": VALUE_TIERS,
}


def rfm_segment(r: int, f: int, m: int, recency: str = "cadence") -> str:
    """The RFM group of scores (r, f, m), each 1-5, for an [rfm] recency mode."""
    grid = CADENCE_RFM_GRID if recency == "cadence" else RFM_GRID
    return grid[r][(f + m + 1) // 2 - 1]
