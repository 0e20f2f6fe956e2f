"""The catalogs a rule is checked against: stored attributes, event names, event
properties and which event carries which property. A load decides what to add or widen
(ingest/duckdb/catalog.py); the statements that do it are here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from segmint.engine.sqltext import quote_ident
from segmint.store.schema import STORAGE_TYPES

if TYPE_CHECKING:
    import duckdb

# The meta key that holds the properties kept as typed events columns (JSON name -> column).
PROPERTY_COLUMNS_KEY = "property_columns"
# The meta key set when a source's events view has an ``event_day`` column (its partition
# date, ``[source] event_date``), which rules test next to the event time.
EVENT_DAY_KEY = "event_day"


@dataclass(frozen=True)
class CatalogRows:
    """The catalog tables as read: attributes (name, stored column, logical type), event
    names, property types and the (event, property) pairs seen."""

    attributes: list[tuple[str, str, str]]
    events: list[str]
    properties: dict[str, str]
    usage: list[tuple[str, str]]
    # Properties kept as typed events columns (a source's, store/source.py): name -> column.
    property_columns: dict[str, str] = field(default_factory=dict)
    # Whether the events have an ``event_day`` column to prune by.
    event_day: bool = False


def read_catalog_rows(con: duckdb.DuckDBPyConnection) -> CatalogRows:
    """Every row of the catalogs (small tables: one row per name).

    >>> import duckdb
    >>> from segmint.store.schema import DDL
    >>> con = duckdb.connect()
    >>> _ = con.execute(DDL)
    >>> read_catalog_rows(con).events
    []
    """
    attributes = [
        (str(n), str(c), str(t))
        for n, c, t in con.execute("SELECT name, column_name, type FROM attributes").fetchall()
    ]
    events = [str(e) for (e,) in con.execute("SELECT event FROM event_names").fetchall()]
    properties = {
        str(p): str(t) for p, t in con.execute("SELECT prop, type FROM event_properties").fetchall()
    }
    usage = [
        (str(e), str(p))
        for e, p in con.execute("SELECT event, prop FROM event_property_usage").fetchall()
    ]
    row = con.execute("SELECT value FROM meta WHERE key = ?", [PROPERTY_COLUMNS_KEY]).fetchone()
    columns = {str(k): str(v) for k, v in json.loads(row[0]).items()} if row else {}
    day = con.execute("SELECT 1 FROM meta WHERE key = ?", [EVENT_DAY_KEY]).fetchone()
    return CatalogRows(attributes, events, properties, usage, columns, day is not None)


def attribute_columns(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """``{attribute name: (stored column, logical type)}``."""
    rows = con.execute("SELECT name, column_name, type FROM attributes").fetchall()
    return {str(name): (str(column), str(logical)) for name, column, logical in rows}


def property_types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``{event property name: logical type}``."""
    rows = con.execute("SELECT prop, type FROM event_properties").fetchall()
    return {str(prop): str(logical) for prop, logical in rows}


def add_attribute(
    con: duckdb.DuckDBPyConnection, name: str, column: str, logical: str, load_id: int
) -> None:
    """A new custom attribute: its profile column (``column`` is checked by the caller to be
    a fresh ``x_`` name) and its catalog row."""
    con.execute(f"ALTER TABLE profiles ADD COLUMN {quote_ident(column)} {STORAGE_TYPES[logical]}")
    con.execute(
        "INSERT INTO attributes VALUES (?, ?, ?, false, ?)", [name, column, logical, load_id]
    )


def widen_attribute(con: duckdb.DuckDBPyConnection, name: str, column: str, logical: str) -> None:
    """Store an attribute as a wider type (integer to float)."""
    con.execute(
        f"ALTER TABLE profiles ALTER COLUMN {quote_ident(column)} TYPE {STORAGE_TYPES[logical]}"
    )
    con.execute("UPDATE attributes SET type = ? WHERE name = ?", [logical, name])


def add_property(con: duckdb.DuckDBPyConnection, prop: str, logical: str, load_id: int) -> None:
    """A new event property name with its type."""
    con.execute("INSERT INTO event_properties VALUES (?, ?, ?)", [prop, logical, load_id])


def widen_property(con: duckdb.DuckDBPyConnection, prop: str, logical: str) -> None:
    """Record an event property as a wider type (integer to float)."""
    con.execute("UPDATE event_properties SET type = ? WHERE prop = ?", [logical, prop])


def record_usage(con: duckdb.DuckDBPyConnection, pairs_sql: str) -> None:
    """Remember which events carry which properties; ``pairs_sql`` is a query over the
    load's staged rows that yields ``(event, prop)``."""
    con.execute(
        f"INSERT INTO event_property_usage SELECT DISTINCT event, prop FROM ({pairs_sql}) "
        "WHERE prop IS NOT NULL EXCEPT SELECT event, prop FROM event_property_usage"
    )


def record_event_names(con: duckdb.DuckDBPyConnection, names_sql: str, load_id: int) -> None:
    """Add the event names that ``names_sql`` yields (one column) and nobody stored yet."""
    con.execute(
        f"INSERT INTO event_names SELECT DISTINCT n, ? FROM ({names_sql}) x(n) "
        "WHERE n NOT IN (SELECT event FROM event_names)",
        [load_id],
    )
