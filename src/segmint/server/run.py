"""Starting the server: ``segmint serve`` and ``segmint.server.run.serve``."""

from __future__ import annotations

import sys
from pathlib import Path

from segmint.server.app import create_app
from segmint.server.state import ServerSettings


def serve(
    workspace: Path | str | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "warning",
    sweep_minutes: float = 5.0,
) -> None:
    """Serve the workspace until interrupted (Ctrl-C or SIGTERM stop it cleanly: what
    was acknowledged is applied, or applied at the next start).

    A workspace without API keys gets an admin key named ``default``, printed once, so
    a first start works and every write still needs a key."""
    import uvicorn

    import segmint

    with segmint.open(workspace) as ws:
        root = ws.root
        if not ws.keys():
            made = ws.create_key("default", "admin")
            print(
                f"created the admin API key 'default' (shown once, only its hash is kept):\n"
                f"  {made.key}\nmake narrower ones with: segmint keys create NAME --scope write",
                file=sys.stderr,
            )
    url = f"http://{host}:{port}"
    app = create_app(ServerSettings(root=root, url=url, sweep_minutes=sweep_minutes))
    print(f"segmint serving {root} at {url} (API docs: {url}/docs)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
