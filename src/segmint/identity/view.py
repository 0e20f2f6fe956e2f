"""The single customer view: one profile with its identities, activity and attributes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from segmint.errors import ArgumentError, NotFoundError
from segmint.ingest.duckdb.sources import MAX_JSON_DEPTH, json_depth, json_members
from segmint.store import customers as stored

if TYPE_CHECKING:
    import duckdb

# The most recent events a profile view lists.
MAX_RECENT = 10_000


@dataclass(frozen=True)
class CustomerView:
    """Everything known about one person."""

    pid: int
    customer_id: str | None
    attributes: dict[str, Any]
    identities: list[dict[str, str]]
    event_counts: dict[str, int]
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    revenue_total: Decimal
    recent_events: list[dict[str, Any]]
    merged_from: list[dict[str, Any]]
    # Computed traits at ``as_of`` (missing ones left out); empty for an anonymous profile.
    traits: dict[str, Any] = field(default_factory=dict)
    as_of: datetime | None = None
    # Segments the customer is in at their last refresh, and past entries and exits.
    segments: list[str] = field(default_factory=list)
    segment_changes: list[dict[str, Any]] = field(default_factory=list)
    # The latest orders as last loaded, excluded ones too: status, the original total and
    # currency, the refund, revenue in the base currency, and whether it counts.
    orders: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The customer's JSON document as plain Python values: timestamps as ISO 8601
        strings, money as exact numbers (or strings where a float would not be exact)."""
        return {
            "customer_id": self.customer_id,
            "attributes": {k: _jsonable(v) for k, v in self.attributes.items()},
            "identities": self.identities,
            "event_counts": self.event_counts,
            "first_seen_at": _jsonable(self.first_seen_at),
            "last_seen_at": _jsonable(self.last_seen_at),
            "revenue_total": _jsonable(self.revenue_total),
            "recent_events": [{k: _jsonable(v) for k, v in e.items()} for e in self.recent_events],
            "merged_from": [{k: _jsonable(v) for k, v in m.items()} for m in self.merged_from],
            "as_of": _jsonable(self.as_of),
            "traits": {k: _jsonable(v) for k, v in self.traits.items()},
            "segments": self.segments,
            "segment_changes": [
                {k: _jsonable(v) for k, v in c.items()} for c in self.segment_changes
            ],
            "orders": [{k: _jsonable(v) for k, v in o.items()} for o in self.orders],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The customer's JSON document as text, exactly as ``segmint customer show --json``
        prints it: profile, identities, traits, segments and their entries and exits, recent
        events.

        >>> import json, tempfile, pyarrow, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> people = pyarrow.table({"customer_id": ["C1"], "email": ["ada@example.com"]})
        >>> _ = ws.ingest("customers", people)
        >>> json.loads(ws.customer("ada@example.com").to_json())["customer_id"]
        'C1'
        >>> ws.close()
        """
        import json

        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, Decimal):
        return _money_json(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _money_json(value: Decimal) -> int | float | str:
    """Money for JSON: a number when a JSON reader gets the exact value back, else the
    exact decimal as a string (-99999999999999.9999 is -100000000000000.0 as a float)."""
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def find_pid(con: duckdb.DuckDBPyConnection, key: str) -> int:
    """The profile of a customer id, else of an email, else of an anonymous id."""
    pid = stored.find_pid(con, key)
    if pid is None:
        raise NotFoundError(f"no customer with customer id, email or anonymous id {key!r}")
    return pid


def customer_view(con: duckdb.DuckDBPyConnection, key: str, recent: int = 10) -> CustomerView:
    """Build the :class:`CustomerView` for ``key`` (customer id, email or anonymous id)."""
    if isinstance(recent, bool) or not 0 <= recent <= MAX_RECENT:
        raise ArgumentError(f"--recent: must be between 0 and {MAX_RECENT:,}, got {recent}")
    pid = find_pid(con, key)
    row = stored.profile(con, pid)
    assert row is not None
    attributes = {name: value for name, value in row.attributes.items() if value is not None}
    counts = stored.event_counts(con, pid)
    return CustomerView(
        pid=pid,
        customer_id=attributes.pop("customer_id", None),
        attributes=attributes,
        identities=[{"kind": kind, "value": value} for kind, value in stored.identities(con, pid)],
        event_counts={event: int(n) for event, n, _ in counts},
        first_seen_at=row.first_event_at,
        last_seen_at=row.last_event_at,
        revenue_total=sum((Decimal(r) for _, _, r in counts), Decimal(0)),
        recent_events=_recent(con, pid, recent),
        merged_from=_merges(con, pid),
        orders=_orders(con, pid, recent),
        segments=stored.segments(con, pid),
        segment_changes=[
            {"segment": name, "change": change, "as_of": as_of}
            for name, change, as_of in stored.segment_changes(con, pid)
        ],
    )


def _recent(con: duckdb.DuckDBPyConnection, pid: int, n: int) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": ts,
            "event": event,
            "event_id": event_id,
            "revenue": revenue,
            "properties": _properties(con, props),
        }
        for ts, event, event_id, revenue, props in stored.recent_events(con, pid, n)
    ]


# Characters of a value too deeply nested to show as a value, shown as its JSON text.
_SHOWN_TEXT = 200


def _properties(con: duckdb.DuckDBPyConnection, text: str | None) -> dict[str, Any]:
    """An event's properties without null values, for showing.

    Every reader here (json.loads, the JSON output, the table) recurses once per level of
    nesting. Ingest rejects values nested deeper than MAX_JSON_DEPTH, but a workspace may
    hold older ones: such a value is shown as the start of its JSON text instead.
    """
    import json

    if not text:
        return {}
    if json_depth(text) <= MAX_JSON_DEPTH:
        data = json.loads(text)
        if not isinstance(data, dict):
            return {"(properties)": data}
        return {k: v for k, v in data.items() if v is not None}
    shown: dict[str, Any] = {}
    for key, value in json_members(con, text):
        if value == "null":
            continue
        if json_depth(value) <= MAX_JSON_DEPTH:
            shown[key] = json.loads(value)
        else:
            shown[key] = value[:_SHOWN_TEXT] + "…"
    return shown


def _orders(con: duckdb.DuckDBPyConnection, pid: int, n: int) -> list[dict[str, Any]]:
    rows = stored.orders(con, pid, n)
    keys = (
        "order_id", "ordered_at", "status", "total", "currency", "refunded_amount", "revenue",
        "counted",
    )  # fmt: skip
    return [dict(zip(keys, r, strict=True)) for r in rows]


def _merges(con: duckdb.DuckDBPyConnection, pid: int) -> list[dict[str, Any]]:
    rows = stored.merges(con, pid)
    keys = ("via", "value", "events_moved", "merged_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]
