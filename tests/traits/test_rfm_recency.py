"""Recency scored against the shop's purchase cadence (``[rfm] recency = "cadence"``, the
default) and as quintiles among buyers, on a base where most buyers have lapsed
(docs/traits.md, "RFM scores").

The expected values come from the generated orders in plain Python: purchase days, gaps,
linear quantiles and days since the last order are computed here, not read from segmint.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

import segmint
from segmint.errors import ConfigError
from tests.conftest import write_csv
from tests.traits import reference as ref
from tests.traits.test_traits_reference import with_settings

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
BUYERS = 400
# Segments that promise a recent or still reachable buyer.
NOT_FOR_CHURNED = {"Champions", "Loyal", "Potential Loyalist", "Can't Lose", "At Risk"}

Orders = dict[str, list[tuple[datetime, Decimal]]]


def load(ws: segmint.Workspace, files: Path, orders: Orders) -> None:
    """Customers (created 2020-01-01) and their orders."""
    lines = ["customer_id,created_at", *(f"{c},2020-01-01T00:00:00Z" for c in orders)]
    ws.ingest("customers", write_csv(files / "customers.csv", "\n".join(lines)))
    lines = ["order_id,customer_id,ordered_at,total"]
    rows = [(cid, t, total) for cid, placed in orders.items() for t, total in placed]
    lines += [f"o{n},{c},{t.isoformat()},{total}" for n, (c, t, total) in enumerate(rows)]
    ws.ingest("orders", write_csv(files / "orders.csv", "\n".join(lines)))


def lapsed_base(seed: int) -> Orders:
    """A shop whose buyers reorder every 30-60 days, but 80 % of whom last ordered 400-700
    days ago; one to six orders each."""
    r = random.Random(seed)
    orders: Orders = {}
    for i in range(BUYERS):
        days = r.uniform(400, 700) if r.random() < 0.8 else r.uniform(0, 90)
        last = AS_OF - days * DAY
        n = r.choices(range(1, 7), weights=[40, 20, 15, 10, 10, 5])[0]
        times = [last]
        for _ in range(n - 1):
            times.append(times[-1] - r.uniform(30, 60) * DAY)
        orders[f"c{i:03}"] = [(t, Decimal(r.randint(100, 50_000)) / 100) for t in times]
    return orders


def linear_quantile(values: list[int], q: float) -> float:
    """The linearly interpolated quantile (numpy's default), by hand."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (pos - lo) * (ordered[hi] - ordered[lo])


def cadence_days(orders: Orders) -> dict[str, int]:
    """docs/traits.md with the default settings: quantiles 0.5, 0.75, 0.9, 0.97 of the gaps
    between consecutive purchase days, rounded up, kept increasing (>= 30 gaps here)."""
    gaps = []
    for placed in orders.values():
        days = sorted({t.date() for t, _ in placed})
        gaps += [(b - a).days for a, b in pairwise(days)]
    assert len(gaps) >= 30
    up = [max(1, math.ceil(linear_quantile(gaps, q))) for q in (0.5, 0.75, 0.9, 0.97)]
    at_risk = up[1]
    lapsed = max(up[2], at_risk + 1)
    churned = max(up[3], lapsed + 1)
    recent = min(up[0], at_risk - 1)
    return {"recent": recent, "at_risk": at_risk, "lapsed": lapsed, "churned": churned}


def days_since(placed: list[tuple[datetime, Decimal]]) -> int:
    return (AS_OF - max(t for t, _ in placed)) // DAY


def cadence_r(d: int, days: dict[str, int]) -> int:
    if d <= days["recent"]:
        return 5
    if d <= days["at_risk"]:
        return 4
    if d <= days["lapsed"]:
        return 3
    return 2 if d <= days["churned"] else 1


@pytest.fixture(scope="module", params=[1, 2], ids=lambda s: f"seed{s}")
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[segmint.Workspace, Orders]]:
    folder = tmp_path_factory.mktemp(f"lapsed{request.param}")
    ws = segmint.init(folder / "ws")
    orders = lapsed_base(request.param)
    load(ws, folder, orders)
    yield ws, orders
    ws.close()


def test_cadence_recency_matches_a_plain_computation_on_a_lapsed_base(
    shop: tuple[segmint.Workspace, Orders],
) -> None:
    ws, orders = shop
    days = cadence_days(orders)
    thresholds = ws.lifecycle_thresholds(AS_OF)
    assert [thresholds[f"{k}_days"] for k in ("at_risk", "lapsed", "churned")] == [
        days["at_risk"],
        days["lapsed"],
        days["churned"],
    ]
    table = ws.traits(as_of=AS_OF, output="pandas").set_index("customer_id")
    expected_r = {cid: cadence_r(days_since(placed), days) for cid, placed in orders.items()}
    assert table["r_score"].astype(int).to_dict() == expected_r
    assert set(expected_r.values()) == {1, 2, 3, 4, 5}
    # F and M stay quintiles among buyers; the grid's R = 1 row is the cadence one.
    f = ref.scores([len(p) for p in orders.values()], worse_is_more=False)
    m = ref.scores([sum(v for _, v in p) for p in orders.values()], worse_is_more=False)
    expected = {
        cid: ref.rfm_segment(expected_r[cid], fi, mi, "cadence")
        for cid, fi, mi in zip(orders, f, m, strict=True)
    }
    assert table["rfm_segment"].to_dict() == expected


def test_a_churned_buyer_is_never_scored_recent_by_default(
    shop: tuple[segmint.Workspace, Orders],
) -> None:
    ws, _ = shop
    table = ws.traits(as_of=AS_OF, output="pandas")
    churned = table[table["days_since_last_order"] > ws.lifecycle_thresholds(AS_OF)["churned_days"]]
    assert len(churned) >= 0.7 * BUYERS
    assert (churned["r_score"] == 1).all()
    assert not set(churned["rfm_segment"]) & NOT_FOR_CHURNED
    assert (churned["lifecycle_stage"] == "churned").all()


def test_quintile_recency_scores_the_lapsed_base_among_itself(
    shop: tuple[segmint.Workspace, Orders], tmp_path: Path
) -> None:
    # The behaviour the cadence default replaces, kept under recency = "quintiles": R is
    # 1 + floor(5 w / n) among buyers, so most buyers gone for over a year score 2-5.
    _, orders = shop
    folder = tmp_path / "quintiles"
    other = segmint.init(folder / "ws")
    load(other, folder, orders)
    other = with_settings(other, recency="quintiles")
    try:
        table = other.traits(as_of=AS_OF, output="pandas").set_index("customer_id")
        churned_days = other.lifecycle_thresholds(AS_OF)["churned_days"]
    finally:
        other.close()
    expected_r = ref.scores([days_since(p) for p in orders.values()], worse_is_more=True)
    assert table["r_score"].astype(int).to_dict() == dict(zip(orders, expected_r, strict=True))
    churned = table[table["days_since_last_order"] > churned_days]
    assert (churned["r_score"] >= 3).mean() > 0.5
    assert {"Champions", "Loyal"} <= set(churned["rfm_segment"])


# docs/traits.md, the worked example: a shop with a 30-60 day cadence (thresholds set here:
# R = 5 up to 30 days, at risk after 60, lapsed after 90, churned after 120) where 8 of 13
# buyers bought once, 560-700 days ago, for 20. customer: (days, orders, total, R by
# cadence, segment by cadence, R by quintiles, segment by quintiles).
EXAMPLE = {
    "ann": (12, 4, 400, 5, "Champions", 5, "Champions"),
    "ben": (45, 2, 90, 4, "Loyal", 5, "Champions"),
    "cat": (100, 5, 600, 2, "Can't Lose", 4, "Champions"),
    "eve": (150, 3, 250, 1, "Hibernating", 4, "Loyal"),
    "dan": (535, 1, 300, 1, "Hibernating", 4, "Loyal"),
}
EXAMPLE_DAYS = {"recent_days": 30, "at_risk_days": 60, "lapsed_days": 90, "churned_days": 120}


def example_orders() -> Orders:
    """Each customer's last order carries the total; earlier ones are 3, 6, ... days before
    and worth 0."""
    orders: Orders = {}
    spec = {cid: (d, n, total) for cid, (d, n, total, *_) in EXAMPLE.items()}
    spec |= {f"gone{i}": (560 + 20 * i, 1, 20) for i in range(8)}
    for cid, (d, n, total) in spec.items():
        last = AS_OF - d * DAY - timedelta(hours=1)
        earlier = [(last - 3 * j * DAY, Decimal(0)) for j in range(1, n)]
        orders[cid] = [(last, Decimal(total)), *earlier]
    return orders


@pytest.mark.parametrize("recency", ["cadence", "quintiles"])
def test_the_worked_example_of_the_docs(ws: segmint.Workspace, files: Path, recency: str) -> None:
    load(ws, files, example_orders())
    ws = with_settings(ws, recency=recency, **EXAMPLE_DAYS)
    try:
        table = ws.traits(as_of=AS_OF, output="pandas").set_index("customer_id")
    finally:
        ws.close()
    at = 3 if recency == "cadence" else 5
    got = {cid: (int(table.at[cid, "r_score"]), table.at[cid, "rfm_segment"]) for cid in EXAMPLE}
    assert got == {cid: (row[at], row[at + 1]) for cid, row in EXAMPLE.items()}


# One-order buyers only: no purchase gaps, so the fallbacks apply: R = 5 up to
# fallback_recent_days (30), then [lifecycle] fallback_days (90, 180, 365).
FALLBACK = {30: 5, 31: 4, 90: 4, 91: 3, 180: 3, 181: 2, 365: 2, 366: 1}


def test_too_few_purchase_gaps_score_against_the_fallback_days(
    ws: segmint.Workspace, files: Path
) -> None:
    orders = {f"d{d}": [(AS_OF - d * DAY - timedelta(hours=1), Decimal(10))] for d in FALLBACK}
    load(ws, files, orders)
    table = ws.traits(as_of=AS_OF, output="pandas").set_index("customer_id")
    assert table["r_score"].astype(int).to_dict() == {f"d{d}": r for d, r in FALLBACK.items()}


def test_recent_days_is_kept_below_the_at_risk_threshold(
    ws: segmint.Workspace, files: Path
) -> None:
    # recent_days 10 with at_risk_days 5: R = 5 only up to 4 days, so that R = 4 exists.
    orders = {f"d{d}": [(AS_OF - d * DAY - timedelta(hours=1), Decimal(10))] for d in (4, 5, 6)}
    load(ws, files, orders)
    ws = with_settings(ws, recent_days=10, at_risk_days=5)
    try:
        table = ws.traits(as_of=AS_OF, output="pandas").set_index("customer_id")
    finally:
        ws.close()
    assert table["r_score"].astype(int).to_dict() == {"d4": 5, "d5": 4, "d6": 3}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('recency = "quintile"', "[rfm] recency: expected one of 'cadence', 'quintiles', got"),
        ('recency = "quintile"', "did you mean 'quintiles'?"),
        ("recent_quantile = 1.5", "[rfm] recent_quantile: must be between 0 and 1, got 1.5"),
        ("fallback_recent_days = 0", "[rfm] fallback_recent_days: must be >= 1, got 0"),
    ],
)
def test_a_bad_rfm_setting_is_an_error_naming_the_key(
    ws: segmint.Workspace, setting: str, message: str
) -> None:
    ws.close()
    (ws.root / "segmint.toml").write_text(f"[rfm]\n{setting}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        segmint.open(ws.root)
    assert message in str(caught.value)
