"""Hostile rules and segment files: each is one clear RuleError, quickly, never a crash.

Rules nested past the depth limit or with more terms than the limit (in the text form, the
JSON form and as Python trees), strings no database can hold, instants outside the
supported range, and segment files built to exhaust memory or the stack.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from segmint.engine.dialects import DIALECTS
from segmint.engine.render import render_sql
from segmint.errors import ArgumentError, RuleError
from segmint.rules.coerce import as_rule
from segmint.rules.compile import compile_rule
from segmint.rules.limits import MAX_DEPTH, MAX_TERMS
from segmint.rules.model import And, Attribute, Not
from segmint.rules.text import parse, to_text
from segmint.rules.validate import validate
from segmint.segments.query import parse_as_of
from segmint.segments.registry import MAX_FILE_BYTES, read_file, read_rule_file
from tests.rules.catalogs import shop_catalog

US = {"attr": "country", "op": "eq", "value": "US"}
OPENED = "did app_open in last 30 days"
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def check(rule: Any, segments: dict[str, str] | None = None) -> None:
    validate(as_rule(rule), shop_catalog(segments))


def nots_json(depth: int) -> dict[str, Any]:
    rule: dict[str, Any] = US
    for _ in range(depth):
        rule = {"not": rule}
    return rule


def alternating_json(depth: int) -> dict[str, Any]:
    """and/or alternating ``depth`` levels deep, a condition beside each level."""
    rule: dict[str, Any] = US
    for i in range(depth):
        rule = {
            ("and" if i % 2 else "or"): [rule, {"attr": "loyalty_points", "op": "gt", "value": i}]
        }
    return rule


def flat_json(terms: int, word: str = "or") -> dict[str, Any]:
    return {word: [{"attr": "loyalty_points", "op": "eq", "value": i} for i in range(terms)]}


def flat_text(terms: int, word: str = "or") -> str:
    return f" {word} ".join(f"loyalty_points = {i}" for i in range(terms))


# --- nesting depth ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        nots_json(MAX_DEPTH),
        alternating_json(MAX_DEPTH),
        "not " * MAX_DEPTH + OPENED,
        to_text(as_rule(alternating_json(MAX_DEPTH))),
        "(" * 1000 + OPENED + ")" * 1000,  # brackets alone do not nest the tree
    ],
    ids=["json-not", "json-and-or", "text-not", "text-and-or", "text-brackets"],
)
def test_a_rule_at_the_depth_limit_validates_and_compiles_for_every_dialect(rule: Any) -> None:
    tree = as_rule(rule)
    validate(tree, shop_catalog())
    for dialect in DIALECTS:
        assert "SELECT" in render_sql(compile_rule(tree, shop_catalog(), AS_OF, dialect), dialect)


def test_a_json_rule_one_level_too_deep_names_the_node() -> None:
    with pytest.raises(RuleError) as err:
        check(nots_json(MAX_DEPTH + 1))
    assert err.value.path == "rule" + ".not" * (MAX_DEPTH + 1)
    assert err.value.detail.startswith("nested deeper than 32 levels of and/or/not/in segment")


def test_a_text_rule_one_level_too_deep_gives_line_and_column() -> None:
    with pytest.raises(RuleError) as err:
        parse("not " * (MAX_DEPTH + 1) + OPENED)
    assert str(err.value).startswith(
        "rule text, line 1, column 133: nested deeper than 32 levels of and/or/not/in segment"
    )


@pytest.mark.parametrize(
    "rule",
    [
        nots_json(100_000),
        alternating_json(5_000),
        "not " * 100_000 + OPENED,
        "all(" * 5_000 + OPENED + ")" * 5_000,
    ],
    ids=["json-not", "json-and-or", "text-not", "text-all"],
)
def test_a_rule_nested_thousands_deep_is_a_rule_error_not_a_crash(rule: Any) -> None:
    started = time.perf_counter()
    with pytest.raises(RuleError, match="nested deeper than 32 levels"):
        check(rule)
    assert time.perf_counter() - started < 10


def test_a_python_tree_too_deep_is_refused_before_validation_recurses() -> None:
    tree: Any = Attribute(attr="country", op="eq", value="US")
    for _ in range(5_000):
        tree = Not.model_validate({"not": tree})
    with pytest.raises(RuleError, match="nested deeper than 32 levels"):
        validate(tree, shop_catalog())


def test_saved_segments_count_toward_the_depth_of_the_rules_that_use_them() -> None:
    inner = to_text(as_rule(nots_json(20)))
    segments = {"deep": inner}
    check({"and": [{"segment": "deep"}]}, segments)  # 1 + 1 + 20 levels
    with pytest.raises(RuleError) as err:
        check(_wrap_not({"segment": "deep"}, 12), segments)  # 12 + 1 + 20 levels
    assert " -> segment 'deep': rule.not.not" in err.value.path
    assert err.value.detail.startswith("nested deeper than 32 levels")


def _wrap_not(rule: dict[str, Any], depth: int) -> dict[str, Any]:
    for _ in range(depth):
        rule = {"not": rule}
    return rule


def test_a_long_chain_of_segment_references_is_refused() -> None:
    chain = {f"s{i}": f"in segment s{i + 1}" for i in range(60)} | {"s60": OPENED}
    check({"segment": "s30"}, chain)  # 30 references: within the limit
    with pytest.raises(RuleError, match="nested deeper than 32 levels"):
        check({"segment": "s0"}, chain)


# --- number of terms ----------------------------------------------------------------------


@pytest.mark.parametrize("word", ["or", "and"])
def test_a_rule_at_the_term_limit_validates_in_both_forms(word: str) -> None:
    check(flat_json(MAX_TERMS, word))
    tree = parse(flat_text(MAX_TERMS, word))
    validate(tree, shop_catalog())
    assert len(tree.or_ if word == "or" else tree.and_) == MAX_TERMS  # type: ignore[union-attr]


@pytest.mark.parametrize("terms", [MAX_TERMS + 1, 10_000])
@pytest.mark.parametrize("word", ["or", "and"])
def test_a_rule_over_the_term_limit_is_a_rule_error_in_both_forms(word: str, terms: int) -> None:
    message = "more than 500 conditions; split the rule"
    with pytest.raises(RuleError) as err:
        check(flat_json(terms, word))
    assert str(err.value).startswith(f"rule: {message}")
    with pytest.raises(RuleError) as err:
        parse(flat_text(terms, word))
    assert str(err.value).startswith(f"rule text, line 1, column 1: {message}")


def test_terms_are_counted_across_nesting_and_segment_references() -> None:
    half = {"half": flat_text(300)}
    check({"or": [{"segment": "half"}, *flat_json(200)["or"]]}, half)
    with pytest.raises(RuleError, match="more than 500 conditions"):
        check({"and": [{"segment": "half"}, {"not": {"segment": "half"}}]}, half)


def test_an_exponential_tree_of_references_stops_at_the_term_limit() -> None:
    # Each segment uses the next twice: 2^15 leaves once inlined, 30 levels deep.
    doubling = {f"d{i}": f"in segment d{i + 1} or in segment d{i + 1}" for i in range(15)}
    started = time.perf_counter()
    with pytest.raises(RuleError, match="more than 500 conditions"):
        check({"segment": "d0"}, doubling | {"d15": "all()"})
    assert time.perf_counter() - started < 5


# --- strings no database can hold ------------------------------------------------------------


BAD_STRINGS = [("a\x00b", "a NUL character"), ("x\ud800", "a lone surrogate")]


@pytest.mark.parametrize(("text", "problem"), BAD_STRINGS, ids=["nul", "surrogate"])
@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda s: {"and": [US, {"attr": "country", "op": "eq", "value": s}]}, "rule.and[1].value"),
        (lambda s: {"attr": "country", "op": "in", "value": ["US", s]}, "rule.value"),
        (lambda s: {"attr": s, "op": "is_set"}, "rule.attr"),
        (lambda s: {"or": [{"event": s}]}, "rule.or[0].event"),
        (
            lambda s: {"event": "order_completed", "where": [{"prop": s, "op": "is_set"}]},
            "rule.where[0].prop",
        ),
        (
            lambda s: {
                "event": "order_completed",
                "where": [{"prop": "category", "op": "starts_with", "value": s}],
            },
            "rule.where[0].value",
        ),
        (lambda s: {"not": {"segment": s}}, "rule.not.segment"),
        (lambda s: {"trend": s, "days": 7, "change": {"op": "gt", "value": 0}}, "rule.trend"),
    ],
    ids=["value", "list", "attr", "event", "prop", "prop-value", "segment", "trend"],
)
def test_a_nul_or_lone_surrogate_anywhere_in_a_rule_is_refused_with_its_path(
    build: Any, path: str, text: str, problem: str
) -> None:
    with pytest.raises(RuleError) as err:
        check(build(text))
    assert err.value.path == path
    assert f"contains {problem} " in err.value.detail


def test_the_item_of_a_list_holding_a_bad_string_is_named() -> None:
    with pytest.raises(RuleError) as err:
        check({"attr": "country", "op": "not_in", "value": ["US", "GB", "\x00"]})
    assert str(err.value) == (
        "rule.value: item 2 contains a NUL character (\\u0000) at position 0: '\\x00'"
    )


@pytest.mark.parametrize(
    "text", ['country = "a\\u0000b"', 'country in ["US", "\\ud800"]', "did `app\x00open`"]
)
def test_the_text_form_refuses_them_too(text: str) -> None:
    with pytest.raises(RuleError, match=r"contains a (NUL character|lone surrogate)"):
        parse(text)


# --- instants out of range ------------------------------------------------------------------


@pytest.mark.parametrize(
    "as_of",
    [
        "0001-01-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
        "1900-01-01T00:30:00+01:00",  # 1899 in UTC
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: overflows Python's datetime
        datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_an_as_of_before_1900_is_an_argument_error(as_of: Any) -> None:
    with pytest.raises(ArgumentError) as err:
        parse_as_of(as_of)
    assert err.value.location == "as_of"
    assert str(err.value).startswith("as_of: must be between 1900-01-01 and 9999-12-31 (UTC), got ")


@pytest.mark.parametrize("as_of", ["1900-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"])
def test_the_longest_windows_compile_at_both_ends_of_the_range(as_of: str) -> None:
    # A trend looks back twice its days, recency one day more: the arithmetic the range
    # was chosen for.
    rule = (
        "trend of app_open over 100000 days > 0 and last app_open more than 100000 days ago "
        "and did app_open from 100000 to 99999 days ago and last_login_at within last 100000 days"
    )
    tree = parse(rule)
    validate(tree, shop_catalog())
    for dialect in DIALECTS:
        expr = compile_rule(tree, shop_catalog(), parse_as_of(as_of), dialect)
        assert "SELECT" in render_sql(expr, dialect)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("did app_open between 0001-01-01 and 2020-01-01", "rule text"),
        ({"attr": "last_login_at", "op": "before", "value": "1899-12-31"}, "rule.value"),
        ({"attr": "last_login_at", "op": "gt", "value": "0001-01-01T00:00:00+01:00"}, "rule.value"),
        ({"attr": "birth_date", "op": "lt", "value": "1850-01-01"}, "rule.value"),
    ],
    ids=["window", "before", "offset", "date"],
)
def test_dates_in_rules_before_1900_are_rule_errors(rule: Any, path: str) -> None:
    with pytest.raises(RuleError) as err:
        check(rule)
    assert str(err.value).startswith(path)
    assert "between 1900-01-01 and 9999-12-31 (UTC)" in str(err.value)


# --- segment files ----------------------------------------------------------------------------


def billion_laughs() -> str:
    """536 bytes of YAML whose aliases expand to 10^9 strings."""
    lines = ["name: lol", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines.append('rule: {"attr": "customer_id", "op": "in", "value": *a8}')
    return "\n".join(lines) + "\n"


FILES = {
    "lol.yaml": (
        billion_laughs(),
        "invalid YAML at line 2: anchors (&name) and aliases (*name) are not allowed",
    ),
    "anchor.yaml": (
        "name: anchor\nrule: &r {attr: country, op: is_set}\n",
        "invalid YAML at line 2: anchors (&name) and aliases (*name) are not allowed",
    ),
    "deep.yaml": ("name: deep\nrule: " + "[" * 50_000 + "]" * 50_000, "nested deeper than 100"),
    "block.yaml": (
        "name: block\nrule:\n" + "".join("  " * i + "- \n" for i in range(1, 300)),
        "invalid YAML at line 102: nested deeper than 100 levels",
    ),
    "deep.json": ('{"name": "deep", "rule": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested"),
    "fair.json": ('{"name": "fair", "rule": ' + "[" * 500 + "]" * 500 + "}", "nested deeper"),
    "big.yaml": (
        "name: big\nrule: did app_open\n#" + "x" * MAX_FILE_BYTES,
        "larger than 1,000,000",
    ),
    "digits.yaml": (
        "name: digits\nrule: {attr: loyalty_points, op: eq, value: " + "9" * 5000 + "}",
        "digits",
    ),
    "digits.json": ('{"name": "digits", "rule": ' + "9" * 5000 + "}", "invalid JSON: "),
}


@pytest.mark.parametrize("file", sorted(FILES))
def test_a_hostile_segment_file_is_refused_quickly_with_a_reason(tmp_path: Path, file: str) -> None:
    text, reason = FILES[file]
    path = tmp_path / file
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(RuleError) as err:
        read_file(path)
    assert time.perf_counter() - started < 5
    assert err.value.path == str(path)
    assert reason in err.value.detail
    with pytest.raises(RuleError):
        read_rule_file(path)  # --rule-file reads it the same way


def test_the_file_limits_leave_room_for_a_rule_at_the_depth_limit(tmp_path: Path) -> None:
    import json

    import yaml

    rule = alternating_json(MAX_DEPTH)
    (tmp_path / "deep.json").write_text(json.dumps({"name": "deep", "rule": rule}))
    (tmp_path / "deep.yaml").write_text(yaml.safe_dump({"name": "deep", "rule": rule}))
    for name in ("deep.json", "deep.yaml"):
        assert read_file(tmp_path / name).rule == as_rule(rule)


def test_a_segment_file_with_a_rule_too_deep_names_the_file_and_the_node(tmp_path: Path) -> None:
    import json

    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"name": "deep", "rule": nots_json(MAX_DEPTH + 1)}))
    with pytest.raises(RuleError) as err:
        read_file(path)
    assert err.value.path == f"{path}.rule" + ".not" * (MAX_DEPTH + 1)


def test_a_rule_file_that_never_ends_is_read_no_further_than_the_limit() -> None:
    with pytest.raises(RuleError, match="larger than 1,000,000 bytes"):
        read_rule_file(Path("/dev/zero"))


def test_a_title_with_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"name": "s", "title": "\\udc80", "rule": "did app_open"}')
    with pytest.raises(RuleError) as err:
        read_file(path)
    assert err.value.path == f"{path}.title"
    assert "lone surrogate" in err.value.detail


def test_a_tree_at_the_limits_prints_and_parses_back() -> None:
    tree = And.model_validate({"and": [as_rule(alternating_json(MAX_DEPTH - 1))]})
    assert parse(to_text(tree)) == tree
