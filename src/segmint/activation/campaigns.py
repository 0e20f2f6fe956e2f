"""Campaigns with holdouts (docs/campaigns.md): the audience of one or more saved segments
frozen at the start, each member assigned to treatment or holdout by a hash of the
campaign and the customer (store/campaigns.py), and a goal: a rule over the events after
the start, within the campaign's window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from segmint.errors import ArgumentError, ConflictError

if TYPE_CHECKING:
    from pathlib import Path

    import ibis.expr.types as ir
    import pyarrow as pa

    from segmint.quality.lift import ConversionLift, MeanLift, SampleRatio
    from segmint.rules.model import RuleNode
    from segmint.segments.context import SegmentContext

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
GOAL = "goal"
IMPORTED = "imported results"
# The columns `campaign import-results` reads.
RESULT_COLUMNS = ("customer_id", "sent", "opened", "clicked", "converted", "revenue")
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
    # On the workspace's own store each segment's rule runs inside the statement that
    # assigns its members; a source engine's members come over as Arrow first.
    parts: list[tuple[str, str | pa.Table]] = []
    params: dict[str, object] = {}
    for segment in chosen:
        if evaluator.source is None:
            sql, found = evaluator.member_set(rules[segment], when)
            params.update(found)
            parts.append((segment, sql))
        else:
            parts.append((segment, evaluator.members(rules[segment], when)))
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
        store.create(evaluator.engine, settings, parts, params)
    return get(ctx, name)


def listed(ctx: SegmentContext) -> list[Campaign]:
    from segmint.store import campaigns as store

    return [Campaign(**entry) for entry in store.listed(ctx.con)]


def get(ctx: SegmentContext, name: str, sizes: bool = True) -> Campaign:
    """One campaign, with its group sizes overall and per segment (without ``sizes``,
    zero: the report counts them with the outcomes)."""
    from dataclasses import replace

    from segmint.errors import NotFoundError
    from segmint.hints import suggest
    from segmint.store import campaigns as store

    found = store.listed(ctx.con, name, sizes)
    if not found:
        raise NotFoundError(
            f"no campaign {name!r}{suggest(name, store.names(ctx.con))} "
            "(see: segmint campaign list)"
        )
    campaign = Campaign(**found[0])
    if not sizes:
        return campaign
    counts = store.segment_counts(ctx.con, name)
    by_segment = {s: counts.get(s, (0, 0)) for s in campaign.segments}
    return replace(campaign, by_segment=by_segment)


def treatment_members(name: str) -> ir.Table:
    """The ``pid`` of each customer in the treatment group of campaign ``name`` (once,
    whatever segments they came from), as an Ibis table."""
    from segmint.engine.tables import campaign_members_table, people_table

    members = campaign_members_table()
    chosen = members.filter((members.campaign == name) & (members.grp == "treatment"))
    people = people_table()
    ids = chosen.select("customer_id").distinct()
    return ids.join(people, "customer_id").select("pid")


def goal_in_window(goal: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    """The goal (JSON form) with every event condition limited to ``start <= t < end``.

    >>> from datetime import datetime, UTC
    >>> goal_in_window({"event": "order_completed"}, datetime(2026, 3, 1, tzinfo=UTC),
    ...                datetime(2026, 3, 15, tzinfo=UTC))["window"]
    {'between': ['2026-03-01T00:00:00+00:00', '2026-03-15T00:00:00+00:00']}
    """
    if "event" in goal:
        return {**goal, "window": {"between": [start.isoformat(), end.isoformat()]}}
    if "not" in goal:
        return {"not": goal_in_window(goal["not"], start, end)}
    key = "and" if "and" in goal else "or"
    return {key: [goal_in_window(child, start, end) for child in goal[key]]}


@dataclass(frozen=True)
class Response:
    """One segment's (or the whole campaign's) response: the groups, conversion and
    revenue per customer in each, and the figures of quality/lift.py."""

    segment: str | None  # None: the whole campaign, each customer once
    audience: int
    conversion: ConversionLift
    revenue: MeanLift
    sample_ratio: SampleRatio
    mde: float
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "segment": self.segment,
            "audience": self.audience,
            "conversion": asdict(self.conversion),
            "revenue_per_customer": asdict(self.revenue),
            "sample_ratio": asdict(self.sample_ratio),
            "minimum_detectable_effect": None if math.isnan(self.mde) else self.mde,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class CampaignReport:
    """A campaign's response, overall and per segment, as of ``as_of`` (the end of its
    window, or now while it runs)."""

    campaign: Campaign
    as_of: datetime
    finished: bool
    overall: Response
    segments: list[Response]
    # What the conversion and revenue come from: the goal evaluated on the store, or the
    # outcomes imported with `campaign import-results`.
    source: str = "goal"

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign.to_dict(),
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "finished": self.finished,
            "overall": self.overall.to_dict(),
            "segments": [r.to_dict() for r in self.segments],
        }


def report(ctx: SegmentContext, name: str) -> CampaignReport:
    """The response of campaign ``name``: who reached the goal within the window after
    the start, and the revenue of each member in it, per group."""
    from dataclasses import replace
    from datetime import timedelta

    from segmint.store.campaigns import has_results, outcome_counts

    # The group sizes come with the outcomes below.
    campaign = get(ctx, name, sizes=False)
    start = campaign.starts_at
    end = start + timedelta(days=campaign.window_days)
    now = datetime.now(UTC)
    as_of = min(end, now)
    evaluator = ctx.evaluator()
    if has_results(ctx.con, name):
        goal = None
        source = IMPORTED
    else:
        window_goal = goal_in_window(campaign.goal, start, end)
        goal = evaluator.member_set(window_goal, as_of)
        source = GOAL
    counts = outcome_counts(evaluator.engine, name, goal, ctx.config.order_event, start, end)
    columns = _Outcomes.of(counts)
    overall = _response(None, columns.where(columns.overall), campaign.holdout)
    per_segment = [
        _response(s, columns.where(columns.segment == s), campaign.holdout)
        for s in campaign.segments
    ]
    campaign = replace(
        campaign,
        audience=overall.audience,
        treatment=overall.conversion.treated,
        held_out=overall.conversion.held,
        by_segment={str(r.segment): (r.conversion.treated, r.conversion.held) for r in per_segment},
    )
    return CampaignReport(campaign, as_of, end <= now, overall, per_segment, source)


@dataclass(frozen=True)
class _Outcomes:
    """How many members had each outcome (store/campaigns.py ``outcome_counts``) as
    NumPy columns: the report splits them by segment and group with masks."""

    segment: Any
    overall: Any  # bool: a row of the whole campaign (each customer once)
    treated: Any  # bool: of the treatment group
    converted: Any
    revenue: Any
    customers: Any

    @classmethod
    def of(cls, table: pa.Table) -> _Outcomes:
        import numpy as np

        def column(name: str) -> Any:
            return table.column(name).to_numpy(zero_copy_only=False)

        return cls(
            column("segment"),
            table.column("segment").is_null().to_numpy(zero_copy_only=False),
            column("grp") == "treatment",
            column("converted").astype(bool),
            np.asarray(column("revenue"), dtype=float),
            np.asarray(column("customers"), dtype=np.int64),
        )

    def where(self, mask: Any) -> _Outcomes:
        return _Outcomes(
            self.segment[mask],
            self.overall[mask],
            self.treated[mask],
            self.converted[mask],
            self.revenue[mask],
            self.customers[mask],
        )


def _response(segment: str | None, rows: _Outcomes, holdout: float) -> Response:
    from segmint.quality import lift

    treated, held = rows.treated, ~rows.treated
    n = rows.customers
    n_treated, n_held = int(n[treated].sum()), int(n[held].sum())
    conversion = lift.conversion(
        n_treated,
        int(n[treated & rows.converted].sum()),
        n_held,
        int(n[held & rows.converted].sum()),
    )
    money = lift.revenue(
        rows.revenue[treated], rows.revenue[held], treated_counts=n[treated], held_counts=n[held]
    )
    base = conversion.held_rate if conversion.held_rate is not None else float("nan")
    mde = lift.minimum_detectable_effect(n_treated, n_held, base)
    return Response(
        segment,
        n_treated + n_held,
        conversion,
        money,
        lift.sample_ratio(n_treated, n_held, holdout),
        mde,
        lift.verdict(conversion, mde),
    )


@dataclass(frozen=True)
class ImportedResults:
    """What `campaign import-results` stored, and the rows it refused per reason."""

    campaign: str
    stored: int
    refused: dict[str, int]


def import_results(ctx: SegmentContext, name: str, path: str) -> ImportedResults:
    """Per-customer outcomes of sends made elsewhere (CSV, Parquet or JSON Lines with
    ``customer_id`` and any of sent, opened, clicked, converted, revenue), replacing those
    imported before; the report then reads them instead of the goal. Rows naming no
    customer, a customer outside the campaign, one given twice, or a value that is not
    true/false or a non-negative amount are refused, counted per reason."""
    from pathlib import Path

    from segmint.store import campaigns as store
    from segmint.store.txn import transaction

    get(ctx, name)
    table = _read_results(Path(path))
    with transaction(ctx.con, "campaign-results", "the campaign's results"):
        refused = store.check_results(ctx.con, name, table)
        stored = store.store_results(ctx.con, name)
    return ImportedResults(name, stored, refused)


def _read_results(path: Path) -> pa.Table:
    """The file as a table of text columns (values are checked in the store's query)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not path.is_file():
        raise ArgumentError(f"no such file: {path}", "file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        elif suffix in (".jsonl", ".json", ".ndjson"):
            import pyarrow.json as pj

            table = pj.read_json(path)
        else:
            import pyarrow.csv as pcsv

            table = pcsv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ArgumentError(f"cannot read {path}: {str(exc).splitlines()[0]}", "file") from None
    unknown = [c for c in table.column_names if c not in RESULT_COLUMNS]
    if unknown or "customer_id" not in table.column_names:
        raise ArgumentError(
            f"{path}: expected the columns customer_id and any of "
            f"{', '.join(RESULT_COLUMNS[1:])}; "
            + (f"unknown column {unknown[0]!r}" if unknown else "no customer_id column"),
            "file",
        )
    return pa.table({c: pc.cast(table[c], pa.string()) for c in table.column_names})


def plot_report(found: CampaignReport, path: Any) -> None:
    """The lift of each segment and of the whole campaign, in percentage points, with
    its 95 % interval, as a PNG chart (matplotlib)."""
    from segmint.errors import ArgumentError
    from segmint.plotting import pyplot
    from segmint.quality.report import check_plot_path

    check_plot_path(path)
    plt = pyplot("--plot")
    rows = [*found.segments, found.overall]
    labels = [r.segment or "all (each customer once)" for r in rows]
    figure, axes = plt.subplots(figsize=(8, 1.2 + 0.6 * len(rows)))
    colours = {"measurable lift": "tab:green", "no measurable response": "tab:grey"}
    for y, response in enumerate(rows):
        lift = response.conversion
        if lift.absolute is None:
            continue
        low, high = lift.absolute_interval or (lift.absolute, lift.absolute)
        colour = colours.get(response.verdict, "tab:orange")
        axes.errorbar(
            lift.absolute * 100,
            y,
            xerr=[[(lift.absolute - low) * 100], [(high - lift.absolute) * 100]],
            fmt="o",
            capsize=4,
            color=colour,
        )
        axes.annotate(
            response.verdict,
            (high * 100, y),
            xytext=(6, -3),
            textcoords="offset points",
            fontsize=8,
        )
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_yticks(range(len(rows)), labels)
    axes.invert_yaxis()
    axes.set_xlabel("lift in conversion, percentage points (95 % interval)")
    axes.set_title(f"campaign {found.campaign.name}")
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as exc:
        raise ArgumentError(
            f"--plot: cannot write {path}: {exc.strerror or exc}", "--plot"
        ) from None
    finally:
        plt.close(figure)
