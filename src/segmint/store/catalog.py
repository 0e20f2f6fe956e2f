"""The catalogs a rule is checked against: stored attributes, event names, event
properties and which event carries which property (ingest/catalog.py writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class CatalogRows:
    """The catalog tables as read: attributes (name, stored column, logical type), event
    names, property types and the (event, property) pairs seen."""

    attributes: list[tuple[str, str, str]]
    events: list[str]
    properties: dict[str, str]
    usage: list[tuple[str, str]]


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
    return CatalogRows(attributes, events, properties, usage)
