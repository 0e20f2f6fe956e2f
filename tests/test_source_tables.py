"""A source's optional tables and columns (docs/sources.md): an identity map for events
keyed by anonymous ids, the events' partition date, and an orders table whose orders are
purchases as loaded orders are. Each gives the embedded store's answers on the same shop
(tests/test_source_mode.py)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import segmint
from tests.conftest import write_csv
from tests.engines import drop
from tests.test_source_mode import (
    AS_OF,
    RULES,
    _arrow,
    _check_same_counts,
    _embedded_store,
    _source_workspace,
    embedded,
    shop,
)

__all__ = ["embedded", "shop"]  # fixtures shared with tests/test_source_mode.py

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

# Rules and traits on purchases that do not read their properties: a loaded order's
# properties are its total, currency and status, a source order has none.
ORDER_RULES = [
    "did purchase in last 30 days",
    "did purchase at least 3 times",
    "sum(revenue) of purchase >= 100",
    "avg(revenue) of purchase in last 90 days > 40",
    "last purchase within last 30 days",
    "not did purchase",
    "orders_count >= 2",
    "revenue_total > 150",
    'lifecycle_stage = "at_risk"',
]


def _settings(root: Path, **settings: str) -> None:
    toml = root / "segmint.toml"
    head, _, tail = toml.read_text(encoding="utf-8").partition("[source]\n")
    for key, value in settings.items():
        tail, found = re.subn(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', tail, count=1)
        assert found, key
    toml.write_text(head + "[source]\n" + tail, encoding="utf-8")


def _anonymous(happened: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The events with a third of them keyed by an anonymous id instead of the customer
    id, their partition date as a column, and the identity map of those ids."""
    r = random.Random(5)
    who = happened.column("who").to_pylist()
    keyed, ties = [], {}
    for customer in who:
        if r.random() < 0.35:
            anon = ties.setdefault(customer, f"anon-{len(ties):04d}")
            keyed.append(anon)
        else:
            keyed.append(customer)
    days = pa.compute.cast(happened.column("happened_at"), pa.date32())
    events = happened.set_column(0, "who", pa.array(keyed)).append_column("day", days)
    identities = pa.table({"anonymous_id": list(ties.values()), "customer_id": list(ties)})
    return events, identities


def _engine(kind: str, request: pytest.FixtureRequest) -> Any:
    if kind == "postgres":
        from segmint.engine.postgres import connect

        return connect(request.getfixturevalue("postgres_url"))
    from segmint.engine.spark import SparkEngine

    return SparkEngine(request.getfixturevalue("spark"))


def _drop_all(engine: Any, tables: list[str]) -> None:
    for table in tables:
        if engine.name == "postgres":
            drop(engine, f"DROP TABLE IF EXISTS {table} CASCADE")
        else:
            engine.drop_table(table)
    if engine.name == "postgres":
        drop(engine, "DROP SCHEMA IF EXISTS segmint CASCADE")
        engine.con.close()


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=pytest.mark.spark),
    ]
)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_an_identity_map_and_a_partition_date_count_what_the_embedded_store_counts(
    kind: str,
    shop: Any,
    embedded: segmint.Workspace,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    engine = _engine(kind, request)
    people, happened = _arrow(shop)
    events, identities = _anonymous(happened)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", events)
    engine.create_table("shop_identities", identities)
    try:
        source = "spark" if kind == "spark" else request.getfixturevalue("postgres_url")
        root = tmp_path / kind
        _source_workspace(root, source).close()
        _settings(root, identities="shop_identities", event_date="day")
        with segmint.open(root) as ws:
            _check_same_counts(ws, embedded)
            sql = ws.sql("did purchase in last 30 days", AS_OF)
            assert "event_day" in sql
            # One day of margin each side of the window (a lake partitioned by a local
            # date still keeps every event the window holds).
            assert "2026-01-30" in sql
    finally:
        _drop_all(engine, ["shop_customers", "shop_events", "shop_identities"])


def _orders(shop: Any) -> list[dict[str, Any]]:
    """The shop's purchases as orders, with statuses and refunds: some refunded in full,
    some in part, some cancelled."""
    r = random.Random(9)
    _, events = shop
    out = []
    for e in events:
        if e["name"] != "purchase":
            continue
        total = e["amount"]
        status = r.choice(["paid", "paid", "paid", "shipped", "refunded", "Cancelled"])
        refund = r.choice([None, None, None, round(total / 2, 2), total])
        out.append(
            {
                "order_id": e["eid"],
                "customer_id": e["who"],
                "ordered_at": e["at"],
                "total": total,
                "status": status,
                "refunded_amount": refund,
            }
        )
    return out


@pytest.fixture(scope="module")
def embedded_orders(
    shop: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[segmint.Workspace]:
    """The shop with its purchases loaded as orders (`segmint ingest orders`)."""
    customers, events = shop
    root = tmp_path_factory.mktemp("orders")
    ws = _embedded_store(root, customers, [e for e in events if e["name"] != "purchase"])
    lines = ["order_id,customer_id,ordered_at,total,status,refunded_amount"]
    for o in _orders(shop):
        refund = "" if o["refunded_amount"] is None else str(o["refunded_amount"])
        lines.append(
            f"{o['order_id']},{o['customer_id']},{o['ordered_at'].isoformat()},"
            f"{o['total']},{o['status']},{refund}"
        )
    result = ws.ingest("orders", write_csv(root / "orders.csv", "\n".join(lines) + "\n"))
    assert result.rejected == 0
    yield ws
    ws.close()


def test_an_orders_table_counts_what_loaded_orders_count(
    kind: str,
    shop: Any,
    embedded_orders: segmint.Workspace,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    engine = _engine(kind, request)
    people, happened = _arrow(shop)
    names = happened.column("name").to_pylist()
    keep = pa.array([n != "purchase" for n in names])
    orders = _orders(shop)
    table = pa.table(
        {
            "order_id": [o["order_id"] for o in orders],
            "buyer": [o["customer_id"] for o in orders],
            "ordered_at": pa.array([o["ordered_at"] for o in orders], pa.timestamp("us", "UTC")),
            "total": pa.array([o["total"] for o in orders], pa.float64()),
            "state": [o["status"] for o in orders],
            "refunded": pa.array([o["refunded_amount"] for o in orders], pa.float64()),
        }
    )
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened.filter(keep))
    engine.create_table("shop_orders", table)
    try:
        source = "spark" if kind == "spark" else request.getfixturevalue("postgres_url")
        root = tmp_path / kind
        _source_workspace(root, source).close()
        _settings(
            root,
            orders="shop_orders",
            order_customer_id="buyer",
            order_status="state",
            order_refunded="refunded",
        )
        with segmint.open(root) as ws:
            ws.refresh_catalog()
            differ = [
                f"{rule}: source {got}, loaded {want}"
                for rule in [*ORDER_RULES, *RULES[:4]]
                if (got := ws.count(rule, as_of=AS_OF))
                != (want := embedded_orders.count(rule, as_of=AS_OF))
            ]
            assert not differ, "\n".join(differ)
            assert ws.count("did purchase", as_of=AS_OF) > 20
            names = ["orders_count", "revenue_total", "first_order_at", "last_order_at"]
            got = ws.traits(as_of=AS_OF, names=names).to_pylist()
            want = embedded_orders.traits(as_of=AS_OF, names=names).to_pylist()
            assert got == want
    finally:
        _drop_all(engine, ["shop_customers", "shop_events", "shop_orders"])
