"""``segmint keys create|list|revoke``: API keys of the HTTP server (docs/server.md)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from segmint.cli.app import _open, app, run
from segmint.cli.formats import instant

keys_app = typer.Typer(
    help="API keys of the HTTP server: read, write or admin (docs/server.md).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The key's name: lower-case, digits, '-', '_'.")],
    scope: Annotated[
        str, typer.Option(help="read (look-ups, GET), write (tracking, writes) or admin.")
    ] = "write",
) -> None:
    """Make an API key and print it once: only its hash is stored."""

    def action() -> Any:
        with _open() as ws:
            return ws.create_key(name, scope)

    made = run(action)
    print(made.key)
    print(
        f"API key {made.name} ({made.scope}): copy it now, it will not be shown again "
        "(segmint stores only its hash)"
    )


@keys_app.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every API key: name, scope, prefix, when made and when revoked (never the key)."""

    def action() -> Any:
        with _open(read_only=True) as ws:
            return ws.keys()

    found = run(action)
    if as_json:
        print(json.dumps([k.to_dict() for k in found], indent=2))
    else:
        print_keys(found)


@keys_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The key's name (see: segmint keys list).")],
) -> None:
    """Revoke an API key: it stops working at once, and stays in the list."""

    def action() -> Any:
        with _open() as ws:
            ws.revoke_key(name)

    run(action)
    print(f"API key {name} revoked")


def print_keys(found: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not found:
        console.print("no API keys yet (segmint keys create NAME --scope write)")
        return
    table = Table("name", "scope", "prefix", "created", "revoked")
    for k in found:
        table.add_row(k.name, k.scope, f"{k.prefix}…", instant(k.created_at), instant(k.revoked_at))
    console.print(table)
