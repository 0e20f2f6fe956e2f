"""The look-up routes (docs/server.md, "Look-ups"): ``GET /v1/profiles/{id}/segments``
and ``/traits``, answered from the in-memory index (server/index.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from segmint.server.state import bearer_or_basic

if TYPE_CHECKING:
    from segmint.server.state import ServerState

router = APIRouter(prefix="/v1/profiles", tags=["look-ups"])


def _profile(request: Request, key: str) -> tuple[ServerState, int] | JSONResponse:
    """The server's state and the profile of ``key`` for a read key, or the 404."""
    state: ServerState = request.app.state.segmint
    state.require(bearer_or_basic(request), "read")
    pid = state.index.find(key)
    if pid is None:
        return JSONResponse(
            {"error": "not_found", "message": f"no profile {key!r}", "location": "id"}, 404
        )
    return state, pid


@router.get(
    "/{key}/segments",
    summary="The segments a profile is in (from memory; a read key)",
    responses={404: {"description": "No profile has that id."}},
)
async def profile_segments(request: Request, key: str) -> Any:
    """``key`` is a customer id, ``email:ADDRESS`` or ``anonymous:ID``."""
    found = _profile(request, key)
    if isinstance(found, JSONResponse):
        return found
    state, pid = found
    index = state.index
    return {"customer_id": index.customer_id(pid), "segments": list(index.segments(pid))}


@router.get(
    "/{key}/traits",
    summary="A profile's computed traits at the last sweep (from memory; a read key)",
    responses={404: {"description": "No profile has that id, or it is anonymous."}},
)
async def profile_traits(
    request: Request,
    key: str,
    fields: str | None = Query(None, description="Comma-separated trait names (default all)."),
) -> Any:
    profile = _profile(request, key)
    if isinstance(profile, JSONResponse):
        return profile
    state, pid = profile
    index = state.index
    customer = index.customer_id(pid)
    found = index.traits(customer) if customer is not None else None
    if found is None:
        return JSONResponse(
            {
                "error": "not_found",
                "message": f"no computed traits for {key!r} (anonymous, or new since the "
                "last sweep)",
                "location": "id",
            },
            404,
        )
    if fields:
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
        unknown = [f for f in wanted if f not in found]
        if unknown:
            return JSONResponse(
                {"error": "validation", "message": f"unknown trait {unknown[0]!r}",
                 "location": "fields"},
                400,
            )  # fmt: skip
        found = {f: found[f] for f in wanted}
    return {"customer_id": customer, "as_of": index.traits_as_of, "traits": found}
