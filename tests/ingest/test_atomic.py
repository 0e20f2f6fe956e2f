"""A load lands whole or not at all: killed mid-way or failing mid-way, nothing changes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import segmint
from segmint.ingest.duckdb import events as events_module
from tests.conftest import db, write_csv


def snapshot(ws_dir: Path) -> tuple[object, ...]:
    with segmint.open(ws_dir) as ws:
        stats = ws.stats()
        props = db(ws).execute("SELECT count(*) FROM event_properties").fetchone()
    return (*stats.values(), props)


def big_events_csv(path: Path, rows: int) -> Path:
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'E' || i AS event_id, 'page_view' AS event, "
        f"TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i) AS timestamp, "
        f"'C' || (i % 50000) AS customer_id, 'cat' || (i % 7) AS category "
        f"FROM range({rows}) t(i)) TO '{path}' (HEADER)"
    )
    return path


@pytest.mark.slow
def test_a_load_killed_mid_way_leaves_the_workspace_as_before(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    segmint.init(ws_dir).close()
    small = write_csv(
        tmp_path / "small.csv", "event_id,event,timestamp,customer_id\nS1,x,2024-01-01,C1"
    )
    with segmint.open(ws_dir) as ws:
        ws.ingest("events", small)
    before = snapshot(ws_dir)
    big = big_events_csv(tmp_path / "big.csv", 3_000_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "segmint", "-w", str(ws_dir), "ingest", "events", str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2.5)
    assert proc.poll() is None, "the load finished before it could be killed; use more rows"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert snapshot(ws_dir) == before
    assert not list((ws_dir / "rejects").iterdir())
    assert list((ws_dir / "tmp").glob("load-*")), "the killed load should have left scratch"
    with segmint.open(ws_dir) as ws:  # and the workspace still takes loads
        assert ws.ingest("events", small).duplicates == 1
    # The killed load's scratch files are cleared by the next load.
    assert not list((ws_dir / "tmp").glob("load-*"))


def test_a_load_failing_mid_way_changes_nothing(
    ws: segmint.Workspace, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(files / "e.csv", "event,timestamp,customer_id,size\nx,2024-01-01,C1,3\ny,bad,C2,4")
    before = tuple(ws.stats().values())

    def fail(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(events_module, "widen_activity", fail)
    with pytest.raises(segmint.IngestError, match="nothing was loaded: disk full"):
        ws.ingest("events", files / "e.csv")
    assert tuple(ws.stats().values()) == before
    assert db(ws).execute("SELECT count(*) FROM event_properties").fetchone() == (0,)
    assert not list((ws.root / "rejects").iterdir())
