"""Incremental refresh, the compiler's side (docs/refresh.md, "Incremental refresh").

A refresh keeps, per event condition of its segments (a *leaf*: ``did X in last 30
days``, ``sum(revenue) of order_completed ...``, ``last app_open ...``, a trend) and per
customer, the measures its test reads: a count, a sum, a minimum or maximum, the first
and last time (``segment_measures``, store/measures.py). The next refresh at a later
as_of does not scan every event again. It adds what changed since the state was taken at
(as_of ``P``, last load ``L``):

* rows loaded after ``L`` that are in the window at the new as_of ``A``;
* rows loaded by ``L`` that entered the window between ``P`` and ``A`` (+1) or left it
  (-1): they lie in the thin slices of time the window's ends moved over, which is all
  the refresh reads of the old events.

Counts and sums add up; a minimum or maximum only over all time (nothing leaves such a
window); the first and last time of an event likewise. A distinct count, or a minimum or
maximum in a moving window, cannot be updated from the rows that moved, so a segment
with one is evaluated in full (:func:`segment_reason` says why), as is one that reads
traits (recomputed for everyone at each as_of) or compares a value with as_of
(``within_last_days``, ``more_than_days_ago``).

The segments are then evaluated from the kept measures (:func:`state_tables`), for
everyone or, in an incremental refresh, for the customers whose measures or profile
changed, or whose recency test the passing time may flip (:func:`flip_ranges`).
"""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from segmint.engine.clock import AS_OF, DAY, Bound, Clock
from segmint.engine.dialects import BACKENDS
from segmint.engine.tables import MEASURE_COLUMNS, events_table, measures_table, touched_table
from segmint.rules.catalog import REVENUE, Catalog
from segmint.rules.compile import Measures, Span, combine, compare
from segmint.rules.model import (
    Attribute,
    EventAggregate,
    EventCount,
    EventNode,
    EventRecency,
    RuleNode,
    Trend,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

# Operators that compare a value with as_of: the passing time alone changes their truth.
_TIME_OPS = frozenset({"within_last_days", "more_than_days_ago"})
LEAF_KINDS = (EventCount, EventAggregate, EventRecency, Trend)


def leaf_reason(node: Any) -> str | None:
    """Why an event condition's measures cannot be kept up to date (None: they can)."""
    if isinstance(node, EventNode) and any(c.op in _TIME_OPS for c in node.where):
        return "a property condition compares with as_of (within_last_days, more_than_days_ago)"
    if isinstance(node, EventAggregate):
        if node.function == "distinct":
            return "a distinct count cannot be updated from the events that moved"
        if node.function in ("min", "max") and node.window is not None:
            return f"a {node.function}imum in a moving window cannot be updated from new events"
    return None


def segment_reason(tree: RuleNode, catalog: Catalog) -> str | None:
    """Why a segment (its rule with references inlined, except to segments of the same
    refresh) must be evaluated in full; None when its measures can be kept."""
    for node in tree.walk():
        if isinstance(node, Attribute):
            info = catalog.attributes.get(node.attr)
            if info is not None and info.trait:
                return (
                    f"reads the trait {node.attr!r} (traits are recomputed for everyone "
                    "at each as_of)"
                )
            if node.op in _TIME_OPS:
                return f"compares {node.attr!r} with as_of ({node.op})"
        if isinstance(node, LEAF_KINDS):
            reason = leaf_reason(node)
            if reason is not None:
                return reason
    return None


def leaves(tree: RuleNode) -> list[Any]:
    """The event conditions of a tree, each once."""
    return list(dict.fromkeys(n for n in tree.walk() if isinstance(n, LEAF_KINDS)))


def _uses(node: Any) -> list[str]:
    props = [c.prop for c in node.where] if isinstance(node, EventNode) else []
    if isinstance(node, EventAggregate):
        props.append(node.measure.prop)
    return props


def leaf_key(node: Any, catalog: Catalog) -> str:
    """A leaf's identity across refreshes: its JSON and the types of the properties it
    reads (a type that changes changes what the condition means)."""
    types = {p: [catalog.property_type(p), catalog.property_columns.get(p)] for p in _uses(node)}
    text = json.dumps([node.to_json(), types], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def basis(tree: RuleNode, catalog: Catalog) -> str:
    """What a segment's stored membership was computed from: its rule and the types of
    the attributes and properties it reads. A refresh keeps the membership of unchanged
    customers only when the basis is the same."""
    attrs = sorted(
        (n.attr, catalog.attributes[n.attr].column, catalog.attributes[n.attr].type)
        for n in tree.walk()
        if isinstance(n, Attribute) and n.attr in catalog.attributes
    )
    keys = sorted(leaf_key(n, catalog) for n in leaves(tree))
    text = json.dumps([tree.to_json(), attrs, keys], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class LeafSpec:
    """How one leaf's measures are computed: its windows (two for a trend), the value it
    aggregates and how."""

    node: Any
    key: str
    event: str
    windows: tuple[Span, ...]
    kind: str  # count, trend, sum, avg, min, max, first, last
    prop: str | None = None


def leaf_spec(node: Any, catalog: Catalog, key: str) -> LeafSpec:
    m = Measures(Clock(datetime.now(UTC)), BACKENDS["duckdb"], catalog)
    if isinstance(node, Trend):
        days = node.days
        spans = (Span(Bound(days=days), AS_OF), Span(Bound(days=2 * days), Bound(days=days)))
        return LeafSpec(node, key, node.trend, spans, "trend")
    if isinstance(node, EventRecency):
        kind = "last" if node.side == "last_seen" else "first"
        return LeafSpec(node, key, node.event, (Span(None, AS_OF),), kind)
    span = m.window_span(node.window)
    if isinstance(node, EventAggregate):
        return LeafSpec(node, key, node.event, (span,), node.function, node.measure.prop)
    return LeafSpec(node, key, node.event, (span,), "count")


class _Rows:
    """Builds the per-row contributions of leaves over the events table."""

    def __init__(self, catalog: Catalog, at: Clock, before: Clock | None = None) -> None:
        self.catalog = catalog
        self.at = at
        self.before = before
        self.m = Measures(at, BACKENDS["duckdb"], catalog)
        self.events = events_table(catalog.typed_property_columns(), load_id=True)

    def where(self, spec: LeafSpec, t: ir.Table) -> list[ir.BooleanValue]:
        parts = [t.event == spec.event]
        node = spec.node
        for cond in node.where if isinstance(node, EventNode) else ():
            kind = self.catalog.property_type(cond.prop) or "string"
            value = self.m.property_value(t, cond.prop, kind)
            parts.append(compare(value, kind, cond.op, cond.value, self.at))
        return parts

    def value(self, spec: LeafSpec, t: ir.Table) -> ir.Value | None:
        if spec.kind in ("first", "last"):
            return t.ts
        if spec.prop is None:
            return None
        kind = self.catalog.property_type(spec.prop) or "float"
        return self.m.property_value(t, spec.prop, kind)

    def moved(self, spec: LeafSpec, rows: ir.Table, old: bool) -> ir.BooleanValue:
        """The rows that count: in a window at as_of (new rows), or in a window at one of
        the two as_ofs but not the other (old rows)."""
        inside = [w.predicate(rows.ts, self.at) for w in spec.windows]
        if not old:
            return combine(operator.or_, inside)
        assert self.before is not None
        was = [w.predicate(rows.ts, self.before) for w in spec.windows]
        return combine(operator.or_, [i != b for i, b in zip(inside, was, strict=True)])

    def contributions(self, spec: LeafSpec, rows: ir.Table, old: bool) -> ir.Table:
        """Per row: ``d1``/``d2`` (+1 entering a window, -1 leaving it), ``x`` (the value),
        ``v`` (the value where the row enters the first window: minima and maxima only
        grow) and ``vd`` (``d1`` where it has a value)."""
        import ibis

        inside = [w.predicate(rows.ts, self.at) for w in spec.windows]
        if old:
            assert self.before is not None
            was = [w.predicate(rows.ts, self.before) for w in spec.windows]
            deltas = [i.cast("int64") - b.cast("int64") for i, b in zip(inside, was, strict=True)]
            entering = inside[0] & ~was[0]
        else:
            deltas = [i.cast("int64") for i in inside]
            entering = inside[0]
        value = self.value(spec, rows)
        d2 = deltas[1] if len(deltas) > 1 else ibis.literal(0, "int64")
        columns: dict[str, Any] = {"pid": rows.pid, "d1": deltas[0], "d2": d2}
        if value is not None:
            columns["x"] = value
            columns["v"] = ibis.ifelse(entering, value, ibis.null(value.type()))
            columns["vd"] = ibis.ifelse(value.notnull(), deltas[0], ibis.literal(0, "int64"))
        return rows.select(**columns)

    def aggregate(self, spec: LeafSpec, parts: list[ir.Table]) -> ir.Table:
        """The leaf's rows of the measures table from its row contributions."""
        import ibis

        u = combine(lambda a, b: ibis.union(a, b, distinct=False), parts)
        out: dict[str, Any] = {"n": u.d1.sum(), "n2": u.d2.sum()}
        if spec.kind in ("sum", "avg", "min", "max"):
            out["n"] = u.vd.sum()
        if spec.kind in ("sum", "avg"):
            if spec.prop == REVENUE:
                out["r"] = (u.vd * u.x.fill_null(0)).sum()
            else:
                out["s"] = (u.vd.cast("float64") * u.x.cast("float64").fill_null(0)).sum()
        elif spec.kind == "min":
            out["lo"] = u.v.cast("float64").min()
        elif spec.kind == "max":
            out["hi"] = u.v.cast("float64").max()
        elif spec.kind == "first":
            out["first_ts"] = u.v.min()
        elif spec.kind == "last":
            out["last_ts"] = u.v.max()
        grouped = u.group_by("pid").aggregate(**out)
        columns = {
            c: grouped[c].cast(t) if c in out else ibis.null(t)
            for c, t in MEASURE_COLUMNS.items()
            if c != "pid"
        }
        return grouped.select(pid=grouped.pid, **columns)


# DuckDB variables of a leaf's templates besides the as_of instants (``segmint_...``):
# the instants before (at the measures' base), the last load then, and the slices.
BEFORE_PREFIX = "segmintp_"
LOAD_VARIABLE = "segmintl_load"
SLICE_PREFIX = "segmints_"


def rebuild_group_template(
    specs: list[LeafSpec], catalog: Catalog
) -> tuple[ir.Table, dict[str, int]]:
    """The measures at as_of of several leaves on one event, over every event, in one
    scan (a first or full refresh): per customer, the columns :func:`group_columns` names
    for each leaf. The expression and its as_of variables."""
    at = Clock(datetime.now(UTC), use_variables=True)
    rows = _Rows(catalog, at)
    t = rows.events
    windows = [w for spec in specs for w in spec.windows]
    terms = [t.event == specs[0].event, t.ts <= at.latest([w.high for w in windows])]
    lows = [w.low for w in windows]
    if all(low is not None for low in lows):
        terms.append(t.ts >= at.earliest([low for low in lows if low is not None]))

    def tests(table: ir.Table, spec: LeafSpec) -> list[ir.BooleanValue]:
        where = rows.where(spec, table)[1:]
        return [combine(operator.and_, [*where, w.predicate(table.ts, at)]) for w in spec.windows]

    kept = t.filter(*terms)
    kept = kept.filter(combine(operator.or_, [x for spec in specs for x in tests(kept, spec)]))
    out: dict[str, Any] = {}
    for i, spec in enumerate(specs):
        first, *second = tests(kept, spec)
        value = rows.value(spec, kept)
        if spec.kind in ("count", "trend", "first", "last"):
            out[f"n_{i}"] = kept.count(where=first)
        else:
            assert value is not None
            out[f"n_{i}"] = value.count(where=first)
        if second:
            out[f"n2_{i}"] = kept.count(where=second[0])
        if spec.kind in ("sum", "avg"):
            assert value is not None
            if spec.prop == REVENUE:
                out[f"r_{i}"] = value.sum(where=first).cast("decimal(38, 4)")
            else:
                out[f"s_{i}"] = value.cast("float64").sum(where=first)
        elif spec.kind in ("min", "max"):
            assert value is not None
            column = "lo" if spec.kind == "min" else "hi"
            reduce = value.cast("float64").min if spec.kind == "min" else value.cast("float64").max
            out[f"{column}_{i}"] = reduce(where=first)
        elif spec.kind in ("first", "last"):
            column = f"{spec.kind}_ts"
            out[f"{column}_{i}"] = (
                kept.ts.min(where=first) if spec.kind == "first" else (kept.ts.max(where=first))
            )
    return kept.group_by("pid").aggregate(**out), at.variables


def group_columns(spec: LeafSpec, i: int) -> dict[str, str | None]:
    """The columns of the ``i``-th leaf in :func:`rebuild_group_template`'s result, by
    measure (None: the measure is not kept for this kind of leaf)."""
    out: dict[str, str | None] = dict.fromkeys(MEASURE_COLUMNS)
    del out["pid"]
    out["n"] = f"n_{i}"
    if spec.kind == "trend":
        out["n2"] = f"n2_{i}"
    if spec.kind in ("sum", "avg"):
        out["r" if spec.prop == REVENUE else "s"] = f"{'r' if spec.prop == REVENUE else 's'}_{i}"
    elif spec.kind in ("min", "max"):
        column = "lo" if spec.kind == "min" else "hi"
        out[column] = f"{column}_{i}"
    elif spec.kind in ("first", "last"):
        out[f"{spec.kind}_ts"] = f"{spec.kind}_ts_{i}"
    return out


def delta_template(
    spec: LeafSpec, catalog: Catalog, slice_count: int
) -> tuple[ir.Table, dict[str, int], dict[str, int]]:
    """What changed in a leaf's measures from (``before``, the rows up to the load
    ``LOAD_VARIABLE``) to (as_of, every row): the rows loaded since, and the old rows in
    ``slice_count`` slices of time (variables ``SLICE_PREFIX<j>_lo`` and ``_hi``) the
    windows' ends moved over. The expression, the variables of as_of and of before."""
    from segmint.engine.duckdb_functions import getvariable, getvariable_int

    now = datetime.now(UTC)
    at = Clock(now, use_variables=True)
    before = Clock(now, use_variables=True, prefix=BEFORE_PREFIX)
    rows = _Rows(catalog, at, before)
    t = rows.events
    last_load = getvariable_int(LOAD_VARIABLE)
    new = t.filter(t.load_id > last_load, *rows.where(spec, t))
    new = new.filter(rows.moved(spec, new, old=False))
    pieces = [rows.contributions(spec, new, old=False)]
    for j in range(slice_count):
        old = t.filter(
            t.load_id <= last_load,
            t.ts >= getvariable(f"{SLICE_PREFIX}{j}_lo"),
            t.ts <= getvariable(f"{SLICE_PREFIX}{j}_hi"),
            *rows.where(spec, t),
        )
        old = old.filter(rows.moved(spec, old, old=True))
        pieces.append(rows.contributions(spec, old, old=True))
    return rows.aggregate(spec, pieces), at.variables, before.variables


def delta_params(
    spec: LeafSpec,
    before_variables: dict[str, int],
    before: datetime,
    as_of: datetime,
    last_load: int,
) -> dict[str, object]:
    """The variables of :func:`delta_template` other than as_of's."""
    params: dict[str, object] = {
        name: before - days * DAY for name, days in before_variables.items()
    }
    params[LOAD_VARIABLE] = last_load
    for j, (low, high) in enumerate(slices(spec, before, as_of)):
        params[f"{SLICE_PREFIX}{j}_lo"] = low
        params[f"{SLICE_PREFIX}{j}_hi"] = high
    return params


def _span_terms(spec: LeafSpec, clock: Clock, t: ir.Table) -> list[ir.BooleanValue]:
    """Range terms on ``ts`` a full scan prunes with: the union of the leaf's windows."""
    lows = [w.low for w in spec.windows]
    terms = [t.ts <= clock.latest([w.high for w in spec.windows])]
    if all(low is not None for low in lows):
        terms.append(t.ts >= clock.earliest([low for low in lows if low is not None]))
    return terms


def _instant(bound: Bound, at: datetime) -> datetime:
    return Clock(at).value(bound)


def slices(spec: LeafSpec, before: datetime, as_of: datetime) -> list[tuple[datetime, datetime]]:
    """The disjoint time ranges (inclusive) that the ends of the leaf's windows moved over
    from ``before`` to ``as_of``: only old rows there can have entered or left."""
    ranges: list[tuple[datetime, datetime]] = []
    for w in spec.windows:
        ends = [w.high] if w.low is None else [w.low, w.high]
        for end in ends:
            if end.at is not None and not (w.capped and end is w.high):
                continue  # an absolute end does not move
            a, b = _instant(end, before), _instant(end, as_of)
            if w.capped and end is w.high:
                a, b = min(a, before), min(b, as_of)
            if a != b:
                ranges.append((min(a, b), max(a, b)))
    ranges.sort()
    merged: list[tuple[datetime, datetime]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged


def flip_ranges(
    specs: list[LeafSpec], before: datetime, as_of: datetime
) -> list[tuple[str, str, datetime, datetime]]:
    """(leaf, column, low, high): customers whose first or last time lies in the range
    may pass or fail a recency test at ``as_of`` that they failed or passed at ``before``
    with the same measures (``days since ... <= 30`` changes as days pass)."""
    out = []
    for spec in specs:
        if spec.kind not in ("first", "last"):
            continue
        days = spec.node.recency.days
        low = before - (days + 1) * DAY
        high = as_of - days * DAY
        if low <= high:
            out.append((spec.key, f"{spec.kind}_ts", low, high))
    return out


def state_tables(
    measures: Measures, keys: dict[Any, str], only_touched: bool
) -> dict[str, ir.Table]:
    """The Compiler's per-pid measure tables read from the kept measures instead of the
    events (by measure column, as :func:`segmint.rules.compile.measure_tables`)."""
    import ibis

    tables: dict[str, ir.Table] = {}
    for node, names in measures.names.items():
        rows = measures_table(keys[node])
        if only_touched:
            rows = rows.filter(rows.pid.isin(touched_table().pid))
        some = rows.n > 0
        columns: dict[str, Any]
        if isinstance(node, EventCount):
            columns = {names["count"]: rows.n}
        elif isinstance(node, Trend):
            columns = {names["current"]: rows.n, names["previous"]: rows.n2}
        elif isinstance(node, EventRecency):
            column = rows.last_ts if node.side == "last_seen" else rows.first_ts
            columns = {names["ts"]: ibis.ifelse(some, column, ibis.null("timestamp('UTC')"))}
        else:
            assert isinstance(node, EventAggregate)
            revenue = node.measure.prop == REVENUE
            function = node.function
            total = rows.r if revenue else rows.s
            if function == "sum":
                value = total
            elif function == "avg":
                value = total.cast("float64") / rows.n.cast("float64")
            elif function == "min":
                value = rows.lo.cast("decimal(18, 4)") if revenue else rows.lo
            else:
                value = rows.hi.cast("decimal(18, 4)") if revenue else rows.hi
            columns = {names["value"]: ibis.ifelse(some, value, ibis.null(value.type()))}
        table = rows.select("pid", **columns)
        tables.update(dict.fromkeys(names.values(), table))
    return tables


def compile_state_template(
    rules: list[RuleNode], catalog: Catalog, keys: dict[Any, str], only_touched: bool
) -> tuple[ir.Table, dict[str, int]]:
    """:func:`segmint.rules.compile.compile_many_template` with every event condition read
    from the kept measures (``keys``: condition -> its leaf key), for everyone or only
    the profiles of ``_touched``. The rules read no traits."""
    from segmint.rules.compile import Compiler

    clock = Clock(datetime.now(UTC), use_variables=True)
    compiler = Compiler(
        catalog,
        clock,
        BACKENDS["duckdb"],
        lambda measures: state_tables(measures, keys, only_touched),
        only_touched,
    )
    return compiler.many(rules), clock.variables
