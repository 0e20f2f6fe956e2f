"""Differential test of the rule engine against a plain-Python reference evaluator.

Random valid rule trees (tests/rules/strategies.py) are evaluated on random workspaces
(tests/rules/random_store.py) by the engine (``ws.members`` / ``ws.count``) and by the
reference (tests/rules/reference.py, written from DESIGN section 4 alone); the member sets
must be equal. A few hand-written tests pin the reference itself on a tiny workspace.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context

import segmint
from segmint.rules.coerce import as_rule
from segmint.rules.model import (
    And,
    EventAggregate,
    EventCount,
    EventRecency,
    Not,
    Or,
    SegmentRef,
)
from segmint.rules.text import parse, to_text
from tests.conftest import db, write_jsonl
from tests.rules.random_store import AS_OFS, RandomStore, build_store
from tests.rules.reference import evaluate, load_store
from tests.rules.strategies import Vocab, every_leaf, rules

SEEDS = (20260301, 7)
EXAMPLES_PER_SEED = int(os.environ.get("SEGMINT_DIFF_EXAMPLES", "750"))

# Saved segments the random rules may refer to (one refers to the other).
SEGMENTS = {
    "vip-buyers": 'vip = true and did order_completed where status = "paid" at least 2 times',
    "recent-actives": "did app_open in last 30 days or in segment vip-buyers "
    "or not last_login is set",
}

# The as_of values, as the engine is given them (datetimes in other zones, ISO strings with
# offsets) and as the reference gets them. Each of AS_OFS is also an event timestamp.
AS_OF_CHOICES: list[tuple[Any, datetime]] = [
    (AS_OFS[0], AS_OFS[0]),
    (AS_OFS[1].isoformat(), AS_OFS[1]),
    (AS_OFS[1].astimezone(timezone(timedelta(hours=2))), AS_OFS[1]),
    ("2025-11-30T09:00:00+01:00", AS_OFS[2]),
    (AS_OFS[0].isoformat().replace("+00:00", "Z"), AS_OFS[0]),
]


@dataclass
class Store:
    random: RandomStore
    segments: dict[str, Any]
    vocab: Vocab
    strategy: st.SearchStrategy[Any]

    def __repr__(self) -> str:
        return f"Store(seed={self.random.seed})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        # Hypothesis pretty-prints a failing example's arguments, a dataclass field by
        # field. Printing the whole store (a dict of thousands of events) in the final
        # replay made Hypothesis report "inconsistent data generation"
        # (FlakyStrategyDefinition) instead of the failure; a short form avoids that.
        p.text(repr(self))


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    seed = request.param
    built = build_store(tmp_path_factory.mktemp(f"seed{seed}"), seed)
    for name, text in SEGMENTS.items():
        built.ws.add_segment(name, text)
    vocab = replace(built.vocab, segments=sorted(SEGMENTS))
    segments = {n: parse(t) for n, t in SEGMENTS.items()}
    yield Store(built, segments, vocab, rules(vocab, depth=4))
    built.ws.close()


def engine_members(ws: segmint.Workspace, rule: Any, as_of: Any) -> set[str]:
    frame = ws.members(rule, as_of=as_of, output="pandas")
    assert frame.columns[0] == "customer_id"
    ids = list(frame["customer_id"])
    assert len(ids) == len(set(ids)), "a customer listed twice"
    return set(ids)


def _subtrees(rule: Any, segments: dict[str, Any]) -> Iterator[Any]:
    """Every node, children before their parent (a segment's rule before the reference)."""
    if isinstance(rule, And | Or):
        for child in rule.and_ if isinstance(rule, And) else rule.or_:
            yield from _subtrees(child, segments)
    elif isinstance(rule, Not):
        yield from _subtrees(rule.not_, segments)
    elif isinstance(rule, SegmentRef):
        yield from _subtrees(segments[rule.segment], segments)
    yield rule


def explain(store: Store, rule: Any, given_as_of: Any, as_of: datetime) -> str:
    """The smallest sub-rules on which engine and reference differ, for the failure message."""
    lines = []
    for node in _subtrees(rule, store.segments):
        try:
            got = engine_members(store.random.ws, node, given_as_of)
        except Exception as exc:  # pragma: no cover - diagnostics only
            lines.append(f"  engine error on {to_text(node)}: {exc}")
            break
        want = evaluate(node, store.random.data, as_of, store.segments)
        if got != want:
            lines.append(
                f"  smallest differing sub-rule: {to_text(node)}\n"
                f"    json: {node.to_json()}\n"
                f"    engine only: {sorted(got - want)[:15]}\n"
                f"    reference only: {sorted(want - got)[:15]}"
            )
            if isinstance(node, EventCount | EventAggregate | EventRecency):
                pid_of = {c: p for p, c in store.random.data.customer_ids.items()}
                for cid in sorted(got ^ want)[:3]:
                    pid = pid_of[cid]
                    events = store.random.data.by_event.get((pid, node.event), [])
                    shown = "\n".join(f"      {e}" for e in events[:12])
                    lines.append(f"    {cid} (pid {pid}) {node.event} events:\n{shown}")
            break
    return "\n".join(lines)


@settings(
    max_examples=EXAMPLES_PER_SEED,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No explain phase: each of its runs costs two engine queries, and it adds little to
    # the sub-rule report below.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(data=st.data())
def test_engine_matches_reference(store: Store, data: st.DataObject) -> None:
    rule = data.draw(store.strategy, label="rule")
    given_as_of, as_of = data.draw(st.sampled_from(AS_OF_CHOICES), label="as_of")
    ws = store.random.ws
    want = evaluate(rule, store.random.data, as_of, store.segments)
    got = engine_members(ws, rule, given_as_of)
    if got != want:
        # The sub-rule search costs an engine query per node: only for the example shown.
        final = current_build_context().is_final
        pytest.fail(
            f"engine and reference differ at as_of={as_of.isoformat()} "
            f"(seed {store.random.seed})\n  rule: {to_text(rule)}\n"
            f"  engine only: {sorted(got - want)[:20]}\n"
            f"  reference only: {sorted(want - got)[:20]}\n"
            + (explain(store, rule, given_as_of, as_of) if final else "")
        )
    population = len(evaluate(And(and_=()), store.random.data, as_of))
    event("members: " + ("none" if not want else "all" if len(want) == population else "some"))
    event(f"root: {type(rule).__name__}")
    count = ws.count(rule, as_of=given_as_of)
    assert count == len(want), f"count {count} != {len(want)} members for: {to_text(rule)}"


@pytest.mark.parametrize("store", [SEEDS[0]], indirect=True, ids=lambda s: f"seed{s}")
def test_every_leaf_kind(store: Store) -> None:
    """Every (type, operator), window, aggregate, recency and trend leaf of the vocabulary,
    each at one as_of (those with day counts relative to as_of at all of them).

    On the first seed only: the sweep takes about 30 s a store.
    """
    ws, data = store.random.ws, store.random.data
    failures = []
    leaves = every_leaf(store.vocab)
    checked = 0
    for i, leaf in enumerate(leaves):
        relative = getattr(leaf, "op", None) in ("within_last_days", "more_than_days_ago")
        choices = AS_OF_CHOICES if relative else [AS_OF_CHOICES[i % len(AS_OF_CHOICES)]]
        for given_as_of, as_of in choices:
            checked += 1
            want = evaluate(leaf, data, as_of, store.segments)
            got = engine_members(ws, leaf, given_as_of)
            if got != want:
                failures.append(
                    f"{to_text(leaf)} at {as_of.isoformat()}: engine only "
                    f"{sorted(got - want)[:8]}, reference only {sorted(want - got)[:8]}"
                )
    assert checked > 500
    assert not failures, f"{len(failures)} leaves differ:\n" + "\n".join(failures[:30])


# --- the reference on its own -------------------------------------------------------------

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


@pytest.fixture
def tiny(ws: segmint.Workspace, files: Path) -> segmint.Workspace:
    """a: US, created before as_of; b: no country, no created_at, an empty list;
    c: created 1 us after as_of; d: no created_at and only events after as_of;
    e: no created_at and no events; plus an anonymous-only profile."""
    day = timedelta(days=1)
    customers = [
        {"customer_id": "a", "country": "US", "created_at": "2026-01-01T00:00:00Z",
         "interests": ["boxing"], "plan": "pro"},
        {"customer_id": "b", "interests": [], "plan": None, "country": None},
        {"customer_id": "c", "country": "GB", "created_at": _iso(AS_OF + US)},
        {"customer_id": "d", "plan": "free"},
        {"customer_id": "e", "plan": "Pro"},
    ]  # fmt: skip
    ws.ingest("customers", write_jsonl(files / "customers.jsonl", customers))
    events = [
        ("a", AS_OF - 7 * day, {"device": "ios", "n": 1}),
        ("a", AS_OF - 7 * day + US, {"device": "android", "n": 2}),
        ("a", AS_OF, {"device": None, "n": 4}),
        ("a", AS_OF + US, {"device": "ios", "n": 8}),
        ("b", AS_OF - 30 * day, {}),
        ("c", AS_OF - day, {"device": "ios"}),
        ("d", AS_OF + US, {"device": "ios"}),
    ]
    rows: list[dict[str, Any]] = [
        {"event": "app_open", "timestamp": _iso(t), "customer_id": c, "properties": p}
        for c, t, p in events
    ]
    rows.append({"event": "app_open", "timestamp": _iso(AS_OF - day), "anonymous_id": "x1"})
    ws.ingest("events", write_jsonl(files / "events.jsonl", rows))
    return ws


TINY_CASES = [
    # not is plain negation: customers with no country are included; c and d do not exist yet.
    ('not country = "US"', {"b", "e"}),
    ('country != "US"', set()),
    ('country not in ["US"]', set()),
    ("all()", {"a", "b", "e"}),
    ("any()", set()),
    ("not any()", {"a", "b", "e"}),
    # An empty list is set and contains nothing; a missing list is neither.
    ('interests not contains "boxing"', {"b"}),
    ('not interests contains "boxing"', {"b", "e"}),
    ("interests is set", {"a", "b"}),
    ("plan is not set", {"b"}),
    ('plan starts with "p"', {"a"}),
    # Window edges: as_of - 7 days is out of "last 7 days", as_of is in, as_of + 1 us never.
    ("did app_open exactly 2 times in last 7 days", {"a"}),
    ("did app_open exactly 2 times from 7 to 0 days ago", {"a"}),
    ("did app_open exactly 3 times between 2026-02-22 and 2026-03-02", {"a"}),
    ("did app_open exactly 1 time between 2026-03-01 and 2026-04-01", {"a"}),
    ("did app_open exactly 0 times", {"e"}),
    ("did app_open at least 1 time in last 31 days", {"a", "b"}),
    ("did app_open at least 1 time in last 30 days", {"a"}),  # b's is at as_of - 30 days
    ('did app_open where device != "ios"', {"a"}),
    ('did app_open where device = "ios" exactly 1 time', {"a"}),
    # Aggregates see only events up to as_of; no matching event is false.
    ("sum(n) of app_open = 7", {"a"}),
    ("sum(n) of app_open in last 7 days = 6", {"a"}),
    ("max(n) of app_open < 100", {"a"}),
    ("distinct(device) of app_open = 0", {"b"}),
    ("not distinct(device) of app_open >= 0", {"e"}),
    ("sum(revenue) of app_open >= 0", set()),
    # Recency: floor of days; no event is false.
    ("days since last app_open = 0", {"a"}),
    ("last app_open more than 30 days ago", {"b"}),
    ("first app_open within last 8 days", {"a"}),
    ("days since first app_open = 7", {"a"}),
    # Trend: (cur - prev) / prev, false when prev = 0.
    ("trend of app_open over 7 days > -2", {"a"}),  # a: (2 - 1) / 1
    ("trend of app_open over 30 days >= -1", {"b"}),  # a: prev 0; b: (0 - 1) / 1
]


@pytest.mark.parametrize(("text", "expected"), TINY_CASES, ids=[t for t, _ in TINY_CASES])
def test_reference_on_tiny_store(tiny: segmint.Workspace, text: str, expected: set[str]) -> None:
    data = load_store(tiny)
    assert evaluate(parse(text), data, AS_OF) == expected
    assert engine_members(tiny, text, AS_OF) == expected


def test_reference_population(tiny: segmint.Workspace) -> None:
    data = load_store(tiny)
    everyone = as_rule({"and": []})
    # c exists from its created_at (inclusive), d from its first event (after as_of).
    assert evaluate(everyone, data, AS_OF) == {"a", "b", "e"}
    assert evaluate(everyone, data, AS_OF + US) == {"a", "b", "c", "d", "e"}
    assert evaluate(parse('customer_id = "c"'), data, AS_OF) == set()
    # The anonymous profile exists (it has an event) but is never a member.
    assert len(data.values) == 6
    assert len(evaluate(everyone, data, AS_OF + timedelta(days=400))) == 5


def test_reference_trend_and_segments(tiny: segmint.Workspace) -> None:
    data = load_store(tiny)
    # a: cur (as_of-7d, as_of] has 2 events, prev (as_of-14d, as_of-7d] has 1: change 1.0.
    assert evaluate(parse("trend of app_open over 7 days = 1"), data, AS_OF) == {"a"}
    segments = {"ios": parse('did app_open where device = "ios"')}
    rule = parse("not in segment ios")
    assert evaluate(rule, data, AS_OF, segments) == {"b", "e"}


# --- many rules in one query (segment refresh) ------------------------------------------


def many_members(ws: segmint.Workspace, trees: list[Any], as_of: Any) -> list[set[str]]:
    """Each tree's members from one shared query (rules/compile.py ``Compiler.many``), as
    a refresh evaluates its segments (references inlined: nothing is stored here)."""
    from segmint.engine.render import render_sql
    from segmint.rules.compile import compile_many, inline_segments
    from segmint.segments.query import parse_as_of

    evaluator = ws.evaluator()
    prepared = [inline_segments(evaluator.prepare(t), evaluator.catalog) for t in trees]
    expr = compile_many(prepared, evaluator.catalog, parse_as_of(as_of))
    table = db(ws).execute(render_sql(expr, pretty=False)).arrow().read_all().to_pydict()
    ids = dict(db(ws).execute("SELECT pid, customer_id FROM profiles").fetchall())
    return [
        {ids[p] for p, hit in zip(table["pid"], table[f"s{i}"], strict=True) if hit}
        for i in range(len(trees))
    ]


@settings(
    max_examples=int(os.environ.get("SEGMINT_DIFF_MANY_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data())
def test_many_rules_in_one_query_match_the_reference(store: Store, data: st.DataObject) -> None:
    trees = data.draw(st.lists(store.strategy, min_size=10, max_size=30), label="rules")
    given_as_of, as_of = data.draw(st.sampled_from(AS_OF_CHOICES), label="as_of")
    got = many_members(store.random.ws, trees, given_as_of)
    for tree, members in zip(trees, got, strict=True):
        want = evaluate(tree, store.random.data, as_of, store.segments)
        assert members == want, (
            f"shared query and reference differ at {as_of.isoformat()} for {to_text(tree)}: "
            f"engine only {sorted(members - want)[:10]}, "
            f"reference only {sorted(want - members)[:10]}"
        )


@pytest.mark.parametrize("store", [SEEDS[0]], indirect=True, ids=lambda s: f"seed{s}")
def test_every_leaf_kind_in_shared_queries(store: Store) -> None:
    """The leaf sweep again, 100 leaves to a shared query, at each as_of."""
    leaves = every_leaf(store.vocab)
    failures = []
    for given_as_of, as_of in AS_OF_CHOICES[:3]:
        for start in range(0, len(leaves), 100):
            batch = leaves[start : start + 100]
            got = many_members(store.random.ws, batch, given_as_of)
            for leaf, members in zip(batch, got, strict=True):
                want = evaluate(leaf, store.random.data, as_of, store.segments)
                if members != want:
                    failures.append(f"{to_text(leaf)} at {as_of.isoformat()}")
    assert not failures, f"{len(failures)} leaves differ:\n" + "\n".join(failures[:30])
