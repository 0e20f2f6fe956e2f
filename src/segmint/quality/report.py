"""Everything ``segment show`` says about one segment: definition, size over time,
reachability, profile against everyone, quality checks, definition versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmint.quality.checks import SegmentQuality
    from segmint.segments.context import SegmentContext
    from segmint.segments.profile import ProfileRow
    from segmint.segments.registry import SegmentDefinition


@dataclass(frozen=True)
class SegmentReport:
    definition: SegmentDefinition
    as_of: datetime
    size: int
    customers: int
    refreshed: bool  # from the last refresh (else counted live at as_of)
    quality: SegmentQuality | None
    trend: list[tuple[datetime, int]] = field(default_factory=list)
    versions: list[tuple[int, datetime]] = field(default_factory=list)
    profile: list[ProfileRow] = field(default_factory=list)
    profile_base: int = 0  # everyone the profile compares with: customers at as_of

    @property
    def share(self) -> float:
        return self.size / self.customers if self.customers else 0.0

    def to_json(self) -> dict[str, Any]:
        from segmint.rules.text import to_text

        iso = _iso
        return self.definition.to_json() | {
            "text": to_text(self.definition.rule),
            "as_of": iso(self.as_of),
            "size": self.size,
            "customers": self.customers,
            "share": self.share,
            "refreshed": self.refreshed,
            "trend": [{"as_of": iso(a), "size": s} for a, s in self.trend],
            "versions": [{"version": v, "as_of": iso(a)} for v, a in self.versions],
            "checks": [c.to_json() for c in self.quality.checks] if self.quality else [],
            "profile": [p.to_json() for p in self.profile],
            "profile_base": self.profile_base,
        }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def segment_report(
    ctx: SegmentContext, name: str, as_of: datetime | str | None = None, profile: bool = True
) -> SegmentReport:
    """The report of ``name``: at its last refresh, or live at ``as_of`` when given or
    when it was never refreshed."""
    from segmint.quality.checks import assess
    from segmint.segments.query import parse_as_of
    from segmint.store.segments import size_trend, version_dates

    definition = ctx.segments.get(name)
    evaluator = ctx.evaluator()
    trend = size_trend(ctx.con, name)
    versions = version_dates(ctx.con, name)
    quality = None
    if as_of is None and trend:
        quality = assess(ctx, [name])[0]
        when, size = trend[-1]
        customers = evaluator.count({"and": []}, when)
        refreshed = True
    else:
        when = parse_as_of(as_of)
        size = evaluator.count(definition.rule, when)
        customers = evaluator.count({"and": []}, when)
        refreshed = False
    rows, base = _profile(ctx, name, definition, when, refreshed) if profile and size else ([], 0)
    return SegmentReport(
        definition, when, size, customers, refreshed, quality, trend, versions, rows, base
    )


def _profile(
    ctx: SegmentContext, name: str, definition: SegmentDefinition, when: datetime, refreshed: bool
) -> tuple[list[ProfileRow], int]:
    """The profile rows and the number of customers they compare with."""
    from segmint.segments.profile import compare, population_frame

    frame = population_frame(ctx, when)
    if refreshed:
        members = ctx.members().customer_ids(name)
    else:
        table = ctx.evaluator().members(definition.rule, when)
        members = set(table.column("customer_id").to_pylist())
    return compare(frame, frame.index.isin(members)), len(frame)


def check_plot_path(path: Any) -> None:
    """``--plot FILE`` can be written: matplotlib is there, the folder exists, and FILE is
    not a folder (checked before the report is computed; the folder is not created, as a
    misspelt folder would otherwise leave the chart where nobody looks)."""
    from pathlib import Path

    from segmint.errors import ArgumentError
    from segmint.plotting import pyplot

    pyplot("--plot")
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ArgumentError(
            f"--plot: the folder {folder} does not exist; create it first", "--plot"
        )
    if target.is_dir():
        raise ArgumentError(
            f"--plot: {target} is a folder; give a file name such as chart.png", "--plot"
        )


def plot_trend(report: SegmentReport, path: Any) -> None:
    """Write the segment's size over its refreshes as a PNG chart (matplotlib)."""
    from segmint.errors import ArgumentError, NotFoundError
    from segmint.plotting import pyplot

    check_plot_path(path)
    plt = pyplot("--plot")
    if not report.trend:
        raise NotFoundError(
            f"segment {report.definition.name!r} has no refreshes to plot; run: segmint refresh"
        )
    import numpy as np

    # Naive UTC datetime64 values: matplotlib plots those as dates.
    when = np.array([a.replace(tzinfo=None) for a, _ in report.trend], dtype="datetime64[us]")
    figure, axes = plt.subplots(figsize=(8, 3.5))
    axes.plot(when, [s for _, s in report.trend], marker="o")
    axes.set_title(f"{report.definition.name}: members per refresh")
    axes.set_ylabel("members")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as exc:
        problem = f"--plot: cannot write {path}: {exc.strerror or exc}"
        raise ArgumentError(problem, "--plot") from None
    finally:
        plt.close(figure)
