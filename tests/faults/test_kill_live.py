"""A live update (segments/live.py) killed at each point of its transaction leaves the
membership, its history and the refresh record as they were before or as after, never
between (its write path: the entries and exits of the touched profiles)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import segmint
from segmint.store.txn import KILL_AT_ENV
from tests.faults.harness import snapshot

# At a fixed instant, so that two runs record the same history.
UPDATE = """
import sys, segmint
from datetime import datetime, UTC
with segmint.open(sys.argv[1]) as ws:
    ws.update_live([f"U{i}" for i in range(0, 400, 2)], [], [], datetime(2026, 6, 1, tzinfo=UTC))
"""


def _base(root: Path) -> Path:
    ws = segmint.init(root)
    ws.ingest_messages(
        [{"type": "identify", "userId": f"U{i}", "traits": {"plan": "free"}} for i in range(400)]
    )
    ws.add_segment("pros", 'plan = "pro"', live=True)
    ws.refresh(["pros"], as_of="2026-01-01T00:00:00Z")
    # Half of them turn pro: the live update moves 200 customers into the segment.
    ws.ingest_messages(
        [
            {"type": "identify", "userId": f"U{i}", "traits": {"plan": "pro"}}
            for i in range(0, 400, 2)
        ]
    )
    ws.close()
    return root


def _update(root: Path, kill_at: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != KILL_AT_ENV}
    if kill_at:
        env[KILL_AT_ENV] = kill_at
    done = subprocess.run(
        [sys.executable, "-c", UPDATE, str(root)], env=env, capture_output=True, timeout=120
    )
    return done.returncode


def test_a_killed_live_update_leaves_the_membership_before_or_after(tmp_path: Path) -> None:
    base = _base(tmp_path / "base")
    before = snapshot(base)
    full = tmp_path / "full"
    shutil.copytree(base, full)
    assert _update(full, None) == 0
    after = snapshot(full, volatile=False)
    assert after != snapshot(base, volatile=False), "the update changed nothing"
    for point in ("live:before-commit", "live:after-commit", "live:after-checkpoint"):
        target = tmp_path / "killed"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(base, target)
        assert _update(target, point) == -9, point
        state = snapshot(target)
        if point == "live:before-commit":
            assert state == before, point
        elif point == "live:after-checkpoint":
            assert snapshot(target, volatile=False) == after, point
        else:  # committed but not checkpointed: the commit marker rolls it back, or not
            assert state == before or snapshot(target, volatile=False) == after, point
