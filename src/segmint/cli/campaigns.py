"""Campaigns: ``campaign create|list|show``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from segmint.cli.activation import Destination, show_export
from segmint.cli.app import _open, app, instant, run
from segmint.cli.formats import plural
from segmint.cli.output import progress_for_stderr
from segmint.cli.render import print_report

campaign_app = typer.Typer(
    help="Campaigns with holdouts on saved segments (docs/campaigns.md).", no_args_is_help=True
)
app.add_typer(campaign_app, name="campaign")


@campaign_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    segment: Annotated[
        list[str],
        typer.Option(
            "--segment", "-s", help="A saved segment (repeat for several).", show_default=False
        ),
    ],
    goal: Annotated[
        str, typer.Option(help="What counts as a response, e.g. 'did order_completed'.")
    ],
    holdout: Annotated[str, typer.Option(help="The share held out: 10% or 0.1.")] = "10%",
    window: Annotated[str, typer.Option(help="How long after the start the goal counts.")] = "14d",
    starts: Annotated[
        str | None,
        typer.Option(
            help="When it starts: the audience is frozen then (default: now).", show_default=False
        ),
    ] = None,
) -> None:
    """Freeze the segments' members and assign each to treatment or holdout."""

    def action() -> Any:
        with _open() as ws:
            return ws.create_campaign(
                name, segment, goal, holdout, window, instant(starts, "--starts")
            )

    _show(run(action))


def _show(campaign: Any) -> None:
    print(
        f"campaign {campaign.name}: {plural(campaign.audience, 'customer')} frozen at "
        f"{campaign.starts_at:%Y-%m-%d %H:%M} UTC, {campaign.treatment:,} treatment, "
        f"{campaign.held_out:,} holdout ({campaign.holdout:.0%}); goal within "
        f"{campaign.window_days} days: {campaign.to_dict()['goal']}"
    )
    for segment, (treated, held) in campaign.by_segment.items():
        print(f"  {segment}: {treated:,} treatment, {held:,} holdout")


@campaign_app.command("list")
def list_campaigns(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every campaign with its group sizes."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.campaigns()

    found = run(action)
    if as_json:
        print(json.dumps([c.to_dict() for c in found], indent=2))
    elif not found:
        print("no campaigns yet (segmint campaign create NAME --segment S --goal RULE)")
    for campaign in [] if as_json else found:
        _show(campaign)


@campaign_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The campaign.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON, with each customer's segment and group.")
    ] = False,
) -> None:
    """One campaign: its settings and groups per segment."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            campaign = ws.campaign(name)
            return campaign, (ws.campaign_members(name).to_pylist() if as_json else None)

    campaign, members = run(action)
    if as_json:
        print(json.dumps({**campaign.to_dict(), "members": members}, indent=2))
    else:
        _show(campaign)


@campaign_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="The campaign.")],
    to: Annotated[Destination, typer.Option("--to", help="Where to.", show_default=False)],
    delta: Annotated[
        bool, typer.Option(help="Only the adds and removes since the last export.")
    ] = False,
    columns: Annotated[
        str | None, typer.Option(help="csv/parquet/jsonl: attributes and traits.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: exports/).")
    ] = None,
    value: Annotated[
        str | None, typer.Option(help="meta/google: a numeric trait as the value column.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Export the campaign's treatment group (never its holdout) to a destination."""
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None

    def action() -> Any:
        with _open() as ws:
            progress = progress_for_stderr()
            return ws.export_campaign(name, to.value, out, delta, wanted, value, progress)

    show_export(run(action), as_json)


@campaign_app.command("report")
def report(
    name: Annotated[str, typer.Argument(help="The campaign.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the lifts as a PNG chart.", show_default=False),
    ] = None,
) -> None:
    """Lift per segment and overall, with 95 % intervals and a verdict."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.campaign_report(name, plot)

    found = run(action)
    if as_json:
        print(json.dumps(found.to_dict(), indent=2, default=str))
    else:
        print_report(found)
    if plot is not None:
        print(f"wrote {plot}", file=sys.stderr)


@campaign_app.command("import-results")
def import_results(
    name: Annotated[str, typer.Argument(help="The campaign.")],
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV, Parquet or JSON Lines: customer_id, sent, opened, clicked, "
            "converted, revenue."
        ),
    ],
) -> None:
    """Per-customer outcomes of sends made elsewhere; the report then reads them."""

    def action() -> Any:
        with _open() as ws:
            return ws.import_campaign_results(name, file)

    found = run(action)
    print(f"{found.campaign}: stored {plural(found.stored, 'outcome')}")
    for reason, count in found.refused.items():
        print(f"  refused, {reason}: {count:,}")
