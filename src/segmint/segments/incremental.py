"""Incremental refresh (docs/refresh.md, "Incremental refresh"): how each segment of a
refresh is evaluated, and the kept measures it reads.

Three ways, decided per segment (:class:`Increment`):

* **incremental**: its event conditions' measures are kept (rules/increments.py) and
  were brought up to date from the events loaded since and the slices of time the
  windows moved over; only the customers whose measures or profile changed (or whose
  recency test the passing time may flip) are evaluated, and only their membership is
  compared with what is stored (``_touched``, as a live update does);
* **full, from the kept measures**: the same measures for everyone, when the segment
  has no stored membership to build on yet, its rule or the types it reads changed, or
  ``--full`` asks for it;
* **full, from the events**: the rule cannot be kept up to date (it reads traits,
  compares with as_of, a distinct count, a minimum or maximum in a moving window), or
  the workspace reads a [source] engine.

``refresh --explain`` prints the decision and the reason without refreshing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from segmint.store import measures as store

if TYPE_CHECKING:
    from segmint.rules.increments import LeafSpec
    from segmint.rules.model import RuleNode
    from segmint.segments.query import Evaluator

INCREMENTAL = "incremental"
FULL = "full"
# How a segment is evaluated: from the events, from the kept measures for everyone, or
# from them for the touched customers only.
EVENTS, STATE, TOUCHED = "events", "state", "touched"


class Plan(Protocol):
    """What :class:`Increment` reads of a refresh's plan (segments/refresh.py ``_Plan``)."""

    con: Any
    evaluator: Evaluator
    chosen: list[str]
    trees: dict[str, RuleNode]


@dataclass(frozen=True)
class Mode:
    """How one segment is refreshed, and why not incrementally."""

    name: str
    mode: str  # incremental or full
    reason: str | None = None
    path: str = EVENTS


@dataclass
class Increment:
    """The incremental part of one refresh: decides each segment's mode (:meth:`decide`),
    stages the kept measures before the refresh's transaction (:meth:`stage`), and
    applies them and marks the customers to re-evaluate inside it (:meth:`apply`)."""

    plan: Plan
    as_of: datetime
    full: bool = False
    source: bool = False
    # The refresh covers every active segment: the kept measures of other leaves go.
    every: bool = False
    modes: dict[str, Mode] = field(default_factory=dict)
    keys: dict[Any, str] = field(default_factory=dict)
    bases: dict[str, str] = field(default_factory=dict)
    rebuilt: dict[str, LeafSpec] = field(default_factory=dict)
    updated: dict[str, LeafSpec] = field(default_factory=dict)
    since: tuple[datetime, int] | None = None
    load: int = 0
    staged: list[store.Rebuilt] = field(default_factory=list)

    @property
    def con(self) -> Any:
        return self.plan.con

    def decide(self) -> dict[str, Mode]:
        from segmint.rules.compile import inline_segments
        from segmint.rules.increments import basis, leaf_key, leaf_spec, leaves, segment_reason
        from segmint.rules.validate import referenced_segments

        plan = self.plan
        catalog = plan.evaluator.catalog
        run = frozenset(plan.trees)
        self.load = store.load_mark(self.con)
        trees: dict[str, RuleNode] = {}
        for name in plan.chosen:
            if name not in plan.trees:
                continue
            tree = inline_segments(plan.trees[name], catalog, keep=run)
            reason = "the workspace reads a [source] engine" if self.source else None
            reason = reason or segment_reason(tree, catalog)
            if reason is not None:
                self.modes[name] = Mode(name, FULL, reason, EVENTS)
                continue
            trees[name] = tree
        # A segment that refers to one evaluated from the events is too: its measures
        # cannot follow that segment's changes.
        changed = True
        while changed:
            changed = False
            for name, tree in list(trees.items()):
                bad = [r for r in referenced_segments(tree) if r in self.modes]
                if bad:
                    del trees[name]
                    self.modes[name] = Mode(
                        name, FULL, f"refers to segment {bad[0]!r}, refreshed in full", EVENTS
                    )
                    changed = True
        specs: dict[str, LeafSpec] = {}
        for tree in trees.values():
            for node in leaves(tree):
                key = leaf_key(node, catalog)
                self.keys[node] = key
                specs.setdefault(key, leaf_spec(node, catalog, key))
        self._split_leaves(specs)
        kept = store.segment_bases(self.con)
        if not specs and not self.full:
            # Segments on attributes only: their changes are the profiles' since their base.
            known = {(b.as_of, b.load_id) for n, b in kept.items() if n in trees}
            self.since = max((k for k in known if k[0] <= self.as_of), default=None)
        for name, tree in trees.items():
            self.bases[name] = basis(tree, catalog)
            reason = self._why_full(name, tree, kept.get(name))
            if reason is None:
                self.modes[name] = Mode(name, INCREMENTAL, None, TOUCHED)
            else:
                self.modes[name] = Mode(name, FULL, reason, STATE)
        # A segment that refers to one evaluated for everyone is too.
        changed = True
        while changed:
            changed = False
            for name, mode in list(self.modes.items()):
                if mode.path != TOUCHED:
                    continue
                refs = referenced_segments(trees[name])
                bad = [r for r in refs if r in self.modes and self.modes[r].path != TOUCHED]
                if bad:
                    self.modes[name] = Mode(
                        name, FULL, f"refers to segment {bad[0]!r}, refreshed in full", STATE
                    )
                    changed = True
        return self.modes

    def _split_leaves(self, specs: dict[str, LeafSpec]) -> None:
        """Which leaves are brought up to date and which computed afresh: up to date when
        their measures stand at the latest base among them, before as_of, and no load
        since rewrote stored orders."""
        bases = store.leaf_bases(self.con)
        known = {bases[k] for k in specs if k in bases and bases[k][0] <= self.as_of}
        if known and not self.full:
            self.since = max(known)
            if store.orders_rewritten(self.con, self.since[1]):
                self.since = None
        for key, spec in specs.items():
            if self.since is not None and bases.get(key) == self.since:
                self.updated[key] = spec
            else:
                self.rebuilt[key] = spec

    def _why_full(self, name: str, tree: RuleNode, kept: store.SegmentBase | None) -> str | None:
        from segmint.rules.increments import leaves

        if self.full:
            return "a full refresh was asked for"
        if kept is None:
            return "no earlier refresh of this definition to build on"
        if kept.basis != self.bases[name]:
            return "its rule, or the type of something it reads, changed since its last refresh"
        if self.since is None or (kept.as_of, kept.load_id) != self.since:
            return "its last refresh is not where its conditions' kept measures stand"
        fresh = [self.keys[n] for n in leaves(tree) if self.keys[n] in self.rebuilt]
        if fresh:
            return "the measures of some of its conditions are computed afresh"
        return None

    def fall_back(self, reason: str) -> None:
        """Evaluate every segment from the events (the kept measures are left as they are)."""
        for name, mode in list(self.modes.items()):
            if mode.path != EVENTS:
                self.modes[name] = Mode(name, FULL, reason, EVENTS)
        self.rebuilt.clear()
        self.updated.clear()
        self.since = None
        self.every = False  # the kept measures stay for the next refresh

    def names(self, path: str, among: list[str]) -> list[str]:
        return [n for n in among if n in self.modes and self.modes[n].path == path]

    def stage(self) -> None:
        """Compute each leaf's measures, or their change, before the transaction (reads
        only)."""
        from segmint.rules.increments import BEFORE_PREFIX, delta_params, group_columns, slices

        evaluator = self.plan.evaluator
        groups: dict[str, list[LeafSpec]] = {}
        for spec in self.rebuilt.values():
            groups.setdefault(spec.event, []).append(spec)
        self.staged = []
        for g, specs in enumerate(groups.values()):
            sql, variables = evaluator.leaf_group_template(specs)
            params = evaluator.clock_params(variables, self.as_of)
            store.stage_group(evaluator.engine, g, sql, params)
            self.staged += [
                store.Rebuilt(spec.key, g, group_columns(spec, i)) for i, spec in enumerate(specs)
            ]
        if self.since is None:
            return
        before, last_load = self.since
        for key, spec in self.updated.items():
            count = len(slices(spec, before, self.as_of))
            sql, variables = evaluator.leaf_template(spec, count)
            at = {k: v for k, v in variables.items() if not k.startswith(BEFORE_PREFIX)}
            earlier = {k: v for k, v in variables.items() if k.startswith(BEFORE_PREFIX)}
            params = evaluator.clock_params(at, self.as_of)
            params |= delta_params(spec, earlier, before, self.as_of, last_load)
            store.stage(evaluator.engine, key, sql, params)

    def apply(self, refresh_id: int) -> int:
        """Inside the refresh's transaction: write the staged measures (and, when the
        refresh covers every active segment, drop those no segment uses) and mark the
        customers the incremental segments re-evaluate (how many)."""
        from segmint.rules.increments import flip_ranges

        if self.every and not self.source:
            store.drop_unused(self.con, {*self.rebuilt, *self.updated})
        if self.rebuilt or self.updated:
            merges = store.merges_since(self.con, self.since[1]) if self.since else []
            store.apply(
                self.con,
                self.staged,
                list(self.updated),
                merges,
                self.as_of,
                self.load,
                refresh_id,
            )
        if self.since is None or not any(m.path == TOUCHED for m in self.modes.values()):
            return 0
        before, last_load = self.since
        flips = flip_ranges(list(self.updated.values()), before, self.as_of)
        return store.mark_changed(
            self.con, list(self.updated), last_load, before, self.as_of, flips
        )

    def record(self, refresh_id: int, ok: set[str]) -> None:
        """Note the basis and mode of each segment evaluated from the kept measures."""
        rows = [
            (name, self.bases[name], mode.mode)
            for name, mode in self.modes.items()
            if mode.path != EVENTS and name in ok
        ]
        store.record_bases(self.con, refresh_id, rows, self.as_of, self.load)
