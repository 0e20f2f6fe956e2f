"""Cluster runs end to end: known structure is found, rules say what they measure, runs are
deterministic and stored, clusters become segments, and bad input is refused."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner, Result

import segmint
from segmint.cli import app
from segmint.cluster.features import DEFAULT_FEATURES
from segmint.cluster.runs import ClusterRun
from segmint.demo.tour import build_demo
from segmint.errors import SegmintError
from segmint.rules.coerce import as_rule
from segmint.rules.text import to_text
from tests.conftest import db, write_csv

END = datetime(2026, 6, 1, tzinfo=UTC)
AS_OF = "2026-06-01T00:00:00Z"
SUMMARY_KEYS = {"run_id", "k", "clusters"}
CLUSTER_KEYS = {"id", "size", "name", "rule", "precision", "recall"}
PNG = b"\x89PNG\r\n\x1a\n"
# Blob centres on a grid, far apart for cluster_std 0.5: each blob is a box a depth-3
# tree can cut out.
GRID = {
    3: [(0.0, 0.0), (10.0, 10.0), (20.0, 0.0)],
    6: [(x, y) for y in (0.0, 10.0) for x in (0.0, 10.0, 20.0)],
}
BLOB_CUSTOMERS = 400


def run_cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-w", str(root), *args])


def customer_ids(n: int) -> list[str]:
    return [f"C{i:04d}" for i in range(n)]


def runs_stored(root: Path) -> int:
    with segmint.open(root) as ws:
        row = db(ws).execute("SELECT count(*) FROM cluster_runs").fetchone()
    assert row is not None
    return int(row[0])


def selected(ws: segmint.Workspace, rule: Any, as_of: Any) -> set[str]:
    return set(ws.members(rule, as_of).column("customer_id").to_pylist())


def fidelity(chosen: set[str], inside: set[str]) -> tuple[float, float]:
    hits = len(chosen & inside)
    precision = hits / len(chosen) if chosen else 0.0
    recall = hits / len(inside) if inside else 0.0
    return precision, recall


def cluster_sets(run: ClusterRun) -> dict[int, set[str]]:
    assert run.labels is not None
    frame = run.labels
    return {c.id: set(frame.customer_id[frame.cluster == c.id]) for c in run.clusters}


def latest_run(ws: segmint.Workspace) -> int:
    """The newest stored run (one is made when there is none)."""
    stored = ws.cluster_runs()
    return int(stored[-1]["run_id"]) if stored else ws.cluster(as_of=AS_OF, k=3).run_id


def leaves(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons of a rule in its JSON form."""
    for key in ("and", "or"):
        if key in rule:
            return [leaf for part in rule[key] for leaf in leaves(part)]
    if "not" in rule:
        return leaves(rule["not"])
    return [rule]


def assert_rules_measure_what_they_say(ws: segmint.Workspace, run: ClusterRun) -> None:
    """Evaluate each cluster's rule text on the workspace and compare with the labels."""
    sets = cluster_sets(run)
    for c in run.clusters:
        precision, recall = fidelity(selected(ws, c.rule, run.as_of), sets[c.id])
        assert c.precision == pytest.approx(precision, abs=1e-12), (c.id, c.rule)
        assert c.recall == pytest.approx(recall, abs=1e-12), (c.id, c.rule)


# --- fixtures ------------------------------------------------------------------------


@dataclass
class Blobs:
    root: Path
    truth: pd.Series  # customer_id -> blob
    run: ClusterRun


def make_blob_shop(root: Path, centres: int, seed: int = 0) -> tuple[Path, pd.Series]:
    x, y = make_blobs(
        n_samples=BLOB_CUSTOMERS, centers=GRID[centres], cluster_std=0.5, random_state=seed
    )
    ids = customer_ids(BLOB_CUSTOMERS)
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "created_at": ["2025-01-01T00:00:00Z"] * BLOB_CUSTOMERS,
            "x1": x[:, 0],
            "x2": x[:, 1],
        }
    )
    with segmint.init(root) as ws:
        result = ws.ingest("customers", frame)
        assert result.accepted == BLOB_CUSTOMERS
    return root, pd.Series(y, index=ids)


def blob_run(factory: pytest.TempPathFactory, centres: int) -> Blobs:
    root, truth = make_blob_shop(factory.mktemp(f"blobs{centres}") / "ws", centres)
    with segmint.open(root) as ws:
        run = ws.cluster(features=["x1", "x2"], k_range=(2, 8), as_of=AS_OF)
    return Blobs(root, truth, run)


@pytest.fixture(scope="module")
def blobs3(tmp_path_factory: pytest.TempPathFactory) -> Blobs:
    return blob_run(tmp_path_factory, 3)


@pytest.fixture(scope="module")
def blobs6(tmp_path_factory: pytest.TempPathFactory) -> Blobs:
    return blob_run(tmp_path_factory, 6)


@pytest.fixture(params=[3, 6])
def blobs(request: pytest.FixtureRequest) -> Blobs:
    chosen: Blobs = request.getfixturevalue(f"blobs{request.param}")
    return chosen


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "shop"
    root: Path = build_demo(folder, customers=600, seed=3, end=END).root
    return root


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten customers with a float attribute and page views, but no orders at all."""
    folder = tmp_path_factory.mktemp("small")
    lines = ["customer_id,created_at,score"] + [
        f"C{i:04d},2025-01-0{1 + i % 9}T00:00:00Z,{i * 1.5}" for i in range(10)
    ]
    write_csv(folder / "c.csv", "\n".join(lines))
    events = ["event_id,event,timestamp,customer_id"] + [
        f"E{i},page_view,2026-0{1 + i % 5}-10T00:00:00Z,C{i % 10:04d}" for i in range(30)
    ]
    write_csv(folder / "e.csv", "\n".join(events))
    with segmint.init(folder / "ws") as ws:
        assert ws.ingest("customers", folder / "c.csv").accepted == 10
        assert ws.ingest("events", folder / "e.csv").accepted == 30
    return folder / "ws"


# --- known structure -----------------------------------------------------------------


def test_well_separated_blobs_choose_their_own_number_of_clusters(blobs: Blobs) -> None:
    centres = int(blobs.truth.nunique())
    run = blobs.run
    assert run.k == centres, run.reason
    assert [s.k for s in run.scores] == list(range(2, 9))
    assert run.reason.startswith(f"k={centres} ")
    best = max(run.scores, key=lambda s: s.silhouette)
    assert best.k == centres and best.silhouette > 0.8


def test_labels_are_the_blobs_up_to_renaming(blobs: Blobs) -> None:
    labels = blobs.run.labels
    assert labels is not None
    assert list(labels.columns) == ["customer_id", "cluster"]
    assert labels.customer_id.is_unique and len(labels) == BLOB_CUSTOMERS
    got = labels.set_index("customer_id").cluster.loc[blobs.truth.index]
    assert adjusted_rand_score(blobs.truth.to_numpy(), got.to_numpy()) == pytest.approx(1.0)
    # Cluster 0 is the largest, sizes and shares agree with the labels.
    sizes = [c.size for c in blobs.run.clusters]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes == np.bincount(labels.cluster, minlength=blobs.run.k).tolist()
    assert sum(c.share for c in blobs.run.clusters) == pytest.approx(1.0)
    assert [c.id for c in blobs.run.clusters] == list(range(blobs.run.k))


def test_blob_rules_are_faithful_and_their_fidelity_is_measured_truly(blobs: Blobs) -> None:
    run = blobs.run
    for c in run.clusters:
        assert c.precision is not None and c.recall is not None
        assert c.precision >= 0.95 and c.recall >= 0.95, (c.id, c.rule)
        attrs = {n["attr"] for n in leaves(as_rule(c.rule).to_json())}
        assert attrs and attrs <= {"x1", "x2"}, c.rule
    assert run.rules == {c.id: c.rule for c in run.clusters}
    with segmint.open(blobs.root) as ws:
        assert_rules_measure_what_they_say(ws, run)


def test_a_sample_smaller_than_everyone_still_assigns_everyone(blobs3: Blobs) -> None:
    with segmint.open(blobs3.root) as ws:
        run = ws.cluster(features=["x1", "x2"], k_range=(2, 4), as_of=AS_OF, sample=120, seed=5)
        assert run.params["sample"] == 120 and run.params["customers"] == BLOB_CUSTOMERS
        assert run.k == 3
        assert run.labels is not None and len(run.labels) == BLOB_CUSTOMERS
        got = run.labels.set_index("customer_id").cluster.loc[blobs3.truth.index]
        assert adjusted_rand_score(blobs3.truth.to_numpy(), got.to_numpy()) == pytest.approx(1.0)
        assert_rules_measure_what_they_say(ws, run)


def test_a_run_is_stored_with_one_member_row_per_customer(blobs3: Blobs) -> None:
    run = blobs3.run
    with segmint.open(blobs3.root) as ws:
        con = db(ws)
        count = con.execute(
            "SELECT count(*), count(DISTINCT customer_id) FROM cluster_members WHERE run_id = ?",
            [run.run_id],
        ).fetchone()
        assert count == (BLOB_CUSTOMERS, BLOB_CUSTOMERS)
        per_cluster = dict(
            con.execute(
                "SELECT cluster, count(*) FROM cluster_members WHERE run_id = ? GROUP BY 1",
                [run.run_id],
            ).fetchall()
        )
        assert per_cluster == {c.id: c.size for c in run.clusters}
        stored = con.execute(
            "SELECT customer_id, cluster FROM cluster_members WHERE run_id = ?", [run.run_id]
        ).fetchall()
        assert run.labels is not None
        assert dict(stored) == dict(zip(run.labels.customer_id, run.labels.cluster, strict=True))
        before = con.execute("SELECT count(*) FROM cluster_runs").fetchone()
        again = ws.cluster(features=["x1", "x2"], k=3, as_of=AS_OF)
        after = con.execute("SELECT count(*) FROM cluster_runs").fetchone()
        assert before is not None and after is not None and after[0] == before[0] + 1
        rows = con.execute(
            "SELECT count(*) FROM cluster_members WHERE run_id = ?", [again.run_id]
        ).fetchone()
        assert rows == (BLOB_CUSTOMERS,)
        assert ws.cluster_run(again.run_id).to_json() == again.to_json()


# --- the demo shop -------------------------------------------------------------------


def test_same_seed_gives_the_same_run_under_a_new_id(shop: Path) -> None:
    with segmint.open(shop) as ws:
        first = ws.cluster(as_of=AS_OF, k_range=(3, 6), seed=11, sample=450)
        second = ws.cluster(as_of=AS_OF, k_range=(3, 6), seed=11, sample=450)
    assert first.run_id != second.run_id
    assert first.labels is not None and second.labels is not None
    pd.testing.assert_frame_equal(first.labels, second.labels)
    assert first.k == second.k and first.reason == second.reason
    assert first.scores == second.scores
    assert first.rules == second.rules
    assert [c.name for c in first.clusters] == [c.name for c in second.clusters]
    assert [(c.precision, c.recall) for c in first.clusters] == [
        (c.precision, c.recall) for c in second.clusters
    ]
    assert first.summary() | {"run_id": 0} == second.summary() | {"run_id": 0}


def test_cluster_json_on_the_demo_shop_with_default_features(shop: Path) -> None:
    out = run_cli(shop, "cluster", "--json", "--k-range", "3-6", "--as-of", AS_OF)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) == SUMMARY_KEYS
    assert 3 <= data["k"] <= 6 and len(data["clusters"]) == data["k"]
    assert [c["id"] for c in data["clusters"]] == list(range(data["k"]))
    with segmint.open(shop) as ws:
        everyone = ws.count({"and": []}, AS_OF)
        stored = ws.cluster_run(data["run_id"])
    assert everyone == 600
    assert sum(c["size"] for c in data["clusters"]) == everyone
    names = []
    for c in data["clusters"]:
        assert set(c) == CLUSTER_KEYS
        assert c["size"] > 0
        rule = as_rule(c["rule"])  # the text parses
        assert to_text(rule) == c["rule"]
        assert 0.0 <= c["precision"] <= 1.0 and 0.0 <= c["recall"] <= 1.0
        assert isinstance(c["name"], str) and c["name"].strip()
        names.append(c["name"])
    assert len(set(names)) == len(names)
    assert stored.summary() == data
    assert stored.params["features"] == list(DEFAULT_FEATURES)


def test_default_feature_rules_measure_what_they_say(shop: Path) -> None:
    with segmint.open(shop) as ws:
        run = ws.cluster(as_of=AS_OF, k=4, seed=2)
        assert_rules_measure_what_they_say(ws, run)


def test_list_and_show_give_the_parameters_scores_and_reason(shop: Path) -> None:
    args = ["--json", "--k-range", "3-5", "--sample", "300", "--seed", "4", "--as-of"]
    out = run_cli(shop, "cluster", *args, AS_OF)
    assert out.exit_code == 0, out.output
    run_id = json.loads(out.stdout)["run_id"]
    listed = run_cli(shop, "cluster", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["run_id"] for r in rows] == sorted(r["run_id"] for r in rows)
    row = next(r for r in rows if r["run_id"] == run_id)
    assert row["features"] == list(DEFAULT_FEATURES)
    assert row["seed"] == 4 and row["sample"] == 300 and row["customers"] == 600
    assert row["k_range"] == [3, 5] and row["as_of"] == AS_OF
    shown = run_cli(shop, "cluster", "show", str(run_id), "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert row["k"] == data["k"]
    assert data["run_id"] == run_id and data["params"]["seed"] == 4
    assert [s["k"] for s in data["scores"]] == [3, 4, 5]
    for s in data["scores"]:
        assert -1.0 <= s["silhouette"] <= 1.0 and s["inertia"] > 0
    assert data["reason"].startswith(f"k={data['k']} ")
    assert [c["id"] for c in data["clusters"]] == list(range(data["k"]))
    text = run_cli(shop, "cluster", "list")
    assert text.exit_code == 0 and str(run_id) in text.stdout
    plain = run_cli(shop, "cluster", "show", str(run_id))
    assert plain.exit_code == 0, plain.output
    words = " ".join(plain.stdout.split())  # the console wraps long lines
    assert f"cluster run {run_id}" in words
    assert " ".join(data["reason"].split()) in words
    for c in data["clusters"]:
        assert f"cluster {c['id']} ({c['name']}) as a rule" in words


# --- saving a cluster as a segment ---------------------------------------------------


def test_save_a_cluster_as_a_rule_segment_and_refresh_it(shop: Path) -> None:
    with segmint.open(shop) as ws:
        run = ws.cluster(as_of=AS_OF, k=4, seed=7)
    out = run_cli(shop, "cluster", "save", str(run.run_id), "0", "--name", "from-cluster")
    assert out.exit_code == 0, out.output
    path = shop / "segments" / "from-cluster.yaml"
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))
    cluster = run.cluster(0)
    assert saved["name"] == "from-cluster"
    assert saved["title"] == cluster.name
    assert as_rule(saved["rule"]) == as_rule(cluster.rule)
    assert to_text(as_rule(saved["rule"])) == cluster.rule
    with segmint.open(shop) as ws:
        refreshed = ws.refresh(["from-cluster"], AS_OF)
        (result,) = [r for r in refreshed.runs if r.name == "from-cluster"]
        assert result.status == "ok", result
        assert result.size == ws.count(cluster.rule, AS_OF)
        chosen = selected(ws, cluster.rule, AS_OF)
    assert result.size == len(chosen)
    precision, recall = fidelity(chosen, cluster_sets(run)[0])
    assert precision == pytest.approx(cluster.precision)
    assert recall == pytest.approx(cluster.recall)


def test_save_a_cluster_as_a_static_list_and_replace_it(shop: Path) -> None:
    with segmint.open(shop) as ws:
        run = ws.cluster(as_of=AS_OF, k=3, seed=8)
    args = ["--name", "frozen", "--as", "static", "--title", "Frozen cluster"]
    out = run_cli(shop, "cluster", "save", str(run.run_id), "1", *args)
    assert out.exit_code == 0, out.output
    path = shop / "segments" / "frozen.yaml"
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert saved["title"] == "Frozen cluster"
    rule = as_rule(saved["rule"])
    assert rule.to_json()["attr"] == "customer_id" and rule.to_json()["op"] == "in"
    assert to_text(rule).startswith("customer_id in [")
    members = cluster_sets(run)[1]
    assert sorted(saved["rule"]["value"]) == sorted(members)
    with segmint.open(shop) as ws:
        assert ws.count(rule, run.as_of) == run.cluster(1).size
        assert selected(ws, rule, run.as_of) == members
        refreshed = ws.refresh(["frozen"], AS_OF)
        (result,) = [r for r in refreshed.runs if r.name == "frozen"]
        assert result.status == "ok" and result.size == run.cluster(1).size

    again = run_cli(shop, "cluster", "save", str(run.run_id), "2", "--name", "frozen")
    assert again.exit_code == 2
    assert again.stderr.startswith("error:") and "frozen" in again.stderr
    assert "--replace" in again.stderr
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == saved  # untouched

    replaced = run_cli(
        shop, "cluster", "save", str(run.run_id), "2", "--name", "frozen", "--replace"
    )
    assert replaced.exit_code == 0, replaced.output
    now = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert to_text(as_rule(now["rule"])) == run.cluster(2).rule
    assert now["title"] == run.cluster(2).name


def test_save_through_the_python_api_checks_kind_and_ids(shop: Path) -> None:
    with segmint.open(shop) as ws:
        run_id = latest_run(ws)
        with pytest.raises(SegmintError, match="rule or static"):
            ws.save_cluster(run_id, 0, "never-written", kind="dynamic")
        with pytest.raises(SegmintError, match="no cluster 99"):
            ws.save_cluster(run_id, 99, "never-written")
        with pytest.raises(SegmintError, match="no cluster run"):
            ws.save_cluster(10_000, 0, "never-written")
    assert not (shop / "segments" / "never-written.yaml").exists()


def test_save_with_an_invalid_segment_name_is_a_clean_error(shop: Path) -> None:
    with segmint.open(shop) as ws:
        run_id = latest_run(ws)
    out = run_cli(shop, "cluster", "save", str(run_id), "0", "--name", "Bad Name")
    assert out.exit_code == 2, out.output
    assert out.stderr.startswith("error:") and "name" in out.stderr


# --- categories and mixed attribute types --------------------------------------------


def test_a_category_feature_shapes_and_explains_the_clusters(ws: segmint.Workspace) -> None:
    rng = np.random.default_rng(1)
    n = 300
    tier = np.where(rng.random(n) < 0.4, "gold", "basic")
    spend = np.where(tier == "gold", rng.normal(500, 30, n), rng.normal(50, 10, n))
    ids = customer_ids(n)
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "created_at": ["2025-01-01T00:00:00Z"] * n,
            "tier": tier,
            "spend": spend,
        }
    )
    ws.ingest("customers", frame)
    catalog = ws.evaluator().catalog.attributes
    assert catalog["tier"].type == "string" and catalog["spend"].type == "float"
    run = ws.cluster(features=["tier", "spend"], k_range=(2, 4), as_of=AS_OF)
    assert run.k == 2, run.reason
    assert run.encoding["tier"]["kind"] == "category"
    assert set(run.encoding["tier"]["levels"]) == {"gold", "basic"}
    gold_ids = {i for i, t in zip(ids, tier, strict=True) if t == "gold"}
    sets = cluster_sets(run)
    (gold,) = [c for c in run.clusters if sets[c.id] == gold_ids]
    profile = next(f for f in gold.features if f.feature == "tier")
    assert profile.value == "gold" and profile.mean == pytest.approx(1.0)
    assert profile.overall == pytest.approx(len(gold_ids) / n)
    assert "gold" in profile.describe()
    spend_profile = next(f for f in gold.features if f.feature == "spend")
    assert spend_profile.mean == pytest.approx(spend[tier == "gold"].mean())
    assert "tier" in gold.rule
    assert gold.precision == 1.0 and gold.recall == 1.0
    assert selected(ws, gold.rule, AS_OF) == gold_ids
    assert ws.count('tier = "gold"', AS_OF) == gold.size
    assert_rules_measure_what_they_say(ws, run)


def test_mixed_attribute_types_with_missing_values_give_honest_rules(
    ws: segmint.Workspace,
) -> None:
    rng = np.random.default_rng(4)
    n = 360
    group = rng.integers(0, 3, n)
    visits = (np.array([2, 12, 30])[group] + rng.integers(0, 3, n)).astype("int64")
    spend = np.array([20.0, 150.0, 900.0])[group] * rng.uniform(0.8, 1.2, n)
    member = group > 0
    plans = np.array(["free", "plus", "pro"])[group].astype(object)
    plans[rng.random(n) < 0.1] = None  # some customers without a plan
    regions = np.array([f"r{i}" for i in range(14)])[rng.integers(0, 14, n)]  # > 10 values
    frame = pd.DataFrame(
        {
            "customer_id": customer_ids(n),
            "created_at": ["2025-01-01T00:00:00Z"] * n,
            "visits": visits,
            "spend": spend,
            "member": member,
            "plan": plans,
            "region": regions,
        }
    )
    ws.ingest("customers", frame)
    types = {k: v.type for k, v in ws.evaluator().catalog.attributes.items()}
    assert [types[f] for f in ("visits", "spend", "member", "plan", "region")] == [
        "integer",
        "float",
        "bool",
        "string",
        "string",
    ]
    features = ["visits", "spend", "member", "plan", "region"]
    run = ws.cluster(features=features, k_range=(3, 5), as_of=AS_OF, seed=3)
    assert run.encoding["region"]["levels"][-1] == "(other)"
    assert "(missing)" in run.encoding["plan"]["levels"]
    assert any("plan" in w for w in run.warnings)
    for c in run.clusters:
        as_rule(c.rule)
        assert c.rule_size is not None and c.rule_size >= 1
    assert_rules_measure_what_they_say(ws, run)


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--features", "orders_cont"], ["'orders_cont'", "did you mean 'orders_count'"]),
        (["--features", "score,no_such_thing"], ["'no_such_thing'", "unknown feature"]),
        (["--features", "first_order_at"], ["'first_order_at'", "timestamp"]),
        (["--features", "score,score"], ["'score'", "twice"]),
        (["--features", "score", "--k", "50"], ["k=50", "10"]),
        (["--features", "score", "--k-range", "2-10"], ["k=10", "10"]),
        (["--features", "score", "--k", "3", "--k-range", "2-4"], ["--k", "--k-range"]),
        (["--features", "score", "--k-range", "3to8"], ["--k-range", "'3to8'"]),
        (["--features", "score", "--k-range", "3-"], ["--k-range", "'3-'"]),
        (["--features", "score", "--k-range", "6-3"], ["6-3", "empty"]),
        (["--features", "score", "--k", "1"], ["--k: must be between 2 and 50", "1"]),
        (["--features", "score", "--k-range", "1-3"], ["--k-range: must be between 2 and 50"]),
        (["--features", "score", "--sample", "1"], ["sample"]),
        (["--features", "score", "--as-of", "2024-01-01T00:00:00Z"], ["no customers"]),
        (["--features", "score", "--as-of", "yesterday"], ["yesterday"]),
        ([], ["order"]),
        (["--features", "orders_count,score"], ["order", "orders_count"]),
    ],
)
def test_bad_cluster_input_is_one_error_line_and_stores_nothing(
    small: Path, args: list[str], words: list[str]
) -> None:
    before = runs_stored(small)
    as_of = [] if "--as-of" in args else ["--as-of", AS_OF]
    out = run_cli(small, "cluster", *args, *as_of)
    assert out.exit_code == 2, out.output
    assert out.stdout == ""
    assert out.stderr.startswith("error: ")
    assert out.stderr.count("\n") == 1, out.stderr
    for word in words:
        assert word in out.stderr, out.stderr
    assert runs_stored(small) == before


def test_without_orders_the_suggested_features_work(small: Path) -> None:
    args = ["--json", "--features", "tenure_days,days_since_last_seen", "--k", "2"]
    out = run_cli(small, "cluster", *args, "--as-of", AS_OF)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["k"] == 2 and sum(c["size"] for c in data["clusters"]) == 10


def test_the_python_api_raises_segmint_errors(small: Path) -> None:
    with segmint.open(small) as ws:
        with pytest.raises(SegmintError, match="orders_cont"):
            ws.cluster(features=["orders_cont"], as_of=AS_OF)
        with pytest.raises(SegmintError, match="not both"):
            ws.cluster(features=["score"], k=3, k_range=(2, 4), as_of=AS_OF)
        with pytest.raises(SegmintError, match="k=50"):
            ws.cluster(features=["score"], k=50, as_of=AS_OF)


def test_unknown_runs_and_clusters_are_refused(small: Path) -> None:
    made = run_cli(small, "cluster", "--json", "--features", "score", "--k", "2", "--as-of", AS_OF)
    assert made.exit_code == 0, made.output
    run_id = json.loads(made.stdout)["run_id"]
    missing = str(run_id + 100)
    for args, words in [
        (["show", missing], ["no cluster run", missing]),
        (["show", missing, "--json"], ["no cluster run", missing]),
        (["save", missing, "0", "--name", "x"], ["no cluster run", missing]),
        (["save", str(run_id), "7", "--name", "x"], ["no cluster 7"]),
    ]:
        out = run_cli(small, "cluster", *args)
        assert out.exit_code == 2, (args, out.output)
        assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1
        for word in words:
            assert word in out.stderr, out.stderr
    bad_kind = run_cli(small, "cluster", "save", str(run_id), "0", "--name", "x", "--as", "dyn")
    assert bad_kind.exit_code == 2
    assert "--as" in bad_kind.output and "dyn" in bad_kind.output
    assert not (small / "segments" / "x.yaml").exists()


def test_list_with_no_runs(tmp_path: Path) -> None:
    segmint.init(tmp_path / "ws").close()
    listed = run_cli(tmp_path / "ws", "cluster", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    text = run_cli(tmp_path / "ws", "cluster", "list")
    assert text.exit_code == 0 and "no cluster runs" in text.stdout


def test_a_sample_smaller_than_k_names_the_sample(small: Path) -> None:
    out = run_cli(
        small, "cluster", "--features", "score", "--k", "5", "--sample", "4", "--as-of", AS_OF
    )
    assert out.exit_code == 2
    assert "sample" in out.stderr, out.stderr


# --- degenerate data -----------------------------------------------------------------


def flat_shop(root: Path, values: Iterable[float]) -> segmint.Workspace:
    data = list(values)
    ws = segmint.init(root)
    frame = pd.DataFrame(
        {
            "customer_id": customer_ids(len(data)),
            "created_at": ["2025-01-01T00:00:00Z"] * len(data),
            "level": data,
        }
    )
    ws.ingest("customers", frame)
    return ws


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_feature_that_is_the_same_for_everyone_is_a_clean_error(tmp_path: Path) -> None:
    with flat_shop(tmp_path / "ws", [1.0] * 40) as ws, pytest.raises(SegmintError):
        ws.cluster(features=["level"], k=2, as_of=AS_OF)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_no_cluster_of_a_run_is_empty(tmp_path: Path) -> None:
    with flat_shop(tmp_path / "ws", [0.0] * 20 + [1.0] * 20) as ws:
        try:
            run = ws.cluster(features=["level"], k=3, as_of=AS_OF)
        except SegmintError:
            return  # refusing the k is as good
        assert all(c.size > 0 for c in run.clusters), [(c.size, c.rule) for c in run.clusters]


# --- pictures ------------------------------------------------------------------------


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG, path
    assert len(data) > 5_000, (path, len(data))


def test_plot_dir_writes_centres_and_projection(blobs3: Blobs, tmp_path: Path) -> None:
    folder = tmp_path / "pictures" / "run"
    args = ["--features", "x1,x2", "--k", "3", "--as-of", AS_OF, "--plot-dir", str(folder)]
    out = run_cli(blobs3.root, "cluster", *args)
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in folder.iterdir()) == ["centres.png", "projection.png"]
    assert_png(folder / "centres.png")
    assert_png(folder / "projection.png")
    assert "centres.png" in out.stdout


def test_plot_dir_with_a_single_feature(blobs3: Blobs, tmp_path: Path) -> None:
    with segmint.open(blobs3.root) as ws:
        run = ws.cluster(features=["x1"], k=3, as_of=AS_OF, plot_dir=tmp_path / "one")
    assert run.k == 3
    assert_png(tmp_path / "one" / "centres.png")
    assert_png(tmp_path / "one" / "projection.png")


def test_shares_and_sizes_are_consistent(blobs6: Blobs) -> None:
    run = blobs6.run
    total = sum(c.size for c in run.clusters)
    assert total == BLOB_CUSTOMERS
    for c in run.clusters:
        assert math.isclose(c.share, c.size / total)
        means = {f.feature: f.mean for f in c.features}
        assert set(means) == {"x1", "x2"}


def test_rename_overrides_the_suggested_name_and_becomes_the_saved_title(blobs3: Blobs) -> None:
    with segmint.open(blobs3.root) as ws:
        fresh = ws.cluster(features=["x1", "x2"], k=3, as_of=AS_OF)  # a run of its own
    run_id = fresh.run_id
    done = run_cli(blobs3.root, "cluster", "rename", str(run_id), "1", "  north-east blob ")
    assert done.exit_code == 0, done.output
    with segmint.open(blobs3.root) as ws:
        stored = ws.cluster_run(run_id)
        assert stored.cluster(1).name == "north-east blob"
        assert [c.name for c in stored.clusters if c.id != 1] == [
            c.name for c in fresh.clusters if c.id != 1
        ]
        path = ws.save_cluster(run_id, 1, "ne-blob", replace=True)
    assert yaml.safe_load(path.read_text())["title"] == "north-east blob"
    taken = stored.cluster(0).name
    clash = run_cli(blobs3.root, "cluster", "rename", str(run_id), "1", taken)
    assert clash.exit_code == 2 and "already named" in clash.stderr
    empty = run_cli(blobs3.root, "cluster", "rename", str(run_id), "1", " ")
    assert empty.exit_code == 2 and "empty" in empty.stderr
    with segmint.open(blobs3.root) as ws:
        assert ws.cluster_run(run_id).cluster(1).name == "north-east blob"


def test_plot_dir_without_matplotlib_is_refused_before_any_work(
    blobs3: Blobs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An import of a module set to None in sys.modules fails, as if it were not installed.
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    before = runs_stored(blobs3.root)
    args = ["--features", "x1,x2", "--k", "3", "--plot-dir", str(tmp_path / "p")]
    out = run_cli(blobs3.root, "cluster", *args, "--as-of", AS_OF)
    assert out.exit_code == 2
    assert "--plot-dir needs matplotlib" in out.stderr
    assert runs_stored(blobs3.root) == before and not (tmp_path / "p").exists()


def test_a_static_list_above_the_limit_is_refused(
    blobs3: Blobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmint.cluster import runs

    run = blobs3.run
    biggest = max(run.clusters, key=lambda c: c.size)
    monkeypatch.setattr(runs, "STATIC_LIMIT", biggest.size - 1)
    with segmint.open(blobs3.root) as ws:
        with pytest.raises(SegmintError, match="--as rule"):
            ws.save_cluster(run.run_id, biggest.id, "too-big", "static")
        assert "too-big" not in ws.segments.files()
        smallest = min(run.clusters, key=lambda c: c.size)
        ws.save_cluster(run.run_id, smallest.id, "small-enough", "static", replace=True)
        assert ws.count("in segment small-enough", as_of=run.as_of) == smallest.size


def test_four_groups_are_not_split_to_reach_the_zone(tmp_path: Path) -> None:
    """Four groups, one wider: k=6 comes within the margin of k=4 (0.71 against 0.75), but
    the silhouette is strong and the elbow agrees, so the run keeps the four groups."""
    centres = [(0.0, 0.0), (6.0, 0.0), (0.0, 6.0), (6.0, 6.0)]
    x, y = make_blobs(
        n_samples=BLOB_CUSTOMERS, centers=centres, cluster_std=[0.5, 0.5, 0.5, 1.5], random_state=0
    )
    ids = customer_ids(BLOB_CUSTOMERS)
    frame = pd.DataFrame(
        {"customer_id": ids, "created_at": "2025-01-01T00:00:00Z", "x1": x[:, 0], "x2": x[:, 1]}
    )
    with segmint.init(tmp_path / "ws") as ws:
        ws.ingest("customers", frame)
        run = ws.cluster(features=["x1", "x2"], k_range=(2, 8), as_of=AS_OF)
    assert run.k == 4, run.reason
    assert "strong structure" in run.reason and "elbow is at k=4 too" in run.reason
    got = run.labels.set_index("customer_id").cluster.loc[ids]
    assert adjusted_rand_score(y, got.to_numpy()) > 0.95
