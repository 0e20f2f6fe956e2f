"""Incremental refresh (segments/incremental.py, rules/increments.py): day after day of
seeded random tracking data (new customers, late and early events, anonymous browsing,
ties and merges), each refresh's stored membership equals a full evaluation from the
events at the same as_of, for every kind of condition whose measures are kept and for
those evaluated in full; the kept measures equal measures computed afresh; and the
modes and reasons say which is which."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import segmint
from tests.conftest import rows
from tests.segments.test_live import _stored

KEPT = {
    "recent-buyers": "did order_completed in last 3 days",
    "browsers": "did page_viewed at least 2 times in last 5 days",
    "home-browsers": 'did page_viewed where name = "Home" at least 2 times in last 4 days',
    "spenders": "sum(revenue) of order_completed in last 10 days > 150",
    "avg-spenders": "avg(revenue) of order_completed >= 70",
    "cheap-buyers": "min(revenue) of order_completed < 25",
    "pricey-views": "max(price) of product_viewed > 80",
    "lapsed": "last order_completed more than 2 days ago",
    "new-browsers": "days since first page_viewed <= 4",
    "warming": "trend of page_viewed over 3 days >= 0.5",
    "earlier": "did page_viewed from 6 to 2 days ago",
    "fixed-window": "did order_completed between 2026-11-03 and 2026-11-09",
    "pro-not-buying": 'plan = "pro" and not did order_completed in last 4 days',
    "few-orders": "did order_completed at most 1 times",
    "pro-browsers": "in segment browsers and not in segment recent-buyers",
}
FULL = {
    "page-variety": "distinct(name) of page_viewed >= 2",
    "recent-max": "max(revenue) of order_completed in last 5 days > 100",
    "created-recently": "created_at within last 5 days",
}
START = datetime(2026, 11, 1, tzinfo=UTC)


def _batch(rng: random.Random, day: datetime, n: int, start: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        k = rng.randrange(40)
        user, anon = f"U{k}", f"a{k}"
        # Mostly the day before as_of; some late (days back) and some after as_of.
        offset = timedelta(hours=rng.uniform(-20, 0))
        if rng.random() < 0.15:
            offset = timedelta(days=-rng.uniform(1, 8))
        elif rng.random() < 0.05:
            offset = timedelta(hours=rng.uniform(1, 30))
        ts = (day + offset).isoformat().replace("+00:00", "Z")
        pick = rng.random()
        msg: dict[str, Any]
        if pick < 0.15:
            msg = {
                "type": "identify",
                "userId": user,
                "traits": {"plan": rng.choice(["free", "pro"]), "created_at": ts},
            }
            if rng.random() < 0.5:
                msg["anonymousId"] = anon
        elif pick < 0.45:
            name = rng.choice(["Home", "Shoes", "Bags"])
            who = {"anonymousId": anon} if rng.random() < 0.4 else {"userId": user}
            msg = {"type": "page", **who, "name": name, "timestamp": ts}
        elif pick < 0.65:
            msg = {"type": "track", "userId": user, "event": "product_viewed", "timestamp": ts,
                   "properties": {"price": rng.choice([None, rng.uniform(5, 120)])}}  # fmt: skip
        else:
            msg = {"type": "track", "userId": user, "event": "order_completed", "timestamp": ts,
                   "properties": {"revenue": round(rng.uniform(10, 150), 2)}}  # fmt: skip
        msg["messageId"] = f"m{start + i}"
        out.append(msg)
    return out


def _leaf_tables(ws: segmint.Workspace) -> list[str]:
    found = rows(
        ws,
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
        "AND starts_with(table_name, 'segment_measures_') ORDER BY 1",
    )
    return [r[0] for r in found]


def _measures(ws: segmint.Workspace) -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    for table in _leaf_tables(ws):
        out |= {
            (table, *r)
            for r in rows(
                ws,
                "SELECT pid, n, n2, round(s, 6), r, round(lo, 6), round(hi, 6), first_ts, "
                f"last_ts FROM {table}",
            )
        }
    return out


@pytest.fixture
def shop(tmp_path: Path) -> segmint.Workspace:
    ws = segmint.init(tmp_path / "ws")
    rng = random.Random(11)
    ws.ingest_messages(_batch(rng, START, 120, 0))
    for name, rule in {**KEPT, **FULL}.items():
        ws.add_segment(name, rule)
    ws._seed_rng = rng  # type: ignore[attr-defined]
    return ws


def test_incremental_refresh_equals_a_full_evaluation_day_after_day(
    shop: segmint.Workspace, tmp_path: Path
) -> None:
    ws = shop
    rng: random.Random = ws._seed_rng  # type: ignore[attr-defined]
    first = ws.refresh(as_of=START)
    assert {r.mode for r in first.runs} == {"full"}
    incremental = 0
    for day in range(1, 9):
        as_of = START + timedelta(days=day, hours=rng.choice([0, 7]))
        ws.ingest_messages(_batch(rng, as_of, 60, 1000 * day))
        result = ws.refresh(as_of=as_of)
        modes = {r.name: r for r in result.runs}
        for name in KEPT:
            assert modes[name].mode == "incremental", (day, name, modes[name].reason)
        for name in FULL:
            assert modes[name].mode == "full" and modes[name].reason, name
        incremental += sum(r.mode == "incremental" for r in result.runs)
        for name, rule in {**KEPT, **FULL}.items():
            expected = set(ws.members(rule, as_of).column("customer_id").to_pylist())
            assert _stored(ws, name) == expected, (day, name)
            assert modes[name].size == len(expected), (day, name)
    assert incremental == 8 * len(KEPT)
    # The kept measures equal measures computed afresh at the same as_of.
    kept = _measures(ws)
    again = ws.refresh(as_of=as_of, full=True)
    assert {r.mode for r in again.runs} == {"full"}
    assert {r.reason for r in again.runs if r.name in KEPT} == {"a full refresh was asked for"}
    assert all(r.entered == r.exited == 0 for r in again.runs)
    assert _measures(ws) == kept


def test_measures_kept_equal_measures_computed_afresh(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    rng = random.Random(3)
    ws.ingest_messages(_batch(rng, START, 150, 0))
    for name, rule in KEPT.items():
        ws.add_segment(name, rule)
    ws.refresh(as_of=START)
    when = START
    for day in range(1, 5):
        when = START + timedelta(days=day)
        ws.ingest_messages(_batch(rng, when, 80, 1000 * day))
        ws.refresh(as_of=when)
    kept = _measures(ws)
    other = segmint.init(tmp_path / "other")
    rng = random.Random(3)
    other.ingest_messages(_batch(rng, START, 150, 0))
    for day in range(1, 5):
        other.ingest_messages(_batch(rng, START + timedelta(days=day), 80, 1000 * day))
    for name, rule in KEPT.items():
        other.add_segment(name, rule)
    other.refresh(as_of=when)
    # Same messages, so the same pids: the measures kept day by day equal those of one
    # refresh over everything.
    assert kept == _measures(other)


def test_explain_names_the_mode_and_reason_and_computes_nothing(
    shop: segmint.Workspace,
) -> None:
    ws = shop
    before = [m for m in ws.explain_refresh(as_of=START)]
    assert {m.mode for m in before} == {"full"}
    assert all(m.reason for m in before)
    assert _leaf_tables(ws) == []
    ws.refresh(as_of=START)
    later = {m.name: m for m in ws.explain_refresh(as_of=START + timedelta(days=1))}
    assert all(later[n].mode == "incremental" for n in KEPT)
    assert "distinct count" in (later["page-variety"].reason or "")
    assert "moving window" in (later["recent-max"].reason or "")
    assert "as_of" in (later["created-recently"].reason or "")
    forced = ws.explain_refresh(as_of=START + timedelta(days=1), full=True)
    assert {m.mode for m in forced} == {"full"}


def test_a_changed_rule_is_evaluated_in_full_once(shop: segmint.Workspace) -> None:
    ws = shop
    ws.refresh(as_of=START)
    ws.add_segment("browsers", "did page_viewed at least 3 times in last 5 days", replace=True)
    result = {r.name: r for r in ws.refresh(as_of=START + timedelta(days=1)).runs}
    assert result["browsers"].mode == "full"
    assert "changed" in (result["browsers"].reason or "")
    # pro-browsers refers to it: evaluated for everyone too.
    assert result["pro-browsers"].mode == "full"
    expected = set(
        ws.members("did page_viewed at least 3 times in last 5 days", START + timedelta(days=1))
        .column("customer_id")
        .to_pylist()
    )
    assert _stored(ws, "browsers") == expected
    again = {r.name: r for r in ws.refresh(as_of=START + timedelta(days=2)).runs}
    assert again["browsers"].mode == "incremental"


def test_the_random_days_have_merges_and_late_rows(shop: segmint.Workspace) -> None:
    # The day-after-day test means something only if its data moves the hard way.
    ws = shop
    rng: random.Random = ws._seed_rng  # type: ignore[attr-defined]
    ws.refresh(as_of=START)
    ws.ingest_messages(_batch(rng, START + timedelta(days=1), 60, 1000))
    assert rows(ws, "SELECT count(*) > 0 FROM identity_merges") == [(True,)]
    late = rows(
        ws,
        "SELECT count(*) FROM events WHERE load_id > 1 AND ts < ?",
        [START - timedelta(days=1)],
    )
    assert late[0][0] > 0


def test_reloaded_orders_rebuild_the_measures(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,ordered_at,total,status\n"
        "o1,C1,2026-11-01T10:00:00Z,120,completed\n"
        "o2,C2,2026-11-01T11:00:00Z,80,completed\n"
    )
    ws.ingest("orders", orders)
    ws.add_segment("spent", "sum(revenue) of order_completed > 100")
    ws.add_segment("bought", "did order_completed in last 7 days")
    ws.refresh(as_of=START + timedelta(days=1))
    # A refund rewrites the stored purchase event: the kept sums cannot see it.
    orders.write_text(
        "order_id,customer_id,ordered_at,total,status\n"
        "o1,C1,2026-11-01T10:00:00Z,120,refunded\n"
        "o2,C2,2026-11-01T11:00:00Z,80,completed\n"
    )
    ws.ingest("orders", orders)
    result = {r.name: r for r in ws.refresh(as_of=START + timedelta(days=2)).runs}
    assert result["spent"].mode == "full"
    assert _stored(ws, "spent") == set()
    assert _stored(ws, "bought") == {"C2"}
    again = {r.name: r for r in ws.refresh(as_of=START + timedelta(days=3)).runs}
    assert again["spent"].mode == again["bought"].mode == "incremental"


def test_measures_no_segment_uses_are_dropped(shop: segmint.Workspace) -> None:
    ws = shop
    ws.refresh(as_of=START)
    before = set(_leaf_tables(ws))
    for name in [*KEPT, *FULL]:
        if name not in ("browsers", "recent-buyers"):
            ws.retire(name)
    ws.refresh(as_of=START + timedelta(days=1))
    after = set(_leaf_tables(ws))
    assert len(after) == 2 and after < before
    assert rows(ws, "SELECT count(*) FROM segment_measure_bases") == [(2,)]


def test_a_segment_on_attributes_only_follows_profile_updates(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    people = tmp_path / "customers.csv"
    people.write_text("customer_id,plan\nC1,pro\nC2,free\nC3,free\n")
    ws.ingest("customers", people)
    ws.add_segment("pros", 'plan = "pro"')
    ws.refresh(as_of=START)
    people.write_text("customer_id,plan\nC2,pro\nC4,pro\n")
    ws.ingest("customers", people)
    result = ws.refresh(as_of=START + timedelta(days=1)).runs[0]
    assert result.mode == "incremental", result.reason
    assert (result.entered, result.exited) == (2, 0)
    assert _stored(ws, "pros") == {"C1", "C2", "C4"}
