"""Campaigns and their frozen audiences (store/schema.py ``campaigns``,
``campaign_members``).

Parameterized SQL: the audience arrives as an Arrow table of (segment, customer_id) and
is assigned in one INSERT ... SELECT, because the assignment is a hash DuckDB computes
for every member at once:

    u = the first 13 hex digits of SHA-256("<campaign>:<customer_id>") / 16^13

a number in [0, 1) that depends on nothing but the campaign's name and the customer's
id, so the same campaign assigns the same customer to the same group on any machine and
any day; a customer is in the holdout when ``u < holdout``. SHA-256's output is uniform,
so the groups are a uniform random split (tests/activation/test_campaigns.py tests it
with a chi-square test). A customer in two of the campaign's segments has one ``u``,
hence one group.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

HASH_DIGITS = 13
HASH_SCALE = 16**HASH_DIGITS
GROUPS = ("treatment", "holdout")


def exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT 1 FROM campaigns WHERE name = ?", [name]).fetchone() is not None


def create(
    con: duckdb.DuckDBPyConnection,
    settings: dict[str, Any],
    audience: pa.Table,
) -> None:
    """Store campaign ``settings`` (the columns of ``campaigns``) and its ``audience``
    (segment, customer_id), each member assigned to a group."""
    name = settings["name"]
    con.execute(
        "INSERT INTO campaigns (name, created_at, starts_at, window_days, holdout, goal, "
        "segments) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            name,
            settings["created_at"],
            settings["starts_at"],
            settings["window_days"],
            settings["holdout"],
            json.dumps(settings["goal"]),
            json.dumps(settings["segments"]),
        ],
    )
    con.register("_campaign_audience", audience)
    try:
        con.execute(
            "INSERT INTO campaign_members SELECT DISTINCT ?, segment, customer_id, "
            f"CASE WHEN ('0x' || left(sha256(? || ':' || customer_id), {HASH_DIGITS}))"
            f"::UBIGINT < ? * {HASH_SCALE} THEN 'holdout' ELSE 'treatment' END "
            "FROM _campaign_audience",
            [name, name, settings["holdout"]],
        )
    finally:
        con.unregister("_campaign_audience")


def listed(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every campaign with its group sizes (each customer once), oldest first."""
    rows = con.execute(
        "SELECT c.name, c.created_at, c.starts_at, c.window_days, c.holdout, c.goal, "
        "c.segments, count(DISTINCT m.customer_id), "
        "count(DISTINCT m.customer_id) FILTER (WHERE m.grp = 'treatment'), "
        "count(DISTINCT m.customer_id) FILTER (WHERE m.grp = 'holdout') "
        "FROM campaigns c LEFT JOIN campaign_members m ON m.campaign = c.name "
        "GROUP BY ALL ORDER BY c.created_at, c.name"
    ).fetchall()
    keys = (
        "name",
        "created_at",
        "starts_at",
        "window_days",
        "holdout",
        "goal",
        "segments",
        "audience",
        "treatment",
        "held_out",
    )
    found = []
    for row in rows:
        entry = dict(zip(keys, row, strict=True))
        entry["goal"] = json.loads(entry["goal"])
        entry["segments"] = json.loads(entry["segments"])
        found.append(entry)
    return found


def segment_counts(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, tuple[int, int]]:
    """Per segment of the campaign: (treatment, holdout) members."""
    rows = con.execute(
        "SELECT segment, count(*) FILTER (WHERE grp = 'treatment'), "
        "count(*) FILTER (WHERE grp = 'holdout') FROM campaign_members WHERE campaign = ? "
        "GROUP BY segment ORDER BY segment",
        [name],
    ).fetchall()
    return {segment: (int(t), int(h)) for segment, t, h in rows}


def members(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table:
    """customer_id, segment and group of every member, by customer then segment."""
    table: pa.Table = (
        con.execute(
            'SELECT customer_id, segment, grp AS "group" FROM campaign_members '
            "WHERE campaign = ? ORDER BY customer_id, segment",
            [name],
        )
        .arrow()
        .read_all()
    )
    return table


def starts(con: duckdb.DuckDBPyConnection, name: str) -> datetime | None:
    found = con.execute("SELECT starts_at FROM campaigns WHERE name = ?", [name]).fetchone()
    return None if found is None else found[0]


def outcomes(
    con: duckdb.DuckDBPyConnection,
    name: str,
    converted: pa.Table,
    purchase_event: str,
    start: datetime,
    end: datetime,
) -> pa.Table:
    """Each member's response (segment, customer_id, grp, converted, revenue):
    ``converted`` holds the customer ids whose goal held, revenue is the sum of the
    ``purchase_event`` revenue of their profile from ``start`` (included) to ``end``
    (excluded), 0 without purchases."""
    con.register("_campaign_converted", converted)
    try:
        table: pa.Table = (
            con.execute(
                "WITH spent AS (SELECT p.customer_id, sum(e.revenue)::DOUBLE AS revenue "
                "FROM events e JOIN profiles p USING (pid) WHERE e.event = ? AND e.ts >= ? "
                "AND e.ts < ? GROUP BY p.customer_id) "
                "SELECT m.segment, m.customer_id, m.grp, "
                "m.customer_id IN (SELECT customer_id FROM _campaign_converted) AS converted, "
                "coalesce(s.revenue, 0)::DOUBLE AS revenue FROM campaign_members m "
                "LEFT JOIN spent s USING (customer_id) WHERE m.campaign = ? "
                "ORDER BY m.segment, m.customer_id",
                [purchase_event, start, end, name],
            )
            .arrow()
            .read_all()
        )
    finally:
        con.unregister("_campaign_converted")
    return table
