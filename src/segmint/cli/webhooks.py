"""``segmint webhooks``: deliver the outbox, look at the endpoints, test one."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from segmint.cli.app import _open, app, run
from segmint.cli.formats import instant, plural, seconds
from segmint.cli.output import progress_for_stderr

webhooks_app = typer.Typer(
    help="Webhooks on segment entry and exit ([[webhooks]] in segmint.toml).",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("retry")
def retry(
    now: Annotated[
        bool,
        typer.Option("--now", help="Post every pending message without waiting for its retry."),
    ] = False,
) -> None:
    """Post the webhook messages that are due (a refresh posts its own after it commits)."""

    def action() -> Any:
        with _open() as ws:
            return ws.deliver_webhooks(now, progress_for_stderr())

    result = run(action)
    print(delivery_line(result))
    raise typer.Exit(2 if result.error else 0)


@webhooks_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each endpoint: messages pending, due, delivered and failed, and why it is disabled."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.webhook_status()

    endpoints = run(action)
    if as_json:
        print(json.dumps([status_json(e) for e in endpoints], indent=2))
    else:
        print_status(endpoints)


@webhooks_app.command("test")
def test(
    name: Annotated[str, typer.Argument(help="The endpoint's name (or url) in segmint.toml.")],
) -> None:
    """Post a signed test message to an endpoint; a 2xx answer enables a disabled one."""

    def action() -> Any:
        with _open() as ws:
            return ws.test_webhook(name)

    result = run(action)
    print(test_line(result))
    raise typer.Exit(0 if result.ok else 1)


def delivery_line(result: Any) -> str:
    """One line about a delivery run."""
    if result.error:
        return f"webhooks not delivered: {result.error}"
    if not result.attempted:
        return "webhooks: nothing due"
    parts = [
        f"delivered {plural(result.delivered, 'message')} ({plural(result.changes, 'change')})"
    ]
    if result.retrying:
        parts.append(f"{result.retrying:,} to retry")
    if result.failed:
        parts.append(f"{result.failed:,} failed after 24 h")
    if result.disabled:
        parts.append(f"disabled by 410: {', '.join(result.disabled)}")
    return f"webhooks: {'; '.join(parts)} in {seconds(result.seconds)}"


def status_json(e: Any) -> dict[str, Any]:
    return {
        "endpoint": e.endpoint,
        "url": e.url,
        "disabled_at": e.disabled_at.isoformat() if e.disabled_at else None,
        "reason": e.reason,
        "pending": e.pending,
        "pending_changes": e.pending_changes,
        "due": e.due,
        "delivered": e.delivered,
        "failed": e.failed,
        "last_delivered_at": e.last_delivered_at.isoformat() if e.last_delivered_at else None,
        "last_error": e.last_error,
    }


def print_status(endpoints: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not endpoints:
        console.print("no webhook endpoints (add a [[webhooks]] table to segmint.toml)")
        return
    table = Table("endpoint", "state", "pending", "due", "delivered", "failed", "last delivery")
    for e in endpoints:
        state = "not in segmint.toml" if e.url is None else "enabled"
        if e.disabled_at is not None:
            state = f"[red]disabled[/red] {instant(e.disabled_at)}: {e.reason}"
        last = instant(e.last_delivered_at) if e.last_delivered_at else "-"
        pending = f"{e.pending:,} ({plural(e.pending_changes, 'change')})"
        table.add_row(
            e.endpoint, state, pending, f"{e.due:,}", f"{e.delivered:,}", f"{e.failed:,}", last
        )
    console.print(table)
    for e in endpoints:
        if e.last_error and (e.pending or e.failed):
            print(f"{e.endpoint}: last error: {e.last_error}", file=sys.stderr)


def test_line(result: Any) -> str:
    answer = f"HTTP {result.status_code}" if result.status_code is not None else result.error
    verdict = "ok" if result.ok else "failed"
    again = "; the endpoint is enabled again" if result.enabled_again else ""
    return (
        f"test message to {result.endpoint}: {verdict} ({answer}, {seconds(result.seconds)}){again}"
    )
