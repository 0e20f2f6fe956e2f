"""Checking a rule against the workspace's catalog before any query runs.

The model already guarantees each node's own shape (value present, windows ordered); here
names must exist, operators must suit the type of what they compare, values must have that
type, and segment references must resolve without a cycle. Every error names the node path
and, for a misspelt name, the closest known one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from segmint.errors import RuleError
from segmint.hints import suggest
from segmint.rules.catalog import Catalog
from segmint.rules.model import (
    INSTANT_RANGE,
    MIN_INSTANT,
    NODE_TYPES,
    Attribute,
    EventAggregate,
    EventCount,
    EventNode,
    EventRecency,
    OutOfRange,
    PropertyCondition,
    RuleNode,
    SegmentRef,
    Trend,
    parse_instant,
)
from segmint.traits.definitions import TRAIT_VALUES

_SET = {"is_set", "is_not_set"}
_ORDER = {"eq", "ne", "lt", "le", "gt", "ge", "between"}
OPS_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset(
        {"eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with"} | _SET
    ),
    "integer": frozenset(_ORDER | {"in", "not_in"} | _SET),
    "float": frozenset(_ORDER | {"in", "not_in"} | _SET),
    "bool": frozenset({"eq", "ne"} | _SET),
    "timestamp": frozenset(
        _ORDER | {"before", "after", "within_last_days", "more_than_days_ago"} | _SET
    ),
    "date": frozenset(_ORDER | {"before", "after"} | _SET),
    "list": frozenset({"contains", "not_contains"} | _SET),
}
NUMERIC = frozenset({"integer", "float"})
# Property types that an aggregate may summarise.
AGGREGATE_TYPES: dict[str, frozenset[str]] = {
    "sum": NUMERIC,
    "avg": NUMERIC,
    "min": NUMERIC,
    "max": NUMERIC,
    "distinct": frozenset({"string", "integer", "float", "bool", "timestamp"}),
}


def check_trait_values(rule: Attribute, allowed: tuple[str, ...], path: str) -> None:
    """A computed trait with a fixed set of values (rfm_segment, ...) compared with a value
    it never takes is a typo, not an empty segment."""
    many = isinstance(rule.value, tuple)
    values: list[Any] = list(rule.value) if isinstance(rule.value, tuple) else [rule.value]
    for i, value in enumerate(values):
        if value not in allowed:
            where = f"{path}.value[{i}]" if many else f"{path}.value"
            hint = suggest(str(value), allowed) or f" (one of: {', '.join(allowed)})"
            raise RuleError(where, f"{rule.attr} is never {value!r}{hint}")


def validate(rule: RuleNode, catalog: Catalog, path: str = "rule", name: str | None = None) -> None:
    """Raise :class:`RuleError` for the first problem of ``rule``; ``name`` is the segment
    being defined (a reference back to it is a cycle)."""
    from segmint.rules.limits import check_tree

    # The size of the tree as it will be compiled, before anything walks it recursively.
    check_tree(rule, catalog.segments, path)
    _Checker(catalog, [name] if name else []).check(rule, path)


class _Checker:
    def __init__(self, catalog: Catalog, chain: list[str]) -> None:
        self.catalog = catalog
        self.chain = chain
        own: dict[type, Callable[[Any, str], None]] = {
            Attribute: self.check_attribute,
            EventCount: self.check_event,
            EventAggregate: self.check_aggregate,
            EventRecency: self.check_event,
            Trend: self.check_trend,
            SegmentRef: self.check_segment,
        }
        # and/or/not, and any kind whose names and sub-rules are all it has to check.
        self.handlers = {kind: own.get(kind, self.check_fields) for kind in NODE_TYPES}

    def check(self, rule: RuleNode, path: str) -> None:
        self.handlers[type(rule)](rule, path)

    def check_fields(self, rule: RuleNode, path: str) -> None:
        """What every kind declares: the events it names (fields typed ``EventName``)
        exist, its ``where`` conditions suit its event, and its sub-rules pass."""
        for name, key in rule.event_fields:
            self.check_event_name(getattr(rule, name), f"{path}.{key}")
        if isinstance(rule, EventNode):
            carried = self.catalog.event_properties(rule.event)
            for i, cond in enumerate(rule.where):
                self.check_property(rule.event, cond, carried, f"{path}.where[{i}]")
        for key, child in rule.children():
            self.check(child, f"{path}{key}")

    def check_attribute(self, rule: Attribute, path: str) -> None:
        info = self.catalog.attributes.get(rule.attr)
        if info is None:
            raise RuleError(
                f"{path}.attr",
                f"unknown attribute {rule.attr!r}{suggest(rule.attr, self.catalog.attributes)}",
            )
        check_comparison(rule.op, rule.value, info.type, f"attribute {rule.attr!r}", path)
        if info.trait and rule.attr in TRAIT_VALUES and rule.op in ("eq", "ne", "in", "not_in"):
            check_trait_values(rule, TRAIT_VALUES[rule.attr], path)

    def check_event(self, rule: EventNode, path: str) -> None:
        self.check_event_name(rule.event, f"{path}.event")
        carried = self.catalog.event_properties(rule.event)
        for i, cond in enumerate(rule.where):
            self.check_property(rule.event, cond, carried, f"{path}.where[{i}]")

    def check_event_name(self, event: str, path: str) -> None:
        if event not in self.catalog.events:
            known = sorted(self.catalog.events)
            hint = suggest(event, known) or (
                f" (known events: {', '.join(known[:12])}{', ...' if len(known) > 12 else ''})"
                if known
                else " (no events have been loaded)"
            )
            raise RuleError(path, f"unknown event {event!r}{hint}")

    def check_property(
        self, event: str, cond: PropertyCondition, carried: frozenset[str], path: str
    ) -> None:
        kind = self.property_kind(event, cond.prop, carried, f"{path}.prop")
        check_comparison(cond.op, cond.value, kind, f"property {cond.prop!r}", path)

    def property_kind(self, event: str, prop: str, carried: frozenset[str], path: str) -> str:
        kind = self.catalog.property_type(prop)
        if kind is None or prop not in carried:
            where = "" if kind is None else f" on event {event!r}"
            shown = ", ".join(sorted(carried))
            raise RuleError(
                path,
                f"unknown property {prop!r}{where}{suggest(prop, carried)} "
                f"({event!r} has: {shown})",
            )
        return kind

    def check_aggregate(self, rule: EventAggregate, path: str) -> None:
        self.check_event(rule, path)
        function, measure = rule.function, rule.measure
        place = f"{path}.{function}"
        carried = self.catalog.event_properties(rule.event)
        kind = self.property_kind(rule.event, measure.prop, carried, f"{place}.prop")
        if kind not in AGGREGATE_TYPES[function]:
            allowed = " or ".join(sorted(AGGREGATE_TYPES[function]))
            raise RuleError(
                f"{place}.prop",
                f"{function} needs a property of type {allowed}; {measure.prop!r} is {kind}",
            )
        _check_between(measure.op, measure.value, f"{place}.value")

    def check_trend(self, rule: Trend, path: str) -> None:
        self.check_event_name(rule.trend, f"{path}.trend")
        _check_between(rule.change.op, rule.change.value, f"{path}.change.value")

    def check_segment(self, rule: SegmentRef, path: str) -> None:
        target = self.catalog.segments.get(rule.segment)
        if rule.segment in self.chain:
            loop = " -> ".join([*self.chain, rule.segment])
            raise RuleError(f"{path}.segment", f"segment reference cycle: {loop}")
        if target is None:
            hint = suggest(rule.segment, self.catalog.segments)
            raise RuleError(f"{path}.segment", f"unknown segment {rule.segment!r}{hint}")
        _Checker(self.catalog, [*self.chain, rule.segment]).check(
            target, f"segment {rule.segment!r}: rule"
        )


def check_comparison(op: str, value: Any, kind: str, what: str, path: str) -> None:
    """``op`` must suit a value of logical type ``kind`` and ``value`` must have that type."""
    allowed = OPS_BY_TYPE.get(kind, frozenset())
    if op not in allowed:
        raise RuleError(
            f"{path}.op",
            f"{op} does not apply to {kind} {what}; use one of {', '.join(sorted(allowed))}",
        )
    if op in _SET or op in ("within_last_days", "more_than_days_ago"):
        return  # no value, or whole days (the model checked those)
    values = value if isinstance(value, tuple) else (value,)
    for item in values:
        problem = _value_problem(kind, op, item)
        if problem:
            raise RuleError(f"{path}.value", f"expected {problem} for {kind} {what}, got {item!r}")
    _check_between(op, value, f"{path}.value", kind)


def _value_problem(kind: str, op: str, value: Any) -> str | None:
    """What the value should have been, or None when it fits."""
    if kind in ("string", "list"):
        return None if isinstance(value, str) else "a string"
    if kind in NUMERIC:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "a number"
    if kind == "bool":
        return None if isinstance(value, bool) else "true or false"
    if kind == "date":
        if not (isinstance(value, str) and _is_date(value)):
            return "an ISO date (2026-01-31)"
        late_enough = MIN_INSTANT.date() <= date.fromisoformat(value)
        return None if late_enough else f"a date {INSTANT_RANGE}"
    if kind == "timestamp":
        if not isinstance(value, str):
            return "an ISO date or timestamp"
        try:
            parse_instant(value)
        except OutOfRange:
            return f"an instant {INSTANT_RANGE}"
        except ValueError:
            return "an ISO date or a timestamp with an offset"
    return None


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _check_between(op: str, value: Any, path: str, kind: str = "float") -> None:
    if op != "between":
        return
    low, high = value
    if kind in ("timestamp", "date"):
        low, high = parse_instant(low), parse_instant(high)
    if low > high:
        raise RuleError(path, f"between needs low <= high, got {list(value)!r}")


def referenced_segments(rule: RuleNode) -> Iterable[str]:
    """Names of the segments a rule refers to directly."""
    return (node.segment for node in rule.walk() if isinstance(node, SegmentRef))
