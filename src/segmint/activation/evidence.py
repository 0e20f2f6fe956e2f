"""The review's findings from finished campaigns (docs/campaigns.md, "Merge and retire on
evidence"): two segments of one campaign that respond identically, and segments with no
measurable response in their last campaigns.

- ``respond_identically``: for each pair of active segments, the latest finished campaign
  they were both in decides. Their lifts' difference (quality/lift.py
  ``difference_of_lifts``) has a 95 % interval that includes 0 and is equivalent within
  ``[campaigns] equivalence_margin`` (``equivalent``, two one-sided tests). The smaller
  segment (by its audience in that campaign; of two equal, the later name) merges into
  the larger, as for the review's ``overlap``.
- ``unresponsive``: an active segment whose last ``[campaigns] unresponsive_cycles``
  finished campaigns (by start) all have the verdict "no measurable response". Fewer
  finished campaigns than that are not enough evidence, and a campaign still running
  has none.

A segment never in a campaign is the review's own ``no_campaign`` finding
(quality/checks.py), which counts a campaign run on it as a link: nothing is added here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from segmint.quality import lift
from segmint.quality.checks import Finding

if TYPE_CHECKING:
    from segmint.activation.campaigns import CampaignReport, Response
    from segmint.segments.context import SegmentContext


def campaign_findings(
    ctx: SegmentContext, reports: list[CampaignReport] | None = None
) -> list[Finding]:
    """The ``respond_identically`` findings, then the ``unresponsive`` ones, from
    ``reports`` (default: the report of every campaign whose window is over); reports of
    campaigns still running are left out."""
    from segmint.segments.refresh import retired_names

    if reports is None:
        reports = finished_reports(ctx)
    done = sorted(
        (r for r in reports if r.finished),
        key=lambda r: (r.campaign.starts_at, r.campaign.name),
    )
    retired = retired_names(ctx)
    active = [name for name in ctx.segments.files() if name not in retired]
    config = ctx.config.campaigns
    findings = _identical(done, active, config.equivalence_margin)
    for name in active:
        finding = _unresponsive(name, done, config.unresponsive_cycles)
        if finding is not None:
            findings.append(finding)
    return findings


def finished_reports(ctx: SegmentContext) -> list[CampaignReport]:
    """The report of every stored campaign whose window is over, oldest start first."""
    from segmint.activation.campaigns import listed, report

    now = datetime.now(UTC)
    over = [c for c in listed(ctx) if c.starts_at + timedelta(days=c.window_days) <= now]
    return [report(ctx, c.name) for c in sorted(over, key=lambda c: (c.starts_at, c.name))]


def _identical(done: list[CampaignReport], active: list[str], margin: float) -> list[Finding]:
    latest: dict[tuple[str, str], tuple[CampaignReport, Response, Response]] = {}
    for report in done:  # oldest first: a later campaign replaces an earlier one's pair
        responses = [r for r in report.segments if r.segment in active]
        for i, a in enumerate(responses):
            for b in responses[i + 1 :]:
                key = tuple(sorted((str(a.segment), str(b.segment))))
                latest[(key[0], key[1])] = (report, a, b)
    findings = []
    for report, a, b in latest.values():
        diff = lift.difference_of_lifts(a.conversion, b.conversion)
        if diff.interval is None or not diff.interval[0] <= 0 <= diff.interval[1]:
            continue
        if lift.equivalent(diff, margin):
            findings.append(_identical_finding(report, a, b, diff, margin))
    return findings


def _identical_finding(
    report: CampaignReport,
    a: Response,
    b: Response,
    diff: lift.LiftDifference,
    margin: float,
) -> Finding:
    small, large = (a, b) if (a.audience, str(b.segment)) < (b.audience, str(a.segment)) else (b, a)
    assert diff.difference is not None and diff.interval is not None  # checked by the caller
    return Finding(
        "respond_identically",
        [str(small.segment), str(large.segment)],
        f"in campaign {report.campaign.name}, {_lift_text(a)} and {_lift_text(b)}; the "
        f"difference of their lifts is {_points(diff.difference)} (95 % interval "
        f"{_span(diff.interval)}), within ±{margin * 100:g} points: they respond alike.",
        f"merge {small.segment} into {large.segment}",
    )


def _unresponsive(name: str, done: list[CampaignReport], cycles: int) -> Finding | None:
    mine = [
        (report, response)
        for report in done
        for response in report.segments
        if response.segment == name
    ]
    last = mine[-cycles:]
    if len(last) < cycles or any(r.verdict != lift.NO_RESPONSE for _, r in last):
        return None
    each = "; ".join(
        f"{report.campaign.name}: {_lift_text(r)}, where a lift of {r.mde * 100:.1f} points would "
        "most likely have shown"
        for report, r in last
    )
    count = "campaign" if cycles == 1 else f"{cycles} campaigns"
    return Finding(
        "unresponsive",
        [name],
        f"{name} showed no measurable response in its last {count} ({each}).",
        "redefine or retire it",
    )


def _lift_text(response: Response) -> str:
    c = response.conversion
    assert c.absolute is not None and c.absolute_interval is not None  # it has a verdict
    return (
        f"{response.segment} lifted conversion by {_points(c.absolute)} "
        f"({_span(c.absolute_interval)}, {response.audience:,} customers)"
    )


def _points(share: float) -> str:
    """A difference of rates in percentage points: ``+2.5 points``."""
    return f"{_signed(share)} points"


def _span(interval: tuple[float, float]) -> str:
    return f"{_signed(interval[0])} to {_signed(interval[1])}"


def _signed(share: float) -> str:
    # Rounded first, and + 0.0 turns -0.0 into 0.0: a lift of -0.001 points reads +0.0.
    return f"{round(share * 100, 1) + 0.0:+.1f}"
