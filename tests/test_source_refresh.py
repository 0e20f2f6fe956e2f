"""Refresh, history, overlap, quality and the review on a source: the members and the
entries and exits live in the source's engine (store/source_segments.py), and every
figure equals the embedded store's on the same shop (tests/test_source_mode.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import segmint
from segmint.store.txn import KILL_AT_ENV
from tests.engines import drop
from tests.test_source_mode import AS_OF, _arrow, _source_workspace, embedded, shop

__all__ = ["embedded", "shop"]  # fixtures shared with tests/test_source_mode.py

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

SEGMENTS = {
    "us": 'country = "US"',
    "shoe-buyers": 'did purchase where category = "shoes" in last 60 days',
    "recent": "days_since_last_seen <= 30",
    # A reference to a segment refreshed in the same run: a second level.
    "us-shoe-buyers": "in segment us and in segment shoe-buyers",
    # A CLV trait (from recency alone where the models cannot be fitted, as here): the
    # fit at each as_of, its predictions on the source.
    "fading": 'churn_risk = "high"',
}
EARLIER = AS_OF - timedelta(days=45)


def _save_all(ws: segmint.Workspace) -> None:
    for name, rule in SEGMENTS.items():
        ws.add_segment(name, rule)


def _runs(ws: segmint.Workspace, as_of: Any) -> dict[str, tuple[Any, ...]]:
    result = ws.refresh(as_of=as_of)
    assert not result.failed, [(r.name, r.error) for r in result.failed]
    return {r.name: (r.status, r.size, r.entered, r.exited, r.version) for r in result.runs}


def _figures(ws: segmint.Workspace) -> dict[str, Any]:
    """Everything a user reads of the refreshed segments."""
    sizes, pairs = ws.overlap()
    history = {name: ws.history(name).to_pylist() for name in SEGMENTS}
    quality = {
        q.name: (q.size, q.customers, q.status, [(c.check, c.ok, c.value) for c in q.checks])
        for q in ws.quality()
        if q.name
    }
    review = ws.review()
    return {
        "sizes": sizes,
        "pairs": [(p.a, p.b, p.both, round(p.jaccard, 9)) for p in pairs],
        "history": history,
        "quality": {k: _without_age(v) for k, v in quality.items()},
        "findings": sorted((f.kind, tuple(f.segments)) for f in review.findings),
        "report": ws.segment_report("us").size,
    }


def _without_age(value: tuple[Any, ...]) -> tuple[Any, ...]:
    size, customers, status, checks = value
    # "fresh" measures the seconds since the refresh ended: not a figure to compare.
    return size, customers, status, [c for c in checks if c[0] != "fresh"]


@pytest.fixture(scope="module")
def expected(embedded: segmint.Workspace) -> dict[str, Any]:
    _save_all(embedded)
    first, second = _runs(embedded, EARLIER), _runs(embedded, AS_OF)
    return {"runs": (first, second), **_figures(embedded)}


def _check(ws: segmint.Workspace, expected: dict[str, Any]) -> None:
    ws.refresh_catalog()
    _save_all(ws)
    assert (_runs(ws, EARLIER), _runs(ws, AS_OF)) == expected["runs"]
    got = _figures(ws)
    for key, want in got.items():
        assert want == expected[key], key


@pytest.fixture
def pg_shop(postgres_url: str, shop: Any) -> Iterator[Any]:
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened)
    engine.run("ALTER TABLE shop_events ALTER COLUMN props TYPE jsonb USING props::jsonb")
    yield engine
    for table in ("shop_customers", "shop_events"):
        drop(engine, f"DROP TABLE IF EXISTS {table} CASCADE")
    drop(engine, "DROP SCHEMA IF EXISTS segmint CASCADE")
    engine.con.close()


@pytest.mark.postgres
def test_a_refresh_on_postgres_stores_what_the_embedded_store_stores(
    pg_shop: Any, postgres_url: str, expected: dict[str, Any], tmp_path: Path
) -> None:
    with _source_workspace(tmp_path / "pg", postgres_url) as ws:
        _check(ws, expected)
    # The members and the history are in the engine, in segmint's schema.
    tables = pg_shop.to_arrow(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'segmint'"
    ).column(0)
    assert {"segment_members", "segment_changes"} <= set(tables.to_pylist())
    # Only the current members are kept: one version per refresh that holds them.
    kept = pg_shop.scalar("SELECT count(DISTINCT v) FROM segmint.segment_members")
    assert kept == 1


@pytest.mark.spark
def test_a_refresh_on_spark_stores_what_the_embedded_store_stores(
    spark: Any, shop: Any, expected: dict[str, Any], tmp_path: Path
) -> None:
    from segmint.engine.spark import SparkEngine

    engine = SparkEngine(spark)
    people, happened = _arrow(shop)
    engine.create_table("shop_customers", people)
    engine.create_table("shop_events", happened)
    try:
        with _source_workspace(tmp_path / "spark", "spark") as ws:
            _check(ws, expected)
        # (the activity table, built by the catalog refresh, has versions of its own)
        state = tmp_path / "spark" / "source-state"
        versions = sorted(p.name for p in state.glob("segment_*/v=*"))
        assert versions == ["v=1", "v=2", "v=2"], versions  # changes 1 and 2, members 2
    finally:
        engine.drop_table("shop_customers")
        engine.drop_table("shop_events")


def _cli(root: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != KILL_AT_ENV}
    if kill_at:
        env[KILL_AT_ENV] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "segmint", "-w", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    "point",
    [
        "refresh:source-members-written",
        "refresh:before-commit",
        "refresh:after-commit",
        "refresh:after-checkpoint",
    ],
)
def test_a_killed_refresh_on_a_source_is_the_old_state_or_the_new(
    pg_shop: Any, postgres_url: str, expected: dict[str, Any], tmp_path: Path, point: str
) -> None:
    """Killed after the engine holds the new members (and their changes) but before the
    workspace records the refresh, nothing of it is read: the segments show their earlier
    refresh, and the next refresh gives what an unbroken one gives. (Killed between the
    commit and the checkpoint, the workspace drops its log on the next open, store/txn.py:
    the earlier refresh again. Killed after the checkpoint, it is the new one.)"""
    root = tmp_path / "ws"
    _source_workspace(root, postgres_url).close()
    with segmint.open(root) as ws:
        ws.refresh_catalog()
        _save_all(ws)
        assert _runs(ws, EARLIER) == expected["runs"][0]
        before = {name: ws.history(name).to_pylist() for name in SEGMENTS}
        sizes_before = ws.overlap()[0]
    killed = _cli(root, "refresh", "--as-of", AS_OF.isoformat(), kill_at=point)
    assert killed.returncode == -9, killed.stderr
    with segmint.open(root) as ws:
        if point == "refresh:after-checkpoint":
            assert ws.overlap()[0] == expected["sizes"]
            assert {n: ws.history(n).to_pylist() for n in SEGMENTS} == expected["history"]
            return
        assert ws.overlap()[0] == sizes_before
        assert {name: ws.history(name).to_pylist() for name in SEGMENTS} == before
        assert _runs(ws, AS_OF) == expected["runs"][1]
        assert _figures(ws) | {"report": expected["report"]} == {
            k: v for k, v in expected.items() if k != "runs"
        }


def test_the_expected_figures_are_not_empty(expected: dict[str, Any]) -> None:
    """The comparison above compares something: members, exits, a second level, pairs."""
    _, second = expected["runs"]
    assert all(run[1] > 0 for run in second.values()), second
    assert sum(run[3] for run in second.values()) > 0  # someone exited
    assert second["us-shoe-buyers"][1] < second["shoe-buyers"][1]
    assert any(both > 0 for _, _, both, _ in expected["pairs"])
    assert all(expected["history"][name] for name in SEGMENTS)


@pytest.mark.postgres
def test_a_segment_whose_query_fails_on_the_source_fails_alone(
    pg_shop: Any, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared query of a level fails; each segment then runs alone, and only the one
    whose query fails is marked failed, with the engine's first line."""
    import ibis

    from segmint.segments import refresh as refresh_module

    original = refresh_module._SourcePlan._expression

    def expression(self: Any, names: list[str]) -> Any:
        if "broken" in names:
            return ibis.table({"pid": "string", "s0": "boolean"}, name="no_such_table")
        return original(self, names)

    monkeypatch.setattr(refresh_module._SourcePlan, "_expression", expression)
    with _source_workspace(tmp_path / "pg", postgres_url) as ws:
        ws.refresh_catalog()
        ws.add_segment("us", SEGMENTS["us"])
        ws.add_segment("broken", "vip = true")
        result = ws.refresh(as_of=AS_OF)
        runs = {r.name: r for r in result.runs}
        assert runs["us"].status == "ok" and runs["us"].size == 33
        assert runs["broken"].status == "failed"
        assert "no_such_table" in str(runs["broken"].error)
        assert ws.overlap(["us"])[0] == {"us": 33}


@pytest.mark.postgres
def test_members_stream_from_the_source_to_a_file(
    pg_shop: Any, postgres_url: str, embedded: segmint.Workspace, tmp_path: Path
) -> None:
    """``segment members`` writes a source's members as the engine returns them (batches
    from a server-side cursor), the same file the embedded store writes."""
    from typer.testing import CliRunner

    from segmint.activation.files import write_members
    from segmint.cli import app

    root = tmp_path / "pg"
    _source_workspace(root, postgres_url).close()
    with segmint.open(root) as ws:
        ws.refresh_catalog()
        reader = ws.members('country = "US"', AS_OF, "batches", ["age"])
        assert reader.schema.names == ["customer_id", "age"]
        assert sum(b.num_rows for b in reader) == 33
        empty = ws.members('country = "none"', AS_OF, "batches")
        assert [b.num_rows for b in empty] == [0]
    runner = CliRunner()
    args = ["segment", "members", "--rule", 'country = "US"', "--as-of", AS_OF.isoformat()]
    for fmt in ("csv", "jsonl", "parquet"):
        got, want = tmp_path / f"source.{fmt}", tmp_path / f"embedded.{fmt}"
        done = runner.invoke(app, ["-w", str(root), *args, "--format", fmt, "-o", str(got)])
        assert done.exit_code == 0, done.output
        assert "wrote 33 members" in done.output
        # The embedded workspace is open in this process: its stream, the same writer.
        stream = embedded.members('country = "US"', AS_OF, "batches")
        assert write_members(stream, fmt, want, sys.stdout) == 33
        assert got.read_bytes() == want.read_bytes(), fmt


@pytest.mark.postgres
def test_an_export_from_the_source_is_the_embedded_stores_export(
    pg_shop: Any, postgres_url: str, shop: Any, tmp_path: Path
) -> None:
    """The members stream from PostgreSQL into the workspace, where the checks, the
    layout, the delta and the ledger are the embedded store's: the same files."""
    from tests.test_source_mode import _embedded_store

    root = tmp_path / "pg"
    _source_workspace(root, postgres_url).close()
    local = _embedded_store(tmp_path / "local", *shop)
    with segmint.open(root) as ws, local:
        ws.refresh_catalog()
        for each in (ws, local):
            each.add_segment("us-export", SEGMENTS["us"])
            each.suppress(["c003"])
        for delta in (False, True):
            options: dict[str, Any] = {"as_of": AS_OF, "columns": ["age", "vip"], "delta": delta}
            got = ws.export("us-export", "csv", tmp_path / f"pg-{delta}.csv", **options)
            want = local.export("us-export", "csv", tmp_path / f"local-{delta}.csv", **options)
            assert got.file.read_bytes() == want.file.read_bytes()
            assert (got.members, got.exported, got.left_out) == (
                want.members,
                want.exported,
                want.left_out,
            )
        assert got.members == 33 and (got.added, got.removed) == (0, 0)
        assert [e["delta"] for e in ws.export_history()] == [False, True]
