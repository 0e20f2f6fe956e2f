"""Live segments (docs/server.md, "Live segments"): a saved segment marked ``live: true``
is re-evaluated by ``segmint serve`` after each micro-batch of tracking messages, for the
customers that batch touched only, not for everyone.

An update is a refresh kept to the touched profiles (``_touched``, store/segments.py
``mark_touched``): the same checks and compiled rules as ``segmint refresh`` (levels,
shared scans, the CLV fit at the as_of), evaluated for those profiles, and their
membership compared with what is stored for them. Entries and exits go to the same
history as a refresh's, under a refresh of their own, and the webhook outbox gets its
messages in the same transaction. An update that changes nobody's membership records
nothing.

Time alone also moves people: "no order in 30 days" becomes true with no new event. A
live update cannot see that (nobody was touched), so the server runs a full refresh of
the live segments on a schedule (the sweep, ``[server] sweep_minutes``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from segmint.segments.refresh import SegmentRun, _Plan, retired_names
from segmint.store import segments as store
from segmint.store.txn import transaction

if TYPE_CHECKING:
    from segmint.segments.context import SegmentContext


@dataclass(frozen=True)
class LiveResult:
    """What one live update did: the profiles it looked at and, when anyone entered or
    left a segment, the refresh that records it (``refresh_id`` 0: nothing changed)."""

    as_of: datetime
    touched: int
    refresh_id: int = 0
    runs: list[SegmentRun] = field(default_factory=list)
    messages: int = 0
    seconds: float = 0.0

    @property
    def changes(self) -> int:
        return sum((r.entered or 0) + (r.exited or 0) for r in self.runs)


def live_names(ctx: SegmentContext) -> list[str]:
    """Saved segments marked live and not retired (a file that cannot be read is left to
    ``segmint refresh`` to report)."""
    retired = retired_names(ctx)
    names = []
    for name in ctx.segments.files():
        if name in retired:
            continue
        try:
            if ctx.segments.get(name).live:
                names.append(name)
        except Exception:  # a broken file is refresh's to report, not ours
            continue
    return names


def unrefreshed(ctx: SegmentContext, names: list[str]) -> list[str]:
    """The live segments without a refresh yet: a live update compares with the stored
    membership, so each needs one full refresh first (the server runs it at start)."""
    latest = store.latest_ok_as_of(ctx.con)
    return [n for n in names if n not in latest]


def update(
    ctx: SegmentContext,
    customer_ids: list[str],
    anonymous_ids: list[str],
    load_ids: list[int],
    as_of: datetime | None = None,
) -> LiveResult:
    """Re-evaluate the live segments for the profiles of ``customer_ids`` and
    ``anonymous_ids`` and those merged by ``load_ids``, at ``as_of`` (default now)."""
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    when = as_of or started_at
    names = live_names(ctx)
    ready = [n for n in names if n not in set(unrefreshed(ctx, names))]
    if not ready:
        return LiveResult(when, 0)
    touched = store.mark_touched(ctx.con, customer_ids, anonymous_ids, load_ids)
    if not touched:
        return LiveResult(when, 0)
    plan = _LivePlan(ctx.evaluator(), ctx.segments, ready, retired_names(ctx), when)
    from segmint.console import SilentProgress

    plan.check(SilentProgress())
    levels = plan.levels()
    if levels:
        plan.evaluate(levels[0], isolate=True)
    from segmint.segments.outbox import plan_outbox

    outbox = plan_outbox(ctx, when)
    con = ctx.con
    with transaction(con, "live", "the live segment update"):
        refresh_id = store.next_refresh_id(con)
        for level, members in enumerate(levels):
            if level:
                plan.evaluate(members, isolate=False)
            plan.store(members, refresh_id)
        runs = [plan.runs[n] for n in ready if n in plan.runs]
        moved = sum((r.entered or 0) + (r.exited or 0) for r in runs)
        messages = 0
        if moved:
            messages = outbox.write(refresh_id) if outbox is not None else 0
            store.record_refresh(
                con, refresh_id, when, started_at, time.perf_counter() - started, runs
            )
    if not moved:
        return LiveResult(when, touched, seconds=time.perf_counter() - started)
    return LiveResult(when, touched, refresh_id, runs, messages, time.perf_counter() - started)


class _LivePlan(_Plan):
    """A refresh plan kept to the ``_touched`` profiles."""

    def checked(self, names: list[str], sql: str) -> str:
        return store.only_touched(sql)

    def store(self, names: list[str], refresh_id: int, touched: bool = True) -> None:
        done = [n for n in names if n in self.columns]
        if not done:
            return
        columns = {n: self.columns[n] for n in done}
        counts = store.store_members(self.con, columns, self.as_of, refresh_id, touched=True)
        for name in done:
            moved = counts[name]
            version = self.version(name, refresh_id)
            self.runs[name] = SegmentRun(
                name, "ok", moved.size, moved.entered, moved.exited, version
            )
