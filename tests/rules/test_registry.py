"""The registry of rule node kinds: everything that lists node kinds derives from it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from segmint.rules.compile import EVENT_TESTS, MEASURES, inline_segments
from segmint.rules.limits import data_children
from segmint.rules.model import (
    NODE_TYPES,
    TAG_KEYS,
    And,
    Attribute,
    EventAggregate,
    EventCount,
    EventRecency,
    Not,
    Or,
    Rule,
    RuleNode,
    SegmentRef,
    Trend,
    kind_of,
)
from segmint.rules.text import TEXT_FORMS, _parser, parse, to_text, unbuilt_rules
from segmint.rules.validate import referenced_segments
from tests.rules.catalogs import shop_catalog

TREE = parse(
    '(country = "US" or not in segment vip) and did order_completed in last 30 days '
    "and not (trend of app_open over 7 days < 0 and in segment new)"
)


def test_node_kinds_are_registered_in_definition_order() -> None:
    # The order decides which key wins when a dict has several (and before attr, ...);
    # a new kind may come anywhere without changing it for these.
    known = [And, Or, Not, Attribute, EventCount, EventAggregate, EventRecency, Trend, SegmentRef]
    assert [kind for kind in NODE_TYPES if kind in known] == known
    keys = ["and", "or", "not", "attr", "event", "trend", "segment"]
    assert [key for key in TAG_KEYS if key in keys] == keys


def test_every_kind_has_a_text_form_and_every_grammar_rule_a_builder() -> None:
    assert set(TEXT_FORMS) == set(NODE_TYPES)
    assert unbuilt_rules(_parser()) == set()


def test_every_event_measure_has_a_test() -> None:
    assert set(MEASURES) == set(EVENT_TESTS)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"and": []}, And),
        ({"attr": "x", "and": []}, And),  # the first key wins, as the error says
        ({"not": {}, "event": "x"}, Not),
        ({"event": "x", "trend": "y"}, Trend),
        ({"event": "x", "max": {}}, EventAggregate),
        ({"event": "x", "first_seen": {}}, EventRecency),
        ({"event": "x", "sum": {}, "last_seen": {}}, EventAggregate),
        ({"event": "x"}, EventCount),
        ({"where": []}, None),
        (["and"], None),
    ],
)
def test_the_keys_of_a_dict_pick_its_kind(data: Any, kind: type[RuleNode] | None) -> None:
    assert kind_of(data) is kind


def test_a_dict_without_a_kind_lists_the_keys() -> None:
    with pytest.raises(ValidationError, match="needs one of the keys and, or, not, attr, event"):
        TypeAdapter(Rule).validate_python({"evnt": "x"})


def test_walk_yields_parents_first_left_to_right() -> None:
    names = [type(node).__name__ for node in TREE.walk()]
    assert names == [
        "And",
        "Or",
        "Attribute",
        "Not",
        "SegmentRef",
        "EventCount",
        "Not",
        "And",
        "Trend",
        "SegmentRef",
    ]
    assert list(referenced_segments(TREE)) == ["vip", "new"]


def test_children_carry_their_path() -> None:
    keys = [key for key, _ in TREE.children()]
    assert keys == [".and[0]", ".and[1]", ".and[2]"]
    assert [key for key, _ in TREE.and_[2].children()] == [".not"]


def test_transform_rebuilds_bottom_up_and_keeps_what_it_does_not_change() -> None:
    assert TREE.transform(lambda node: node) == TREE

    def swap(node: RuleNode) -> RuleNode:
        return Or(or_=node.and_) if isinstance(node, And) else node

    swapped = TREE.transform(swap)
    assert isinstance(swapped, Or)
    assert isinstance(swapped.or_[2], Not) and isinstance(swapped.or_[2].not_, Or)
    assert to_text(TREE.and_[1]) == to_text(swapped.or_[1])


def test_inlining_replaces_references_except_those_kept() -> None:
    catalog = shop_catalog({"vip": 'country = "DE"', "new": "did app_open in last 7 days"})
    inlined = inline_segments(TREE, catalog, frozenset({"new"}))
    assert list(referenced_segments(inlined)) == ["new"]
    assert 'not country = "DE"' in to_text(inlined)


@pytest.mark.parametrize(
    ("data", "keys"),
    [
        ({"and": [{"attr": "a"}, {"attr": "b"}]}, [".and[0]", ".and[1]"]),
        ({"or": [], "and": [{}]}, [".and[0]"]),
        ({"not": 5}, [".not"]),
        ({"and": 5}, None),
        ({"and": []}, None),
        ({"event": "x", "and": [1]}, [".and[0]"]),
        ({"attr": "x"}, None),
    ],
)
def test_json_children_follow_the_discriminator(data: Any, keys: list[str] | None) -> None:
    found = data_children(data)
    assert (None if found is None else [key for key, _ in found]) == keys
