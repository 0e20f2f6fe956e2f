"""A segment against everyone: where its members differ most, in attributes and traits.

Everyone is one base for every row: all customers in the population at as_of (the
customers of the size line). For each numeric field (attributes and traits) the mean of the
members is compared with the mean of everyone (each over those with a value: a mean of a
missing amount means nothing); for each categorical field (booleans, strings with at most
``MAX_LEVELS`` values, the string traits) the value most over-represented among the
members (at least ``MIN_SHARE`` of them) is compared with its share of everyone, both
shares counting the customers without a value in their base. The lift
is segment / everyone; fields are ranked by how far the lift is from 1 (``|log lift|``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from segmint.segments.context import SegmentContext

MAX_LEVELS = 50
MIN_SHARE = 0.05
SKIPPED = frozenset({"customer_id", "email", "phone", "first_name", "last_name", "postal_code"})


@dataclass(frozen=True)
class ProfileRow:
    """One field where the segment differs from everyone."""

    field: str
    kind: str  # "mean" or "share"
    value: Any  # for "share": the category
    segment: float
    everyone: float
    lift: float

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kind": self.kind,
            "value": self.value,
            "segment": self.segment,
            "everyone": self.everyone,
            "lift": self.lift,
        }


def population_frame(ctx: SegmentContext, as_of: datetime) -> pd.DataFrame:
    """Every customer at ``as_of`` with the profile attributes and traits worth comparing."""
    import pandas as pd
    import pyarrow as pa

    from segmint.store.profiles import comparable_attributes

    table = ctx.traits(as_of)
    for i, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type):  # money: compare it as a number
            table = table.set_column(i, column.name, table.column(i).cast(pa.float64()))
    traits = table.to_pandas().set_index("customer_id")
    attributes = comparable_attributes(ctx.con)
    wanted = [(n, c) for n, c in attributes if n not in SKIPPED and n not in traits.columns]
    attrs = ctx.members().attribute_frame(wanted)
    frame = traits.join(attrs.set_index("customer_id"), how="left")
    return pd.DataFrame(frame)


def compare(frame: pd.DataFrame, members: pd.Series, top: int = 8) -> list[ProfileRow]:
    """Rows for the fields where ``members`` (a boolean mask over ``frame``) differ most."""
    import pandas as pd

    out: list[ProfileRow] = []
    inside = frame[members]
    if inside.empty:
        return []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            continue  # instants are neither amounts nor categories (their "days since" are)
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            out.extend(_share_row(name, column, inside[name]))
        else:
            everyone = column.astype("float64").mean()
            segment = inside[name].astype("float64").mean()
            if pd.notna(everyone) and pd.notna(segment) and everyone > 0 and segment > 0:
                out.append(ProfileRow(name, "mean", None, segment, everyone, segment / everyone))
    out.sort(key=lambda r: -abs(math.log(r.lift)) if r.lift > 0 else 0)
    return out[:top]


def _share_row(name: str, column: Any, inside: Any) -> list[ProfileRow]:
    # Shares of everyone on both sides: a customer without a value (an rfm_segment for
    # someone who never ordered) counts in the base, as in the size line of segment show.
    counts = column.value_counts()
    if counts.empty or len(counts) > MAX_LEVELS:
        return []
    everyone = counts / len(column)
    segment = inside.value_counts() / len(inside)
    segment = segment[segment >= MIN_SHARE]
    if segment.empty:
        return []
    lifts = segment / everyone.reindex(segment.index)
    best = lifts.abs().map(lambda v: abs(math.log(v)) if v > 0 else 0).idxmax()
    value = best.item() if hasattr(best, "item") else best  # a plain Python value
    return [
        ProfileRow(
            name, "share", value, float(segment[best]), float(everyone[best]), float(lifts[best])
        )
    ]
