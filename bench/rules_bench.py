"""Rule engine benchmark: ``Workspace.count`` against hand-written DuckDB SQL of the same rule.

    python bench/rules_bench.py --workspace bench/data/ws [--repeat 5] [--out F.json]

The workspace holds the ingest benchmark's data (1M customers, 50M events; build it with
``--build-from bench/data``). For each rule, segmint's full path (parse, validate against
the catalog, compile with Ibis, run on DuckDB) is timed next to a hand-written query of the
same rule, written the way an analyst would (``IN``/``NOT IN`` subqueries with
``GROUP BY ... HAVING``), on the same connection. Both must return the same count. Each
figure is the median of ``--repeat`` runs after a first run, which is reported too: segmint
compiles a rule once (Ibis, 15-70 ms) and reuses the SQL for any as_of, so the first call
of a rule in a process carries the compile time and later ones do not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import segmint

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def ts(days: int) -> str:
    """A UTC literal ``days`` before as_of (bounds computed outside SQL, as segmint does)."""
    return f"TIMESTAMPTZ '{(AS_OF - timedelta(days=days)).isoformat()}'"


NOW = ts(0)
CATEGORY = "(properties->>'category') = '{}'"
POPULATION = (
    f"p.customer_id IS NOT NULL AND (p.created_at <= {NOW} OR (p.created_at IS NULL AND "
    f"(p.first_event_at IS NULL OR p.first_event_at <= {NOW})))"
)


def did(event: str, days: int, having: str = "count(*) >= 1", where: str = "") -> str:
    """``pid`` of profiles whose events match, as an IN-subquery."""
    extra = f" AND {where}" if where else ""
    return (
        f"(SELECT pid FROM events WHERE event = '{event}' AND ts > {ts(days)} AND ts <= {NOW}"
        f"{extra} GROUP BY pid HAVING {having})"
    )


def count_sql(condition: str) -> str:
    return f"SELECT count(*) FROM profiles p WHERE {POPULATION} AND ({condition})"


TWENTY = [
    ("did search at least 3 times in last 7 days", f"p.pid IN {did('search', 7, 'count(*) >= 3')}"),
    ("did checkout_started in last 3 days", f"p.pid IN {did('checkout_started', 3)}"),
    ("not did order_completed in last 3 days", f"p.pid NOT IN {did('order_completed', 3)}"),
    ('country = "DE"', "p.country = 'DE'"),
    ("did email_clicked in last 14 days", f"p.pid IN {did('email_clicked', 14)}"),
    ('plan = "pro"', "p.x_plan = 'pro'"),
    ("loyalty_points > 2000", "p.x_loyalty_points > 2000"),
    (
        "did add_to_cart at least 2 times in last 7 days",
        f"p.pid IN {did('add_to_cart', 7, 'count(*) >= 2')}",
    ),
    ('device_os = "ios"', "p.x_device_os = 'ios'"),
    ("not did app_open in last 30 days", f"p.pid NOT IN {did('app_open', 30)}"),
    (
        "did page_view at least 20 times in last 30 days",
        f"p.pid IN {did('page_view', 30, 'count(*) >= 20')}",
    ),
    ('country in ["FR", "ES", "IT"]', "p.country IN ('FR', 'ES', 'IT')"),
    ("email_consent = true", "p.email_consent = true"),
    (
        "did email_opened at least 3 times in last 30 days",
        f"p.pid IN {did('email_opened', 30, 'count(*) >= 3')}",
    ),
    (
        'did product_view where category = "electronics" at least 3 times in last 14 days',
        "p.pid IN " + did("product_view", 14, "count(*) >= 3", CATEGORY.format("electronics")),
    ),
    ("created_at within last 30 days", f"p.created_at > {ts(30)} AND p.created_at <= {NOW}"),
    (
        "did order_completed at least 2 times in last 90 days",
        f"p.pid IN {did('order_completed', 90, 'count(*) >= 2')}",
    ),
    ('plan = "free"', "p.x_plan = 'free'"),
    (
        "did email_sent at least 4 times in last 30 days",
        f"p.pid IN {did('email_sent', 30, 'count(*) >= 4')}",
    ),
    ("not did page_view in last 60 days", f"p.pid NOT IN {did('page_view', 60)}"),
]


def _twenty() -> tuple[str, str]:
    """Ten ANDed pairs of the twenty conditions, ORed: (c0 and c1) or (c2 and c3) or ..."""
    pairs = [(TWENTY[i], TWENTY[i + 1]) for i in range(0, 20, 2)]
    text = " or ".join(f"({a[0]} and {b[0]})" for a, b in pairs)
    sql = " OR ".join(f"(({a[1]}) AND ({b[1]}))" for a, b in pairs)
    return text, sql


RULES: dict[str, tuple[str, str]] = {
    "3-condition mix": (
        'country = "US" and did order_completed at least 3 times in last 90 days '
        "and not did email_opened in last 30 days",
        f"p.country = 'US' AND p.pid IN {did('order_completed', 90, 'count(*) >= 3')} "
        f"AND p.pid NOT IN {did('email_opened', 30)}",
    ),
    "aggregate": (
        "sum(revenue) of order_completed in last 365 days > 500",
        f"p.pid IN {did('order_completed', 365, 'sum(revenue) > 500')}",
    ),
    "recency": (
        "last order_completed more than 60 days ago",
        f"p.pid IN (SELECT pid FROM events WHERE event = 'order_completed' AND ts <= {NOW} "
        f"GROUP BY pid HAVING max(ts) <= {ts(60)})",
    ),
    "trend": (
        "trend of order_completed over 60 days <= -0.5",
        f"p.pid IN (SELECT pid FROM events WHERE event = 'order_completed' AND ts > {ts(120)} "
        f"AND ts <= {NOW} GROUP BY pid HAVING count(*) FILTER (WHERE ts <= {ts(60)}) > 0 AND "
        f"(count(*) FILTER (WHERE ts > {ts(60)}) - count(*) FILTER (WHERE ts <= {ts(60)}))"
        f"::DOUBLE / count(*) FILTER (WHERE ts <= {ts(60)}) <= -0.5)",
    ),
    "nested AND/OR": (
        '(country in ["US", "CA"] and (did product_view where category = "shoes" at least 2 '
        'times in last 30 days or did add_to_cart in last 14 days)) or (plan = "pro" and '
        "not did app_open in last 60 days and loyalty_points > 500)",
        "(p.country IN ('US', 'CA') AND (p.pid IN "
        + did("product_view", 30, "count(*) >= 2", CATEGORY.format("shoes"))
        + f" OR p.pid IN {did('add_to_cart', 14)})) OR (p.x_plan = 'pro' AND p.pid NOT IN "
        f"{did('app_open', 60)} AND p.x_loyalty_points > 500)",
    ),
    "20 conditions": _twenty(),
}


def median_seconds(fn: Callable[[], int], repeat: int) -> tuple[float, int, float]:
    """Median of ``repeat`` timed runs after a first run; also the first run's time."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        again = fn()
        times.append(time.perf_counter() - start)
        assert again == result
    return statistics.median(times), result, first


def run(ws: segmint.Workspace, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for name, (text, condition) in RULES.items():
        sql = count_sql(condition)
        seg_s, seg_n, seg_first = median_seconds(lambda t=text: ws.count(t, as_of=AS_OF), repeat)
        hand_s, hand_n, _ = median_seconds(lambda q=sql: ws._db.execute(q).fetchone()[0], repeat)
        if seg_n != hand_n:
            raise SystemExit(f"{name}: segmint counts {seg_n:,}, the hand-written SQL {hand_n:,}")
        rows.append(
            {"rule": name, "text": text, "members": seg_n, "segmint_s": round(seg_s, 4),
             "segmint_first_call_s": round(seg_first, 4), "hand_written_s": round(hand_s, 4),
             "ratio": round(seg_s / hand_s, 2)}
        )  # fmt: skip
        print(
            f"{name:16} {seg_n:>9,} members  segmint {seg_s:6.3f} s (first call "
            f"{seg_first:6.3f} s)  hand-written {hand_s:6.3f} s  ratio {seg_s / hand_s:5.2f}",
            flush=True,
        )
    return rows


def build(root: Path, data: Path) -> None:
    ws = segmint.init(root)
    with ws:
        for kind in ("customers", "events"):
            start = time.perf_counter()
            result = ws.ingest(kind, data / f"{kind}.parquet")
            print(f"{result.summary()} ({time.perf_counter() - start:.1f} s)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("bench/data/ws"))
    parser.add_argument("--build-from", type=Path, help="ingest DIR/{customers,events}.parquet")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.build_from:
        build(args.workspace, args.build_from)
    with segmint.open(args.workspace) as ws:
        events = ws._db.execute("SELECT count(*) FROM events").fetchone()[0]
        print(f"{args.workspace}: {ws.stats()['customers']:,} customers, {events:,} events, "
              f"as_of {AS_OF.isoformat()}", flush=True)  # fmt: skip
        results = run(ws, args.repeat)
    if args.out:
        report = {"as_of": AS_OF.isoformat(), "events": events, "rules": results}
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
