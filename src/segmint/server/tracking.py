"""The tracking API, compatible with Segment's HTTP tracking API (docs/server.md):
``POST /v1/identify|track|page|screen|group|alias|batch|import``.

A request is checked (the write key, the size, the JSON), each message gets a
``messageId`` when it has none and the server's ``receivedAt``, and the messages go to
the journal; the answer is 200 only once they are on disk (server/pipeline.py). What a
message means is not checked here: a message without a user is written to the journal
and then rejected by the load, with its reason, in ``rejects/`` (as a bad row of a file
is), so nothing a client was told is safe is ever dropped.

Errors are ``{"code", "message"}`` with the status Segment's clients act on: 400 (bad
request, not retried), 401 (no or unknown write key), 413 (too large), 429 (the backlog
is full; ``Retry-After`` says when to try again; retried).
"""

from __future__ import annotations

import json
import uuid
import zlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from segmint.ingest.messages import TYPES
from segmint.server.state import write_key

if TYPE_CHECKING:
    from segmint.server.state import ServerState

MESSAGE_BYTES = 32 * 1024
BATCH_BYTES = 500 * 1024
RETRY_AFTER_SECONDS = 2

router = APIRouter(prefix="/v1", tags=["tracking"])


class TrackingError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if self.status == 429 else None
        return JSONResponse(
            {"code": self.code, "message": self.message}, self.status, headers=headers
        )


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object, gunzipped when it says so, at most ``limit`` bytes."""
    declared = request.headers.get("content-length")
    encoding = request.headers.get("content-encoding", "").lower()
    if declared is not None and declared.isdigit() and int(declared) > limit and not encoding:
        raise _too_large(limit)
    raw = await request.body()
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error:
            raise TrackingError(400, "invalid_request", "body is not valid gzip") from None
    elif encoding not in ("", "identity"):
        raise TrackingError(400, "invalid_request", f"unsupported Content-Encoding {encoding!r}")
    if len(raw) > limit:
        raise _too_large(limit)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise TrackingError(400, "invalid_request", "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise TrackingError(400, "invalid_request", "body must be a JSON object")
    return body


def _too_large(limit: int) -> TrackingError:
    return TrackingError(413, "request_too_large", f"body is larger than {limit // 1024} KB")


def accept(messages: list[Any], defaults: dict[str, Any], received_at: str) -> list[bytes]:
    """Each message as its journal line: checked for shape and size, with a
    ``messageId`` when it has none, ``receivedAt``, and the batch's ``sentAt``,
    ``context`` and ``integrations`` where it has its own none."""
    lines = []
    for i, message in enumerate(messages):
        where = f"batch[{i}]" if len(messages) > 1 or "batch" in defaults else "message"
        if not isinstance(message, dict):
            raise TrackingError(400, "invalid_request", f"{where}: a message is a JSON object")
        kind = message.get("type")
        if kind not in TYPES:
            raise TrackingError(
                400,
                "invalid_request",
                f"{where}: type must be one of {', '.join(TYPES)}, got {kind!r}",
            )
        for key in ("sentAt", "context", "integrations"):
            if key in defaults and key not in message:
                message[key] = defaults[key]
        if not message.get("messageId"):
            message["messageId"] = f"segmint-{uuid.uuid4()}"
        message["receivedAt"] = received_at
        line = json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)
        data = line.encode("utf-8") + b"\n"
        if len(data) > MESSAGE_BYTES:
            raise TrackingError(413, "message_too_large", f"{where}: a message is at most 32 KB")
        lines.append(data)
    return lines


async def take(request: Request, kind: str | None) -> JSONResponse:
    """One tracking request: ``kind`` is the single message's type, None for a batch."""
    state: ServerState = request.app.state.segmint
    try:
        body = await read_json(request, BATCH_BYTES if kind is None else MESSAGE_BYTES)
        key = write_key(request, body)
        state.require(key, "write")
        if not state.own_store:
            # Refused before the journal: a message taken could never be loaded.
            raise TrackingError(
                400,
                "not_supported",
                "this workspace reads its data from a [source] engine; tracking messages "
                "load into a workspace's own store",
            )
        if state.pipeline.overloaded():
            raise TrackingError(
                429, "too_many_requests", "the server is behind on loading; retry shortly"
            )
        received_at = datetime.now(UTC).isoformat()
        if kind is None:
            batch = body.get("batch")
            if not isinstance(batch, list):
                raise TrackingError(400, "invalid_request", "batch must be a list of messages")
            defaults: dict[str, Any] = {
                k: body[k] for k in ("sentAt", "context", "integrations") if k in body
            }
            defaults["batch"] = True
            lines = accept(batch, defaults, received_at)
        else:
            body.pop("writeKey", None)
            body.setdefault("type", kind)
            if body["type"] != kind:
                raise TrackingError(
                    400, "invalid_request", f"type {body['type']!r} sent to /v1/{kind}"
                )
            lines = accept([body], {}, received_at)
    except TrackingError as exc:
        return exc.response()
    if lines:
        import asyncio

        await asyncio.wrap_future(state.pipeline.submit(lines))
    return JSONResponse({"success": True})


def _route(kind: str | None, path: str, summary: str) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        return await take(request, kind)

    endpoint.__name__ = f"tracking_{path.strip('/')}"
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        summary=summary,
        responses={
            200: {"description": "Durable: the messages are on disk and will be loaded."},
            400: {"description": "Not a valid request ({code, message}); not retried."},
            401: {"description": "No write key, or not one with the write scope."},
            413: {"description": "The body or a message is too large."},
            429: {"description": "The backlog is full; retry after Retry-After seconds."},
        },
    )


for _kind in TYPES:
    _route(_kind, f"/{_kind}", f"One {_kind} message")
_route(None, "/batch", "Many messages (Segment's clients send only this)")
_route(None, "/import", "Many messages (the same as /v1/batch)")
