"""Backtests: a segment's members at past as_of dates against everyone else then, and who
met the goal in the window after, checked against a plain Python evaluation of the same
random data; events after an as_of must not change the backtest at it."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import segmint
from segmint.errors import SegmintError
from segmint.quality import lift
from tests.conftest import run_cli
from tests.test_source_mode import AS_OF, _arrow, _drop, _source_workspace

# The source-mode shop and its embedded twin, as fixtures of the PostgreSQL test below.
from tests.test_source_mode import embedded as embedded
from tests.test_source_mode import shop as shop

N = 3_000
START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 180  # events from January to June 2026
WINDOW = timedelta(days=30)
SEGMENT = "did page_view in last 30 days"
GOAL = "did order_completed"
AT = [datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 15, 12, tzinfo=UTC)]


@dataclass
class Shop:
    """What was loaded, for the plain Python evaluation."""

    created: dict[str, datetime | None]
    events: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)

    def add(self, customer: str, event: str, when: datetime) -> None:
        self.events.setdefault(customer, []).append((event, when))

    def exists(self, customer: str, as_of: datetime) -> bool:
        """docs/rules.md: created by as_of, or without created_at first seen by then, or
        with neither."""
        created = self.created[customer]
        if created is not None:
            return created <= as_of
        seen = [t for _, t in self.events.get(customer, [])]
        return not seen or min(seen) <= as_of

    def member(self, customer: str, as_of: datetime) -> bool:
        """``did page_view in last 30 days``: as_of - 30 days < t <= as_of."""
        return any(
            e == "page_view" and as_of - WINDOW < t <= as_of
            for e, t in self.events.get(customer, [])
        )

    def converted(self, customer: str, as_of: datetime, now: datetime) -> bool:
        """The goal in the window: as_of <= t < as_of + window, seen by now."""
        return any(
            e == "order_completed" and as_of <= t < as_of + WINDOW and t <= now
            for e, t in self.events.get(customer, [])
        )

    def expected(self, as_of: datetime, now: datetime) -> tuple[int, int, int, int]:
        people = [c for c in self.created if self.exists(c, as_of)]
        members = [c for c in people if self.member(c, as_of)]
        others = [c for c in people if not self.member(c, as_of)]
        return (
            len(members),
            sum(self.converted(c, as_of, now) for c in members),
            len(others),
            sum(self.converted(c, as_of, now) for c in others),
        )


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _events_table(rows: list[tuple[str, str, datetime]]) -> pa.Table:
    return pa.table(
        {
            "customer_id": [c for c, _, _ in rows],
            "event": [e for _, e, _ in rows],
            "timestamp": [_iso(t) for _, _, t in rows],
        }
    )


def _generate(rng: random.Random) -> tuple[Shop, list[tuple[str, str, datetime]]]:
    """Customers created over December to May (a tenth without created_at); engaged ones
    view pages and buy more often, so membership and conversion go together."""
    ids = [f"C{i:05d}" for i in range(N)]
    created: dict[str, datetime | None] = {}
    for customer in ids:
        created[customer] = (
            None if rng.random() < 0.1 else START + timedelta(days=rng.uniform(-30, 130))
        )
    shop = Shop(created)
    rows = []
    for customer in ids:
        engaged = rng.random() < 0.3
        begin = created[customer] or START
        for _ in range(rng.randint(4, 14) if engaged else rng.randint(0, 3)):
            rows.append((customer, "page_view", begin + timedelta(days=rng.uniform(0, 120))))
        for _ in range(rng.randint(1, 4) if engaged and rng.random() < 0.6 else rng.randint(0, 1)):
            rows.append((customer, "order_completed", START + timedelta(days=rng.uniform(0, DAYS))))
    # The edges of both windows, at the first as_of: a view at as_of counts and one at
    # as_of - 30 days does not; an order at as_of counts and one at as_of + 30 days not.
    edge = AT[0]
    rows += [
        ("C00001", "page_view", edge),
        ("C00002", "page_view", edge - WINDOW),
        ("C00001", "order_completed", edge),
        ("C00002", "order_completed", edge + WINDOW),
    ]
    for customer, event, when in rows:
        shop.add(customer, event, when)
    return shop, rows


def _load(root: Path, shop: Shop, rows: list[tuple[str, str, datetime]]) -> None:
    with segmint.init(root) as ws:
        created = [None if t is None else _iso(t) for t in shop.created.values()]
        ws.ingest(
            "customers",
            pa.table({"customer_id": list(shop.created), "created_at": pa.array(created)}),
        )
        ws.ingest("events", _events_table(rows))
        ws.add_segment("viewers", SEGMENT)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Shop]:
    root = tmp_path_factory.mktemp("backtest") / "ws"
    shop, rows = _generate(random.Random(19))
    for customer in ("C00001", "C00002"):
        shop.created[customer] = START - timedelta(days=1)
    _load(root, shop, rows)
    return root, shop


@pytest.fixture
def copy(loaded: tuple[Path, Shop], tmp_path: Path) -> tuple[Path, Shop]:
    """A copy of the loaded workspace that a test may add to."""
    root, shop = loaded
    target = tmp_path / "ws"
    shutil.copytree(root, target)
    events = {c: list(e) for c, e in shop.events.items()}
    return target, Shop(dict(shop.created), events)


def test_the_counts_and_figures_equal_an_independent_evaluation(
    loaded: tuple[Path, Shop],
) -> None:
    root, shop = loaded
    with segmint.open(root, read_only=True) as ws:
        # Unsorted and repeated dates: one point per as_of, oldest first.
        found = ws.backtest("viewers", [_iso(AT[1]), AT[0], "2026-03-01"], GOAL, window="30d")
    assert [p.as_of for p in found.points] == AT
    assert found.window_days == 30 and found.goal == GOAL and found.rule == SEGMENT
    now = datetime.now(UTC)
    for point in found.points:
        expected = shop.expected(point.as_of, now)
        got = (point.members, point.members_converted, point.others, point.others_converted)
        assert got == expected, point.as_of
        conversion = lift.conversion(*expected)
        assert point.conversion == conversion
        mde = lift.minimum_detectable_effect(expected[0], expected[2], conversion.held_rate)
        assert point.mde == mde and point.verdict == lift.verdict(conversion, mde)
        assert point.complete and point.until == point.as_of + WINDOW == point.evaluated_at
    # Engaged customers both view and buy: the segment converts more than the others.
    assert all(p.verdict == "measurable lift" and p.conversion.absolute > 0 for p in found.points)
    assert found.to_dict()["points"][0]["members"] == found.points[0].members


def test_events_after_the_as_of_do_not_change_the_backtest_at_it(
    copy: tuple[Path, Shop],
) -> None:
    root, shop = copy
    as_of, later = AT[0], AT[0] + timedelta(days=20)
    with segmint.open(root) as ws:
        before = ws.backtest("viewers", [as_of, later], GOAL)
        # Customers who existed but were not members at as_of view pages just after it
        # (members, had the backtest seen them) and buy after the window.
        outside = [
            c
            for c in shop.created
            if shop.created[c] is not None and shop.exists(c, as_of) and not shop.member(c, as_of)
        ][:300]
        rows = [(c, "page_view", as_of + timedelta(seconds=1 + i)) for i, c in enumerate(outside)]
        rows += [(c, "order_completed", as_of + WINDOW + timedelta(days=1)) for c in outside]
        ws.ingest("events", _events_table(rows))
        after = ws.backtest("viewers", [as_of, later], GOAL)
    for customer, event, when in rows:
        shop.add(customer, event, when)
    assert after.points[0].to_dict() == before.points[0].to_dict()
    assert after.points[0].members == shop.expected(as_of, datetime.now(UTC))[0]
    # The same events do count at a later as_of: they were loaded and would have mattered.
    assert after.points[1].members > before.points[1].members
    assert after.points[1].members == shop.expected(later, datetime.now(UTC))[0]


def test_a_window_still_open_is_counted_so_far_and_flagged(copy: tuple[Path, Shop]) -> None:
    root, shop = copy
    now = datetime.now(UTC).replace(microsecond=0)
    as_of = now - timedelta(days=5)
    rows = [
        ("C00010", "page_view", as_of - timedelta(days=1)),
        ("C00010", "order_completed", now - timedelta(days=1)),
        ("C00011", "order_completed", now - timedelta(days=2)),
    ]
    for customer, event, when in rows:
        shop.add(customer, event, when)
    with segmint.open(root) as ws:
        ws.ingest("events", _events_table(rows))
        point = ws.backtest("viewers", as_of, GOAL).points[0]
    assert not point.complete and point.until == as_of + WINDOW
    assert as_of < point.evaluated_at < point.until
    expected = shop.expected(as_of, point.evaluated_at)
    assert (point.members, point.members_converted, point.others, point.others_converted) == (
        expected
    )
    assert point.members_converted == 1 and point.others_converted == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "viewer"}, "no saved segment 'viewer'; did you mean 'viewers'"),
        ({"goal": 'country = "US"'}, "is not an event condition"),
        ({"goal": "did page_view in last 7 days"}, "has a window of its own"),
        ({"goal": "did no_such_event"}, "no_such_event"),
        ({"at": ["2099-01-01"]}, "--at: 2099-01-01T00:00:00[+]00:00 is not in the past"),
        ({"at": []}, "--at: a backtest needs at least one date"),
        ({"at": [f"2025-{m:02d}-{d:02d}" for m in (1, 2) for d in range(1, 14)]}, "at most 24"),
        ({"at": ["2026-02-30"]}, "--at: expected an ISO 8601 date"),
        ({"window": "1 month"}, "--window: expected days"),
    ],
)
def test_bad_input_is_one_clear_error(
    loaded: tuple[Path, Shop], options: dict[str, object], message: str
) -> None:
    settings = {"name": "viewers", "at": ["2026-03-01"], "goal": GOAL} | options
    with segmint.open(loaded[0], read_only=True) as ws, pytest.raises(SegmintError, match=message):
        ws.backtest(**settings)


def test_the_cli_prints_one_line_per_date(loaded: tuple[Path, Shop]) -> None:
    root, _ = loaded
    args = ["segment", "backtest", "viewers", "--at", "2026-03-01", "--at", "2026-04-15"]
    done = run_cli(root, *args, "--goal", GOAL, "--window", "30d")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"segment viewers: {SEGMENT}"
    assert lines[2].startswith("2026-03-01: ") and lines[3].startswith("2026-04-15: ")
    assert all(" members, " in line and "measurable lift" in line for line in lines[2:])
    as_json = json.loads(run_cli(root, *args, "--goal", GOAL, "--json").stdout)
    assert [p["complete"] for p in as_json["points"]] == [True, True]
    bad = run_cli(root, "segment", "backtest", "viewers", "--at", "2099-01-01", "--goal", GOAL)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert "is not in the past" in bad.stderr


@pytest.mark.postgres
def test_a_postgres_source_backtests_what_the_embedded_store_does(
    postgres_url: str, shop: Any, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    """The backtest reads through the evaluator, so it runs on a source workspace too."""
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened)
    engine.run("ALTER TABLE shop_events ALTER COLUMN props TYPE jsonb USING props::jsonb")
    at = [AS_OF - timedelta(days=60), AS_OF - timedelta(days=30)]
    try:
        with _source_workspace(tmp_path / "pg", postgres_url) as ws:
            ws.refresh_catalog()
            for where in (ws, embedded):
                where.add_segment("viewers", SEGMENT, replace=True)
            found = ws.backtest("viewers", at, "did purchase", "30d").to_dict()
    finally:
        _drop(engine, "shop_customers", "shop_events")
    assert found == embedded.backtest("viewers", at, "did purchase", "30d").to_dict()
    assert all(p["members"] > 0 and p["members_converted"] > 0 for p in found["points"])
