"""A random workspace for differential tests, loaded through the public ingest path.

From a seed: about 300 customers (JSON Lines, then a CSV upsert) with missing values
everywhere and custom attributes of every type (lists from JSON arrays, some empty);
creation times missing, before, exactly on and after the ``as_of`` values the tests use;
events (JSON Lines with a ``properties`` object, and CSV with property columns) with
timestamps placed exactly on window edges relative to those ``as_of`` values; orders
(purchase events with ``revenue`` = total); events of unknown customers (bare profiles),
of anonymous ids and of unknown emails (profiles without a customer id). Numbers are
integers or multiples of 0.25, so sums and averages are exact in both engines.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import segmint
from tests.rules.reference import DAY, StoreData, load_store, to_datetime
from tests.rules.strategies import Vocab

US = timedelta(microseconds=1)
AS_OFS = (
    datetime(2026, 3, 1, tzinfo=UTC),
    datetime(2026, 2, 14, 12, 34, 56, 789012, tzinfo=UTC),
    datetime(2025, 11, 30, 8, 0, tzinfo=UTC),
)
DAYS = (1, 7, 30, 90)
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 4, 15, tzinfo=UTC)  # past every as_of: some events are "future"


def edge_instants() -> list[datetime]:
    """Instants on window edges: as_of - k days (k = 0, N, 2N for N in DAYS), +-1 us."""
    ks = sorted({0, *DAYS, *(2 * n for n in DAYS)})
    return sorted({a - k * DAY + d for a in AS_OFS for k in ks for d in (-US, timedelta(0), US)})


EDGES = edge_instants()


@dataclass
class RandomStore:
    ws: segmint.Workspace
    data: StoreData
    vocab: Vocab
    seed: int

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"RandomStore(seed={self.seed})")  # short, for Hypothesis's reports


class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.event_no = 0

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def instant(self, p_edge: float = 0.45) -> datetime:
        r = self.r
        if r.random() < p_edge:
            return r.choice(EDGES)
        span = int((END - START).total_seconds())
        t = START + timedelta(seconds=r.randrange(span))
        if r.random() < 0.3:
            t += timedelta(microseconds=r.randrange(1_000_000))
        return t

    def value_instant(self) -> datetime:
        """For timestamp attributes and properties: often exactly as_of - N days (+-1 us),
        the edges of within_last_days / more_than_days_ago."""
        if self.chance(0.5):
            a = self.r.choice(AS_OFS)
            d = self.r.choice([-US, timedelta(0), timedelta(0), US])
            return a - self.r.choice([0, *DAYS]) * DAY + d
        return self.instant(0.2)

    def iso(self, t: datetime) -> str:
        """The instant in one of several ISO spellings (Z, +00:00, another offset, naive)."""
        form = self.r.randrange(4)
        if form == 0:
            return t.isoformat().replace("+00:00", "Z")
        if form == 1:
            return t.isoformat()
        if form == 2:
            return t.astimezone(_tz(self.r.choice([2, -5, 9]))).isoformat()
        return t.replace(tzinfo=None).isoformat()  # naive: UTC

    def number(self, lo: int, hi: int) -> int | float:
        """An integer or a multiple of 0.25 (exact in binary)."""
        n = self.r.randint(lo * 4, hi * 4)
        return n // 4 if self.chance(0.5) else n / 4

    def event_id(self) -> str:
        self.event_no += 1
        return f"e{self.event_no:06d}"


def _tz(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


def _maybe(g: _Gen, row: dict[str, Any], key: str, value: Any, p_missing: float = 0.2) -> None:
    """Set ``row[key]``, or leave it missing: absent key or JSON null."""
    if g.chance(p_missing):
        if g.chance(0.5):
            row[key] = None
        return
    row[key] = value


PLANS = ["free", "pro", "Pro", "pro plus", " pro", "enterprise", "free-trial"]
TIERS = ["gold", "silver", "bronze", "Gold"]
INTERESTS = ["boxing", "yoga", "running", "chess", "Boxing", "pro"]
CITIES = ["Paris", "paris", "New York", "São Paulo", "Berlin", "O'Fallon", 'Quote "City"']
CATEGORIES = ["shoes", "bags", "Shoes", "hats", "pro gear"]
TAGS = ["sale", "new", "gift", "Sale"]
CAMPAIGNS = ["spring", "winter", "Spring", "black-friday"]
PATHS = ["/", "/pricing", "/blog/pro", "/Pricing"]
DEVICES = ["ios", "android", "iOS", "web"]


def _customer(g: _Gen, i: int) -> dict[str, Any]:
    r = g.r
    row: dict[str, Any] = {"customer_id": f"c{i:04d}"}
    _maybe(g, row, "email", f"user{i}@example.com")
    _maybe(g, row, "country", r.choice(["US", "GB", "DE", "FR", "us", " gb"]), 0.25)
    _maybe(g, row, "city", r.choice(CITIES))
    _maybe(g, row, "first_name", r.choice(["Ann", "Bob", "O'Brien", 'Jo "JJ"', "Zoë"]))
    _maybe(g, row, "gender", r.choice(["f", "m", "x"]), 0.4)
    birth = date(1950, 1, 1) + timedelta(days=r.randrange(365 * 60))
    _maybe(g, row, "birth_date", r.choice([birth, date(2000, 2, 29), date(1990, 1, 1)]).isoformat())
    created_kind = r.random()
    if created_kind < 0.25:
        created: datetime | None = None
    elif created_kind < 0.45:
        created = r.choice(AS_OFS) + r.choice([-US, timedelta(0), US])
    else:
        created = g.instant(0.1) - timedelta(days=r.choice([0, 200, 400]))
    if created is not None:
        row["created_at"] = g.iso(created)
    elif g.chance(0.5):
        row["created_at"] = None
    _maybe(g, row, "email_consent", g.chance(0.5))
    _maybe(g, row, "sms_consent", g.chance(0.3), 0.5)
    _maybe(g, row, "plan", r.choice(PLANS))
    _maybe(g, row, "Loyalty Tier", r.choice(TIERS), 0.4)
    _maybe(g, row, "points", r.randint(-50, 60) * r.choice([1, 1, 100]))
    _maybe(g, row, "score", g.number(-3, 10))
    _maybe(g, row, "vip", g.chance(0.3))
    _maybe(g, row, "last_login", g.iso(g.value_instant()))
    interests = r.sample(INTERESTS, r.randint(0, 3))
    _maybe(g, row, "interests", interests)
    return row


def _event(g: _Gen, who: dict[str, str], name: str, at: datetime) -> dict[str, Any]:
    r = g.r
    row: dict[str, Any] = {"event": name, "timestamp": g.iso(at), **who}
    if g.chance(0.8):
        row["event_id"] = g.event_id()
    props: dict[str, Any] = {}
    if name in ("product_view", "add_to_cart"):
        _maybe(g, props, "category", r.choice(CATEGORIES))
        _maybe(g, props, "price", g.number(0, 40))
        _maybe(g, props, "qty", r.randint(0, 5), 0.3)
    if name == "product_view":
        _maybe(g, props, "tags", r.sample(TAGS, r.randint(0, 2)), 0.3)
        _maybe(g, props, "in_stock", g.chance(0.7), 0.3)
        viewed = g.value_instant() if g.chance(0.8) else at.replace(hour=0, minute=0, second=0)
        value = viewed.date().isoformat() if g.chance(0.2) else g.iso(viewed)
        _maybe(g, props, "viewed_at", value, 0.4)
    if name == "add_to_cart" and g.chance(0.5):
        row["revenue"] = g.number(0, 30)
    if name == "email_opened":
        _maybe(g, props, "campaign", r.choice(CAMPAIGNS))
        _maybe(g, props, "mobile", g.chance(0.5), 0.3)
        sent = at - timedelta(hours=r.randint(0, 72)) if g.chance(0.5) else g.value_instant()
        _maybe(g, props, "sent_at", g.iso(sent), 0.3)
    if name == "Page Viewed":
        _maybe(g, props, "path", r.choice(PATHS))
        _maybe(g, props, "category", r.choice(CATEGORIES), 0.7)
    if props or g.chance(0.5):
        row["properties"] = props
    return row


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def _csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else _cell(row[c]) for c in columns])
    return path


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_store(folder: Path, seed: int, customers: int = 300) -> RandomStore:
    """Create and load a random workspace under ``folder``; returns it with its vocabulary."""
    g = _Gen(seed)
    r = g.r
    folder.mkdir(parents=True, exist_ok=True)
    ws = segmint.init(folder / "ws")

    # Customers: JSON Lines (lists, typed values), then a CSV upsert with new columns.
    rows = [_customer(g, i) for i in range(customers)]
    ws.ingest("customers", _jsonl(folder / "customers.jsonl", rows))
    upsert = []
    for i in r.sample(range(customers + 20), 60):
        row: dict[str, Any] = {"customer_id": f"c{i:04d}"}
        _maybe(g, row, "plan", r.choice(PLANS), 0.5)
        _maybe(g, row, "points", r.randint(0, 40), 0.5)
        _maybe(g, row, "signup_source", r.choice(["ads", "organic", "referral", "Ads"]), 0.3)
        _maybe(g, row, "nps", r.randint(0, 10), 0.3)
        upsert.append(row)
    columns = ["customer_id", "plan", "points", "signup_source", "nps"]
    ws.ingest("customers", _csv(folder / "customers_update.csv", columns, upsert))

    # Who events belong to.
    known = [{"customer_id": f"c{i:04d}"} for i in range(customers + 20)]
    silent = set(r.sample(range(customers), customers // 7))  # customers without events
    late = set(r.sample(range(customers), customers // 15))  # only events after every as_of
    ghosts = [{"customer_id": f"g{i:03d}"} for i in range(12)]  # unknown ids: bare profiles
    anons = [{"anonymous_id": f"anon-{i:03d}"} for i in range(25)]
    emails = [{"email": f"user{i}@example.com"} for i in r.sample(range(customers), 10)]
    emails += [{"email": f"stranger{i}@example.org"} for i in range(8)]

    def owner() -> dict[str, str]:
        x = r.random()
        if x < 0.85:
            while True:
                i = r.randrange(len(known))
                if i not in silent:
                    return {**known[i], "_i": str(i)}
        if x < 0.9:
            return r.choice(ghosts)
        if x < 0.96:
            return r.choice(anons)
        return r.choice(emails)

    def when(who: dict[str, str]) -> datetime:
        if "_i" in who and int(who["_i"]) in late:
            return max(AS_OFS) + US + timedelta(seconds=r.randrange(3_000_000))
        return g.instant()

    names = ["product_view", "add_to_cart", "email_opened", "Page Viewed"]
    json_events = []
    for _ in range(2200):
        who = owner()
        at = when(who)
        who = {k: v for k, v in who.items() if k != "_i"}
        json_events.append(_event(g, who, r.choice(names), at))
    first = _jsonl(folder / "events1.jsonl", json_events[:1500])
    ws.ingest("events", first)
    # Tie some anonymous ids to customers (their profiles merge), and load the rest.
    ties = [
        {
            "event": "Page Viewed",
            "timestamp": g.iso(g.instant()),
            "customer_id": f"c{r.randrange(customers):04d}",
            "anonymous_id": f"anon-{i:03d}",
            "properties": {"path": "/login"},
        }
        for i in range(0, 25, 3)
    ]
    ws.ingest("events", _jsonl(folder / "events2.jsonl", json_events[1500:] + ties))
    ws.ingest("events", first)  # re-loading a file adds nothing (event ids seen)

    # CSV events: property columns (typed by inference), empty cells are missing.
    csv_rows = []
    for _ in range(900):
        who = owner()
        at = when(who)
        who = {k: v for k, v in who.items() if k != "_i"}
        name = "app_open" if g.chance(0.85) else "Page Viewed"
        row = {"event": name, "timestamp": g.iso(at), **who}
        _maybe(g, row, "device", r.choice(DEVICES))
        _maybe(g, row, "version", r.randint(1, 12), 0.3)
        _maybe(g, row, "push", g.chance(0.5), 0.3)
        _maybe(g, row, "battery", g.number(0, 1), 0.4)
        _maybe(g, row, "session_start", g.iso(at - timedelta(seconds=r.randint(0, 600))), 0.5)
        if g.chance(0.1):
            row["revenue"] = g.number(0, 10)
        csv_rows.append(row)
    columns = ["event", "timestamp", "customer_id", "anonymous_id", "email", "revenue"]
    columns += ["device", "version", "push", "battery", "session_start"]
    ws.ingest("events", _csv(folder / "app.csv", columns, csv_rows))

    # Orders: purchase events, revenue = total.
    orders = []
    for n in range(700):
        who = owner()
        if "customer_id" not in who:
            continue
        at = when(who)
        orders.append(
            {
                "order_id": f"o{seed}-{n:05d}",
                "customer_id": who["customer_id"],
                "ordered_at": g.iso(at),
                "total": g.number(0, 300),
                "currency": r.choice(["USD", "EUR"]),
                "status": r.choice(["paid", "paid", "refunded"]),
                "items": r.randint(1, 6) if g.chance(0.9) else None,
                "coupon": r.choice(["", "", "SPRING", "pro10"]),
            }
        )
    order_cols = ["order_id", "customer_id", "ordered_at", "total", "currency", "status"]
    # The base currency is EUR: USD totals are converted at the rate of their order time.
    rates = [{"currency": "USD", "rate": "0.9", "valid_from": "2000-01-01"}]
    rates.append({"currency": "USD", "rate": "0.85", "valid_from": g.iso(when(owner()))})
    ws.ingest("rates", _csv(folder / "rates.csv", ["currency", "rate", "valid_from"], rates))
    ws.ingest("orders", _csv(folder / "orders.csv", [*order_cols, "items", "coupon"], orders))

    data = load_store(ws)
    return RandomStore(ws, data, vocabulary(data, seed), seed)


def _iso_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def vocabulary(data: StoreData, seed: int, segments: list[str] | None = None) -> Vocab:
    """What random rules may use on this store, with values that occur in it."""
    r = random.Random(seed)
    attributes = {name: kind for name, (_, kind) in data.attributes.items()}
    attr_values: dict[str, list[Any]] = {}
    for name, (column, kind) in data.attributes.items():
        seen: set[Any] = set()
        for values in data.values.values():
            v = values.get(column)
            if v is None:
                continue
            seen.update(v if kind == "list" else [v])
        seen.discard(None)
        pick = sorted(seen, key=repr)
        attr_values[name] = [_iso_value(v) for v in r.sample(pick, min(len(pick), 12))]
    events: dict[str, dict[str, str]] = {}
    for event in sorted(data.event_names):
        props = {
            p: data.property_types[p] for p in data.usage.get(event, ()) if p in data.property_types
        }
        events[event] = {**props, "revenue": "float"}
    prop_values: dict[str, list[Any]] = {}
    seen_props: dict[str, set[Any]] = {}
    timestamps: set[datetime] = set()
    for items in data.by_event.values():
        for e in items:
            timestamps.add(e.ts)
            for p, v in [*e.properties.items(), ("revenue", e.revenue)]:
                kind = "float" if p == "revenue" else data.property_types.get(p)
                if v is None or kind is None:
                    continue
                if kind == "timestamp":
                    v = to_datetime(v)
                seen_props.setdefault(p, set()).update(v if kind == "list" else [v])
    for p, vs in seen_props.items():
        pick = sorted(vs, key=repr)
        prop_values[p] = [_iso_value(v) for v in r.sample(pick, min(len(pick), 12))]
    instants = [t.isoformat() for t in EDGES]
    instants += [t.isoformat() for t in r.sample(sorted(timestamps), min(20, len(timestamps)))]
    dates = sorted({a.date().isoformat() for a in AS_OFS} | {"2025-12-01", "2026-01-01"})
    return Vocab(
        attributes=attributes,
        events=events,
        attr_values=attr_values,
        prop_values=prop_values,
        instants=instants,
        dates=dates,
        segments=list(segments or []),
        days=list(DAYS),
    )
