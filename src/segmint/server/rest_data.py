"""The REST API's other routes: customers, traits and models, clusters, exports and
suppressions, campaigns and API keys; each the call of its CLI command (docs/server.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from segmint.server.rest_base import (
    TABLE_RESPONSES,
    Admin,
    AsOf,
    Limit,
    Offset,
    Reading,
    TableFormat,
    Writing,
    call,
    columns_of,
    jsonable,
    table_response,
)

router = APIRouter()


# --- customers and traits -------------------------------------------------------------


@router.get(
    "/customers",
    tags=["customers"],
    summary="Customers whose id or email starts with q, or whose name contains it",
)
async def search_customers(
    state: Reading,
    q: Annotated[str, Query(min_length=1, description="Text to look for")],
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many")] = 20,
) -> Any:
    return jsonable(await call(state, lambda ws: ws.search_customers(q, limit)))


@router.get(
    "/customers/{key}",
    tags=["customers"],
    summary="The single customer view of a customer id, an email or an anonymous id",
)
async def customer(
    state: Reading,
    key: str,
    recent: Annotated[int, Query(ge=0, le=1000, description="Recent events to list")] = 10,
    as_of: AsOf = None,
) -> Any:
    return (await call(state, lambda ws: ws.customer(key, recent, as_of))).to_dict()


@router.get(
    "/traits",
    tags=["traits"],
    responses=TABLE_RESPONSES,
    summary="Computed traits of every customer: a page of JSON, or all as CSV or JSON Lines",
)
async def traits(
    state: Reading,
    as_of: AsOf = None,
    names: Annotated[str | None, Query(description="Traits, e.g. orders_count,rfm")] = None,
    format: TableFormat = "json",
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Any:
    chosen = columns_of(names) or None
    return await table_response(
        state, format, limit, offset, lambda ws: ws.traits(as_of, names=chosen)
    )


@router.get("/models", tags=["traits"], summary="The CLV models fitted up to as_of")
async def models(
    state: Reading, as_of: AsOf = None, time_unit: Literal["day", "week"] = "day"
) -> Any:
    return await call(state, lambda ws: ws.models(as_of, time_unit))


# --- clusters ---------------------------------------------------------------------------


class ClusterAsk(BaseModel):
    features: list[str] | None = Field(None, description="Default: the RFM-style features")
    k: int | None = Field(None, description="Exactly k clusters")
    k_range: tuple[int, int] | None = Field(None, description="Try each k from LO to HI")
    as_of: str | None = None
    sample: int | None = Field(None, description="Customers to fit on (default 100,000)")
    seed: int = 0


class ClusterRename(BaseModel):
    name: str


class ClusterSave(BaseModel):
    name: str = Field(description="The segment's name")
    kind: Literal["rule", "static"] = "rule"
    title: str | None = None
    replace: bool = False


@router.get("/clusters", tags=["clusters"], summary="The stored cluster runs, oldest first")
async def cluster_runs(state: Reading) -> Any:
    return jsonable(await call(state, lambda ws: ws.cluster_runs()))


@router.post("/clusters", tags=["clusters"], status_code=201, summary="Cluster the customers")
async def cluster(state: Writing, body: ClusterAsk) -> Any:
    def run(ws: Any) -> Any:
        return ws.cluster(body.features, body.k, body.k_range, body.as_of, body.sample, body.seed)

    return jsonable((await call(state, run)).summary())


@router.get("/clusters/{run_id}", tags=["clusters"], summary="A stored cluster run")
async def cluster_run(state: Reading, run_id: int) -> Any:
    return jsonable((await call(state, lambda ws: ws.cluster_run(run_id))).to_json())


@router.post(
    "/clusters/{run_id}/{number}/rename", tags=["clusters"], summary="Name a cluster of a run"
)
async def rename_cluster(state: Writing, run_id: int, number: int, body: ClusterRename) -> Any:
    found = await call(state, lambda ws: ws.rename_cluster(run_id, number, body.name))
    return jsonable(found.to_json())


@router.post(
    "/clusters/{run_id}/{number}/save",
    tags=["clusters"],
    status_code=201,
    summary="Save a cluster of a run as a segment (its rule, or its members as a list)",
)
async def save_cluster(state: Writing, run_id: int, number: int, body: ClusterSave) -> Any:
    def save(ws: Any) -> Any:
        return ws.save_cluster(run_id, number, body.name, body.kind, body.title, body.replace)

    path = await call(state, save)
    return {"saved": body.name, "file": path.name}


# --- exports and suppressions -----------------------------------------------------------


class ExportAsk(BaseModel):
    """An export to a file in the workspace's exports/ folder (or to a platform)."""

    to: str = Field(description="csv, parquet, jsonl, klaviyo, mailchimp, meta or google")
    as_of: str | None = Field(None, description="Default: the segment's last refresh")
    delta: bool = False
    columns: list[str] | None = None
    value: str | None = Field(None, description="meta/google: a numeric trait as value")


class SegmentExport(ExportAsk):
    segment: str


class Suppress(BaseModel):
    values: list[str] = Field(description="Emails and customer ids")
    reason: str | None = None


@router.post("/exports", tags=["exports"], status_code=201, summary="Export a saved segment")
async def export(state: Writing, body: SegmentExport) -> Any:
    def run(ws: Any) -> Any:
        return ws.export(body.segment, body.to, None, body.as_of, body.delta, body.columns,
                         body.value)  # fmt: skip

    return jsonable((await call(state, run)).to_dict())


@router.get("/exports", tags=["exports"], summary="The export ledger, oldest first")
async def export_history(state: Reading, segment: str | None = None) -> Any:
    return jsonable(await call(state, lambda ws: ws.export_history(segment)))


@router.get("/suppressions", tags=["exports"], summary="The suppression list")
async def suppressions(state: Reading) -> Any:
    return jsonable(await call(state, lambda ws: ws.suppressions()))


@router.post("/suppressions", tags=["exports"], summary="Add emails and ids to the list")
async def suppress(state: Writing, body: Suppress) -> Any:
    return {"added": await call(state, lambda ws: ws.suppress(body.values, body.reason))}


@router.delete("/suppressions/{value}", tags=["exports"], summary="Take a value off the list")
async def unsuppress(state: Writing, value: str) -> Any:
    return {"removed": await call(state, lambda ws: ws.unsuppress([value]))}


# --- campaigns --------------------------------------------------------------------------


class CampaignAsk(BaseModel):
    name: str
    segments: list[str]
    goal: str | dict[str, Any] = Field(description="A rule over events, e.g. did order_completed")
    holdout: float | str = "10%"
    window: int | str = "14d"
    starts: str | None = None


@router.get("/campaigns", tags=["campaigns"], summary="Every campaign with its group sizes")
async def campaigns(state: Reading) -> Any:
    return jsonable([c.to_dict() for c in await call(state, lambda ws: ws.campaigns())])


@router.post("/campaigns", tags=["campaigns"], status_code=201, summary="Create a campaign")
async def create_campaign(state: Writing, body: CampaignAsk) -> Any:
    def create(ws: Any) -> Any:
        return ws.create_campaign(body.name, body.segments, body.goal, body.holdout,
                                  body.window, body.starts)  # fmt: skip

    return jsonable((await call(state, create)).to_dict())


@router.get("/campaigns/{name}", tags=["campaigns"], summary="One campaign")
async def campaign(state: Reading, name: str) -> Any:
    return jsonable((await call(state, lambda ws: ws.campaign(name))).to_dict())


@router.get(
    "/campaigns/{name}/members",
    tags=["campaigns"],
    responses=TABLE_RESPONSES,
    summary="Each member of a campaign: customer_id, segment and group",
)
async def campaign_members(
    state: Reading, name: str, format: TableFormat = "json", limit: Limit = 1000, offset: Offset = 0
) -> Any:
    return await table_response(state, format, limit, offset, lambda ws: ws.campaign_members(name))


@router.get("/campaigns/{name}/report", tags=["campaigns"], summary="A campaign's response")
async def campaign_report(state: Reading, name: str) -> Any:
    return jsonable((await call(state, lambda ws: ws.campaign_report(name))).to_dict())


@router.post(
    "/campaigns/{name}/exports",
    tags=["campaigns"],
    status_code=201,
    summary="Export a campaign's treatment group (never its holdout)",
)
async def export_campaign(state: Writing, name: str, body: ExportAsk) -> Any:
    def run(ws: Any) -> Any:
        return ws.export_campaign(name, body.to, None, body.delta, body.columns, body.value)

    return jsonable((await call(state, run)).to_dict())


# --- API keys (admin) -------------------------------------------------------------------


class KeyAsk(BaseModel):
    name: str
    scope: Literal["read", "write", "admin"] = "write"


@router.get("/keys", tags=["keys"], summary="Every API key (never the secrets)")
async def keys(state: Admin) -> Any:
    return [k.to_dict() for k in await call(state, lambda ws: ws.keys())]


@router.post("/keys", tags=["keys"], status_code=201, summary="Make an API key (shown once)")
async def create_key(state: Admin, body: KeyAsk) -> Any:
    made = await call(state, lambda ws: ws.create_key(body.name, body.scope))
    state.keys_changed()
    return made.to_dict()


@router.delete("/keys/{name}", tags=["keys"], summary="Revoke an API key")
async def revoke_key(state: Admin, name: str) -> Any:
    await call(state, lambda ws: ws.revoke_key(name))
    state.keys_changed()
    return {"revoked": name}
