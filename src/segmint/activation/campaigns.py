"""Campaigns with holdouts (docs/campaigns.md): the audience of one or more saved segments
frozen at the start, each member assigned to treatment or holdout by a hash of the
campaign and the customer (store/campaigns.py), and a goal: a rule over the events after
the start, within the campaign's window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from segmint.errors import ArgumentError, ConflictError

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.rules.model import RuleNode
    from segmint.segments.context import SegmentContext

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_WINDOW = re.compile(r"([1-9][0-9]{0,3})\s*(d|w)")
MAX_WINDOW_DAYS = 3650


@dataclass(frozen=True)
class Campaign:
    """A campaign as stored: settings, and its frozen audience's group sizes (each
    customer once overall, and per segment)."""

    name: str
    created_at: datetime
    starts_at: datetime
    window_days: int
    holdout: float
    goal: dict[str, Any]
    segments: list[str]
    audience: int
    treatment: int
    held_out: int
    by_segment: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from segmint.rules.coerce import as_rule
        from segmint.rules.text import to_text

        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "starts_at": self.starts_at.isoformat(),
            "window_days": self.window_days,
            "holdout": self.holdout,
            "goal": to_text(as_rule(self.goal)),
            "segments": self.segments,
            "audience": self.audience,
            "treatment": self.treatment,
            "holdout_size": self.held_out,
            "by_segment": {
                s: {"treatment": t, "holdout": h} for s, (t, h) in self.by_segment.items()
            },
        }


def parse_holdout(value: float | str) -> float:
    """``10%``, ``0.1`` or ``10`` (per cent, from 1 up) as a share in (0, 1).

    >>> parse_holdout("10%"), parse_holdout(0.25), parse_holdout("5")
    (0.1, 0.25, 0.05)
    """
    text = str(value).strip()
    try:
        share = float(text.rstrip("%")) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ArgumentError(
            f"--holdout: expected a share like 10% or 0.1, got {text!r}", "--holdout"
        ) from None
    if not text.endswith("%") and share >= 1:
        share /= 100
    if not 0 < share < 1:
        raise ArgumentError(
            f"--holdout: must be more than 0 % and less than 100 %, got {text!r}", "--holdout"
        )
    return round(share, 6)


def parse_window(value: int | str) -> int:
    """``14d``, ``2w`` or a number of days.

    >>> parse_window("14d"), parse_window("2w"), parse_window(30)
    (14, 14, 30)
    """
    text = str(value).strip().lower()
    if text.isdigit():
        days = int(text)
    else:
        found = _WINDOW.fullmatch(text)
        if found is None:
            raise ArgumentError(
                f"--window: expected days like 14d or weeks like 2w, got {text!r}", "--window"
            )
        days = int(found.group(1)) * (7 if found.group(2) == "w" else 1)
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ArgumentError(
            f"--window: must be between 1 and {MAX_WINDOW_DAYS} days, got {days}", "--window"
        )
    return days


def check_goal(goal: RuleNode) -> None:
    """A goal is what members do after the start: event conditions (``did E``,
    ``sum(revenue) of E > 50``, with property filters) joined by and/or/not, without a
    window of their own (the campaign's window is the goal's)."""
    from segmint.rules.model import And, EventAggregate, EventCount, Not, Or

    def walk(node: RuleNode, path: str) -> None:
        if isinstance(node, And):
            for i, child in enumerate(node.and_):
                walk(child, f"{path}.and[{i}]")
        elif isinstance(node, Or):
            for i, child in enumerate(node.or_):
                walk(child, f"{path}.or[{i}]")
        elif isinstance(node, Not):
            walk(node.not_, f"{path}.not")
        elif isinstance(node, EventCount | EventAggregate):
            if node.window is not None:
                raise ArgumentError(
                    f"--goal: {path} has a window of its own; a goal counts the events after "
                    "the campaign's start within its --window, so leave the window out",
                    "--goal",
                )
        else:
            raise ArgumentError(
                f"--goal: {path} is not an event condition; a goal is what members do after "
                "the start, e.g. 'did order_completed' or 'sum(revenue) of order_completed > 50'",
                "--goal",
            )

    walk(goal, "goal")


def create(
    ctx: SegmentContext,
    name: str,
    segments: list[str],
    holdout: float | str,
    goal: Any,
    window: int | str,
    starts: datetime | str | None = None,
) -> Campaign:
    """Create campaign ``name``: the members of ``segments`` at ``starts`` (default now),
    frozen and assigned to treatment or holdout."""
    import pyarrow as pa

    from segmint.segments.query import parse_as_of
    from segmint.segments.refresh import retired_names
    from segmint.store import campaigns as store
    from segmint.store.txn import transaction

    if not _NAME.fullmatch(name):
        raise ArgumentError(
            f"campaign name: lower-case letters, digits, '-' and '_' (at most 63), got {name!r}",
            "name",
        )
    if not segments:
        raise ArgumentError("--segment: a campaign needs at least one segment", "--segment")
    share = parse_holdout(holdout)
    days = parse_window(window)
    when = parse_as_of(starts, "--starts")
    if when > datetime.now(UTC):
        raise ArgumentError(
            "--starts: the audience is frozen at the start, so it cannot be in the future; "
            "create the campaign when it starts",
            "--starts",
        )
    evaluator = ctx.evaluator()
    tree = evaluator.prepare(goal)
    check_goal(tree)
    rules = ctx.segments.rules()
    retired = retired_names(ctx)
    chosen = list(dict.fromkeys(segments))
    for segment in chosen:
        ctx.segments.path(segment)  # an unknown segment is an error with a suggestion
        if segment in retired:
            raise ArgumentError(f"segment {segment!r} is retired", "--segment")
    if store.exists(ctx.con, name):
        raise ConflictError(f"campaign {name!r} already exists; pick another name")
    parts = []
    for segment in chosen:
        ids = evaluator.members(rules[segment], when).column("customer_id")
        parts.append(pa.table({"segment": pa.array([segment] * len(ids)), "customer_id": ids}))
    audience = pa.concat_tables(parts)
    settings = {
        "name": name,
        "created_at": datetime.now(UTC),
        "starts_at": when,
        "window_days": days,
        "holdout": share,
        "goal": tree.to_json(),
        "segments": chosen,
    }
    with transaction(ctx.con, "campaign", "the campaign"):
        store.create(ctx.con, settings, audience)
    return get(ctx, name)


def listed(ctx: SegmentContext) -> list[Campaign]:
    from segmint.store import campaigns as store

    return [Campaign(**entry) for entry in store.listed(ctx.con)]


def get(ctx: SegmentContext, name: str) -> Campaign:
    """One campaign, with its group sizes per segment."""
    from dataclasses import replace

    from segmint.errors import NotFoundError
    from segmint.hints import suggest
    from segmint.store import campaigns as store

    found = {c.name: c for c in listed(ctx)}
    if name not in found:
        raise NotFoundError(
            f"no campaign {name!r}{suggest(name, found)} (see: segmint campaign list)"
        )
    return replace(found[name], by_segment=store.segment_counts(ctx.con, name))


def treatment_members(name: str) -> ir.Table:
    """The ``pid`` of each customer in the treatment group of campaign ``name`` (once,
    whatever segments they came from), as an Ibis table."""
    from segmint.engine.tables import campaign_members_table, people_table

    members = campaign_members_table()
    chosen = members.filter((members.campaign == name) & (members.grp == "treatment"))
    people = people_table()
    ids = chosen.select("customer_id").distinct()
    return ids.join(people, "customer_id").select("pid")
