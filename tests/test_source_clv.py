"""CLV on a source-mode workspace: the summary computed in PostgreSQL or Spark, the
models fitted in Python, the predictions written back to the source under the fit's id.

The shop of tests/test_source_mode.py is loaded into an embedded workspace and written as
the user's tables into PostgreSQL and Spark; the fitted models, the CLV traits and rules
on them agree with the embedded store at the same as_of, and a rule at another as_of
reads that as_of's fit, never the first one.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import segmint
from tests.conftest import db, write_jsonl
from tests.engines import drop
from tests.test_source_mode import AS_OF, _arrow, _purchases_are, _source_workspace

EARLIER = AS_OF - timedelta(days=120)
CLV_TRAITS = ["p_alive", "predicted_orders_365d", "predicted_clv_365d", "churn_risk", "value_tier"]
RULES = [
    "p_alive < 0.5",
    'value_tier = "high"',
    'value_tier in ["vip", "high"] and country = "US"',
    'churn_risk = "high"',
    "predicted_clv_365d > 100",
    "predicted_orders_365d >= 2 or not did purchase in last 60 days",
]
Shop = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _clv_shop(seed: int = 5, customers: int = 400) -> Shop:
    """A shop whose buyers purchase as BG/NBD assumes (each at a rate of their own, each
    dropping out after a purchase with a probability of their own) and spend as
    Gamma-Gamma assumes, so that both models have something to fit; a few page views."""
    r = random.Random(seed)
    people, events = [], []
    for i in range(customers):
        cid = f"k{i:04d}"
        start = AS_OF - timedelta(days=r.uniform(30, 720))
        people.append(
            {
                "id": cid,
                "signed_up": start,
                "country": r.choice(["US", "FR", None]),
                "vip": None,
                "age": None,
                "tags": None,
            }
        )
        rate, dropout = r.gammavariate(0.9, 1 / 25), r.betavariate(1.2, 5)
        spend = r.gammavariate(6, 8)
        at = start + timedelta(hours=r.uniform(0, 48))
        while at < AS_OF + timedelta(days=30):
            amount = round(r.gammavariate(4, spend / 4) * 4) / 4 + 1
            events.append(("purchase", cid, at, amount, {"category": "shoes"}))
            if r.random() < dropout:
                break
            at += timedelta(days=r.expovariate(rate))
        for _ in range(r.randint(0, 3)):
            view = start + timedelta(days=r.uniform(0, (AS_OF - start).days + 20))
            events.append(("page_view", cid, view, None, {"path": "/"}))
    rows = [
        {"eid": f"e{n}", "name": e, "who": w, "at": a, "amount": v, "props": p}
        for n, (e, w, a, v, p) in enumerate(events)
    ]
    return people, rows


@pytest.fixture(scope="module")
def shop() -> Shop:
    return _clv_shop()


@pytest.fixture(scope="module")
def embedded(shop: Shop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[segmint.Workspace]:
    customers, events = shop
    root = tmp_path_factory.mktemp("clv-embedded")
    segmint.init(root / "ws").close()
    _purchases_are(root / "ws")
    people = [
        {
            "customer_id": c["id"],
            "created_at": c["signed_up"].isoformat(),
            **{k: c[k] for k in ("country", "vip", "age", "tags") if c[k] is not None},
        }
        for c in customers
    ]
    rows = [
        {
            "event_id": e["eid"],
            "event": e["name"],
            "customer_id": e["who"],
            "timestamp": e["at"].isoformat(),
            **({"revenue": e["amount"]} if e["amount"] is not None else {}),
            "properties": e["props"],
        }
        for e in events
    ]
    with segmint.open(root / "ws") as ws:
        assert ws.ingest("customers", write_jsonl(root / "c.jsonl", people)).rejected == 0
        assert ws.ingest("events", write_jsonl(root / "e.jsonl", rows)).rejected == 0
        yield ws


def own_schema(root: Path, schema: str) -> None:
    """Each workspace its own [source] schema: their fit ids would otherwise share versions."""
    toml = root / "segmint.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(re.sub(r'(?m)^schema = ".*"$', f'schema = "{schema}"', text), encoding="utf-8")


def source_tables(root: Path, customers: str, events: str) -> None:
    """The workspace reads ``customers`` and ``events`` instead of the shop's tables."""
    toml = root / "segmint.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('"shop_customers"', f'"{customers}"')
    toml.write_text(text.replace('"shop_events"', f'"{events}"'), encoding="utf-8")


def drop_when_alone(engine: Any, tables: list[str], schema: str) -> None:
    """Drop the test's tables and the workspace's schema once the workspaces' sessions
    have ended: a session the server is still ending removes its temporary views, which
    read these tables, and a DROP beside it can deadlock with it."""
    for _ in range(200):
        others = engine.scalar(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        if not others:
            break
        time.sleep(0.05)
    for table in tables:
        drop(engine, f"DROP TABLE IF EXISTS {table} CASCADE")
    drop(engine, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.con.close()


def _source(
    root: Path, source: str, schema: str, tables: tuple[str, str] | None = None
) -> segmint.Workspace:
    _source_workspace(root, source).close()
    own_schema(root, schema)
    if tables is not None:
        source_tables(root, *tables)
    ws = segmint.open(root)
    ws.refresh_catalog()
    return ws


def _close(a: list[Any], b: list[Any], what: str) -> None:
    wrong = [
        (x, y)
        for x, y in zip(a, b, strict=True)
        if not (x == y or (isinstance(x, float) and isinstance(y, float) and abs(x - y) < 1e-6))
    ]
    assert not wrong, f"{what}: {wrong[:5]}"


def check_same_clv(ws: segmint.Workspace, embedded: segmint.Workspace) -> None:
    """Same models, same CLV traits and the same members as the embedded store, at AS_OF
    and at EARLIER (another fit, which a rule at EARLIER reads and no other)."""
    for when in (AS_OF, EARLIER):
        got, want = ws.models(as_of=when), embedded.models(as_of=when)
        for model in ("bgnbd", "gamma_gamma"):
            assert got[model]["customers"] == want[model]["customers"]
            for name, value in want[model].items():
                assert got[model][name] == pytest.approx(value, rel=1e-6), (when, model, name)
    # The two as_of give different members (so reading the wrong fit would show).
    assert embedded.count("p_alive < 0.5", as_of=AS_OF) != embedded.count(
        "p_alive < 0.5", as_of=EARLIER
    )
    for when in (EARLIER, AS_OF, EARLIER):
        for rule in RULES:
            a = ws.members(rule, as_of=when).column("customer_id").to_pylist()
            b = embedded.members(rule, as_of=when).column("customer_id").to_pylist()
            assert a == b, (rule, when)
            assert ws.count(rule, as_of=when) == len(b), (rule, when)
    got = ws.members("p_alive < 0.9", as_of=AS_OF, columns=CLV_TRAITS)
    want = embedded.members("p_alive < 0.9", as_of=AS_OF, columns=CLV_TRAITS)
    assert got.num_rows > 20
    for name in ["customer_id", *CLV_TRAITS]:
        _close(got.column(name).to_pylist(), want.column(name).to_pylist(), name)
    traits = ws.traits(as_of=AS_OF)
    assert set(CLV_TRAITS) <= set(traits.column_names)
    expected = embedded.traits(as_of=AS_OF, names=CLV_TRAITS)
    for name in ["customer_id", *CLV_TRAITS]:
        _close(traits.column(name).to_pylist(), expected.column(name).to_pylist(), name)


def stored_fits(ws: segmint.Workspace) -> list[tuple[int, str]]:
    rows = db(ws).execute("SELECT fit_id, as_of FROM clv_fits ORDER BY fit_id").fetchall()
    return [(int(f), a.isoformat()) for f, a in rows]


@pytest.mark.postgres
def test_clv_on_a_postgres_source_equals_the_embedded_store(
    postgres_url: str, shop: Shop, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    people, happened = _arrow(shop)
    # Tables of its own: test_source_mode.py's shop tables may be dropped while a session
    # of this test still ends.
    engine.create_table("clv_customers", people)
    engine.create_table("clv_events", happened)
    engine.run("ALTER TABLE clv_events ALTER COLUMN props TYPE jsonb USING props::jsonb")
    try:
        with _source(
            tmp_path / "pg", postgres_url, "clv_pg", ("clv_customers", "clv_events")
        ) as ws:
            check_same_clv(ws, embedded)
            # models() stored both fits: the local store names them, the source holds
            # one version each, and the rows of each are that fit's.
            assert [f for f, _ in stored_fits(ws)] == [1, 2]
            versions = engine.to_arrow(
                "SELECT v, count(*) AS n, min(fit_id) AS lo, max(fit_id) AS hi "
                "FROM clv_pg.clv_predictions GROUP BY v ORDER BY v"
            ).to_pylist()
            assert [(r["v"], r["lo"], r["hi"]) for r in versions] == [(1, 1, 1), (2, 2, 2)]
            assert ws.predictions_stored("p_alive < 0.5", AS_OF)
            assert not ws.predictions_stored("p_alive < 0.5", AS_OF + timedelta(days=1))
            # segment sql names the stored table and the fit, not the session's view of
            # it, and selects the members the rule selects (run where the profiles and
            # events views are: segmint's session).
            for when in (AS_OF, EARLIER):
                sql = ws.sql('value_tier = "high" or p_alive < 0.3', when)
                assert '"clv_pg"."clv_predictions"' in sql and "segmint_clv_v" not in sql
                session = ws._source_engine()
                assert session is not None
                printed = session.to_arrow(sql).column("customer_id").to_pylist()
                members = ws.members('value_tier = "high" or p_alive < 0.3', as_of=when)
                assert sorted(printed) == members.column("customer_id").to_pylist()
    finally:
        drop_when_alone(engine, ["clv_customers", "clv_events"], "clv_pg")


@pytest.mark.postgres
def test_a_read_only_source_workspace_keeps_its_fit_in_the_session(
    postgres_url: str, shop: Shop, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    """Open read-only, nothing is stored: the fit is this session's, in a temporary table
    on the source, and rules on it count what the embedded store counts."""
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    people, happened = _arrow(shop)
    engine.create_table("ro_customers", people)
    engine.create_table("ro_events", happened)
    try:
        root = tmp_path / "ro"
        _source_workspace(root, postgres_url).close()
        own_schema(root, "clv_ro")
        source_tables(root, "ro_customers", "ro_events")
        with segmint.open(root) as ws:
            ws.refresh_catalog()
        with segmint.open(root, read_only=True) as ws:
            got, want = ws.models(as_of=AS_OF), embedded.models(as_of=AS_OF)
            assert got["bgnbd"]["r"] == pytest.approx(want["bgnbd"]["r"], rel=1e-6)
            for rule in RULES[:2]:
                assert ws.count(rule, as_of=AS_OF) == embedded.count(rule, as_of=AS_OF), rule
            assert stored_fits(ws) == []
        found = engine.scalar("SELECT to_regclass('clv_ro.clv_predictions') IS NOT NULL")
        assert not found
    finally:
        drop_when_alone(engine, ["ro_customers", "ro_events"], "clv_ro")


@pytest.mark.spark
def test_clv_on_a_spark_source_equals_the_embedded_store(
    spark: Any, shop: Shop, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    from segmint.engine.spark import SparkEngine

    engine = SparkEngine(spark)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened)
    try:
        with _source(tmp_path / "spark", "spark", "segmint") as ws:
            check_same_clv(ws, embedded)
            assert [f for f, _ in stored_fits(ws)] == [1, 2]
            state = tmp_path / "spark" / "source-state" / "clv_predictions"
            assert sorted(p.name for p in state.iterdir()) == ["v=1", "v=2"]
    finally:
        engine.drop_table("shop_customers")
        engine.drop_table("shop_events")


def test_the_fit_sample_is_the_same_whatever_order_the_engine_returns_rows_in() -> None:
    import numpy as np

    from segmint.traits.models import sample_of

    size = 5000
    pid = np.array([f"c{i:05d}" for i in range(size)], dtype=object)
    summary = {"pid": pid, "x": np.arange(size, dtype=np.float64)}
    shuffled = np.random.default_rng(3).permutation(size)
    a = sample_of(summary, 1200)
    b = sample_of({k: v[shuffled] for k, v in summary.items()}, 1200)
    assert len(a["pid"]) == 1200 and len(set(a["pid"])) == 1200
    assert sorted(a["pid"]) == sorted(b["pid"])
    assert dict(zip(a["pid"], a["x"], strict=True)) == dict(zip(b["pid"], b["x"], strict=True))
    assert sample_of(summary, size) is summary


def test_fit_sample_below_1000_is_refused(tmp_path: Path) -> None:
    from segmint.errors import ConfigError

    segmint.init(tmp_path / "w").close()
    toml = tmp_path / "w" / "segmint.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("fit_sample = 1000000", "fit_sample = 10"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[clv\] fit_sample: must be >= 1000, got 10"):
        segmint.open(tmp_path / "w")
