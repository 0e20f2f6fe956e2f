"""The FastAPI application of ``segmint serve`` (docs/server.md).

The server owns its workspace: it holds the write lock for as long as it runs, so no
other process can write to the file, and everything goes through this process. Inside
it, one lock (``store_lock``) orders the work on the store: the applier's micro-batches
and the API's reads and writes take turns. Acknowledging a tracking message never waits
for that lock: it only waits for the journal's sync (server/pipeline.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse

from segmint.server.state import Denied, ServerSettings, ServerState, bearer_or_basic


def create_app(settings: ServerSettings) -> FastAPI:
    """The application on the workspace of ``settings.root``; the workspace is opened
    when the server starts and closed when it stops."""
    from segmint import __version__
    from segmint.server import lookup, rest, tracking

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ServerState(settings)
        app.state.segmint = state
        state.start()
        try:
            yield
        finally:
            state.stop()

    app = FastAPI(
        title="segmint",
        version=__version__,
        description="Customer segmentation on your own data: the tracking API, "
        "segments and customers over HTTP (docs/server.md).",
        lifespan=lifespan,
    )
    app.include_router(tracking.router)
    app.include_router(lookup.router)
    app.include_router(rest.router)
    for error, handler in rest.ERROR_HANDLERS.items():
        app.add_exception_handler(error, handler)

    @app.exception_handler(Denied)
    async def denied(request: Any, exc: Denied) -> JSONResponse:
        code = "unauthorized" if exc.status == 401 else "forbidden"
        headers = {"WWW-Authenticate": 'Basic realm="segmint"'} if exc.status == 401 else None
        return JSONResponse(
            {"code": code, "error": code, "message": exc.message}, exc.status, headers=headers
        )

    _mount_ui(app)

    @app.get("/healthz", tags=["server"], summary="Whether the server is up (no key needed)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/status", tags=["server"], summary="The tracking pipeline's counters")
    async def status(request: Request) -> dict[str, Any]:
        state: ServerState = app.state.segmint
        state.require(bearer_or_basic(request), "read")
        return state.status()

    return app


# The web UI (docs/ui.md): built from ui/ by Vite into the package, served as files. The
# page itself holds no data and needs no key; everything it shows comes from the API with
# the key the user gives it.
UI = Path(__file__).parent / "ui"
_UI_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _mount_ui(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles

    index = UI / "index.html"
    if not index.is_file():
        return  # a checkout whose UI was never built: the API alone

    app.mount("/assets", StaticFiles(directory=UI / "assets"), name="ui-assets")

    @app.get("/", include_in_schema=False)
    async def ui_page() -> FileResponse:
        return FileResponse(index, headers=_UI_HEADERS)
