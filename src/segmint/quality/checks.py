"""Segment quality: named checks per segment, the overlap matrix and the quarterly review.

Everything here reads the stored state of the last refresh (segments/refresh.py): members,
sizes and changes at that refresh's as_of, so a review describes what campaigns would
use. Thresholds are ``[quality]`` in segmint.toml; docs/segments.md explains each check.

Checks (``check``, ``ok``, ``value``, ``threshold``):

- ``substantial``: size >= min_size; ``substantial_share``: size / customers >= min_share;
- ``reachable``: share of members with an email and email consent, or a phone and SMS
  consent, >= min_reachable_share (measurable and accessible);
- ``distinct``: the largest Jaccard overlap with another active segment <= max_overlap;
- ``stable``: 1 - Jaccard(members at the previous refresh, members now) <=
  max_changed_share (no previous refresh: ok, value missing);
- ``relative``: absolute dates in the rule (``between`` windows, ``before``/``after`` and
  other comparisons of dates with fixed values) = 0, so the segment means the same thing
  next month;
- ``fresh``: days since the last refresh <= max_refresh_age_days;
- ``campaign``: the ``campaign`` field is set, or the segment has been in a campaign of
  ``segmint campaign create`` (value: the field, else the latest such campaign).

The review turns the checks into ranked findings (``FINDING_ORDER``): a workspace without
contact details is one ``no_contact_data`` finding; ``too_many_active`` names only the
segments that must go, the weakest by ``RETIRE_WEIGHTS``; ``overlap`` says which segment
to merge into which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmint.config import QualityConfig
    from segmint.rules.catalog import Catalog
    from segmint.rules.model import RuleNode
    from segmint.segments.context import SegmentContext

RELATIVE_OPS = frozenset({"within_last_days", "more_than_days_ago", "is_set", "is_not_set"})


@dataclass(frozen=True)
class Check:
    check: str
    ok: bool
    value: Any
    threshold: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "value": self.value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class SegmentQuality:
    """A segment's state at its last refresh and its checks."""

    name: str
    title: str | None
    campaign: str | None
    size: int | None
    customers: int | None
    as_of: datetime | None
    status: str  # ok, failed, never (not refreshed yet)
    error: str | None
    checks: list[Check] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        if self.size is None or not self.customers:
            return None
        return self.size / self.customers

    def failed_checks(self) -> list[str]:
        return [c.check for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "share": self.share,
            "as_of": _iso(self.as_of),
            "status": self.status,
            "error": self.error,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class Overlap:
    a: str
    b: str
    both: int
    jaccard: float


def absolute_dates(rule: RuleNode, catalog: Catalog) -> int:
    """How many conditions of ``rule`` compare with a fixed date or instant."""
    return sum(_absolute_dates(node, catalog) for node in rule.walk())


def _absolute_dates(rule: RuleNode, catalog: Catalog) -> int:
    """The fixed dates of one node, not counting the nodes under it."""
    from segmint.rules.model import Attribute, Between, EventNode

    if isinstance(rule, Attribute):
        info = catalog.attributes.get(rule.attr)
        dated = info is not None and info.type in ("timestamp", "date")
        return int(dated and rule.op not in RELATIVE_OPS)
    if isinstance(rule, EventNode):
        n = int(isinstance(getattr(rule, "window", None), Between))
        for cond in rule.where:
            kind = catalog.property_type(cond.prop)
            n += int(kind in ("timestamp", "date") and cond.op not in RELATIVE_OPS)
        return n
    return 0


def overlaps(ctx: SegmentContext, names: list[str]) -> tuple[dict[str, int], list[Overlap]]:
    """Stored member counts of ``names`` and every pair's shared members and Jaccard."""
    members = ctx.members()
    sizes = members.counts(names)
    shared = members.shared(names)
    out = []
    for i, a in enumerate(sorted(names)):
        for b in sorted(names)[i + 1 :]:
            both = shared.get((a, b), 0)
            union = sizes[a] + sizes[b] - both
            out.append(Overlap(a, b, both, both / union if union else 0.0))
    return sizes, out


def assess(ctx: SegmentContext, names: list[str] | None = None) -> list[SegmentQuality]:
    """The checks of the active saved segments (or of ``names``) at their last refresh."""
    from segmint.errors import SegmintError
    from segmint.segments.refresh import retired_names

    config = ctx.config.quality
    files = ctx.segments.files()
    retired = retired_names(ctx)
    chosen = names or [n for n in files if n not in retired]
    evaluator = ctx.evaluator()
    runs = _last_runs(ctx)
    active = [n for n in files if n not in retired]
    _, pairs = overlaps(ctx, sorted(set(active) | set(chosen)))
    largest: dict[str, tuple[float, str | None]] = {}
    for o in pairs:
        for me, other in ((o.a, o.b), (o.b, o.a)):
            if other in active and o.jaccard > largest.get(me, (-1.0, None))[0]:
                largest[me] = (o.jaccard, other)
    customers: dict[datetime, int] = {}
    campaigned = _campaigned(ctx)
    now = datetime.now(UTC)
    out = []
    for name in chosen:
        try:
            definition = ctx.segments.get(name)
            title, campaign, rule = definition.title, definition.campaign, definition.rule
            linked = campaign or campaigned.get(name)
        except SegmintError as exc:
            out.append(SegmentQuality(name, None, None, None, None, None, "failed", str(exc)))
            continue
        run = runs.get(name)
        if run is None or run["ok_as_of"] is None:
            status = "failed" if run is not None and run["status"] == "failed" else "never"
            error = None if run is None else run["error"]
            checks = [Check("fresh", False, None, config.max_refresh_age_days)]
            checks.append(Check("campaign", linked is not None, linked, None))
            out.append(
                SegmentQuality(name, title, campaign, None, None, None, status, error, checks)
            )
            continue
        as_of = run["ok_as_of"]
        if as_of not in customers:
            customers[as_of] = evaluator.count({"and": []}, as_of)
        size, total = run["size"], customers[as_of]
        checks = [
            Check("substantial", size >= config.min_size, size, config.min_size),
            Check(
                "substantial_share",
                total > 0 and size / total >= config.min_share,
                round(size / total, 6) if total else None,
                config.min_share,
            ),
        ]
        reach = _reachable(ctx, name, size)
        reach_min = config.min_reachable_share
        checks.append(Check("reachable", reach >= reach_min, round(reach, 6), reach_min))
        jaccard, _ = largest.get(name, (0.0, None))
        checks.append(
            Check("distinct", jaccard <= config.max_overlap, round(jaccard, 6), config.max_overlap)
        )
        changed = run["changed"]
        checks.append(
            Check(
                "stable",
                changed is None or changed <= config.max_changed_share,
                None if changed is None else round(changed, 6),
                config.max_changed_share,
            )
        )
        # The rule as written (it may no longer validate: its last refresh then failed).
        fixed = absolute_dates(rule, evaluator.catalog)
        checks.append(Check("relative", fixed == 0, fixed, 0))
        age = (now - run["refreshed_at"]).total_seconds() / 86400
        max_age = config.max_refresh_age_days
        checks.append(Check("fresh", age <= max_age, round(age, 2), max_age))
        checks.append(Check("campaign", linked is not None, linked, None))
        status = "failed" if run["status"] == "failed" else "ok"  # retired: its last state
        out.append(
            SegmentQuality(name, title, campaign, size, total, as_of, status, run["error"], checks)
        )
    return out


def _last_runs(ctx: SegmentContext) -> dict[str, dict[str, Any]]:
    """Per segment that has run: its last run's status and error (segments/refresh.py
    ``states``), and from its last good run the as_of, size, when it ran, and the share of
    members that changed (1 - Jaccard with the run before)."""
    from segmint.segments.refresh import states
    from segmint.store.segments import last_good_runs

    good = last_good_runs(ctx.con)
    out = {}
    for name, state in states(ctx).items():
        if state.status in ("never", "retired") and name not in good:
            continue
        run, runs = good.get(name, (None, 0))
        changed = None
        if run is not None and runs > 1:
            union = run["size"] + run["exited"]
            changed = (run["entered"] + run["exited"]) / union if union else 0.0
        out[name] = {
            "status": state.status,
            "error": state.error,
            "ok_as_of": None if run is None else run["as_of"],
            "size": None if run is None else int(run["size"]),
            "changed": changed,
            "refreshed_at": None if run is None else run["at"],
        }
    return out


def _campaigned(ctx: SegmentContext) -> dict[str, str]:
    """Per segment that has been in a stored campaign: the latest one's name (by start).

    One notion of "linked to a campaign" for the ``campaign`` check and the review's
    ``no_campaign`` finding: a campaign named in the file, or one actually run on it."""
    from segmint.store.campaigns import listed

    out = {}
    for entry in sorted(listed(ctx.con), key=lambda e: (e["starts_at"], e["name"])):
        out.update(dict.fromkeys(entry["segments"], entry["name"]))
    return out


def _reachable(ctx: SegmentContext, name: str, size: int) -> float:
    """Share of a segment's stored members reachable by email (with consent) or SMS."""
    if not size:
        return 0.0
    return ctx.members().reachable(name) / size


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the review -----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str
    segments: list[str]
    message: str
    action: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "segments": self.segments,
            "message": self.message,
            "action": self.action,
        }


@dataclass(frozen=True)
class Review:
    """The quarterly review: every active segment's checks and what to do about them."""

    segments: list[SegmentQuality]
    findings: list[Finding]
    config: QualityConfig

    def to_json(self) -> dict[str, Any]:
        return {
            "segments": [s.to_json() for s in self.segments],
            "findings": [f.to_json() for f in self.findings],
        }

    def to_markdown(self) -> str:
        lines = ["# Segment review", ""]
        lines.append(f"{len(self.segments)} active segments.")
        lines += [
            "",
            "| segment | size | share | as of | failed checks |",
            "|---|---:|---:|---|---|",
        ]
        for s in self.segments:
            size = "-" if s.size is None else f"{s.size:,}"
            share = "-" if s.share is None else f"{s.share:.1%}"
            failed = ", ".join(s.failed_checks()) or "none"
            if s.status != "ok":
                failed = f"{s.status}: {s.error or 'not refreshed'}"
            lines.append(f"| {s.name} | {size} | {share} | {_iso(s.as_of) or '-'} | {failed} |")
        lines += ["", "## Findings", ""]
        if not self.findings:
            lines.append("Nothing to act on.")
        for f in self.findings:
            who = f" ({', '.join(f.segments)})" if f.segments else ""
            lines.append(f"- **{f.kind}**{who}: {f.message} *Action:* {f.action}")
        return "\n".join(lines) + "\n"


# Weights of the reasons to retire a segment (docs/segments.md, "The review"): the weakest
# segments have the largest sum; ties go to the smaller segment, so the largest distinct
# segments are the last ever named.
RETIRE_WEIGHTS = {
    "failed": 5,
    "too_small": 3,
    "covered": 3,
    "unstable": 2,
    "stale": 2,
    "unreachable": 1,
    "no_campaign": 1,
}
# Findings come in this order (then, within a kind, the weakest segment or the largest
# overlap first): what blocks everything, what cuts the count, then per-segment fixes.
FINDING_ORDER = (
    "no_contact_data",
    "failed",
    "too_many_active",
    "overlap",
    "too_small",
    "unstable",
    "stale",
    "no_campaign",
)


@dataclass(frozen=True)
class Weakness:
    """Why a segment could go, and its score (the sum of RETIRE_WEIGHTS of its reasons)."""

    segment: SegmentQuality
    reasons: list[str]
    covered_by: Overlap | None  # the larger segment it overlaps above max_overlap

    @property
    def score(self) -> int:
        return sum(RETIRE_WEIGHTS[r] for r in self.reasons)

    def rank_key(self) -> tuple[int, int, str]:
        return (-self.score, self.segment.size or 0, self.segment.name)

    def describe(self) -> str:
        s = self.segment
        size = "no members counted" if s.size is None else f"{s.size:,} members"
        words = [_REASON_WORDS[r] for r in self.reasons if r != "covered"]
        if self.covered_by is not None:
            o = self.covered_by
            other = o.b if o.a == s.name else o.a
            words.append(f"overlaps the larger {other} (Jaccard {o.jaccard:.2f})")
        return f"{s.name} ({size}{': ' + ', '.join(words) if words else ''})"


_REASON_WORDS = {
    "failed": "its refresh failed",
    "too_small": "too small",
    "unstable": "unstable",
    "stale": "stale",
    "unreachable": "few members reachable",
    "no_campaign": "no campaign",
}


def review(ctx: SegmentContext) -> Review:
    """Checks of every active segment and the findings of DESIGN section 6, ranked."""
    config = ctx.config.quality
    segments = assess(ctx)
    sizes, pairs = overlaps(ctx, [s.name for s in segments])
    merges = _merge_pairs(pairs, sizes, config.max_overlap)
    contact = _contact_share(ctx)
    no_contact = contact is not None and contact[0] / contact[1] < config.min_reachable_share
    weak = {s.name: _weakness(s, merges, not no_contact) for s in segments}
    ranked = sorted(weak.values(), key=Weakness.rank_key)
    findings: list[Finding] = []
    if no_contact and contact is not None:
        findings.append(_no_contact_finding(*contact, config.min_reachable_share))
    if len(segments) > config.max_active:
        findings.append(_too_many(ranked, config.max_active))
    for small, large, o in merges:
        findings.append(_merge_finding(small, large, o, sizes, config.max_overlap))
    for w in ranked:
        findings.extend(_segment_findings(w, config))
    order = {kind: i for i, kind in enumerate(FINDING_ORDER)}
    findings.sort(key=lambda f: order.get(f.kind, len(order)))  # stable: ranks kept
    return Review(segments, findings, config)


def _merge_pairs(
    pairs: list[Overlap], sizes: dict[str, int], max_overlap: float
) -> list[tuple[str, str, Overlap]]:
    """(smaller, larger, overlap) of every pair above ``max_overlap``, largest Jaccard first;
    of two equal sizes the later name is the smaller."""
    out = []
    for o in sorted(pairs, key=lambda o: (-o.jaccard, o.a, o.b)):
        if o.jaccard > max_overlap:
            small, large = (o.a, o.b) if (sizes[o.a], o.b) < (sizes[o.b], o.a) else (o.b, o.a)
            out.append((small, large, o))
    return out


def _weakness(
    s: SegmentQuality, merges: list[tuple[str, str, Overlap]], count_reach: bool
) -> Weakness:
    failed = set(s.failed_checks())
    reasons = []
    if s.status == "failed":
        reasons.append("failed")
    if failed & {"substantial", "substantial_share"}:
        reasons.append("too_small")
    covered = next((o for small, _, o in merges if small == s.name), None)
    if covered is not None:
        reasons.append("covered")
    if "stable" in failed:
        reasons.append("unstable")
    if failed & {"fresh", "relative"}:
        reasons.append("stale")
    if count_reach and "reachable" in failed:
        reasons.append("unreachable")
    if "campaign" in failed:
        reasons.append("no_campaign")
    return Weakness(s, reasons, covered)


def _contact_share(ctx: SegmentContext) -> tuple[int, int] | None:
    """Known customers with an email and email consent or a phone and SMS consent, and all
    known customers (None when there are none)."""
    reachable, everyone = ctx.members().contactable()
    return (reachable, everyone) if everyone else None


def _no_contact_finding(reachable: int, customers: int, minimum: float) -> Finding:
    who = (
        "no customer has"
        if reachable == 0
        else f"only {reachable:,} of {customers:,} customers ({reachable / customers:.1%}) have"
    )
    return Finding(
        "no_contact_data",
        [],
        f"{who} an email with email consent or a phone with SMS consent, so segments "
        f"cannot reach {minimum:.0%} of their members (reachable fails for the data, not "
        "for the segments).",
        "ingest the contact details: email and email_consent, phone and sms_consent "
        "in the customers file",
    )


def _too_many(ranked: list[Weakness], max_active: int) -> Finding:
    excess = len(ranked) - max_active
    picks = ranked[:excess]
    return Finding(
        "too_many_active",
        [w.segment.name for w in picks],
        f"{len(ranked)} active segments; more than {max_active} is more than a team can act "
        f"on and measure (the 5-8 zone): {excess} should go.",
        "retire or merge the weakest, weakest first: " + "; ".join(w.describe() for w in picks),
    )


def _merge_finding(
    small: str, large: str, o: Overlap, sizes: dict[str, int], max_overlap: float
) -> Finding:
    inside = o.both / sizes[small] if sizes[small] else 0.0
    return Finding(
        "overlap",
        [small, large],
        f"{small} ({sizes[small]:,} members) and {large} ({sizes[large]:,}) share {o.both:,} "
        f"members (Jaccard {o.jaccard:.2f} > {max_overlap}); {inside:.0%} of {small} is "
        f"in {large}.",
        f"merge {small} into {large}, or sharpen one rule so they differ",
    )


def _segment_findings(w: Weakness, config: QualityConfig) -> list[Finding]:
    s, out = w.segment, []
    failed = set(s.failed_checks())
    if s.status == "failed":
        message = f"the last refresh of {s.name} failed: {s.error}"
        action = "fix the segment file or the rule, then refresh"
        out.append(Finding("failed", [s.name], message, action))
    if "too_small" in w.reasons:
        share = "-" if s.share is None else f"{s.share:.2%}"
        out.append(
            Finding(
                "too_small",
                [s.name],
                f"{s.name} has {s.size:,} members ({share} of customers); minimum "
                f"{config.min_size} and {config.min_share:.1%}.",
                "retire it, or widen the rule",
            )
        )
    if "unstable" in w.reasons:
        changed = next(c.value for c in s.checks if c.check == "stable")
        out.append(
            Finding(
                "unstable",
                [s.name],
                f"{changed:.0%} of the members of {s.name} changed since the previous refresh "
                f"(more than {config.max_changed_share:.0%}): it is hard to act on or measure.",
                "retire it, or base the rule on longer windows",
            )
        )
    if "campaign" in failed:
        message = f"{s.name} is not linked to a campaign: not ready to activate."
        action = "link a campaign (the campaign field of its file)"
        out.append(Finding("no_campaign", [s.name], message, action))
    if "stale" in w.reasons:
        out.append(_stale_finding(s, failed, config))
    return out


def _stale_finding(s: SegmentQuality, failed: set[str], config: QualityConfig) -> Finding:
    why = []
    if "relative" in failed:
        why.append("its rule uses absolute dates")
    if "fresh" in failed:
        if s.as_of is None:
            why.append(
                "it was never refreshed" if s.status == "never" else "it has no successful refresh"
            )
        else:
            why.append(f"its last refresh is older than {config.max_refresh_age_days} days")
    action = (
        "redefine it with relative windows (last N days)"
        if "relative" in failed
        else "refresh it (segmint refresh, or on a schedule)"
    )
    return Finding("stale", [s.name], f"{s.name}: {' and '.join(why)}.", action)
