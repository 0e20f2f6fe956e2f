"""Traits benchmark: every trait of every customer at one as_of, the CLV fits, peak RSS.

    python bench/traits_bench.py --workspace bench/data/ws-sorted [--as-of ISO] [--repeat 3]
        [--out F.json]

The workspace holds the ingest benchmark's data (1M customers, 50M events; see
bench/README.md). Measured:

1. ``all``: ``ws.traits_result(as_of)`` in a fresh process: both model fits and every
   trait of section 5, as the ``segmint traits`` command runs it; its time and the
   process's peak RSS.
2. ``fits``: the summary query, then the BG/NBD fit alone and the Gamma-Gamma fit alone.
3. ``sql``: the traits that are pure SQL (all but the model-based five) through segmint,
   against one hand-written DuckDB query of the same traits, in the same process,
   median of ``--repeat`` runs after a first; both results must be equal.

Each measurement runs in its own process (``--child``) so that peak RSS is its own. The
data end at 2026-11-01 (the default as_of); at an earlier as_of ``last_seen_at`` must scan
the events of everyone active since, which is the slow case.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # the end of the benchmark data
AS_OF = DEFAULT_AS_OF  # set from --as-of
SQL_TRAITS = (
    "orders_count",
    "revenue_total",
    "aov",
    "first_order_at",
    "last_order_at",
    "days_since_last_order",
    "first_seen_at",
    "last_seen_at",
    "days_since_last_seen",
    "tenure_days",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "lifecycle_stage",
    "orders_trend_60d",
    "email_open_rate_90d",
    "email_click_rate_90d",
)


def ts(days: int = 0) -> str:
    return f"TIMESTAMPTZ '{(AS_OF - timedelta(days=days)).isoformat()}'"


def hand_written_sql() -> str:
    """The SQL traits as an analyst would write them for DuckDB (docs/traits.md)."""
    now = ts()
    day = 86_400_000_000
    since = f"(epoch_us({now}) - epoch_us({{}})) // {day}"
    grid = {
        5: ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
        4: ("Promising", "Potential Loyalist", "Loyal", "Loyal", "Champions"),
        3: ("About to Sleep", "Need Attention", "Need Attention", "Loyal", "Loyal"),
        2: ("Hibernating", "About to Sleep", "At Risk", "At Risk", "Can't Lose"),
        1: ("Lost", "Hibernating", "At Risk", "Can't Lose", "Can't Lose"),
    }
    cells = " ".join(
        f"WHEN {r * 10 + i + 1} THEN '{name.replace(chr(39), chr(39) * 2)}'"
        for r, row in grid.items()
        for i, name in enumerate(row)
    )
    return f"""
WITH people AS (
  SELECT pid, customer_id, created_at, first_event_at, last_event_at FROM profiles
  WHERE customer_id IS NOT NULL AND (created_at <= {now} OR (created_at IS NULL AND
        (first_event_at IS NULL OR first_event_at <= {now})))
), purchases AS (
  SELECT pid, ts, revenue FROM events WHERE event = 'order_completed' AND ts <= {now}
), orders AS (
  SELECT pid, count(*) AS n, sum(revenue) AS revenue, min(ts) AS first_at, max(ts) AS last_at,
         count(*) FILTER (WHERE ts > {ts(60)}) AS recent,
         count(*) FILTER (WHERE ts > {ts(120)} AND ts <= {ts(60)}) AS prior
  FROM purchases GROUP BY pid
), gaps AS (
  SELECT d - lag(d) OVER (PARTITION BY pid ORDER BY d) AS gap
  FROM (SELECT DISTINCT pid, epoch_us(ts) // {day} AS d FROM purchases)
), cadence AS (
  SELECT CASE WHEN count(gap) >= 30 THEN greatest(ceil(quantile_cont(gap, 0.75))::BIGINT, 1)
              ELSE 90 END AS at_risk,
         CASE WHEN count(gap) >= 30 THEN greatest(ceil(quantile_cont(gap, 0.9))::BIGINT, 1)
              ELSE 180 END AS lapsed0,
         CASE WHEN count(gap) >= 30 THEN greatest(ceil(quantile_cont(gap, 0.97))::BIGINT, 1)
              ELSE 365 END AS churned0
  FROM gaps
), limits AS (
  SELECT at_risk, greatest(lapsed0, at_risk + 1) AS lapsed,
         greatest(churned0, greatest(lapsed0, at_risk + 1) + 1) AS churned,
         (SELECT greatest(coalesce(ceil(quantile_cont(n, 0.8))::BIGINT, 3), 3) FROM orders)
           AS loyal
  FROM cadence
), email AS (
  SELECT pid, count(*) FILTER (WHERE event = 'email_sent') AS sent,
         count(*) FILTER (WHERE event = 'email_opened') AS opens,
         count(*) FILTER (WHERE event = 'email_clicked') AS clicks
  FROM events WHERE event IN ('email_sent', 'email_opened', 'email_clicked')
    AND ts > {ts(90)} AND ts <= {now}
  GROUP BY pid
), scored AS (
  SELECT o.pid,
    1 + (5 * (rank() OVER (ORDER BY {since.format("o.last_at")} DESC) - 1))
        // count(*) OVER () AS r,
    1 + (5 * (rank() OVER (ORDER BY o.n) - 1)) // count(*) OVER () AS f,
    1 + (5 * (rank() OVER (ORDER BY o.revenue) - 1)) // count(*) OVER () AS m
  FROM orders o JOIN people USING (pid)
), seen AS (
  SELECT pid, max(ts) AS last_at FROM events
  WHERE ts <= {now} AND pid IN (SELECT pid FROM people WHERE last_event_at > {now})
  GROUP BY pid
)
SELECT p.customer_id,
  coalesce(o.n, 0) AS orders_count,
  coalesce(o.revenue, 0)::DECIMAL(38, 4) AS revenue_total,
  coalesce(o.revenue, 0)::DOUBLE / o.n AS aov,
  o.first_at AS first_order_at, o.last_at AS last_order_at,
  {since.format("o.last_at")} AS days_since_last_order,
  CASE WHEN p.first_event_at <= {now} THEN p.first_event_at END AS first_seen_at,
  CASE WHEN p.last_event_at <= {now} THEN p.last_event_at ELSE s.last_at END AS last_seen_at,
  {since.format(f"CASE WHEN p.last_event_at <= {now} THEN p.last_event_at ELSE s.last_at END")}
    AS days_since_last_seen,
  {since.format("coalesce(p.created_at, p.first_event_at)")} AS tenure_days,
  sc.r AS r_score, sc.f AS f_score, sc.m AS m_score,
  CASE sc.r * 10 + (sc.f + sc.m + 1) // 2 {cells} END AS rfm_segment,
  CASE WHEN o.n IS NULL THEN 'subscriber'
       WHEN {since.format("o.last_at")} > l.churned THEN 'churned'
       WHEN {since.format("o.last_at")} > l.lapsed THEN 'lapsed'
       WHEN {since.format("o.last_at")} > l.at_risk THEN 'at_risk'
       WHEN o.n >= l.loyal THEN 'loyal'
       WHEN o.n >= 2 THEN 'repeat_buyer'
       ELSE 'first_time_buyer' END AS lifecycle_stage,
  (o.recent - o.prior)::DOUBLE / nullif(o.prior, 0) AS orders_trend_60d,
  CASE WHEN e.opens::DOUBLE / nullif(e.sent, 0) > 1 THEN 1.0
       ELSE e.opens::DOUBLE / nullif(e.sent, 0) END AS email_open_rate_90d,
  CASE WHEN e.clicks::DOUBLE / nullif(e.sent, 0) > 1 THEN 1.0
       ELSE e.clicks::DOUBLE / nullif(e.sent, 0) END AS email_click_rate_90d
FROM people p
LEFT JOIN orders o USING (pid) LEFT JOIN scored sc USING (pid) LEFT JOIN email e USING (pid)
LEFT JOIN seen s USING (pid) CROSS JOIN limits l
ORDER BY p.customer_id
"""


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


def child(what: str, workspace: Path, repeat: int) -> dict[str, Any]:
    import segmint
    from segmint.segments.query import parse_as_of

    with segmint.open(workspace) as ws:
        if what == "all":
            start = time.perf_counter()
            result = ws.traits_result(AS_OF)
            seconds = time.perf_counter() - start
            return {
                "seconds": seconds,
                "rows": result.table.num_rows,
                "columns": result.table.num_columns,
                "warnings": result.warnings,
                "peak_rss_gb": peak_rss_gb(),
            }
        if what == "fits":
            from segmint.traits.clv import fit_bgnbd, fit_gamma_gamma
            from segmint.traits.expressions import TraitSettings
            from segmint.traits.models import read_summary

            start = time.perf_counter()
            s = read_summary(ws._db, parse_as_of(AS_OF), TraitSettings.from_config(ws.config))
            summary = time.perf_counter() - start
            start = time.perf_counter()
            bgnbd = fit_bgnbd(s["x"], s["t_x"], s["T"])
            bg_seconds = time.perf_counter() - start
            repeat_rows = s["x"] > 0
            start = time.perf_counter()
            gg = fit_gamma_gamma(s["x"][repeat_rows], s["mbar"][repeat_rows])
            gg_seconds = time.perf_counter() - start
            return {
                "summary_seconds": summary,
                "bgnbd_seconds": bg_seconds,
                "gamma_gamma_seconds": gg_seconds,
                "buyers": len(s["x"]),
                "bgnbd": bgnbd.to_json(),
                "gamma_gamma": gg.to_json(),
                "peak_rss_gb": peak_rss_gb(),
            }
        assert what == "sql"
        from dataclasses import replace

        # The hand-written query scores recency by quintiles among buyers; compare like
        # with like ([rfm] recency = "cadence" is the default since issue 15).
        ws.config = replace(ws.config, rfm=replace(ws.config.rfm, recency="quintiles"))
        hand = hand_written_sql()
        times: dict[str, list[float]] = {"segmint": [], "hand": []}
        first: dict[str, float] = {}
        tables: dict[str, Any] = {}
        for i in range(repeat + 1):
            for side in ("segmint", "hand"):
                start = time.perf_counter()
                if side == "segmint":
                    table = ws.traits(AS_OF, names=list(SQL_TRAITS))
                else:
                    table = ws._db.execute(hand).arrow().read_all()
                elapsed = time.perf_counter() - start
                if i == 0:
                    first[side] = elapsed
                    tables[side] = table
                else:
                    times[side].append(elapsed)
        same = tables["segmint"].cast(tables["hand"].schema).equals(tables["hand"])
        if not same:
            raise SystemExit("segmint's traits differ from the hand-written query's")
        median = {side: statistics.median(values) for side, values in times.items()}
        return {
            "segmint_seconds": median["segmint"],
            "hand_seconds": median["hand"],
            "ratio": median["segmint"] / median["hand"],
            "first_segmint_seconds": first["segmint"],
            "first_hand_seconds": first["hand"],
            "rows": tables["hand"].num_rows,
            "peak_rss_gb": peak_rss_gb(),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("bench/data/ws-sorted"))
    parser.add_argument("--as-of", default=DEFAULT_AS_OF.isoformat())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", choices=("all", "fits", "sql"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global AS_OF
    AS_OF = datetime.fromisoformat(args.as_of).astimezone(UTC)
    if args.child:
        print(json.dumps(child(args.child, args.workspace, args.repeat)))
        return
    report: dict[str, Any] = {"workspace": str(args.workspace), "as_of": AS_OF.isoformat()}
    for what in ("all", "fits", "sql"):
        command = [sys.executable, __file__, "--child", what, "--workspace", str(args.workspace)]
        command += ["--repeat", str(args.repeat), "--as-of", AS_OF.isoformat()]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{what} failed:\n{done.stderr}")
        report[what] = json.loads(done.stdout.strip().splitlines()[-1])
        print(what, json.dumps(report[what], indent=1), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
