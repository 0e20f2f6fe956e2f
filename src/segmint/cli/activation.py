"""Activation: ``export`` (and ``export history``) and the ``suppress`` list."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from segmint.cli.app import _open, app, instant, run
from segmint.cli.formats import plural
from segmint.cli.output import error, progress_for_stderr

# The export command that `segmint export SEGMENT ...` runs (a hidden subcommand).
EXPORT_COMMAND = "segment"


class _ExportGroup(TyperGroup):
    """``export``'s commands, where a first word that is not one of them is a segment to
    export: ``segmint export vip --to meta`` runs ``segmint export segment vip --to meta``,
    and ``segmint export history`` the history. (A segment named like a command is
    exported with ``segmint export segment NAME``.)"""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [EXPORT_COMMAND, *args]
        return super().parse_args(ctx, args)


export_app = typer.Typer(
    cls=_ExportGroup,
    help="Export a saved segment to a file or a platform: segmint export SEGMENT --to "
    "csv|parquet|jsonl|klaviyo|mailchimp|meta|google [--delta] [--as-of WHEN] [--columns A,B] "
    "[--value TRAIT] [--out FILE] [--json] (segmint export SEGMENT --help for details; "
    "docs/activation.md). Also: segmint export history.",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")
suppress_app = typer.Typer(
    help="The suppression list: emails and customer ids that no export includes.",
    no_args_is_help=True,
)
app.add_typer(suppress_app, name="suppress")


class Destination(StrEnum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"
    klaviyo = "klaviyo"
    mailchimp = "mailchimp"
    meta = "meta"
    google = "google"


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@export_app.command(EXPORT_COMMAND, hidden=True)
def export_segment(
    segment: Annotated[str, typer.Argument(help="The saved segment to export.")],
    to: Annotated[Destination, typer.Option("--to", help="Where to.", show_default=False)],
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Evaluate the segment at this date (00:00 UTC) or instant with an offset "
            "(default: its members at its last refresh).",
            show_default=False,
        ),
    ] = None,
    delta: Annotated[
        bool,
        typer.Option(help="Only the adds and removes since this pair's last export."),
    ] = False,
    columns: Annotated[
        str | None,
        typer.Option(help="csv/parquet/jsonl: attributes and traits after customer_id."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write (default: in the workspace's exports/)."),
    ] = None,
    value: Annotated[
        str | None,
        typer.Option(help="meta/google: a numeric trait as the value column (lookalikes)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export SEGMENT to a destination, leaving out the suppressed and those without consent."""
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None

    def action() -> Any:
        with _open() as ws:
            when = instant(as_of)
            progress = progress_for_stderr()
            return ws.export(segment, to.value, out, when, delta, wanted, value, progress)

    show_export(run(action), as_json)


def show_export(result: Any, as_json: bool) -> None:
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    what = (
        f"{plural(result.added, 'add')} and {plural(result.removed, 'remove')}"
        if result.delta
        else plural(result.exported, "row")
    )
    print(f"exported {result.segment} to {result.destination}: {what} -> {result.file}")
    if result.remove_file is not None:
        print(f"removals -> {result.remove_file}")
    print(
        f"{plural(result.members, 'member')} at {result.as_of:%Y-%m-%d %H:%M} UTC"
        f" (definition version {result.version or 'not refreshed'}), "
        f"{result.exported:,} in the audience"
    )
    for reason, count in result.left_out.items():
        print(f"  left out, {reason}: {count:,}")


@export_app.command("history")
def export_history(
    segment: Annotated[
        str | None, typer.Argument(help="Only this segment's exports.", show_default=False)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The export ledger: each export's time, as_of, counts and files."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.export_history(segment)

    _show_history(run(action), as_json)


def _show_history(entries: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(entries, indent=2, default=str))
        return
    if not entries:
        print("no exports yet (segmint export SEGMENT --to DEST)")
        return
    for e in entries:
        kind = "delta" if e["delta"] else "full"
        version = f"v{e['version']}" if e["version"] else "not refreshed"
        print(
            f"#{e['export_id']}  {e['exported_at']:%Y-%m-%d %H:%M}  {e['segment']} -> "
            f"{e['destination']}  {kind}: {e['exported']:,} in the audience, "
            f"+{e['added']:,} -{e['removed']:,}, {sum(e['left_out'].values()):,} left out  "
            f"(as_of {e['as_of']:%Y-%m-%d %H:%M}, {version})  {e['file']}"
        )


ValuesArg = Annotated[
    list[str] | None,
    typer.Argument(help="Emails (with '@') or customer ids.", show_default=False),
]
FileOpt = Annotated[
    Path | None,
    typer.Option("--file", help="A file of emails or customer ids, one per line.", exists=True),
]


def _values(values: list[str] | None, file: Path | None) -> list[str]:
    """The values given and those of ``file`` (blank lines, ``#`` comments and a header
    line ``email``, ``customer_id`` or ``value`` skipped)."""
    found = list(values or [])
    if file is not None:
        for line in file.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text and not text.startswith("#") and text not in ("email", "customer_id", "value"):
                found.append(text)
    if not found:
        error("give emails or customer ids, or --file FILE")
        raise typer.Exit(2)
    return found


@suppress_app.command("add")
def suppress_add(
    values: ValuesArg = None,
    file: FileOpt = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept with the entry).")] = None,
) -> None:
    """Add emails or customer ids to the suppression list."""
    wanted = _values(values, file)

    def action() -> Any:
        with _open() as ws:
            return ws.suppress(wanted, reason)

    added = run(action)
    before = len(wanted) - added
    print(f"suppressed {plural(added, 'new entry', 'new entries')} ({before} listed before)")


@suppress_app.command("remove")
def suppress_remove(values: ValuesArg = None, file: FileOpt = None) -> None:
    """Take emails or customer ids off the suppression list."""
    wanted = _values(values, file)

    def action() -> Any:
        with _open() as ws:
            return ws.unsuppress(wanted)

    print(f"removed {plural(run(action), 'entry', 'entries')}")


@suppress_app.command("list")
def suppress_list(as_json: JsonOpt = False) -> None:
    """The suppression list."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.suppressions()

    entries = run(action)
    if as_json:
        print(json.dumps(entries, indent=2, default=str))
        return
    for e in entries:
        print(f"{e['kind']}\t{e['value']}\t{e['added_at']:%Y-%m-%d}\t{e['reason'] or ''}")
    print(f"{plural(len(entries), 'entry', 'entries')}", file=sys.stderr)
