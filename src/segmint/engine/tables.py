"""segmint's stored tables as unbound Ibis tables: what queries are built on.

The store (store/schema.py) creates them; every engine runs expressions on these names.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from segmint.engine.dialects import IBIS_TYPES

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.engine.clock import Clock


PEOPLE_COLUMNS = {
    "pid": "int64",
    "customer_id": "string",
    "created_at": "timestamp('UTC')",
    "first_event_at": "timestamp('UTC')",
    "last_event_at": "timestamp('UTC')",
}


def profiles_table(attributes: dict[str, str]) -> ir.Table:
    """The stored profile columns: the fixed ones and every stored attribute
    (``attributes``: stored column -> logical type)."""
    import ibis

    schema = dict(PEOPLE_COLUMNS)
    for column, kind in attributes.items():
        schema[column] = IBIS_TYPES[kind]
    return ibis.table(schema, name="profiles")


def segment_members_table() -> ir.Table:
    """Current members of the refreshed segments (segments/refresh.py keeps it)."""
    import ibis

    return ibis.table({"name": "string", "pid": "int64"}, name="segment_members")


def campaign_members_table() -> ir.Table:
    """Campaigns' frozen audiences and their groups (activation/campaigns.py)."""
    import ibis

    return ibis.table(
        {"campaign": "string", "segment": "string", "customer_id": "string", "grp": "string"},
        name="campaign_members",
    )


# Per-customer measures of an event condition ("leaf") kept between refreshes
# (store/measures.py, rules/increments.py): one table per leaf, a row per customer.
MEASURE_COLUMNS = {
    "pid": "int64",
    "n": "int64",
    "n2": "int64",
    "s": "float64",
    "r": "decimal(38, 4)",
    "lo": "float64",
    "hi": "float64",
    "first_ts": "timestamp('UTC')",
    "last_ts": "timestamp('UTC')",
}


def measures_table(leaf: str) -> ir.Table:
    """The kept measures of the leaf whose key is ``leaf`` (a hex digest)."""
    import ibis

    if not re.fullmatch(r"[0-9a-f]{20}", leaf):
        raise ValueError(f"not a leaf key: {leaf!r}")
    return ibis.table(MEASURE_COLUMNS, name=f"segment_measures_{leaf}")


def touched_table() -> ir.Table:
    """The profiles a refresh or live update re-evaluates (``_touched``, store/segments.py)."""
    import ibis

    return ibis.table({"pid": "int64"}, name="_touched")


def people_table() -> ir.Table:
    """The profile columns that decide who exists when (no attributes)."""
    import ibis

    return ibis.table(PEOPLE_COLUMNS, name="profiles")


def events_table(
    property_columns: dict[str, str] | None = None,
    event_day: bool = False,
    load_id: bool = False,
) -> ir.Table:
    """The events table; ``property_columns`` (column -> logical type) are properties kept
    as typed columns beside the JSON (a source's typed columns, docs/sources.md), and
    ``event_day`` the date a source's events are partitioned by; with ``load_id``, the
    load that stored each row (the own store only: incremental refresh reads it)."""
    import ibis

    schema = {
        "pid": "int64",
        "event": "string",
        "ts": "timestamp('UTC')",
        "revenue": "decimal(18, 4)",
        "properties": "json",
    }
    if load_id:
        schema["load_id"] = "int32"
    for column, kind in (property_columns or {}).items():
        schema[column] = IBIS_TYPES[kind]
    if event_day:
        schema["event_day"] = "date"
    return ibis.table(schema, name="events")


def population(profiles: ir.Table, clock: Clock) -> ir.Table:
    """Known customers (with a ``customer_id``) that exist at ``as_of``: created by then,
    or, without ``created_at``, first seen by then, or with neither (always there)."""
    at = clock.ago(0)
    created = profiles.created_at
    first = profiles.first_event_at
    exists = (created <= at) | (created.isnull() & (first.isnull() | (first <= at)))
    return profiles.filter(profiles.customer_id.notnull(), exists)
