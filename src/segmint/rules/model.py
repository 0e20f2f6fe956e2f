"""The rule tree of DESIGN section 4: frozen pydantic models, one class per node.

The canonical JSON form has no type tag (``{"and": [...]}``, ``{"attr": ...}``), so the
union is discriminated by a function that looks at which keys a node has. Checks that need
nothing but the node itself (value shapes, window bounds) live here; checks that need the
workspace's catalogs (names, types) live in :mod:`segmint.rules.validate`.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

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


class Refers:
    """Marks a name field with what the name refers to in the workspace (``"event"``), so
    validation can check it without a check written for each node kind."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"Refers({self.what!r})"


# The name of an event.
EventName = Annotated[Name, Refers("event")]
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


def _schema_description(schema: dict[str, Any], cls: type) -> None:
    # A docstring's doctest is for readers of the code, not for editors using the schema.
    description = str(schema.get("description", ""))
    if ">>>" in description:
        schema["description"] = description[: description.index(">>>")].rstrip()


class Node(BaseModel):
    """Base of every rule node: immutable, no unknown keys, built by field alias.

    >>> LastDays.model_validate({"last_days": 30}) == LastDays(last_days=30)
    True
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        json_schema_extra=_schema_description,
    )

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


class RuleNode(Node):
    """Base of the node kinds a rule is made of (``and``, ``attr``, ``event``, ...).

    Each kind is a subclass decorated with :func:`node_kind`, which enters it in
    :data:`NODE_TYPES`; the pydantic union :data:`Rule`, the JSON tag keys and the error
    that lists them are all derived from that registry, and :meth:`walk`,
    :meth:`children` and :meth:`transform` find a node's sub-rules from its fields, so no
    other list of node kinds is kept by hand.

    >>> rule = Not(not_=Attribute(attr="country", op="eq", value="US"))
    >>> [type(node).__name__ for node in rule.walk()]
    ['Not', 'Attribute']
    """

    # The JSON key that names the kind; for a key several kinds share (``event``), the
    # keys of which one picks this kind (none: the kind the key means by default).
    tag_key: ClassVar[str] = ""
    tag_markers: ClassVar[tuple[str, ...]] = ()
    # The fields that hold sub-rules: (field name, JSON key, a tuple of them?).
    child_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = ()
    # The fields that name an event (EventName): (field name, JSON key).
    event_fields: ClassVar[tuple[tuple[str, str], ...]] = ()

    def children(self) -> list[tuple[str, RuleNode]]:
        """The rule nodes directly under this one, with the path from it to each
        (``.and[0]``, ``.not``).

        >>> And(and_=(SegmentRef(segment="vip"),)).children()
        [('.and[0]', SegmentRef(segment='vip'))]
        """
        found: list[tuple[str, RuleNode]] = []
        for name, key, many in self.child_fields:
            value = getattr(self, name)
            if many:
                found += [(f".{key}[{i}]", item) for i, item in enumerate(value)]
            else:
                found.append((f".{key}", value))
        return found

    def walk(self) -> Iterator[RuleNode]:
        """This node and every rule node under it, parents first, left to right (a
        reference to a saved segment is one node: its rule is not entered).

        >>> rule = And(and_=(SegmentRef(segment="vip"), Not(not_=SegmentRef(segment="new"))))
        >>> [node.segment for node in rule.walk() if isinstance(node, SegmentRef)]
        ['vip', 'new']
        """
        # An explicit stack: hostile rules are measured with this before recursion is safe.
        stack: list[RuleNode] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(child for _, child in reversed(node.children()))

    def transform(self, fn: Callable[[RuleNode], RuleNode]) -> RuleNode:
        """The tree rebuilt bottom-up: ``fn`` maps each node, after its children have been
        mapped, to the node that takes its place.

        >>> def reverse(node: RuleNode) -> RuleNode:
        ...     return Or(or_=node.and_) if isinstance(node, And) else node
        >>> print(And(and_=(SegmentRef(segment="vip"),)).transform(reverse))
        or_=(SegmentRef(segment='vip'),)
        """
        update: dict[str, Any] = {}
        for name, _, many in self.child_fields:
            value = getattr(self, name)
            update[name] = (
                tuple(item.transform(fn) for item in value) if many else value.transform(fn)
            )
        return fn(self.model_copy(update=update) if update else self)


_Kind = TypeVar("_Kind", bound=type[RuleNode])
_KINDS: list[type[RuleNode]] = []


def node_kind(key: str, markers: tuple[str, ...] = ()) -> Callable[[_Kind], _Kind]:
    """Enter a rule node class in the registry; ``key`` is the JSON key that names it,
    ``markers`` (for a key several kinds share) the keys that pick this kind."""

    def register(cls: _Kind) -> _Kind:
        cls.tag_key, cls.tag_markers = key, markers
        _KINDS.append(cls)
        return cls

    return register


@node_kind("and")
class And(RuleNode):
    """All children are true (``and: []`` is true).

    >>> from segmint.rules.text import to_text
    >>> rule = And(and_=(Attribute(attr="country", op="eq", value="US"), SegmentRef(segment="vip")))
    >>> to_text(rule)
    'country = "US" and in segment vip'
    >>> rule.to_json()
    {'and': [{'attr': 'country', 'op': 'eq', 'value': 'US'}, {'segment': 'vip'}]}
    """

    and_: tuple[Rule, ...] = Field(alias="and")


@node_kind("or")
class Or(RuleNode):
    """At least one child is true (``or: []`` is false).

    >>> from segmint.rules.text import to_text
    >>> rule = Or(or_=(SegmentRef(segment="vip"), SegmentRef(segment="new")))
    >>> to_text(rule)
    'in segment vip or in segment new'
    >>> rule.to_json()
    {'or': [{'segment': 'vip'}, {'segment': 'new'}]}
    """

    or_: tuple[Rule, ...] = Field(alias="or")


@node_kind("not")
class Not(RuleNode):
    """Plain negation: true exactly where the child is false.

    >>> from segmint.rules.text import to_text
    >>> rule = Not(not_=EventCount(event="app_open", window={"last_days": 90}))
    >>> to_text(rule)
    'not did app_open in last 90 days'
    >>> rule.to_json()
    {'not': {'event': 'app_open', 'window': {'last_days': 90}}}
    """

    not_: Rule = Field(alias="not")


@node_kind("attr")
class Attribute(RuleNode):
    """A profile attribute or computed trait compares true.

    >>> from segmint.rules.text import to_text
    >>> rule = Attribute(attr="country", op="eq", value="US")
    >>> to_text(rule)
    'country = "US"'
    >>> rule.to_json()
    {'attr': 'country', 'op': 'eq', 'value': 'US'}
    """

    attr: Name
    op: Op
    value: Value | None = Field(default=None, validate_default=True)

    value_fits_op = field_validator("value")(_value_validator)


class PropertyCondition(Node):
    """A condition on an event property inside ``where`` (or on ``revenue``).

    >>> from segmint.rules.text import to_text
    >>> where = (PropertyCondition(prop="category", op="in", value=("shoes", "bags")),)
    >>> to_text(EventCount(event="order_completed", where=where))
    'did order_completed where category in ["shoes", "bags"]'
    """

    prop: Name
    op: Op
    value: Value | None = Field(default=None, validate_default=True)

    value_fits_op = field_validator("value")(_value_validator)


class Count(Node):
    """How many matching events there must be: ``{"op": "ge", "value": 3}``.

    >>> from segmint.rules.text import to_text
    >>> rule = EventCount(event="order_completed", count=Count(op="between", value=(2, 5)))
    >>> to_text(rule)
    'did order_completed between 2 and 5 times'
    >>> rule.to_json()
    {'event': 'order_completed', 'count': {'op': 'between', 'value': [2, 5]}}
    """

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
    """An aggregate of a property over the matching events, compared to a value.

    >>> Measure(prop="revenue", op="gt", value=500).to_json()
    {'prop': 'revenue', 'op': 'gt', 'value': 500}
    """

    prop: Name
    op: NumberOp
    value: NumberValue

    value_fits_op = field_validator("value")(_value_validator)


class Recency(Node):
    """Days since the latest (or earliest) matching event compares true.

    >>> Recency(op="ge", days=60).to_json()
    {'op': 'ge', 'days': 60}
    """

    op: Comparison
    days: Annotated[int, Field(strict=True, ge=0, le=MAX_DAYS)]


class LastDays(Node):
    """``as_of - N days < t <= as_of``.

    >>> from segmint.rules.text import to_text
    >>> to_text(EventCount(event="app_open", window=LastDays(last_days=7)))
    'did app_open in last 7 days'
    """

    last_days: Annotated[int, Field(strict=True, ge=1, le=MAX_DAYS)]


class DaysAgo(Node):
    """``as_of - A days < t <= as_of - B days``, A > B.

    >>> from segmint.rules.text import to_text
    >>> to_text(EventCount(event="app_open", window=DaysAgo(days_ago=(60, 30))))
    'did app_open from 60 to 30 days ago'
    """

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
    """``START <= t < END`` (and ``t <= as_of``); ISO dates or timestamps with offsets.

    >>> from segmint.rules.text import to_text
    >>> to_text(EventCount(event="app_open", window=Between(between=("2026-01-01", "2026-02-01"))))
    'did app_open between 2026-01-01 and 2026-02-01'
    """

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


class EventNode(RuleNode):
    """What event conditions share: the event name and its property filters (a base,
    not a node kind itself).

    >>> issubclass(EventCount, EventNode), EventNode in NODE_TYPES
    (True, False)
    """

    event: EventName
    where: tuple[PropertyCondition, ...] = ()


@node_kind("event")
class EventCount(EventNode):
    """The number of matching events in the window compares true (default: at least one).

    >>> from segmint.rules.text import to_text
    >>> rule = EventCount(event="app_open", window={"last_days": 90})
    >>> to_text(rule)
    'did app_open in last 90 days'
    >>> rule.to_json()
    {'event': 'app_open', 'window': {'last_days': 90}}
    """

    window: Window | None = None
    count: Count = Count()


@node_kind("event", markers=AGGREGATES)
class EventAggregate(EventNode):
    """sum/avg/min/max/distinct of a property over matching events compares true.

    Exactly one of the five aggregate keys is set; :attr:`function` and :attr:`measure`
    give it without looking at each.

    >>> from segmint.rules.text import to_text
    >>> total = Measure(prop="revenue", op="gt", value=500)
    >>> rule = EventAggregate(event="order_completed", sum=total)
    >>> to_text(rule)
    'sum(revenue) of order_completed > 500'
    >>> rule.to_json()
    {'event': 'order_completed', 'sum': {'prop': 'revenue', 'op': 'gt', 'value': 500}}
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


@node_kind("event", markers=RECENCY)
class EventRecency(EventNode):
    """Days since the latest (``last_seen``) or earliest (``first_seen``) matching event.

    >>> from segmint.rules.text import to_text
    >>> rule = EventRecency(event="order_completed", last_seen=Recency(op="ge", days=60))
    >>> to_text(rule)
    'last order_completed more than 60 days ago'
    >>> rule.to_json()
    {'event': 'order_completed', 'last_seen': {'op': 'ge', 'days': 60}}
    """

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
    """The relative change a trend compares: ``{"op": "le", "value": -0.5}``.

    >>> Change(op="le", value=-0.5).to_json()
    {'op': 'le', 'value': -0.5}
    """

    op: NumberOp
    value: NumberValue

    value_fits_op = field_validator("value")(_value_validator)


@node_kind("trend")
class Trend(RuleNode):
    """(count in the last N days - count in the N days before) / count in the N days before.

    >>> from segmint.rules.text import to_text
    >>> rule = Trend(trend="order_completed", days=60, change=Change(op="le", value=-0.5))
    >>> to_text(rule)
    'trend of order_completed over 60 days <= -0.5'
    >>> rule.to_json()
    {'trend': 'order_completed', 'days': 60, 'change': {'op': 'le', 'value': -0.5}}
    """

    trend: EventName
    days: Annotated[int, Field(strict=True, ge=1, le=MAX_DAYS)]
    change: Change


@node_kind("segment")
class SegmentRef(RuleNode):
    """The customer is in the saved segment of that name, at the same ``as_of``.

    >>> from segmint.rules.text import to_text
    >>> to_text(SegmentRef(segment="vip")), SegmentRef(segment="vip").to_json()
    ('in segment vip', {'segment': 'vip'})
    """

    segment: Name


# --- the registry ---------------------------------------------------------------------
# Every class above decorated with @node_kind is a node kind; what follows derives from
# that list alone. New kinds are defined above this line, in this module.

NODE_TYPES: tuple[type[RuleNode], ...] = tuple(_KINDS)


def _tag_order(kinds: tuple[type[RuleNode], ...]) -> tuple[type[RuleNode], ...]:
    """The order in which a dict's keys are tried: keys that name one kind first (in the
    order the kinds are defined), then kinds that share a key and have markers, then the
    default kind of a shared key."""
    keys = [kind.tag_key for kind in kinds]
    shared = {key for key in keys if keys.count(key) > 1}
    unique = [kind for kind in kinds if kind.tag_key not in shared]
    marked = [kind for kind in kinds if kind.tag_key in shared and kind.tag_markers]
    plain = [kind for kind in kinds if kind.tag_key in shared and not kind.tag_markers]
    return (*unique, *marked, *plain)


_TAG_ORDER = _tag_order(NODE_TYPES)
TAG_KEYS: tuple[str, ...] = tuple(dict.fromkeys(kind.tag_key for kind in NODE_TYPES))


def kind_of(data: Any) -> type[RuleNode] | None:
    """The node kind a rule in the JSON form (a dict) is, by its keys; None if none fits.

    >>> kind_of({"event": "order_completed", "sum": {}}).__name__
    'EventAggregate'
    """
    if not isinstance(data, dict):
        return None
    for kind in _TAG_ORDER:
        if kind.tag_key in data and (
            not kind.tag_markers or any(marker in data for marker in kind.tag_markers)
        ):
            return kind
    return None


def _rule_tag(value: Any) -> str | None:
    if isinstance(value, Node):
        return type(value).__name__
    kind = kind_of(value)
    return kind.__name__ if kind is not None else None


if TYPE_CHECKING:
    Rule = RuleNode
else:
    Rule = Annotated[
        typing.Union[tuple(Annotated[kind, Tag(kind.__name__)] for kind in NODE_TYPES)],  # noqa: UP007
        Discriminator(
            _rule_tag,
            custom_error_type="rule_node",
            custom_error_message="a rule node needs one of the keys " + ", ".join(TAG_KEYS),
        ),
    ]


def _child_fields(kind: type[RuleNode]) -> tuple[tuple[str, str, bool], ...]:
    hints = typing.get_type_hints(kind, include_extras=True)
    found = []
    for name, info in kind.model_fields.items():
        if hints[name] in (Rule, tuple[Rule, ...]):
            found.append((name, info.alias or name, hints[name] != Rule))
    return tuple(found)


def _event_fields(kind: type[RuleNode]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, info.alias or name)
        for name, info in kind.model_fields.items()
        if any(isinstance(m, Refers) and m.what == "event" for m in info.metadata)
    )


for _kind in NODE_TYPES:
    _kind.model_rebuild()
    _kind.child_fields = _child_fields(_kind)
    _kind.event_fields = _event_fields(_kind)
