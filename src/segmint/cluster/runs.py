"""A cluster run from start to end, and the runs kept in the workspace.

1. Read the features of everyone at ``as_of`` (traits and attributes; one query).
2. Fill missing values, draw the sample, fit the encoding (logs, scales, categories).
3. k-means for each k on the sample; choose k (cluster/model.py).
4. Assign everyone to the nearest centre of the chosen model; cluster 0 is the largest.
5. Profile and name each cluster, explain it as a rule, and measure each rule's precision
   and recall by evaluating the rule text on everyone (one shared query).
6. Store the run (parameters, scores, clusters) and everyone's cluster.

On a source (:func:`_on_source`, cluster/source.py) steps 1 and 2 read only the sample,
drawn by the engine; step 4 reads everyone in batches and writes their clusters back
there, and step 6 commits the run locally after that write, which makes it read.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from segmint.cluster.explain import ClusterProfile, FeatureProfile
from segmint.cluster.model import Choice, Score, check_range
from segmint.errors import ArgumentError, ConflictError, ModelError, NotFoundError
from segmint.store import clusters as stored
from segmint.store.txn import transaction
from segmint.traits.definitions import CLV_TRAITS

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from segmint.cluster.features import Encoding, Feature
    from segmint.console import Progress
    from segmint.rules.model import RuleNode
    from segmint.segments.context import SegmentContext
    from segmint.segments.query import Evaluator
    from segmint.store.source_state import SourceState

DEFAULT_RANGE: Final = (3, 8)
DEFAULT_SAMPLE: Final = 100_000
# The ranges of the parameters (docs/clusters.md): more clusters than MAX_K are no longer
# segments a person can tell apart; seeds are what NumPy's generators take.
MAX_K: Final = 50
MAX_SAMPLE: Final = 100_000_000
MAX_SEED: Final = 2**32 - 1
# A static list is ``customer_id in [...]`` in the segment file; each id costs about
# 0.15 ms to compile, so 50,000 ids are about 8 s the first time a process evaluates it.
STATIC_LIMIT: Final = 50_000


@dataclass
class ClusterRun:
    """A finished cluster run: the chosen k and why, the scores of every k tried, and the
    clusters (profile, name, rule, fidelity). ``labels`` (customer_id, cluster) is there
    for a run made in this process; a stored run reads it with :meth:`members`."""

    run_id: int
    as_of: datetime
    k: int
    reason: str
    scores: list[Score]
    elbow: int | None
    params: dict[str, Any]
    encoding: dict[str, Any]
    clusters: list[ClusterProfile]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    labels: pd.DataFrame | None = None

    @property
    def rules(self) -> dict[int, str]:
        return {c.id: c.rule for c in self.clusters}

    @property
    def profiles(self) -> list[ClusterProfile]:
        return self.clusters

    def cluster(self, ident: int) -> ClusterProfile:
        for c in self.clusters:
            if c.id == ident:
                return c
        raise NotFoundError(
            f"run {self.run_id} has no cluster {ident} (its clusters are 0 to {self.k - 1})"
        )

    def summary(self) -> dict[str, Any]:
        """The JSON of ``segmint cluster --json`` (DESIGN section 6)."""
        return {
            "run_id": self.run_id,
            "k": self.k,
            "clusters": [
                {
                    "id": c.id,
                    "size": c.size,
                    "name": c.name,
                    "rule": c.rule,
                    "precision": c.precision,
                    "recall": c.recall,
                }
                for c in self.clusters
            ],
        }

    def to_json(self) -> dict[str, Any]:
        """Everything about the run (``segmint cluster show RUN_ID --json``)."""
        return {
            "run_id": self.run_id,
            "as_of": _iso(self.as_of),
            "k": self.k,
            "reason": self.reason,
            "elbow": self.elbow,
            "seconds": self.seconds,
            "params": self.params,
            "scores": [
                {"k": s.k, "silhouette": s.silhouette, "inertia": s.inertia} for s in self.scores
            ],
            "encoding": self.encoding,
            "warnings": self.warnings,
            "clusters": [
                {
                    "id": c.id,
                    "size": c.size,
                    "share": c.share,
                    "name": c.name,
                    "rule": c.rule,
                    "precision": c.precision,
                    "recall": c.recall,
                    "rule_size": c.rule_size,
                    "features": [f.to_json() for f in c.features],
                }
                for c in self.clusters
            ],
        }


# A finished run, and the sample's matrix, labels and encoding (for the pictures).
_Finished = tuple[ClusterRun, "np.ndarray", "np.ndarray", "Encoding"]


@dataclass
class _Setup:
    """What every run starts from: the checked parameters, the features and the notes."""

    ctx: SegmentContext
    evaluator: Evaluator
    when: datetime
    ks: list[int]
    k: int | None
    sample: int
    seed: int
    chosen: list[Feature]
    warnings: list[str]
    started: float

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.chosen]

    def params(self, size: int, rows: int) -> dict[str, Any]:
        return {
            "features": self.names,
            "k": self.k,
            "k_range": None if self.k is not None else [self.ks[0], self.ks[-1]],
            "sample": size,
            "seed": self.seed,
            "customers": rows,
        }


def cluster(
    ctx: SegmentContext,
    features: list[str] | None = None,
    k: int | None = None,
    k_range: tuple[int, int] | None = None,
    as_of: datetime | str | None = None,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    plot_dir: Path | None = None,
    progress: Progress | None = None,
) -> ClusterRun:
    """Cluster the customers at ``as_of`` (see the module docstring); the run is stored.
    On a source, the engine computes the features and keeps everyone's cluster
    (:func:`_on_source`)."""
    from segmint.cluster.features import ORDER_TRAITS, needs_orders, resolve
    from segmint.console import SilentProgress
    from segmint.segments.query import parse_as_of

    progress = progress or SilentProgress()
    started = time.perf_counter()
    when = parse_as_of(as_of)
    ks = _ks(k, k_range)
    check_range(ks, max(ks) + 1)  # k >= 2 before anything is read
    _check_between("--sample", sample, 2, MAX_SAMPLE)
    _check_between("--seed", seed, 0, MAX_SEED)
    if plot_dir is not None:
        _plot_folder(plot_dir)
    evaluator = ctx.evaluator()
    chosen = resolve(features, evaluator.catalog)
    setup = _Setup(ctx, evaluator, when, ks, k, sample, seed, chosen, [], started)
    if needs_orders(chosen) and not _any_orders(ctx, evaluator, when):
        raise ArgumentError(
            f"no customer has an order up to {_iso(when)}, and the features "
            f"{', '.join(n for n in setup.names if n in ORDER_TRAITS)} come from orders: "
            "load orders or give --features without them (e.g. tenure_days,"
            "days_since_last_seen,email_open_rate_90d)",
            "--features",
        )
    progress.phase("reading features")
    run = _on_source if ctx.source_state is not None else _embedded
    result, matrix, labels, encoding = run(setup, features is not None, progress)
    if plot_dir is not None:
        from segmint.cluster.plots import write_plots

        progress.phase("drawing")
        write_plots(result.run_id, result.clusters, matrix, labels, encoding, plot_dir, seed)
    progress.done()
    return result


def _embedded(setup: _Setup, named: bool, progress: Progress) -> _Finished:
    """A run on the workspace's own store: the run, and the sample's matrix and labels."""
    import numpy as np

    from segmint.cluster import explain as ex
    from segmint.cluster import model as km
    from segmint.cluster.features import Encoding, fill

    raw = _read_features(setup, named, lambda names: _read(setup.evaluator, setup.when, names))
    rows = len(raw)
    size = _sample_size(setup, rows)
    rng = np.random.default_rng(setup.seed)
    picked = np.sort(rng.choice(rows, size=size, replace=False)) if size < rows else np.arange(rows)
    kept = raw.iloc[picked].copy()  # the trees see stored values, missing ones included
    frame = raw  # filled in place from here on
    filled = fill(frame, setup.chosen)
    encoding = Encoding.fit(frame.iloc[picked], setup.chosen)
    same = _same_for_everyone(frame, setup.chosen)
    matrix = encoding.transform(frame)
    model, choice, left_out = _fit(setup, matrix[picked], progress)
    setup.warnings += [*_filled_notes(setup.chosen, filled), *same, *left_out]
    progress.phase(f"assigning {rows:,} customers to {choice.k} clusters")
    labels = km.assign(model, matrix)
    labels = km.by_size(labels, choice.k)[labels]
    clusters = ex.profiles(frame, encoding, matrix, labels, choice.k)
    rules = _describe(setup, clusters, kept, encoding, labels[picked], progress)
    progress.phase("measuring the rules on everyone")
    flags = setup.evaluator.flags(rules, setup.when)
    ids = raw["customer_id"].to_numpy()
    if flags.num_rows != rows or not np.array_equal(
        flags.column("customer_id").to_numpy(zero_copy_only=False), ids
    ):
        # A bug, not a user's error: the CLI reports it as an internal error.
        raise RuntimeError("the rules and the features saw different customers")
    for c in clusters:
        chosen_by_rule = flags.column(f"s{c.id}").to_numpy(zero_copy_only=False)
        inside = labels == c.id
        hits = int(np.sum(chosen_by_rule & inside))
        c.precision = hits / int(chosen_by_rule.sum()) if chosen_by_rule.any() else 0.0
        c.recall = hits / int(inside.sum()) if inside.any() else 0.0
    result = _result(setup, choice, encoding, clusters, size, rows)
    result.labels = _labels_frame(ids, labels)
    result.run_id = _store(setup.ctx, result)
    return result, matrix[picked], labels[picked], encoding


def _on_source(setup: _Setup, named: bool, progress: Progress) -> _Finished:
    """A run on a source (docs/clusters.md, "On a source"): the features are one query in
    the engine, k-means is fitted on a sample drawn there, everyone is assigned batch by
    batch and their clusters written back as version ``run_id`` of ``cluster_members``;
    the run is then committed in the workspace's own store, which makes the version
    readable. The profiles are the sample's (everyone's when the sample holds everyone);
    the sizes and the rules' precision and recall are everyone's."""
    from segmint.cluster import explain as ex
    from segmint.cluster import model as km
    from segmint.cluster import source
    from segmint.cluster.features import Encoding, fill, fill_medians

    evaluator, when = setup.evaluator, setup.when
    rows = source.count(evaluator, when)
    if rows == 0:
        raise NotFoundError(f"no customers exist at {_iso(when)}", "--as-of")
    size = _sample_size(setup, rows)
    raw = _read_features(
        setup,
        named,
        lambda names: source.sample(evaluator, when, _wanted(names), size, rows, setup.seed),
    )
    columns = [c for c in raw.columns if c != "customer_id"]
    kept = raw.copy()  # the trees see stored values, missing ones included
    medians = fill_medians(raw, setup.chosen)
    fill(raw, setup.chosen, medians)
    encoding = Encoding.fit(raw, setup.chosen)
    same = _same_for_everyone(raw, setup.chosen)
    matrix = encoding.transform(raw)
    model, choice, left_out = _fit(setup, matrix, progress)
    progress.phase(f"assigning {rows:,} customers to {choice.k} clusters")
    assert setup.ctx.source_state is not None
    state = setup.ctx.source_state()
    run_id = stored.next_run_id(setup.ctx.con)
    try:
        sizes, filled = source.assign(
            evaluator, when, columns, setup.chosen, medians, encoding, model, choice.k
        )
        setup.warnings += [*_filled_notes(setup.chosen, filled), *same, *left_out]
        mapping = km.by_sizes(sizes)
        labels = mapping[km.assign(model, matrix)]
        clusters = ex.profiles(raw, encoding, matrix, labels, choice.k)
        for c in clusters:
            c.size = int(sizes[mapping == c.id].sum())
            c.share = c.size / rows
        rules = _describe(setup, clusters, kept, encoding, labels, progress)
        progress.phase("measuring the rules on everyone")
        hits = source.rule_hits(evaluator, rules, when, columns)
        _source_fidelity(clusters, hits, mapping, rows)
        source.write(state, run_id, [int(m) for m in mapping])
        result = _result(setup, choice, encoding, clusters, size, rows)
        result.run_id = _store(setup.ctx, result, expected_id=run_id)
    except BaseException:
        _forget_version(setup.ctx, state, run_id)
        raise
    return result, matrix, labels, encoding


def _forget_version(ctx: SegmentContext, state: SourceState, run_id: int) -> None:
    """Remove what a failed run wrote on the source, unless the run was committed (Ctrl-C
    during the commit lets it finish); were this to fail too, the version is never read
    (no run names it) and the next run, which gets the same id, replaces it."""
    from segmint.store.source_clusters import drop_members

    try:
        if stored.run_result(ctx.con, run_id) is None:
            drop_members(state, run_id)
    except Exception:  # the run's own error is the one to report
        pass


def _source_fidelity(
    clusters: list[ClusterProfile], hits: pa.Table, mapping: np.ndarray, rows: int
) -> None:
    """Each rule's precision and recall from the counts per staged label."""
    counts = hits.to_pylist()
    if any(r["label"] is None for r in counts) or sum(r["n"] for r in counts) != rows:
        # A bug, not a user's error: the CLI reports it as an internal error.
        raise RuntimeError("the rules and the features saw different customers")
    by_cluster = {int(mapping[r["label"]]): r for r in counts}
    for c in clusters:
        selected = sum(int(r[f"h{c.id}"] or 0) for r in counts)
        own = by_cluster.get(c.id)
        hits_inside = int(own[f"h{c.id}"] or 0) if own else 0
        inside = int(own["n"]) if own else 0
        c.precision = hits_inside / selected if selected else 0.0
        c.recall = hits_inside / inside if inside else 0.0


def _read_features(
    setup: _Setup, named: bool, read: Callable[[list[str]], pd.DataFrame]
) -> pd.DataFrame:
    """The features read by ``read``; the default features go on without predicted CLV
    when it cannot be fitted."""
    try:
        raw = read(setup.names)
    except ModelError as exc:
        if named:
            raise
        setup.chosen = [f for f in setup.chosen if f.name not in CLV_TRAITS]
        setup.warnings.append(f"predicted_clv_365d left out: {exc}")
        raw = read(setup.names)
    if len(raw) == 0:
        raise NotFoundError(f"no customers exist at {_iso(setup.when)}", "--as-of")
    return raw


def _sample_size(setup: _Setup, rows: int) -> int:
    check_range(setup.ks, rows)
    size = min(setup.sample, rows)
    if size <= max(setup.ks):
        raise ArgumentError(
            f"--sample {setup.sample} is too small for k={max(setup.ks)}: the sample needs "
            "more customers than clusters",
            "--sample",
        )
    return size


def _same_for_everyone(frame: pd.DataFrame, chosen: list[Feature]) -> list[str]:
    return [
        f"{f.name}: the same for everyone, it does not shape the clusters"
        for f in chosen
        if not f.category and frame[f.name].nunique() <= 1
    ]


def _filled_notes(chosen: list[Feature], filled: dict[str, int]) -> list[str]:
    return [
        f"{f.name}: filled {filled[f.name]:,} missing values" for f in chosen if f.name in filled
    ]


def _fit(setup: _Setup, matrix: np.ndarray, progress: Progress) -> tuple[Any, Choice, list[str]]:
    """k-means for each k on the sample's ``matrix``: the chosen model, the choice, and a
    note on the k left out."""
    from segmint.cluster import model as km

    fitted, scores = km.sweep(matrix, setup.ks, setup.seed, progress)
    left_out = [n for n in setup.ks if n not in fitted]
    notes = (
        [
            f"k={', '.join(map(str, left_out))} left out: k-means left a cluster empty (the "
            "features do not tell that many groups apart)"
        ]
        if left_out
        else []
    )
    choice = km.choose(scores, fixed=setup.k is not None)
    return fitted[choice.k], choice, notes


def _describe(
    setup: _Setup,
    clusters: list[ClusterProfile],
    stored: pd.DataFrame,
    encoding: Encoding,
    labels: np.ndarray,
    progress: Progress,
) -> list[RuleNode]:
    """Name the clusters and explain each as a rule, from the sample's stored values and
    labels; the rules, in cluster order."""
    from segmint.cluster import explain as ex
    from segmint.rules.coerce import as_rule
    from segmint.rules.text import to_text

    ex.suggest_names(clusters, {f.name: f.type for f in setup.chosen})
    progress.phase("explaining clusters as rules")
    x_tree, inputs = ex.tree_inputs(stored, encoding)
    rules = []
    for c in clusters:
        rule = as_rule(ex.explain(x_tree, inputs, labels == c.id, setup.seed))
        rules.append(rule)
        c.rule = to_text(rule)
        c.rule_size = _leaves(rule.to_json())
    return rules


def _result(
    setup: _Setup,
    choice: Choice,
    encoding: Encoding,
    clusters: list[ClusterProfile],
    size: int,
    rows: int,
) -> ClusterRun:
    result = ClusterRun(
        0,
        setup.when,
        choice.k,
        choice.reason,
        choice.scores,
        choice.elbow,
        setup.params(size, rows),
        encoding.describe(),
        clusters,
        0.0,
        setup.warnings,
    )
    result.seconds = time.perf_counter() - setup.started
    return result


def _ks(k: int | None, k_range: tuple[int, int] | None) -> list[int]:
    """The k to try: ``k``, or every k of ``k_range`` (default 3-8), each 2 to MAX_K."""
    if k is not None and k_range is not None:
        raise ArgumentError("give --k or --k-range, not both", "--k")
    if k is not None:
        _check_between("--k", k, 2, MAX_K)
        return [k]
    lo, hi = k_range or DEFAULT_RANGE
    _check_between("--k-range", lo, 2, MAX_K)
    _check_between("--k-range", hi, 2, MAX_K)
    if lo > hi:
        raise ArgumentError(
            f"the k range {lo}-{hi} is empty (the low end comes first)", "--k-range"
        )
    return list(range(lo, hi + 1))


def _check_between(option: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise ArgumentError(f"{option}: must be between {low:,} and {high:,}, got {value}", option)


def _plot_folder(folder: Path) -> None:
    """Make ``--plot-dir`` (and its parents) before the work, so that a folder that cannot
    be written is an error now rather than after the clustering; matplotlib too."""
    from segmint.plotting import pyplot

    pyplot("--plot-dir")  # no matplotlib: say so before the work, not after it
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ArgumentError(
            f"--plot-dir: {folder} exists and is not a folder", "--plot-dir"
        ) from None
    except OSError as exc:
        problem = f"--plot-dir: cannot create {folder}: {exc.strerror}"
        raise ArgumentError(problem, "--plot-dir") from None


def _wanted(names: list[str]) -> list[str]:
    """The columns to read for ``names``: tenure_days too when it fills recency."""
    extra = "days_since_last_order" in names and "tenure_days" not in names
    return [*names, "tenure_days"] if extra else names


def _read(evaluator: Evaluator, when: datetime, names: list[str]) -> pd.DataFrame:
    """The features of everyone at ``when`` (and tenure_days, which fills recency)."""
    frame = evaluator.members({"and": []}, when, output="pandas", columns=_wanted(names))
    return cast("pd.DataFrame", frame)


def _any_orders(ctx: SegmentContext, evaluator: Evaluator, when: datetime) -> bool:
    from segmint.traits.expressions import TraitSettings

    events = list(TraitSettings.from_config(ctx.config).purchase_events)
    if ctx.source_state is not None:
        from segmint.cluster.source import has_orders

        return has_orders(evaluator, when, events)
    return stored.has_events(ctx.con, events, when)


def _leaves(rule: dict[str, Any]) -> int:
    """How many comparisons a rule has (its size for a reader)."""
    for key in ("and", "or"):
        if key in rule:
            return sum(_leaves(r) for r in rule[key])
    if "not" in rule:
        return _leaves(rule["not"])
    return 1


def _labels_frame(ids: Any, labels: Any) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({"customer_id": ids, "cluster": labels})


def _store(ctx: SegmentContext, run: ClusterRun, expected_id: int | None = None) -> int:
    """Insert the run and everyone's cluster (``run.labels``; on a source they are in the
    engine already, as version ``expected_id``) in one transaction; the new run id."""
    import pyarrow as pa

    con = ctx.con
    with transaction(con, "cluster", "storing the cluster run"):
        run_id = stored.next_run_id(con)
        if expected_id is not None and run_id != expected_id:
            # Another process stored a run meanwhile (the workspace lock should prevent it):
            # the members were written under another id, so this run cannot name them.
            raise ConflictError(
                f"cluster run {expected_id} was stored by another process meanwhile; "
                "run segmint cluster again"
            )
        run.run_id = run_id
        row = stored.RunRow(
            run_id,
            datetime.now(UTC),
            run.as_of,
            run.k,
            run.seconds,
            json.dumps(run.params),
            json.dumps(run.to_json()),
        )
        labels = run.labels
        members = pa.table(
            {
                "customer_id": pa.array(
                    [] if labels is None else labels["customer_id"], pa.string()
                ),
                "cluster": pa.array([] if labels is None else labels["cluster"], pa.int32()),
            }
        )
        stored.insert_run(con, row, members)
    return run_id


def load(ctx: SegmentContext, run_id: int) -> ClusterRun:
    """A stored run (without labels: see :func:`members`)."""
    result = stored.run_result(ctx.con, run_id)
    if result is None:
        known = stored.run_ids(ctx.con)
        hint = f" (runs: {', '.join(map(str, known[-10:]))})" if known else " (no runs yet)"
        raise NotFoundError(f"no cluster run {run_id}{hint}; see: segmint cluster list")
    return from_json(json.loads(result))


def from_json(data: dict[str, Any]) -> ClusterRun:
    clusters = [
        ClusterProfile(
            c["id"],
            c["size"],
            c["share"],
            [
                FeatureProfile(
                    f["feature"],
                    f["mean"],
                    f["overall"],
                    f["lift"],
                    f["gap"],
                    f.get("value"),
                    f.get("buyer_gap"),
                )
                for f in c["features"]
            ],
            c["name"],
            c["rule"],
            c["precision"],
            c["recall"],
            c["rule_size"],
        )
        for c in data["clusters"]
    ]
    return ClusterRun(
        data["run_id"],
        datetime.fromisoformat(data["as_of"].replace("Z", "+00:00")),
        data["k"],
        data["reason"],
        [Score(s["k"], s["silhouette"], s["inertia"]) for s in data["scores"]],
        data["elbow"],
        data["params"],
        data["encoding"],
        clusters,
        data["seconds"],
        data["warnings"],
    )


def runs(ctx: SegmentContext) -> list[dict[str, Any]]:
    """Every stored run: id, when, as_of, k, features, seconds (oldest first)."""
    return [
        {
            **json.loads(r.params),
            "run_id": r.run_id,
            "created_at": _iso(r.created_at),
            "as_of": _iso(r.as_of),
            "k": r.k,
            "seconds": r.seconds,
        }
        for r in stored.all_runs(ctx.con)
    ]


def rename(ctx: SegmentContext, run_id: int, ident: int, name: str) -> ClusterRun:
    """Replace the suggested name of a cluster in a stored run (the default title when it
    is saved)."""
    text = name.strip()
    if not text:
        raise ArgumentError("a cluster name cannot be empty", "name")
    run = load(ctx, run_id)
    clash = [c.id for c in run.clusters if c.name == text and c.id != ident]
    run.cluster(ident).name = text
    if clash:
        raise ConflictError(f"cluster {clash[0]} of run {run_id} is already named {text!r}", "name")
    stored.update_result(ctx.con, run_id, json.dumps(run.to_json()))
    return run


def members(ctx: SegmentContext, run_id: int, ident: int) -> list[str]:
    """The customer ids of one cluster of a stored run, sorted (on a source, from the
    run's version of ``cluster_members`` there, read only once the run is found here)."""
    run = load(ctx, run_id)
    run.cluster(ident)
    if ctx.source_state is not None:
        from segmint.store.source_clusters import member_ids

        return member_ids(ctx.source_state(), run_id, ident)
    return stored.member_ids(ctx.con, run_id, ident)


@dataclass(frozen=True)
class ClusterSegment:
    """What a cluster saved as a segment holds: its rule, title and description."""

    rule: Any
    title: str
    description: str


def as_segment(
    ctx: SegmentContext, run_id: int, ident: int, kind: str = "rule", title: str | None = None
) -> ClusterSegment:
    """A cluster as a segment: its rule (refreshed like any other segment), or with
    ``kind="static"`` its members at the run's as_of as a fixed list
    (``customer_id in [...]``). The façade saves it (Workspace.save_cluster)."""
    if kind not in ("rule", "static"):
        raise ArgumentError(f"--as is rule or static, got {kind!r}", "--as")
    run = load(ctx, run_id)
    found = run.cluster(ident)
    note = (
        f"Cluster {ident} of cluster run {run_id} (as_of {_iso(run.as_of)}, "
        f"{found.size:,} customers)."
    )
    if kind == "rule":
        rule: Any = found.rule
        description = f"{note} Rule precision {found.precision:.2f}, recall {found.recall:.2f}."
    else:
        if found.size > STATIC_LIMIT:
            raise ArgumentError(
                f"cluster {ident} of run {run_id} has {found.size:,} members; a static list "
                f"holds at most {STATIC_LIMIT:,} (it is kept in the segment file): save it "
                "--as rule instead",
                "--as",
            )
        ids = members(ctx, run_id, ident)
        rule = {"attr": "customer_id", "op": "in", "value": ids}
        description = f"{note} A fixed list of its members."
    return ClusterSegment(rule, title or found.name, description)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
