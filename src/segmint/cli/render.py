"""Rich rendering of results for people (the --json forms are for machines)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    attrs.add_row("revenue", f"{view.revenue_total:,.2f}")
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
    counts = Table("event", "count", title="events", title_justify="left")
    for event, n in view.event_counts.items():
        counts.add_row(event, f"{n:,}")
    console.print(counts)
    recent = Table("time", "event", "revenue", "properties", title="recent", title_justify="left")
    for e in view.recent_events:
        props = ", ".join(f"{k}={v}" for k, v in e["properties"].items() if v is not None)
        revenue = "" if e["revenue"] is None else f"{e['revenue']:,.2f}"
        recent.add_row(_fmt(e["timestamp"]), e["event"], revenue, props)
    console.print(recent)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return str(value.isoformat()).replace("+00:00", "Z")
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(empty)"
    return str(value)
