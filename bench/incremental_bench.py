"""Incremental refresh benchmark: 1% new events, full vs incremental vs 50 separate counts.

    python bench/incremental_bench.py --workspace bench/data/ws-sorted \\
        [--scratch bench/data/incr] [--new-events 500000] [--out F.json] [--keep]

On the ingest data set (1M customers, 50M events up to 2026-11-01; see bench/README.md) the
script compares ``ws.refresh(names, as_of, full=True)`` (every segment evaluated afresh)
with ``ws.refresh(names, as_of)`` (incremental where it can be) after a day of new events,
on the 50 segments of ``bench/refresh_bench.py``. The workspace itself is only read (by
copying it, and by nothing else); everything is written to two copies of it under
``--scratch``: ``full/`` and ``incr/`` (2.6 GB each, removed at the end unless ``--keep``).

The days. The stored events end at 2026-11-01T00:00Z (the last at 10-31 23:59:56) and a
refresh at ``as_of`` sees the events with ``ts <= as_of``. So that each timed refresh sees
exactly the rows loaded since the refresh before it (and nothing loaded earlier that it
had not seen), the script uses, with T0 = ``--as-of`` (default 2026-11-01T00:00Z, which is
``refresh_bench.AS_OF`` + 1 day, the end of the stored events):

* baseline: all 50 refreshed with ``full=True`` at T0, in both copies (timed, reported as
  "first full refresh");
* day 1: ``--new-events`` new events (default 500,000, 1% of 50M) with timestamps uniform in
  (T0, T0 + 1 day], loaded into both copies (timed); then, at T1 = T0 + 1 day, the ``full``
  copy refreshes all 50 with ``full=True`` and the ``incr`` copy all 50 incrementally (both
  timed). Sizes and stored members (``segment_members``) must be equal, or the script stops;
  the report counts the segments refreshed incrementally and fully, with the reasons;
* the 50 segments counted one by one with ``evaluator.count`` at T1 in the ``full`` copy,
  each after one untimed call, as in refresh_bench (ratios: incremental / full, full / sum
  of the counts);
* day 2 (unless ``--skip-second`` or no segment came out incremental): as many new events
  in (T1, T1 + 1 day] loaded into both copies, then at T2 = T1 + 1 day only the segments
  that were incremental at T1 are refreshed, ``full=True`` in one copy and incrementally in
  the other (timed, compared the same way): the figure for the rules that can be
  maintained, beside the whole mix's figure of day 1.

Before each timed refresh the CLV models are fitted at its as_of, untimed and the same in
both copies (``ws.models``, stored in the workspace: both refreshes reuse the fit); the fit
is reported separately. ``--no-prefit`` leaves the fit inside the timed refreshes.

The new events are drawn from the stored ones (read-only, from the ``full`` copy before it
is opened for writing): a sample of the events of known customers, keeping each one's
customer, event name, revenue and properties (so the event mix, the property shapes and
the customers' activity skew are those of the data set), with new unique ``event_id``
values (``incr<day>-<n>``) and new timestamps, written as Parquet in the columns of
DESIGN section 3 (``event_id, event, timestamp, customer_id, revenue`` and one column per
property) and loaded with ``ws.ingest("events", path)``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import segmint

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refresh_bench import AS_OF, save

T0 = AS_OF + timedelta(days=1)  # 2026-11-01T00:00Z: the end of the stored events
DAY = timedelta(days=1)
US_PER_DAY = 86_400 * 1_000_000
SKIP = ("segmint.lock", "server.json")  # a process's files, not the workspace's


def log(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------- copies


def check_free(workspace: Path) -> None:
    """Refuse a workspace another process holds: its copy could be torn."""
    lock = workspace / "segmint.lock"
    if not lock.is_file():
        return
    try:
        pid = int(lock.read_text().strip() or "0")
    except ValueError:
        return
    if pid <= 0:
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # a stale lock
    except PermissionError:
        pass
    raise SystemExit(f"{workspace} is open in process {pid}: close it before copying")


def copy_workspace(workspace: Path, dest: Path) -> float:
    """Copy the workspace folder (without lock or server files); seconds taken."""
    if dest.exists():
        shutil.rmtree(dest)
    start = time.perf_counter()
    shutil.copytree(workspace, dest, ignore=shutil.ignore_patterns(*SKIP))
    return time.perf_counter() - start


# ------------------------------------------------------------------------------- new events


def sample_events(db: Path, n: int, seed: int) -> pa.Table:
    """n stored events of known customers (customer_id, event, revenue, properties), drawn
    by a hash of the event id and the seed (repeatable), opened read-only."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            """
            SELECT p.customer_id, e.event, e.revenue, e.properties::VARCHAR AS properties
            FROM events e JOIN profiles p USING (pid)
            WHERE p.customer_id IS NOT NULL
            ORDER BY hash(e.event_id, e.pid, e.ts, $seed)
            LIMIT $n
            """,
            {"seed": seed, "n": n},
        ).fetch_arrow_table()
    finally:
        con.close()


def property_columns(sample: pa.Table) -> pa.Table:
    """One column per property key of the sample's JSON, typed from its JSON values."""
    con = duckdb.connect()
    try:
        con.register("s", sample)
        keys = [
            (key, types)
            for key, types in con.execute(
                """
                SELECT key, list(DISTINCT json_type(properties::JSON, '$."' || key || '"'))
                FROM (SELECT properties, unnest(json_keys(properties::JSON)) AS key FROM s)
                GROUP BY key ORDER BY key
                """
            ).fetchall()
        ]
        columns = []
        for key, types in keys:
            kinds = {t for t in types if t not in (None, "NULL")}
            path = '$."' + key.replace('"', '\\"') + '"'
            if kinds and kinds <= {"DOUBLE", "BIGINT", "UBIGINT"}:
                sql_type = "BIGINT" if kinds <= {"BIGINT", "UBIGINT"} else "DOUBLE"
                expr = f"json_extract(properties::JSON, '{path}')::{sql_type}"
            elif kinds == {"BOOLEAN"}:
                expr = f"json_extract(properties::JSON, '{path}')::BOOLEAN"
            else:
                expr = f"json_extract_string(properties::JSON, '{path}')"
            quoted = '"' + key.replace('"', '""') + '"'
            columns.append(f"{expr} AS {quoted}")
        select = ", ".join(["customer_id", "event", "revenue", *columns])
        return con.execute(f"SELECT {select} FROM s").fetch_arrow_table()
    finally:
        con.close()


def new_events(db: Path, n: int, day: int, start: datetime, seed: int, out: Path) -> dict[str, Any]:
    """Write ``n`` events in (start, start + 1 day] to ``out`` (Parquet); what was written."""
    began = time.perf_counter()
    table = property_columns(sample_events(db, n, seed))
    if table.num_rows < n:
        raise SystemExit(f"only {table.num_rows:,} events of known customers to sample from")
    rng = np.random.default_rng(np.random.SeedSequence([seed, day]))
    start_us = int(start.timestamp()) * 1_000_000
    ts = np.sort(start_us + rng.integers(1, US_PER_DAY, size=n, endpoint=True))
    order = rng.permutation(n)  # which sampled event happens when (the sample is hash-ordered)
    table = table.take(pa.array(order))
    ids = pa.array([f"incr{day}-{i:09d}" for i in range(n)], pa.string())
    stamps = pa.array(ts, pa.timestamp("us", tz="UTC"))
    table = table.add_column(0, "timestamp", stamps).add_column(0, "event_id", ids)
    # Money as bench/generate.py writes it (stored as DECIMAL(18,4): a safe cast, no loss).
    revenue = table.column("revenue").cast(pa.decimal128(12, 2))
    table = table.set_column(table.schema.get_field_index("revenue"), "revenue", revenue)
    first = ["event_id", "event", "timestamp", "customer_id", "revenue"]
    table = table.select(first + [c for c in table.column_names if c not in first])
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    mix = Counter(table.column("event").to_pylist())
    return {
        "file": str(out),
        "rows": table.num_rows,
        "from": start.isoformat(),
        "to": (start + DAY).isoformat(),
        "columns": table.column_names,
        "customers": len(set(table.column("customer_id").to_pylist())),
        "events": dict(mix.most_common()),
        "seconds": time.perf_counter() - began,
    }


# ------------------------------------------------------------------------------- refreshes


def load(ws: segmint.Workspace, path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    result = ws.ingest("events", path)
    seconds = time.perf_counter() - start
    if result.rejected or result.duplicates:
        raise SystemExit(
            f"{path}: {result.rejected:,} rejected, {result.duplicates:,} duplicates "
            f"(expected none): {result.summary()}"
        )
    return {
        "seconds": seconds,
        "rows_read": result.rows_read,
        "accepted": result.accepted,
        "profiles_created": result.profiles_created,
        "merges": result.merges,
    }


def prefit(ws: segmint.Workspace, when: datetime, skip: bool) -> float | None:
    if skip:
        return None
    start = time.perf_counter()
    ws.models(when)
    return time.perf_counter() - start


def timed_refresh(
    ws: segmint.Workspace, names: list[str], when: datetime, full: bool
) -> dict[str, Any]:
    """One refresh of ``names`` at ``when``: time, modes and per-segment figures."""
    changes = "SELECT count(*) FROM segment_changes"
    before = ws._db.execute(changes).fetchone()[0]
    start = time.perf_counter()
    result = ws.refresh(names, when, full=True) if full else ws.refresh(names, when)
    seconds = time.perf_counter() - start
    after = ws._db.execute(changes).fetchone()[0]
    failed = [(r.name, r.error) for r in result.failed]
    if failed:
        raise SystemExit(f"segments failed at {when.isoformat()}: {failed}")
    runs = {
        r.name: {
            "size": r.size,
            "entered": r.entered,
            "exited": r.exited,
            "mode": getattr(r, "mode", None),
            "reason": getattr(r, "reason", None),
        }
        for r in result.runs
    }
    modes = Counter(str(run["mode"]) for run in runs.values())
    reasons = Counter(str(run["reason"]) for run in runs.values() if run["mode"] != "incremental")
    return {
        "as_of": when.isoformat(),
        "requested": "full" if full else "incremental",
        "seconds": seconds,
        "segments": len(runs),
        "members": sum(int(run["size"] or 0) for run in runs.values()),
        "entered": sum(int(run["entered"] or 0) for run in runs.values()),
        "exited": sum(int(run["exited"] or 0) for run in runs.values()),
        "changes_stored": after - before,
        "modes": dict(modes.most_common()),
        "full_reasons": dict(reasons.most_common()),
        "runs": runs,
    }


def count_each(
    ws: segmint.Workspace, rules: list[tuple[str, str]], when: datetime
) -> dict[str, Any]:
    """Each segment counted alone at ``when``, after one untimed call (refresh_bench)."""
    evaluator = ws.evaluator()
    counts: dict[str, float] = {}
    sizes: dict[str, int] = {}
    for name, text in rules:
        evaluator.count(text, when)  # compile (untimed)
        start = time.perf_counter()
        sizes[name] = evaluator.count(text, when)
        counts[name] = time.perf_counter() - start
    slowest = max(counts, key=lambda n: counts[n])
    return {
        "as_of": when.isoformat(),
        "total_seconds": sum(counts.values()),
        "slowest": slowest,
        "slowest_seconds": counts[slowest],
        "seconds": counts,
        "sizes": sizes,
    }


def compare(full_db: Path, incr_db: Path, names: list[str]) -> dict[str, int]:
    """Members in one copy and not the other, per segment (after both are closed)."""
    con = duckdb.connect(str(full_db), read_only=True)
    try:
        con.execute(f"ATTACH '{incr_db}' AS incr (READ_ONLY)")
        con.execute("CREATE TEMP TABLE wanted AS SELECT unnest($names::VARCHAR[]) AS name",
                    {"names": names})  # fmt: skip
        rows = con.execute(
            """
            WITH f AS (SELECT name, pid FROM main.segment_members JOIN wanted USING (name)),
                 i AS (SELECT name, pid FROM incr.segment_members JOIN wanted USING (name)),
                 d AS ((SELECT * FROM f EXCEPT SELECT * FROM i)
                       UNION ALL (SELECT * FROM i EXCEPT SELECT * FROM f))
            SELECT name, count(*) FROM d GROUP BY name ORDER BY name
            """
        ).fetchall()
    finally:
        con.close()
    return {str(name): int(n) for name, n in rows}


def check_equal(
    full: dict[str, Any], incr: dict[str, Any], full_db: Path, incr_db: Path, names: list[str]
) -> dict[str, Any]:
    sizes = {
        name: (full["runs"][name]["size"], incr["runs"][name]["size"])
        for name in names
        if full["runs"][name]["size"] != incr["runs"][name]["size"]
    }
    diff = compare(full_db, incr_db, names)
    if sizes or diff:
        raise SystemExit(
            f"full and incremental refreshes at {full['as_of']} disagree: sizes (full, incr) "
            f"{sizes}; members in one and not the other {diff}"
        )
    return {"segments": len(names), "size_differences": 0, "member_differences": 0}


def modes_line(run: dict[str, Any]) -> str:
    modes = ", ".join(f"{n} {mode}" for mode, n in run["modes"].items())
    reasons = "; ".join(f"{n}x {reason}" for reason, n in run["full_reasons"].items())
    return modes + (f" (full because: {reasons})" if reasons else "")


# ------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("bench/data/ws-sorted"))
    parser.add_argument("--scratch", type=Path, default=Path("bench/data/incr"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--new-events", type=int, default=500_000)
    parser.add_argument(
        "--as-of",
        default=T0.isoformat(),
        help="T0, the baseline refresh (default: the end of the stored events)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-second", action="store_true", help="no day-2 subset run")
    parser.add_argument("--no-prefit", action="store_true", help="fit CLV models inside timing")
    parser.add_argument("--keep", action="store_true", help="keep the copies and event files")
    args = parser.parse_args(argv)

    t0 = datetime.fromisoformat(args.as_of.replace("Z", "+00:00"))
    if t0.tzinfo is None:
        t0 = t0.replace(tzinfo=UTC)
    t1, t2 = t0 + DAY, t0 + 2 * DAY
    workspace: Path = args.workspace
    scratch: Path = args.scratch
    copies = {"full": scratch / "full", "incr": scratch / "incr"}
    dbs = {kind: root / "segmint.duckdb" for kind, root in copies.items()}
    day_files = [scratch / "day-1.parquet", scratch / "day-2.parquet"]
    report: dict[str, Any] = {
        "workspace": str(workspace),
        "new_events": args.new_events,
        "seed": args.seed,
        "as_of": {"baseline": t0.isoformat(), "day1": t1.isoformat(), "day2": t2.isoformat()},
        "prefit_models": not args.no_prefit,
    }
    try:
        run(args, report, workspace, copies, dbs, day_files, (t0, t1, t2))
    finally:
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
        if not args.keep:
            for path in [*copies.values(), *day_files]:
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
            if scratch.is_dir() and not any(scratch.iterdir()):
                scratch.rmdir()


def run(
    args: argparse.Namespace,
    report: dict[str, Any],
    workspace: Path,
    copies: dict[str, Path],
    dbs: dict[str, Path],
    day_files: list[Path],
    days: tuple[datetime, datetime, datetime],
) -> None:
    t0, t1, t2 = days
    if not (workspace / "segmint.duckdb").is_file():
        raise SystemExit(f"{workspace} is not a segmint workspace")
    check_free(workspace)

    # 1. Two copies.
    report["copy_seconds"] = {}
    for kind, dest in copies.items():
        report["copy_seconds"][kind] = copy_workspace(workspace, dest)
        log(f"copied {workspace} to {dest}: {report['copy_seconds'][kind]:.1f} s")

    # 2. The new events (sampled from the full copy, read-only, before it is written).
    report["generate"] = [new_events(dbs["full"], args.new_events, 1, t0, args.seed, day_files[0])]
    second = not args.skip_second
    if second:
        report["generate"].append(
            new_events(dbs["full"], args.new_events, 2, t1, args.seed + 1, day_files[1])
        )
    for made in report["generate"]:
        log(
            f"generated {made['rows']:,} events in ({made['from']}, {made['to']}] for "
            f"{made['customers']:,} customers: {made['seconds']:.1f} s"
        )

    # 3-5. Per copy: baseline, day-1 load, the timed day-1 refresh; counts in the full copy.
    rules: list[tuple[str, str]] = []
    names: list[str] = []
    for kind in ("full", "incr"):
        with segmint.open(copies[kind]) as ws:
            rules = save(ws)
            names = [n for n, _ in rules]
            fit = prefit(ws, t0, args.no_prefit)
            base = timed_refresh(ws, names, t0, full=True)
            base["models_fit_seconds"] = fit
            report.setdefault("baseline", {})[kind] = base
            log(
                f"[{kind}] first full refresh at {t0.date()}: {base['seconds']:.2f} s, "
                f"{base['members']:,} members"
            )
            loaded = load(ws, day_files[0])
            report.setdefault("load_day1", {})[kind] = loaded
            log(f"[{kind}] loaded {loaded['accepted']:,} new events: {loaded['seconds']:.2f} s")
            fit = prefit(ws, t1, args.no_prefit)
            day1 = timed_refresh(ws, names, t1, full=kind == "full")
            day1["models_fit_seconds"] = fit
            report.setdefault("day1", {})[kind] = day1
            log(
                f"[{kind}] refresh at {t1.date()} ({day1['requested']}): "
                f"{day1['seconds']:.2f} s, {day1['entered']:,} entered, {day1['exited']:,} "
                f"exited; {modes_line(day1)}"
            )
            if kind == "full":
                counts = count_each(ws, rules, t1)
                report["counts"] = counts
                log(
                    f"[full] 50 separate counts at {t1.date()}: {counts['total_seconds']:.2f} s "
                    f"in all, slowest {counts['slowest']} {counts['slowest_seconds']:.2f} s"
                )
                wrong = [n for n in names if counts["sizes"][n] != day1["runs"][n]["size"]]
                if wrong:
                    raise SystemExit(f"full refresh and count disagree at {t1.date()}: {wrong}")
    full1, incr1 = report["day1"]["full"], report["day1"]["incr"]
    report["day1_check"] = check_equal(full1, incr1, dbs["full"], dbs["incr"], names)
    incremental = [n for n in names if incr1["runs"][n]["mode"] == "incremental"]
    report["incremental_segments"] = incremental
    report["full_segments"] = {
        n: incr1["runs"][n]["reason"] for n in names if n not in set(incremental)
    }
    report["ratios"] = {
        "incremental_vs_full": incr1["seconds"] / full1["seconds"],
        "full_vs_sum_of_counts": full1["seconds"] / report["counts"]["total_seconds"],
        "incremental_vs_sum_of_counts": incr1["seconds"] / report["counts"]["total_seconds"],
    }
    log(
        f"day 1, all 50: sizes and members equal; incremental {incr1['seconds']:.2f} s, "
        f"full {full1['seconds']:.2f} s: incremental / full "
        f"{report['ratios']['incremental_vs_full']:.2f}x, full / sum of counts "
        f"{report['ratios']['full_vs_sum_of_counts']:.2f}x"
    )

    # 6. Day 2: only the segments that were incremental on day 1.
    if not second:
        return
    if not incremental:
        log("no segment came out incremental on day 1: no day-2 run")
        return
    for kind in ("full", "incr"):
        with segmint.open(copies[kind]) as ws:
            loaded = load(ws, day_files[1])
            report.setdefault("load_day2", {})[kind] = loaded
            log(f"[{kind}] loaded {loaded['accepted']:,} new events: {loaded['seconds']:.2f} s")
            fit = prefit(ws, t2, args.no_prefit)
            day2 = timed_refresh(ws, incremental, t2, full=kind == "full")
            day2["models_fit_seconds"] = fit
            report.setdefault("day2", {})[kind] = day2
            log(
                f"[{kind}] refresh of the {len(incremental)} incremental segments at "
                f"{t2.date()} ({day2['requested']}): {day2['seconds']:.2f} s; {modes_line(day2)}"
            )
    full2, incr2 = report["day2"]["full"], report["day2"]["incr"]
    report["day2_check"] = check_equal(full2, incr2, dbs["full"], dbs["incr"], incremental)
    report["ratios"]["day2_incremental_vs_full"] = incr2["seconds"] / full2["seconds"]
    log(
        f"day 2, the {len(incremental)} incremental segments: sizes and members equal; "
        f"incremental {incr2['seconds']:.2f} s, full {full2['seconds']:.2f} s: "
        f"{report['ratios']['day2_incremental_vs_full']:.2f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
