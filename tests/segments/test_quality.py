"""Segment quality: every check, every review finding, the overlap matrix and segment show.

Each test builds the situation it detects in a small hand-made workspace. Customers carry
an integer ``n`` (customer ``C07`` has ``n = 7``), so a rule on ``n`` selects an exact set
and every size, share and Jaccard overlap below is worked out by hand in the comments.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import segmint
from segmint.cli import app
from segmint.quality.checks import Check, Finding, Overlap
from tests.conftest import db, write_csv, write_jsonl

AS_OF = "2026-02-01T00:00:00Z"
CHECKS = [
    "substantial",
    "substantial_share",
    "reachable",
    "distinct",
    "stable",
    "relative",
    "fresh",
    "campaign",
]
OVERLAP_ACTION = "merge pair_a into pair_b, or sharpen one rule so they differ"
STALE_DATES = "redefine it with relative windows (last N days)"
STALE_REFRESH = "refresh it (segmint refresh, or on a schedule)"

Build = Callable[..., segmint.Workspace]


def person(i: int, **fields: Any) -> dict[str, Any]:
    """Customer ``C{i:02d}`` with ``n = i``, created well before every as_of used here."""
    return {"customer_id": f"C{i:02d}", "n": i, "created_at": "2025-01-01T00:00:00Z", **fields}


def reachable(i: int, **fields: Any) -> dict[str, Any]:
    return person(i, email=f"c{i}@shop.example", email_consent=True, **fields)


def set_quality(root: Path, **values: Any) -> None:
    """Replace the ``[quality]`` section of segmint.toml (before the workspace is opened)."""
    config = root / "segmint.toml"
    head = config.read_text(encoding="utf-8").split("[quality]")[0]
    lines = "".join(f"{key} = {value}\n" for key, value in values.items())
    config.write_text(f"{head}[quality]\n{lines}", encoding="utf-8")


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Build]:
    """Build a workspace: ``[quality]`` settings, then the customers (default: 20 plain
    ones, C00..C19) and optional events."""
    opened: list[segmint.Workspace] = []

    def build(
        people: list[dict[str, Any]] | None = None,
        events: list[dict[str, Any]] | None = None,
        **quality: Any,
    ) -> segmint.Workspace:
        root = tmp_path / f"ws{len(opened)}"
        segmint.init(root).close()
        if quality:
            set_quality(root, **quality)
        ws = segmint.open(root)
        opened.append(ws)
        customers = write_jsonl(tmp_path / "customers.jsonl", people or map(person, range(20)))
        ws.ingest("customers", customers)
        if events:
            ws.ingest("events", write_jsonl(tmp_path / "events.jsonl", events))
        return ws

    yield build
    for ws in opened:
        ws.close()


def checks_of(ws: segmint.Workspace) -> dict[str, dict[str, Check]]:
    return {q.name: {c.check: c for c in q.checks} for q in ws.quality()}


def age_refreshes(ws: segmint.Workspace, days: int, refresh_id: int | None = None) -> None:
    """Make refreshes (all, or one) end ``days`` days ago: a refresh ends at started_at +
    seconds, so a fresh check computed within minutes reads exactly ``days``."""
    db(ws).execute(
        "UPDATE refreshes SET started_at = now() - to_days(CAST(? AS INTEGER)) "
        "- to_microseconds(CAST(seconds * 1e6 AS BIGINT)) "
        "WHERE CAST(? AS INTEGER) IS NULL OR refresh_id = ?",
        [days, refresh_id, refresh_id],
    )


def cli(ws: segmint.Workspace, *args: str) -> Result:
    """Run the CLI in-process on ``ws``'s folder (its connection closed first)."""
    ws.close()
    return CliRunner().invoke(app, ["-w", str(ws.root), *args])


def findings(ws: segmint.Workspace) -> set[tuple[str, tuple[str, ...], str, str]]:
    return {(f.kind, tuple(f.segments), f.message, f.action) for f in ws.review().findings}


# --- the checks ---------------------------------------------------------------------


def test_substantial_checks_members_and_their_share_of_the_customers_at_as_of(
    shop: Build,
) -> None:
    # 20 customers at as_of; 5 more created later are not customers yet at AS_OF.
    later = [person(i, created_at="2026-06-01T00:00:00Z") for i in range(20, 25)]
    ws = shop([*map(person, range(20)), *later], min_size=3, min_share=0.2)
    assert (ws.config.quality.min_size, ws.config.quality.min_share) == (3, 0.2)
    ws.add_segment("tiny", "n in [0, 1]")  # 2 members, 2 / 20 = 0.1
    ws.add_segment("narrow", "n in [2, 3, 4]")  # 3 members, 0.15
    ws.add_segment("wide", "n in [5, 6, 7, 8]")  # 4 members, 0.2: both on the threshold
    ws.add_segment("later", "n >= 20")  # 0 members at AS_OF
    ws.refresh(as_of=AS_OF)
    checks = checks_of(ws)
    expected = {
        "tiny": (Check("substantial", False, 2, 3), Check("substantial_share", False, 0.1, 0.2)),
        "narrow": (Check("substantial", True, 3, 3), Check("substantial_share", False, 0.15, 0.2)),
        "wide": (Check("substantial", True, 4, 3), Check("substantial_share", True, 0.2, 0.2)),
        "later": (Check("substantial", False, 0, 3), Check("substantial_share", False, 0.0, 0.2)),
    }
    for name, (size, share) in expected.items():
        assert (checks[name]["substantial"], checks[name]["substantial_share"]) == (size, share)
    assert {(q.name, q.size, q.customers, q.share) for q in ws.quality(["tiny", "wide"])} == {
        ("tiny", 2, 20, 0.1),
        ("wide", 4, 20, 0.2),
    }


def test_reachable_counts_members_with_an_email_and_consent_or_a_phone_and_sms_consent(
    shop: Build,
) -> None:
    phone = "+15550000000"
    people = [
        person(0, email="a@x.io", email_consent=True),  # reachable by email
        person(1, email="b@x.io", email_consent=False),  # no consent
        person(2, phone=phone, sms_consent=True),  # reachable by SMS
        person(3, phone=phone, sms_consent=False),  # no consent
        person(4, email_consent=True, sms_consent=True),  # consent but nowhere to send
        person(5, email="c@x.io", email_consent=False, phone=phone, sms_consent=True),  # SMS
        person(6, email="d@x.io", email_consent=True, phone=phone, sms_consent=True),  # once
        person(7),  # nothing
        *(reachable(i) for i in range(8, 20)),
    ]
    ws = shop(people)
    ws.add_segment("first8", "n < 8")  # C00, C02, C05, C06 of 8: 0.5, on the threshold
    ws.add_segment("first5", "n < 5")  # C00, C02 of 5: 0.4
    ws.add_segment("rest", "n >= 8")  # 12 of 12
    ws.add_segment("nobody", "n > 100")  # no members: nobody to reach
    ws.refresh(as_of=AS_OF)
    checks = checks_of(ws)
    assert {name: c["reachable"] for name, c in checks.items()} == {
        "first8": Check("reachable", True, 0.5, 0.5),
        "first5": Check("reachable", False, 0.4, 0.5),
        "rest": Check("reachable", True, 1.0, 0.5),
        "nobody": Check("reachable", False, 0.0, 0.5),
    }


def test_distinct_is_the_largest_jaccard_with_another_active_segment(shop: Build) -> None:
    ws = shop()
    ws.add_segment("a", "n < 6")  # C00..C05
    ws.add_segment("b", "n < 4")  # C00..C03: shares 4 of 6 with a
    ws.add_segment("c", "n in [10, 11]")
    ws.add_segment("shadow", "n in [10, 11, 12]")  # shares 2 of 3 with c
    ws.refresh(as_of=AS_OF)
    before = checks_of(ws)
    assert before["c"]["distinct"] == Check("distinct", False, round(2 / 3, 6), 0.5)
    ws.retire("shadow")
    after = checks_of(ws)
    assert sorted(after) == ["a", "b", "c"]
    assert {name: c["distinct"] for name, c in after.items()} == {
        "a": Check("distinct", False, 0.666667, 0.5),
        "b": Check("distinct", False, 0.666667, 0.5),
        # The retired segment's stored members are still there, but it no longer counts.
        "c": Check("distinct", True, 0.0, 0.5),
    }
    assert ws.overlap(["c", "shadow"])[1] == [Overlap("c", "shadow", 2, 2 / 3)]
    sizes, pairs = ws.overlap()
    assert sizes == {"a": 6, "b": 4, "c": 2}
    assert pairs == [
        Overlap("a", "b", 4, 4 / 6),
        Overlap("a", "c", 0, 0.0),
        Overlap("b", "c", 0, 0.0),
    ]


def test_stable_is_one_minus_the_jaccard_of_the_members_before_and_now(
    shop: Build, tmp_path: Path
) -> None:
    ws = shop([person(i, country="US" if i < 4 else "GB") for i in range(20)])
    ws.add_segment("us", 'country = "US"')

    def move(when: str, country: dict[str, str]) -> Check:
        update = [{"customer_id": who, "country": c} for who, c in country.items()]
        ws.ingest("customers", write_jsonl(tmp_path / f"move-{when[:10]}.jsonl", update))
        ws.refresh(as_of=when)
        return checks_of(ws)["us"]["stable"]

    ws.refresh(as_of="2026-01-01T00:00:00Z")  # {C00..C03}
    assert checks_of(ws)["us"]["stable"] == Check("stable", True, None, 0.5)
    # {C00..C03} -> {C01..C05}: 1 exit, 2 entries; 1 - 3/6 = (2 + 1) / (5 + 1) = 0.5.
    assert move(AS_OF, {"C00": "GB", "C04": "US", "C05": "US"}) == Check("stable", True, 0.5, 0.5)
    # {C01..C05} -> {C04, C05, C06}: 3 exits, 1 entry; 1 - 2/6 = (1 + 3) / (3 + 3).
    moved = {"C01": "GB", "C02": "GB", "C03": "GB", "C06": "US"}
    assert move("2026-03-01T00:00:00Z", moved) == Check("stable", False, 0.666667, 0.5)
    before, now = {"C01", "C02", "C03", "C04", "C05"}, {"C04", "C05", "C06"}
    assert round(1 - len(before & now) / len(before | now), 6) == 0.666667


def test_relative_counts_the_conditions_with_absolute_dates(shop: Build, tmp_path: Path) -> None:
    view = {"event": "page_view", "timestamp": "2026-01-20T00:00:00Z", "customer_id": "C01"}
    ws = shop(
        [person(i, birth_date="1990-05-01") for i in range(20)],
        [{**view, "properties": {"seen_at": "2025-03-01T00:00:00Z"}}],
    )
    orders = "order_id,customer_id,ordered_at,total\nO1,C02,2025-11-01T00:00:00Z,30"
    ws.ingest("orders", write_csv(tmp_path / "orders.csv", orders))
    rules = {
        "window": ("did page_view between 2025-01-01 and 2026-06-01", 1),
        "created": ("created_at after 2024-01-01", 1),
        "property": ("did page_view where seen_at before 2025-06-01", 1),
        "born": ('birth_date between "1990-01-01" and "2000-01-01"', 1),
        "trait": ("last_order_at after 2025-01-01", 1),
        "sum": ("sum(revenue) of order_completed between 2025-01-01 and 2026-01-01 > 5", 1),
        "mixed": (
            "created_at after 2024-01-01 and (did page_view where seen_at before 2025-06-01 "
            "between 2025-01-01 and 2026-06-01 or not created_at before 2026-01-01)",
            4,
        ),
        "recent": ("created_at within last 30 days", 0),
        "relative": (
            "did page_view in last 30 days and last page_view more than 3 days ago and "
            "created_at is set and created_at more than 10 days ago and "
            "did page_view where seen_at within last 400 days and "
            "last_order_at within last 400 days and birth_date is set",
            0,
        ),
    }
    for name, (rule, _) in rules.items():
        ws.add_segment(name, rule)
    assert not ws.refresh(as_of=AS_OF).failed
    checks = checks_of(ws)
    assert {name: checks[name]["relative"] for name in rules} == {
        name: Check("relative", n == 0, n, 0) for name, (_, n) in rules.items()
    }


def test_fresh_is_the_days_since_the_last_refresh(shop: Build) -> None:
    ws = shop()
    ws.add_segment("kept", "n < 10")
    ws.refresh(as_of=AS_OF)
    assert checks_of(ws)["kept"]["fresh"] == Check("fresh", True, 0.0, 7)
    age_refreshes(ws, 6)
    assert checks_of(ws)["kept"]["fresh"] == Check("fresh", True, 6.0, 7)
    age_refreshes(ws, 10)
    assert checks_of(ws)["kept"]["fresh"] == Check("fresh", False, 10.0, 7)

    ws.add_segment("later", "n >= 10", campaign="winter")
    [never] = ws.quality(["later"])
    assert (never.status, never.size, never.as_of) == ("never", None, None)
    assert never.checks == [
        Check("fresh", False, None, 7),
        Check("campaign", True, "winter", None),
    ]


def test_campaign_is_the_campaign_field_of_the_file(shop: Build) -> None:
    ws = shop()
    ws.add_segment("linked", "n < 10", campaign="spring-sale")
    ws.add_segment("unlinked", "n >= 10")
    ws.refresh(as_of=AS_OF)
    checks = checks_of(ws)
    assert checks["linked"]["campaign"] == Check("campaign", True, "spring-sale", None)
    assert checks["unlinked"]["campaign"] == Check("campaign", False, None, None)
    assert [list(c) for c in checks.values()] == [CHECKS, CHECKS]


# --- the review ---------------------------------------------------------------------


def test_more_than_max_active_segments_is_a_finding_naming_the_weakest(shop: Build) -> None:
    # 40 customers; C32..C35 cannot be reached, so s8 fails one check (reachable).
    people = [person(i) if 32 <= i < 36 else reachable(i) for i in range(40)]
    ws = shop(people, min_size=1)
    for k in range(9):
        # Four members each (C00..C03, C04..C07, ...), but s7 only two: the smallest, and
        # it fails nothing.
        size = 2 if k == 7 else 4
        ws.add_segment(f"s{k}", f"n >= {4 * k} and n < {4 * k + size}", campaign="c")
    ws.refresh(as_of=AS_OF)
    message = (
        "9 active segments; more than 8 is more than a team can act on and measure "
        "(the 5-8 zone): 1 should go."
    )
    # One must go: the one with a reason (s8), not the smallest clean one.
    assert ws.review().findings == [
        Finding(
            "too_many_active",
            ["s8"],
            message,
            "retire or merge the weakest, weakest first: s8 (4 members: few members reachable)",
        )
    ]
    ws.add_segment("s9", "n >= 36", campaign="c")
    ws.refresh(["s9"], AS_OF)
    [finding] = ws.review().findings
    assert finding.segments == ["s8", "s7"]
    assert finding.message.endswith("(the 5-8 zone): 2 should go.")
    assert finding.action == (
        "retire or merge the weakest, weakest first: s8 (4 members: few members reachable); "
        "s7 (2 members)"
    )

    ws.retire("s8")
    ws.retire("s9")
    review = ws.review()
    assert [s.name for s in review.segments] == [f"s{k}" for k in range(8)]
    assert review.findings == []


def test_too_many_active_names_the_weakest_never_the_largest_distinct_ones(shop: Build) -> None:
    ws = shop(list(map(reachable, range(40))), min_size=2, max_active=2)
    rules = {
        "all_buyers": "n < 20",  # 20 members; fails distinct (copy) but is the larger
        "copy": "n < 18",  # 18 members, all in all_buyers: Jaccard 18 / 20 = 0.9
        "second": "n >= 20 and n < 32",  # 12 members, distinct: strong
        "tiny": "n = 32",  # 1 member < min_size 2: too small
        "plain": "n >= 33 and n < 37",  # 4 members, nothing wrong
    }
    for name, rule in rules.items():
        ws.add_segment(name, rule, campaign="c")
    ws.add_segment("nocamp", "n >= 37")  # 3 members, no campaign
    ws.refresh(as_of=AS_OF)
    review = ws.review()
    # 6 active, max_active 2: 4 go. Scores: tiny 3 (too small), copy 3 (covered by a
    # larger one), nocamp 1 (no campaign), plain 0; ties go to the smaller. The old
    # ranking (most failed checks, then smallest) named all_buyers in place of plain.
    assert [(f.kind, f.segments) for f in review.findings] == [
        ("too_many_active", ["tiny", "copy", "nocamp", "plain"]),
        ("overlap", ["copy", "all_buyers"]),
        ("too_small", ["tiny"]),
        ("no_campaign", ["nocamp"]),
    ]
    too_many, merge = review.findings[:2]
    assert too_many.message == (
        "6 active segments; more than 2 is more than a team can act on and measure "
        "(the 5-8 zone): 4 should go."
    )
    assert too_many.action == (
        "retire or merge the weakest, weakest first: tiny (1 members: too small); "
        "copy (18 members: overlaps the larger all_buyers (Jaccard 0.90)); "
        "nocamp (3 members: no campaign); plain (4 members)"
    )
    # The smaller merges into the larger, whatever the names' order.
    assert merge == Finding(
        "overlap",
        ["copy", "all_buyers"],
        "copy (18 members) and all_buyers (20) share 18 members (Jaccard 0.90 > 0.5); "
        "100% of copy is in all_buyers.",
        "merge copy into all_buyers, or sharpen one rule so they differ",
    )
    shown = cli(ws, "review", "--format", "json")
    assert json.loads(shown.stdout)["findings"][0]["segments"] == [
        "tiny",
        "copy",
        "nocamp",
        "plain",
    ]


def test_a_shop_without_contact_details_is_one_finding_before_the_segments(shop: Build) -> None:
    # Nobody has an email with consent or a phone with SMS consent.
    people = [person(i, email=f"c{i}@x.io", email_consent=False) for i in range(20)]
    ws = shop(people, max_active=1)
    ws.add_segment("low", "n < 4", campaign="c")  # 4 members
    ws.add_segment("high", "n >= 10", campaign="c")  # 10 members
    ws.refresh(as_of=AS_OF)
    assert {c["reachable"].ok for c in checks_of(ws).values()} == {False}
    no_contact = Finding(
        "no_contact_data",
        [],
        "no customer has an email with email consent or a phone with SMS consent, so "
        "segments cannot reach 50% of their members (reachable fails for the data, not for "
        "the segments).",
        "ingest the contact details: email and email_consent, phone and sms_consent in the "
        "customers file",
    )
    review = ws.review()
    assert review.findings[0] == no_contact
    kinds = ["no_contact_data", "too_many_active", "too_small", "too_small"]
    assert [f.kind for f in review.findings] == kinds
    assert [f.segments for f in review.findings[1:]] == [["low"], ["low"], ["high"]]
    # Not reachable is the shop's, not a reason to retire one segment rather than another.
    assert review.findings[1].action == (
        "retire or merge the weakest, weakest first: low (4 members: too small)"
    )
    md = review.to_markdown()
    assert f"- **no_contact_data**: {no_contact.message} *Action:* {no_contact.action}" in md


def test_few_reachable_customers_is_a_finding_enough_is_not(shop: Build) -> None:
    # 3 of 20 reachable (15 %) is below min_reachable_share 0.5; 10 of 20 is on it.
    few = shop([reachable(i) if i < 3 else person(i) for i in range(20)], min_size=1)
    few.add_segment("a", "n < 10", campaign="c")
    few.add_segment("b", "n >= 10", campaign="c")
    few.refresh(as_of=AS_OF)
    [finding] = few.review().findings
    assert (finding.kind, finding.segments) == ("no_contact_data", [])
    assert finding.message.startswith(
        "only 3 of 20 customers (15.0%) have an email with email consent or a phone with SMS "
        "consent"
    )
    # With contact details for half the shop (on the threshold) there is no such finding,
    # and a segment whose members cannot be reached is the weaker for it.
    half = shop([reachable(i) if i < 10 else person(i) for i in range(20)], max_active=1)
    half.add_segment("a", "n < 10", campaign="c")
    half.add_segment("b", "n >= 10 and n < 19", campaign="c")  # 9 members, none reachable
    half.refresh(as_of=AS_OF)
    findings = half.review().findings
    assert [f.kind for f in findings] == ["too_many_active", "too_small", "too_small"]
    assert findings[0].action == (
        "retire or merge the weakest, weakest first: b (9 members: too small, few members "
        "reachable)"
    )


def test_an_overlap_above_max_overlap_is_a_finding_one_at_it_is_not(shop: Build) -> None:
    ws = shop(list(map(reachable, range(20))), min_size=1)
    ws.add_segment("a", "n < 6", campaign="c")
    ws.add_segment("b", "n < 4", campaign="c")  # 4 / 6 with a
    ws.add_segment("c", "n >= 14", campaign="c")
    ws.add_segment("d", "n >= 17", campaign="c")  # 3 / 6 with c: not above 0.5
    ws.add_segment("e", "n >= 8 and n < 12", campaign="c")
    ws.add_segment("f", "n >= 10 and n < 13", campaign="c")  # 2 / 5 with e: below
    ws.refresh(as_of=AS_OF)
    assert findings(ws) == {
        (
            "overlap",
            ("b", "a"),
            "b (4 members) and a (6) share 4 members (Jaccard 0.67 > 0.5); 100% of b is in a.",
            "merge b into a, or sharpen one rule so they differ",
        )
    }
    distinct = {name: c["distinct"] for name, c in checks_of(ws).items()}
    assert distinct["d"] == Check("distinct", True, 0.5, 0.5)
    assert distinct["f"] == Check("distinct", True, 0.4, 0.5)


@pytest.fixture
def quarter(shop: Build) -> segmint.Workspace:
    """One active segment for each finding, a clean overlapping pair and a retired one.

    old      refreshed alone, 30 days ago            -> stale (old refresh)
    pair_a   C00..C02; pair_b C00..C03: Jaccard 3/4   -> overlap
    gone     C00..C02 (Jaccard 1 with pair_a), retired -> nothing
    small    1 member, min_size 2                     -> too_small
    nocamp   no campaign                              -> no_campaign
    dated    created_at after a fixed date            -> stale (absolute dates)
    broken   refreshed, then its file broken          -> failed
    never    never refreshed                          -> stale (never)
    """
    ws = shop(list(map(reachable, range(20))), min_size=2)
    ws.add_segment("old", "n in [10, 11]", campaign="q1")
    ws.refresh(["old"], "2026-01-01T00:00:00Z")
    age_refreshes(ws, 30)
    rules = {
        "pair_a": "n in [0, 1, 2]",
        "pair_b": "n in [0, 1, 2, 3]",
        "gone": "n in [0, 1, 2]",
        "small": "n = 5",
        "dated": "n in [8, 9] and created_at after 2024-06-01",
        "broken": "n in [14, 15]",
    }
    for name, rule in rules.items():
        ws.add_segment(name, rule, campaign="q1")
    ws.add_segment("nocamp", "n in [6, 7]")
    assert not ws.refresh([*rules, "nocamp"], AS_OF).failed
    ws.retire("gone")
    (ws.root / "segments" / "broken.yaml").write_text("name: broken\nrule: [unclosed\n")
    assert ws.refresh(["broken"], "2026-02-02T00:00:00Z").failed
    ws.add_segment("never", "n in [12, 13]", campaign="q1")
    return ws


def test_the_review_has_one_finding_per_situation_and_leaves_retired_segments_out(
    quarter: segmint.Workspace,
) -> None:
    con = db(quarter)
    [(error,)] = con.execute(
        "SELECT error FROM segment_runs WHERE name = 'broken' AND status = 'failed'"
    ).fetchall()
    assert "broken.yaml: invalid YAML" in error
    assert findings(quarter) == {
        (
            "overlap",
            ("pair_a", "pair_b"),
            "pair_a (3 members) and pair_b (4) share 3 members (Jaccard 0.75 > 0.5); 100% of "
            "pair_a is in pair_b.",
            OVERLAP_ACTION,
        ),
        (
            "too_small",
            ("small",),
            "small has 1 members (5.00% of customers); minimum 2 and 0.5%.",
            "retire it, or widen the rule",
        ),
        (
            "no_campaign",
            ("nocamp",),
            "nocamp is not linked to a campaign: not ready to activate.",
            "link a campaign (the campaign field of its file)",
        ),
        ("stale", ("dated",), "dated: its rule uses absolute dates.", STALE_DATES),
        ("stale", ("old",), "old: its last refresh is older than 7 days.", STALE_REFRESH),
        ("stale", ("never",), "never: it was never refreshed.", STALE_REFRESH),
        (
            "failed",
            ("broken",),
            f"the last refresh of broken failed: {error}",
            "fix the segment file or the rule, then refresh",
        ),
    }


def test_the_review_json_has_the_shape_of_the_contract(quarter: segmint.Workspace) -> None:
    data = quarter.review().to_json()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"segments", "findings"}
    names = ["broken", "dated", "never", "nocamp", "old", "pair_a", "pair_b", "small"]
    assert [s["name"] for s in data["segments"]] == names
    keys = {"name", "size", "share", "as_of", "status", "error", "checks"}
    assert all(set(s) == keys for s in data["segments"])
    for s in data["segments"]:
        assert all(set(c) == {"check", "ok", "value", "threshold"} for c in s["checks"])
    assert all(set(f) == {"kind", "segments", "message", "action"} for f in data["findings"])
    by_name = {s["name"]: s for s in data["segments"]}
    assert by_name["pair_a"] == {
        "name": "pair_a",
        "size": 3,
        "share": 0.15,
        "as_of": AS_OF,
        "status": "ok",
        "error": None,
        "checks": [
            {"check": "substantial", "ok": True, "value": 3, "threshold": 2},
            {"check": "substantial_share", "ok": True, "value": 0.15, "threshold": 0.005},
            {"check": "reachable", "ok": True, "value": 1.0, "threshold": 0.5},
            {"check": "distinct", "ok": False, "value": 0.75, "threshold": 0.5},
            {"check": "stable", "ok": True, "value": None, "threshold": 0.5},
            {"check": "relative", "ok": True, "value": 0, "threshold": 0},
            {"check": "fresh", "ok": True, "value": 0.0, "threshold": 7},
            {"check": "campaign", "ok": True, "value": "q1", "threshold": None},
        ],
    }
    old = {c["check"]: c for c in by_name["old"]["checks"]}
    assert (by_name["old"]["as_of"], old["fresh"]["ok"], old["fresh"]["value"]) == (
        "2026-01-01T00:00:00Z",
        False,
        30.0,
    )
    assert [c["check"] for c in by_name["dated"]["checks"]] == CHECKS
    assert [c["check"] for c in by_name["never"]["checks"]] == ["fresh", "campaign"]
    assert (by_name["never"]["status"], by_name["never"]["size"]) == ("never", None)
    assert (by_name["broken"]["status"], by_name["broken"]["size"]) == ("failed", None)
    assert "invalid YAML" in by_name["broken"]["error"]


def test_segmint_review_prints_the_review_as_json_or_markdown(quarter: segmint.Workspace) -> None:
    done = cli(quarter, "review", "--format", "json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == quarter.review().to_json()

    md = cli(quarter, "review", "--format", "md")
    assert md.exit_code == 0, md.output
    assert md.stdout == cli(quarter, "review").stdout
    lines = md.stdout.splitlines()
    assert lines[:3] == ["# Segment review", "", "8 active segments."]
    assert "| never | - | - | - | never: not refreshed |" in lines
    assert "| pair_a | 3 | 15.0% | 2026-02-01T00:00:00Z | distinct |" in lines
    findings_at = lines.index("## Findings")
    assert (
        "- **overlap** (pair_a, pair_b): pair_a (3 members) and pair_b (4) share 3 members "
        "(Jaccard 0.75 > 0.5); 100% of pair_a is in pair_b. "
        f"*Action:* {OVERLAP_ACTION}"
    ) in lines[findings_at:]
    assert sum(line.startswith("- **") for line in lines[findings_at:]) == 7
    assert "gone" not in md.stdout


def test_a_rule_that_no_longer_validates_is_a_failed_segment_in_the_review(shop: Build) -> None:
    ws = shop(list(map(reachable, range(20))), min_size=1)
    ws.add_segment("fine", "n < 5", campaign="c")
    ws.add_segment("typo", "n >= 15", campaign="c")
    ws.refresh(as_of=AS_OF)
    typo = 'name: typo\ncampaign: c\nrule: contry = "US"\n'
    (ws.root / "segments" / "typo.yaml").write_text(typo)
    [run] = ws.refresh(["typo"], "2026-02-02T00:00:00Z").failed
    review = ws.review()
    assert [(s.name, s.status) for s in review.segments] == [("fine", "ok"), ("typo", "failed")]
    assert [(f.kind, f.segments) for f in review.findings] == [("failed", ["typo"])]
    assert run.error is not None and run.error in review.findings[0].message


# --- overlap ------------------------------------------------------------------------


def test_segmint_overlap_prints_shared_members_and_jaccard(shop: Build) -> None:
    ws = shop()
    ws.add_segment("a", "n < 6")
    ws.add_segment("b", "n < 4")
    ws.add_segment("c", "n >= 10")
    ws.refresh(["a", "b"], AS_OF)
    done = cli(ws, "overlap", "a", "b", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {
        "sizes": {"a": 6, "b": 4},
        "pairs": [{"a": "a", "b": "b", "both": 4, "jaccard": 0.666667}],
    }
    table = cli(ws, "overlap", "a", "b")
    assert table.exit_code == 0, table.output
    assert "4 (67%)" in table.stdout  # shared members (Jaccard)

    for args in (["c", "a"], []):
        refused = cli(ws, "overlap", *args, "--json")
        assert refused.exit_code == 2
        assert refused.stderr == (
            "error: segment 'c' has not been refreshed yet; run: segmint refresh\n"
        )
    unknown = cli(ws, "overlap", "a", "zz")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: no saved segment 'zz'")


# --- segment show -------------------------------------------------------------------


@pytest.fixture
def pro(shop: Build) -> segmint.Workspace:
    """C09 and C10 are on the pro plan (2 of 20, 10 %) with score 10 (everyone else 1);
    C10 arrives on 2025-06-01. Refreshed three times; the rule edited before the third."""
    people = [
        person(
            i,
            plan="pro" if i in (9, 10) else "free",
            score=10 if i in (9, 10) else 1,
            created_at="2025-06-01T00:00:00Z" if i == 10 else "2025-01-01T00:00:00Z",
        )
        for i in range(20)
    ]
    ws = shop(people)
    ws.add_segment("pro", 'plan = "pro"', campaign="upsell")
    ws.refresh(as_of="2025-03-01T00:00:00Z")  # C09 only
    ws.refresh(as_of="2025-07-01T00:00:00Z")  # C09, C10
    ws.add_segment("pro", 'plan = "pro" and score >= 5', campaign="upsell", replace=True)
    ws.refresh(as_of="2025-08-01T00:00:00Z")
    return ws


def test_segment_show_json_has_trend_versions_checks_and_profile(pro: segmint.Workspace) -> None:
    checks = [c.to_json() for c in pro.quality(["pro"])[0].checks]
    done = cli(pro, "segment", "show", "pro", "--json")
    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)
    assert (shown["size"], shown["customers"], shown["share"]) == (2, 20, 0.1)
    assert (shown["as_of"], shown["refreshed"]) == ("2025-08-01T00:00:00Z", True)
    assert shown["trend"] == [
        {"as_of": "2025-03-01T00:00:00Z", "size": 1},
        {"as_of": "2025-07-01T00:00:00Z", "size": 2},
        {"as_of": "2025-08-01T00:00:00Z", "size": 2},
    ]
    assert shown["versions"] == [
        {"version": 1, "as_of": "2025-03-01T00:00:00Z"},
        {"version": 2, "as_of": "2025-08-01T00:00:00Z"},
    ]
    assert [c["check"] for c in shown["checks"]] == CHECKS
    assert shown["checks"] == checks
    # Ranked by |log lift|: plan (1.0 against 0.1: lift 10), then score (10 against
    # (2 * 10 + 18 * 1) / 20 = 1.9); n (9.5 against 9.5) does not differ.
    first, second = shown["profile"][:2]
    assert first == {
        "field": "plan",
        "kind": "share",
        "value": "pro",
        "segment": 1.0,
        "everyone": pytest.approx(0.1),
        "lift": pytest.approx(10.0),
    }
    assert second == {
        "field": "score",
        "kind": "mean",
        "value": None,
        "segment": 10.0,
        "everyone": pytest.approx(1.9),
        "lift": pytest.approx(10 / 1.9),
    }
    rows = {row["field"]: row for row in shown["profile"]}
    assert rows["n"]["lift"] == pytest.approx(1.0)


def test_segment_show_prints_the_trend_over_the_refreshes(pro: segmint.Workspace) -> None:
    done = cli(pro, "segment", "show", "pro")
    assert done.exit_code == 0, done.output
    assert "1 -> 2 over 3 refreshes" in done.stdout
    assert "v2 from" in done.stdout


def test_segment_show_plot_writes_a_png(pro: segmint.Workspace, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "pro.png"
    done = cli(pro, "segment", "show", "pro", "--plot", str(out))
    assert done.exit_code == 0, done.output
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"wrote {out}" in done.stdout

    pro.add_segment("unrefreshed", "n < 3")
    refused = cli(pro, "segment", "show", "unrefreshed", "--plot", str(tmp_path / "u.png"))
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: segment 'unrefreshed' has no refreshes to plot; run: segmint refresh\n"
    )
    assert not (tmp_path / "u.png").exists()


def test_segment_show_plot_without_matplotlib_names_it(
    pro: segmint.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    out = tmp_path / "pro.png"
    done = cli(pro, "segment", "show", "pro", "--plot", str(out))
    assert done.exit_code == 2
    assert done.stderr.startswith("error: --plot needs matplotlib: pip install 'segmint[plot]'")
    assert not out.exists()


@pytest.fixture
def buyers(shop: Build, tmp_path: Path) -> segmint.Workspace:
    """C00 and C01 (the pro segment) spent 100 each on 2025-11-01, C02 spent 10 later."""
    people = [person(i, plan="pro" if i < 2 else "free") for i in range(20)]
    ws = shop(people)
    orders = """order_id,customer_id,ordered_at,total
        O1,C00,2025-11-01T00:00:00Z,100
        O2,C01,2025-11-01T00:00:00Z,100
        O3,C02,2025-12-01T00:00:00Z,10"""
    ws.ingest("orders", write_csv(tmp_path / "orders.csv", orders))
    ws.add_segment("pro", 'plan = "pro"')
    ws.refresh(as_of=AS_OF)
    return ws


def profile_rows(ws: segmint.Workspace) -> dict[str, dict[str, Any]]:
    done = cli(ws, "segment", "show", "pro", "--json")
    assert done.exit_code == 0, done.output
    return {row["field"]: row for row in json.loads(done.stdout)["profile"]}


def test_segment_show_compares_the_mean_of_a_decimal_trait(buyers: segmint.Workspace) -> None:
    rows = profile_rows(buyers)
    # Members spent 100 each; everyone (100 + 100 + 10) / 20 = 10.5.
    assert rows["revenue_total"] == {
        "field": "revenue_total",
        "kind": "mean",
        "value": None,
        "segment": pytest.approx(100.0),
        "everyone": pytest.approx(10.5),
        "lift": pytest.approx(100 / 10.5),
    }


def test_segment_show_does_not_treat_timestamps_as_categories(buyers: segmint.Workspace) -> None:
    rows = profile_rows(buyers)
    assert rows["orders_count"]["kind"] == "mean"  # the profile is there
    timestamps = {"first_order_at", "last_order_at", "first_seen_at", "last_seen_at"}
    assert timestamps.isdisjoint(rows)


def test_segment_show_takes_every_share_among_everyone_at_as_of(shop: Build) -> None:
    # 20 customers; only 4 have a plan (C00, C01 pro; C02, C03 free). Among those with a
    # plan, pro is 2 / 4 = 50 % (lift 2); among everyone it is 2 / 20 = 10 %, the share
    # of the size line: lift 1.0 / 0.1 = 10.
    plans = {0: "pro", 1: "pro", 2: "free", 3: "free"}
    ws = shop([person(i, **({"plan": plans[i]} if i in plans else {})) for i in range(20)])
    ws.add_segment("pro", 'plan = "pro"')
    ws.refresh(as_of=AS_OF)
    shown = cli(ws, "segment", "show", "pro", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert (data["size"], data["customers"], data["profile_base"]) == (2, 20, 20)
    rows = {row["field"]: row for row in data["profile"]}
    assert rows["plan"] == {
        "field": "plan",
        "kind": "share",
        "value": "pro",
        "segment": 1.0,
        "everyone": 0.1,
        "lift": 10.0,
    }
    text = cli(ws, "segment", "show", "pro")
    assert "size: 2 of 20 customers (10.0%)" in text.stdout
    assert "profile against everyone (20 customers)" in text.stdout
    assert "10.00x" in text.stdout


def test_segment_show_takes_trait_shares_among_everyone_not_the_buyers(
    buyers: segmint.Workspace,
) -> None:
    # C00 and C01 ordered the same (one order of 100 on 2025-11-01), so they share an
    # rfm_segment; 3 of 20 customers bought. The members' rfm_segment is 2 of 20 (10 %) of
    # everyone, not 2 of the 3 buyers: lift 10, as the size line (2 of 20) says.
    rows = profile_rows(buyers)
    assert rows["rfm_segment"]["segment"] == 1.0
    assert rows["rfm_segment"]["everyone"] == pytest.approx(0.1)
    assert rows["rfm_segment"]["lift"] == pytest.approx(10.0)
