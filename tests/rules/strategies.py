"""Hypothesis strategies for random, valid rule trees.

Trees are built from a :class:`Vocab`: the attributes and their types, the events with the
properties each carries (and their types), the saved segments, and values that occur in
the data, so that comparisons are true for some customers and false for others. Every
node type, every operator valid for each type (DESIGN section 4) and every window kind is
reachable; and/or nodes have 0 to 3 children, so empty and one-child ones occur.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from segmint.rules.model import (
    And,
    Attribute,
    Between,
    Change,
    Count,
    DaysAgo,
    EventAggregate,
    EventCount,
    EventRecency,
    LastDays,
    Measure,
    Not,
    Or,
    PropertyCondition,
    Recency,
    SegmentRef,
    Trend,
)

COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
NUMBER_OPS = (*COMPARE, "between")

# The operators each type accepts (the table of the rules brief / DESIGN section 4).
OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "string": (
        "eq",
        "ne",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "is_set",
        "is_not_set",
    ),
    "integer": (*NUMBER_OPS, "in", "not_in", "is_set", "is_not_set"),
    "float": (*NUMBER_OPS, "in", "not_in", "is_set", "is_not_set"),
    "bool": ("eq", "ne", "is_set", "is_not_set"),
    "timestamp": (
        *NUMBER_OPS,
        "before",
        "after",
        "within_last_days",
        "more_than_days_ago",
        "is_set",
        "is_not_set",
    ),
    "date": (*NUMBER_OPS, "before", "after", "is_set", "is_not_set"),
    "list": ("contains", "not_contains", "is_set", "is_not_set"),
}
NUMERIC = ("integer", "float")
_DATES = st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat)
DISTINCT_TYPES = ("string", "integer", "float", "bool")
AGGREGATE_FUNCTIONS = ("sum", "avg", "min", "max", "distinct")
TREND_CHANGES = (-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5, 2, 3)


@dataclass(frozen=True)
class Vocab:
    """What random rules may name, and values worth comparing against.

    ``attr_values``/``prop_values`` hold sample values: str/int/float/bool scalars, ISO
    strings for timestamps and dates, and the *elements* for lists.
    """

    attributes: dict[str, str]
    events: dict[str, dict[str, str]]  # event -> {prop: type}; include "revenue": "float"
    attr_values: dict[str, list[Any]] = field(default_factory=dict)
    prop_values: dict[str, list[Any]] = field(default_factory=dict)
    instants: list[str] = field(default_factory=list)  # ISO timestamps worth hitting exactly
    dates: list[str] = field(default_factory=list)  # ISO dates
    segments: list[str] = field(default_factory=list)
    days: list[int] = field(default_factory=lambda: [1, 7, 30, 90])
    # Free-form strings: a small alphabet in differential tests, anything in text tests.
    text: st.SearchStrategy[str] = field(
        default_factory=lambda: st.text(alphabet="abcopPr -", max_size=4)
    )
    numbers: st.SearchStrategy[int | float] = field(
        default_factory=lambda: st.one_of(
            st.integers(-3, 60), st.integers(-12, 240).map(lambda n: n / 4)
        )
    )


# --- values ---------------------------------------------------------------------------


_UNIFORM_1000 = st.binary(min_size=2, max_size=2).map(lambda b: int.from_bytes(b, "big") % 1000)


def pick(values: Sequence[Any]) -> st.SearchStrategy[Any]:
    """One of ``values``, each about equally often (see :func:`weighted`)."""
    items = list(values)
    if len(items) == 1:
        return st.just(items[0])
    return st.binary(min_size=2, max_size=2).map(
        lambda b: items[int.from_bytes(b, "big") % len(items)]
    )


def _sampled(values: Sequence[Any], fallback: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return weighted([(3, pick(values)), (1, fallback)]) if values else fallback


def _instant_key(text: str) -> datetime:
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _substring(value: str) -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, len(value)), st.integers(0, len(value))).map(
        lambda ij: value[min(ij) : max(ij)]
    )


def _pair(scalar: st.SearchStrategy[Any], key: Any = None) -> st.SearchStrategy[tuple[Any, Any]]:
    """``(lo, hi)`` with lo <= hi (by ``key``)."""
    return st.tuples(scalar, scalar).map(lambda p: tuple(sorted(p, key=key)))  # type: ignore[arg-type]


def value_for(kind: str, op: str, samples: Sequence[Any], vocab: Vocab) -> st.SearchStrategy[Any]:
    """A value that fits ``op`` on a ``kind`` attribute or property (None for is_set)."""
    if op in ("is_set", "is_not_set"):
        return st.none()
    if kind == "string":
        scalar = _sampled(samples, vocab.text)
        if op in ("eq", "ne"):
            return scalar
        if op in ("in", "not_in"):
            return st.lists(scalar, min_size=1, max_size=3).map(tuple)
        strings = [s for s in samples if isinstance(s, str)]
        part = pick(strings).flatmap(_substring) if strings else vocab.text
        return weighted([(3, part), (1, vocab.text)])
    if kind in NUMERIC:
        scalar = _sampled(samples, vocab.numbers)
        if op == "between":
            return _pair(scalar)
        if op in ("in", "not_in"):
            return st.lists(scalar, min_size=1, max_size=3).map(tuple)
        return scalar
    if kind == "bool":
        return st.booleans()
    if kind == "list":
        return _sampled(samples, vocab.text)
    if kind == "timestamp":
        if op == "within_last_days":
            return _sampled(vocab.days, st.integers(1, 400))
        if op == "more_than_days_ago":
            return _sampled([0, *vocab.days], st.integers(0, 400))
        instants = [*samples, *vocab.instants, *vocab.dates]
        scalar = _sampled(instants, _DATES)
        return _pair(scalar, key=_instant_key) if op == "between" else scalar
    if kind == "date":
        scalar = _sampled([*samples, *vocab.dates], _DATES)
        return _pair(scalar) if op == "between" else scalar
    raise ValueError(f"unknown type {kind!r}")


def _by_type(names: dict[str, str]) -> st.SearchStrategy[str]:
    """A name, its type chosen first: every type comes up equally often, however many
    names of each type there are (the built-in attributes are mostly strings)."""
    kinds = sorted(set(names.values()))
    return pick(kinds).flatmap(lambda k: pick(sorted(n for n, t in names.items() if t == k)))


# --- leaves ---------------------------------------------------------------------------


def attributes(vocab: Vocab) -> st.SearchStrategy[Attribute]:
    @st.composite
    def build(draw: st.DrawFn) -> Attribute:
        name = draw(_by_type(vocab.attributes))
        kind = vocab.attributes[name]
        op = draw(pick(OPS_BY_TYPE[kind]))
        value = draw(value_for(kind, op, vocab.attr_values.get(name, []), vocab))
        return Attribute(attr=name, op=op, value=value)

    return build()


def prop_conditions(vocab: Vocab, event: str) -> st.SearchStrategy[PropertyCondition]:
    props = vocab.events[event]

    @st.composite
    def build(draw: st.DrawFn) -> PropertyCondition:
        prop = draw(_by_type(props))
        kind = props[prop]
        op = draw(pick(OPS_BY_TYPE[kind]))
        value = draw(value_for(kind, op, vocab.prop_values.get(prop, []), vocab))
        return PropertyCondition(prop=prop, op=op, value=value)

    return build()


def windows(vocab: Vocab) -> st.SearchStrategy[LastDays | DaysAgo | Between | None]:
    days = _sampled(vocab.days, st.integers(1, 400))
    # Equal bounds are moved apart rather than filtered out (filters cost invalid examples).
    days_ago = st.tuples(_sampled([0, *vocab.days], st.integers(0, 400)), days).map(
        lambda ab: (max(ab) + (ab[0] == ab[1]), min(ab))
    )
    bounds = _sampled([*vocab.instants, *vocab.dates], _DATES)
    between = st.tuples(bounds, bounds).map(_apart)
    return weighted(
        [
            (25, st.none()),
            (25, days.map(lambda n: LastDays(last_days=n))),
            (25, days_ago.map(lambda ab: DaysAgo(days_ago=ab))),
            (25, between.map(lambda p: Between(between=p))),
        ]
    )


def _apart(pair: tuple[str, str]) -> tuple[str, str]:
    """Window bounds in order; equal ones become [t, t + 1 us]."""
    start, end = sorted(pair, key=_instant_key)
    if _instant_key(start) == _instant_key(end):
        end = (_instant_key(start) + timedelta(microseconds=1)).isoformat()
    return start, end


def counts() -> st.SearchStrategy[Count]:
    small = pick(range(7))
    return weighted(
        [
            (25, st.just(Count())),
            (55, st.tuples(pick(COMPARE), small).map(lambda ov: Count(op=ov[0], value=ov[1]))),
            (20, _pair(small).map(lambda p: Count(op="between", value=p))),
        ]
    )


def _number_test(scalar: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    return weighted(
        [(75, st.tuples(pick(COMPARE), scalar)), (25, _pair(scalar).map(lambda p: ("between", p)))]
    )


def _event_head(vocab: Vocab, draw: st.DrawFn) -> tuple[str, tuple[PropertyCondition, ...]]:
    event = draw(pick(sorted(vocab.events)))
    where = draw(st.lists(prop_conditions(vocab, event), max_size=2))
    return event, tuple(where)


def event_counts(vocab: Vocab) -> st.SearchStrategy[EventCount]:
    @st.composite
    def build(draw: st.DrawFn) -> EventCount:
        event, where = _event_head(vocab, draw)
        return EventCount(
            event=event, where=where, window=draw(windows(vocab)), count=draw(counts())
        )

    return build()


def event_aggregates(vocab: Vocab) -> st.SearchStrategy[EventAggregate]:
    @st.composite
    def build(draw: st.DrawFn) -> EventAggregate:
        event, where = _event_head(vocab, draw)
        function = draw(pick(AGGREGATE_FUNCTIONS))
        kinds = DISTINCT_TYPES if function == "distinct" else NUMERIC
        props = sorted(p for p, kind in vocab.events[event].items() if kind in kinds)
        prop = draw(pick(props))
        if function == "distinct":
            scalar: st.SearchStrategy[Any] = pick(range(5))
        else:
            scalar = _sampled(
                [v for v in vocab.prop_values.get(prop, []) if not isinstance(v, bool)],
                vocab.numbers,
            )
        op, value = draw(_number_test(scalar))
        measure = Measure(prop=prop, op=op, value=value)
        return EventAggregate.model_validate(
            {"event": event, "where": where, "window": draw(windows(vocab)), function: measure}
        )

    return build()


def event_recencies(vocab: Vocab) -> st.SearchStrategy[EventRecency]:
    @st.composite
    def build(draw: st.DrawFn) -> EventRecency:
        event, where = _event_head(vocab, draw)
        side = draw(pick(("last_seen", "first_seen")))
        op = draw(pick(COMPARE))
        days = draw(_sampled([0, *vocab.days], st.integers(0, 400)))
        return EventRecency.model_validate(
            {"event": event, "where": where, side: Recency(op=op, days=days)}
        )

    return build()


def trends(vocab: Vocab) -> st.SearchStrategy[Trend]:
    @st.composite
    def build(draw: st.DrawFn) -> Trend:
        event = draw(pick(sorted(vocab.events)))
        days = draw(_sampled(vocab.days, st.integers(1, 120)))
        op, value = draw(_number_test(_sampled(TREND_CHANGES, vocab.numbers)))
        return Trend(trend=event, days=days, change=Change(op=op, value=value))

    return build()


def weighted(options: Sequence[tuple[int, st.SearchStrategy[Any]]]) -> st.SearchStrategy[Any]:
    """One of ``options`` with the given weights.

    ``st.one_of`` (and ``st.sampled_from``, ``st.integers``) draw their index with a strong
    bias: with nested one_of, 80 % of the trees were ``not ...``. Two random bytes give a
    near-uniform index, so the choice follows the weights.
    """
    total = sum(w for w, _ in options)
    bounds = []
    acc = 0
    for w, _ in options:
        acc += w
        bounds.append(acc * 1000 // total)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        i = draw(_UNIFORM_1000)
        strategy = next(s for b, (_, s) in zip(bounds, options, strict=True) if i < b)
        return draw(strategy)

    return build()


def leaves(vocab: Vocab) -> st.SearchStrategy[Any]:
    options: list[tuple[int, st.SearchStrategy[Any]]] = [(30, attributes(vocab))]
    if vocab.events:
        options += [(22, event_counts(vocab)), (18, event_aggregates(vocab))]
        options += [(12, event_recencies(vocab)), (8, trends(vocab))]
    if vocab.segments:
        options.append((6, pick(vocab.segments).map(lambda s: SegmentRef(segment=s))))
    return weighted(options)


def rules(vocab: Vocab, depth: int = 4) -> st.SearchStrategy[Any]:
    """Random valid rule trees at most ``depth`` levels of and/or/not deep."""
    tree = leaves(vocab)
    for _ in range(depth):
        children = st.lists(tree, max_size=3).map(tuple)
        tree = weighted(
            [
                (45, leaves(vocab)),
                (20, children.map(lambda items: And(and_=items))),
                (20, children.map(lambda items: Or(or_=items))),
                (15, tree.map(lambda item: Not(not_=item))),
            ]
        )
    return tree


# --- a deterministic sweep --------------------------------------------------------------


def _sweep_values(kind: str, op: str, samples: list[Any], vocab: Vocab) -> list[Any]:
    """A few values for ``op`` on a ``kind`` value, from the samples where possible."""
    if op in ("is_set", "is_not_set"):
        return [None]
    if kind == "bool":
        return [True, False]
    if kind == "timestamp" and op == "within_last_days":
        return list(vocab.days)
    if kind == "timestamp" and op == "more_than_days_ago":
        return [0, *vocab.days]
    if kind in ("timestamp", "date"):
        pool = sorted(
            {*samples[:3], *(vocab.instants[1::40] if kind == "timestamp" else vocab.dates[:2])},
            key=_instant_key,
        )
    else:
        pool = list(samples[:3]) or [1]
    if op == "between":
        ordered = sorted(pool[:3], key=_instant_key if kind in ("timestamp", "date") else None)
        return [(ordered[0], ordered[-1])]
    if op in ("in", "not_in"):
        return [tuple(pool[:3])]
    if op in ("contains", "not_contains", "starts_with", "ends_with") and kind == "string":
        return [pool[0][:2], pool[-1][-2:]]
    return pool[:2]


def every_leaf(vocab: Vocab) -> list[Any]:
    """Single-condition rules covering every (type, operator), window kind and edge,
    aggregate function, recency side and trend of the vocabulary.

    Random trees reach a given (attribute type, operator, edge) only a few times in a run;
    this list reaches each of them for certain.
    """
    out: list[Any] = []
    kinds: dict[str, list[str]] = {}
    for name, kind in sorted(vocab.attributes.items()):
        if vocab.attr_values.get(name):
            kinds.setdefault(kind, []).append(name)
    for kind, names in sorted(kinds.items()):
        for name in names[-2:]:
            samples = vocab.attr_values[name]
            for op in OPS_BY_TYPE[kind]:
                for value in _sweep_values(kind, op, samples, vocab):
                    out.append(Attribute(attr=name, op=op, value=value))
    edges = [t for t in vocab.instants if t.endswith("00+00:00")][:6]
    windows: list[Any] = [None, *(LastDays(last_days=n) for n in vocab.days)]
    windows += [DaysAgo(days_ago=(30, 7)), DaysAgo(days_ago=(90, 1)), DaysAgo(days_ago=(7, 0))]
    windows += [Between(between=(a, b)) for a, b in zip(edges, edges[2:], strict=False)]
    windows.append(Between(between=(vocab.dates[0], vocab.dates[-1])))
    for event, props in sorted(vocab.events.items()):
        for window in windows:
            out.append(EventCount(event=event, window=window))
        out.append(EventCount(event=event, window=windows[2], count=Count(op="eq", value=0)))
        for prop, kind in sorted(props.items()):
            samples = vocab.prop_values.get(prop, [])
            for op in OPS_BY_TYPE[kind]:
                value = _sweep_values(kind, op, samples, vocab)[-1]
                cond = PropertyCondition(prop=prop, op=op, value=value)
                out.append(EventCount(event=event, where=(cond,)))
            if kind in DISTINCT_TYPES:
                out.append(
                    EventAggregate(event=event, distinct=Measure(prop=prop, op="le", value=1))
                )
            if kind in NUMERIC:
                middle = sorted(v for v in samples if not isinstance(v, bool))
                mid = middle[len(middle) // 2] if middle else 1
                for function in ("sum", "avg", "min", "max"):
                    measure = Measure(prop=prop, op="ge", value=mid)
                    out.append(
                        EventAggregate.model_validate(
                            {"event": event, "window": windows[4], function: measure}
                        )
                    )
        for side in ("last_seen", "first_seen"):
            for op, days in (("lt", 7), ("ge", 30), ("eq", 1), ("le", 90)):
                out.append(
                    EventRecency.model_validate({"event": event, side: Recency(op=op, days=days)})
                )
        for days in vocab.days:
            for op, change in (("gt", 0), ("le", -0.5), ("eq", -1), ("ge", 1)):
                out.append(Trend(trend=event, days=days, change=Change(op=op, value=change)))
    for name in vocab.segments:
        out.append(SegmentRef(segment=name))
    return out
