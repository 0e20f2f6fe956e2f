"""Every validation error of the rule format, with the message a user sees."""

from __future__ import annotations

from typing import Any

import pytest

from segmint.errors import RuleError
from segmint.rules.coerce import as_rule
from segmint.rules.validate import validate
from tests.rules.catalogs import shop_catalog

US = {"attr": "country", "op": "eq", "value": "US"}


def check(rule: Any, segments: dict[str, str] | None = None, name: str | None = None) -> None:
    validate(as_rule(rule), shop_catalog(segments), name=name)


# (rule, exact message): shape errors come from the model, name and type errors from the
# catalog check; both name the node path.
CASES: list[tuple[Any, str]] = [
    (
        {"and": [US, US, {"event": "app_open", "window": {"last_days": 0}}]},
        "rule.and[2].window.last_days: must be >= 1, got 0",
    ),
    (
        {"event": "app_open", "window": {"last_days": -5}},
        "rule.window.last_days: must be >= 1, got -5",
    ),
    (
        {"event": "app_open", "window": {"days_ago": [30, 60]}},
        "rule.window.days_ago: days_ago [A, B] needs A > B, got [30, 60]",
    ),
    (
        {"event": "app_open", "window": {"days_ago": [30, 30]}},
        "rule.window.days_ago: days_ago [A, B] needs A > B, got [30, 30]",
    ),
    (
        {"event": "app_open", "window": {"between": ["2026-02-01", "2026-01-01"]}},
        "rule.window.between: between [START, END] needs END after START, "
        "got ['2026-02-01', '2026-01-01']",
    ),
    (
        {"event": "app_open", "window": {"between": ["2026-01-01", "2026-01-01"]}},
        "rule.window.between: between [START, END] needs END after START, "
        "got ['2026-01-01', '2026-01-01']",
    ),
    (
        {"event": "app_open", "window": {"since": 3}},
        "rule.window: a window is one of {last_days: N}, {days_ago: [A, B]}, "
        "{between: [START, END]}, got {'since': 3}",
    ),
    (
        {"attr": "contry", "op": "eq", "value": "US"},
        "rule.attr: unknown attribute 'contry'; did you mean 'country'?",
    ),
    (
        {"not": {"attr": "country", "op": "eqq", "value": "US"}},
        "rule.not.op: expected one of 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'between', 'in', "
        "'not_in', 'contains', 'not_contains', 'starts_with', 'ends_with', 'is_set', "
        "'is_not_set', 'within_last_days', 'more_than_days_ago', 'before' or 'after', "
        "got 'eqq'; did you mean 'eq'?",
    ),
    (
        {"attr": "loyalty_points", "op": "contains", "value": "x"},
        "rule.op: contains does not apply to integer attribute 'loyalty_points'; use one of "
        "between, eq, ge, gt, in, is_not_set, is_set, le, lt, ne, not_in",
    ),
    (
        {"attr": "interests", "op": "eq", "value": "boxing"},
        "rule.op: eq does not apply to list attribute 'interests'; use one of contains, "
        "is_not_set, is_set, not_contains",
    ),
    (
        {"attr": "loyalty_points", "op": "gt", "value": "100"},
        "rule.value: expected a number for integer attribute 'loyalty_points', got '100'",
    ),
    (
        {"attr": "vip", "op": "eq", "value": 1},
        "rule.value: expected true or false for bool attribute 'vip', got 1",
    ),
    (
        {"attr": "country", "op": "in", "value": ["US", 3]},
        "rule.value: expected a string for string attribute 'country', got 3",
    ),
    (
        {"attr": "birth_date", "op": "before", "value": "2026-01-01T00:00:00Z"},
        "rule.value: expected an ISO date (2026-01-31) for date attribute 'birth_date', "
        "got '2026-01-01T00:00:00Z'",
    ),
    (
        {"attr": "created_at", "op": "before", "value": "yesterday"},
        "rule.value: expected an ISO date like 2026-01-31, got 'yesterday'",
    ),
    (
        {"attr": "last_login_at", "op": "after", "value": "2026-01-01T10:00:00"},
        "rule.value: expected a timestamp with an offset (e.g. Z), got '2026-01-01T10:00:00'",
    ),
    (
        {"attr": "loyalty_points", "op": "between", "value": [10, 1]},
        "rule.value: between needs low <= high, got [10, 1]",
    ),
    (
        {"attr": "country", "op": "is_set", "value": "US"},
        "rule.value: is_set takes no value, got 'US'",
    ),
    ({"attr": "country", "op": "eq"}, "rule.value: eq needs a value"),
    (
        {"attr": "created_at", "op": "within_last_days", "value": 0},
        "rule.value: within_last_days needs a whole number of days >= 1, got 0",
    ),
    (
        {"event": "order_complete"},
        "rule.event: unknown event 'order_complete'; did you mean 'order_completed'?",
    ),
    (
        {"event": "order_completed", "where": [{"prop": "categry", "op": "eq", "value": "x"}]},
        "rule.where[0].prop: unknown property 'categry'; did you mean 'category'? "
        "('order_completed' has: category, items, revenue, tags)",
    ),
    (
        {"event": "app_open", "where": [{"prop": "price", "op": "gt", "value": 1}]},
        "rule.where[0].prop: unknown property 'price' on event 'app_open' "
        "('app_open' has: revenue)",
    ),
    (
        {"event": "order_completed", "where": [{"prop": "items", "op": "gt", "value": "3"}]},
        "rule.where[0].value: expected a number for integer property 'items', got '3'",
    ),
    (
        {"event": "order_completed", "sum": {"prop": "category", "op": "gt", "value": 3}},
        "rule.sum.prop: sum needs a property of type float or integer; 'category' is string",
    ),
    (
        {"event": "order_completed", "count": {"op": "ge", "value": -1}},
        "rule.count.value: a count is never negative, got -1",
    ),
    (
        {
            "event": "order_completed",
            "sum": {"prop": "revenue", "op": "gt", "value": 1},
            "max": {"prop": "revenue", "op": "gt", "value": 1},
        },
        "rule: an aggregate needs exactly one of sum, avg, min, max, distinct",
    ),
    (
        {"event": "order_completed", "last_seen": {"op": "ge", "days": -1}},
        "rule.last_seen.days: must be >= 0, got -1",
    ),
    (
        {"event": "order_completed", "windw": {"last_days": 3}},
        "rule.windw: unknown key 'windw'; did you mean 'window'?",
    ),
    (
        {"trend": "order_completed", "days": 0, "change": {"op": "lt", "value": 0}},
        "rule.days: must be >= 1, got 0",
    ),
    (
        {"segment": "vipp"},
        "rule.segment: unknown segment 'vipp'; did you mean 'vip'?",
    ),
    (
        {"color": "red"},
        "rule: a rule node needs one of the keys and, or, not, attr, event, "
        "trend, segment, got {'color': 'red'}",
    ),
    ({"and": {"attr": "x"}}, "rule.and: expected a list, got {'attr': 'x'}"),
    # Computed traits are attributes: typed, and those with fixed values check them.
    (
        {"attr": "rfm_segment", "op": "eq", "value": "Champion"},
        "rule.value: rfm_segment is never 'Champion'; did you mean 'Champions'?",
    ),
    (
        {"attr": "lifecycle_stage", "op": "in", "value": ["loyal", "gone"]},
        "rule.value[1]: lifecycle_stage is never 'gone' (one of: subscriber, "
        "first_time_buyer, repeat_buyer, loyal, at_risk, lapsed, churned)",
    ),
    (
        {"attr": "p_alive", "op": "contains", "value": "x"},
        "rule.op: contains does not apply to float attribute 'p_alive'; use one of between, "
        "eq, ge, gt, in, is_not_set, is_set, le, lt, ne, not_in",
    ),
    (
        {"attr": "loyalty_points", "op": "gt", "value": 99999999999999999999},
        "rule.value: a whole number must fit in 64 bits (write 1e20 for a larger one), "
        "got 99999999999999999999",
    ),
    (
        {"event": "order_completed", "sum": {"prop": "revenue", "op": "gt", "value": 2**64}},
        "rule.sum.value: a whole number must fit in 64 bits (write 1e20 for a larger one), "
        "got 18446744073709551616",
    ),
    (
        {"event": "order_completed", "window": {"last_days": 100_001}},
        "rule.window.last_days: must be <= 100000, got 100001",
    ),
    (
        {"attr": "r_scor", "op": "eq", "value": 5},
        "rule.attr: unknown attribute 'r_scor'; did you mean 'r_score'?",
    ),
]


@pytest.mark.parametrize(
    ("rule", "message"), CASES, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(CASES)]
)
def test_validation_error(rule: Any, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        check(rule, segments={"vip": "loyalty_points > 1000"})
    assert str(caught.value) == message


def test_segment_reference_cycle_names_the_loop() -> None:
    segments = {"a": "in segment b", "b": 'country = "US" and in segment a'}
    with pytest.raises(RuleError) as caught:
        check({"segment": "a"}, segments)
    assert str(caught.value) == (
        "segment 'b': rule.and[1].segment: segment reference cycle: a -> b -> a"
    )
    with pytest.raises(RuleError, match=r"rule.segment: segment reference cycle: c -> c"):
        check({"segment": "c"}, {"c": 'country = "US"'}, name="c")


def test_text_errors_point_at_line_and_column() -> None:
    with pytest.raises(RuleError) as caught:
        as_rule('country = "US"\nand did app_open sometimes')
    assert str(caught.value) == (
        "rule text, line 2, column 18: unexpected 'sometimes'; expected end of text, and, at, "
        "between, exactly, from, in, less, ...\n"
        "  and did app_open sometimes\n"
        "                   ^"
    )
    with pytest.raises(RuleError) as caught:
        as_rule("did app_open in last 0 days")
    assert str(caught.value) == (
        "rule text, line 1, column 14: last_days: must be >= 1, got 0\n"
        "  did app_open in last 0 days\n"
        "               ^"
    )


def test_valid_rules_pass() -> None:
    for text in (
        'device_os = "ios" and interests contains "boxing" and not did app_open in last 90 days',
        'did order_completed where category in ["shoes", "hats"] at least 3 times in last 90 days',
        "sum(revenue) of order_completed in last 365 days > 500",
        "last order_completed more than 60 days ago",
        "in segment vip",
        '`Plan Name` starts with "pro" and birth_date before 2000-01-01',
        "trend of order_completed over 60 days <= -0.5",
        "distinct(category) of product_view between 2026-01-01 and 2026-02-01 >= 2",
    ):
        check(text, segments={"vip": "loyalty_points > 1000"})
