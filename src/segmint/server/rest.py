"""The REST API over the façade (docs/server.md, "REST API"): the same calls as the CLI,
under ``/v1``, with API keys (read for GET, write for every other write, admin for keys).

The routes are split by topic (``rest_segments.py``, ``rest_data.py``) and share the key
check, the store lock and the rendering (``rest_base.py``); app.py includes
:data:`router` and registers :data:`ERROR_HANDLERS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from segmint.errors import SegmintError
from segmint.server import rest_data, rest_segments
from segmint.server.rest_base import ERRORS, http_error, request_invalid, segmint_error

router = APIRouter(prefix="/v1", responses=ERRORS)
router.include_router(rest_segments.router)
router.include_router(rest_data.router)

# Errors as ``{error, message, location}`` with the status of their kind.
ERROR_HANDLERS: dict[type[Exception], Callable[[Any, Exception], Awaitable[Any]]] = {
    SegmintError: segmint_error,
    RequestValidationError: request_invalid,
    HTTPException: http_error,
}
