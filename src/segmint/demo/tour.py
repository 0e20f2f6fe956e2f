"""``segmint demo``: build a synthetic shop in a new workspace through the public ingest path
and gather what a first look at it shows. Rendering is the front-end's job (cli/render.py).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from segmint.console import Progress
from segmint.errors import ArgumentError, WorkspaceError
from segmint.ingest.load import LoadResult
from segmint.workspace import Workspace, init


@dataclass(frozen=True)
class DemoReport:
    """What the demo built and found."""

    root: Path
    data_end: datetime
    loads: list[LoadResult]
    stats: dict[str, int]
    anonymous_profiles: int
    events_by_name: list[tuple[str, int]]
    orders: int
    revenue: float  # in the base currency, refunds and excluded statuses left out
    # Orders as stored: left out (excluded status or refunded in full), partly refunded,
    # converted from another currency, and how many other currencies.
    orders_left_out: int
    orders_partly_refunded: int
    orders_converted: int
    other_currencies: int
    countries: list[tuple[str, int]]
    devices: list[tuple[str, int]]
    merged_example: str | None
    seconds: float
    segments: list[tuple[str, str, str, int]]  # name, title, rule text, size at data_end
    # The built-in templates, the same way; size None when the CLV models cannot be fitted.
    templates: list[tuple[str, str, str, int | None]]
    thresholds: dict[str, int]  # lifecycle thresholds in force at data_end
    refreshes: int = 0  # weekly refreshes of every saved segment up to data_end
    findings: list[tuple[str, list[str], str]] = field(default_factory=list)  # the review
    clusters: DemoClusters | None = None  # k-means at data_end, one cluster saved
    exports: list[dict[str, Any]] = field(default_factory=list)  # the export ledger's rows
    # The campaign on two segments (generate.py CAMPAIGN): its report (CampaignReport's
    # to_dict()) and, per segment, the true lift in conversion the shop was generated with.
    campaign: dict[str, Any] | None = None
    true_lifts: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoClusters:
    """The demo's cluster run and the cluster it saved as a segment."""

    run_id: int
    k: int
    reason: str
    # id, name, size, share, rule text, precision, recall
    clusters: list[tuple[int, str, int, float, str, float, float]]
    saved: str  # the segment name
    saved_cluster: int
    saved_size: int  # its size when refreshed at data_end
    silhouette: float  # of the chosen k
    features: int  # traits clustered on


# The tour's example segments: (name, title, campaign, rule text). The first is the
# question segmint was started for.
EXAMPLE_SEGMENTS = (
    (
        "ios-boxing-lapsed",
        "Apple users into boxing who stopped using the app",
        "boxing gear email with an app comeback offer",
        'device_os = "ios" and interests contains "boxing" and not did app_open in last 90 days',
    ),
    (
        "repeat-buyers",
        "Bought twice or more in the last 90 days",
        "early access to the new collection",
        "did order_completed at least 2 times in last 90 days",
    ),
    (
        "big-spenders",
        "Spent over 500 in the last year",
        "VIP thank-you gift",
        "sum(revenue) of order_completed in last 365 days > 500",
    ),
    (
        "cart-abandoners",
        "Added to cart this week without ordering",
        "cart reminder email",
        "did add_to_cart in last 7 days and not did order_completed in last 7 days",
    ),
    (
        "shoe-browsers",
        "Looked at shoes three times this month",
        "shoe sale announcement",
        'did product_view where category = "shoes" at least 3 times in last 30 days',
    ),
    (
        "window-shoppers",
        "Browsed five products this month, no order in 90 days",
        "best-sellers email with free shipping",
        "did product_view at least 5 times in last 30 days and "
        "not did order_completed in last 90 days",
    ),
    (
        "lapsed-buyers",
        "Last order more than 60 days ago",
        "win-back series",
        "last order_completed more than 60 days ago",
    ),
    (
        "no-opens-180d",
        "Consented to email but opened none in 180 days",
        "re-permission campaign",
        "email_consent = true and not did email_opened in last 180 days",
    ),
)


def build_demo(
    directory: str | os.PathLike[str],
    customers: int = 5000,
    seed: int = 0,
    progress: Progress | None = None,
    end: datetime | None = None,
    force: bool = False,
) -> DemoReport:
    """Create a workspace at ``directory`` holding a synthetic shop; return the tour's facts.

    >>> import tempfile, pathlib
    >>> report = build_demo(pathlib.Path(tempfile.mkdtemp()) / "shop", customers=100)
    >>> report.stats["customers"] >= 100
    True
    """
    import time

    from segmint.demo.generate import CAMPAIGN, generate_shop

    directory = Path(directory)

    if customers < MIN_CUSTOMERS:
        raise WorkspaceError(
            f"--customers must be at least {MIN_CUSTOMERS} (a smaller shop has too few orders "
            f"for the tour's segments, models and clusters), got {customers}"
        )
    if customers > MAX_CUSTOMERS:
        raise ArgumentError(
            f"--customers: at most {MAX_CUSTOMERS:,} in the demo (generated in memory), "
            f"got {customers:,}"
        )
    if not 0 <= seed <= MAX_SEED:
        raise ArgumentError(f"--seed: must be between 0 and {MAX_SEED:,}, got {seed}")
    clock = time.perf_counter()
    _prepare(directory, force)
    ws = init(directory)
    with ws:
        shop = generate_shop(directory / "data", customers=customers, seed=seed, end=end)
        # Shops load in batches; the last 90 days come as a second load, so visitors who
        # browsed anonymously before and log in now are merged, as they would be in life.
        history, recent = split_csv_at(shop.events, shop.end - timedelta(days=90))
        loads = [
            ws.ingest("customers", shop.customers, progress=progress),
            ws.ingest("events", history, progress=progress),
            ws.ingest("events", recent, progress=progress),
            ws.ingest("events", shop.app_events, progress=progress),
            # Rates first: an order in a currency without a rate would be rejected.
            ws.ingest("rates", shop.rates, progress=progress),
            ws.ingest("orders", shop.orders, progress=progress),
            # Refunds arrive later, as orders loaded again with a new status or refund.
            ws.ingest("orders", shop.order_updates, progress=progress),
        ]
        segments = _example_segments(ws, shop.end)
        _campaign_segments(ws)
        templates = _templates(ws, shop.end)
        refreshes = _history(ws, shop.end, progress)
        exports = _exports(ws, shop.end, templates, progress)
        report = _report(ws, shop.end, loads, segments, templates, time.perf_counter() - clock)
        clusters = _clusters(ws, shop.end, progress)
        campaign = _campaign(ws, shop.end)
        # After the campaign, so the review judges its segments on the response too.
        findings = [(f.kind, f.segments, f.message) for f in ws.review().findings]
        return replace(
            report,
            refreshes=refreshes,
            findings=findings,
            clusters=clusters,
            exports=exports,
            campaign=campaign,
            true_lifts={s.name: s.true_lift for s in CAMPAIGN.segments},
        )


def _example_segments(ws: Workspace, as_of: datetime) -> list[tuple[str, str, str, int]]:
    """Save the example segments (as any user would) and count them at the data's end."""
    sizes = []
    for name, title, campaign, text in EXAMPLE_SEGMENTS:
        ws.add_segment(name, text, title=title, campaign=campaign)
    evaluator = ws.evaluator()
    for name, title, _, text in EXAMPLE_SEGMENTS:
        sizes.append((name, title, text, evaluator.count(text, as_of)))
    return sizes


def _campaign_segments(ws: Workspace) -> None:
    """Save the segments of the demo's campaign, customers by plan, so that they are
    refreshed with the others."""
    from segmint.demo.generate import CAMPAIGN

    for segment in CAMPAIGN.segments:
        ws.add_segment(segment.name, segment.rule, title=segment.title, campaign=CAMPAIGN.name)


def _campaign(ws: Workspace, end: datetime) -> dict[str, Any]:
    """Run the campaign the shop was generated with (its start is in the past and its
    window over, so its report is final) and return the report."""
    from segmint.demo.generate import CAMPAIGN

    ws.create_campaign(
        CAMPAIGN.name,
        [s.name for s in CAMPAIGN.segments],
        CAMPAIGN.goal,
        holdout=CAMPAIGN.holdout,
        window=CAMPAIGN.window_days,
        starts=end - timedelta(days=CAMPAIGN.days_before_end),
    )
    return ws.campaign_report(CAMPAIGN.name).to_dict()


def _templates(ws: Workspace, as_of: datetime) -> list[tuple[str, str, str, int | None]]:
    """Save every built-in template as a segment and count each at the data's end (a tiny
    shop may have too few repeat buyers for the CLV models: those sizes are None)."""
    from segmint.segments.templates import count_templates

    ws.add_templates()
    counted = count_templates(ws.evaluator(), as_of)
    return [(c.template.name, c.template.title, c.template.rule, c.size) for c in counted]


HISTORY_WEEKS = 8
MIN_CUSTOMERS = 50
MAX_CUSTOMERS = 1_000_000
MAX_SEED = 2**32 - 1  # what NumPy's random generators take


def _history(ws: Workspace, end: datetime, progress: Progress | None) -> int:
    """Refresh every saved segment weekly over the last weeks up to the data's end, so
    segments have a history, trends and a review to show."""
    for weeks in range(HISTORY_WEEKS, -1, -1):
        ws.refresh(as_of=end - timedelta(weeks=weeks), progress=progress)
    return HISTORY_WEEKS + 1


# The tour's exports: one example segment per destination, each as of its last refresh.
EXAMPLE_EXPORTS = (
    ("big-spenders", "csv"),
    ("shoe-browsers", "parquet"),
    ("window-shoppers", "jsonl"),
    ("cart-abandoners", "klaviyo"),
    ("no-opens-180d", "mailchimp"),
    ("repeat-buyers", "meta"),
    ("lapsed-buyers", "google"),
)
# Exported a week before the last refresh, then only what changed since: a weekly sync.
DELTA_EXPORT = ("lapsed-buyers", "google")


def _exports(
    ws: Workspace,
    end: datetime,
    templates: list[tuple[str, str, str, int | None]],
    progress: Progress | None,
) -> list[dict[str, Any]]:
    """Export the example segments into the workspace's exports/ folder and return the
    ledger. Meta gets the predicted CLV as its value column, for a value-based lookalike,
    when the CLV models could be fitted (a tiny shop has too few repeat buyers), else the
    revenue so far."""
    from segmint.activation.exports import FILES, extension

    folder = ws.root / "exports"
    folder.mkdir(exist_ok=True)
    fitted = all(size is not None for *_, size in templates)
    value = "predicted_clv_365d" if fitted else "revenue_total"
    last_week = end - timedelta(weeks=1)

    def export(name: str, to: str, as_of: datetime, delta: bool = False) -> None:
        # Named here, not by the wall clock as `segmint export` names them: two exports of
        # a pair in the same second would share a file.
        stem = name if to in FILES else f"{name}-{to}"
        out = folder / f"{stem}{'-delta' if delta else ''}.{extension(to)}"
        worth = value if to == "meta" else None
        ws.export(name, to, out, as_of, delta, value=worth, progress=progress)

    for name, to in EXAMPLE_EXPORTS:
        export(name, to, last_week if (name, to) == DELTA_EXPORT else end)
    export(*DELTA_EXPORT, end, delta=True)
    return ws.export_history()


def _clusters(ws: Workspace, end: datetime, progress: Progress | None) -> DemoClusters:
    """Cluster the customers at the data's end, save the cluster whose rule is most
    faithful (F1 of precision and recall) as a rule segment and refresh it."""
    import re

    run = ws.cluster(as_of=end, progress=progress)

    def f1(c: Any) -> float:
        p, r = c.precision or 0.0, c.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    best = max(run.clusters, key=f1)
    name = "cluster-" + re.sub(r"[^a-z0-9]+", "-", best.name.lower()).strip("-")
    ws.save_cluster(run.run_id, best.id, name, "rule", replace=True)
    refreshed = ws.refresh([name], end, progress=progress)
    return DemoClusters(
        run.run_id,
        run.k,
        run.reason,
        [
            (c.id, c.name, c.size, c.share, c.rule, c.precision or 0.0, c.recall or 0.0)
            for c in run.clusters
        ],
        name,
        best.id,
        refreshed.runs[0].size or 0,
        next(s.silhouette for s in run.scores if s.k == run.k),
        len(run.params.get("features", [])),
    )


def split_csv_at(path: Path, cutoff: datetime) -> tuple[Path, Path]:
    """Split a time-ordered events CSV into rows before ``cutoff``'s day and from it on."""
    day = cutoff.strftime("%Y-%m-%d")
    before = path.with_name(path.stem + "-history.csv")
    after = path.with_name(path.stem + "-recent.csv")
    with path.open(encoding="utf-8") as src, before.open("w", encoding="utf-8") as a:
        header = src.readline()
        a.write(header)
        out, ts_index = a, header.rstrip("\n").split(",").index("timestamp")
        with after.open("w", encoding="utf-8") as b:
            b.write(header)
            for line in src:
                # Our generator writes no quoted commas before the timestamp column.
                stamp = line.split(",", ts_index + 1)[ts_index][:10]
                if out is a and stamp[:4].isdigit() and stamp >= day:
                    out = b
                out.write(line)
    path.unlink()
    return before, after


def _prepare(directory: Path, force: bool) -> None:
    if not directory.exists():
        return
    if not force:
        raise WorkspaceError(
            f"{directory} already exists; pass --force to replace it or name another folder"
        )
    if not (directory / "segmint.toml").exists():
        raise WorkspaceError(f"{directory} exists and is not a segmint workspace; not replacing it")
    shutil.rmtree(directory)


def _report(
    ws: Workspace,
    end: datetime,
    loads: list[LoadResult],
    segments: list[tuple[str, str, str, int]],
    templates: list[tuple[str, str, str, int | None]],
    seconds: float,
) -> DemoReport:
    found = ws.overview()
    return DemoReport(
        root=ws.root,
        data_end=end,
        loads=loads,
        stats=ws.stats(),
        anonymous_profiles=found.anonymous_profiles,
        events_by_name=list(found.events_by_name),
        orders=found.order_events,
        revenue=float(found.revenue),
        orders_left_out=found.orders.left_out,
        orders_partly_refunded=found.orders.partly_refunded,
        orders_converted=found.orders.converted,
        other_currencies=found.orders.other_currencies,
        countries=list(found.countries),
        devices=list(found.devices),
        merged_example=found.most_merged_customer,
        seconds=seconds,
        segments=segments,
        templates=templates,
        thresholds=ws.lifecycle_thresholds(end),
    )
