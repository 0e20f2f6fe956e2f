"""The compact text form of rules: a lark LALR grammar, and a printer that is its inverse.

``parse(to_text(tree)) == tree`` for every tree, and ``to_text(parse(t)) == t`` for every
text the printer writes (its canonical form). The language is described in docs/rules.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from segmint.errors import RuleError
from segmint.rules.model import (
    And,
    Attribute,
    Between,
    Count,
    DaysAgo,
    EventAggregate,
    EventCount,
    EventRecency,
    LastDays,
    Not,
    Or,
    PropertyCondition,
    RuleNode,
    SegmentRef,
    Trend,
)

if TYPE_CHECKING:
    from lark import Lark, Token

# The grammar without the conditions: the text forms (TEXT_FORMS, below) add each node
# kind's alternatives of ``atom``.
_GRAMMAR_TOP = r"""
?start: or_expr

?or_expr: and_expr
        | and_expr ("or" and_expr)+                    -> or_
?and_expr: not_expr
         | not_expr ("and" not_expr)+                  -> and_
?not_expr: "not" not_expr                              -> not_
         | atom
?atom: "(" or_expr ")"
     | "all" "(" [or_expr ("," or_expr)*] ")"          -> all_
     | "any" "(" [or_expr ("," or_expr)*] ")"          -> any_
"""

# The parts conditions are made of.
_GRAMMAR_PARTS = r"""
comparison: CMP value                                  -> cmp
          | "between" value "and" value                -> between
          | "in" list                                  -> in_
          | "not" "in" list                            -> not_in
          | "contains" value                           -> contains
          | "not" "contains" value                     -> not_contains
          | "starts" "with" value                      -> starts_with
          | "ends" "with" value                        -> ends_with
          | "is" "set"                                 -> is_set
          | "is" "not" "set"                           -> is_not_set
          | "within" "last" NUMBER "days"              -> within_last_days
          | "more" "than" NUMBER "days" "ago"          -> more_than_days_ago
          | "before" instant                           -> before
          | "after" instant                            -> after

where: "where" prop
     | "where" "(" prop ("and" prop)* ")"
prop: name comparison

count: "at" "least" NUMBER TIMES                       -> count_ge
     | "at" "most" NUMBER TIMES                        -> count_le
     | "exactly" NUMBER TIMES                          -> count_eq
     | "not" "exactly" NUMBER TIMES                    -> count_ne
     | "more" "than" NUMBER TIMES                      -> count_gt
     | "less" "than" NUMBER TIMES                      -> count_lt
     | "between" NUMBER "and" NUMBER TIMES             -> count_between

window: "in" "last" NUMBER "days"                      -> last_days
      | "from" NUMBER "to" NUMBER "days" "ago"         -> days_ago
      | "between" instant "and" instant                -> between_window

recency_words: "more" "than" NUMBER "days" "ago"       -> recency_ge
             | "within" "last" NUMBER "days"           -> recency_lt

number_test: CMP NUMBER                                -> cmp
           | "between" NUMBER "and" NUMBER             -> between

?value: STRING | DATE | NUMBER | TRUE | FALSE | list
list: "[" [scalar ("," scalar)*] "]"
?scalar: STRING | DATE | NUMBER | TRUE | FALSE
?instant: DATE | STRING
name: NAME | QUOTED_NAME

AGG.2: /(sum|avg|min|max|distinct)(?![A-Za-z0-9_])/
TIMES: "times" | "time"
TRUE: "true"
FALSE: "false"
CMP: "!=" | "<=" | ">=" | "=" | "<" | ">"
DATE.2: /\d{4}-\d{2}-\d{2}(?![\w:.])/
NUMBER: /-?\d+(\.\d+)?([eE][-+]?\d+)?/
STRING: /"(?:[^"\\\n]|\\.)*"/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
QUOTED_NAME: /`(?:[^`]|``)+`/
SLUG.3: /[A-Za-z0-9_][A-Za-z0-9_-]*/
COMMENT: /#[^\n]*/

%import common.WS
%ignore WS
%ignore COMMENT
"""

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SLUG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CMP = {"=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_CMP_TEXT = {op: text for text, op in _CMP.items()}

_PARSER: Lark | None = None


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        from lark import Lark

        parser = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)
        missing = unbuilt_rules(parser)
        if missing:
            raise AssertionError(f"grammar rules without a builder: {sorted(missing)}")
        _PARSER = parser
    return _PARSER


def parse(text: str) -> RuleNode:
    """Parse the text form into a rule tree.

    >>> parse('country = "US" and did order_completed at least 3 times in last 90 days')
    ... # doctest: +ELLIPSIS
    And(and_=(Attribute(attr='country', op='eq', value='US'), EventCount(...)))
    """
    from lark.exceptions import UnexpectedInput, VisitError

    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise RuleError("", _syntax_message(text, exc)) from None
    _check_size(text, tree)
    try:
        return _Builder(text).transform(tree)  # type: ignore[no-any-return]
    except VisitError as exc:
        if isinstance(exc.orig_exc, RuleError):
            raise exc.orig_exc from None
        raise


_BOOLEAN = {"or_": "or", "and_": "and", "not_": "not", "all_": "and", "any_": "or"}


def _check_size(text: str, tree: Any) -> None:
    """The limits of rules/limits.py on the parse tree, before the builder walks it
    (recursively); the LALR parse itself keeps its own stack."""
    from lark import Tree

    from segmint.rules.limits import check_size

    def children(node: Any) -> list[tuple[str, Any]] | None:
        if not isinstance(node, Tree) or node.data not in _BOOLEAN:
            return None
        kids = [c for c in node.children if isinstance(c, Tree)]
        word = _BOOLEAN[node.data]
        if word == "not":
            return [(".not", kid) for kid in kids]
        return [(f".{word}[{i}]", kid) for i, kid in enumerate(kids)]

    where: list[tuple[int, int]] = []

    def locate(node: Any, _path: str) -> str:
        meta = node.meta if isinstance(node, Tree) else None
        line, column = getattr(meta, "line", 1), getattr(meta, "column", 1)
        if node is not tree:  # a place to point at (a count of terms is about all of it)
            where.append((line, column))
        return f"rule text, line {line}, column {column}"

    try:
        check_size(tree, children, "rule", locate)
    except RuleError as exc:
        if not where:
            raise
        raise RuleError("", f"{exc}\n{_caret(text, *where[-1])}") from None


def _syntax_message(text: str, exc: Any) -> str:
    line, column = exc.line, exc.column
    interactive = getattr(exc, "interactive_parser", None)
    # ``accepts()`` replays the parser, so it lists only what can really follow here; the
    # LALR state's own set also holds what could follow the last name anywhere.
    expected = sorted(interactive.accepts() if interactive is not None else exc.expected or [])
    got = getattr(exc, "token", None)
    what = "end of text" if got is None or got.type == "$END" else repr(str(got))
    if getattr(exc, "char", None) is not None:
        what = repr(exc.char)
    hint = f"; expected {_expected_words(expected)}" if expected else ""
    return f"rule text, line {line}, column {column}: unexpected {what}{hint}\n" + _caret(
        text, line, column
    )


def _expected_words(names: list[str]) -> str:
    words = []
    for name in names:
        if name.startswith("__ANON"):
            continue
        if name == "$END":
            name = "end of text"
        words.append(_TOKEN_WORDS.get(name, name.lower()))
    shown = words[:8]
    return ", ".join(shown) + (", ..." if len(words) > 8 else "") if shown else "more"


_TOKEN_WORDS = {
    "CMP": "a comparison (= != < <= > >=)",
    "COMMA": "','",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "NAME": "a name",
    "QUOTED_NAME": "a `quoted name`",
    "NUMBER": "a number",
    "STRING": 'a "string"',
    "DATE": "a date",
    "AGG": "sum/avg/min/max/distinct",
    "TIMES": "times",
    "end of text": "end of text",
}


def _caret(text: str, line: int, column: int) -> str:
    lines = text.splitlines() or [""]
    source = lines[min(max(line, 1), len(lines)) - 1]
    return f"  {source}\n  {' ' * max(column - 1, 0)}^"


class _Builder:
    """Builds model nodes from the parse tree; a model error points at its text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def transform(self, tree: Any) -> Any:
        from lark import Transformer, v_args

        builder = self

        @v_args(meta=True, inline=True)
        class T(Transformer):  # type: ignore[type-arg]
            def __default__(self, data: str, children: Any, meta: Any) -> Any:
                handler = _BUILDERS.get(data)
                if handler is None:
                    raise AssertionError(f"no builder for {data}")
                return builder.build(meta, handler, children)

            def __default_token__(self, token: Token) -> Any:
                return builder.token(token)

        return T().transform(tree)

    def build(self, meta: Any, handler: Builder, children: list[Any]) -> Any:
        from pydantic import ValidationError

        from segmint.rules.messages import rule_error

        try:
            return handler(*children)
        except ValidationError as exc:
            err = rule_error(exc, "")
            detail = f"{err.path}: {err.detail}" if err.path else err.detail
            raise self.error(meta, detail) from None
        except ValueError as exc:
            raise self.error(meta, str(exc)) from None

    def error(self, meta: Any, message: str) -> RuleError:
        line = getattr(meta, "line", 1)
        column = getattr(meta, "column", 1)
        return RuleError(
            "",
            f"rule text, line {line}, column {column}: {message}\n"
            + _caret(self.text, line, column),
        )

    @staticmethod
    def token(token: Token) -> Any:
        kind, text = token.type, str(token)
        if kind == "STRING":
            return json.loads(text)
        if kind == "NUMBER":
            return float(text) if re.search(r"[.eE]", text) else int(text)
        if kind in ("TRUE", "FALSE"):
            return kind == "TRUE"
        return text


# --- the text form of each node kind --------------------------------------------------

# Builds a node (or a part of one) from the children of a parse-tree rule.
Builder = Callable[..., Any]
# Prints a node; ``context`` is where it stands: "top", "and", "or" or "not".
Printer = Callable[[Any, str], str]
_P = TypeVar("_P", bound=Printer)


@dataclass(frozen=True)
class TextForm:
    """How one node kind is written: its alternatives of the grammar's ``atom`` rule (each
    named with ``-> name``; none for and/or/not, which the grammar's precedence levels
    hold), the builder of each named rule, and the printer (the inverse of the builders).
    """

    grammar: tuple[str, ...]
    builders: Mapping[str, Builder]
    printer: Printer


TEXT_FORMS: dict[type[RuleNode], TextForm] = {}


def text_form(kind: type[RuleNode], *grammar: str, **builders: Builder) -> Callable[[_P], _P]:
    """Register the decorated printer, ``grammar`` and ``builders`` as the text form of
    ``kind``."""

    def register(printer: _P) -> _P:
        TEXT_FORMS[kind] = TextForm(grammar, builders, printer)
        return printer

    return register


def _print_items(items: tuple[Any, ...], word: str, context: str) -> str:
    if len(items) < 2:
        inner = ", ".join(_print(i, "top") for i in items)
        return f"{'all' if word == 'and' else 'any'}({inner})"
    text = f" {word} ".join(_print(i, word) for i in items)
    # Any nested and/or is bracketed, so the tree's nesting survives a round trip.
    return text if context == "top" else f"({text})"


@text_form(
    And,
    and_=lambda *items: And.model_validate({"and": items}),
    all_=lambda *items: And.model_validate({"and": [i for i in items if i is not None]}),
)
def _print_and(rule: And, context: str) -> str:
    return _print_items(rule.and_, "and", context)


@text_form(
    Or,
    or_=lambda *items: Or.model_validate({"or": items}),
    any_=lambda *items: Or.model_validate({"or": [i for i in items if i is not None]}),
)
def _print_or(rule: Or, context: str) -> str:
    return _print_items(rule.or_, "or", context)


@text_form(Not, not_=lambda item: Not.model_validate({"not": item}))
def _print_not(rule: Not, context: str) -> str:
    return f"not {_print(rule.not_, 'not')}"


def _build_attribute(name: str, comparison: tuple[str, Any]) -> RuleNode:
    op, value = comparison
    return Attribute.model_validate({"attr": name, "op": op, "value": value})


@text_form(Attribute, "name comparison -> attribute", attribute=_build_attribute)
def _print_attribute(rule: Attribute, context: str) -> str:
    return f"{name_text(rule.attr)} {_comparison(rule.op, rule.value)}"


def _build_event_count(name: str, where: Any, count: Count | None, window: Any) -> RuleNode:
    return EventCount(event=name, where=where or (), count=count or Count(), window=window)


@text_form(
    EventCount,
    '"did" name [where] [count] [window] -> event_count',
    event_count=_build_event_count,
)
def _print_event_count(rule: EventCount, context: str) -> str:
    parts = ["did", name_text(rule.event), _where(rule.where)]
    if rule.count != Count():
        parts.append(_count(rule.count))
    parts.append(_window(rule.window))
    return " ".join(p for p in parts if p)


def _build_aggregate(
    function: str, prop: str, event: str, where: Any, window: Any, test: Any
) -> RuleNode:
    op, value = test
    measure = {"prop": prop, "op": op, "value": value}
    return EventAggregate.model_validate(
        {"event": event, "where": where or (), "window": window, function: measure}
    )


@text_form(
    EventAggregate,
    'AGG "(" name ")" "of" name [where] [window] number_test -> aggregate',
    aggregate=_build_aggregate,
)
def _print_aggregate(rule: EventAggregate, context: str) -> str:
    m = rule.measure
    parts = [f"{rule.function}({name_text(m.prop)}) of {name_text(rule.event)}"]
    parts += [_where(rule.where), _window(rule.window), _number_test(m.op, m.value)]
    return " ".join(p for p in parts if p)


def _recency(side: str, name: str, where: Any, op: str, days: int) -> RuleNode:
    return EventRecency.model_validate(
        {"event": name, "where": where or (), side: {"op": op, "days": days}}
    )


@text_form(
    EventRecency,
    '"last" name [where] recency_words -> last_seen',
    '"first" name [where] recency_words -> first_seen',
    '"days" "since" "last" name [where] CMP NUMBER -> days_since_last',
    '"days" "since" "first" name [where] CMP NUMBER -> days_since_first',
    last_seen=lambda name, where, test: _recency("last_seen", name, where, *test),
    first_seen=lambda name, where, test: _recency("first_seen", name, where, *test),
    days_since_last=lambda name, where, op, days: _recency(
        "last_seen", name, where, _CMP[op], _whole(days)
    ),
    days_since_first=lambda name, where, op, days: _recency(
        "first_seen", name, where, _CMP[op], _whole(days)
    ),
)
def _print_recency(rule: EventRecency, context: str) -> str:
    side = "last" if rule.side == "last_seen" else "first"
    head = " ".join(p for p in (name_text(rule.event), _where(rule.where)) if p)
    r = rule.recency
    if r.op == "ge":
        return f"{side} {head} more than {r.days} days ago"
    if r.op == "lt":
        return f"{side} {head} within last {r.days} days"
    return f"days since {side} {head} {_CMP_TEXT[r.op]} {r.days}"


def _build_trend(name: str, days: Any, test: tuple[str, Any]) -> RuleNode:
    op, value = test
    return Trend.model_validate(
        {"trend": name, "days": _whole(days), "change": {"op": op, "value": value}}
    )


@text_form(Trend, '"trend" "of" name "over" NUMBER "days" number_test -> trend', trend=_build_trend)
def _print_trend(rule: Trend, context: str) -> str:
    test = _number_test(rule.change.op, rule.change.value)
    return f"trend of {name_text(rule.trend)} over {rule.days} days {test}"


@text_form(
    SegmentRef,
    '"in" "segment" (name | SLUG) -> segment',
    # ``name`` arrives unquoted: from the ``name`` rule, or a SLUG (never backticked).
    segment=lambda name: SegmentRef(segment=name),
)
def _print_segment(rule: SegmentRef, context: str) -> str:
    slug = _SLUG.fullmatch(rule.segment) and rule.segment not in KEYWORDS
    return f"in segment {rule.segment if slug else name_text(rule.segment)}"


# --- the parts conditions are made of --------------------------------------------------


def _name(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1].replace("``", "`")
    return token


def _list(*items: Any) -> tuple[Any, ...]:
    return tuple(i for i in items if i is not None) if items != (None,) else ()


def _prop(name: str, comparison: tuple[str, Any]) -> PropertyCondition:
    op, value = comparison
    return PropertyCondition.model_validate({"prop": name, "op": op, "value": value})


def _count_of(op: str) -> Builder:
    return lambda value, _times: Count.model_validate({"op": op, "value": _whole(value)})


def _op(op: str) -> Builder:
    """The builder of a comparison that takes one value (or none)."""
    return lambda *value: (op, value[0] if value else None)


def _days_op(op: str) -> Builder:
    return lambda days: (op, _whole(days))


_PART_BUILDERS: dict[str, Builder] = {
    "name": _name,
    "list": _list,
    "prop": _prop,
    "where": lambda *props: props,
    "cmp": lambda op, value: (_CMP[op], value),
    "between": lambda low, high: ("between", (low, high)),
    "in_": _op("in"),
    "not_in": _op("not_in"),
    "contains": _op("contains"),
    "not_contains": _op("not_contains"),
    "starts_with": _op("starts_with"),
    "ends_with": _op("ends_with"),
    "is_set": _op("is_set"),
    "is_not_set": _op("is_not_set"),
    "within_last_days": _days_op("within_last_days"),
    "more_than_days_ago": _days_op("more_than_days_ago"),
    "before": _op("before"),
    "after": _op("after"),
    "recency_ge": _days_op("ge"),
    "recency_lt": _days_op("lt"),
    **{f"count_{op}": _count_of(op) for op in ("ge", "le", "eq", "ne", "gt", "lt")},
    "count_between": lambda low, high, _times: Count(
        op="between", value=(_whole(low), _whole(high))
    ),
    "last_days": lambda days: LastDays(last_days=_whole(days)),
    "days_ago": lambda start, end: DaysAgo(days_ago=(_whole(start), _whole(end))),
    "between_window": lambda start, end: Between(between=(start, end)),
}


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


# --- the grammar and builders, from the text forms ------------------------------------

GRAMMAR = (
    _GRAMMAR_TOP.rstrip("\n")
    + "".join(f"\n     | {alt}" for form in TEXT_FORMS.values() for alt in form.grammar)
    + "\n"
    + _GRAMMAR_PARTS
)
_BUILDERS: dict[str, Builder] = {
    **_PART_BUILDERS,
    **{name: build for form in TEXT_FORMS.values() for name, build in form.builders.items()},
}
KEYWORDS = frozenset(re.findall(r'"([a-z]+)"', GRAMMAR)) | {
    "sum",
    "avg",
    "min",
    "max",
    "distinct",
    "times",
    "time",
    "true",
    "false",
}


def unbuilt_rules(parser: Lark) -> set[str]:
    """Rules of the grammar that make a tree node but have no builder (none: checked when
    the parser is built; a node kind's grammar and builders are registered together)."""
    made = {
        str(rule.alias or rule.origin.name)
        for rule in parser.rules
        if not (rule.options.expand1 and not rule.alias)
    }
    return {name for name in made if not name.startswith("_")} - set(_BUILDERS)


# --- printing -------------------------------------------------------------------------


def to_text(rule: RuleNode) -> str:
    """The canonical text of a rule tree.

    >>> to_text(parse('not did app_open in last 90 days'))
    'not did app_open in last 90 days'
    """
    return _print(rule, "top")


def _print(rule: Any, context: str) -> str:
    form = TEXT_FORMS.get(type(rule))
    if form is None:
        raise TypeError(f"cannot print {type(rule).__name__}")
    return form.printer(rule, context)


def name_text(name: str) -> str:
    """A name as written in rule text: bare if it is a plain identifier, else in backticks."""
    if _PLAIN_NAME.fullmatch(name) and name not in KEYWORDS:
        return name
    return "`" + name.replace("`", "``") + "`"


def _value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _instant(value: str) -> str:
    return value if _DATE_ONLY.fullmatch(value) else json.dumps(value, ensure_ascii=False)


def _comparison(op: str, value: Any) -> str:
    if op in _CMP_TEXT:
        return f"{_CMP_TEXT[op]} {_value(value)}"
    if op == "between":
        return f"between {_value(value[0])} and {_value(value[1])}"
    if op in ("before", "after"):
        return f"{op} {_instant(value)}"
    words = {
        "in": "in",
        "not_in": "not in",
        "contains": "contains",
        "not_contains": "not contains",
        "starts_with": "starts with",
        "ends_with": "ends with",
    }
    if op in words:
        return f"{words[op]} {_value(value)}"
    if op == "within_last_days":
        return f"within last {value} days"
    if op == "more_than_days_ago":
        return f"more than {value} days ago"
    return "is set" if op == "is_set" else "is not set"


def _number_test(op: str, value: Any) -> str:
    if op == "between":
        return f"between {_value(value[0])} and {_value(value[1])}"
    return f"{_CMP_TEXT[op]} {_value(value)}"


def _where(where: tuple[PropertyCondition, ...]) -> str:
    conds = [f"{name_text(p.prop)} {_comparison(p.op, p.value)}" for p in where]
    if not conds:
        return ""
    return f"where {conds[0]}" if len(conds) == 1 else f"where ({' and '.join(conds)})"


def _count(count: Count) -> str:
    if isinstance(count.value, tuple):
        low, high = count.value
        return f"between {low} and {high} times"
    words = {
        "ge": "at least",
        "le": "at most",
        "eq": "exactly",
        "ne": "not exactly",
        "gt": "more than",
        "lt": "less than",
    }[count.op]
    return f"{words} {count.value} {'time' if count.value == 1 else 'times'}"


def _window(window: Any) -> str:
    if window is None:
        return ""
    if isinstance(window, LastDays):
        return f"in last {window.last_days} days"
    if isinstance(window, DaysAgo):
        return f"from {window.days_ago[0]} to {window.days_ago[1]} days ago"
    start, end = window.between
    return f"between {_instant(start)} and {_instant(end)}"
