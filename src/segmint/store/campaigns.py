"""Campaigns and their frozen audiences (store/schema.py ``campaigns``,
``campaign_members``).

Parameterized SQL: the audience (each segment's rule, or its members from a source
engine as Arrow) is evaluated and assigned in one INSERT ... SELECT, because the
assignment is a hash DuckDB computes for every member at once:

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

    from segmint.engine.duckdb import DuckDBEngine

HASH_DIGITS = 13
HASH_SCALE = 16**HASH_DIGITS
GROUPS = ("treatment", "holdout")


def exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT 1 FROM campaigns WHERE name = ?", [name]).fetchone() is not None


def create(
    engine: DuckDBEngine,
    settings: dict[str, Any],
    parts: list[tuple[str, str | pa.Table]],
    params: dict[str, object],
) -> None:
    """Store campaign ``settings`` (the columns of ``campaigns``) and its audience, each
    member assigned to a group, in one statement. ``parts`` holds each segment's members
    (a ``customer_id`` column): the SQL of its rule (with ``params``, evaluated in the
    same statement) or, from a source engine, an Arrow table of them."""
    con = engine.con
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
    values: dict[str, object] = {
        **params,
        "campaign_name": name,
        "campaign_holdout": settings["holdout"],
    }
    selects = []
    registered = []
    try:
        for i, (segment, members) in enumerate(parts):
            values[f"campaign_segment_{i}"] = segment
            if isinstance(members, str):
                source = f"({members})"
            else:
                source = f"_campaign_part_{i}"
                con.register(source, members)
                registered.append(source)
            selects.append(
                f"SELECT getvariable('campaign_segment_{i}') AS segment, "
                f"customer_id::VARCHAR AS customer_id FROM {source}"
            )
        engine.execute(
            "INSERT INTO campaign_members SELECT DISTINCT getvariable('campaign_name'), "
            "segment, customer_id, CASE WHEN ('0x' || left(sha256(getvariable("
            f"'campaign_name') || ':' || customer_id), {HASH_DIGITS}))::UBIGINT "
            f"< getvariable('campaign_holdout') * {HASH_SCALE} THEN 'holdout' "
            f"ELSE 'treatment' END FROM ({' UNION ALL '.join(selects)})",
            values,
        )
    finally:
        for source in registered:
            con.unregister(source)


def names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        str(row[0]) for row in con.execute("SELECT name FROM campaigns ORDER BY name").fetchall()
    ]


def listed(
    con: duckdb.DuckDBPyConnection, name: str | None = None, sizes: bool = True
) -> list[dict[str, Any]]:
    """Every campaign (or only campaign ``name``) with its group sizes (each customer
    once; zero without ``sizes``, for a caller that counts them itself), oldest first."""
    # A customer has one group, so each (customer, group) once counts each customer once.
    chosen = "" if name is None else " WHERE campaign = $name"
    counted = chosen if sizes else " WHERE false"
    rows = con.execute(
        "WITH people AS (SELECT DISTINCT campaign, customer_id, grp FROM campaign_members"
        f"{counted}), sizes AS (SELECT campaign, count(*) AS audience, "
        "count(*) FILTER (WHERE grp = 'treatment') AS treatment, "
        "count(*) FILTER (WHERE grp = 'holdout') AS held_out FROM people GROUP BY campaign) "
        "SELECT c.name, c.created_at, c.starts_at, c.window_days, c.holdout, c.goal, "
        "c.segments, coalesce(s.audience, 0), coalesce(s.treatment, 0), "
        "coalesce(s.held_out, 0) FROM campaigns c LEFT JOIN sizes s ON s.campaign = c.name"
        f"{chosen.replace('campaign', 'c.name')} ORDER BY c.created_at, c.name",
        {} if name is None else {"name": name},
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


def outcome_counts(
    engine: DuckDBEngine,
    name: str,
    goal: tuple[str, dict[str, object]] | None,
    purchase_event: str,
    start: datetime,
    end: datetime,
) -> pa.Table:
    """How many members of campaign ``name`` had each outcome, in one statement: a row
    per (segment, grp, converted, revenue) with ``customers``, then the same with
    ``segment`` NULL for the whole campaign, where each customer counts once.

    With ``goal`` (the SQL of the goal's members, customer_id, and its parameters) a
    member converted when the goal holds for them, and their revenue is the sum of their
    profile's ``purchase_event`` revenue from ``start`` (included) to ``end`` (excluded);
    without it both come from the imported outcomes (a member without a row did not
    convert and spent nothing). Everyone who spent nothing shares one row, so the result
    has about a row per buyer, not per member."""
    if goal is None:
        outcome = (
            "SELECT m.segment, m.customer_id, m.grp, coalesce(r.converted, false) AS converted, "
            "coalesce(r.revenue, 0)::DOUBLE AS revenue FROM campaign_members m "
            "LEFT JOIN campaign_results r ON r.campaign = m.campaign "
            "AND r.customer_id = m.customer_id WHERE m.campaign = getvariable('campaign_name')"
        )
        params: dict[str, object] = {}
    else:
        sql, params = goal
        outcome = (
            f"WITH converted AS ({sql}), spent AS (SELECT p.customer_id, "
            "sum(e.revenue)::DOUBLE AS revenue FROM events e JOIN profiles p USING (pid) "
            "WHERE e.event = getvariable('campaign_purchase') "
            "AND e.ts >= getvariable('campaign_start') AND e.ts < getvariable('campaign_end') "
            "GROUP BY p.customer_id) "
            "SELECT m.segment, m.customer_id, m.grp, "
            "m.customer_id IN (SELECT customer_id::VARCHAR FROM converted) AS converted, "
            "coalesce(s.revenue, 0)::DOUBLE AS revenue FROM campaign_members m "
            "LEFT JOIN spent s USING (customer_id) WHERE m.campaign = getvariable('campaign_name')"
        )
    table: pa.Table = engine.to_arrow(
        f"WITH outcome AS ({outcome}) "
        "SELECT segment, grp, converted, revenue, count(*) AS customers FROM outcome "
        "GROUP BY ALL UNION ALL "
        "SELECT NULL, grp, converted, revenue, count(*) FROM (SELECT DISTINCT customer_id, "
        "grp, converted, revenue FROM outcome) GROUP BY ALL",
        {
            **params,
            "campaign_name": name,
            "campaign_purchase": purchase_event,
            "campaign_start": start,
            "campaign_end": end,
        },
    )
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


def backtest_counts(
    engine: DuckDBEngine,
    converted: str,
    members: str,
    population: str,
    params: dict[str, object],
) -> tuple[int, int, int, int]:
    """A backtest's counts at one as_of, in one statement: members, members converted,
    others (the rest of the population), others converted. ``members``, ``population``
    and ``converted`` are the SQL of the segment's, everyone's and the goal's ``pid``
    (the goal's at the end of the window, with variables of its own), ``params`` the
    variables of all three."""
    found = engine.execute(
        f"WITH converted AS ({converted}) "
        "SELECT count(m.pid), count(m.pid) FILTER (WHERE c.pid IS NOT NULL), "
        "count(*) - count(m.pid), count(c.pid) FILTER (WHERE m.pid IS NULL) "
        f"FROM ({population}) p LEFT JOIN ({members}) m USING (pid) "
        "LEFT JOIN converted c USING (pid)",
        params,
    ).fetchone()
    assert found is not None
    n, n_converted, rest, rest_converted = (int(v) for v in found)
    return n, n_converted, rest, rest_converted
