"""The single customer view's reads: one profile found by customer id, email or anonymous
id, and its attributes, identities, events, orders, merges and segments.

Parameterized SQL (``?`` and ``$k`` placeholders; the attribute columns come from the
``attributes`` catalog and are quoted): the view hands these values to the user as DuckDB
gives them (exact decimals for money, timestamps in the session's time zone, properties as
JSON text), which an Ibis expression's Arrow result would change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from segmint.engine.sqltext import quote_ident

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class ProfileRow:
    """A profile's stored attributes (catalog name -> value, nulls included, in catalog
    order: built-in first) and when it was first and last seen."""

    attributes: dict[str, Any]
    first_event_at: datetime | None
    last_event_at: datetime | None


def find_pid(con: duckdb.DuckDBPyConnection, key: str) -> int | None:
    """The profile of a customer id, else of an email, else of an anonymous id."""
    row = con.execute(
        "SELECT pid FROM (SELECT pid, 0 AS o FROM profiles WHERE customer_id = $k "
        "UNION ALL SELECT pid, 1 FROM identities WHERE kind = 'email' AND value = lower(trim($k)) "
        "UNION ALL SELECT pid, 2 FROM identities WHERE kind = 'anonymous_id' AND value = $k) "
        "ORDER BY o, pid LIMIT 1",
        {"k": key},
    ).fetchone()
    return None if row is None else int(row[0])


def profile(con: duckdb.DuckDBPyConnection, pid: int) -> ProfileRow | None:
    """Profile ``pid``'s attributes and first and last event times."""
    catalog = con.execute("SELECT name, column_name FROM attributes ORDER BY builtin DESC, name")
    columns = catalog.fetchall()
    select = ", ".join(quote_ident(col) for _, col in columns)
    row = con.execute(
        f"SELECT {select}, first_event_at, last_event_at FROM profiles WHERE pid = ?", [pid]
    ).fetchone()
    if row is None:
        return None
    attributes = {name: row[i] for i, (name, _) in enumerate(columns)}
    return ProfileRow(attributes, row[-2], row[-1])


def event_counts(con: duckdb.DuckDBPyConnection, pid: int) -> list[tuple[str, int, Decimal]]:
    """(event, count, revenue) per event name of ``pid``, most frequent first."""
    rows = con.execute(
        "SELECT event, count(*), coalesce(sum(revenue), 0) FROM events WHERE pid = ? "
        "GROUP BY event ORDER BY count(*) DESC, event",
        [pid],
    ).fetchall()
    return [(event, n, revenue) for event, n, revenue in rows]


def identities(con: duckdb.DuckDBPyConnection, pid: int) -> list[tuple[str, str]]:
    """(kind, value) of ``pid``'s identities, sorted."""
    rows = con.execute(
        "SELECT kind, value FROM identities WHERE pid = ? ORDER BY kind, value", [pid]
    ).fetchall()
    return [(kind, value) for kind, value in rows]


def recent_events(
    con: duckdb.DuckDBPyConnection, pid: int, n: int
) -> list[tuple[datetime, str, str, Decimal | None, str | None]]:
    """(ts, event, event_id, revenue, properties JSON text) of ``pid``'s ``n`` latest
    events, newest first."""
    rows = con.execute(
        "SELECT ts, event, event_id, revenue, CAST(properties AS VARCHAR) FROM events "
        "WHERE pid = ? ORDER BY ts DESC, event, event_id LIMIT ?",
        [pid, n],
    ).fetchall()
    return [(ts, event, event_id, revenue, props) for ts, event, event_id, revenue, props in rows]


def orders(con: duckdb.DuckDBPyConnection, pid: int, n: int) -> list[tuple[Any, ...]]:
    """``pid``'s ``n`` latest orders as last loaded: order_id, ordered_at, status, total,
    currency, refunded_amount, revenue, counted."""
    rows = con.execute(
        "SELECT order_id, ordered_at, status, total, currency, refunded_amount, revenue, "
        "counted FROM orders WHERE pid = ? ORDER BY ordered_at DESC, order_id LIMIT ?",
        [pid, n],
    ).fetchall()
    return [tuple(r) for r in rows]


def merges(con: duckdb.DuckDBPyConnection, pid: int) -> list[tuple[Any, ...]]:
    """The profiles merged into ``pid``: via_kind, via_value, events_moved, merged_at."""
    rows = con.execute(
        "SELECT via_kind, via_value, events_moved, merged_at FROM identity_merges "
        "WHERE into_pid = ? ORDER BY merged_at, via_value",
        [pid],
    ).fetchall()
    return [tuple(r) for r in rows]


def segments(con: duckdb.DuckDBPyConnection, pid: int) -> list[str]:
    """The segments ``pid`` is in at their last refresh, by name."""
    rows = con.execute(
        "SELECT name FROM segment_members WHERE pid = ? ORDER BY name", [pid]
    ).fetchall()
    return [name for (name,) in rows]


def segment_changes(
    con: duckdb.DuckDBPyConnection, pid: int, limit: int = 20
) -> list[tuple[str, str, datetime]]:
    """(segment, entered or exited, as_of) of ``pid``'s latest ``limit`` changes."""
    rows = con.execute(
        "SELECT name, change, as_of FROM segment_changes WHERE pid = ? "
        "ORDER BY as_of DESC, name LIMIT ?",
        [pid, limit],
    ).fetchall()
    return [(name, change, as_of) for name, change, as_of in rows]
