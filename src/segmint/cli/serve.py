"""``segmint serve``: the HTTP server (docs/server.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from segmint.cli.app import STATE, app, run


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "warning",
    sweep_minutes: Annotated[
        float, typer.Option(help="Minutes between full refreshes of live segments (0: none).")
    ] = 5.0,
) -> None:
    """Serve the workspace over HTTP (the Segment-compatible tracking API) until Ctrl-C.

    The server owns the workspace while it runs: other commands are refused and say so."""
    from segmint.server.run import serve as start

    run(lambda: start(STATE.workspace, host, port, log_level, sweep_minutes))
