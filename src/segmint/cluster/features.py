"""Features for clustering: which attributes and traits, read at ``as_of``, and how they
become the numbers k-means sees.

A feature is any computed trait or stored attribute that is a number, a flag or a
category. Numbers that are skewed (non-negative with skewness above 1, as order counts
and revenue are) are log-transformed with ``log1p``; every number is then standardised.
Flags are 0/1 numbers. Categories are one-hot encoded (their most frequent values, the
rest as "other"), so plain k-means works on them; docs/clusters.md says why this and not
k-prototypes.

Missing values are filled, and the fill is part of the feature's definition, so the
profile and the rules describe the same numbers the clustering saw:

- ``days_since_last_order`` of a customer without orders is their ``tenure_days`` (they
  have been "without an order" since they arrived);
- order counts, revenue, AOV, predicted orders and CLV, and email rates are 0 when
  missing (no orders, no emails sent);
- any other number is filled with its median; a missing category is its own value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from segmint.errors import ArgumentError
from segmint.traits.definitions import TRAITS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from segmint.rules.catalog import Catalog

# Recency, frequency, monetary, AOV, tenure, activity, engagement and predicted CLV.
DEFAULT_FEATURES: Final[tuple[str, ...]] = (
    "days_since_last_order",
    "orders_count",
    "revenue_total",
    "aov",
    "tenure_days",
    "days_since_last_seen",
    "email_open_rate_90d",
    "email_click_rate_90d",
    "predicted_clv_365d",
)
ZERO_WHEN_MISSING: Final = frozenset(
    {
        "orders_count",
        "revenue_total",
        "aov",
        "predicted_orders_365d",
        "predicted_clv_365d",
        "email_open_rate_90d",
        "email_click_rate_90d",
    }
)
# Traits whose values come from orders: clustering on them needs at least one order.
ORDER_TRAITS: Final = frozenset(t.name for t in TRAITS if t.group in {"orders", "rfm", "clv"})
NUMBER_TYPES: Final = frozenset({"integer", "float", "bool"})
MAX_CATEGORIES: Final = 10  # one-hot columns per category feature (the rest is "other")
MAX_DISTINCT: Final = 1000  # more distinct values than this is an identifier, not a category
SKEWED: Final = 1.0


@dataclass(frozen=True)
class Feature:
    """A chosen feature: its name, catalog type and whether it is a category."""

    name: str
    type: str

    @property
    def category(self) -> bool:
        return self.type == "string"

    @property
    def integer(self) -> bool:
        return self.type in ("integer", "bool")


def resolve(names: list[str] | tuple[str, ...] | None, catalog: Catalog) -> list[Feature]:
    """The features named (default :data:`DEFAULT_FEATURES`), checked against the catalog:
    unknown names, duplicates and unusable types are errors."""
    from segmint.hints import suggest

    chosen = list(names) if names else list(DEFAULT_FEATURES)
    if not chosen:
        raise ArgumentError("no features: give at least one", "--features")
    seen: set[str] = set()
    features = []
    for name in chosen:
        if name in seen:
            raise ArgumentError(f"feature {name!r} is given twice", "--features")
        seen.add(name)
        info = catalog.attributes.get(name)
        if info is None:
            raise ArgumentError(
                f"unknown feature {name!r}{suggest(name, catalog.attributes)}: a feature is a "
                "trait (segmint traits) or a customer attribute",
                "--features",
            )
        if info.type not in NUMBER_TYPES and info.type != "string":
            hint = (
                " (use a days-since trait such as days_since_last_order)"
                if info.type in ("timestamp", "date")
                else ""
            )
            raise ArgumentError(
                f"feature {name!r} is a {info.type}; features are numbers, flags or "
                f"categories{hint}",
                "--features",
            )
        features.append(Feature(name, info.type))
    return features


def needs_orders(features: list[Feature]) -> bool:
    return any(f.name in ORDER_TRAITS for f in features)


def fill(
    frame: pd.DataFrame, features: list[Feature], medians: dict[str, float] | None = None
) -> dict[str, int]:
    """Fill missing values in place (see the module docstring); the count filled per
    feature. The medians are ``frame``'s own, or ``medians`` (:func:`fill_medians` of a
    sample) when ``frame`` is one batch of many."""
    filled: dict[str, int] = {}
    given = medians if medians is not None else fill_medians(frame, features)
    for f in features:
        column = frame[f.name]
        missing = int(column.isna().sum())
        if not missing:
            continue
        filled[f.name] = missing
        if f.category:
            frame[f.name] = column.astype(object).where(column.notna(), "(missing)")
        elif f.name in ZERO_WHEN_MISSING:
            frame[f.name] = column.astype("float64").fillna(0.0)
        else:
            frame[f.name] = _by_tenure(frame, f.name).fillna(given.get(f.name, 0.0))
    return filled


def fill_medians(frame: pd.DataFrame, features: list[Feature]) -> dict[str, float]:
    """The median each number that is not filled with 0 is filled with (after
    ``days_since_last_order`` took ``tenure_days``): 0 when it has no value at all."""
    medians: dict[str, float] = {}
    for f in features:
        if f.category or f.name in ZERO_WHEN_MISSING:
            continue
        values = _by_tenure(frame, f.name)
        medians[f.name] = float(values.median()) if values.notna().any() else 0.0
    return medians


def _by_tenure(frame: pd.DataFrame, name: str) -> pd.Series[float]:
    """A number as floats; recency without an order is the tenure (the module docstring)."""
    values = frame[name].astype("float64")
    if name == "days_since_last_order" and "tenure_days" in frame:
        values = values.fillna(frame["tenure_days"].astype("float64"))
    return values


@dataclass
class Encoding:
    """How the features become a matrix: per number whether it is log-transformed and its
    centre and scale; per category the values that get a column. Fitted on the sample."""

    features: list[Feature]
    log: dict[str, bool]
    centre: dict[str, float]
    scale: dict[str, float]
    levels: dict[str, list[str]]

    @property
    def columns(self) -> list[tuple[str, str | None]]:
        """(feature, category value or None) for each matrix column."""
        out: list[tuple[str, str | None]] = []
        for f in self.features:
            if f.category:
                out += [(f.name, level) for level in self.levels[f.name]]
            else:
                out.append((f.name, None))
        return out

    @classmethod
    def fit(cls, frame: pd.DataFrame, features: list[Feature]) -> Encoding:
        import numpy as np
        from scipy.stats import skew

        log: dict[str, bool] = {}
        centre: dict[str, float] = {}
        scale: dict[str, float] = {}
        levels: dict[str, list[str]] = {}
        for f in features:
            if f.category:
                counts = frame[f.name].astype(str).value_counts()
                if len(counts) > MAX_DISTINCT:
                    raise ArgumentError(
                        f"feature {f.name!r} has {len(counts):,} distinct values; a category "
                        f"feature may have at most {MAX_DISTINCT:,} (is it an identifier?)",
                        "--features",
                    )
                top = [str(v) for v in counts.index[:MAX_CATEGORIES]]
                if len(counts) > MAX_CATEGORIES:
                    top.append("(other)")
                levels[f.name] = top
                continue
            values = frame[f.name].to_numpy(dtype="float64")
            transformed = bool(
                values.size > 2
                and values.min() >= 0
                and np.ptp(values) > 0
                and float(skew(values)) > SKEWED
            )
            log[f.name] = transformed
            if transformed:
                values = np.log1p(values)
            centre[f.name] = float(values.mean())
            spread = float(values.std())
            scale[f.name] = spread if spread > 0 else 1.0
        return cls(features, log, centre, scale, levels)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The matrix k-means sees: standardised numbers, one-hot categories (float32)."""
        import numpy as np

        parts = []
        for f in self.features:
            if f.category:
                values = frame[f.name].astype(str).to_numpy()
                levels = self.levels[f.name]
                known = [lv for lv in levels if lv != "(other)"]
                onehot = np.stack([values == lv for lv in known], axis=1).astype("float32")
                if "(other)" in levels:
                    other = ~np.isin(values, known)
                    onehot = np.concatenate([onehot, other[:, None].astype("float32")], axis=1)
                parts.append(onehot)
                continue
            values = frame[f.name].to_numpy(dtype="float64")
            if self.log[f.name]:
                values = np.log1p(np.maximum(values, 0.0))
            parts.append(((values - self.centre[f.name]) / self.scale[f.name])[:, None])
        return np.concatenate(parts, axis=1).astype("float32")

    def describe(self) -> dict[str, Any]:
        """What was done to each feature, for the stored run and the docs."""
        out: dict[str, Any] = {}
        for f in self.features:
            if f.category:
                out[f.name] = {"kind": "category", "levels": self.levels[f.name]}
            else:
                out[f.name] = {
                    "kind": "number",
                    "log": self.log[f.name],
                    "centre": self.centre[f.name],
                    "scale": self.scale[f.name],
                }
        return out
