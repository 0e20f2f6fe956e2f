"""Tests of the synthetic demo shop: real files in a temporary folder, read back with json/csv."""

from __future__ import annotations

import csv
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

try:
    from segmint.demo import generate
except ImportError:  # the package is not installed yet: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from segmint.demo import generate

END = datetime(2025, 6, 1, tzinfo=UTC)
WINDOW = timedelta(days=730)
EVENTS_HEADER = [
    "event_id",
    "event",
    "timestamp",
    "customer_id",
    "anonymous_id",
    "email",
    "channel",
    "category",
    "product_id",
    "campaign_id",
    "revenue",
]
ORDERS_HEADER = [
    "order_id",
    "customer_id",
    "ordered_at",
    "total",
    "currency",
    "category",
    "items",
    "status",
    "refunded_amount",
]
WEB_EVENTS = {"page_view", "product_view", "add_to_cart"}
EMAIL_EVENTS = {"email_sent", "email_opened", "email_clicked"}
MONEY = re.compile(r"^\d+\.\d{2}$")


def parse_ts(text: str) -> datetime | None:
    """An ISO 8601 timestamp as UTC (no offset means UTC), or None if unparsable."""
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def file_bytes(shop: generate.ShopFiles) -> list[bytes]:
    return [p.read_bytes() for p in (shop.customers, shop.events, shop.app_events, shop.orders)]


class Shop:
    """A generated shop, read back once."""

    def __init__(self, files: generate.ShopFiles) -> None:
        self.files = files
        self.customers = read_jsonl(files.customers)
        self.events_header, self.events = read_csv(files.events)
        self.app = read_jsonl(files.app_events)
        self.orders_header, self.orders = read_csv(files.orders)
        _, self.updates = read_csv(files.order_updates)
        _, self.rates = read_csv(files.rates)
        self.by_id = {c["customer_id"]: c for c in self.customers}
        self.by_email = {c["email"]: c["customer_id"] for c in self.customers}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    out = tmp_path_factory.mktemp("shop")
    return Shop(generate.generate_shop(out, customers=400, seed=7, end=END))


def test_same_inputs_give_identical_files(tmp_path: Path) -> None:
    first = generate.generate_shop(tmp_path / "a", customers=150, seed=3, end=END)
    again = generate.generate_shop(tmp_path / "b", customers=150, seed=3, end=END)
    other = generate.generate_shop(tmp_path / "c", customers=150, seed=4, end=END)
    assert file_bytes(first) == file_bytes(again)
    for same, different in zip(file_bytes(first), file_bytes(other), strict=True):
        assert same != different


def test_naive_end_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate.generate_shop(tmp_path, customers=10, end=datetime(2025, 6, 1))


def test_customers_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="customers"):
        generate.generate_shop(tmp_path, customers=0, end=END)


def test_default_end_is_the_start_of_the_current_utc_day(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    files = generate.generate_shop(tmp_path, customers=30)
    after = datetime.now(UTC)
    midnights = {t.replace(hour=0, minute=0, second=0, microsecond=0) for t in (before, after)}
    assert files.end in midnights
    assert files.end.utcoffset() == timedelta(0)


def test_an_end_with_an_offset_and_odd_seconds_is_respected(tmp_path: Path) -> None:
    end = datetime(2025, 3, 30, 13, 45, 30, 500_000, tzinfo=timezone(timedelta(hours=2)))
    loaded = Shop(generate.generate_shop(tmp_path, customers=120, seed=1, end=end))
    assert loaded.files.end == end and loaded.files.end.utcoffset() == timedelta(0)
    stamps = [parse_ts(r["timestamp"]) for r in loaded.events]
    stamps += [parse_ts(r["timestamp"]) for r in loaded.app]
    stamps += [parse_ts(r["ordered_at"]) for r in loaded.orders]
    valid = [t for t in stamps if t is not None]
    assert max(valid) < end
    assert min(valid) >= end - WINDOW - timedelta(seconds=1)


def test_counts_match_the_files(shop: Shop) -> None:
    assert shop.files.customers_count == len(shop.customers) == 400
    assert shop.files.events_count == len(shop.events) + len(shop.app)
    assert shop.files.orders_count == len(shop.orders)
    assert shop.events_header == EVENTS_HEADER
    assert shop.orders_header == ORDERS_HEADER


def test_customer_lines_have_the_contract_fields(shop: Shop) -> None:
    for c in shop.customers:
        assert re.fullmatch(r"C\d{6}", c["customer_id"])
        assert c["email"] == c["email"].lower() and "@" in c["email"]
        assert c["first_name"] and c["last_name"]
        assert isinstance(c["email_consent"], bool) and isinstance(c["sms_consent"], bool)
        assert datetime.strptime(c["birth_date"], "%Y-%m-%d") < END.replace(tzinfo=None)
        assert c["created_at"].endswith("Z")
        created = parse_ts(c["created_at"])
        assert created is not None and END - timedelta(days=1461) <= created < END
        assert isinstance(c["interests"], list) and len(c["interests"]) <= 4
        assert c["plan"] in {"free", "plus", "pro"}
        assert isinstance(c["loyalty_points"], int) and c["loyalty_points"] >= 0
        assert c.get("device_os", "ios") in {"ios", "android", "web"}
        assert len(c.get("country", "US")) == 2
    assert len(shop.by_email) == len(shop.customers)  # emails are unique


def test_customers_include_missing_values_and_accents(shop: Shop) -> None:
    assert any("country" not in c for c in shop.customers)
    assert any("device_os" not in c for c in shop.customers)
    assert any(c.get("gender") is None for c in shop.customers)
    assert any(c["interests"] == [] for c in shop.customers)
    assert any(
        not c["first_name"].isascii() or not c["last_name"].isascii() for c in shop.customers
    )
    created = [parse_ts(c["created_at"]) for c in shop.customers]
    assert any(t is not None and t >= END - timedelta(days=60) for t in created)
    assert any(t is not None and t < END - WINDOW for t in created)


def test_event_rows_are_valid_except_the_bad_ones(shop: Shop) -> None:
    bad = [r for r in shop.events if parse_ts(r["timestamp"]) is None]
    assert len(bad) == generate.BAD_EVENT_ROWS
    assert len({r["event_id"] for r in shop.events}) == len(shop.events)
    for row in shop.events:
        assert row["event"] in WEB_EVENTS | EMAIL_EVENTS
        assert row["customer_id"] or row["anonymous_id"] or row["email"]
        assert row["channel"] in {"web", "email"}
        assert row["revenue"] == ""
        if row["event"] in EMAIL_EVENTS:
            assert row["campaign_id"] and row["channel"] == "email"
        if row["event"] in {"product_view", "add_to_cart"}:
            assert row["category"] and row["product_id"]
    stamps = [t for r in shop.events if (t := parse_ts(r["timestamp"])) is not None]
    assert min(stamps) >= END - WINDOW and max(stamps) < END


def test_event_timestamps_mix_iso_styles(shop: Shop) -> None:
    texts = [r["timestamp"] for r in shop.events if parse_ts(r["timestamp"]) is not None]
    zulu = sum(t.endswith("Z") for t in texts)
    offset = sum(bool(re.search(r"[+-]\d\d:\d\d$", t)) for t in texts)
    bare = len(texts) - zulu - offset
    assert zulu > 0.8 * len(texts)
    assert offset > 0.03 * len(texts) and bare > 0.01 * len(texts)


def test_known_customers_act_only_after_they_were_created(shop: Shop) -> None:
    created = {c["customer_id"]: parse_ts(c["created_at"]) for c in shop.customers}
    dated = [(r["customer_id"], r["timestamp"]) for r in shop.events if r["customer_id"]]
    dated += [(r["customer_id"], r["timestamp"]) for r in shop.app]
    dated += [(r["customer_id"], r["ordered_at"]) for r in shop.orders]
    for customer, text in dated:
        ts = parse_ts(text)
        start = created[customer]
        assert start is not None
        assert ts is None or ts >= start


def test_email_opens_and_clicks_follow_their_send(shop: Shop) -> None:
    times: dict[str, dict[tuple[str, str], datetime]] = defaultdict(dict)
    for row in shop.events:
        if row["event"] in EMAIL_EVENTS:
            who = row["customer_id"] or shop.by_email[row["email"]]
            ts = parse_ts(row["timestamp"])
            assert ts is not None
            times[row["event"]][(who, row["campaign_id"])] = ts
    assert len(times["email_opened"]) < 0.6 * len(times["email_sent"])
    assert 0 < len(times["email_clicked"]) < len(times["email_opened"])
    for key, opened in times["email_opened"].items():
        assert times["email_sent"][key] < opened
    for key, clicked in times["email_clicked"].items():
        assert times["email_opened"][key] < clicked
    consenting = {c["customer_id"] for c in shop.customers if c["email_consent"]}
    assert {who for who, _ in times["email_sent"]} <= consenting


def test_anonymous_ids_later_identify(shop: Shop) -> None:
    web = [r for r in shop.events if r["event"] in WEB_EVENTS]
    anonymous = [r for r in web if r["anonymous_id"] and not r["customer_id"]]
    assert 0.08 < len(anonymous) / len(web) < 0.25
    ties = {r["anonymous_id"]: r for r in shop.events if r["anonymous_id"] and r["customer_id"]}
    assert len(ties) > 20
    assert all(r["customer_id"] in shop.by_id for r in ties.values())
    tie_times = {a: parse_ts(r["timestamp"]) for a, r in ties.items()}
    for row in anonymous:
        tied_at = tie_times.get(row["anonymous_id"])
        ts = parse_ts(row["timestamp"])
        assert ts is not None
        assert tied_at is None or ts < tied_at
    tied_with_history = {r["anonymous_id"] for r in anonymous} & set(ties)
    never_tied = {r["anonymous_id"] for r in anonymous} - set(ties)
    assert len(tied_with_history) > 20 and len(never_tied) > 20


def test_some_events_name_only_an_email(shop: Shop) -> None:
    email_only = [
        r for r in shop.events if r["email"] and not (r["customer_id"] or r["anonymous_id"])
    ]
    known = [r for r in email_only if r["email"] in shop.by_email]
    strangers = [r for r in email_only if r["email"] not in shop.by_email]
    assert 0.003 * len(shop.events) < len(known) < 0.03 * len(shop.events)
    assert 1 <= len(strangers) <= 10


def test_app_events_belong_to_app_users(shop: Shop) -> None:
    names = Counter(r["event"] for r in shop.app)
    assert set(names) == {"app_open", "app_screen_view", "push_opened"}
    for row in shop.app:
        customer = shop.by_id[row["customer_id"]]
        assert customer.get("device_os") in {"ios", "android"}
        assert row["properties"]["device_os"] == customer["device_os"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", row["properties"]["app_version"])
        assert ("screen" in row["properties"]) == (row["event"] == "app_screen_view")
        ts = parse_ts(row["timestamp"])
        assert ts is not None and END - WINDOW <= ts < END
    assert len({r["event_id"] for r in shop.app} | {r["event_id"] for r in shop.events}) == (
        len(shop.app) + len(shop.events)
    )


def test_orders_are_money_except_the_bad_rows(shop: Shop) -> None:
    bad = [r for r in shop.orders if not MONEY.fullmatch(r["total"])]
    assert len(bad) == generate.BAD_ORDER_ROWS
    assert len({r["order_id"] for r in shop.orders}) == len(shop.orders)
    for row in shop.orders:
        assert row["customer_id"] in shop.by_id
        ts = parse_ts(row["ordered_at"])
        assert ts is not None and END - WINDOW <= ts < END
        assert row["status"] in {"completed", "cancelled"} and row["refunded_amount"] == ""
        assert row["currency"] and int(row["items"]) >= 1
    assert Counter(r["status"] for r in shop.orders).most_common(1)[0][0] == "completed"
    per_customer = Counter(r["customer_id"] for r in shop.orders)
    assert 0.2 < 1 - len(per_customer) / len(shop.customers) < 0.5
    assert any(n == 1 for n in per_customer.values()) and any(n >= 3 for n in per_customer.values())


def test_refunds_arrive_later_as_updates_of_loaded_orders(shop: Shop) -> None:
    by_id = {r["order_id"]: r for r in shop.orders}
    assert shop.updates
    refunded = partial = 0
    for row in shop.updates:
        before = by_id[row["order_id"]]
        assert before["status"] == "completed"
        same = ("customer_id", "ordered_at", "total", "currency", "category", "items")
        assert all(row[k] == before[k] for k in same)
        if row["status"] == "refunded":
            refunded += 1
            assert row["refunded_amount"] == ""
        else:
            partial += 1
            assert row["status"] == "completed"
            assert 0 < float(row["refunded_amount"]) < float(row["total"])
    assert refunded and partial


def test_order_totals_are_in_the_customers_currency_with_monthly_rates(shop: Shop) -> None:
    currencies = {r["currency"] for r in shop.orders}
    assert "EUR" in currencies and len(currencies) >= 5
    rated = {r["currency"] for r in shop.rates}
    assert currencies - rated == {"EUR"} and "EUR" not in rated
    first = min(parse_ts(r["valid_from"]) for r in shop.rates)  # type: ignore[type-var]
    assert all(first <= parse_ts(r["ordered_at"]) for r in shop.orders)  # type: ignore[operator]

    # A Swedish order is about ten times a euro one in number (one SEK is about 0.09 EUR).
    def median(code: str) -> float:
        values = sorted(float(r["total"]) for r in shop.orders if r["currency"] == code and
                        MONEY.fullmatch(r["total"]))  # fmt: skip
        return values[len(values) // 2]

    if "SEK" in currencies:
        assert 5 < median("SEK") / median("EUR") < 20


def test_a_small_shop_is_fast(tmp_path: Path) -> None:
    started = time.perf_counter()
    files = generate.generate_shop(tmp_path, customers=200, seed=2, end=END)
    assert time.perf_counter() - started < 2.0
    assert files.customers_count == 200 and files.events_count > 2000


@pytest.mark.slow
def test_the_default_shop_has_the_documented_shape(tmp_path: Path) -> None:
    started = time.perf_counter()
    files = generate.generate_shop(tmp_path, end=END)
    assert time.perf_counter() - started < 10.0
    loaded = Shop(files)
    assert loaded.files.customers_count == 5000
    assert 250_000 <= loaded.files.events_count <= 450_000
    per_customer = Counter(r["customer_id"] for r in loaded.events if r["customer_id"])
    counts = sorted(per_customer.values())
    assert counts[int(0.99 * len(counts))] > 8 * statistics.median(counts)  # skewed activity
    assert_holiday_peak(loaded)
    assert_churn_and_app_drift(loaded)


def assert_holiday_peak(loaded: Shop) -> None:
    months: Counter[str] = Counter()
    for row in loaded.orders:
        ts = parse_ts(row["ordered_at"])
        assert ts is not None
        months["holiday" if ts.month in (11, 12) else "rest"] += 1
    assert months["holiday"] / 4 > 1.3 * months["rest"] / 20  # 4 holiday months, 20 others


def assert_churn_and_app_drift(loaded: Shop) -> None:
    last_seen: dict[str, datetime] = {}
    for row in loaded.events:
        ts = parse_ts(row["timestamp"])
        if row["customer_id"] and row["event"] in WEB_EVENTS and ts is not None:
            last_seen[row["customer_id"]] = max(ts, last_seen.get(row["customer_id"], ts))
    lapsed = sum(t < END - timedelta(days=120) for t in last_seen.values())
    assert lapsed > 0.1 * len(last_seen)
    app_users = {
        c["customer_id"] for c in loaded.customers if c.get("device_os") in ("ios", "android")
    }
    recent_open = {
        r["customer_id"]
        for r in loaded.app
        if r["event"] == "app_open" and (t := parse_ts(r["timestamp"])) and t >= END - timedelta(90)
    }
    assert 0.3 < 1 - len(recent_open) / len(app_users) < 0.9
