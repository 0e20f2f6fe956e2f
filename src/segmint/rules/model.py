"""The rule tree of DESIGN section 4: frozen pydantic models, one class per node.

The canonical JSON form has no type tag (``{"and": [...]}``, ``{"attr": ...}``), so the
union is discriminated by a function that looks at which keys a node has. Checks that need
nothing but the node itself (value shapes, window bounds) live here; checks that need the
workspace's catalogs (names, types) live in :mod:`segmint.rules.validate`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

_BAD_TEXT = re.compile("[\\x00\\ud800-\\udfff]")


def check_text(value: str) -> str:
    """Text a rule may hold: no NUL (DuckDB's strings end at one, so the query would not
    compare what the rule says) and no lone surrogate (not Unicode: it cannot be written
    to a file or sent to the database)."""
    bad = _BAD_TEXT.search(value)
    if bad is None:
        return value
    at, char = bad.start(), bad.group()
    shown = repr(value) if len(value) <= 60 else repr(value[:57]) + "..."
    if char == "\0":
        raise ValueError(f"contains a NUL character (\\u0000) at position {at}: {shown}")
    raise ValueError(
        f"contains a lone surrogate ({char!r}) at position {at}, which is not valid "
        f"Unicode: {shown}"
    )


def _text_input(value: Any) -> Any:
    # Before pydantic's own check, which refuses a lone surrogate with a vaguer message.
    return check_text(value) if isinstance(value, str) else value


# A name of an attribute, event, property or segment: any non-empty text.
Name = Annotated[str, Field(strict=True, min_length=1), BeforeValidator(_text_input)]
# A number, or [low, high] for between.
NumberValue = StrictInt | StrictFloat | tuple[StrictInt | StrictFloat, StrictInt | StrictFloat]
Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
Value = Scalar | tuple[Scalar, ...]

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
Comparison = Literal["eq", "ne", "lt", "le", "gt", "ge"]
NumberOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "between"]
Op = Literal[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "between",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "is_set",
    "is_not_set",
    "within_last_days",
    "more_than_days_ago",
    "before",
    "after",
]
OPS: tuple[str, ...] = Op.__args__  # type: ignore[attr-defined]
AGGREGATES = ("sum", "avg", "min", "max", "distinct")
RECENCY = ("last_seen", "first_seen")

# What each operator's value must look like (the attribute's type is checked later).
_NO_VALUE = {"is_set", "is_not_set"}
_LIST_VALUE = {"in", "not_in"}
_DAYS_VALUE = {"within_last_days", "more_than_days_ago"}
# The longest span a rule may name: about 273 years, so as_of minus it is still a date.
MAX_DAYS = 100_000
# The instants segmint computes with (as_of, dates in rules). A trend looks back twice its
# days and recency one day more: as_of - (2 * MAX_DAYS + 1) days stays after year 1, the
# first Python can hold, and nothing adds to as_of.
MIN_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
INSTANT_RANGE = "between 1900-01-01 and 9999-12-31 (UTC)"
_DATE_VALUE = {"before", "after"}


class Node(BaseModel):
    """Base of every rule node: immutable, no unknown keys, built by field alias."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> Any:
        """The canonical JSON form (a dict), as stored in segment files.

        Defaults a reader would not write (an empty ``where``, ``count`` at least 1) are
        left out.
        """
        return _drop_defaults(self.model_dump(mode="json", by_alias=True, exclude_none=True))


_DEFAULTS: dict[str, Any] = {"where": [], "count": {"op": "ge", "value": 1}}


def _drop_defaults(data: Any) -> Any:
    if isinstance(data, list):
        return [_drop_defaults(item) for item in data]
    if not isinstance(data, dict):
        return data
    return {
        key: _drop_defaults(item)
        for key, item in data.items()
        if not (key in _DEFAULTS and item == _DEFAULTS[key] and "event" in data)
    }


def parse_instant(text: str) -> datetime:
    """An ISO date (midnight UTC) or an ISO timestamp with an offset, as a UTC datetime
    in the supported range (:data:`MIN_INSTANT` to :data:`MAX_INSTANT`)."""
    try:
        if len(text) == 10:
            value = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO date like 2026-01-31, got {text!r}") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"expected a timestamp with an offset (e.g. Z), got {text!r}")
    return in_range(value, repr(text))


class OutOfRange(ValueError):
    """An instant outside :data:`MIN_INSTANT` .. :data:`MAX_INSTANT`."""


def in_range(value: datetime, shown: str) -> datetime:
    """A tz-aware ``value`` in UTC, if it lies in the supported range (``shown`` is how
    the user wrote it)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        utc = None
    if utc is None or not MIN_INSTANT <= utc <= MAX_INSTANT:
        raise OutOfRange(f"must be {INSTANT_RANGE}, got {shown}")
    return utc


def _check_value(op: str, value: Value | None) -> None:
    """The value shape an operator needs, whatever the type of what it compares."""
    if op in _NO_VALUE:
        if value is not None:
            raise ValueError(f"{op} takes no value, got {value!r}")
        return
    if value is None:
        raise ValueError(f"{op} needs a value")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    for i, item in enumerate(value if isinstance(value, tuple) else (value,)):
        if isinstance(item, str):
            try:
                check_text(item)
            except ValueError as exc:
                raise ValueError(f"item {i} {exc}" if isinstance(value, tuple) else exc) from None
        if isinstance(item, int) and not isinstance(item, bool) and not -(2**63) <= item < 2**63:
            raise ValueError(
                f"a whole number must fit in 64 bits (write 1e20 for a larger one), got {item}"
            )
    if op == "between":
        if not isinstance(value, tuple) or len(value) != 2:
            raise ValueError(f"between needs [low, high], got {_shown(value)}")
    elif op in _LIST_VALUE:
        if not isinstance(value, tuple) or not value:
            raise ValueError(f"{op} needs a non-empty list, got {_shown(value)}")
    elif isinstance(value, tuple):
        raise ValueError(f"{op} needs a single value, not a list, got {list(value)!r}")
    elif op in _DAYS_VALUE:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{op} needs a whole number of days >= 0, got {value!r}")
        if op == "within_last_days" and value < 1:
            raise ValueError(f"{op} needs a whole number of days >= 1, got {value!r}")
        if value > MAX_DAYS:
            raise ValueError(f"{op} needs at most {MAX_DAYS} days, got {value!r}")
    elif op in _DATE_VALUE:
        if not isinstance(value, str):
            raise ValueError(f"{op} needs an ISO date, got {value!r}")
        parse_instant(value)


def _value_validator(value: Value | None, info: ValidationInfo) -> Value | None:
    op = info.data.get("op")
    if op is not None:
        _check_value(op, value)
    return value


def _shown(value: Value) -> str:
    return repr(list(value) if isinstance(value, tuple) else value)


class Attribute(Node):
    """A profile attribute or computed trait compares true.

    >>> Attribute(attr="country", op="eq", value="US").to_json()
    {'attr': 'country', 'op': 'eq', 'value': 'US'}
    """

    attr: Name
    op: Op
    value: Value | None = Field(default=None, validate_default=True)

    value_fits_op = field_validator("value")(_value_validator)


class PropertyCondition(Node):
    """A condition on an event property inside ``where`` (or on ``revenue``)."""

    prop: Name
    op: Op
    value: Value | None = Field(default=None, validate_default=True)

    value_fits_op = field_validator("value")(_value_validator)


class Count(Node):
    """How many matching events there must be: ``{"op": "ge", "value": 3}``."""

    op: NumberOp = "ge"
    value: StrictInt | tuple[StrictInt, StrictInt] = 1

    @field_validator("value")
    @classmethod
    def _check(cls, value: int | tuple[int, int], info: ValidationInfo) -> int | tuple[int, int]:
        _value_validator(value, info)
        if any(v < 0 for v in (value if isinstance(value, tuple) else (value,))):
            raise ValueError(f"a count is never negative, got {value!r}")
        if any(v >= 2**63 for v in (value if isinstance(value, tuple) else (value,))):
            raise ValueError(f"a count must fit in 64 bits, got {value!r}")
        return value


class Measure(Node):
    """An aggregate of a property over the matching events, compared to a value."""

    prop: Name
    op: NumberOp
    value: NumberValue

    value_fits_op = field_validator("value")(_value_validator)


class Recency(Node):
    """Days since the latest (or earliest) matching event compares true."""

    op: Comparison
    days: Annotated[int, Field(strict=True, ge=0, le=MAX_DAYS)]


class LastDays(Node):
    """``as_of - N days < t <= as_of``."""

    last_days: Annotated[int, Field(strict=True, ge=1, le=MAX_DAYS)]


class DaysAgo(Node):
    """``as_of - A days < t <= as_of - B days``, A > B."""

    days_ago: tuple[
        Annotated[int, Field(strict=True, ge=1, le=MAX_DAYS)],
        Annotated[int, Field(strict=True, ge=0, le=MAX_DAYS)],
    ]

    @field_validator("days_ago")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] <= value[1]:
            raise ValueError(f"days_ago [A, B] needs A > B, got {list(value)}")
        return value


class Between(Node):
    """``START <= t < END`` (and ``t <= as_of``); ISO dates or timestamps with offsets."""

    between: tuple[StrictStr, StrictStr]

    @field_validator("between")
    @classmethod
    def _ordered(cls, value: tuple[str, str]) -> tuple[str, str]:
        start, end = (parse_instant(v) for v in value)
        if end <= start:
            raise ValueError(f"between [START, END] needs END after START, got {list(value)}")
        return value


def _window_tag(value: Any) -> str | None:
    if isinstance(value, Node):
        return type(value).__name__
    if isinstance(value, dict):
        for key, tag in (("last_days", "LastDays"), ("days_ago", "DaysAgo")):
            if key in value:
                return tag
        return "Between" if "between" in value else None
    return None


Window = Annotated[
    Annotated[LastDays, Tag("LastDays")]
    | Annotated[DaysAgo, Tag("DaysAgo")]
    | Annotated[Between, Tag("Between")],
    Discriminator(
        _window_tag,
        custom_error_type="window",
        custom_error_message="a window is one of {last_days: N}, {days_ago: [A, B]}, "
        "{between: [START, END]}",
    ),
]


class EventNode(Node):
    """What event conditions share: the event name and its property filters."""

    event: Name
    where: tuple[PropertyCondition, ...] = ()


class EventCount(EventNode):
    """The number of matching events in the window compares true (default: at least one).

    >>> EventCount(event="app_open", window={"last_days": 90}).to_json()
    {'event': 'app_open', 'window': {'last_days': 90}}
    """

    window: Window | None = None
    count: Count = Count()


class EventAggregate(EventNode):
    """sum/avg/min/max/distinct of a property over matching events compares true.

    Exactly one of the five aggregate keys is set; :attr:`function` and :attr:`measure`
    give it without looking at each.
    """

    window: Window | None = None
    sum: Measure | None = None
    avg: Measure | None = None
    min: Measure | None = None
    max: Measure | None = None
    distinct: Measure | None = None

    @model_validator(mode="after")
    def _one_aggregate(self) -> EventAggregate:
        given = [name for name in AGGREGATES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"an aggregate needs exactly one of {', '.join(AGGREGATES)}")
        return self

    @property
    def function(self) -> str:
        return next(name for name in AGGREGATES if getattr(self, name) is not None)

    @property
    def measure(self) -> Measure:
        measure: Measure = getattr(self, self.function)
        return measure


class EventRecency(EventNode):
    """Days since the latest (``last_seen``) or earliest (``first_seen``) matching event."""

    last_seen: Recency | None = None
    first_seen: Recency | None = None

    @model_validator(mode="after")
    def _one_side(self) -> EventRecency:
        if (self.last_seen is None) == (self.first_seen is None):
            raise ValueError("a recency condition needs exactly one of last_seen, first_seen")
        return self

    @property
    def side(self) -> str:
        return "last_seen" if self.last_seen is not None else "first_seen"

    @property
    def recency(self) -> Recency:
        recency = self.last_seen or self.first_seen
        assert recency is not None
        return recency


class Change(Node):
    """The relative change a trend compares: ``{"op": "le", "value": -0.5}``."""

    op: NumberOp
    value: NumberValue

    value_fits_op = field_validator("value")(_value_validator)


class Trend(Node):
    """(count in the last N days - count in the N days before) / count in the N days before."""

    trend: Name
    days: Annotated[int, Field(strict=True, ge=1, le=MAX_DAYS)]
    change: Change


class SegmentRef(Node):
    """The customer is in the saved segment of that name, at the same ``as_of``."""

    segment: Name


class And(Node):
    """All children are true (``and: []`` is true)."""

    and_: tuple[Rule, ...] = Field(alias="and")


class Or(Node):
    """At least one child is true (``or: []`` is false)."""

    or_: tuple[Rule, ...] = Field(alias="or")


class Not(Node):
    """Plain negation: true exactly where the child is false."""

    not_: Rule = Field(alias="not")


_TAG_KEYS = (
    ("and", "And"),
    ("or", "Or"),
    ("not", "Not"),
    ("attr", "Attribute"),
    ("trend", "Trend"),
    ("segment", "SegmentRef"),
)


def _rule_tag(value: Any) -> str | None:
    if isinstance(value, Node):
        return type(value).__name__
    if not isinstance(value, dict):
        return None
    for key, tag in _TAG_KEYS:
        if key in value:
            return tag
    if "event" not in value:
        return None
    if any(key in value for key in AGGREGATES):
        return "EventAggregate"
    if any(key in value for key in RECENCY):
        return "EventRecency"
    return "EventCount"


Rule = Annotated[
    Annotated[And, Tag("And")]
    | Annotated[Or, Tag("Or")]
    | Annotated[Not, Tag("Not")]
    | Annotated[Attribute, Tag("Attribute")]
    | Annotated[EventCount, Tag("EventCount")]
    | Annotated[EventAggregate, Tag("EventAggregate")]
    | Annotated[EventRecency, Tag("EventRecency")]
    | Annotated[Trend, Tag("Trend")]
    | Annotated[SegmentRef, Tag("SegmentRef")],
    Discriminator(
        _rule_tag,
        custom_error_type="rule_node",
        custom_error_message="a rule node needs one of the keys and, or, not, attr, event, "
        "trend, segment",
    ),
]

NODE_TYPES: tuple[type[Node], ...] = (
    And,
    Or,
    Not,
    Attribute,
    EventCount,
    EventAggregate,
    EventRecency,
    Trend,
    SegmentRef,
)
RuleNode = (
    And | Or | Not | Attribute | EventCount | EventAggregate | EventRecency | Trend | SegmentRef
)

for _model in (And, Or, Not):
    _model.model_rebuild()
