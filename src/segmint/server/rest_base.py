"""What the routes of the REST API share (docs/server.md, "REST API"): the key check, one
façade call under the store lock, the error bodies and statuses, and the rendering of a
table as a page of JSON or a CSV / JSON Lines stream.

The REST API has no logic of its own: each route parses its parameters, makes the call
the CLI makes, and renders what the façade returns.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from fastapi import Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from segmint.errors import (
    ConflictError,
    NotFoundError,
    SegmintError,
    StoreFullError,
    WorkspaceBusyError,
    WorkspaceError,
)
from segmint.server.state import ServerState, bearer_or_basic

if TYPE_CHECKING:
    from segmint.workspace import Workspace

_T = TypeVar("_T")


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx of the REST API: a SegmintError's ``to_dict()``."""

    error: str
    message: str
    location: str | None = None


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Every route may answer these; the router declares them so /openapi.json documents them.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Invalid value, argument or rule; or the workspace cannot do it"),
    401: _error("No API key, or an unknown or revoked one"),
    403: _error("The key's scope is too small"),
    404: _error("No such segment, customer, cluster run, campaign or key"),
    409: _error("It exists already, or is still in use"),
    422: _error("A parameter or the body does not have the documented shape"),
    503: _error("The workspace is busy or its disk is full"),
}


async def _scope(request: Request, needed: str) -> ServerState:
    state: ServerState = request.app.state.segmint
    # A key not yet cached is looked up in the store, under its lock: not on the loop.
    await run_in_threadpool(state.require, bearer_or_basic(request), needed)
    return state


async def _reading(request: Request) -> ServerState:
    return await _scope(request, "read")


async def _writing(request: Request) -> ServerState:
    return await _scope(request, "write")


async def _admin(request: Request) -> ServerState:
    return await _scope(request, "admin")


# A route's first parameter: the key is checked (before its body is read) for that scope.
Reading = Annotated[ServerState, Depends(_reading)]
Writing = Annotated[ServerState, Depends(_writing)]
Admin = Annotated[ServerState, Depends(_admin)]

AsOf = Annotated[
    str | None,
    Query(description="A date (00:00 UTC) or an ISO 8601 instant with an offset; default now"),
]
Columns = Annotated[
    str | None, Query(description="Attributes to add after customer_id, e.g. email,country")
]
Limit = Annotated[int, Query(ge=1, le=10_000, description="At most this many rows (JSON)")]
Offset = Annotated[int, Query(ge=0, description="Skip this many rows first (JSON)")]
TableFormat = Annotated[
    Literal["json", "csv", "jsonl"],
    Query(description="json: a page of rows; csv or jsonl: every row, streamed"),
]

TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of rows as JSON, or every row as CSV or JSON Lines",
        "content": {"application/json": {}, "text/csv": {}, "application/x-ndjson": {}},
    }
}


async def call(state: ServerState, action: Callable[[Workspace], _T]) -> _T:
    """``action`` on the workspace, in a worker thread, holding the store lock: the store
    is single-threaded, and the event loop (the tracking API) must not wait for it."""

    def locked() -> _T:
        with state.store_lock:
            return action(state.ws)

    return await run_in_threadpool(locked)


def columns_of(text: str | None) -> list[str]:
    """``email,country`` as the CLI's ``--columns`` reads it."""
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def jsonable(value: Any) -> Any:
    """A façade result as JSON: dataclasses as their fields, datetimes as ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return jsonable_encoder(value)


def page(table: Any, limit: int, offset: int) -> dict[str, Any]:
    """Rows ``offset`` .. ``offset + limit`` of an Arrow table, with the total."""
    rows = table.slice(offset, limit).to_pylist() if offset < table.num_rows else []
    return {"total": table.num_rows, "offset": offset, "limit": limit, "rows": jsonable(rows)}


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


async def table_response(
    state: ServerState, fmt: str, limit: int, offset: int, read: Callable[[Workspace], Any]
) -> Any:
    """The table ``read`` returns (an Arrow table or a batch stream) as a page of JSON, or
    every row as CSV / JSON Lines. The rows are written as the CLI writes them to a
    temporary file (kept in memory while small) under the store lock, then streamed from
    it: a slow client never holds the store."""
    if fmt == "json":
        return page(await call(state, lambda ws: _whole(read(ws))), limit, offset)
    from segmint.activation.files import write_members

    # Closed by the stream (or below, on an error): it outlives this function.
    spool = tempfile.SpooledTemporaryFile(8 << 20, "w+", encoding="utf-8", newline="")  # noqa: SIM115

    def written(ws: Workspace) -> None:
        write_members(read(ws), fmt, None, spool)

    try:
        await call(state, written)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return StreamingResponse(_chunks(spool), media_type=MEDIA_TYPES[fmt])


def _whole(table: Any) -> Any:
    read_all = getattr(table, "read_all", None)  # a RecordBatchReader
    return read_all() if callable(read_all) else table


def _chunks(spool: Any) -> Iterator[bytes]:
    try:
        while chunk := spool.read(1 << 16):
            yield chunk.encode("utf-8")
    finally:
        spool.close()


# --- errors ---------------------------------------------------------------------------


def status_of(exc: SegmintError) -> int:
    """The HTTP status of a segmint error: what the caller can do about it."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, WorkspaceBusyError | StoreFullError):
        return 503
    if isinstance(exc, WorkspaceError) and exc.kind == "workspace":
        return 409  # e.g. a source-mode workspace asked to load data
    return 400


async def segmint_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SegmintError)
    return JSONResponse(exc.to_dict(), status_of(exc))


async def request_invalid(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own check of parameters and bodies, as ``{error, message, location}``."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    location = ".".join(str(p) for p in first.get("loc", ())) or None
    message = f"{location}: {first.get('msg')}" if location else str(first.get("msg"))
    return JSONResponse({"error": "validation", "message": message, "location": location}, 422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Unknown routes (404) and methods (405) as ``{error, message, location}``."""
    assert isinstance(exc, HTTPException)
    kinds = {404: "not_found", 405: "method_not_allowed"}
    body = {
        "error": kinds.get(exc.status_code, "http_error"),
        "message": f"{request.method} {request.url.path}: {exc.detail}",
        "location": request.url.path,
    }
    return JSONResponse(body, exc.status_code, headers=exc.headers)
