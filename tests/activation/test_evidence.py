"""Merge and retire on evidence: responses built here per segment and group, two finished
campaigns on four segments (``alpha`` and ``beta`` respond alike, ``gamma`` much more,
``flat`` not at all), and the review's findings checked against quality/lift.py on the
reports' own counts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest

import segmint
from segmint.activation.evidence import campaign_findings
from segmint.errors import ConfigError
from segmint.quality import lift
from segmint.quality.checks import Finding
from tests.conftest import run_cli

PER_SEGMENT = 4_000
# Every step-th customer of a segment's group converts: (treatment, holdout) steps.
STEPS = {"alpha": (4, 8), "beta": (4, 8), "gamma": (2, 8), "flat": (10, 10)}
CAMPAIGNS = {"spring": "2026-03-01T00:00:00Z", "summer": "2026-04-01T00:00:00Z"}
BUY_AT = {"spring": "2026-03-05T12:00:00Z", "summer": "2026-04-05T12:00:00Z"}
KINDS = ("respond_identically", "unresponsive", "no_campaign")


def points(share: float) -> str:
    """A share as signed percentage points, one decimal, without a "-0.0"."""
    text = f"{share * 100:+.1f}"
    return "+0.0" if text == "-0.0" else text


def campaign_kinds(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind in KINDS]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evidence") / "ws"
    tiers = [*STEPS, "idle"]
    ids = [f"C{i:05d}" for i in range(PER_SEGMENT * len(tiers))]
    tier = {c: tiers[i // PER_SEGMENT] for i, c in enumerate(ids)}
    with segmint.init(root) as ws:
        ws.ingest(
            "customers",
            pa.table(
                {
                    "customer_id": ids,
                    "tier": [tier[c] for c in ids],
                    "created_at": ["2026-01-01T00:00:00Z"] * len(ids),
                }
            ),
        )
        for name in tiers:
            ws.add_segment(name, f'tier = "{name}"')
        # The goal's event must be known when a campaign is made.
        old = {"customer_id": ["C00000"], "event": ["order_completed"]}
        ws.ingest("events", pa.table({**old, "timestamp": ["2026-01-15T00:00:00Z"]}))
        events: dict[str, list[str]] = {"customer_id": [], "event": [], "timestamp": []}
        for campaign, starts in CAMPAIGNS.items():
            ws.create_campaign(
                campaign, list(STEPS), "did order_completed", holdout="50%", starts=starts
            )
            seen: dict[tuple[str, str], int] = {}
            for row in ws.campaign_members(campaign).to_pylist():
                segment, group = row["segment"], row["group"]
                k = seen[(segment, group)] = seen.get((segment, group), -1) + 1
                if k % STEPS[segment][group == "holdout"] == 0:
                    events["customer_id"].append(row["customer_id"])
                    events["event"].append("order_completed")
                    events["timestamp"].append(BUY_AT[campaign])
        ws.ingest("events", pa.table(events))
    return root


def test_the_review_merges_alike_segments_and_retires_unresponsive_ones(shop: Path) -> None:
    with segmint.open(shop, read_only=True) as ws:
        summer = ws.campaign_report("summer")
        findings = campaign_kinds(ws.review().findings)
    by = {r.segment: r for r in summer.segments}
    assert {s: r.verdict for s, r in by.items()} == {
        "alpha": "measurable lift",
        "beta": "measurable lift",
        "gamma": "measurable lift",
        "flat": "no measurable response",
    }
    diff = lift.difference_of_lifts(by["alpha"].conversion, by["beta"].conversion)
    assert diff.interval is not None and diff.difference is not None
    small, large = sorted(["alpha", "beta"], key=lambda s: (by[s].audience, s == "alpha"))

    def said(segment: str) -> str:
        c = by[segment].conversion
        assert c.absolute is not None and c.absolute_interval is not None
        low, high = c.absolute_interval
        return (
            f"{segment} lifted conversion by {points(c.absolute)} points "
            f"({points(low)} to {points(high)}, {by[segment].audience:,} customers)"
        )

    low, high = diff.interval
    identical = Finding(
        "respond_identically",
        [small, large],
        f"in campaign summer, {said('alpha')} and {said('beta')}; the difference of their "
        f"lifts is {points(diff.difference)} points (95 % interval {points(low)} to "
        f"{points(high)}), within ±5 points: they respond alike.",
        f"merge {small} into {large}",
    )
    # One finding per pair (the latest campaign), none for gamma or flat against others;
    # flat is unresponsive in both campaigns; idle was never in one.
    assert [f.kind for f in findings] == ["no_campaign", "respond_identically", "unresponsive"]
    assert findings[0].segments == ["idle"]
    assert findings[1] == identical
    flat = findings[2]
    assert flat.segments == ["flat"] and flat.action == "redefine or retire it"
    assert flat.message.startswith("flat showed no measurable response in its last 2 campaigns")
    assert "spring: flat lifted conversion by" in flat.message
    assert f"summer: {said('flat')}, where a lift of {by['flat'].mde * 100:.1f} points" in (
        flat.message
    )


def test_a_campaign_still_running_gives_no_findings(shop: Path) -> None:
    with segmint.open(shop, read_only=True) as ws:
        context = ws._context()
        reports = [ws.campaign_report(name) for name in CAMPAIGNS]
        assert campaign_findings(context, reports) != []
        running = [replace(r, finished=False) for r in reports]
        assert campaign_findings(context, running) == []


def test_the_margin_and_the_cycles_come_from_the_config(shop: Path) -> None:
    config = shop / "segmint.toml"
    original = config.read_text()
    try:
        config.write_text("[campaigns]\nequivalence_margin = 0.01\nunresponsive_cycles = 3\n")
        with segmint.open(shop, read_only=True) as ws:
            assert [f.kind for f in campaign_kinds(ws.review().findings)] == ["no_campaign"]
        config.write_text("[campaigns]\nunresponsive_cycles = 1\n")
        with segmint.open(shop, read_only=True) as ws:
            kinds = [f.kind for f in campaign_kinds(ws.review().findings)]
        assert kinds == ["no_campaign", "respond_identically", "unresponsive"]
        config.write_text("[campaigns]\nequivalence_margin = 0\n")
        with pytest.raises(ConfigError, match="equivalence_margin"):
            segmint.open(shop, read_only=True)
    finally:
        config.write_text(original)


def test_segmint_review_shows_the_findings(shop: Path) -> None:
    done = run_cli(shop, "review")
    assert done.returncode == 0, done.stderr
    assert "**respond_identically** (alpha, beta)" in done.stdout or (
        "**respond_identically** (beta, alpha)" in done.stdout
    )
    assert "*Action:* merge" in done.stdout and "**unresponsive** (flat)" in done.stdout
    as_json = json.loads(run_cli(shop, "review", "--format", "json").stdout)
    kinds = [f["kind"] for f in as_json["findings"]]
    assert kinds.count("respond_identically") == 1 and kinds.count("unresponsive") == 1
