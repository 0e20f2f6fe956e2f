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


OUTCOMES = ("sent", "opened", "clicked", "converted")
_TRUE = "('true', 't', 'yes', 'y', '1')"
_FALSE = "('false', 'f', 'no', 'n', '0')"


def check_results(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> dict[str, int]:
    """Stage imported outcomes (``rows``: text columns ``customer_id`` and any of
    ``OUTCOMES`` and ``revenue``) in ``_campaign_results`` with the reason each bad row is
    refused, checked in one query: no customer id, a customer who is not in the
    campaign, a customer given twice, a value that is not true/false or a non-negative
    amount. The number of refused rows per reason."""
    present = set(rows.column_names)

    def flag(column: str) -> str:
        if column not in present:
            return "NULL::BOOLEAN"
        text = f"lower(trim(r.{column}))"
        return f"CASE WHEN {text} IN {_TRUE} THEN true WHEN {text} IN {_FALSE} THEN false END"

    def bad_flag(column: str) -> str:
        if column not in present:
            return "false"
        return f"(r.{column} IS NOT NULL AND trim(r.{column}) <> '' AND {flag(column)} IS NULL)"

    revenue = "TRY_CAST(r.revenue AS DECIMAL(18, 4))" if "revenue" in present else "NULL"
    bad_revenue = (
        f"(r.revenue IS NOT NULL AND trim(r.revenue) <> '' AND "
        f"({revenue} IS NULL OR {revenue} < 0))"
        if "revenue" in present
        else "false"
    )
    reasons = [
        ("r.customer_id IS NULL OR trim(r.customer_id) = ''", "no customer_id"),
        ("m.customer_id IS NULL", "not in the campaign"),
        ("count(*) OVER (PARTITION BY trim(r.customer_id)) > 1", "customer_id given twice"),
        *((bad_flag(c), f"{c} is not true or false") for c in OUTCOMES),
        (bad_revenue, "revenue is not a non-negative amount"),
    ]
    reason = "CASE " + " ".join(f"WHEN {test} THEN '{why}'" for test, why in reasons) + " END"
    con.register("_campaign_import", rows)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _campaign_results AS SELECT trim(r.customer_id) AS "
            f"customer_id, {', '.join(f'{flag(c)} AS {c}' for c in OUTCOMES)}, "
            f"{revenue} AS revenue, {reason} AS reason FROM _campaign_import r LEFT JOIN "
            "(SELECT DISTINCT customer_id FROM campaign_members WHERE campaign = ?) m "
            "ON m.customer_id = trim(r.customer_id)",
            [name],
        )
    finally:
        con.unregister("_campaign_import")
    counts = con.execute(
        "SELECT reason, count(*) FROM _campaign_results WHERE reason IS NOT NULL "
        "GROUP BY reason ORDER BY count(*) DESC, reason"
    ).fetchall()
    return {str(why): int(n) for why, n in counts}


def store_results(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Replace the campaign's imported outcomes with the good rows of
    ``_campaign_results``; how many were stored."""
    con.execute("DELETE FROM campaign_results WHERE campaign = ?", [name])
    con.execute(
        f"INSERT INTO campaign_results SELECT ?, customer_id, {', '.join(OUTCOMES)}, revenue "
        "FROM _campaign_results WHERE reason IS NULL",
        [name],
    )
    found = con.execute(
        "SELECT count(*) FROM campaign_results WHERE campaign = ?", [name]
    ).fetchone()
    return int(found[0]) if found else 0


def has_results(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute("SELECT 1 FROM campaign_results WHERE campaign = ? LIMIT 1", [name])
    return found.fetchone() is not None


def imported_outcomes(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table:
    """Each member's response from the imported outcomes (segment, customer_id, grp,
    converted, revenue, sent, opened, clicked): a member without a row did not convert
    and spent nothing."""
    table: pa.Table = (
        con.execute(
            "SELECT m.segment, m.customer_id, m.grp, coalesce(r.converted, false) AS converted, "
            "coalesce(r.revenue, 0)::DOUBLE AS revenue, coalesce(r.sent, false) AS sent, "
            "coalesce(r.opened, false) AS opened, coalesce(r.clicked, false) AS clicked "
            "FROM campaign_members m LEFT JOIN campaign_results r "
            "ON r.campaign = m.campaign AND r.customer_id = m.customer_id "
            "WHERE m.campaign = ? ORDER BY m.segment, m.customer_id",
            [name],
        )
        .arrow()
        .read_all()
    )
    return table
