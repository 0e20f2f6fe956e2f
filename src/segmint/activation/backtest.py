"""Backtesting a saved segment (docs/campaigns.md, "Backtest a segment"): who was in it at
a past as_of, and how many of them met a goal in the window after, against everyone else
who existed then. It judges a segment on past behaviour before money is spent on it.

Exact as-of semantics. The segment is evaluated by the same evaluator as ``segment count
--as-of``, so it sees what docs/rules.md ("Who can be a member" and the windows) says a
rule sees at its as_of: only events at or before the as_of, the population that existed
then (created, or first seen, by the as_of), computed traits (CLV models included) at the
as_of, and saved segments it refers to at the same as_of. Events loaded later with
earlier timestamps count as if they had been there, and attributes are the profile's
current values: segmint keeps no attribute history, so a rule on an attribute that has
changed since reads today's value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from segmint.errors import ArgumentError

if TYPE_CHECKING:
    import pyarrow as pa

    from segmint.quality.lift import ConversionLift
    from segmint.segments.context import SegmentContext
    from segmint.segments.query import Evaluator

# Each as_of is two statements; beyond two years of monthly dates a backtest is a batch job
# rather than a question, and one command should answer in seconds.
MAX_DATES = 24
# Everyone in the population at an as_of: the empty ``and`` is true (docs/rules.md).
EVERYONE: dict[str, Any] = {"and": []}


@dataclass(frozen=True)
class BacktestPoint:
    """The segment at one as_of: its members ("treated") against everyone else in the
    population then ("held"), and who of each met the goal in ``[as_of, until)``, counted
    at ``evaluated_at`` (``until``, or now while the window is still open)."""

    as_of: datetime
    until: datetime
    evaluated_at: datetime
    conversion: ConversionLift
    mde: float
    verdict: str

    @property
    def complete(self) -> bool:
        """Whether the whole window is in the past (else the figures are partial)."""
        return self.evaluated_at >= self.until

    @property
    def members(self) -> int:
        return self.conversion.treated

    @property
    def members_converted(self) -> int:
        return self.conversion.treated_converted

    @property
    def others(self) -> int:
        return self.conversion.held

    @property
    def others_converted(self) -> int:
        return self.conversion.held_converted

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "until": self.until.isoformat(),
            "evaluated_at": self.evaluated_at.isoformat(),
            "complete": self.complete,
            "members": self.members,
            "members_converted": self.members_converted,
            "others": self.others,
            "others_converted": self.others_converted,
            "conversion": asdict(self.conversion),
            "minimum_detectable_effect": None if math.isnan(self.mde) else self.mde,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class Backtest:
    """A segment's backtest: its rule and the goal as text, the window, one point per
    as_of (oldest first)."""

    segment: str
    rule: str
    goal: str
    window_days: int
    points: list[BacktestPoint]

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "rule": self.rule,
            "goal": self.goal,
            "window_days": self.window_days,
            "points": [p.to_dict() for p in self.points],
        }


def backtest(
    ctx: SegmentContext,
    segment: str,
    at: Sequence[datetime | date | str] | datetime | date | str,
    goal: Any,
    window: int | str,
) -> Backtest:
    """Backtest saved segment ``segment`` at each instant of ``at`` (sorted, at most
    ``MAX_DATES``, each in the past): its members against everyone else at that instant,
    and who of each met ``goal`` (an event condition, as a campaign's) within ``window``
    after it. Everything is checked before any query runs."""
    from segmint.activation.campaigns import check_goal, parse_window
    from segmint.rules.text import to_text

    ctx.segments.path(segment)  # an unknown segment is an error with a suggestion
    evaluator = ctx.evaluator()
    rule = evaluator.prepare(ctx.segments.rules()[segment], name=segment)
    tree = evaluator.prepare(goal)
    check_goal(tree)
    days = parse_window(window)
    dates = parse_dates(at, datetime.now(UTC))
    points = [_point(evaluator, rule, tree.to_json(), when, days) for when in dates]
    return Backtest(segment, to_text(rule), to_text(tree), days, points)


def parse_dates(
    at: Sequence[datetime | date | str] | datetime | date | str, now: datetime
) -> list[datetime]:
    """The as_of instants, parsed as ``--as-of`` is, without repeats, oldest first.

    >>> from datetime import datetime, UTC
    >>> [d.date().isoformat() for d in parse_dates(["2026-03-01", "2026-01-01"],
    ...                                             datetime(2026, 6, 1, tzinfo=UTC))]
    ['2026-01-01', '2026-03-01']
    """
    from segmint.segments.query import parse_as_of

    given = [at] if isinstance(at, str | date) else list(at)
    if not given:
        raise ArgumentError("--at: a backtest needs at least one date", "--at")
    dates = sorted({parse_as_of(value, "--at") for value in given})
    if len(dates) > MAX_DATES:
        raise ArgumentError(
            f"--at: at most {MAX_DATES} dates in one backtest, got {len(dates)}", "--at"
        )
    future = [d for d in dates if d >= now]
    if future:
        raise ArgumentError(
            f"--at: {future[0].isoformat()} is not in the past; a backtest looks at who was "
            "in the segment then and what they did afterwards",
            "--at",
        )
    return dates


def _point(
    evaluator: Evaluator, rule: Any, goal: dict[str, Any], as_of: datetime, days: int
) -> BacktestPoint:
    from segmint.activation.campaigns import goal_in_window
    from segmint.quality import lift
    from segmint.store.campaigns import backtest_counts

    until = as_of + timedelta(days=days)
    evaluated_at = min(until, datetime.now(UTC))
    # The goal is evaluated at the window's end, so it sees the events of the window; who
    # it counts is limited to the segment and the population at as_of, evaluated at as_of
    # in the statement that counts.
    at_end = goal_in_window(goal, as_of, until), evaluated_at
    if evaluator.source is None:
        members_sql, params = evaluator.member_set(rule, as_of, "pid")
        population_sql, more = evaluator.member_set(EVERYONE, as_of, "pid")
        # The goal is at another instant in the same statement: its own variables.
        converted_sql, at_end_params = evaluator.member_set(*at_end, "pid", prefix="goal_")
        found = backtest_counts(
            evaluator.engine,
            converted_sql,
            members_sql,
            population_sql,
            {**params, **more, **at_end_params},
        )
    else:
        found = _source_counts(evaluator, rule, at_end, as_of)
    members, members_converted, others, others_converted = found
    conversion = lift.conversion(members, members_converted, others, others_converted)
    base = conversion.held_rate if conversion.held_rate is not None else math.nan
    mde = lift.minimum_detectable_effect(members, others, base)
    return BacktestPoint(as_of, until, evaluated_at, conversion, mde, lift.verdict(conversion, mde))


def _source_counts(
    evaluator: Evaluator, rule: Any, at_end: tuple[dict[str, Any], datetime], as_of: datetime
) -> tuple[int, int, int, int]:
    """:func:`segmint.store.campaigns.backtest_counts` on a source engine: the three
    member lists come over as Arrow and are counted here."""
    import pyarrow.compute as pc

    def ids(rule: Any, when: datetime) -> pa.Array:
        return evaluator.members(rule, when).column("customer_id").combine_chunks()

    def count_in(chosen: pa.Array, among: pa.Array) -> int:
        return int(pc.sum(pc.is_in(chosen, value_set=among)).as_py() or 0)

    members, population = ids(rule, as_of), ids(EVERYONE, as_of)
    converted = ids(*at_end)
    members_converted = count_in(members, converted)
    # Members are part of the population (a rule selects within it, docs/rules.md).
    others_converted = count_in(population, converted) - members_converted
    return len(members), members_converted, len(population) - len(members), others_converted
