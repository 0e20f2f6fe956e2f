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
from tests.conftest import write_jsonl

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


@pytest.fixture(scope="module")
def embedded(
    shop: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[segmint.Workspace]:
    customers, events = shop
    root = tmp_path_factory.mktemp("embedded")
    segmint.init(root / "ws").close()
    _purchases_are(root / "ws")
    ws = segmint.open(root / "ws")
    write_jsonl(
        root / "customers.jsonl",
        [
            {
                "customer_id": c["id"],
                "created_at": c["signed_up"].isoformat(),
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


def _source_workspace(root: Path, source: str, typed: bool = False) -> segmint.Workspace:
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
    assert found == {"attributes": 5, "events": 2, "properties": 5}
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
        engine.run(f"DROP TABLE IF EXISTS {table} CASCADE")
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
