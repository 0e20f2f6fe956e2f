"""What each cluster is: its profile against everyone, a plain-language name, and a rule.

The profile gives each feature's mean in the cluster in original units (after the fills
of cluster/features.py), the mean over everyone, the lift (their ratio) and the gap in
standard deviations of the transformed feature, which is what ranks the features that set
the cluster apart. Categories give their most over-represented value.

The rule comes from a shallow decision tree (depth 3) trained on the sample to tell the
cluster from the rest, on the features' stored values (missing values stay missing: a
tree learns which side they go, and the rule says ``is not set`` there). Every leaf of the
cluster becomes an ``and`` of conditions, leaves are joined by ``or``, and bounds on one
feature along a path are merged; thresholds of whole-number features are whole, others
keep three significant digits. The rule's fidelity is measured afterwards by evaluating
the rule text itself on everyone (cluster/runs.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from segmint.cluster.features import Encoding, Feature

TREE_DEPTH: Final = 3
STANDS_OUT: Final = 0.5  # standard deviations from everyone that earn a word in a name
# ... and the lift (cluster mean / everyone's) the printed figure must show for that word:
# a name never says "high-value" beside a lift below 1, or "lapsed" beside fewer days.
CLEAR_LIFT: Final = 1.2
RECENCY_FEATURES: Final = ("days_since_last_seen", "days_since_last_order")
VALUE_FEATURES: Final = ("predicted_clv_365d", "revenue_total", "aov")
ENGAGEMENT_FEATURES: Final = ("email_open_rate_90d", "email_click_rate_90d")


@dataclass
class FeatureProfile:
    """One feature in one cluster."""

    feature: str
    mean: float | None  # numbers: the cluster mean; categories: share of ``value``
    overall: float | None
    lift: float | None
    gap: float  # standard deviations (transformed scale) from everyone
    value: str | None = None  # categories: the most over-represented value
    # Numbers, when orders_count is a feature: the gap of the cluster's buyers from all
    # buyers (names say "high-value" or "lapsed" among buyers, not against non-buyers).
    buyer_gap: float | None = None

    def describe(self) -> str:
        if self.value is not None:
            return (
                f"{self.feature} = {self.value}: {_pct(self.mean)} vs {_pct(self.overall)} overall"
            )
        lift = f" ({self.lift:.1f}x)" if self.lift is not None else ""
        return f"{self.feature} {_num(self.mean)} vs {_num(self.overall)} overall{lift}"

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "mean": self.mean,
            "overall": self.overall,
            "lift": self.lift,
            "gap": self.gap,
            **({"value": self.value} if self.value is not None else {}),
            **({"buyer_gap": self.buyer_gap} if self.buyer_gap is not None else {}),
        }


@dataclass
class ClusterProfile:
    """A cluster's size, share, centre in original units and what sets it apart."""

    id: int
    size: int
    share: float
    features: list[FeatureProfile]
    name: str = ""
    rule: str = ""
    precision: float | None = None
    recall: float | None = None
    rule_size: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def standout(self, limit: int = 3) -> list[FeatureProfile]:
        """The features furthest from everyone, furthest first."""
        ranked = sorted(self.features, key=lambda f: -abs(f.gap))
        return [f for f in ranked[:limit] if abs(f.gap) >= 0.1]

    def centre(self) -> dict[str, Any]:
        return {f.feature: (f.value if f.value is not None else f.mean) for f in self.features}


def profiles(
    frame: pd.DataFrame, encoding: Encoding, matrix: np.ndarray, labels: np.ndarray, k: int
) -> list[ClusterProfile]:
    """Every cluster's profile from the filled features, the matrix k-means saw and the
    labels of everyone."""
    import numpy as np

    sizes = np.bincount(labels, minlength=k)
    total = len(labels)
    columns = encoding.columns
    sums = np.zeros((k, matrix.shape[1]))
    np.add.at(sums, labels, matrix)  # small k x columns table
    encoded_means = sums / np.maximum(sizes, 1)[:, None]
    buyer_gaps = _buyer_gaps(frame, matrix, labels, k)
    texts = {f.name: frame[f.name].astype(str).to_numpy() for f in encoding.features if f.category}
    out = []
    for c in range(k):
        feats: list[FeatureProfile] = []
        for f in encoding.features:
            if f.category:
                feats.append(_category_profile(texts[f.name], f, labels == c, columns))
                continue
            values = frame[f.name].to_numpy(dtype="float64")
            inside = float(values[labels == c].mean()) if sizes[c] else math.nan
            overall = float(values.mean())
            lift = inside / overall if overall not in (0.0,) and not math.isnan(inside) else None
            column = columns.index((f.name, None))
            gap = float(encoded_means[c, column])
            among = None if buyer_gaps is None else buyer_gaps[c, column]
            feats.append(
                FeatureProfile(f.name, inside, overall, lift, gap, buyer_gap=_finite_or_none(among))
            )
        out.append(ClusterProfile(c, int(sizes[c]), float(sizes[c]) / total, feats))
    return out


def _buyer_gaps(
    frame: pd.DataFrame, matrix: np.ndarray, labels: np.ndarray, k: int
) -> np.ndarray | None:
    """Per cluster and matrix column: the mean over the cluster's buyers minus the mean
    over all buyers, in standard deviations among buyers (None without orders_count)."""
    import numpy as np

    if "orders_count" not in frame:
        return None
    buyers = frame["orders_count"].to_numpy(dtype="float64") > 0
    if buyers.sum() < 2:
        return None
    sub = matrix[buyers].astype("float64")
    spread = sub.std(axis=0)
    spread[spread == 0] = 1.0
    centre = sub.mean(axis=0)
    out = np.full((k, matrix.shape[1]), np.nan)
    sub_labels = labels[buyers]
    for c in range(k):
        inside = sub[sub_labels == c]
        if len(inside):
            out[c] = (inside.mean(axis=0) - centre) / spread
    return out


def _finite_or_none(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _category_profile(
    values: np.ndarray, f: Feature, mask: np.ndarray, columns: list[tuple[str, str | None]]
) -> FeatureProfile:
    """The category value most over-represented in the cluster (``mask``)."""
    import numpy as np

    inside = values[mask]
    best: FeatureProfile | None = None
    for name, level in columns:
        if name != f.name or level is None:
            continue
        if level == "(other)":
            continue
        p_all = float(np.mean(values == level))
        p_in = float(np.mean(inside == level)) if len(inside) else 0.0
        spread = math.sqrt(p_all * (1 - p_all)) or 1.0
        gap = (p_in - p_all) / spread
        lift = p_in / p_all if p_all else None
        candidate = FeatureProfile(f.name, p_in, p_all, lift, gap, value=level)
        if best is None or gap > best.gap:
            best = candidate
    assert best is not None
    return best


# --- names ---------------------------------------------------------------------------


def suggest_names(clusters: list[ClusterProfile], types: dict[str, str] | None = None) -> None:
    """Give each cluster a plain-language name from its profile (unique within the run);
    ``types`` (feature -> catalog type) lets flags read as flags."""
    kinds = types or {}
    freshest = _most_recently_active(clusters)
    names = [_name(c, kinds, c is freshest) for c in clusters]
    taken: set[str] = set()
    for cluster, name in zip(clusters, names, strict=True):
        if names.count(name) > 1:
            # Clusters that share a name: add the strongest feature the name does not say.
            for f in cluster.standout(3):
                said = _phrase(f, kinds)
                if said not in name:
                    name = f"{name}, {said}"
                    break
        final, n = name, 1
        while final in taken:
            n += 1
            final = f"{name} #{n}"
        taken.add(final)
        cluster.name = final


# Plain words for a computed trait that stands out high or low; a shop's own attributes
# keep their names ("high points").
_TRAIT_WORDS: dict[str, tuple[str, str]] = {
    "email_open_rate_90d": ("opens most emails", "opens few emails"),
    "email_click_rate_90d": ("clicks emails", "rarely clicks"),
    "aov": ("big baskets", "small baskets"),
    "revenue_total": ("big spenders", "small spenders"),
    "predicted_clv_365d": ("high predicted value", "low predicted value"),
    "predicted_orders_365d": ("many orders ahead", "few orders ahead"),
    "p_alive": ("likely to buy again", "unlikely to buy again"),
    "orders_count": ("many orders", "few orders"),
    "days_since_last_order": ("last order long ago", "ordered lately"),
    "days_since_last_seen": ("not seen for long", "seen lately"),
    "tenure_days": ("long-standing", "newcomers"),
    "orders_trend_60d": ("ordering more", "ordering less"),
}


def _phrase(f: FeatureProfile, kinds: dict[str, str]) -> str:
    """A feature's standing in a few words: "big baskets", "plan premium", "no email_consent"."""
    if f.value is not None:
        return f"no {f.feature}" if f.value == "(missing)" else f"{f.feature} {f.value}"
    if kinds.get(f.feature) == "bool":
        return f.feature if f.gap > 0 else f"not {f.feature}"
    if f.feature in _TRAIT_WORDS:
        high, low = _TRAIT_WORDS[f.feature]
        return high if f.gap > 0 else low
    return f"{_level(f.gap)} {f.feature}"


def _name(cluster: ClusterProfile, kinds: dict[str, str], freshest: bool = False) -> str:
    """Words for what sets the cluster apart; each needs its gap and its printed lift to
    agree (``freshest``: the most recently active cluster is never "lapsed"/"dormant")."""
    by = {f.feature: f for f in cluster.features}
    words: list[str] = []
    orders = by.get("orders_count")
    buyers = orders is None or (orders.mean or 0) >= 0.05
    value = next((by[n] for n in VALUE_FEATURES if n in by), None)
    if buyers and value is not None:
        if _high(value, among_buyers=True):
            words.append("high-value")
        elif _low(value, among_buyers=True):
            words.append("low-value")
    if orders is not None and not buyers:
        words.append("non-buyers")
    recency = by.get("days_since_last_order") if buyers else None
    if recency is not None:
        if _low(recency, among_buyers=True):
            words.append("recent")
        elif _high(recency, among_buyers=True) and not freshest:
            words.append("lapsed")
    else:
        seen = by.get("days_since_last_seen")
        if seen is not None and _low(seen):
            words.append("active")
        elif seen is not None and _high(seen) and not freshest:
            words.append("dormant")
    if orders is not None and buyers and orders.mean is not None:
        if 0.8 <= orders.mean <= 1.3:
            words.append("one-time")
        elif _high(orders, among_buyers=True):
            words.append("frequent")
    engaged = [by[n] for n in ENGAGEMENT_FEATURES if n in by]
    if engaged and any(_high(e) for e in engaged):
        words.append("email-engaged")
    tenure = by.get("tenure_days")
    if tenure is not None and _low(tenure):
        words.append("new")
    if len(words) < 2:
        # Features without a word of their own: say what sets the cluster apart.
        named = {
            "orders_count",
            "days_since_last_order",
            "days_since_last_seen",
            "tenure_days",
            *VALUE_FEATURES,
            *ENGAGEMENT_FEATURES,
        }
        for f in cluster.standout(2):
            if f.feature not in named:
                words.append(_phrase(f, kinds))
    if not words:
        return "typical buyers" if orders is not None and buyers else "typical"
    return " ".join(words[:3])


def _level(gap: float) -> str:
    return "high" if gap > 0 else "low"


def _among_buyers(f: FeatureProfile) -> float:
    return f.buyer_gap if f.buyer_gap is not None else f.gap


def _high(f: FeatureProfile, among_buyers: bool = False) -> bool:
    """Clearly above everyone: by its gap and by the lift printed beside it."""
    gap = _among_buyers(f) if among_buyers else f.gap
    return gap >= STANDS_OUT and (f.lift is None or f.lift >= CLEAR_LIFT)


def _low(f: FeatureProfile, among_buyers: bool = False) -> bool:
    """Clearly below everyone: by its gap and by the lift printed beside it."""
    gap = _among_buyers(f) if among_buyers else f.gap
    return gap <= -STANDS_OUT and (f.lift is None or f.lift <= 1 / CLEAR_LIFT)


def _most_recently_active(clusters: list[ClusterProfile]) -> ClusterProfile | None:
    """The cluster whose members were seen (or ordered) most recently on average."""
    for feature in RECENCY_FEATURES:
        means = [
            (f.mean, c)
            for c in clusters
            for f in c.features
            if f.feature == feature and f.mean is not None
        ]
        if len(means) == len(clusters) and means:
            return min(means, key=lambda pair: pair[0])[1]
    return None


# --- rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeInput:
    """One column of the tree's input: a number/flag, or one value of a category."""

    feature: str
    kind: str  # number, integer, bool, level
    level: str | None = None


def tree_inputs(raw: pd.DataFrame, encoding: Encoding) -> tuple[np.ndarray, list[TreeInput]]:
    """The tree's matrix from the stored (unfilled) values: numbers as they are, missing
    as NaN; a category as one 0/1 column per frequent value (and one for missing)."""
    import numpy as np

    parts = []
    inputs: list[TreeInput] = []
    for f in encoding.features:
        column = raw[f.name]
        if f.category:
            text = column.astype(object)
            for level in encoding.levels[f.name]:
                if level == "(other)":
                    continue
                if level == "(missing)":
                    parts.append(column.isna().to_numpy(dtype="float64"))
                else:
                    parts.append((text == level).to_numpy(dtype="float64"))
                inputs.append(TreeInput(f.name, "level", level))
            continue
        kind = "bool" if f.type == "bool" else ("integer" if f.integer else "number")
        parts.append(column.astype("float64").to_numpy())
        inputs.append(TreeInput(f.name, kind))
    return np.column_stack(parts), inputs


def explain(
    x: np.ndarray, inputs: list[TreeInput], target: np.ndarray, seed: int
) -> dict[str, Any]:
    """A rule (canonical JSON) that picks out ``target`` rows, from a shallow tree."""
    import numpy as np
    from sklearn.tree import DecisionTreeClassifier

    leaf = max(20, len(target) // 200)
    tree = DecisionTreeClassifier(
        max_depth=TREE_DEPTH, min_samples_leaf=leaf, class_weight="balanced", random_state=seed
    ).fit(x, target)
    t = tree.tree_
    has_missing = np.isnan(x).any(axis=0)
    missing_left = getattr(t, "missing_go_to_left", None)
    if len(tree.classes_) < 2:
        # Everyone or no one is in the cluster.
        return {"and": []} if bool(tree.classes_[0]) else {"or": []}
    positive_class = list(tree.classes_).index(True)

    def is_positive(node: int) -> bool:
        values = t.value[node][0]
        return bool(values[positive_class] > values[1 - positive_class])

    def regions(node: int) -> list[list[tuple[int, bool, bool]]]:
        """Paths (feature, went_left, missing_this_way) to the cluster's leaves, with
        subtrees that are wholly the cluster's collapsed into their root."""
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:
            return [[]] if is_positive(node) else []
        lp, rp = regions(left), regions(right)
        if lp == [[]] and rp == [[]]:
            return [[]]
        to_left = bool(missing_left[node]) if missing_left is not None else False
        here = [(node, True, to_left)]
        there = [(node, False, not to_left)]
        return [here + p for p in lp] + [there + p for p in rp]

    paths = regions(0)
    if not paths:
        # No leaf is mostly the cluster (a small one): take the leaf that is most of it.
        leaves = [n for n in range(t.node_count) if t.children_left[n] == -1]
        best = max(leaves, key=lambda n: t.value[n][0][positive_class])
        paths = [_path_to(t, best, missing_left)]
    rules = [_path_rule(t, path, inputs, has_missing) for path in paths]
    if len(rules) == 1:
        return rules[0]
    return {"or": rules}


def _path_to(t: Any, target: int, missing_left: Any) -> list[tuple[int, bool, bool]]:
    def walk(node: int, path: list[tuple[int, bool, bool]]) -> list[tuple[int, bool, bool]] | None:
        if node == target:
            return path
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:
            return None
        to_left = bool(missing_left[node]) if missing_left is not None else False
        return walk(left, [*path, (node, True, to_left)]) or walk(
            right, [*path, (node, False, not to_left)]
        )

    return walk(0, []) or []


def _path_rule(
    t: Any, path: list[tuple[int, bool, bool]], inputs: list[TreeInput], has_missing: Any
) -> dict[str, Any]:
    """An ``and`` of the path's conditions, bounds per feature merged."""
    bounds: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for node, went_left, missing_here in path:
        column = int(t.feature[node])
        spec = inputs[column]
        threshold = float(t.threshold[node])
        b = bounds.setdefault(spec.feature, {"kind": spec.kind, "missing": True})
        if spec.feature not in order:
            order.append(spec.feature)
        b["missing"] = b["missing"] and bool(has_missing[column]) and missing_here
        if spec.kind != "level" and not math.isfinite(threshold):
            # A split of missing values from all others (sklearn's threshold is inf).
            b["only_missing" if not went_left else "set"] = True
            continue
        if spec.kind == "level":
            b.setdefault("is", None)
            b.setdefault("not", [])
            if went_left:
                b["not"].append(spec.level)
            else:
                b["is"] = spec.level
        elif went_left:
            b["hi"] = min(b.get("hi", math.inf), threshold)
        else:
            b["lo"] = max(b.get("lo", -math.inf), threshold)
    conditions = []
    for feature in order:
        conditions += _conditions(feature, bounds[feature])
    return conditions[0] if len(conditions) == 1 else {"and": conditions}


def _conditions(feature: str, b: dict[str, Any]) -> list[dict[str, Any]]:
    kind = b["kind"]
    if kind == "level":
        return _level_conditions(feature, b)
    if b.get("only_missing"):
        return [{"attr": feature, "op": "is_not_set"}]
    lo, hi = b.get("lo"), b.get("hi")
    if lo is None and hi is None:
        return [{"attr": feature, "op": "is_set"}] if b.get("set") else []
    parts: list[dict[str, Any]] = []
    if kind == "bool":
        if lo is not None and hi is not None:
            return [{"or": []}]  # cannot happen on 0/1 values
        parts.append({"attr": feature, "op": "eq", "value": lo is not None})
    elif kind == "integer":
        low = None if lo is None else math.floor(lo) + 1
        high = None if hi is None else math.floor(hi)
        if low is not None and high is not None:
            parts.append({"attr": feature, "op": "between", "value": [low, high]})
        elif low is not None:
            parts.append({"attr": feature, "op": "ge", "value": low})
        elif high is not None:
            parts.append({"attr": feature, "op": "le", "value": high})
    else:
        digits = 3
        # Keep more digits where three would make a narrow band empty.
        while lo is not None and hi is not None and _round(lo, digits) >= _round(hi, digits):
            digits += 3
            if digits > 15:
                break
        if lo is not None:
            parts.append({"attr": feature, "op": "gt", "value": _round(lo, digits)})
        if hi is not None:
            parts.append({"attr": feature, "op": "le", "value": _round(hi, digits)})
    if not b["missing"]:
        return parts
    test = parts[0] if len(parts) == 1 else {"and": parts}
    return [{"or": [test, {"attr": feature, "op": "is_not_set"}]}]


def _level_conditions(feature: str, b: dict[str, Any]) -> list[dict[str, Any]]:
    if b["is"] == "(missing)":
        return [{"attr": feature, "op": "is_not_set"}]
    if b["is"] is not None:
        return [{"attr": feature, "op": "eq", "value": b["is"]}]
    out: list[dict[str, Any]] = []
    excluded = [v for v in b["not"] if v != "(missing)"]
    if "(missing)" in b["not"]:
        out.append({"attr": feature, "op": "is_set"})
    if len(excluded) == 1:
        out.append({"not": {"attr": feature, "op": "eq", "value": excluded[0]}})
    elif excluded:
        out.append({"not": {"attr": feature, "op": "in", "value": sorted(excluded)}})
    return out


def _round(value: float, significant: int = 3) -> float:
    """``significant`` digits (readable thresholds)."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = significant - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, digits)
    return float(int(rounded)) if rounded == int(rounded) and abs(rounded) >= 1 else rounded


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
