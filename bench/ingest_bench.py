"""Ingest benchmark: segmint's load against a hand-written DuckDB load of the same file.

    python bench/ingest_bench.py --data bench/data [--formats parquet,csv] [--out F.json]

For each format it loads ``customers.<fmt>`` then ``events.<fmt>`` into a fresh workspace
through ``Workspace.ingest`` (validation, rejects, de-duplication, identity resolution), and
runs a hand-written baseline in the same process: ``CREATE TABLE`` + ``INSERT ... SELECT``
from ``read_parquet`` / ``read_csv`` into a table of the same shape (typed columns, exact
DECIMAL revenue, properties as JSON) with the same DuckDB settings, but no validation,
no rejects, no de-duplication and no identity resolution. Peak RSS is sampled every 50 ms
during each run. Figures go to stdout and, with --out, to a JSON file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import psutil

import segmint
from segmint.store import txn

MEMORY_LIMIT = "3GB"  # the workspace default (segmint.toml [store] memory_limit)


class PeakRss:
    """Samples this process's RSS in a thread; ``peak`` is the largest seen, in bytes."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self.peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(fn: Callable[[], int]) -> dict[str, float]:
    """Run ``fn`` (returns rows loaded); wall seconds, rows/s and peak RSS in MB."""
    with PeakRss() as rss:
        start = time.perf_counter()
        rows = fn()
        seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(rss.peak / 2**20),
    }


def baseline(workdir: Path, events: Path, fmt: str) -> int:
    """The hand-written load: one INSERT ... SELECT into an equivalent table."""
    db = workdir / "baseline.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute(f"SET TimeZone = 'UTC'; SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{workdir / 'tmp'}'")
    con.execute(
        "CREATE TABLE events (customer_id VARCHAR, anonymous_id VARCHAR, event VARCHAR, "
        "ts TIMESTAMPTZ, event_id VARCHAR, revenue DECIMAL(18, 4), properties JSON)"
    )
    if fmt == "parquet":
        scan = f"read_parquet('{events}')"
    else:
        # Typed columns; timestamps as TIMESTAMP, which DuckDB rejects when unparsable
        # (as TIMESTAMPTZ it would turn them into NULL), so bad rows are skipped, not kept.
        scan = (
            f"read_csv('{events}', header = true, ignore_errors = true, columns = {{"
            "'event_id': 'VARCHAR', 'event': 'VARCHAR', 'timestamp': 'TIMESTAMP', "
            "'customer_id': 'VARCHAR', 'anonymous_id': 'VARCHAR', 'revenue': 'DECIMAL(18,4)', "
            "'category': 'VARCHAR', 'channel': 'VARCHAR', 'price': 'DOUBLE'})"
        )
    con.execute(
        "INSERT INTO events SELECT customer_id, anonymous_id, event, timestamp, event_id, "
        "revenue, json_object('category', category, 'channel', channel, 'price', price) "
        f"FROM {scan}"
    )
    rows = con.execute("SELECT count(*) FROM events").fetchone()
    con.close()
    return int(rows[0]) if rows else 0


def load_customers(workdir: Path, data: Path, fmt: str, report: dict[str, Any]) -> Path:
    """A workspace with the customers loaded (not part of the timed events load)."""
    root = workdir / f"ws-{fmt}"
    shutil.rmtree(root, ignore_errors=True)
    with segmint.init(root) as ws:
        customers = ws.ingest("customers", data / f"customers.{fmt}")
    report["customers"] = {"rows": customers.accepted, "seconds": round(customers.seconds, 2)}
    return root


def segmint_load(
    root: Path, data: Path, fmt: str, report: dict[str, Any], variant: str = "segmint"
) -> int:
    with segmint.open(root) as ws:
        if variant == "log-only":
            # The other crash-safety remedy (docs/crash-safety.md): every row through the log.
            ws._db.execute("SET enable_optimistic_write = false")
        result = ws.ingest("events", data / f"events.{fmt}")
        report["events_result"] = {
            "rows_read": result.rows_read,
            "accepted": result.accepted,
            "rejected": result.rejected,
            "profiles_created": result.profiles_created,
            "merges": result.merges,
        }
        return result.accepted


@contextlib.contextmanager
def without_commit_marker() -> Iterator[None]:
    """Loads as before the crash-safety work: no commit marker, no checkpoint after COMMIT."""
    saved = txn.marker_of
    txn.marker_of = lambda con: None  # type: ignore[assignment]
    try:
        yield
    finally:
        txn.marker_of = saved  # type: ignore[assignment]


def run_variant(data: Path, fmt: str, workdir: Path, variant: str) -> dict[str, Any]:
    root = load_customers(workdir, data, fmt, {})
    with contextlib.ExitStack() as stack:
        if variant == "unsafe":
            stack.enter_context(without_commit_marker())
        figures = measure(lambda: segmint_load(root, data, fmt, {}, variant))
    shutil.rmtree(root, ignore_errors=True)
    return figures


def run_format(data: Path, fmt: str, workdir: Path, variants: list[str]) -> dict[str, Any]:
    report: dict[str, Any] = {"format": fmt}
    report["baseline"] = measure(lambda: baseline(workdir, data / f"events.{fmt}", fmt))
    (workdir / "baseline.duckdb").unlink(missing_ok=True)
    root = load_customers(workdir, data, fmt, report)
    report["segmint"] = measure(lambda: segmint_load(root, data, fmt, report))
    shutil.rmtree(workdir / f"ws-{fmt}", ignore_errors=True)
    report["ratio"] = round(report["segmint"]["seconds"] / report["baseline"]["seconds"], 2)
    for variant in variants:
        figures = run_variant(data, fmt, workdir, variant)
        figures["segmint_ratio"] = round(figures["seconds"] / report["segmint"]["seconds"], 2)
        report[f"segmint_{variant}"] = figures
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--variants",
        default="",
        help="also time: unsafe (no commit marker, as before crash safety), log-only "
        "(optimistic writes off, the other remedy); comma-separated",
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="segmint-bench-"))
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    results = []
    for fmt in args.formats.split(","):
        variants = [v for v in args.variants.split(",") if v]
        report = run_format(args.data, fmt, workdir, variants)
        results.append(report)
        print(json.dumps(report), flush=True)
    for r in results:
        b, s = r["baseline"], r["segmint"]
        print(
            f"{r['format']:8} segmint {s['rows']:>11,} rows {s['seconds']:7.1f} s "
            f"{s['rows_per_s']:>10,}/s peak {s['peak_rss_mb']:>5,} MB | hand-written "
            f"{b['seconds']:6.1f} s {b['rows_per_s']:>10,}/s peak {b['peak_rss_mb']:>5,} MB "
            f"| ratio {r['ratio']:.2f}x",
            file=sys.stdout,
        )
        for key, figures in r.items():
            if key.startswith("segmint_") and isinstance(figures, dict):
                print(
                    f"{'':8} {key[8:]:>8} {figures['seconds']:7.1f} s peak "
                    f"{figures['peak_rss_mb']:>5,} MB | {figures['segmint_ratio']:.2f}x segmint"
                )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
