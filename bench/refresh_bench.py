"""Refresh benchmark: 50 saved segments refreshed together vs counted one by one.

    python bench/refresh_bench.py --workspace bench/data/ws-sorted [--out F.json]

On the ingest data set (1M customers, 50M events; see bench/README.md) the script saves
50 segments of mixed kinds (the 20 built-in templates over traits, event counts with
windows and property filters, aggregates, recency, trends, attribute mixes, NOT/OR trees
and references to other segments) as ``bench-*`` files, then, in one process:

1. counts each segment alone with ``ws.count`` (each after one untimed call, so Ibis
   compile time is not counted): the sum and the slowest;
2. refreshes all 50 at as_of (everyone enters: the first refresh stores every member);
3. refreshes all 50 again one day later: the changes stored are the entries and exits of
   that day, not the members.

Targets of the living-segments issue: the full refresh under 3x the slowest single
segment and under 60 s; history per refresh proportional to changes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import segmint
from segmint.segments.templates import TEMPLATES

AS_OF = datetime(2026, 10, 31, tzinfo=UTC)
PREFIX = "bench-"

OWN = [
    'country = "US" and did order_completed at least 2 times in last 90 days',
    "did order_completed in last 30 days",
    "did add_to_cart in last 7 days and not did order_completed in last 7 days",
    'did product_view where category = "shoes" at least 3 times in last 30 days',
    "did search at least 5 times in last 14 days",
    "sum(revenue) of order_completed in last 365 days > 500",
    "avg(revenue) of order_completed in last 180 days >= 80",
    "max(price) of product_view in last 30 days > 150",
    "distinct(category) of product_view in last 60 days >= 3",
    "last order_completed more than 60 days ago",
    "last app_open more than 30 days ago",
    "days since first page_view <= 30",
    "trend of order_completed over 60 days <= -0.5",
    "trend of page_view over 30 days >= 1",
    "not did email_opened in last 90 days and email_consent = true",
    'device_os = "ios" and did app_open in last 7 days',
    'device_os = "android" and not did app_open in last 30 days',
    'plan = "premium" and loyalty_points > 500',
    "loyalty_points between 100 and 300",
    'country in ["GB", "DE", "FR"] and did checkout_started in last 14 days',
    "did checkout_started from 30 to 7 days ago",
    'did page_view where channel = "email" at least 2 times in last 30 days',
    "(did search in last 7 days or did product_view in last 7 days) and "
    "not did order_completed in last 30 days",
    'did email_clicked in last 30 days and plan = "free"',
    "created_at within last 90 days",
    f"in segment {PREFIX}champions and not did order_completed in last 14 days",
    f'in segment {PREFIX}vip and country = "US"',
    f"in segment {PREFIX}at-risk or in segment {PREFIX}cant-lose",
    "orders_count >= 3 and p_alive < 0.5",
    'rfm_segment in ["Loyal", "Champions"] and email_open_rate_90d >= 0.2',
]


def segments() -> list[tuple[str, str]]:
    """(name, rule text) of the 50 bench segments: the templates, then the others."""
    rules = [(PREFIX + t.name, t.rule) for t in TEMPLATES]
    own = [(f"{PREFIX}own-{i:02d}", text) for i, text in enumerate(OWN)]
    # 23 templates since issue 15 (there were 20): the first own rules fill up to 50.
    rules += own[: 50 - len(rules)]
    assert len(rules) == 50, len(rules)
    return rules


def save(ws: segmint.Workspace) -> list[tuple[str, str]]:
    """Write the segment files afresh and forget earlier bench refreshes."""
    for path in ws.segments.files().values():
        if path.name.startswith(PREFIX):
            path.unlink()
    for table in ("segment_members", "segment_changes", "segment_runs", "segment_versions"):
        ws._db.execute(f"DELETE FROM {table} WHERE name LIKE '{PREFIX}%'")
    rules = segments()
    for name, text in rules:
        ws.add_segment(name, text, campaign="bench")
    return rules


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("bench/data/ws-sorted"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"workspace": str(args.workspace), "as_of": AS_OF.isoformat()}
    with segmint.open(args.workspace) as ws:
        rules = save(ws)
        names = [n for n, _ in rules]
        evaluator = ws.evaluator()
        ws.models(AS_OF)  # fit once up front: both paths then reuse the cached fit
        evaluator.count(rules[0][1], AS_OF)
        counts: dict[str, float] = {}
        sizes: dict[str, int] = {}
        for name, text in rules:
            evaluator.count(text, AS_OF)  # compile (untimed)
            start = time.perf_counter()
            sizes[name] = evaluator.count(text, AS_OF)
            counts[name] = time.perf_counter() - start
        slowest = max(counts, key=lambda n: counts[n])
        print(
            f"50 separate counts: {sum(counts.values()):.2f} s in all, slowest {slowest} "
            f"{counts[slowest]:.2f} s",
            flush=True,
        )
        refreshes = []
        for when in (AS_OF, AS_OF + timedelta(days=1)):
            before = ws._db.execute("SELECT count(*) FROM segment_changes").fetchone()[0]
            start = time.perf_counter()
            result = ws.refresh(names, when)
            seconds = time.perf_counter() - start
            after = ws._db.execute("SELECT count(*) FROM segment_changes").fetchone()[0]
            members = sum(r.size or 0 for r in result.runs)
            failed = [(r.name, r.error) for r in result.failed]
            if failed:
                raise SystemExit(f"segments failed: {failed}")
            if when == AS_OF:
                wrong = [r.name for r in result.runs if r.size != sizes[r.name]]
                if wrong:
                    raise SystemExit(f"refresh and count disagree for {wrong}")
            refreshes.append(
                {
                    "as_of": when.isoformat(),
                    "seconds": seconds,
                    "members": members,
                    "changes_stored": after - before,
                    "entered": sum(r.entered or 0 for r in result.runs),
                    "exited": sum(r.exited or 0 for r in result.runs),
                }
            )
            print(
                f"refresh at {when.date()}: {seconds:.2f} s, {members:,} members, "
                f"{after - before:,} change rows stored",
                flush=True,
            )
        first = refreshes[0]["seconds"]
        report |= {
            "counts_total_seconds": sum(counts.values()),
            "slowest": slowest,
            "slowest_seconds": counts[slowest],
            "counts": counts,
            "sizes": sizes,
            "refreshes": refreshes,
            "refresh_vs_slowest": first / counts[slowest],
            "refresh_vs_sum": first / sum(counts.values()),
        }
        print(
            f"refresh / slowest single segment: {report['refresh_vs_slowest']:.2f}x; "
            f"refresh / sum of counts: {report['refresh_vs_sum']:.2f}x"
        )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
