"""Refreshing saved segments: evaluate them at an ``as_of``, store who entered and exited.

A refresh reads the segment files (the source of truth), checks each, and evaluates the
good ones together, level by level in dependency order: a segment that refers to another
segment refreshed in the same run reads that segment's stored membership at the same
as_of, so it waits for the level below; a reference to a segment outside the run is
compiled inline (same as_of, same result). All segments of a level are one query: they
share one scan per event name and the traits they use (rules/compile.py,
``Compiler.many``), and the CLV models are fitted once per as_of.

What is stored (store/schema.py, ``SEGMENT_DDL``): the refresh (as_of, start, duration),
each segment's run (status, error, size, entered, exited, definition version), the
current members, and one row per entry or exit, so history grows with the changes.
A segment whose file is broken, whose rule no longer validates, whose CLV model cannot be
fitted or that refers to a failed segment is marked failed with the reason; the others
go on. History only moves forward: a segment already refreshed at a later as_of is not
refreshed at an earlier one (``--backfill`` is for segments without later history).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from segmint.errors import NotFoundError, QueryError, RuleError, SegmintError
from segmint.segments.incremental import EVENTS, STATE, TOUCHED, Increment, Mode
from segmint.store import segments as store
from segmint.store.txn import transaction

if TYPE_CHECKING:
    from segmint.console import Progress
    from segmint.rules.model import RuleNode
    from segmint.segments.context import SegmentContext
    from segmint.segments.query import Evaluator
    from segmint.segments.registry import Registry
    from segmint.store.source_state import SourceState


@dataclass(frozen=True)
class SegmentRun:
    """One segment in one refresh."""

    name: str
    status: str  # "ok" or "failed"
    size: int | None = None
    entered: int | None = None
    exited: int | None = None
    version: int | None = None
    error: str | None = None
    # How it was evaluated (segments/incremental.py): "incremental" or "full", and why
    # not incrementally.
    mode: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did."""

    refresh_id: int
    as_of: datetime
    seconds: float
    runs: list[SegmentRun] = field(default_factory=list)
    # Webhook messages written to the outbox with the membership (segments/outbox.py).
    messages: int = 0

    @property
    def failed(self) -> list[SegmentRun]:
        return [r for r in self.runs if r.status == "failed"]


def fingerprint(rule: RuleNode) -> str:
    """A short hash of a rule's canonical JSON: a new one is a new definition version."""
    text = json.dumps(rule.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def retired_names(ctx: SegmentContext) -> set[str]:
    return store.retired_names(ctx.con)


def refresh(
    ctx: SegmentContext,
    names: list[str] | None = None,
    as_of: datetime | str | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> RefreshResult:
    """Refresh the named saved segments (default: every active one) at ``as_of``,
    incrementally where the rules allow it (segments/incremental.py; ``full`` evaluates
    every segment for everyone).

    With no active segment there is nothing to do: the result has no runs and
    ``refresh_id`` 0, and nothing is stored.

    Segments read from the kept measures are evaluated inside the transaction (the
    measures move with the membership); if that query fails when it runs, the refresh is
    rolled back and run again with every segment evaluated from the events, where a
    failing segment fails alone."""
    try:
        return _refresh(ctx, names, as_of, progress, full, events_only=False)
    except _KeptFailed as failed:
        reason = f"its evaluation from the kept measures failed ({failed}); evaluated in full"
        return _refresh(ctx, names, as_of, progress, full, events_only=reason)


class _KeptFailed(Exception):
    """The evaluation of segments from the kept measures failed when it ran."""


def _refresh(
    ctx: SegmentContext,
    names: list[str] | None,
    as_of: datetime | str | None,
    progress: Progress | None,
    full: bool,
    events_only: str | bool,
) -> RefreshResult:
    from segmint.console import SilentProgress
    from segmint.segments.query import parse_as_of

    progress = progress or SilentProgress()
    when = parse_as_of(as_of)
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    chosen, retired = _chosen(ctx, names)
    if not chosen:
        # No saved (or active) segments: nothing to evaluate, and nothing is recorded.
        return RefreshResult(0, when, time.perf_counter() - started)
    from segmint.segments.outbox import plan_outbox

    outbox = plan_outbox(ctx, when)
    if ctx.source_state is not None:
        from segmint.store.activity import ensure_activity

        # Each customer's first and last event, fresh for this refresh's queries
        # (store/activity.py); committed on its own, before the refresh's transaction.
        ensure_activity(ctx.con, ctx.source_state(), ctx.config.source)
    plan = (
        _Plan(ctx.evaluator(), ctx.segments, chosen, retired, when)
        if ctx.source_state is None
        else _SourcePlan(ctx.evaluator(), ctx.segments, chosen, retired, when, ctx.source_state())
    )
    plan.check(progress)
    levels = plan.levels()
    inc = _increment(ctx, plan, when, full, progress, events_only, every=not names)
    if levels:
        # The first level's segments evaluated from the events (every segment without
        # references to this run) are evaluated before the transaction: a failing query
        # aborts a DuckDB transaction, and out of one the segments can be run alone so
        # that only the culprit fails.
        progress.phase(f"refreshing {len(levels[0])} segments")
        plan.evaluate(inc.names(EVENTS, levels[0]), isolate=True)
    con = ctx.con
    try:
        with transaction(con, "refresh", "the refresh"):
            refresh_id = store.next_refresh_id(con)
            inc.apply(refresh_id)
            for level, members in enumerate(levels):
                if level:
                    progress.phase(f"refreshing {len(members)} segments (level {level + 1})")
                    plan.evaluate(inc.names(EVENTS, members), isolate=False)
                plan.store(inc.names(EVENTS, members), refresh_id)
                for path in (STATE, TOUCHED):
                    group = inc.names(path, members)
                    if group:
                        plan.evaluate_kept(group, inc.keys, only_touched=path == TOUCHED)
                        plan.store(group, refresh_id, touched=path == TOUCHED)
            plan.finish(refresh_id)
            messages = outbox.write(refresh_id) if outbox is not None else 0
            seconds = time.perf_counter() - started
            runs = [_with_mode(plan.runs[n], inc) for n in chosen]
            inc.record(refresh_id, {r.name for r in runs if r.status == "ok"})
            store.record_refresh(con, refresh_id, when, started_at, seconds, runs)
        plan.committed()
    finally:
        progress.done()
    return RefreshResult(refresh_id, when, seconds, runs, messages)


def _chosen(ctx: SegmentContext, names: list[str] | None) -> tuple[list[str], set[str]]:
    """The segments a refresh takes (the named ones, each once, or every active one) and
    the retired ones; an unknown name raises with a suggestion."""
    files = ctx.segments.files()
    retired = retired_names(ctx)
    if not names:
        return [n for n in files if n not in retired], retired
    unknown = [n for n in names if n not in files]
    if unknown:
        ctx.segments.path(unknown[0])  # raises with a suggestion
    return list(dict.fromkeys(names)), retired


def _increment(
    ctx: SegmentContext,
    plan: _Plan,
    when: datetime,
    full: bool,
    progress: Progress,
    events_only: str | bool,
    every: bool,
) -> Increment:
    """Decide each segment's mode and stage the kept measures (before the transaction).
    If the measures cannot be computed, every segment is evaluated from the events."""
    import duckdb

    inc = Increment(plan, when, full, source=ctx.source_state is not None, every=every)
    inc.decide()
    if events_only:
        inc.fall_back(str(events_only))
        return inc
    if inc.rebuilt or inc.updated:
        progress.phase(
            f"updating the measures of {len(inc.updated)} conditions, computing "
            f"{len(inc.rebuilt)} afresh"
        )
        try:
            inc.stage()
        except duckdb.Error as exc:
            inc.fall_back(f"its kept measures could not be computed: {str(exc).splitlines()[0]}")
    return inc


def explain(
    ctx: SegmentContext,
    names: list[str] | None = None,
    as_of: datetime | str | None = None,
    full: bool = False,
) -> list[Mode]:
    """How a refresh at ``as_of`` would evaluate each segment, and why not incrementally
    (``refresh --explain``); nothing is computed or stored."""
    from segmint.console import SilentProgress
    from segmint.segments.query import parse_as_of

    when = parse_as_of(as_of)
    chosen, retired = _chosen(ctx, names)
    plan = _Plan(ctx.evaluator(), ctx.segments, chosen, retired, when)
    plan.check(SilentProgress())
    inc = Increment(plan, when, full, source=ctx.source_state is not None)
    modes = inc.decide()
    out = []
    for name in chosen:
        if name in modes:
            out.append(modes[name])
        else:
            run = plan.runs.get(name)
            out.append(Mode(name, "fails", run.error if run else None))
    return out


def _with_mode(run: SegmentRun, inc: Increment) -> SegmentRun:
    from dataclasses import replace

    mode = inc.modes.get(run.name)
    if mode is None or run.status != "ok":
        return run
    return replace(run, mode=mode.mode, reason=mode.reason)


class _Plan:
    """The segments of one refresh: their checked rules, levels, results."""

    def __init__(
        self,
        evaluator: Evaluator,
        registry: Registry,
        chosen: list[str],
        retired: set[str],
        as_of: datetime,
    ) -> None:
        self.evaluator = evaluator
        self.registry = registry
        self.con = evaluator.con
        self.chosen = chosen
        self.retired = retired
        self.as_of = as_of
        self.trees: dict[str, RuleNode] = {}
        self.runs: dict[str, SegmentRun] = {}
        self.columns: dict[str, str] = {}
        self.raw_refs: dict[str, list[str]] = {}

    def fail(self, name: str, error: str) -> None:
        self.runs[name] = SegmentRun(name, "failed", error=error)

    def check(self, progress: Progress) -> None:
        """Read, validate and prepare every chosen segment; failures are recorded."""
        from segmint.rules.validate import referenced_segments

        progress.phase(f"checking {len(self.chosen)} segments")
        latest = store.latest_ok_as_of(self.con)
        for name in self.chosen:
            if name in self.retired:
                self.fail(name, "retired (its history is kept; it is no longer refreshed)")
                continue
            later = latest.get(name)
            if later is not None and later > self.as_of:
                self.fail(
                    name,
                    f"already refreshed at a later as_of ({_iso(later)}); history only moves "
                    "forward",
                )
                continue
            try:
                definition = self.registry.get(name)
                self.raw_refs[name] = list(referenced_segments(definition.rule))
                if definition.name != name:
                    raise RuleError(
                        f"{self.registry.path(name)}: name",
                        f"the file of segment {definition.name!r} must be named "
                        f"{definition.name}.yaml",
                    )
                tree = self.evaluator.prepare(definition.rule, name=name)
                self.evaluator.prepare_traits(tree, (), self.as_of)
            except SegmintError as exc:
                self.fail(name, str(exc))
                continue
            self.trees[name] = tree
        # A segment whose own check failed because a segment it refers to is broken says
        # so, rather than repeating that segment's error.
        for name, run in list(self.runs.items()):
            for ref in self.raw_refs.get(name, []):
                inherited = self.runs.get(ref)
                if ref == name or inherited is None or not inherited.error:
                    continue
                tail = inherited.error[-40:]
                if run.error and tail in run.error:
                    self.fail(name, f"refers to segment {ref!r}, which failed: {inherited.error}")
                    break
        # A segment that refers to a failed one fails too (to a fixed point).
        changed = True
        while changed:
            changed = False
            for name in list(self.trees):
                bad = [r for r in referenced_segments(self.trees[name]) if r in self.runs]
                if bad:
                    del self.trees[name]
                    self.fail(name, f"refers to segment {bad[0]!r}, which failed")
                    changed = True

    def levels(self) -> list[list[str]]:
        """The good segments by dependency level: a reference to another segment of this
        refresh puts a segment above it."""
        from segmint.rules.validate import referenced_segments

        level: dict[str, int] = {}

        def depth(name: str, seen: tuple[str, ...] = ()) -> int:
            if name not in level:
                refs = [r for r in referenced_segments(self.trees[name]) if r in self.trees]
                level[name] = 1 + max((depth(r, (*seen, name)) for r in refs), default=-1)
            return level[name]

        for name in self.trees:
            depth(name)
        out: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for name in self.chosen:
            if name in level:
                out[level[name]].append(name)
        return out

    def evaluate(self, names: list[str], isolate: bool) -> None:
        """One query for the level: ``_eval`` holds pid and one boolean per segment. If the
        shared query fails, each segment runs alone so only the culprit fails (with
        ``isolate``; inside a transaction the failure ends the refresh instead)."""
        import duckdb

        if not names:
            return
        try:
            self._run_query(names)
            self.columns = {name: f"s{i}" for i, name in enumerate(names)}
        except duckdb.Error as exc:
            if not isolate:
                raise QueryError(
                    f"the refresh failed while evaluating {', '.join(names)} and was rolled "
                    f"back: {str(exc).splitlines()[0]}"
                ) from None
            self.columns = {}
            store.start_isolated_evaluation(self.con)
            for name in names:
                try:
                    self._run_query([name], into="_one")
                except duckdb.Error as exc:
                    self.fail(name, f"query failed: {str(exc).splitlines()[0]}")
                    continue
                column = f"s{len(self.columns)}"
                store.add_isolated_result(self.con, column)
                self.columns[name] = column

    def _run_query(self, names: list[str], into: str = "_eval") -> None:
        from segmint.rules.compile import inline_segments

        catalog = self.evaluator.catalog
        stored = frozenset(self.runs_ok())
        rules = [inline_segments(self.trees[n], catalog, keep=stored) for n in names]
        sql, variables = self.evaluator.many_template(rules, self.as_of)
        params = self.evaluator.clock_params(variables, self.as_of)
        store.evaluate_into(self.evaluator.engine, into, self.checked(names, sql), params)

    def evaluate_kept(self, names: list[str], keys: dict[Any, str], only_touched: bool) -> None:
        """Evaluate ``names`` from the kept measures of incremental refresh (for everyone,
        or the profiles of ``_touched``), inside the refresh's transaction."""
        from segmint.rules.compile import inline_segments

        catalog = self.evaluator.catalog
        stored = frozenset(self.runs_ok())
        rules = [inline_segments(self.trees[n], catalog, keep=stored) for n in names]
        import duckdb

        sql, variables = self.evaluator.state_template(rules, keys, only_touched)
        params = self.evaluator.clock_params(variables, self.as_of)
        try:
            store.evaluate_into(self.evaluator.engine, "_eval", self.checked(names, sql), params)
        except duckdb.Error as exc:
            raise _KeptFailed(str(exc).splitlines()[0]) from None
        self.columns = {name: f"s{i}" for i, name in enumerate(names)}

    def checked(self, names: list[str], sql: str) -> str:
        """The SQL to run for ``names`` (a seam for tests that make one segment's query
        fail at run time)."""
        return sql

    def runs_ok(self) -> list[str]:
        return [n for n, r in self.runs.items() if r.status == "ok"]

    def store(self, names: list[str], refresh_id: int, touched: bool = False) -> None:
        """Diff the level's results with the stored members (of the ``_touched`` profiles
        only, with ``touched``): record entries and exits, apply them, and note each
        segment's run and definition version."""
        done = [n for n in names if n in self.columns]
        if not done:
            return
        columns = {n: self.columns[n] for n in done}
        counts = store.store_members(self.con, columns, self.as_of, refresh_id, touched)
        for name in done:
            moved = counts[name]
            version = self.version(name, refresh_id)
            self.runs[name] = SegmentRun(
                name, "ok", moved.size, moved.entered, moved.exited, version
            )

    def version(self, name: str, refresh_id: int) -> int:
        """The definition version of ``name``: a new one when its rule changed."""
        tree = self.trees[name]
        rule = json.dumps(tree.to_json())
        return store.definition_version(self.con, name, fingerprint(tree), rule, refresh_id)

    def finish(self, refresh_id: int) -> None:
        """After the last level (the members are stored level by level here)."""

    def committed(self) -> None:
        """After the refresh is recorded."""


class _SourcePlan(_Plan):
    """A refresh on a source (store/source_segments.py): each level is evaluated in the
    source's engine into a temporary table and its members gathered there; when every
    level is done, version ``refresh_id`` of the members and of the entries and exits is
    written in the engine, and the caller's record of the refresh in the workspace makes
    it current. The source has no transaction around the whole, so every level may run
    its segments alone when their shared query fails."""

    def __init__(
        self,
        evaluator: Evaluator,
        registry: Registry,
        chosen: list[str],
        retired: set[str],
        as_of: datetime,
        state: SourceState,
    ) -> None:
        from segmint.store.source_segments import start_refresh

        super().__init__(evaluator, registry, chosen, retired, as_of)
        self.state = state
        start_refresh(state)
        self.results: dict[str, tuple[str, str]] = {}
        self.gathered: list[str] = []
        self.level = 0

    def evaluate(self, names: list[str], isolate: bool) -> None:
        from segmint.store.source_segments import evaluate_into

        self.results = {}
        try:
            evaluate_into(self.state, "_eval", self._expression(names))
            self.results = {name: ("_eval", f"s{i}") for i, name in enumerate(names)}
        except Exception:  # the engine's own error types differ (psycopg, Spark)
            for i, name in enumerate(names):
                try:
                    evaluate_into(self.state, f"_one_{i}", self._expression([name]))
                except SegmintError as alone:  # e.g. a feature the engine lacks
                    self.fail(name, str(alone))
                    continue
                except Exception as alone:
                    self.fail(name, f"query failed: {_first_line(alone)}")
                    continue
                self.results[name] = (f"_one_{i}", "s0")

    def _expression(self, names: list[str]) -> Any:
        from segmint.rules.compile import compile_many, inline_segments

        catalog = self.evaluator.catalog
        stored = frozenset(self.runs_ok())
        rules = [inline_segments(self.trees[n], catalog, keep=stored) for n in names]
        clv = self.evaluator.source_fit(self.as_of)
        return compile_many(rules, catalog, self.as_of, self.state.engine.name, clv)

    def store(self, names: list[str], refresh_id: int, touched: bool = False) -> None:
        from segmint.store.source_segments import gather_level, show_new_members

        done = {n: self.results[n] for n in names if n in self.results}
        gather_level(self.state, self.level, done)
        self.level += 1
        show_new_members(self.state, self.level)
        self.gathered.extend(done)
        for name in done:
            self.runs[name] = SegmentRun(name, "ok")  # counted once all levels are in

    def finish(self, refresh_id: int) -> None:
        from segmint.store.source_segments import write_refresh

        if not self.level:
            return
        current = store.current_member_refreshes(self.con)
        counts = write_refresh(
            self.state, refresh_id, self.level, self.gathered, current, self.as_of
        )
        for name in self.gathered:
            moved = counts[name]
            version = self.version(name, refresh_id)
            self.runs[name] = SegmentRun(
                name, "ok", moved.size, moved.entered, moved.exited, version
            )

    def committed(self) -> None:
        from segmint.store.source_segments import drop_unused

        drop_unused(self.state, store.current_member_refreshes(self.con))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def require_known(ctx: SegmentContext, name: str) -> None:
    """``name`` is a saved segment (a file) or has stored history."""
    if name in ctx.segments.files():
        return
    if not store.has_history(ctx.con, name):
        raise NotFoundError(f"no saved segment {name!r} and no history for it")


@dataclass(frozen=True)
class SegmentState:
    """Where a saved segment stands: its last run at the latest as_of, or never run."""

    name: str
    status: str  # ok, failed, never, retired
    size: int | None = None
    as_of: datetime | None = None
    error: str | None = None


def states(ctx: SegmentContext) -> dict[str, SegmentState]:
    """The state of every segment with a file or a history."""
    found = {
        name: SegmentState(name, run["status"], run["size"], run["as_of"], run["error"])
        for name, run in store.last_runs(ctx.con).items()
    }
    retired = retired_names(ctx)
    for name in set(ctx.segments.files()) | set(found) | retired:
        state = found.get(name, SegmentState(name, "never"))
        if name in retired:
            state = SegmentState(name, "retired", state.size, state.as_of, state.error)
        found[name] = state
    return found
