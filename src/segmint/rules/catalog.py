"""What a rule may refer to: attributes, event names, event properties, saved segments.

Read once per evaluation from the store's catalog tables (small), so rules are checked
without touching the events table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from segmint.traits.definitions import TRAITS
from segmint.traits.expressions import TraitSettings

if TYPE_CHECKING:
    import duckdb

    from segmint.rules.model import RuleNode

# The built-in event column a rule can use like a property, and its type.
REVENUE = "revenue"


@dataclass(frozen=True)
class AttributeInfo:
    """Where an attribute is stored (or, for a computed trait, its name) and its type."""

    column: str
    type: str
    trait: bool = False


@dataclass(frozen=True)
class Catalog:
    """Names and types a rule can use; ``segments`` maps saved names to their rules."""

    attributes: Mapping[str, AttributeInfo]
    events: frozenset[str]
    properties: Mapping[str, str]
    usage: Mapping[str, frozenset[str]]
    segments: Mapping[str, RuleNode] = field(default_factory=dict)
    traits: TraitSettings = field(default_factory=TraitSettings)
    # Properties kept as typed columns of the events table: name -> column.
    property_columns: Mapping[str, str] = field(default_factory=dict)
    # The events have an ``event_day`` column (a source's partition date) to prune by.
    event_day: bool = False

    def property_type(self, prop: str) -> str | None:
        return "float" if prop == REVENUE else self.properties.get(prop)

    def event_properties(self, event: str) -> frozenset[str]:
        """The properties seen on ``event`` (``revenue`` is always there)."""
        return self.usage.get(event, frozenset()) | {REVENUE}

    def typed_property_columns(self) -> dict[str, str]:
        """Events column -> logical type of every property kept as a typed column."""
        return {c: self.properties[p] for p, c in self.property_columns.items()}

    def stored_columns(self) -> dict[str, str]:
        """Stored profile column -> logical type of every attribute that is not a trait."""
        return {i.column: i.type for i in self.attributes.values() if not i.trait}


def trait_attributes() -> dict[str, AttributeInfo]:
    """The computed traits, as attributes a rule can compare."""
    return {t.name: AttributeInfo(t.name, t.type, trait=True) for t in TRAITS}


def read_catalog(
    con: duckdb.DuckDBPyConnection,
    segments: Mapping[str, RuleNode] | None = None,
    traits: TraitSettings | None = None,
) -> Catalog:
    """The catalog of the workspace behind ``con``: stored attributes and computed traits
    (a trait's name wins over a stored attribute of the same name, which the ingest no
    longer accepts), event names and properties, saved segments."""
    from segmint.store.catalog import read_catalog_rows

    rows = read_catalog_rows(con)
    attributes = {name: AttributeInfo(column, kind) for name, column, kind in rows.attributes}
    attributes.update(trait_attributes())
    events = frozenset(rows.events)
    properties = rows.properties
    usage: dict[str, set[str]] = {}
    for event, prop in rows.usage:
        usage.setdefault(event, set()).add(prop)
    return Catalog(
        attributes,
        events,
        properties,
        {event: frozenset(props) for event, props in usage.items()},
        segments if segments is not None else {},
        traits if traits is not None else TraitSettings(),
        rows.property_columns,
        rows.event_day,
    )


@dataclass(frozen=True)
class CatalogView:
    """The names a rule may use, for people and front ends (``segmint catalog show``,
    ``GET /v1/catalog``, the UI's builder): attributes and traits with their types, event
    names, and properties with their types and the events they were seen on."""

    attributes: list[dict[str, object]]
    events: list[str]
    properties: list[dict[str, object]]

    def to_json(self) -> dict[str, object]:
        return {"attributes": self.attributes, "events": self.events, "properties": self.properties}


def catalog_view(catalog: Catalog) -> CatalogView:
    """The :class:`CatalogView` of a catalog, every list by name.

    >>> view = catalog_view(Catalog({"country": AttributeInfo("country", "string")},
    ...     frozenset({"app_open"}), {"os": "string"}, {"app_open": frozenset({"os"})}))
    >>> view.attributes
    [{'name': 'country', 'type': 'string', 'trait': False}]
    >>> view.events, [p["name"] for p in view.properties], view.properties[0]["events"]
    (['app_open'], ['os', 'revenue'], ['app_open'])
    """
    seen: dict[str, set[str]] = {}
    for event, used in catalog.usage.items():
        for prop in used:
            seen.setdefault(prop, set()).add(event)
    props = {**catalog.properties, REVENUE: "float"}
    return CatalogView(
        [
            {"name": name, "type": info.type, "trait": info.trait}
            for name, info in sorted(catalog.attributes.items())
        ],
        sorted(catalog.events),
        [
            {
                "name": name,
                "type": kind,
                "events": sorted(catalog.events if name == REVENUE else seen.get(name, ())),
            }
            for name, kind in sorted(props.items())
        ],
    )
