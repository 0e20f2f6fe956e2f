"""Rich rendering of results for people (the --json forms are for machines)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmint.demo.tour import DemoReport
    from segmint.profiles import CustomerView


def print_customer(view: CustomerView) -> None:
    """Print a customer profile as a few compact tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    title = view.customer_id or f"anonymous profile #{view.pid}"
    console.print(f"[bold]{title}[/bold]")
    attrs = Table(show_header=False, box=None, padding=(0, 2))
    for name, value in view.attributes.items():
        attrs.add_row(name, _fmt(value))
    attrs.add_row("first seen", _fmt(view.first_seen_at))
    attrs.add_row("last seen", _fmt(view.last_seen_at))
    attrs.add_row("revenue", _money(view.revenue_total))
    console.print(attrs)
    if view.identities:
        console.print(
            "identities: " + ", ".join(f"{i['kind']}={i['value']}" for i in view.identities)
        )
    for merge in view.merged_from:
        console.print(
            f"merged: profile of {merge['via']}={merge['value']} "
            f"({merge['events_moved']} events) at {_fmt(merge['merged_at'])}"
        )
    if view.traits:
        as_of = _fmt(view.as_of)
        traits = Table(show_header=False, box=None, padding=(0, 2))
        for name, value in view.traits.items():
            traits.add_row(name, _fmt(value))
        console.print(f"[bold]traits[/bold] as of {as_of}")
        console.print(traits)
    if view.segments:
        console.print("segments: " + ", ".join(view.segments))
    if view.segment_changes:
        changes = Table("as of", "segment", "change", title="segment history", title_justify="left")
        for c in view.segment_changes:
            changes.add_row(_fmt(c["as_of"]), c["segment"], c["change"])
        console.print(changes)
    counts = Table("event", "count", title="events", title_justify="left")
    for event, n in view.event_counts.items():
        counts.add_row(event, f"{n:,}")
    console.print(counts)
    recent = Table("time", "event", "revenue", "properties", title="recent", title_justify="left")
    for e in view.recent_events:
        props = ", ".join(f"{k}={v}" for k, v in e["properties"].items() if v is not None)
        revenue = "" if e["revenue"] is None else _money(e["revenue"])
        recent.add_row(_fmt(e["timestamp"]), e["event"], revenue, props)
    console.print(recent)


def _money(value: Decimal) -> str:
    """Money with thousands separators and its cents, or every stored decimal it has: the
    value is shown exactly (99999999999999.9999 is not rounded to 100,000,000,000,000.00)."""
    cents = value.quantize(Decimal("0.01"))
    return f"{cents:,}" if cents == value else f"{value.normalize():,f}"


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return str(value.isoformat()).replace("+00:00", "Z")
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(empty)"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def print_demo(report: DemoReport) -> None:
    """The demo tour: what was loaded, what identity resolution did, where to go next."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    s = report.stats
    console.print(
        f"[bold]segmint demo[/bold]: a synthetic shop in [cyan]{report.root}[/cyan] "
        f"(data up to {_fmt(report.data_end)}, built in {report.seconds:.1f} s)\n"
    )
    loads = Table("file", "rows", "accepted", "rejected", "new profiles", "merges", box=None)
    for r in report.loads:
        loads.add_row(
            r.source, f"{r.rows_read:,}", f"{r.accepted:,}", f"{r.rejected:,}",
            f"{r.profiles_created:,}", f"{r.merges:,}",
        )  # fmt: skip
    console.print(loads)
    console.print(
        f"\n[bold]{s['profiles']:,} profiles[/bold]: {s['customers']:,} known customers and "
        f"{report.anonymous_profiles:,} anonymous visitors who never identified; "
        f"{s['merges']:,} anonymous profiles merged into customers when they logged in."
    )
    console.print(
        f"[bold]{s['events']:,} events[/bold], {report.orders:,} orders, "
        f"revenue {report.revenue:,.2f}."
    )
    events = ", ".join(f"{name} {n:,}" for name, n in report.events_by_name[:9])
    console.print(f"events by name: {events}")
    console.print("top countries: " + ", ".join(f"{c} {n:,}" for c, n in report.countries))
    if report.devices:
        console.print("device_os: " + ", ".join(f"{d} {n:,}" for d, n in report.devices))
    rejects = [r for r in report.loads if r.rejected]
    for r in rejects:
        console.print(
            f"[yellow]{r.rejected} rows rejected[/yellow] from {r.source}: {r.rejects_file}"
        )
    customers = s["customers"]
    console.print(
        f"\n[bold]Example segments[/bold] (saved in segments/; as of {_fmt(report.data_end)})"
    )
    table = Table("segment", "customers", "share", "rule", box=None)
    for name, title, text, size in report.segments:
        share = f"{size / customers:.1%}" if customers else "-"
        table.add_row(f"{name}\n[dim]{title}[/dim]", f"{size:,}", share, text)
    console.print(table)
    console.print(
        f"\n[bold]Built-in templates[/bold] (saved in segments/; RFM, lifecycle, CLV and "
        f"engagement traits as of {_fmt(report.data_end)}; `segmint templates` for campaigns)"
    )
    table = Table("template", "customers", "share", "rule", box=None)
    for name, _, text, counted in report.templates:
        if counted is None:  # too few repeat buyers for the CLV models
            table.add_row(name, "-", "-", f"{text} [dim](CLV models need more data)[/dim]")
            continue
        share = f"{counted / customers:.1%}" if customers else "-"
        table.add_row(name, f"{counted:,}", share, text)
    console.print(table)
    t = report.thresholds
    console.print(
        f"lifecycle thresholds from this shop's purchase cadence: at risk after "
        f"{t['at_risk_days']} days without an order, lapsed after {t['lapsed_days']}, "
        f"churned after {t['churned_days']}; loyal from {t['loyal_orders']} orders"
    )
    if report.refreshes:
        kinds: dict[str, int] = {}
        for kind, _, _ in report.findings:
            kinds[kind] = kinds.get(kind, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in kinds.items()) or "nothing to act on"
        console.print(
            f"\n[bold]Living segments[/bold]: every saved segment refreshed weekly "
            f"({report.refreshes} refreshes up to {_fmt(report.data_end)}), entries and exits "
            f"stored. Review findings: {summary}."
        )
        for kind, _, message in report.findings:
            if kind != "too_many_active":
                console.print(f"  {kind}: {message}")
                break
    if report.clusters is not None:
        found = report.clusters
        console.print(
            f"\n[bold]Clusters[/bold] found by k-means on RFM, tenure, activity, email and CLV "
            f"traits (run {found.run_id}): {found.reason}"
        )
        table = Table("id", "cluster", "customers", "share", "rule (precision, recall)", box=None)
        table.columns[4].overflow = "fold"
        for ident, label, size, part, rule, precision, recall in found.clusters:
            table.add_row(
                str(ident), label, f"{size:,}", f"{part:.1%}",
                f"{rule} [dim]({precision:.2f}, {recall:.2f})[/dim]",
            )  # fmt: skip
        console.print(table)
        console.print(
            f"cluster {found.saved_cluster} saved as the rule segment {found.saved} and "
            f"refreshed: {found.saved_size:,} customers"
        )
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
    table = Table("segment", "size", "entered", "exited", "status", box=None)
    for r in result.runs:
        if r.status == "ok":
            table.add_row(r.name, f"{r.size:,}", f"+{r.entered:,}", f"-{r.exited:,}", "ok")
        else:
            table.add_row(r.name, "-", "-", "-", "[red]failed[/red]")
    console.print(table)
    failed = len(result.failed)
    console.print(
        f"refreshed {len(result.runs) - failed} segments at {_fmt(result.as_of)} in "
        f"{result.seconds:.1f} s" + (f"; {failed} failed" if failed else "")
    )


def print_overlap(sizes: dict[str, int], pairs: list[Any]) -> None:
    """The overlap matrix: shared members and Jaccard for each pair."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
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
            style = "bold red" if o.jaccard > 0.5 else ""
            text = f"{o.both:,} ({o.jaccard:.2f})"
            cells.append(f"[{style}]{text}[/{style}]" if style else text)
        table.add_row(a, f"{sizes[a]:,}", *cells)
    console.print(table)
    console.print("cells: shared members (Jaccard = shared / either)")


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
    """Saved segments as a table with their last refresh; sizes when they were counted."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from segmint.rules.text import to_text

    console = Console(highlight=False)
    if not definitions:
        console.print("no saved segments (add one with: segmint segment add --rule TEXT --name N)")
        return
    table = Table("segment", "rule", "campaign", "last refresh")
    table.columns[0].no_wrap = True
    if sizes is not None:
        table.add_column("size now", justify="right")
    for d in definitions:
        state = states.get(d.name)
        if hasattr(d, "error"):  # a file that cannot be read
            table.add_row(d.name, f"[red]unreadable:[/red] {escape(d.error)}", "", "")
            continue
        label = d.name + (f"\n[dim]{d.title}[/dim]" if d.title else "")
        row = [label, to_text(d.rule), d.campaign or "", _state(state)]
        if sizes is not None:
            size = sizes.get(d.name)
            row.append("-" if size is None else f"{size:,}")
        table.add_row(*row)
    console.print(table)


def _state(state: Any) -> str:
    if state is None or state.status == "never":
        return "never"
    if state.status == "retired":
        return "retired"
    if state.status == "failed":
        from rich.markup import escape

        return f"[red]failed[/red] {_fmt(state.as_of)}: {escape(state.error or '')}"
    return f"{state.size:,} at {_fmt(state.as_of)}"


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """A one-line chart of ``values`` (the last 24)."""
    values = values[-24:]
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1
    return "".join(SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in values)


def print_segment(report: Any) -> None:
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
        f"size: {report.size:,} of {report.customers:,} customers ({report.share:.1%}) "
        f"as of {_fmt(report.as_of)} ({source})"
    )
    if report.trend:
        sizes = [s for _, s in report.trend]
        console.print(
            f"trend: {sparkline(sizes)}  {sizes[0]:,} -> {sizes[-1]:,} over {len(sizes)} "
            f"refreshes since {_fmt(report.trend[0][0])}"
        )
    else:
        console.print("trend: not refreshed yet (segmint refresh; --backfill for history)")
    if len(report.versions) > 1:
        changes = ", ".join(f"v{v} from {_fmt(a)}" for v, a in report.versions)
        console.print(f"definition versions: {changes}")
    if report.quality is not None:
        checks = Table("check", "ok", "value", "threshold", box=None)
        for c in report.quality.checks:
            mark = "[green]yes[/green]" if c.ok else "[red]no[/red]"
            checks.add_row(c.check, mark, _fmt(c.value), _fmt(c.threshold))
        console.print(checks)
    if report.profile:
        console.print(f"profile against everyone ({report.profile_base:,} customers)")
        table = Table("differs most in", "segment", "everyone", "lift", box=None)
        for row in report.profile:
            label = row.field if row.kind == "mean" else f"{row.field} = {row.value}"
            if row.kind == "mean":
                seg, everyone = f"mean {row.segment:,.4g}", f"mean {row.everyone:,.4g}"
            else:
                seg, everyone = f"{row.segment:.1%}", f"{row.everyone:.1%}"
            table.add_row(label, seg, everyone, f"{row.lift:.2f}x")
        console.print(table)


def print_cluster_run(result: Any) -> None:
    """A cluster run: why this k, the score of each k, each cluster with its rule."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(
        f"cluster run {result.run_id} at {_fmt(result.as_of)}: "
        f"{result.params['customers']:,} customers, features "
        f"{', '.join(result.params['features'])} ({result.seconds:.1f} s)"
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
        table.add_row(str(c.id), c.name, f"{c.size:,}", f"{c.share:.1%}", apart)
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
