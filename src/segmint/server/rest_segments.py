"""The REST API's segment routes: the calls of ``segmint segment ...``, ``refresh``,
``overlap``, ``review`` and ``templates`` over HTTP (docs/server.md, "REST API")."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from segmint.server.rest_base import (
    TABLE_RESPONSES,
    AsOf,
    Columns,
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

router = APIRouter(tags=["segments"])

Name = Annotated[str, "a saved segment's name"]


class SegmentBody(BaseModel):
    """A segment's definition; its rule in the text form or as JSON (docs/rules.md)."""

    rule: str | dict[str, Any] = Field(
        description="The rule: text such as 'country = \"US\"', or its JSON form"
    )
    title: str | None = None
    description: str | None = None
    campaign: str | None = None


class NewSegment(SegmentBody):
    name: str = Field(description="Lower-case letters, digits, - and _")


class Refresh(BaseModel):
    names: list[str] | None = Field(None, description="Segments (default: every active one)")
    as_of: str | None = None
    full: bool = Field(
        False,
        description="Evaluate every segment for everyone (default: incrementally where the "
        "rules allow it)",
    )


class Templates(BaseModel):
    names: list[str] | None = Field(None, description="Template names (default: all)")
    replace: bool = False


def _rule(text: str) -> Any:
    """A rule given as a query parameter: its JSON form when it is a JSON object, else
    its text form."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # the rule parser says what is wrong with it
    return text


@router.get("/segments", summary="Every saved segment with its last refresh")
async def list_segments(
    state: Reading,
    sizes: Annotated[bool, Query(description="Count each segment's members now")] = False,
    as_of: AsOf = None,
) -> Any:
    found = await call(state, lambda ws: ws.list_segments(sizes, as_of if sizes else None))
    rows = []
    for d in found.segments:
        row = {"name": d.name, "error": d.error} if hasattr(d, "error") else d.to_json()
        status = found.states.get(d.name)
        row["state"] = {k: v for k, v in jsonable(status).items() if k != "name"}
        if found.sizes is not None:
            row["size_now"] = found.sizes.get(d.name)
        rows.append(row)
    return {"segments": rows, "as_of": jsonable(found.as_of)}


@router.get("/segments/{name}", summary="A segment's report (segment show --json)")
async def get_segment(state: Reading, name: Name, as_of: AsOf = None) -> Any:
    return (await call(state, lambda ws: ws.segment_report(name, as_of))).to_json()


@router.post("/segments", status_code=201, summary="Check and save a new segment")
async def create_segment(state: Writing, body: NewSegment) -> Any:
    def add(ws: Any) -> Any:
        return ws.add_segment(
            body.name, body.rule, title=body.title, description=body.description,
            campaign=body.campaign,
        )  # fmt: skip

    return (await call(state, add)).to_json()


@router.put("/segments/{name}", summary="Check and save a segment, replacing one of that name")
async def put_segment(state: Writing, name: Name, body: SegmentBody) -> Any:
    def add(ws: Any) -> Any:
        return ws.add_segment(
            name, body.rule, title=body.title, description=body.description,
            campaign=body.campaign, replace=True,
        )  # fmt: skip

    return (await call(state, add)).to_json()


@router.delete("/segments/{name}", summary="Delete a saved segment's file")
async def delete_segment(state: Writing, name: Name) -> Any:
    path = await call(state, lambda ws: ws.remove_segment(name))
    return {"removed": name, "file": path.name}


@router.get("/segments/{name}/count", summary="How many customers a saved segment selects")
async def count_segment(state: Reading, name: Name, as_of: AsOf = None) -> Any:
    count = await call(state, lambda ws: ws.count(ws.segments.get(name).rule, as_of))
    return {"name": name, "as_of": as_of, "count": count}


@router.get("/count", summary="How many customers a rule selects")
async def count_rule(
    state: Reading,
    rule: Annotated[str, Query(description="A rule in the text form, or its JSON")],
    as_of: AsOf = None,
) -> Any:
    return {"count": await call(state, lambda ws: ws.count(_rule(rule), as_of))}


@router.get(
    "/segments/{name}/members",
    responses=TABLE_RESPONSES,
    summary="A saved segment's members: a page of JSON, or all of them as CSV or JSON Lines",
)
async def segment_members(
    state: Reading,
    name: Name,
    as_of: AsOf = None,
    columns: Columns = None,
    format: TableFormat = "json",
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Any:
    wanted = columns_of(columns)

    def members(ws: Any) -> Any:
        return ws.members(ws.segments.get(name).rule, as_of, "batches", wanted)

    return await table_response(state, format, limit, offset, members)


@router.get(
    "/members",
    responses=TABLE_RESPONSES,
    summary="A rule's members: a page of JSON, or all of them as CSV or JSON Lines",
)
async def rule_members(
    state: Reading,
    rule: Annotated[str, Query(description="A rule in the text form, or its JSON")],
    as_of: AsOf = None,
    columns: Columns = None,
    format: TableFormat = "json",
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Any:
    wanted = columns_of(columns)

    def members(ws: Any) -> Any:
        return ws.members(_rule(rule), as_of, "batches", wanted)

    return await table_response(state, format, limit, offset, members)


@router.get(
    "/segments/{name}/history",
    responses=TABLE_RESPONSES,
    summary="Every entry and exit of a segment: customer_id, change, as_of",
)
async def segment_history(
    state: Reading,
    name: Name,
    since: AsOf = None,
    format: TableFormat = "json",
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Any:
    return await table_response(state, format, limit, offset, lambda ws: ws.history(name, since))


@router.post("/segments/{name}/retire", summary="Stop refreshing a segment; history is kept")
async def retire_segment(state: Writing, name: Name) -> Any:
    await call(state, lambda ws: ws.retire(name))
    return {"retired": name}


@router.post("/refresh", summary="Evaluate saved segments and record who entered and exited")
async def refresh(state: Writing, body: Annotated[Refresh | None, Body()] = None) -> Any:
    asked = body or Refresh.model_validate({})
    return jsonable(
        await call(state, lambda ws: ws.refresh(asked.names or None, asked.as_of, full=asked.full))
    )


@router.get(
    "/refresh/plan",
    summary="How a refresh would evaluate each segment (incremental or full) and why",
)
async def refresh_plan(
    state: Reading,
    names: Annotated[list[str] | None, Query(description="Segments (default: active)")] = None,
    as_of: str | None = None,
    full: bool = False,
) -> Any:
    return jsonable(await call(state, lambda ws: ws.explain_refresh(names or None, as_of, full)))


@router.get("/catalog", summary="The attributes, traits, events and properties a rule may use")
async def catalog(state: Reading) -> Any:
    return (await call(state, lambda ws: ws.catalog())).to_json()


@router.get(
    "/catalog/values",
    summary="The most common values of a text attribute or event property",
)
async def known_values(
    state: Reading,
    name: Annotated[str, Query(description="A text attribute or event property")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Any:
    found = await call(state, lambda ws: ws.known_values(name, limit))
    return {"name": name, "values": [{"value": v, "count": n} for v, n in found]}


@router.get("/rules/check", summary="Check a rule; its canonical JSON and text forms")
async def check_rule(
    state: Reading,
    rule: Annotated[str, Query(description="The rule: text, or its JSON form")],
) -> Any:
    return await call(state, lambda ws: ws.check_rule(_rule(rule)))


@router.get("/overlap", summary="Shared members and Jaccard overlap, from the last refresh")
async def overlap(
    state: Reading,
    names: Annotated[list[str] | None, Query(description="Segments (default: active)")] = None,
) -> Any:
    sizes, pairs = await call(state, lambda ws: ws.overlap(names or None))
    shared = [{"a": o.a, "b": o.b, "both": o.both, "jaccard": round(o.jaccard, 6)} for o in pairs]
    return {"sizes": sizes, "pairs": shared}


@router.get("/review", summary="The quarterly review of the active segments")
async def review(state: Reading) -> Any:
    return (await call(state, lambda ws: ws.review())).to_json()


@router.get("/templates", summary="The built-in segment templates, with sizes when asked")
async def templates(
    state: Reading,
    sizes: Annotated[bool, Query(description="Count each template's customers")] = False,
    as_of: AsOf = None,
) -> Any:
    from segmint.segments.templates import TEMPLATES

    counted = {}
    if sizes:
        counted = {
            c.template.name: c for c in await call(state, lambda ws: ws.template_sizes(as_of))
        }
    rows = []
    for t in TEMPLATES:
        row = {k: getattr(t, k) for k in ("name", "title", "rule", "campaign", "description")}
        if t.name in counted:
            row |= {"size": counted[t.name].size, "size_error": counted[t.name].reason}
        rows.append(row)
    return rows


@router.post("/templates", summary="Save templates as ordinary segments")
async def add_templates(state: Writing, body: Templates) -> Any:
    done = await call(state, lambda ws: ws.add_templates(body.names or None, body.replace))
    return {
        "saved": [name for name, ok in done if ok],
        "kept": [name for name, ok in done if not ok],
    }
