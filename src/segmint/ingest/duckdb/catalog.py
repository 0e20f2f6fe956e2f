"""The type catalogs: customer attributes (typed columns) and event properties (JSON keys).

The first load that brings a value for a name fixes its type. Later loads must fit it: an
integer column widens to float on its own; any other mismatch is a *type conflict* — the
rows whose value does not convert are rejected with the reason, and the load warns once per
name. Nothing is ever converted lossily behind the user's back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from segmint.ingest.duckdb.context import LoadContext
from segmint.ingest.duckdb.types import WIDENS_TO
from segmint.store import catalog

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Target:
    """Where and as what an incoming column is stored, and why (for conflict messages)."""

    name: str
    column: str
    logical: str
    established: bool  # the type came from an earlier load


def attribute_catalog(ctx: LoadContext) -> dict[str, tuple[str, str]]:
    """``{attribute name: (column, logical type)}``."""
    return catalog.attribute_columns(ctx.con)


def property_catalog(ctx: LoadContext) -> dict[str, str]:
    """``{property name: logical type}``."""
    return catalog.property_types(ctx.con)


def resolve(known: str | None, inferred: str | None) -> tuple[str | None, bool]:
    """The type to store a column as, and whether the catalog must widen to it."""
    if known is None:
        return inferred, False
    if inferred is not None and WIDENS_TO.get(known) == inferred:
        return inferred, True
    return known, False


def add_attribute(ctx: LoadContext, name: str, logical: str) -> str:
    """Add a custom attribute column; returns its physical column name."""
    taken = {c for c, _ in attribute_catalog(ctx).values()}
    base = "x_" + (re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "attr")
    column, n = base, 1
    while column in taken:
        n += 1
        column = f"{base}_{n}"
    catalog.add_attribute(ctx.con, name, column, logical, ctx.load_id)
    return column


def widen_attribute(ctx: LoadContext, name: str, column: str, logical: str) -> None:
    """Widen a stored attribute column (integer to float)."""
    catalog.widen_attribute(ctx.con, name, column, logical)
    ctx.warnings.append(f"attribute {name!r} widened from integer to float")


def record_properties(ctx: LoadContext, types: dict[str, str]) -> None:
    """Add new property names to the catalog and apply widenings."""
    known = property_catalog(ctx)
    for prop, logical in types.items():
        if prop not in known:
            catalog.add_property(ctx.con, prop, logical, ctx.load_id)
        elif known[prop] != logical and WIDENS_TO.get(known[prop]) == logical:
            catalog.widen_property(ctx.con, prop, logical)
            ctx.warnings.append(f"event property {prop!r} widened from integer to float")
    bad = sorted(p for p in types if not IDENTIFIER.fullmatch(p))
    if bad:
        ctx.warnings.append(
            f"event properties {bad} are stored but are not identifiers "
            "([A-Za-z_][A-Za-z0-9_]*), so rules cannot refer to them"
        )


def conflict_reason(target: Target, got_sql: str) -> str:
    """SQL text of the reason for a value that does not convert to its target type."""
    since = " (its type from an earlier load)" if target.established else ""
    return (
        f"'{_sql_escape(target.name)}: expected {target.logical}{since}, got \"' || "
        f"left({got_sql}, 60) || '\"'"
    )


def _sql_escape(text: str) -> str:
    return text.replace("'", "''")
