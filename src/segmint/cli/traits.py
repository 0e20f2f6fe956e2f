"""``segmint traits`` and ``segmint models``: computed traits and the fitted CLV models."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from segmint.cli.app import Format, _open, app, instant, instant_or_now, run
from segmint.cli.formats import plural
from segmint.cli.output import progress_for_stderr
from segmint.cli.segment import AsOfOpt, _writing_if_free


class TimeUnit(StrEnum):
    day = "day"
    week = "week"


@app.command()
def traits(
    as_of: AsOfOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.csv,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Every computed trait of every customer: customer_id first, one row per customer."""
    from segmint.activation.files import write_members

    def action() -> Any:
        with _open(read_only=True) as ws:
            result = ws.traits_result(instant(as_of), progress=progress_for_stderr())
            write_members(result.table, format.value, out, sys.stdout)
            return result

    result = run(action)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if out is not None:
        customers = plural(result.table.num_rows, "customer")
        print(f"wrote the traits of {customers} to {out}", file=sys.stderr)


@app.command()
def models(
    as_of: AsOfOpt = None,
    time_unit: Annotated[
        TimeUnit, typer.Option("--time-unit", help="Time unit of the BG/NBD parameters.")
    ] = TimeUnit.day,
) -> None:
    """The CLV models (BG/NBD, Gamma-Gamma) fitted on purchases up to as_of, as JSON."""

    def action() -> Any:
        # Stored when it can be, for rules at this as_of (docs/traits.md).
        when = instant_or_now(as_of)
        return _writing_if_free(lambda ws: ws.models(when, time_unit.value))[0]

    print(json.dumps(run(action), indent=2))


templates_app = typer.Typer(
    help="Built-in segments (RFM groups, lifecycle stages, CLV, engagement): list and add.",
    invoke_without_command=True,
)
app.add_typer(templates_app, name="templates")


@templates_app.callback()
def templates(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    sizes: Annotated[
        bool, typer.Option("--sizes", help="Count each template's customers.")
    ] = False,
    as_of: AsOfOpt = None,
) -> None:
    """List the built-in segment templates with their rule and campaign."""
    if ctx.invoked_subcommand is not None:
        return
    from segmint.segments.templates import TEMPLATES

    counted = None
    if sizes:

        def action() -> Any:
            with _open(read_only=True) as ws:
                return ws.template_sizes(instant_or_now(as_of))

        counted = {c.template.name: c for c in run(action)}
    from segmint.cli.render import print_templates, templates_json

    if as_json:
        print(json.dumps(templates_json(TEMPLATES, counted), indent=2, ensure_ascii=False))
        return
    print_templates(TEMPLATES, counted)


@templates_app.command("add")
def templates_add(
    names: Annotated[
        list[str] | None, typer.Argument(help="Template names.", show_default=False)
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Add every template.")] = False,
    replace: Annotated[bool, typer.Option(help="Overwrite segments of the same name.")] = False,
) -> None:
    """Save templates as ordinary segments (segments/NAME.yaml) that you can edit."""
    from segmint.errors import ArgumentError

    def action() -> Any:
        if bool(names) == all_:
            raise ArgumentError("give template NAMEs or --all (not both)", "--all")
        with _open() as ws:
            return ws.add_templates(None if all_ else list(names or []), replace=replace)

    done = run(action)
    saved = [name for name, ok in done if ok]
    kept = [name for name, ok in done if not ok]
    if saved:
        print(f"saved {plural(len(saved), 'segment')}: {', '.join(saved)}")
    if kept:
        existing = plural(len(kept), "existing segment")
        print(f"kept {existing} (use --replace to overwrite): {', '.join(kept)}")
