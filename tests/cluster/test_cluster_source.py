"""Cluster runs on a source (docs/clusters.md, "On a source"): the features are computed
in PostgreSQL or Spark, k-means is fitted on a sample drawn there, and everyone's cluster
is written back there.

One shop is loaded into an embedded workspace and, under the user's own table and column
names, into the engine. With a sample that holds everyone, a run on the source finds the
clusters the embedded store finds with the same seed: the same sizes, names, rules and
fidelity, and the same members in each cluster and in each rule. With a smaller sample,
everyone still gets exactly one cluster. A run killed after its engine write and before
its local commit leaves no run, and its version is never read.
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
import yaml

import segmint
from segmint.cluster.runs import members
from segmint.errors import NotFoundError
from segmint.rules.coerce import as_rule
from segmint.rules.text import to_text
from tests.conftest import write_jsonl
from tests.engines import drop
from tests.faults.harness import run as run_cli

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
FEATURES = [
    "days_since_last_order",
    "orders_count",
    "revenue_total",
    "aov",
    "tenure_days",
    "days_since_last_seen",
    "age",
    "country",
    "vip",
]
CUSTOMERS = 240

Shop = tuple[pa.Table, pa.Table]


def _shop(seed: int = 5) -> Shop:
    """Customers of three kinds (big spenders, occasional buyers, browsers who never
    buy), with missing ages, countries and flags, and their events."""
    r = random.Random(seed)
    people: dict[str, list[Any]] = {k: [] for k in ("id", "signed_up", "country", "vip", "age")}
    events: dict[str, list[Any]] = {k: [] for k in ("who", "name", "happened_at", "amount")}
    for i in range(CUSTOMERS):
        kind = i % 3
        who = f"c{i:03d}"
        people["id"].append(who)
        people["signed_up"].append(AS_OF - timedelta(days=r.randint(30, 700), hours=r.random()))
        people["country"].append(r.choice(["US", "FR", "DE", None]))
        people["vip"].append(r.choice([True, False, None]))
        people["age"].append(r.choice([None, *range(18, 80)]))
        orders = (r.randint(6, 14), r.randint(1, 3), 0)[kind]
        for _ in range(orders):
            at = AS_OF - timedelta(days=r.uniform(1, 300 if kind == 0 else 500))
            amount = r.randint(60, 300) if kind == 0 else r.randint(5, 50)
            for key, value in zip(events, (who, "purchase", at, float(amount)), strict=True):
                events[key].append(value)
        for _ in range(r.randint(1, 12)):
            at = AS_OF - timedelta(days=r.uniform(-5, 400))
            for key, value in zip(events, (who, "page_view", at, None), strict=True):
                events[key].append(value)
    customers = pa.table(
        {
            "id": people["id"],
            "signed_up": pa.array(people["signed_up"], pa.timestamp("us", "UTC")),
            "country": pa.array(people["country"], pa.string()),
            "vip": pa.array(people["vip"], pa.bool_()),
            "age": pa.array(people["age"], pa.int64()),
        }
    )
    happened = pa.table(
        {
            "who": events["who"],
            "name": events["name"],
            "happened_at": pa.array(events["happened_at"], pa.timestamp("us", "UTC")),
            "amount": pa.array(events["amount"], pa.float64()),
        }
    )
    return customers, happened


@pytest.fixture(scope="module")
def shop() -> Shop:
    return _shop()


def _purchases_are(root: Path) -> None:
    toml = root / "segmint.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace('purchase_events = ["order_completed"]', 'purchase_events = ["purchase"]'),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def embedded(shop: Shop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[segmint.Workspace]:
    customers, happened = shop
    root = tmp_path_factory.mktemp("embedded")
    segmint.init(root / "ws").close()
    _purchases_are(root / "ws")
    people = [
        {
            "customer_id": c["id"],
            "created_at": c["signed_up"].isoformat(),
            **{k: c[k] for k in ("country", "vip", "age") if c[k] is not None},
        }
        for c in customers.to_pylist()
    ]
    rows = [
        {
            "event": e["name"],
            "customer_id": e["who"],
            "timestamp": e["happened_at"].isoformat(),
            **({"revenue": e["amount"]} if e["amount"] is not None else {}),
        }
        for e in happened.to_pylist()
    ]
    with segmint.open(root / "ws") as ws:
        assert ws.ingest("customers", write_jsonl(root / "c.jsonl", people)).rejected == 0
        assert ws.ingest("events", write_jsonl(root / "e.jsonl", rows)).rejected == 0
    ws = segmint.open(root / "ws")
    yield ws
    ws.close()


def _source_workspace(root: Path, source: str) -> segmint.Workspace:
    segmint.init(root, source=source).close()
    toml = root / "segmint.toml"
    head, _, tail = toml.read_text(encoding="utf-8").partition("[source]\n")
    settings = {
        "customers": "clu_customers",
        "customer_id": "id",
        "created_at": "signed_up",
        "events": "clu_events",
        "event_customer_id": "who",
        "event_name": "name",
        "event_time": "happened_at",
        "properties": "",
        "revenue": "amount",
    }
    for key, value in settings.items():
        tail = re.sub(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', tail, count=1)
    toml.write_text(head + "[source]\n" + tail, encoding="utf-8")
    _purchases_are(root)
    ws = segmint.open(root)
    ws.refresh_catalog()
    return ws


def _cluster(ws: segmint.Workspace, **options: Any) -> Any:
    return ws.cluster(**{"features": FEATURES, "as_of": AS_OF, "seed": 3, **options})


def _check_same_run(source_ws: segmint.Workspace, embedded: segmint.Workspace) -> None:
    """Sample >= population: the source's run is the embedded store's run."""
    features = [*FEATURES, "predicted_clv_365d"]
    want = _cluster(embedded, k_range=(3, 5), features=features)
    got = _cluster(source_ws, k_range=(3, 5), features=features)
    assert got.k == want.k and got.reason == want.reason
    assert got.params == want.params
    assert got.warnings == want.warnings
    assert [c.size for c in got.clusters] == [c.size for c in want.clusters]
    assert [c.name for c in got.clusters] == [c.name for c in want.clusters]
    assert got.rules == want.rules
    for a, b in zip(got.clusters, want.clusters, strict=True):
        assert a.precision == pytest.approx(b.precision) and a.recall == pytest.approx(b.recall)
    assert got.labels is None  # everyone's cluster stays in the engine
    # The stored run reads the same, and each cluster's members come from the engine.
    assert source_ws.cluster_run(got.run_id).to_json()["clusters"] == got.to_json()["clusters"]
    source_ctx, embedded_ctx = source_ws._context(), embedded._context()
    for c in got.clusters:
        ids = members(source_ctx, got.run_id, c.id)
        assert ids == members(embedded_ctx, want.run_id, c.id)
        assert len(ids) == c.size
        rule = got.rules[c.id]
        in_rule = source_ws.members(rule, as_of=AS_OF).column("customer_id").to_pylist()
        assert in_rule == embedded.members(rule, as_of=AS_OF).column("customer_id").to_pylist()
    # Saving a cluster writes its rule, which counts there what the run measured.
    path = source_ws.save_cluster(got.run_id, 0, "biggest")
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))["rule"]
    assert to_text(as_rule(saved)) == got.rules[0]
    saved_members = source_ws.members({"segment": "biggest"}, as_of=AS_OF)
    selected = set(saved_members.column("customer_id").to_pylist())
    hits = len(selected & set(members(source_ctx, got.run_id, 0)))
    assert hits / len(selected) == pytest.approx(got.clusters[0].precision)
    # A fixed list is a rule on customer_id: the cluster's members, on the source too.
    source_ws.save_cluster(got.run_id, 1, "second", kind="static")
    listed = source_ws.members({"segment": "second"}, as_of=AS_OF).column("customer_id")
    assert sorted(listed.to_pylist()) == sorted(members(source_ctx, got.run_id, 1))


def _check_every_customer_once(ws: segmint.Workspace) -> None:
    """A sample smaller than the population: everyone is assigned, exactly once."""
    everyone = ws.members({"and": []}, as_of=AS_OF).column("customer_id").to_pylist()
    run = _cluster(ws, k=4, sample=50)
    again = _cluster(ws, k=4, sample=50)
    assert run.params["sample"] == 50 and run.params["customers"] == len(everyone)
    assert again.rules == run.rules  # the same seed draws the same sample
    found = [members(ws._context(), run.run_id, c.id) for c in run.clusters]
    assigned = [pid for ids in found for pid in ids]
    assert sorted(assigned) == sorted(everyone)  # each exactly once
    assert [len(ids) for ids in found] == [c.size for c in run.clusters]
    assert sum(c.size for c in run.clusters) == len(everyone)
    assert all(0 <= c.precision <= 1 and 0 <= c.recall <= 1 for c in run.clusters)
    # The default features, predicted CLV among them (fitted for the source's as_of).
    default = ws.cluster(as_of=AS_OF, k=3)
    assert "predicted_clv_365d" in default.params["features"]
    assert sum(c.size for c in default.clusters) == len(everyone)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Everyone is read, assigned and written back in several batches."""
    monkeypatch.setattr("segmint.cluster.source.BATCH_ROWS", 70)


@pytest.mark.postgres
@pytest.mark.usefixtures("small_batches")
def test_clusters_on_postgres_are_the_embedded_stores(
    postgres_url: str, shop: Shop, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    engine.create_table("clu_customers", shop[0])
    engine.create_table("clu_events", shop[1])
    try:
        with _source_workspace(tmp_path / "pg", postgres_url) as ws:
            _check_same_run(ws, embedded)
            _check_every_customer_once(ws)
    finally:
        drop(engine, 'DROP SCHEMA IF EXISTS "segmint" CASCADE')
        drop(engine, "DROP TABLE IF EXISTS clu_customers, clu_events CASCADE")
        engine.con.close()


@pytest.mark.spark
@pytest.mark.usefixtures("small_batches")
def test_clusters_on_spark_are_the_embedded_stores(
    spark: Any, shop: Shop, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    from segmint.engine.spark import SparkEngine

    engine = SparkEngine(spark)
    engine.create_table("clu_customers", shop[0])
    engine.create_table("clu_events", shop[1])
    try:
        with _source_workspace(tmp_path / "spark", "spark") as ws:
            _check_same_run(ws, embedded)
            _check_every_customer_once(ws)
    finally:
        engine.drop_table("clu_customers")
        engine.drop_table("clu_events")


@pytest.mark.postgres
def test_a_run_killed_before_its_local_commit_leaves_no_run_and_its_version_unread(
    postgres_url: str, shop: Shop, tmp_path: Path
) -> None:
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    engine.create_table("clu_customers", shop[0])
    engine.create_table("clu_events", shop[1])
    root = tmp_path / "killed"
    features = ",".join(FEATURES)
    try:
        _source_workspace(root, postgres_url).close()
        args = ["cluster", "--features", features, "--k", "4", "--as-of", AS_OF.isoformat()]
        outcome = run_cli(root, *args, kill_at="cluster:before-commit")
        assert outcome.killed, outcome.stderr
        with segmint.open(root) as ws:
            state = ws._source_state()
            assert 1 in state.versions("cluster_members")  # written in the engine...
            assert ws.cluster_runs() == []  # ...but no run names it
            with pytest.raises(NotFoundError, match="no cluster run 1"):
                members(ws._context(), 1, 0)
            # The next run gets the same id and replaces the version the killed one left.
            run = _cluster(ws, k=3)
            assert run.run_id == 1
            rows = state.rows("cluster_members", [1])
            counted = state.engine.to_arrow(
                f"SELECT cluster, count(*) AS n FROM {rows} r GROUP BY cluster ORDER BY cluster"
            )
            assert counted.column("n").to_pylist() == [c.size for c in run.clusters]
            assert json.dumps(ws.cluster_runs()[0]["features"]) == json.dumps(FEATURES)
    finally:
        drop(engine, 'DROP SCHEMA IF EXISTS "segmint" CASCADE')
        drop(engine, "DROP TABLE IF EXISTS clu_customers, clu_events CASCADE")
        engine.con.close()
