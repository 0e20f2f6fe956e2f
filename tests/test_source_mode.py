"""Source mode: a workspace whose customers and events live in PostgreSQL or Spark.

The same shop is loaded into an embedded workspace through the ingest (the engine the
differential tests check against the reference) and written as the user's own tables into
PostgreSQL and Spark, under the user's own column names. A source-mode workspace reads its
catalog from those tables, and every rule counts the same members as the embedded one.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import segmint
from segmint.cli import app
from segmint.errors import ModelError, WorkspaceError
from segmint.store.activity import committed_activity
from tests.conftest import db, write_jsonl
from tests.engines import drop
from tests.faults.harness import run

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
RULES = [
    'country = "US"',
    "vip = true and age >= 40",
    'tags contains "sale"',
    "not tags is set",
    'did purchase where category = "shoes" in last 30 days',
    "did purchase where gift = true",
    "did purchase where qty >= 3 at least 2 times",
    "sum(revenue) of purchase >= 100",
    "avg(revenue) of purchase in last 90 days > 40",
    'did page_view where path starts with "/sale"',
    "not did page_view in last 7 days",
    "last purchase within last 30 days",
    "days_since_last_seen <= 30",
    "tenure_days >= 100",
    "created_at within last 90 days",
    "first_seen_at before 2025-06-01",
    "did purchase where shipped_at within last 60 days",
    'country in ["FR", "DE"] or (did purchase and not did page_view)',
]


def _shop(seed: int = 11) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    r = random.Random(seed)
    customers = []
    for i in range(160):
        customers.append(
            {
                "id": f"c{i:03d}",
                "signed_up": AS_OF
                - timedelta(days=r.randint(-20, 700), seconds=r.randint(0, 86399)),
                "country": r.choice(["US", "FR", "DE", None]),
                "vip": r.choice([True, False, None]),
                "age": r.choice([None, *range(18, 80)]),
                "tags": r.choice([None, [], ["sale"], ["new", "sale"], ["new"]]),
            }
        )
    events = []
    for _ in range(2500):
        who = r.choice(customers)["id"]
        at = AS_OF - timedelta(days=r.uniform(-10, 400))
        if r.random() < 0.4:
            props: dict[str, Any] = {
                "category": r.choice(["shoes", "hats", "bags"]),
                "qty": r.randint(1, 5),
                "gift": r.choice([True, False]),
                "shipped_at": (at + timedelta(days=r.randint(0, 5))).isoformat(),
            }
            events.append(("purchase", who, at, r.randint(5, 120) + 0.25 * r.randint(0, 3), props))
        else:
            path = r.choice(["/", "/sale/a", "/sale/b", "/about"])
            events.append(("page_view", who, at, None, {"path": path}))
    rows = [
        {"eid": f"e{n}", "name": e, "who": w, "at": a, "amount": v, "props": p}
        for n, (e, w, a, v, p) in enumerate(events)
    ]
    return customers, rows


@pytest.fixture(scope="module")
def shop() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return _shop()


def _embedded_store(
    root: Path, customers: list[dict[str, Any]], events: list[dict[str, Any]]
) -> segmint.Workspace:
    segmint.init(root / "ws").close()
    _purchases_are(root / "ws")
    ws = segmint.open(root / "ws")
    write_jsonl(
        root / "customers.jsonl",
        [
            {
                "customer_id": c["id"],
                **({"created_at": c["signed_up"].isoformat()} if c["signed_up"] else {}),
                **{k: c[k] for k in ("country", "vip", "age", "tags") if c[k] is not None},
            }
            for c in customers
        ],
    )
    write_jsonl(
        root / "events.jsonl",
        [
            {
                "event_id": e["eid"],
                "event": e["name"],
                "customer_id": e["who"],
                "timestamp": e["at"].isoformat(),
                **({"revenue": e["amount"]} if e["amount"] is not None else {}),
                "properties": e["props"],
            }
            for e in events
        ],
    )
    assert ws.ingest("customers", root / "customers.jsonl").rejected == 0
    assert ws.ingest("events", root / "events.jsonl").rejected == 0
    return ws


@pytest.fixture(scope="module")
def embedded(
    shop: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[segmint.Workspace]:
    ws = _embedded_store(tmp_path_factory.mktemp("embedded"), *shop)
    yield ws
    ws.close()


# What reaches the source after its activity table is built, all later than every event
# of the shop (its watermark): a new customer without a creation time, who exists from
# their first event, and a later purchase of a known customer.
LATER = AS_OF + timedelta(days=20)
NEWCOMER = {
    "id": "c900",
    "signed_up": None,
    "country": "US",
    "vip": None,
    "age": 30,
    "tags": None,
}


def _arrivals() -> list[dict[str, Any]]:
    def purchase(n: int, who: str, days: float) -> dict[str, Any]:
        at = AS_OF + timedelta(days=days)
        props = {"category": "shoes", "qty": 3, "gift": True, "shipped_at": at.isoformat()}
        return {"eid": f"n{n}", "name": "purchase", "who": who, "at": at, "amount": 80.0,
                "props": props}  # fmt: skip

    view = {"eid": "n0", "name": "page_view", "who": "c900", "at": AS_OF + timedelta(days=15),
            "amount": None, "props": {"path": "/sale/a"}}  # fmt: skip
    return [view, purchase(1, "c900", 16), purchase(2, "c001", 17.5)]


@pytest.fixture(scope="module")
def embedded_later(
    shop: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[segmint.Workspace]:
    """The embedded store with the shop and what arrives after the build."""
    customers, events = shop
    root = tmp_path_factory.mktemp("embedded-later")
    ws = _embedded_store(root, [*customers, NEWCOMER], [*events, *_arrivals()])
    yield ws
    ws.close()


def _arrow(shop: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> tuple[pa.Table, pa.Table]:
    customers, events = shop
    people = pa.table(
        {
            "id": [c["id"] for c in customers],
            "signed_up": pa.array([c["signed_up"] for c in customers], pa.timestamp("us", "UTC")),
            "country": [c["country"] for c in customers],
            "vip": pa.array([c["vip"] for c in customers], pa.bool_()),
            "age": pa.array([c["age"] for c in customers], pa.int64()),
            "tags": pa.array([c["tags"] for c in customers], pa.list_(pa.string())),
        }
    )
    happened = pa.table(
        {
            "who": [e["who"] for e in events],
            "name": [e["name"] for e in events],
            "happened_at": pa.array([e["at"] for e in events], pa.timestamp("us", "UTC")),
            "amount": pa.array([e["amount"] for e in events], pa.float64()),
            "props": [json.dumps(e["props"]) for e in events],
        }
    )
    return people, happened


def _purchases_are(root: Path) -> None:
    """The shop's orders are ``purchase`` events (for the order traits)."""
    toml = root / "segmint.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace('purchase_events = ["order_completed"]', 'purchase_events = ["purchase"]'),
        encoding="utf-8",
    )


def _typed(happened: pa.Table) -> pa.Table:
    """The events with every property as a typed column of its own, and no JSON."""
    props = [json.loads(text) for text in happened.column("props").to_pylist()]
    columns = {
        "category": pa.string(),
        "qty": pa.int64(),
        "gift": pa.bool_(),
        "shipped_at": pa.timestamp("us", "UTC"),
        "path": pa.string(),
    }
    out = happened.drop_columns(["props"])
    for name, kind in columns.items():
        values = [p.get(name) for p in props]
        if name == "shipped_at":
            values = [None if v is None else datetime.fromisoformat(v) for v in values]
        out = out.append_column(name, pa.array(values, kind))
    return out


def _source_workspace(
    root: Path, source: str, typed: bool = False, schema: str = "segmint"
) -> segmint.Workspace:
    """A source workspace on the shop's tables, keeping its own tables on PostgreSQL in
    ``schema`` (workspaces sharing one share their versions: one at a time)."""
    ws = segmint.init(root, source=source)
    ws.close()
    toml = root / "segmint.toml"
    text = toml.read_text(encoding="utf-8")
    settings = {
        "customers": "shop_customers",
        "customer_id": "id",
        "created_at": "signed_up",
        "events": "shop_events",
        "event_customer_id": "who",
        "event_name": "name",
        "event_time": "happened_at",
        "properties": "props",
        "revenue": "amount",
        "schema": schema,
    }
    if typed:
        settings |= {"events": "shop_events_typed", "properties": ""}
    head, _, tail = text.partition("[source]\n")
    for key, value in settings.items():
        tail = re.sub(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', tail, count=1)
    if typed:
        names = json.dumps(["category", "qty", "gift", "shipped_at", "path"])
        tail = tail.replace("property_columns = []", f"property_columns = {names}")
    toml.write_text(head + "[source]\n" + tail, encoding="utf-8")
    _purchases_are(root)
    return segmint.open(root)


def _check_same_counts(source_ws: segmint.Workspace, embedded: segmint.Workspace) -> None:
    found = source_ws.refresh_catalog()
    assert found == {"attributes": 6, "events": 2, "properties": 5}
    # The catalog refresh built the activity table, and the rules below read it.
    built = committed_activity(db(source_ws))
    assert built is not None and built.watermark is not None
    assert _activity_versions(source_ws) == {built.version}
    differ = []
    for rule in RULES:
        want = embedded.count(rule, as_of=AS_OF)
        got = source_ws.count(rule, as_of=AS_OF)
        if got != want:
            differ.append(f"{rule}: source {got}, embedded {want}")
    assert not differ, "\n".join(differ)
    members = source_ws.members('country = "US"', as_of=AS_OF, columns=["age"])
    expected = embedded.members('country = "US"', as_of=AS_OF, columns=["age"])
    assert members.column("customer_id").to_pylist() == expected.column("customer_id").to_pylist()
    assert members.column("age").to_pylist() == expected.column("age").to_pylist()


def _activity_versions(ws: segmint.Workspace) -> set[int]:
    """The versions of the activity table on the source, committed or not."""
    return ws._source_state().versions("activity")


def _check_counts_at(source_ws: segmint.Workspace, embedded: segmint.Workspace) -> None:
    """Every rule counts the same members at AS_OF and at LATER, after the arrivals."""
    differ = []
    for when in (AS_OF, LATER):
        for rule in RULES:
            want = embedded.count(rule, as_of=when)
            got = source_ws.count(rule, as_of=when)
            if got != want:
                differ.append(f"{rule} at {when:%Y-%m-%d}: source {got}, embedded {want}")
    assert not differ, "\n".join(differ)
    # The newcomer exists from their first event, and the known customer's purchase counts.
    assert source_ws.count("first_seen_at after 2026-03-12", as_of=LATER) == 1
    assert source_ws.count("last purchase within last 3 days", as_of=LATER) >= 1


def _insert_arrivals(engine: Any) -> None:
    people, happened = _arrow(([NEWCOMER], _arrivals()))
    engine.insert("shop_customers", people)
    engine.insert("shop_events", happened)


def _late_event_is_seen_at_the_next_build(engine: Any, ws: segmint.Workspace) -> None:
    """An event older than the watermark that reaches the source after the build (here the
    first event of a customer without a creation time) is not in the first and last event
    times until the next build (docs/sources.md, "How it works")."""
    rule = "days_since_last_seen <= 30"
    before = ws.count(rule, as_of=AS_OF)
    late = {**NEWCOMER, "id": "c901"}
    event = {"eid": "late", "name": "page_view", "who": "c901",
             "at": AS_OF - timedelta(days=5), "amount": None, "props": {"path": "/"}}  # fmt: skip
    people, happened = _arrow(([late], [event]))
    engine.insert("shop_customers", people)
    engine.insert("shop_events", happened)
    assert ws.count(rule, as_of=AS_OF) == before
    ws.refresh_catalog()
    assert ws.count(rule, as_of=AS_OF) == before + 1


def _check_same_traits(source_ws: segmint.Workspace, embedded: segmint.Workspace) -> None:
    """Every trait, the CLV ones included, as the embedded store has it (the shop's
    uniform purchases leave the CLV models unfitted, so those are empty on both:
    tests/test_source_clv.py compares fitted ones)."""
    got = source_ws.traits(as_of=AS_OF)
    names = [n for n in got.column_names if n != "customer_id"]
    assert "orders_count" in names and "lifecycle_stage" in names and "p_alive" in names
    want = embedded.traits(as_of=AS_OF, names=names)
    assert got.column("customer_id").to_pylist() == want.column("customer_id").to_pylist()
    for name in names:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        same = [
            x == y or (isinstance(x, float) and isinstance(y, float) and abs(x - y) < 1e-9)
            for x, y in zip(a, b, strict=True)
        ]
        wrong = [(x, y) for x, y, ok in zip(a, b, same, strict=True) if not ok]
        assert not wrong, f"{name}: {wrong[:5]}"
    assert sum(v or 0 for v in got.column("orders_count").to_pylist()) > 500
    thresholds = source_ws.lifecycle_thresholds(AS_OF)
    assert thresholds == embedded.lifecycle_thresholds(AS_OF)


def _drop(engine: Any, *tables: str) -> None:
    # CASCADE: the workspace's session has ended, but the server may still be removing its
    # temporary views, which depend on these tables, when the test drops them.
    for table in tables:
        drop(engine, f"DROP TABLE IF EXISTS {table} CASCADE")
    engine.con.close()


@pytest.mark.postgres
def test_a_postgres_source_counts_what_the_embedded_store_counts(
    postgres_url: str, shop: Any, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened)
    engine.run("ALTER TABLE shop_events ALTER COLUMN props TYPE jsonb USING props::jsonb")
    try:
        with _source_workspace(tmp_path / "pg", postgres_url) as ws:
            _check_same_counts(ws, embedded)
            with pytest.raises(WorkspaceError, match="reads its data from postgres"):
                ws.ingest("events", tmp_path / "none.csv")
            # The CLV models are fitted on the source's purchases; these cannot be fitted,
            # as on the embedded store.
            with pytest.raises(ModelError, match="cannot be fitted"):
                ws.count("predicted_clv_365d > 10", as_of=AS_OF)
            with pytest.raises(WorkspaceError, match="stats reads the workspace's own store"):
                ws.stats()
            _check_same_traits(ws, embedded)
            # segment sql prints the source engine's SQL by default.
            assert "JSONB_TYPEOF" in ws.sql('did purchase where category = "shoes"', AS_OF)
    finally:
        _drop(engine, "shop_customers", "shop_events")


@pytest.mark.postgres
def test_properties_as_typed_columns_count_the_same(
    postgres_url: str, shop: Any, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    """The user's events with each property in a typed column of its own, no JSON: rules
    read the columns as they are (no JSON in the SQL) and count what the embedded store
    counts."""
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events_typed", _typed(happened))
    try:
        with _source_workspace(tmp_path / "typed", postgres_url, typed=True) as ws:
            _check_same_counts(ws, embedded)
            sql = ws.sql("did purchase where qty >= 2", AS_OF)
            assert '"p_qty"' in sql and "JSONB" not in sql
    finally:
        _drop(engine, "shop_customers", "shop_events_typed")


@pytest.mark.spark
def test_a_spark_source_counts_what_the_embedded_store_counts(
    spark: Any, shop: Any, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    from segmint.engine.spark import SparkEngine

    engine = SparkEngine(spark)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened)
    try:
        with _source_workspace(tmp_path / "spark", "spark") as ws:
            _check_same_counts(ws, embedded)
            assert "GET_JSON_OBJECT" in ws.sql('did purchase where category = "shoes"', AS_OF)
            _check_same_traits(ws, embedded)
    finally:
        engine.drop_table("shop_customers")
        engine.drop_table("shop_events")


@pytest.mark.postgres
def test_events_after_the_activity_build_count_and_a_killed_build_keeps_the_old_one(
    postgres_url: str, shop: Any, embedded_later: segmint.Workspace, tmp_path: Path
) -> None:
    """Events that reach PostgreSQL after the activity table was built are read from the
    events newer than its watermark: every rule counts what the embedded store loaded
    with them counts. A build killed after writing its version on the engine and before
    the workspace's commit leaves the old version in use, and the next build replaces the
    orphan."""
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened)
    engine.run("ALTER TABLE shop_events ALTER COLUMN props TYPE jsonb USING props::jsonb")
    root = tmp_path / "pg"
    try:
        with _source_workspace(root, postgres_url, schema="arrivals") as ws:
            ws.refresh_catalog()
            first = committed_activity(db(ws))
            assert first is not None and first.version == 1
            _insert_arrivals(engine)
            _check_counts_at(ws, embedded_later)
        killed = run(root, "catalog", "refresh", kill_at="catalog:before-commit")
        assert killed.killed, killed.stderr
        with segmint.open(root) as ws:
            assert committed_activity(db(ws)) == first
            assert _activity_versions(ws) == {1, 2}  # version 2 written, never committed
            _check_counts_at(ws, embedded_later)
            _late_event_is_seen_at_the_next_build(engine, ws)
            rebuilt = committed_activity(db(ws))
            assert rebuilt is not None and rebuilt.version == 2
            assert rebuilt.watermark == LATER - timedelta(days=2.5)
            assert _activity_versions(ws) == {2}
            schema = ws.config.source.schema
        # Without its table on the engine (dropped behind the workspace's back), the
        # profiles view aggregates the events again: slower, still exact.
        engine.run(f'DROP SCHEMA "{schema}" CASCADE')
        engine.run("DELETE FROM shop_events WHERE who = 'c901'")
        engine.run("DELETE FROM shop_customers WHERE id = 'c901'")
        with segmint.open(root) as ws:
            _check_counts_at(ws, embedded_later)
    finally:
        _drop(engine, "shop_customers", "shop_events")


@pytest.mark.spark
def test_events_after_the_activity_build_count_on_spark(
    spark: Any, shop: Any, embedded_later: segmint.Workspace, tmp_path: Path
) -> None:
    """As on PostgreSQL: the activity version (Parquet) and the events newer than its
    watermark give the embedded store's answers, and a late event waits for the next
    build."""
    from segmint.engine.spark import SparkEngine

    engine = SparkEngine(spark)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened)
    try:
        with _source_workspace(tmp_path / "spark", "spark") as ws:
            ws.refresh_catalog()
            _insert_arrivals(engine)
            _check_counts_at(ws, embedded_later)
            _late_event_is_seen_at_the_next_build(engine, ws)
            assert _activity_versions(ws) == {2}
    finally:
        engine.drop_table("shop_customers")
        engine.drop_table("shop_events")


def test_init_with_a_source_writes_its_engine_and_a_bad_source_is_one_line(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["init", str(tmp_path / "w"), "--source", "spark"])
    assert result.exit_code == 0, result.output
    assert 'engine = "spark"' in (tmp_path / "w" / "segmint.toml").read_text(encoding="utf-8")
    assert "segmint catalog refresh" in result.output
    bad = runner.invoke(app, ["init", str(tmp_path / "x"), "--source", "mysql://h/d"])
    assert bad.exit_code == 2
    assert "expected postgresql://" in bad.output
    assert not (tmp_path / "x").exists()
