"""Living segments: ``refresh``, ``segment history``, ``segment retire``."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from segmint.cli.app import _open, app, instant, run
from segmint.cli.formats import plural
from segmint.cli.output import error, progress_for_stderr
from segmint.cli.segment import AsOfOpt, segment_app


@app.command()
def refresh(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Segments to refresh (default: every active one).", show_default=False),
    ] = None,
    as_of: AsOfOpt = None,
    every: Annotated[
        str | None,
        typer.Option(
            help="Keep refreshing at this interval (1h, 30m, 1d) until stopped; with "
            "--backfill, the step between past dates.",
            show_default=False,
        ),
    ] = None,
    backfill: Annotated[
        bool, typer.Option(help="Evaluate past dates --from .. --to, one refresh each.")
    ] = False,
    from_: Annotated[
        str | None, typer.Option("--from", help="First date of --backfill.", show_default=False)
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last date of --backfill.", show_default=False)
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Evaluate every segment for everyone from the events (default: "
            "incrementally where the rules allow it).",
        ),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Say how each segment would be refreshed (incremental or full, and why) "
            "without refreshing.",
        ),
    ] = False,
) -> None:
    """Evaluate saved segments and record every entry and exit."""
    wanted = list(names or [])
    if explain:
        _explain(wanted, as_of, full)
        return
    if backfill:
        raise typer.Exit(_backfill(wanted, from_, to, every, full))
    if every is None:
        raise typer.Exit(1 if _refresh_once(wanted, as_of, full=full) else 0)
    if as_of is not None:
        error("--every refreshes at the current time; it cannot be combined with --as-of")
        raise typer.Exit(2)
    _schedule(wanted, every)


def _explain(names: list[str], as_of: str | None, full: bool) -> None:
    from segmint.cli.render import print_refresh_plan

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.explain_refresh(names or None, instant(as_of), full)

    print_refresh_plan(run(action))


def _backfill(
    names: list[str], from_: str | None, to: str | None, every: str | None, full: bool
) -> int:
    """One refresh at each date from ``from_`` to ``to``; the exit code."""
    import segmint
    from segmint.errors import ArgumentError

    def plan() -> list[datetime]:
        if from_ is None or to is None:
            raise ArgumentError("--backfill needs --from and --to", "--backfill")
        return segmint.Workspace.plan_backfill(from_, to, every or "7d")

    failed = False
    for when in run(plan):
        failed |= _refresh_once(names, when.isoformat(), full=full)
    return 1 if failed else 0


def _schedule(names: list[str], every: str) -> None:
    """Refresh now and then every ``every`` until stopped with Ctrl-C."""
    from segmint.segments.backfill import parse_duration

    interval = run(lambda: parse_duration(every))
    print(f"refreshing every {every}; stop with Ctrl-C", file=sys.stderr)
    while True:
        started = time.monotonic()
        try:
            # An interrupt during the refresh itself becomes exit 130 inside (rolled back,
            # or kept when it came during the commit); one that escapes here came while
            # reporting or sleeping.
            try:
                _refresh_once(names, None, scheduled=True)
            except _Busy as busy:
                # Another process holds the database (an ingest, a long query): this tick
                # is skipped, not the schedule.
                next_at = datetime.now(UTC) + interval - timedelta(seconds=_since(started))
                print(
                    f"workspace busy: {busy}; skipping this refresh, next at "
                    f"{next_at.isoformat(timespec='seconds').replace('+00:00', 'Z')}",
                    file=sys.stderr,
                    flush=True,
                )
            time.sleep(max(0.0, interval.total_seconds() - _since(started)))
        except KeyboardInterrupt:
            print("stopped between refreshes", file=sys.stderr)
            raise typer.Exit(0) from None


def _since(started: float) -> float:
    return time.monotonic() - started


class _Busy(Exception):
    """A scheduled refresh found the workspace locked by another process."""


def _refresh_once(
    names: list[str], as_of: str | None, scheduled: bool = False, full: bool = False
) -> bool:
    """One refresh with its report; True when a segment failed. A scheduled refresh
    stopped by Ctrl-C was rolled back, or kept when the stop came during its commit; one
    that finds the workspace locked raises :class:`_Busy`."""
    from segmint.errors import WorkspaceBusyError

    def action() -> Any:
        with _open() as ws:
            when = instant(as_of)
            result = ws.refresh(names or None, when, progress_for_stderr(), full=full)
            return result, bool(result.runs or ws.segments.files())

    def tick() -> Any:
        try:
            return action()
        except WorkspaceBusyError as exc:
            return exc

    try:
        outcome = run(tick if scheduled else action)
    except typer.Exit as stop:
        if scheduled and stop.exit_code == 130:
            # run() has said whether the refresh was rolled back or (stopped during its
            # commit) let finish and kept.
            print("stopped the schedule", file=sys.stderr)
        raise
    if isinstance(outcome, WorkspaceBusyError):
        raise _Busy(str(outcome).split(";")[0])
    result, saved = outcome
    if not result.runs:
        # Not an error: a workspace without (active) segments has nothing to do yet.
        why = "every saved segment is retired" if saved else "no saved segments"
        print(
            f"nothing to refresh: {why} (add one with: segmint segment add --rule TEXT "
            "--name NAME)",
            file=sys.stderr,
            flush=True,
        )
        return False
    from segmint.cli.render import print_refresh

    print_refresh(result)
    if result.delivery is not None:
        from segmint.cli.webhooks import delivery_line

        print(delivery_line(result.delivery), file=sys.stderr if result.delivery.error else None)
    for failed in result.failed:
        print(f"error: segment {failed.name}: {failed.error}", file=sys.stderr)
    return bool(result.failed)


class HistoryFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@segment_app.command("history")
def history(
    name: Annotated[str, typer.Argument(help="A segment's name.")],
    since: Annotated[
        str | None, typer.Option(help="Only changes at or after this date (00:00 UTC) or instant.")
    ] = None,
    format: Annotated[
        HistoryFormat, typer.Option("--format", "-f", help="Output format.")
    ] = HistoryFormat.csv,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Every entry and exit of a segment: customer_id, change (entered/exited), as_of."""
    from segmint.activation.files import write_members

    def action() -> Any:
        with _open(read_only=True) as ws:
            start = instant(since, "--since")
            table = ws.history(name, start)
            write_members(table, format.value, out, sys.stdout)
            return table.num_rows

    rows = run(action)
    if out is not None:
        print(f"wrote {plural(rows, 'change')} to {out}", file=sys.stderr)


@segment_app.command("retire")
def retire(name: Annotated[str, typer.Argument(help="A segment's name.")]) -> None:
    """Stop refreshing a segment; its file and history are kept."""

    def action() -> Any:
        with _open() as ws:
            ws.retire(name)

    run(action)
    print(f"retired segment {name}: no longer refreshed; history kept")


class ReviewFormat(StrEnum):
    md = "md"
    json = "json"


@app.command()
def review(
    format: Annotated[
        ReviewFormat, typer.Option("--format", "-f", help="md (to read, share) or json.")
    ] = ReviewFormat.md,
) -> None:
    """The quarterly review: each active segment's checks, and what to change.

    Findings say which segments to merge, retire, link to a campaign or redefine.
    """
    import json

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.review()

    result = run(action)
    if format is ReviewFormat.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print(result.to_markdown(), end="")


@app.command()
def overlap(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Segments (default: every active one).", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    all_pairs: Annotated[
        bool,
        typer.Option("--all", help="List every pair, most overlapping first, instead of the grid."),
    ] = False,
) -> None:
    """Shared members and Jaccard overlap of segments, from their last refresh.

    The grid of every pair is shown when it fits the terminal; otherwise the most
    overlapping pairs are listed (all of them with --all).
    """
    import json

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.overlap(names or None)

    sizes, pairs = run(action)
    from segmint.cli.render import overlap_json, print_overlap

    if as_json:
        print(json.dumps(overlap_json(sizes, pairs), indent=2))
        return
    print_overlap(sizes, pairs, show_all=all_pairs)
