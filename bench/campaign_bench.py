"""Campaign benchmark: creating a campaign on three segments, its report after 14 days and
a backtest at four dates, each next to hand-written DuckDB SQL of the same counts.

    python bench/campaign_bench.py --workspace bench/data/ws-sorted [--out F.json]

On the ingest data set (1M customers, 50M events; bench/README.md) the script saves
three attribute segments as ``cbench-*`` files and, in one process, three rounds of:

1. ``ws.create_campaign`` on the three segments (audience frozen at START, 10 % holdout)
   against a hand-written ``CREATE TABLE ... AS`` of the same members with the same
   SHA-256 assignment, stored in the workspace file as segmint stores its own;
2. ``ws.campaign_report`` (goal ``did order_completed`` in the 14 days after START)
   against a hand-written query of the same conversion counts and revenue sums per
   segment and group (the figures behind the report's rates and revenue per customer);
3. ``ws.backtest`` of one segment at four dates (goal in the 30 days after each) against
   hand-written queries of the same members, population and converters.

The hand-written side runs on the workspace's own connection (the same memory limit,
threads and cache; no second lock on the file), and every count is compared: a
mismatch stops the script. The ratio is segmint's median over the hand-written median.
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

PREFIX = "cbench-"
START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW_DAYS = 14
HOLDOUT = 0.1
SEGMENTS = {
    f"{PREFIX}us": ('country = "US"', "p.country = 'US'"),
    f"{PREFIX}pro": ('plan = "pro"', "p.x_plan = 'pro'"),
    f"{PREFIX}points": ("loyalty_points > 500", "p.x_loyalty_points > 500"),
}
BACKTEST_AT = [datetime(2026, m, 1, tzinfo=UTC) for m in (6, 7, 8, 9)]
BACKTEST_WINDOW = 30


def _exists(at: str) -> str:
    """Who exists at the instant ``at`` (engine/tables.py ``population``)."""
    return (
        f"p.customer_id IS NOT NULL AND (p.created_at <= {at} OR (p.created_at IS NULL AND "
        f"(p.first_event_at IS NULL OR p.first_event_at <= {at})))"
    )


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _clean(ws: segmint.Workspace) -> None:
    """Forget earlier bench campaigns and segment files."""
    con = ws._db
    for table in ("campaign_members", "campaign_results"):
        con.execute(f"DELETE FROM {table} WHERE campaign LIKE '{PREFIX}%'")
    con.execute(f"DELETE FROM campaigns WHERE name LIKE '{PREFIX}%'")
    con.execute("DROP TABLE IF EXISTS bench_hand_campaign")
    for name, (rule, _) in SEGMENTS.items():
        ws.add_segment(name, rule, replace=True)


def hand_create(ws: segmint.Workspace) -> int:
    """The audience and assignment of ``create_campaign``, written by hand."""
    at = "?::TIMESTAMPTZ"
    parts = " UNION ALL ".join(
        f"SELECT '{name}' AS segment, p.customer_id FROM profiles p WHERE {sql} AND {_exists(at)}"
        for name, (_, sql) in SEGMENTS.items()
    )
    ws._db.execute(
        "CREATE OR REPLACE TABLE bench_hand_campaign AS SELECT segment, customer_id, "
        "CASE WHEN ('0x' || left(sha256('hand:' || customer_id), 13))::UBIGINT "
        f"< {HOLDOUT} * {16**13} THEN 'holdout' ELSE 'treatment' END AS grp FROM ({parts})",
        [START] * (2 * len(SEGMENTS)),
    )
    found = ws._db.execute("SELECT count(DISTINCT customer_id) FROM bench_hand_campaign").fetchone()
    return int(found[0]) if found else 0


def hand_report(ws: segmint.Workspace, name: str) -> dict[tuple[str, str], tuple[int, int, float]]:
    """Per (segment, group): members, converters of ``did order_completed`` in the window
    and their revenue in it, written by hand over the campaign's stored members."""
    end = START + timedelta(days=WINDOW_DAYS)
    rows = ws._db.execute(
        "WITH buyers AS (SELECT p.customer_id, sum(e.revenue) AS revenue FROM events e "
        "JOIN profiles p USING (pid) WHERE e.event = 'order_completed' AND e.ts >= ? "
        "AND e.ts < ? GROUP BY p.customer_id) "
        "SELECT m.segment, m.grp, count(*), count(b.customer_id), "
        "coalesce(sum(b.revenue), 0)::DOUBLE FROM campaign_members m "
        "LEFT JOIN buyers b USING (customer_id) WHERE m.campaign = ? GROUP BY ALL",
        [START, end, name],
    ).fetchall()
    return {(s, g): (int(n), int(c), float(r)) for s, g, n, c, r in rows}


def hand_backtest(ws: segmint.Workspace, sql: str) -> list[tuple[int, int, int, int]]:
    """Per date: members, members converted, others, others converted."""
    out = []
    for at in BACKTEST_AT:
        end = at + timedelta(days=BACKTEST_WINDOW)
        found = ws._db.execute(
            "WITH pop AS (SELECT p.pid, ("
            + sql
            + ") AS inside FROM profiles p WHERE "
            + _exists("?::TIMESTAMPTZ")
            + "), buyers AS (SELECT DISTINCT pid FROM events WHERE event = 'order_completed' "
            "AND ts >= ? AND ts < ?) SELECT count(*) FILTER (WHERE inside), "
            "count(b.pid) FILTER (WHERE inside), count(*) FILTER (WHERE NOT inside), "
            "count(b.pid) FILTER (WHERE NOT inside) FROM pop LEFT JOIN buyers b USING (pid)",
            [at, at, at, end],
        ).fetchone()
        assert found is not None
        out.append(tuple(int(v) for v in found))
    return out  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("bench/data/ws-sorted"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    times: dict[str, dict[str, list[float]]] = {
        k: {"segmint": [], "hand": []} for k in ("create", "report", "backtest")
    }
    facts: dict[str, Any] = {}
    with segmint.open(args.workspace) as ws:
        _clean(ws)
        backtest_segment, (_, backtest_sql) = next(iter(SEGMENTS.items()))
        for round_ in range(args.rounds):
            name = f"{PREFIX}{round_}"
            seconds, campaign = _timed(
                lambda name=name: ws.create_campaign(
                    name, list(SEGMENTS), "did order_completed", HOLDOUT, WINDOW_DAYS, START
                )
            )
            hand_seconds, audience = _timed(lambda: hand_create(ws))
            if audience != campaign.audience:
                raise SystemExit(f"audience {campaign.audience} != hand-written {audience}")
            times["create"]["segmint"].append(seconds)
            times["create"]["hand"].append(hand_seconds)
            seconds, report = _timed(lambda name=name: ws.campaign_report(name))
            hand_seconds, counts = _timed(lambda name=name: hand_report(ws, name))
            for response in report.segments:
                c, money = response.conversion, response.revenue
                mine = (c.treated, c.treated_converted, c.held, c.held_converted)
                treated = counts.get((response.segment, "treatment"), (0, 0, 0.0))
                held = counts.get((response.segment, "holdout"), (0, 0, 0.0))
                if mine != (*treated[:2], *held[:2]):
                    raise SystemExit(f"{response.segment}: {mine} != {treated} {held}")
                for group, mean, size in (
                    (treated, money.treated_mean, money.treated),
                    (held, money.held_mean, money.held),
                ):
                    if size and abs((mean or 0.0) * size - group[2]) > 1e-6 * max(1, group[2]):
                        raise SystemExit(f"{response.segment}: revenue {mean} x {size} != {group}")
            times["report"]["segmint"].append(seconds)
            times["report"]["hand"].append(hand_seconds)
            seconds, backtest = _timed(
                lambda: ws.backtest(
                    backtest_segment, BACKTEST_AT, "did order_completed", BACKTEST_WINDOW
                )
            )
            hand_seconds, hand_points = _timed(lambda: hand_backtest(ws, backtest_sql))
            mine_points = [
                (
                    p.conversion.treated,
                    p.conversion.treated_converted,
                    p.conversion.held,
                    p.conversion.held_converted,
                )
                for p in backtest.points
            ]
            if mine_points != hand_points:
                raise SystemExit(f"backtest {mine_points} != hand-written {hand_points}")
            times["backtest"]["segmint"].append(seconds)
            times["backtest"]["hand"].append(hand_seconds)
            facts = {
                "audience": campaign.audience,
                "by_segment": {s: list(v) for s, v in campaign.by_segment.items()},
                "verdicts": {r.segment: r.verdict for r in report.segments},
                "backtest_points": mine_points,
            }
            last = {k: (v["segmint"][-1], v["hand"][-1]) for k, v in times.items()}
            print(
                f"round {round_ + 1}: "
                + ", ".join(f"{k} {a:.2f} s (hand {b:.2f} s)" for k, (a, b) in last.items()),
                flush=True,
            )
        _clean(ws)
        for segment in SEGMENTS:
            ws.remove_segment(segment)
    summary = {}
    print("| step | segmint | hand-written | ratio |\n| --- | ---: | ---: | ---: |")
    for step, sides in times.items():
        mine, hand = statistics.median(sides["segmint"]), statistics.median(sides["hand"])
        summary[step] = {"segmint": mine, "hand": hand, "ratio": mine / hand, "runs": sides}
        print(f"| {step} | {mine:.2f} s | {hand:.2f} s | {mine / hand:.2f}x |")
    print(json.dumps(facts, indent=2))
    if args.out:
        report_out = {"workspace": str(args.workspace), "facts": facts, "steps": summary}
        args.out.write_text(json.dumps(report_out, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
