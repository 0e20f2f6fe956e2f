"""``segmint segment ...``: add, list, show, count, members, sql, remove, schema, backtest."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from segmint.cli.app import STATE, Format, _open, app, instant, instant_or_now, run
from segmint.cli.formats import currency_of, plural

segment_app = typer.Typer(help="Define segments and look at their members.", no_args_is_help=True)
app.add_typer(segment_app, name="segment")

NameArg = Annotated[str | None, typer.Argument(help="A saved segment's name.", show_default=False)]
RuleOpt = Annotated[
    str | None, typer.Option("--rule", "-r", help="A rule in the text form.", show_default=False)
]
RuleFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--rule-file",
        help="A segment file (.yaml/.json), a rule as JSON/YAML, or a text rule.",
        show_default=False,
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Evaluate as of this date (00:00 UTC) or instant with an offset (default: now).",
        show_default=False,
    ),
]


class Dialect(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"
    bigquery = "bigquery"
    snowflake = "snowflake"


def _writing_if_free(action: Callable[[Any], Any]) -> tuple[Any, bool]:
    """``action`` on the workspace open for writing, so that it may store what it
    computes (the CLV predictions at an as_of); read-only when another process has the
    workspace open. Returns its result and whether it could write."""
    import segmint

    with segmint.open_writing_if_free(STATE.workspace) as ws:
        return action(ws), not ws.read_only


def _pick_rule(ws: Any, name: str | None, rule: str | None, rule_file: Path | None) -> Any:
    """Exactly one of a saved name, ``--rule`` or ``--rule-file``; returns a rule."""
    from segmint.errors import ArgumentError

    given = [x for x in (name, rule, rule_file) if x is not None]
    if len(given) != 1:
        raise ArgumentError(
            "give exactly one of: a saved segment NAME, --rule TEXT, --rule-file F", "--rule"
        )
    if name is not None:
        return ws.segments.get(name).rule
    if rule is not None:
        return rule
    assert rule_file is not None
    from segmint.segments.registry import read_rule_file

    return read_rule_file(rule_file)


@segment_app.command("add")
def add(
    file: Annotated[
        Path | None, typer.Argument(help="A segment file (.yaml/.json).", show_default=False)
    ] = None,
    rule: RuleOpt = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Name (with --rule).", show_default=False)
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title.", show_default=False)] = None,
    description: Annotated[
        str | None, typer.Option(help="Description.", show_default=False)
    ] = None,
    campaign: Annotated[
        str | None, typer.Option(help="The campaign it is for.", show_default=False)
    ] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite a segment of that name.")] = False,
    live: Annotated[
        bool, typer.Option(help="Re-evaluate it as tracking messages arrive (segmint serve).")
    ] = False,
) -> None:
    """Check a segment against the workspace and save it as segments/NAME.yaml."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            path = _file_or_rule(file, rule, name)
            if path is not None:
                from segmint.segments.registry import read_file

                return ws.save_segment(read_file(path), replace=replace)
            assert rule is not None and name is not None
            return ws.add_segment(
                name, rule, title=title, description=description, campaign=campaign,
                replace=replace, live=live,
            )  # fmt: skip

    definition = run(action)
    from segmint.rules.text import to_text

    print(f"saved segment {definition.name}: {to_text(definition.rule)}")


def _file_or_rule(file: Path | None, rule: str | None, name: str | None) -> Path | None:
    """The segment FILE, or None for ``--rule`` with ``--name``; refuses anything else."""
    from segmint.errors import ArgumentError

    if (file is None) == (rule is None):
        raise ArgumentError("give a segment FILE or --rule TEXT with --name", "--rule")
    if file is None and name is None:
        raise ArgumentError("--rule needs --name NAME", "--name")
    return file


@segment_app.command("list")
def list_(
    sizes: Annotated[bool, typer.Option(help="Count each segment's members now.")] = False,
    as_of: AsOfOpt = None,
) -> None:
    """List saved segments with the size and time of their last refresh.

    On a wide terminal (120 columns or more) the list shows each rule and campaign too;
    `segmint segment show NAME` has every detail. A file that cannot be read is listed
    with its error.
    """

    def action() -> Any:
        with _open(read_only=True) as ws:
            # A bad --as-of is an error, not a "-" per segment; None is now.
            return ws.list_segments(sizes, instant(as_of) if sizes else None)

    listing = run(action)
    from segmint.cli.render import print_segment_list

    print_segment_list(listing.segments, listing.sizes, listing.states)


@segment_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A saved segment's name.")],
    as_of: AsOfOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the size over time as a PNG chart.", show_default=False),
    ] = None,
) -> None:
    """Show a segment: definition, size and share, trend, checks and profile.

    The size and checks are those of the last refresh unless --as-of is given; the
    profile says how the members differ from everyone.
    """

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.segment_report(name, instant(as_of), plot), currency_of(ws.config)

    report, currency = run(action)
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str))
        return
    from segmint.cli.render import print_segment

    print_segment(report, currency)
    if plot is not None:
        print(f"wrote {plot}")


@segment_app.command("count")
def count(
    name: NameArg = None,
    rule: RuleOpt = None,
    rule_file: RuleFileOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Print how many customers a saved segment or a rule selects."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.count(_pick_rule(ws, name, rule, rule_file), instant(as_of))

    print(run(action))


@segment_app.command("check")
def check(
    name: NameArg = None,
    rule: RuleOpt = None,
    rule_file: RuleFileOpt = None,
) -> None:
    """Check a rule against the workspace; print its text form and its JSON."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.check_rule(_pick_rule(ws, name, rule, rule_file))

    checked = run(action)
    print(checked["text"])
    print(json.dumps(checked["rule"]))


@segment_app.command("members")
def members(
    name: NameArg = None,
    rule: RuleOpt = None,
    rule_file: RuleFileOpt = None,
    as_of: AsOfOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.csv,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).")
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="Attributes to add after customer_id, e.g. email,country."),
    ] = None,
) -> None:
    """Write the members (customer_id first) as CSV, Parquet or JSON Lines."""
    from segmint.activation.files import write_members

    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else []

    def action() -> Any:
        with _open(read_only=True) as ws:
            when = instant(as_of)
            # A stream of batches: a long member list is written as it comes.
            stream = ws.members(_pick_rule(ws, name, rule, rule_file), when, "batches", wanted)
            return write_members(stream, format.value, out, sys.stdout)

    rows = run(action)
    if out is not None:
        print(f"wrote {plural(rows, 'member')} to {out}", file=sys.stderr)


@segment_app.command("sql")
def sql(
    name: NameArg = None,
    rule: RuleOpt = None,
    rule_file: RuleFileOpt = None,
    as_of: AsOfOpt = None,
    dialect: Annotated[
        Dialect | None,
        typer.Option(help="SQL dialect (default: the workspace's engine).", show_default=False),
    ] = None,
) -> None:
    """Print the SQL of a segment for an engine, compiled from the same expression."""
    chosen_dialect = dialect.value if dialect else None

    def action() -> tuple[str, str | None]:
        when = instant_or_now(as_of)
        with _open(read_only=True) as ws:
            chosen = _pick_rule(ws, name, rule, rule_file)
            if ws.predictions_stored(chosen, when):
                return ws.sql(chosen, when, chosen_dialect), None
        # The SQL names the CLV fit at as_of: store it, so that the SQL runs as printed.
        text, stored = _writing_if_free(lambda ws: ws.sql(chosen, when, chosen_dialect))
        return text, None if stored else _unstored_note(when)

    text, note = run(action)
    print(text)
    if note:
        print(note, file=sys.stderr)


def _unstored_note(when: datetime) -> str:
    shown = when.isoformat().replace("+00:00", "Z")
    return (
        "note: the CLV predictions this SQL reads are not stored in the workspace "
        "(another process has it open), so it runs only in this session; store them "
        f"with `segmint models --as-of {shown}` when no other process has the workspace "
        "open, then print the SQL again"
    )


@segment_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="A saved segment's name.")]) -> None:
    """Delete a saved segment's file."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.remove_segment(name)

    path = run(action)
    print(f"removed segment {name} ({path})")


@segment_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of segment files and the rule format (for editors, tools)."""
    from segmint.segments.registry import json_schema

    print(json.dumps(json_schema(), indent=2))


@segment_app.command("backtest")
def backtest(
    name: Annotated[str, typer.Argument(help="A saved segment's name.")],
    at: Annotated[
        list[str],
        typer.Option("--at", help="A past date or instant to look back from (repeat for several)."),
    ],
    goal: Annotated[
        str, typer.Option(help="What counts as a response, e.g. 'did order_completed'.")
    ],
    window: Annotated[str, typer.Option(help="How long after each date: 30d or 4w.")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Members at past dates against everyone else: who met the goal in the window after.

    Rates, lift with its 95 % interval and a verdict per date; the segment sees nothing
    after each date (docs/campaigns.md, "Backtest a segment").
    """

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.backtest(name, at, goal, window)

    found = run(action)
    if as_json:
        print(json.dumps(found.to_dict(), indent=2, default=str))
        return
    from segmint.cli.render import print_backtest

    print_backtest(found)
