"""Fault injection: run a real ``segmint`` command, kill it with SIGKILL at a chosen point,
open the workspace again and compare every table with the states before and after.

Two ways to pick the point:
- a named kill point in the code (``segmint.store.txn.kill_point``: ``<path>:before-commit``,
  ``<path>:after-commit``, ``ingest:before-rejects-rename``), set through ``SEGMINT_KILL_AT``;
- inside COMMIT: the parent watches the write-ahead log and kills the child once the log
  holds at least N bytes (DuckDB writes the log during COMMIT, so N > 0 means mid-commit),
  or a few milliseconds after the log stopped growing (the checkpoint that follows).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segmint
from segmint.store.txn import KILL_AT_ENV
from tests.conftest import db

# Columns that hold the wall-clock time or duration of a write: two runs of the same write
# differ there, so the "after" comparison leaves them out (the "before" one keeps them all).
VOLATILE: dict[str, set[str]] = {
    "loads": {"started_at", "finished_at", "rejects_file"},
    "profiles": {"updated_at"},
    "identity_merges": {"merged_at"},
    "refreshes": {"started_at", "seconds"},
    "segment_versions": {"seen_at"},
    "segment_state": {"retired_at"},
    "cluster_runs": {"created_at", "seconds", "result"},
    "clv_fits": {"created_at"},
    "exports": {"exported_at"},
    "suppressions": {"added_at"},
    "campaigns": {"created_at"},
    # A new key is random: its hash and prefix differ on every run, like its time.
    "api_keys": {"key_hash", "prefix", "created_at"},
}

Snapshot = dict[str, Any]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def snapshot(ws_dir: Path, volatile: bool = True) -> Snapshot:
    """A checksum of every table (count and an order-free sum of row hashes) and of the
    files in ``rejects/`` and ``segments/``; ``volatile=False`` leaves out VOLATILE columns
    and the rejects files' names (they carry the load's time)."""
    out: Snapshot = {}
    with segmint.open(ws_dir) as ws:
        con = db(ws)
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
                "AND database_name = current_database() ORDER BY 1"
            ).fetchall()
        ]
        for table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' "
                    "AND database_name = current_database() AND table_name = ? "
                    "ORDER BY column_index",
                    [table],
                ).fetchall()
                if volatile or c not in VOLATILE.get(table, set())
            ]
            row = ", ".join(f'"{c}" := "{c}"' for c in columns)
            checksum = f"coalesce(sum(hash(struct_pack({row}))::HUGEINT), 0)"
            out[table] = con.execute(f'SELECT count(*), {checksum} FROM "{table}"').fetchone()
        named = [
            Path(f).name
            for (f,) in con.execute(
                "SELECT rejects_file FROM loads WHERE rejects_file IS NOT NULL"
            ).fetchall()
        ]
    rejects = sorted(p.name for p in (ws_dir / "rejects").iterdir())
    assert rejects == sorted(named), f"rejects/ holds {rejects}, the loads name {named}"
    out["rejects/"] = (
        rejects if volatile else sorted(_digest(ws_dir / "rejects" / name) for name in rejects)
    )
    segments = ws_dir / "segments"
    files = sorted(segments.iterdir()) if segments.is_dir() else []
    out["segments/"] = [(p.name, _digest(p)) for p in files]
    return out


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``killed`` or not, and the log's size when it was killed."""

    killed: bool
    returncode: int
    wal_at_kill: int
    wal_max: int
    stderr: str


def wal_size(ws_dir: Path) -> int:
    try:
        return (ws_dir / "segmint.duckdb.wal").stat().st_size
    except FileNotFoundError:
        return 0


def run(
    ws_dir: Path,
    *args: str,
    kill_at: str | None = None,
    wal_bytes: int | None = None,
    after_wal_ms: float | None = None,
    timeout: float = 300,
    signum: int = signal.SIGKILL,
) -> Outcome:
    """Run ``segmint -w ws_dir ARGS`` and kill it as asked (or let it finish); ``signum``
    sends another signal instead (SIGINT: Ctrl-C)."""
    env = {k: v for k, v in os.environ.items() if k != KILL_AT_ENV}
    if kill_at:
        env[KILL_AT_ENV] = kill_at
    cmd = [sys.executable, "-m", "segmint", "-w", str(ws_dir), *args]
    errors = ws_dir.parent / f"{ws_dir.name}.stderr"
    with errors.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        outcome = _watch(proc, ws_dir, wal_bytes, after_wal_ms, time.monotonic() + timeout, signum)
    return Outcome(outcome[0], proc.returncode, outcome[1], outcome[2], errors.read_text())


def _watch(
    proc: subprocess.Popen[bytes],
    ws_dir: Path,
    wal_bytes: int | None,
    after_wal_ms: float | None,
    deadline: float,
    signum: int,
) -> tuple[bool, int, int]:
    """Poll the log until the process ends or a kill condition holds."""
    seen = at_kill = 0
    grown_at = 0.0
    killed = False
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{proc.args} ran past its time limit")
        size = wal_size(ws_dir)
        if size > seen:
            seen, grown_at = size, time.monotonic()
        hit_bytes = wal_bytes is not None and size >= wal_bytes
        hit_time = (
            after_wal_ms is not None
            and seen > 0
            and time.monotonic() - grown_at >= after_wal_ms / 1000
        )
        if hit_bytes or hit_time:
            at_kill = size
            proc.send_signal(signum)
            killed = True
            break
        time.sleep(0.0002)
    proc.wait()
    return killed or proc.returncode == -signal.SIGKILL, at_kill, seen
