"""Rich rendering of results for people (the --json forms are for machines)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from segmint.cli.formats import (
    DEFAULT_CURRENCY,
    MONEY_TRAITS,
    RATE_TRAITS,
    instant,
    money,
    percent,
    plain,
    plural,
    seconds,
    trait,
)

if TYPE_CHECKING:
    from segmint.demo.tour import DemoClusters, DemoReport
    from segmint.identity.view import CustomerView


# At least this many columns show the wide `segment list` (rule and campaign in the table).
WIDE_LIST: int = 120
# The most overlapping pairs listed when the overlap grid does not fit the terminal.
TOP_PAIRS: int = 10


def print_customer(view: CustomerView, currency: str = DEFAULT_CURRENCY) -> None:
    """Print a customer profile as a few compact tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    title = view.customer_id or f"anonymous profile #{view.pid}"
    console.print(f"[bold]{title}[/bold]")
    attrs = Table(show_header=False, box=None, padding=(0, 2))
    for name, value in view.attributes.items():
        attrs.add_row(name, plain(value))
    attrs.add_row("first seen", instant(view.first_seen_at))
    attrs.add_row("last seen", instant(view.last_seen_at))
    attrs.add_row("revenue", money(view.revenue_total, currency))
    console.print(attrs)
    if view.identities:
        console.print(
            "identities: " + ", ".join(f"{i['kind']}={i['value']}" for i in view.identities)
        )
    for merge in view.merged_from:
        console.print(
            f"merged: profile of {merge['via']}={merge['value']} "
            f"({plural(merge['events_moved'], 'event')}) at {instant(merge['merged_at'])}"
        )
    if view.traits:
        as_of = instant(view.as_of)
        traits = Table(show_header=False, box=None, padding=(0, 2))
        for name, value in view.traits.items():
            traits.add_row(name, trait(name, value, currency))
        console.print(f"[bold]traits[/bold] as of {as_of}")
        console.print(traits)
    if view.segments:
        console.print("segments: " + ", ".join(view.segments))
    if view.segment_changes:
        changes = Table("as of", "segment", "change", title="segment history", title_justify="left")
        for c in view.segment_changes:
            changes.add_row(instant(c["as_of"]), c["segment"], c["change"])
        console.print(changes)
    if view.orders:
        refunds = any(o["refunded_amount"] for o in view.orders)
        orders = Table(title="orders (latest first)", title_justify="left")
        for name in ("ordered", "order", "status", "total", *(("refunded",) * refunds)):
            orders.add_column(name, no_wrap=True)
        orders.add_column("revenue", no_wrap=True)
        for o in view.orders:
            refunded = money(o["refunded_amount"], o["currency"]) if o["refunded_amount"] else ""
            orders.add_row(
                instant(o["ordered_at"]), o["order_id"], o["status"] or "",
                money(o["total"], o["currency"]), *((refunded,) * refunds),
                money(o["revenue"], currency) if o["counted"] else "excluded",
            )  # fmt: skip
        console.print(orders)
    counts = Table("event", "count", title="events", title_justify="left")
    for event, n in view.event_counts.items():
        counts.add_row(event, f"{n:,}")
    console.print(counts)
    recent = Table("time", "event", "revenue", "properties", title="recent", title_justify="left")
    for e in view.recent_events:
        props = ", ".join(f"{k}={v}" for k, v in e["properties"].items() if v is not None)
        revenue = "" if e["revenue"] is None else money(e["revenue"], currency)
        recent.add_row(instant(e["timestamp"]), e["event"], revenue, props)
    console.print(recent)


def _separation(silhouette: float) -> str:
    """A silhouette in words (scikit-learn's score: -1 to 1; above 0.7 is a strong
    structure, 0.5 a reasonable one, below 0.25 hardly any)."""
    if silhouette >= 0.7:
        return "clearly apart"
    if silhouette >= 0.5:
        return "fairly well apart"
    if silhouette >= 0.25:
        return "overlapping at their edges, as customers usually are"
    return "hardly apart: treat them as a starting point"


def _print_demo_clusters(console: Any, found: DemoClusters) -> None:
    from rich.table import Table

    console.print(
        f"\n[bold]Clusters[/bold]: segmint also let the data group the customers by itself "
        f"(k-means on {found.features} traits: orders, money, recency, tenure, email and "
        f"predicted value) and found {found.k} groups, {_separation(found.silhouette)} "
        f"(silhouette {found.silhouette:.2f}). Each group is named from what sets it apart "
        "and comes with a rule you can read and save: of the customers a rule picks, "
        '"precise" is the share who are in the group; of the group, "caught" is the share '
        f"the rule picks. Run {found.run_id}; `segmint cluster show {found.run_id}` tells why "
        f"k={found.k}."
    )
    table = Table("id", "group", "customers", "share", "rule", "precise", "caught", box=None)
    table.columns[4].overflow = "fold"
    for ident, label, size, part, rule, precision, recall in found.clusters:
        table.add_row(
            str(ident), label, f"{size:,}", percent(part), rule, percent(precision),
            percent(recall),
        )  # fmt: skip
    console.print(table)
    size, precision, recall = next(
        (c[2], c[5], c[6]) for c in found.clusters if c[0] == found.saved_cluster
    )
    caught = round(size * recall)
    others = max(found.saved_size - caught, 0)
    console.print(
        f"Group {found.saved_cluster} ({plural(size, 'customer')}) is saved as the rule segment "
        f"{found.saved}. Refreshed, the rule picks {plural(found.saved_size, 'customer')}: "
        f"{caught:,} of the group ({percent(recall)} of it) and {others:,} others whose traits "
        "the rule's few thresholds cannot tell from the group's. A rule keeps the segment "
        "fresh as customers change; `segmint cluster save ... --as static` keeps the exact "
        "members instead."
    )


def _print_demo_exports(console: Any, report: DemoReport) -> None:
    """The export ledger: one line per export, who was left out and why, and the file."""
    import os

    from rich.table import Table

    from segmint.activation.exports import AUDIENCE_MINIMUM, PLATFORM

    console.print(
        "\n[bold]Exports[/bold]: one example segment per destination, as of its last refresh; "
        "consent and the suppression list decide who goes. The ledger:"
    )
    table = Table("export", "audience", "left out", "file", box=None)
    table.columns[3].overflow = "fold"
    small = []
    for e in report.exports:
        audience = f"{e['exported']:,}"
        if e["delta"]:
            audience += f", delta +{e['added']:,} -{e['removed']:,}"
        if e["exported"] < AUDIENCE_MINIMUM.get(e["destination"], 0):
            small.append(e["destination"])
        left = e["left_out"]
        top = max(left, key=left.get) if left else None
        gone = f"{sum(left.values()):,} ({top})" if top else "-"
        file = os.path.relpath(e["file"], report.root)
        table.add_row(f"{e['segment']} -> {e['destination']}", audience, gone, file)
    console.print(table)
    delta = next((e for e in report.exports if e["delta"]), None)
    if delta is not None:
        console.print(
            f"{delta['segment']} went to {delta['destination']} a week before the last refresh, "
            f"then as a delta: {plural(delta['added'], 'add')} in the file, "
            f"{plural(delta['removed'], 'remove')} in its .remove file."
        )
    if small:
        needs = " and ".join(
            f"{PLATFORM[to]} at least {AUDIENCE_MINIMUM[to]:,}" for to in dict.fromkeys(small)
        )
        console.print(
            f"[yellow]Too small for a platform[/yellow]: {needs} people; the platform may "
            "refuse an audience this size (a real shop's is bigger)."
        )
    console.print("  segmint export SEGMENT --to meta --delta   # changes since the last export")
    console.print("  segmint export history                     # the ledger")


def _print_demo_campaign(console: Any, report: DemoReport) -> None:
    """The demo's campaign: its setup, the lift per segment with its interval and verdict,
    the true lifts the shop was generated with, and what the review makes of it."""
    from rich.table import Table

    found = report.campaign
    assert found is not None
    c = found["campaign"]
    state = "window over" if found["finished"] else "still running"
    console.print(
        f"\n[bold]Campaign[/bold] {c['name']}: {c['audience']:,} customers of "
        f"{' and '.join(c['segments'])} frozen at {c['starts_at'][:10]}, "
        f"{percent(c['holdout'], 0)} held out by a hash of campaign and customer; goal "
        f"{c['goal']} within {c['window_days']} days ({state})"
    )
    table = Table("segment", "treatment", "holdout", "converted", "lift (95 %)", "verdict")
    table.box = None
    for r in [*found["segments"], found["overall"]]:
        conv = r["conversion"]
        interval = conv["absolute_interval"]
        table.add_row(
            r["segment"] or "all (each customer once)",
            f"{conv['treated']:,}",
            f"{conv['held']:,}",
            f"{_pct(conv['treated_rate'])} vs {_pct(conv['held_rate'])}",
            _points(conv["absolute"]) + _interval(None if interval is None else tuple(interval)),
            r["verdict"],
        )
    console.print(table)
    truth = [
        f"{_points(lift)} in {name}" if lift else f"none in {name}"
        for name, lift in report.true_lifts.items()
    ]
    console.print(
        f"The shop was generated with a true lift of {' and '.join(truth)}: each 95 % "
        "interval should hold its segment's true lift (19 campaigns in 20)."
    )
    # The findings a campaign's response leads to (activation/evidence.py).
    evidence = ("respond_identically", "unresponsive")
    named = [f for f in report.findings if f[0] in evidence and set(f[1]) & set(c["segments"])]
    for kind, _, message in named:
        console.print(f"  review, {kind}: {message}")
    if not named:
        console.print(
            "  review: no finding on these segments (a merge needs lifts that match; "
            "retiring needs campaigns without lift in a row)"
        )
    console.print(f"  segmint campaign report {c['name']}   # the full report")


def print_demo(report: DemoReport, currency: str = DEFAULT_CURRENCY) -> None:
    """The demo tour: what was loaded, what identity resolution did, where to go next."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    s = report.stats
    console.print(
        f"[bold]segmint demo[/bold]: a synthetic shop in [cyan]{report.root}[/cyan] "
        f"(data up to {instant(report.data_end)}, built in {seconds(report.seconds)})\n"
    )
    loads = Table(
        "file", "rows", "accepted", "updated", "rejected", "new profiles", "merges", box=None
    )
    for r in report.loads:
        loads.add_row(
            r.source, f"{r.rows_read:,}", f"{r.accepted:,}", f"{r.updated:,}",
            f"{r.rejected:,}", f"{r.profiles_created:,}", f"{r.merges:,}",
        )  # fmt: skip
    console.print(loads)
    console.print(
        f"\n[bold]{s['profiles']:,} profiles[/bold]: {s['customers']:,} known customers and "
        f"{report.anonymous_profiles:,} anonymous visitors who never identified; "
        f"{s['merges']:,} anonymous profiles merged into customers when they logged in."
    )
    console.print(
        f"[bold]{s['events']:,} events[/bold], {report.orders:,} orders, "
        f"revenue {money(report.revenue, currency)}."
    )
    console.print(
        f"Revenue is in {currency}, the base currency: "
        f"{plural(report.orders_converted, 'order')} in {report.other_currencies} other "
        "currencies converted at the rate of their order date, "
        f"{plural(report.orders_partly_refunded, 'partial refund')} deducted, and "
        f"{plural(report.orders_left_out, 'refunded or cancelled order')} left out (they are "
        "not purchases)."
    )
    events = ", ".join(f"{name} {n:,}" for name, n in report.events_by_name[:9])
    console.print(f"events by name: {events}")
    console.print("top countries: " + ", ".join(f"{c} {n:,}" for c, n in report.countries))
    if report.devices:
        console.print("device_os: " + ", ".join(f"{d} {n:,}" for d, n in report.devices))
    rejects = [r for r in report.loads if r.rejected]
    for r in rejects:
        console.print(
            f"[yellow]{plural(r.rejected, 'row')} rejected[/yellow] from {r.source}: "
            f"{r.rejects_file}"
        )
    customers = s["customers"]
    console.print(
        f"\n[bold]Example segments[/bold] (saved in segments/; as of {instant(report.data_end)})"
    )
    table = Table("segment", "customers", "share", "rule", box=None)
    for name, title, text, size in report.segments:
        share = percent(size / customers) if customers else "-"
        table.add_row(f"{name}\n[dim]{title}[/dim]", f"{size:,}", share, text)
    console.print(table)
    console.print(
        f"\n[bold]Built-in templates[/bold] (saved in segments/; RFM, lifecycle, CLV and "
        f"engagement traits as of {instant(report.data_end)}; `segmint templates` for campaigns)"
    )
    table = Table("template", "customers", "share", "rule", box=None)
    for name, _, text, counted in report.templates:
        if counted is None:  # too few repeat buyers for the CLV models
            table.add_row(name, "-", "-", f"{text} [dim](CLV models need more data)[/dim]")
            continue
        share = percent(counted / customers) if customers else "-"
        table.add_row(name, f"{counted:,}", share, text)
    console.print(table)
    t = report.thresholds
    console.print(
        f"lifecycle thresholds from this shop's purchase cadence: at risk after "
        f"{t['at_risk_days']} days without an order, lapsed after {t['lapsed_days']}, "
        f"churned after {t['churned_days']}; loyal from {t['loyal_orders']} orders"
    )
    sizes = {name: size for name, _, _, size in report.templates}
    churn = [sizes.get(n) for n in ("churned", "lifecycle-churned", "high-churn-risk")]
    if None not in churn:
        lost, stage, risk = (f"{n:,}" for n in churn)
        console.print(
            "Three templates speak of churn, and each answers its own question: "
            f'churned ({lost}) are the RFM group "Lost", lowest on recency, frequency and '
            f"money at once; lifecycle-churned ({stage}) have not ordered for over "
            f"{t['churned_days']} days, longer than almost every gap between two orders here; "
            f"high-churn-risk ({risk}) are buyers the CLV model gives a low chance of still "
            f"buying, or silent past the lapsed threshold ({t['lapsed_days']} days)."
        )
    if report.refreshes:
        kinds: dict[str, int] = {}
        for kind, _, _ in report.findings:
            kinds[kind] = kinds.get(kind, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in kinds.items()) or "nothing to act on"
        console.print(
            f"\n[bold]Living segments[/bold]: every saved segment refreshed weekly "
            f"({plural(report.refreshes, 'refresh', 'refreshes')} up to "
            f"{instant(report.data_end)}), entries and exits "
            f"stored. Review findings: {summary}."
        )
        for kind, _, message in report.findings:
            if kind != "too_many_active":
                console.print(f"  {kind}: {message}")
                break
    if report.exports:
        _print_demo_exports(console, report)
    if report.clusters is not None:
        _print_demo_clusters(console, report.clusters)
    if report.campaign is not None:
        _print_demo_campaign(console, report)
    console.print("\n[bold]Next[/bold]")
    console.print(f"  export SEGMINT_WORKSPACE={report.root}")
    if report.merged_example:
        console.print(f"  segmint customer show {report.merged_example}   # a merged profile")
    first = report.segments[0][0] if report.segments else "NAME"
    console.print(f"  segmint segment members {first}   # who is in a segment (CSV)")
    console.print("  segmint traits --out traits.csv          # RFM, CLV, lifecycle per customer")
    console.print("  segmint models --time-unit week          # the fitted CLV models")
    console.print("  segmint segment show champions           # trend, checks, profile")
    console.print("  segmint review                           # the quarterly review")
    console.print("  segmint cluster                          # clusters, named, as rules")
    console.print(
        "  segmint segment count --rule 'country = \"US\" and did app_open in last 7 days'"
    )
    console.print("  segmint ingest events more.csv            # add your own data")


def print_refresh(result: Any) -> None:
    """A refresh: one line per segment (size, entered, exited) and a summary."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table("segment", "size", "entered", "exited", "status", "mode", box=None)
    for r in result.runs:
        if r.status == "ok":
            table.add_row(
                r.name, f"{r.size:,}", f"+{r.entered:,}", f"-{r.exited:,}", "ok", r.mode or ""
            )
        else:
            table.add_row(r.name, "-", "-", "-", "[red]failed[/red]", "")
    console.print(table)
    failed = len(result.failed)
    incremental = sum(r.mode == "incremental" for r in result.runs)
    console.print(
        f"refreshed {plural(len(result.runs) - failed, 'segment')} at {instant(result.as_of)} "
        f"in {seconds(result.seconds)}"
        + (f"; {incremental:,} incrementally" if incremental else "")
        + (f"; {failed:,} failed" if failed else "")
    )


def print_refresh_plan(modes: list[Any]) -> None:
    """``refresh --explain``: how each segment would be refreshed, and why not
    incrementally."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table("segment", "mode", "why", box=None)
    for m in modes:
        table.add_row(m.name, m.mode, m.reason or "")
    console.print(table, soft_wrap=True)
    incremental = sum(m.mode == "incremental" for m in modes)
    console.print(
        f"{incremental:,} of {plural(len(modes), 'segment')} would be refreshed incrementally "
        "(only the customers whose measures or profile changed)"
    )


def print_overlap(sizes: dict[str, int], pairs: list[Any], show_all: bool = False) -> None:
    """The overlap of segments: the grid of every pair when it fits the terminal, else the
    pairs ranked by Jaccard (the top :data:`TOP_PAIRS`, or all of them with ``show_all``)."""
    from rich.console import Console

    console = Console(highlight=False)
    grid = _overlap_grid(sizes, pairs)
    if not show_all and _fits(console, grid):
        console.print(grid)
        console.print("cells: shared members (Jaccard = shared / either)")
        return
    ranked = sorted(pairs, key=lambda o: (-o.jaccard, -o.both, o.a, o.b))
    shown = ranked if show_all else ranked[:TOP_PAIRS]
    console.print(_ranked_pairs(console, sizes, shown))
    console.print(
        "Jaccard = shared / in either; of smaller = shared / the smaller segment's size",
        soft_wrap=True,
    )
    if len(shown) < len(ranked):
        console.print(
            f"the {len(shown)} most overlapping of {plural(len(ranked), 'pair')}; "
            "all: segmint overlap --all (or --json)",
            soft_wrap=True,
        )


def _fits(console: Any, table: Any) -> bool:
    """Whether ``table`` fits the console's width without wrapping or cutting a cell."""
    from rich.measure import Measurement

    # Measured without the console's limit: a table measures at most the width it is given.
    unlimited = console.options.update_width(1_000_000)
    width: int = Measurement.get(console, unlimited, table).maximum
    limit: int = console.width
    return width <= limit


def _overlap_grid(sizes: dict[str, int], pairs: list[Any]) -> Any:
    from rich.table import Table

    names = sorted(sizes)
    shared = {(o.a, o.b): o for o in pairs} | {(o.b, o.a): o for o in pairs}
    table = Table("segment", "size", *names, box=None)
    for a in names:
        cells = []
        for b in names:
            if a == b:
                cells.append("-")
                continue
            o = shared[(a, b)]
            text = f"{o.both:,} ({percent(o.jaccard, 0)})"
            cells.append(f"[bold red]{text}[/bold red]" if o.jaccard > 0.5 else text)
        table.add_row(a, f"{sizes[a]:,}", *cells)
    return table


def _ranked_pairs(console: Any, sizes: dict[str, int], pairs: list[Any]) -> Any:
    """One row per pair; the two names stacked in one cell when side by side is too wide."""
    from rich.table import Table

    def table(stacked: bool) -> Table:
        names = ["segments"] if stacked else ["segment", "and segment"]
        t = Table(*names, "shared", "Jaccard", "of smaller", box=None, pad_edge=False)
        for column in t.columns[len(names) :]:
            column.justify = "right"
        for o in pairs:
            smaller = min(sizes.get(o.a, 0), sizes.get(o.b, 0))
            row = [f"{o.a}\n  & {o.b}"] if stacked else [o.a, o.b]
            of_smaller = percent(o.both / smaller) if smaller else "-"
            jaccard = percent(o.jaccard)
            if o.jaccard > 0.5:
                jaccard = f"[bold red]{jaccard}[/bold red]"
            t.add_row(*row, f"{o.both:,}", jaccard, of_smaller)
        return t

    wide = table(stacked=False)
    return wide if _fits(console, wide) else table(stacked=True)


def print_templates(templates: Any, sizes: dict[str, Any] | None) -> None:
    """The built-in templates: name, title, rule, campaign (and sizes when counted, by
    name; one that cannot be counted shows "-" and its reason under the table)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table("template", "rule", "campaign")
    table.columns[0].no_wrap = True
    table.columns[1].overflow = "fold"
    if sizes is not None:
        table.add_column("size", justify="right", no_wrap=True)
    for t in templates:
        row = [f"{t.name}\n[dim]{t.title}[/dim]", t.rule, t.campaign]
        if sizes is not None:
            size = sizes[t.name].size
            row.append("-" if size is None else f"{size:,}")
        table.add_row(*row)
    console.print(table)
    for counted in (sizes or {}).values():
        if counted.size is None:
            console.print(f"{counted.template.name}: not counted: {counted.reason}", soft_wrap=True)
    console.print("add them as segments with: segmint templates add NAME... or --all")


def print_segment_list(
    definitions: list[Any], sizes: dict[str, int | None] | None, states: dict[str, Any]
) -> None:
    """Saved segments with their last refresh (and sizes now when counted): with rule and
    campaign on a wide terminal, else a compact list (details in ``segment show NAME``)."""
    from rich.console import Console

    console = Console(highlight=False)
    if not definitions:
        console.print("no saved segments (add one with: segmint segment add --rule TEXT --name N)")
        return
    if console.width >= WIDE_LIST:
        console.print(_wide_list(definitions, sizes, states))
    else:
        _print_compact_list(console, definitions, sizes, states)
    console.print(f"{plural(len(definitions), 'segment')}", soft_wrap=True)


def _wide_list(
    definitions: list[Any], sizes: dict[str, int | None] | None, states: dict[str, Any]
) -> Any:
    from rich.markup import escape
    from rich.table import Table

    from segmint.rules.text import to_text

    table = Table("segment", "rule", "campaign", "last refresh")
    table.columns[0].no_wrap = True
    if sizes is not None:
        table.add_column("size now", justify="right")
    for d in definitions:
        if hasattr(d, "error"):  # a file that cannot be read
            table.add_row(d.name, f"[red]unreadable:[/red] {escape(d.error)}", "", "")
            continue
        label = d.name + (f"\n[dim]{d.title}[/dim]" if d.title else "")
        row = [label, to_text(d.rule), d.campaign or "", _state(states.get(d.name))]
        if sizes is not None:
            size = sizes.get(d.name)
            row.append("-" if size is None else f"{size:,}")
        table.add_row(*row)
    return table


def _print_compact_list(
    console: Any,
    definitions: list[Any],
    sizes: dict[str, int | None] | None,
    states: dict[str, Any],
) -> None:
    """One line per segment: name, size and time of the last refresh, status; errors of
    failed refreshes and unreadable files under the table, whole."""
    from rich.markup import escape
    from rich.table import Table

    table = Table("segment", "size", "last refresh", "status", box=None, pad_edge=False)
    table.columns[0].overflow = "fold"
    table.columns[1].justify = "right"
    if sizes is not None:
        table.add_column("size now", justify="right")
    problems: list[str] = []
    for d in definitions:
        state = states.get(d.name)
        if hasattr(d, "error"):
            row = [d.name, "-", "-", "[red]unreadable[/red]"]
            problems.append(f"{d.name}: unreadable: {escape(d.error)}")
        else:
            row = [d.name, *_compact_state(state)]
            if state is not None and state.status == "failed":
                problems.append(f"{d.name}: refresh failed: {escape(state.error or '')}")
        if sizes is not None:
            size = sizes.get(d.name)
            row.append("-" if size is None else f"{size:,}")
        table.add_row(*row)
    console.print(table)
    for problem in problems:
        console.print(problem, soft_wrap=True)
    console.print("rule, campaign, trend and checks: segmint segment show NAME", soft_wrap=True)


def _compact_state(state: Any) -> list[str]:
    """Size, time and status of the last refresh, for the compact list."""
    if state is None or state.status == "never":
        return ["-", "-", "never"]
    size = "-" if state.size is None else f"{state.size:,}"
    if state.status == "failed":
        return [size, instant(state.as_of), "[red]failed[/red]"]
    return [size, instant(state.as_of), state.status]


def _state(state: Any) -> str:
    if state is None or state.status == "never":
        return "never"
    if state.status == "retired":
        return "retired"
    if state.status == "failed":
        from rich.markup import escape

        return f"[red]failed[/red] {instant(state.as_of)}: {escape(state.error or '')}"
    return f"{state.size:,} at {instant(state.as_of)}"


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """A one-line chart of ``values`` (the last 24)."""
    values = values[-24:]
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1
    return "".join(SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in values)


def print_segment(report: Any, currency: str = DEFAULT_CURRENCY) -> None:
    """One segment: definition, size and share, trend, checks, profile against everyone."""
    from rich.console import Console
    from rich.table import Table

    from segmint.rules.text import to_text

    console = Console(highlight=False)
    definition = report.definition
    console.print(
        f"[bold]{definition.name}[/bold]" + (f": {definition.title}" if definition.title else "")
    )
    if definition.description:
        console.print(definition.description)
    console.print(f"campaign: {definition.campaign or '(none)'}")
    console.print(f"rule: {to_text(definition.rule)}")
    source = "last refresh" if report.refreshed else "counted now, not a refresh"
    console.print(
        f"size: {report.size:,} of {plural(report.customers, 'customer')} "
        f"({percent(report.share)}) as of {instant(report.as_of)} ({source})"
    )
    if report.trend:
        sizes = [s for _, s in report.trend]
        console.print(
            f"trend: {sparkline(sizes)}  {sizes[0]:,} -> {sizes[-1]:,} over "
            f"{plural(len(sizes), 'refresh', 'refreshes')} since {instant(report.trend[0][0])}"
        )
    else:
        console.print("trend: not refreshed yet (segmint refresh; --backfill for history)")
    if len(report.versions) > 1:
        changes = ", ".join(f"v{v} from {instant(a)}" for v, a in report.versions)
        console.print(f"definition versions: {changes}")
    if report.quality is not None:
        checks = Table("check", "ok", "value", "threshold", box=None)
        for c in report.quality.checks:
            mark = "[green]yes[/green]" if c.ok else "[red]no[/red]"
            checks.add_row(c.check, mark, *_check_values(c.check, c.value, c.threshold))
        console.print(checks)
    if report.profile:
        console.print(f"profile against everyone ({plural(report.profile_base, 'customer')})")
        table = Table("differs most in", "segment", "everyone", "lift", box=None)
        for row in report.profile:
            label = row.field if row.kind == "mean" else f"{row.field} = {row.value}"
            if row.kind == "mean":
                seg, everyone = (
                    f"mean {_mean(row.field, v, currency)}" for v in (row.segment, row.everyone)
                )
            else:
                seg, everyone = percent(row.segment), percent(row.everyone)
            table.add_row(label, seg, everyone, f"{row.lift:.2f}x")
        console.print(table)


# Checks whose value and threshold are shares (0..1), and the one counted in days.
SHARE_CHECKS = frozenset({"substantial_share", "reachable", "distinct", "stable"})


def _check_values(check: str, value: Any, threshold: Any) -> tuple[str, str]:
    """A quality check's value and threshold: shares as percentages, ages in days."""
    if check in SHARE_CHECKS:
        return percent(value), percent(threshold)
    if check == "fresh":
        return _days(value), _days(threshold)
    return trait("", value), trait("", threshold)


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:g} day" + ("" if value == 1 else "s")


def _mean(field: str, value: float, currency: str) -> str:
    """A profile mean: money and rates as such, other numbers to four digits."""
    if field in MONEY_TRAITS:
        return money(value, currency)
    if field in RATE_TRAITS:
        return percent(value)
    return f"{value:,.4g}"


def print_cluster_run(result: Any) -> None:
    """A cluster run: why this k, the score of each k, each cluster with its rule."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(
        f"cluster run {result.run_id} at {instant(result.as_of)}: "
        f"{result.params['customers']:,} customers, features "
        f"{', '.join(result.params['features'])} ({seconds(result.seconds)})"
    )
    scores = Table("k", "silhouette", "inertia", "", box=None)
    for s in result.scores:
        mark = "chosen" if s.k == result.k else ("elbow" if s.k == result.elbow else "")
        scores.add_row(str(s.k), f"{s.silhouette:.3f}", f"{s.inertia:,.0f}", mark)
    console.print(scores)
    console.print(f"[bold]{result.reason}[/bold]")
    table = Table("id", "name", "size", "share", "sets it apart", box=None)
    table.columns[4].overflow = "fold"
    for c in result.clusters:
        apart = "\n".join(f.describe() for f in c.standout())
        table.add_row(str(c.id), c.name, f"{c.size:,}", percent(c.share), apart)
    console.print(table)
    for c in result.clusters:
        fidelity = (
            f"precision {c.precision:.2f}, recall {c.recall:.2f}"
            if c.precision is not None and c.recall is not None
            else "fidelity not measured"
        )
        console.print(f"cluster {c.id} ({c.name}) as a rule ({fidelity}):\n  {c.rule}")
    for warning in result.warnings:
        console.print(f"[dim]note: {warning}[/dim]")


def print_load(result: Any) -> None:
    """A load's summary, its warnings (on stderr) and where its rejected rows went."""
    import sys

    print(result.summary())
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.rejects_file is not None:
        print(f"rejected rows and reasons: {result.rejects_file}")


def print_cluster_runs(rows: list[dict[str, Any]]) -> None:
    """The stored cluster runs as a table (or how to make the first)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not rows:
        console.print("no cluster runs yet; run: segmint cluster")
        return
    table = Table("run", "as_of", "k", "customers", "features", "seconds", box=None)
    for r in rows:
        table.add_row(
            str(r["run_id"]),
            r["as_of"],
            str(r["k"]),
            f"{r['customers']:,}",
            ", ".join(r["features"]),
            f"{r['seconds']:.1f}",
        )
    console.print(table)


def print_new_cluster_run(result: Any, plot_dir: Any) -> None:
    """A run just made: its clusters, the pictures written, and how to save a cluster."""
    print_cluster_run(result)
    if plot_dir is not None:
        print(f"pictures: {plot_dir / 'centres.png'}, {plot_dir / 'projection.png'}")
    print(
        f"save one as a segment: segmint cluster save {result.run_id} CLUSTER --name NAME "
        "[--as rule|static]"
    )


# --- JSON forms (for machines) -----------------------------------------------------------


def templates_json(templates: Any, sizes: dict[str, Any] | None) -> list[dict[str, Any]]:
    """``templates --json``: each template, with its size when counted."""
    return [
        {
            "name": t.name,
            "title": t.title,
            "rule": t.rule,
            "campaign": t.campaign,
            "description": t.description,
            **(_size_json(sizes[t.name]) if sizes is not None else {}),
        }
        for t in templates
    ]


def _size_json(counted: Any) -> dict[str, Any]:
    """``size``, and ``size_error`` with the reason where the template cannot be counted."""
    if counted.size is None:
        return {"size": None, "size_error": counted.reason}
    return {"size": counted.size}


def overlap_json(sizes: dict[str, int], pairs: list[Any]) -> dict[str, Any]:
    """``overlap --json``: stored sizes and each pair's shared members and Jaccard."""
    return {
        "sizes": sizes,
        "pairs": [
            {"a": o.a, "b": o.b, "both": o.both, "jaccard": round(o.jaccard, 6)} for o in pairs
        ],
    }


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def _points(value: float | None) -> str:
    """A difference of rates in percentage points."""
    return "-" if value is None or value != value else f"{value * 100:+.1f} pts"


def _interval(bounds: tuple[float, float] | None, percent: bool = True) -> str:
    if bounds is None:
        return ""
    low, high = bounds
    if percent:
        return f" [{low * 100:+.1f}, {high * 100:+.1f}]"
    return f" [{low:+,.2f}, {high:+,.2f}]"


def print_report(report: Any) -> None:
    """A campaign report (activation/campaigns.py ``CampaignReport``): one block per
    segment and one for the whole campaign."""
    c = report.campaign
    state = "window over" if report.finished else "still running"
    print(
        f"campaign {c.name}: started {c.starts_at:%Y-%m-%d %H:%M} UTC, goal within "
        f"{c.window_days} days ({state}; figures as of {report.as_of:%Y-%m-%d %H:%M} UTC): "
        f"{c.to_dict()['goal']}"
    )
    if report.source != "goal":
        print("responses from the imported results (segmint campaign import-results)")
    for response in [*report.segments, report.overall]:
        conv, money, srm = response.conversion, response.revenue, response.sample_ratio
        title = response.segment or "all segments (each customer once)"
        print(
            f"\n{title}: {response.audience:,} customers, {conv.treated:,} treatment, "
            f"{conv.held:,} holdout"
        )
        print(
            f"  conversion: {_pct(conv.treated_rate)} treatment vs {_pct(conv.held_rate)} "
            f"holdout; lift {_points(conv.absolute)}{_interval(conv.absolute_interval)} "
            f"(relative {_pct(conv.relative, True)}), p = "
            f"{'-' if conv.p_value is None else f'{conv.p_value:.3g}'}"
        )
        if money.absolute is not None:
            print(
                f"  revenue per customer: {money.treated_mean:,.2f} vs {money.held_mean:,.2f}; "
                f"difference {money.absolute:+,.2f}{_interval(money.absolute_interval, False)}"
            )
        mde = _points(response.mde).removeprefix("+")
        check = "MISMATCH" if srm.mismatch else "ok"
        print(
            f"  sample ratio: {check}; minimum detectable lift {mde}; verdict: {response.verdict}"
        )


def print_backtest(found: Any) -> None:
    """A segment's backtest (activation/backtest.py ``Backtest``): one line per as_of."""
    print(f"segment {found.segment}: {found.rule}")
    print(f"goal within {found.window_days} days after each date: {found.goal}")
    for p in found.points:
        conv = p.conversion
        when = f"{p.as_of:%Y-%m-%d %H:%M}".removesuffix(" 00:00")
        state = "" if p.complete else f" (window still open: to {p.evaluated_at:%Y-%m-%d})"
        print(
            f"{when}: {p.members:,} members, {_pct(conv.treated_rate)} converted vs "
            f"{_pct(conv.held_rate)} of {p.others:,} others; lift {_points(conv.absolute)}"
            f"{_interval(conv.absolute_interval)}; {p.verdict}{state}"
        )


def print_customer_matches(found: list[dict[str, Any]], as_json: bool) -> None:
    """The customers a search found: JSON, or one line each."""
    if as_json:
        import json

        print(json.dumps(found, indent=2, default=str))
        return
    if not found:
        print("no customer matches")
        return
    for c in found:
        name = " ".join(str(c[k]) for k in ("first_name", "last_name") if c.get(k))
        parts = [str(c["customer_id"]), c.get("email") or "", name, c.get("country") or ""]
        print("  ".join(p for p in parts if p))


def print_catalog(view: Any, as_json: bool) -> None:
    """``catalog show``: the attributes, events and properties a rule may use."""
    if as_json:
        print(json.dumps(view.to_json(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table("attribute", "type", "kind", box=None)
    for a in view.attributes:
        table.add_row(a["name"], a["type"], "trait" if a["trait"] else "stored")
    console.print(table)
    console.print(f"events: {', '.join(view.events) or '(none loaded)'}", soft_wrap=True)
    props = Table("property", "type", "seen on", box=None)
    for p in view.properties:
        props.add_row(p["name"], p["type"], ", ".join(p["events"]))
    console.print(props)
