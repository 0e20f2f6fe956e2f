"""A full disk: every write path fails with one line saying so and that the workspace is
unchanged, and that is true (every table compared); with space freed it works again.

The workspace lives on a small tmpfs that the test mounts (it needs root and a kernel
that allows it; otherwise the tests are skipped with the reason). A write that fits the
space left must simply succeed: the message is checked only when the command failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import segmint
from tests.faults.harness import snapshot

pytestmark = pytest.mark.slow

MB = 2**20


def _mount(point: Path, size_mb: int) -> str | None:
    """Mount a tmpfs at ``point``; the reason when that is not possible."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return "mounting a small tmpfs needs root and mount(8)"
    point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if done.returncode == 0 else f"cannot mount a tmpfs: {done.stderr.strip()}"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "disk"
    reason = _mount(point, 40)
    if reason:
        pytest.skip(reason)
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """A file that takes all the free space of ``disk`` but ``leave`` bytes."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with filler.open("ab") as fh:
        fh.write(b"\0" * max(free - leave, 0))
    return filler


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "segmint", "-w", str(root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def events_csv(path: Path, rows: int, prefix: str) -> Path:
    duckdb.connect().execute(
        f"COPY (SELECT '{prefix}' || i AS event_id, ['page_view','app_open'][1 + i % 2] AS "
        "event, TIMESTAMPTZ '2025-06-01 00:00:00+00' + to_seconds(i * 30) AS timestamp, "
        f"'C' || (i % 20000) AS customer_id, 'web' || (i % 3) AS channel FROM range({rows}) "
        f"t(i)) TO '{path}' (HEADER)"
    )
    return path


@pytest.fixture
def shop(small_disk: Path, tmp_path: Path) -> Path:
    root = small_disk / "ws"
    with segmint.init(root) as ws:
        ws.ingest("events", events_csv(tmp_path / "base.csv", 60_000, "B"))
        ws.add_segment("active", "did page_view at least 2 times in last 400 days")
    return root


def check_full(root: Path, disk: Path, args: list[str], leaves: list[int]) -> int:
    """Run ``args`` with each amount of space left; returns how many runs failed."""
    failures = 0
    for leave in leaves:
        before = snapshot(root)
        filler = fill(disk, leave)
        done = cli(root, *args)
        filler.unlink()
        if done.returncode == 0:
            continue  # it fitted; nothing to check but that it worked
        failures += 1
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert lines[0].startswith("error: no space left on device"), lines[0]
        assert "unchanged" in lines[0]
        assert snapshot(root) == before, f"{args} with {leave:,} bytes left changed the store"
        assert not [p for p in root.rglob(".*.tmp")], "a temporary file was left behind"
    done = cli(root, *args)  # with the space back, it works
    assert done.returncode == 0, done.stderr
    return failures


def test_a_load_on_a_full_disk(shop: Path, small_disk: Path, tmp_path: Path) -> None:
    big = events_csv(tmp_path / "big.csv", 300_000, "N")
    failed = check_full(shop, small_disk, ["ingest", "events", str(big)], [MB, 8 * MB, 20 * MB])
    assert failed >= 2


def test_a_refresh_on_a_full_disk(shop: Path, small_disk: Path) -> None:
    args = ["refresh", "--as-of", "2026-01-01T00:00:00Z"]
    assert check_full(shop, small_disk, args, [0, 64 * 1024]) >= 1


def test_optimize_on_a_full_disk(shop: Path, small_disk: Path) -> None:
    assert check_full(shop, small_disk, ["optimize", "--force"], [0, 256 * 1024, MB]) >= 1


def test_a_cluster_run_on_a_full_disk(shop: Path, small_disk: Path) -> None:
    args = ["cluster", "--k", "3", "--as-of", "2026-01-01T00:00:00Z", "--sample", "2000"]
    args += ["--features", "days_since_last_seen,tenure_days"]
    assert check_full(shop, small_disk, args, [0, 16 * 1024]) >= 1


def test_segment_add_on_a_full_disk(shop: Path, small_disk: Path) -> None:
    args = ["segment", "add", "--name", "apps", "--rule", "did app_open in last 30 days"]
    assert check_full(shop, small_disk, args, [0]) == 1
    assert (shop / "segments" / "apps.yaml").is_file()
