"""Counts over the whole workspace: what ``segmint stats`` shows and the demo's report
(``overview``).

Parameterized SQL (values as ``?``; the one column named from the catalog is quoted):
each answer is one aggregate statement whose rows the callers read as DuckDB gives them
(exact decimal revenue), and several are ``count(*) FILTER (...)`` or scalar subqueries
over several tables in one row, which an Ibis expression would spread over several
queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from segmint.engine.sqltext import quote_ident

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class WorkspaceCounts:
    """Profiles, known customers, events, merges, loads and rejected rows."""

    profiles: int
    customers: int
    events: int
    merges: int
    loads: int
    rejected: int


@dataclass(frozen=True)
class OrderCounts:
    """Orders left out (their status does not count), partly refunded, converted from
    another currency, and how many other currencies there are."""

    left_out: int
    partly_refunded: int
    converted: int
    other_currencies: int


@dataclass(frozen=True)
class Overview:
    """What a workspace holds beyond its counts (``Workspace.overview()``): the order
    events and their revenue in the base currency, the stored orders' counts, profiles
    without a customer id, events per name (most frequent first), the five most common
    countries and every device (``country`` and ``device_os`` attributes; empty without
    them), and the customer of the merge that moved the most events."""

    order_events: int
    revenue: Decimal
    orders: OrderCounts
    anonymous_profiles: int
    events_by_name: tuple[tuple[str, int], ...]
    countries: tuple[tuple[str, int], ...]
    devices: tuple[tuple[str, int], ...]
    most_merged_customer: str | None


def overview(con: duckdb.DuckDBPyConnection, order_event: str, currency: str) -> Overview:
    """The overview, ``order_event`` being the event of an order and ``currency`` the base
    currency."""
    order_events, revenue = event_totals(con, order_event)
    return Overview(
        order_events=order_events,
        revenue=revenue,
        orders=order_counts(con, currency),
        anonymous_profiles=anonymous_profiles(con),
        events_by_name=tuple(events_by_name(con)),
        countries=tuple(top_values(con, "country", limit=5)),
        devices=tuple(top_values(con, "device_os")),
        most_merged_customer=most_merged_customer(con),
    )


def workspace_counts(con: duckdb.DuckDBPyConnection) -> WorkspaceCounts:
    row = con.execute(
        "SELECT (SELECT count(*) FROM profiles), "
        "(SELECT count(*) FROM profiles WHERE customer_id IS NOT NULL), "
        "(SELECT count(*) FROM events), (SELECT count(*) FROM identity_merges), "
        "(SELECT count(*) FROM loads), (SELECT coalesce(sum(rejected), 0) FROM loads)"
    ).fetchone()
    assert row is not None
    return WorkspaceCounts(*(int(v) for v in row))


def event_totals(con: duckdb.DuckDBPyConnection, event: str) -> tuple[int, Decimal]:
    """How many ``event`` events there are and their revenue."""
    row = con.execute(
        "SELECT count(*), coalesce(sum(revenue), 0) FROM events WHERE event = ?", [event]
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def order_counts(con: duckdb.DuckDBPyConnection, currency: str) -> OrderCounts:
    """The orders' counts, ``currency`` being the base currency."""
    row = con.execute(
        "SELECT count(*) FILTER (WHERE NOT counted), "
        "count(*) FILTER (WHERE counted AND refunded_amount > 0), "
        "count(*) FILTER (WHERE counted AND currency <> ?), "
        "count(DISTINCT currency) FILTER (WHERE currency <> ?) FROM orders",
        [currency, currency],
    ).fetchone()
    assert row is not None
    return OrderCounts(*(int(v) for v in row))


def most_merged_customer(con: duckdb.DuckDBPyConnection) -> str | None:
    """The customer id of the merge that moved the most events (None without merges)."""
    row = con.execute(
        "SELECT p.customer_id FROM identity_merges m JOIN profiles p ON p.pid = m.into_pid "
        "ORDER BY m.events_moved DESC, p.customer_id LIMIT 1"
    ).fetchone()
    return None if row is None else row[0]


def anonymous_profiles(con: duckdb.DuckDBPyConnection) -> int:
    """Profiles without a customer id."""
    row = con.execute("SELECT count(*) FROM profiles WHERE customer_id IS NULL").fetchone()
    return int(row[0]) if row else 0


def events_by_name(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """(event, count) per event name, most frequent first."""
    rows = con.execute("SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC")
    return [(event, n) for event, n in rows.fetchall()]


def top_values(
    con: duckdb.DuckDBPyConnection, attribute: str, limit: int | None = None
) -> list[tuple[str, int]]:
    """(value or ``(none)``, customers) of a stored attribute over the known customers,
    most frequent first (``limit`` of them); empty when there is no such attribute."""
    row = con.execute("SELECT column_name FROM attributes WHERE name = ?", [attribute]).fetchone()
    if row is None:
        return []
    column = quote_ident(str(row[0]))
    rows = con.execute(
        f"SELECT coalesce({column}, '(none)'), count(*) FROM profiles "
        "WHERE customer_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"
        + ("" if limit is None else " LIMIT ?"),
        [] if limit is None else [limit],
    ).fetchall()
    return [(value, n) for value, n in rows]
