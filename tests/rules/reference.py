"""A plain-Python reference evaluator of rule trees (DESIGN section 4), for differential tests.

It reads the store's tables once (DuckDB is used only to read them) and evaluates a rule
customer by customer with ordinary Python comparisons. It is written from the rule
semantics alone, not from the compiler, so that the two can be compared:

* the population at ``as_of``: profiles with a ``customer_id`` whose creation time (its
  ``created_at``, else its earliest event of all time) is ``<= as_of``; a profile with
  neither exists at every ``as_of``;
* every node is true or false; a comparison with a missing value (null, no JSON key, JSON
  null) is false, whatever the operator; ``not`` is plain negation;
* only events with ``ts <= as_of`` count; windows, aggregates, recency and trends as in
  DESIGN section 4.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from segmint.rules.model import (
    And,
    Attribute,
    Between,
    DaysAgo,
    EventAggregate,
    EventCount,
    EventRecency,
    LastDays,
    Not,
    Or,
    PropertyCondition,
    SegmentRef,
    Trend,
)
from tests.conftest import db

if TYPE_CHECKING:
    from collections.abc import Mapping

    import segmint

DAY = timedelta(days=1)
REVENUE = "revenue"


class Event(NamedTuple):
    ts: datetime
    revenue: float | None
    properties: dict[str, Any]


@dataclass
class StoreData:
    """The store's profiles and events, as pandas frames and as Python values per profile."""

    profiles: pd.DataFrame
    events: pd.DataFrame
    attributes: dict[str, tuple[str, str]]  # name -> (column_name, type)
    property_types: dict[str, str]  # prop -> type
    event_names: set[str] = field(default_factory=set)
    usage: dict[str, set[str]] = field(default_factory=dict)  # event -> props seen on it
    # Derived, filled by load_store.
    customer_ids: dict[int, str] = field(default_factory=dict)  # pid -> customer_id
    created: dict[int, datetime | None] = field(default_factory=dict)  # pid -> creation
    values: dict[int, dict[str, Any]] = field(default_factory=dict)  # pid -> {column: value}
    by_event: dict[tuple[int, str], list[Event]] = field(default_factory=dict)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        # Short, for Hypothesis's report of a failing example (see Store in
        # test_differential.py).
        p.text(f"StoreData({len(self.customer_ids)} customers, {len(self.events)} events)")


def load_store(ws: segmint.Workspace) -> StoreData:
    """Read profiles, events and the catalogs of ``ws`` into a :class:`StoreData`."""
    con = db(ws)
    profiles = _frame(con, "SELECT * FROM profiles")
    events = _frame(
        con, "SELECT pid, event, ts, revenue, CAST(properties AS VARCHAR) AS properties FROM events"
    )
    attributes = {
        name: (column, kind)
        for name, column, kind in con.execute(
            "SELECT name, column_name, type FROM attributes"
        ).fetchall()
    }
    property_types = dict(con.execute("SELECT prop, type FROM event_properties").fetchall())
    event_names = {e for (e,) in con.execute("SELECT event FROM event_names").fetchall()}
    usage: dict[str, set[str]] = defaultdict(set)
    for event, prop in con.execute("SELECT event, prop FROM event_property_usage").fetchall():
        usage[event].add(prop)
    data = StoreData(profiles, events, attributes, property_types, event_names, dict(usage))

    kinds = {column: kind for column, kind in attributes.values()}
    first_event: dict[int, datetime] = {}
    by_event: dict[tuple[int, str], list[Event]] = defaultdict(list)
    for pid, name, ts, revenue, props in events.itertuples(index=False):
        when = to_datetime(ts)
        assert when is not None
        pid = int(pid)
        by_event[(pid, name)].append(
            Event(when, _number(revenue), json.loads(props) if isinstance(props, str) else {})
        )
        if pid not in first_event or when < first_event[pid]:
            first_event[pid] = when
    for items in by_event.values():
        items.sort(key=lambda e: e.ts)
    data.by_event = dict(by_event)

    for record in profiles.to_dict("records"):
        pid = int(record["pid"])
        values = {c: native(v, kinds.get(c, "")) for c, v in record.items()}
        data.values[pid] = values
        if values.get("customer_id") is not None:
            data.customer_ids[pid] = values["customer_id"]
        # Creation: created_at if given, else the earliest event of all time (also those
        # after any as_of), else None (then the profile exists at every as_of).
        data.created[pid] = values.get("created_at") or first_event.get(pid)
    return data


def _frame(con: Any, sql: str) -> pd.DataFrame:
    # Through Arrow rather than DuckDB's .df(): with pandas 3.1, .df() calls
    # DataFrame.drop(inplace=True) on some tables, a deprecation warning that the test
    # settings turn into an error.
    return con.execute(sql).arrow().read_all().to_pandas()


# --- values -----------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA (for a scalar)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _number(value: Any) -> float | None:
    if _missing(value):
        return None
    return float(value)  # Decimal (money) values are multiples of 0.25 here: exact


def to_datetime(value: Any) -> datetime | None:
    """A UTC datetime from a pandas/py timestamp or an ISO 8601 string (naive means UTC)."""
    if _missing(value):
        return None
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip())
    elif isinstance(value, pd.Timestamp):
        parsed = value.to_pydatetime()
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, datetime.min.time())
    else:
        raise TypeError(f"not a timestamp: {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def instant(text: str) -> datetime:
    """A rule value: an ISO date (00:00 UTC) or a timestamp with an offset."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, text
    return parsed.astimezone(UTC)


def native(value: Any, kind: str) -> Any:
    """A stored value as a plain Python value of its logical type (None when missing)."""
    if kind == "list":
        if value is None or (not hasattr(value, "__len__") and _missing(value)):
            return None
        return [None if _missing(e) else str(e) for e in list(value)]
    if _missing(value):
        return None
    if kind == "timestamp":
        return to_datetime(value)
    if kind == "date":
        if isinstance(value, str):
            return date.fromisoformat(value)
        if isinstance(value, datetime | pd.Timestamp):
            return value.date()
        return value
    if kind == "integer":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    if kind == "string":
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def prop_value(event: Event, prop: str, kind: str) -> Any:
    """The value of a property on an event (revenue is the event's column), or None."""
    if prop == REVENUE:
        return event.revenue
    raw = event.properties.get(prop)
    if raw is None:
        return None
    if kind == "timestamp":
        return to_datetime(raw)
    if kind == "list":
        return [None if e is None else str(e) for e in raw]
    return raw


# --- comparisons ------------------------------------------------------------------------


def compare_number(op: str, x: Any, value: Any) -> bool:
    if op == "eq":
        return bool(x == value)
    if op == "ne":
        return bool(x != value)
    if op == "lt":
        return bool(x < value)
    if op == "le":
        return bool(x <= value)
    if op == "gt":
        return bool(x > value)
    if op == "ge":
        return bool(x >= value)
    if op == "between":
        lo, hi = value
        return bool(lo <= x <= hi)
    raise ValueError(f"not a number comparison: {op}")


def compare(kind: str, op: str, x: Any, value: Any, as_of: datetime) -> bool:
    """``x OP value`` for a value ``x`` of logical type ``kind`` (None = missing)."""
    if op == "is_set":
        return x is not None
    if op == "is_not_set":
        return x is None
    if x is None:
        return False  # every comparison with a missing value is false
    if kind == "list":
        if op == "contains":
            return value in x
        if op == "not_contains":
            return value not in x
        raise ValueError(op)
    if kind == "string":
        if op == "contains":
            return value in x
        if op == "not_contains":
            return value not in x
        if op == "starts_with":
            return bool(x.startswith(value))
        if op == "ends_with":
            return bool(x.endswith(value))
    if op == "in":
        return any(x == v for v in value)
    if op == "not_in":
        return all(x != v for v in value)
    if kind in ("string", "bool", "integer", "float"):
        return compare_number(op, x, value)
    if kind == "timestamp":
        if op == "within_last_days":
            return as_of - value * DAY < x <= as_of
        if op == "more_than_days_ago":
            return bool(x <= as_of - value * DAY)
        if op == "before":
            return bool(x < instant(value))
        if op == "after":
            return bool(x > instant(value))
        bound = tuple(instant(v) for v in value) if op == "between" else instant(value)
        return compare_number(op, x, bound)
    if kind == "date":
        if op == "before":
            return bool(x < date.fromisoformat(value))
        if op == "after":
            return bool(x > date.fromisoformat(value))
        bound = (
            tuple(date.fromisoformat(v) for v in value)
            if op == "between"
            else date.fromisoformat(value)
        )
        return compare_number(op, x, bound)
    raise ValueError(f"unknown type {kind!r}")


# --- evaluation -------------------------------------------------------------------------


class Reference:
    """Evaluates rules on one :class:`StoreData` at one ``as_of``."""

    def __init__(self, data: StoreData, as_of: datetime, segments: Mapping[str, Any]) -> None:
        self.data = data
        self.as_of = as_of.astimezone(UTC)
        self.segments = segments
        self.population = {
            pid
            for pid, created in data.created.items()
            if pid in data.customer_ids and (created is None or created <= self.as_of)
        }

    def members(self, rule: Any) -> set[str]:
        return {self.data.customer_ids[pid] for pid in self.population if self.holds(rule, pid)}

    def holds(self, rule: Any, pid: int) -> bool:
        if isinstance(rule, And):
            return all(self.holds(r, pid) for r in rule.and_)
        if isinstance(rule, Or):
            return any(self.holds(r, pid) for r in rule.or_)
        if isinstance(rule, Not):
            return not self.holds(rule.not_, pid)
        if isinstance(rule, Attribute):
            column, kind = self.data.attributes[rule.attr]
            x = self.data.values[pid].get(column)
            return compare(kind, rule.op, x, rule.value, self.as_of)
        if isinstance(rule, SegmentRef):
            return self.holds(self.segments[rule.segment], pid)
        if isinstance(rule, EventCount):
            n = len(self.matching(pid, rule.event, rule.where, rule.window))
            return compare_number(rule.count.op, n, rule.count.value)
        if isinstance(rule, EventAggregate):
            return self.aggregate(rule, pid)
        if isinstance(rule, EventRecency):
            found = self.matching(pid, rule.event, rule.where, None)
            if not found:
                return False
            t = max(e.ts for e in found) if rule.side == "last_seen" else min(e.ts for e in found)
            days = (self.as_of - t) // DAY
            return compare_number(rule.recency.op, days, rule.recency.days)
        if isinstance(rule, Trend):
            n = rule.days
            cur = len(self.matching(pid, rule.trend, (), DaysAgo(days_ago=(n, 0))))
            prev = len(self.matching(pid, rule.trend, (), DaysAgo(days_ago=(2 * n, n))))
            if prev == 0:
                return False
            return compare_number(rule.change.op, (cur - prev) / prev, rule.change.value)
        raise TypeError(f"unknown node {type(rule).__name__}")

    def in_window(self, t: datetime, window: Any) -> bool:
        as_of = self.as_of
        if t > as_of:
            return False  # events after as_of never count
        if window is None:
            return True
        if isinstance(window, LastDays):
            return as_of - window.last_days * DAY < t <= as_of
        if isinstance(window, DaysAgo):
            a, b = window.days_ago
            return as_of - a * DAY < t <= as_of - b * DAY
        if isinstance(window, Between):
            start, end = (instant(v) for v in window.between)
            return start <= t < end
        raise TypeError(f"unknown window {window!r}")

    def prop_kind(self, prop: str) -> str:
        return "float" if prop == REVENUE else self.data.property_types[prop]

    def matching(
        self, pid: int, event: str, where: tuple[PropertyCondition, ...], window: Any
    ) -> list[Event]:
        out = []
        for e in self.data.by_event.get((pid, event), []):
            if not self.in_window(e.ts, window):
                continue
            if all(
                compare(
                    self.prop_kind(c.prop),
                    c.op,
                    prop_value(e, c.prop, self.prop_kind(c.prop)),
                    c.value,
                    self.as_of,
                )
                for c in where
            ):
                out.append(e)
        return out

    def aggregate(self, rule: EventAggregate, pid: int) -> bool:
        found = self.matching(pid, rule.event, rule.where, rule.window)
        if not found:
            return False  # no matching event: false, whatever the function
        m = rule.measure
        kind = self.prop_kind(m.prop)
        present = [v for v in (prop_value(e, m.prop, kind) for e in found) if v is not None]
        function = rule.function
        if function == "distinct":
            result: float | int = len(set(present))
        elif not present:
            return False
        elif function == "sum":
            result = sum(present)
        elif function == "avg":
            result = sum(present) / len(present)
        elif function == "min":
            result = min(present)
        else:
            result = max(present)
        return compare_number(m.op, result, m.value)


def evaluate(
    rule: Any, data: StoreData, as_of: datetime, segments: Mapping[str, Any] | None = None
) -> set[str]:
    """The customer ids ``rule`` selects at ``as_of`` (``segments``: name -> rule tree)."""
    return Reference(data, as_of, segments or {}).members(rule)
