"""A cluster run from start to end, and the runs kept in the workspace.

1. Read the features of everyone at ``as_of`` (traits and attributes; one query).
2. Fill missing values, draw the sample, fit the encoding (logs, scales, categories).
3. k-means for each k on the sample; choose k (cluster/model.py).
4. Assign everyone to the nearest centre of the chosen model; cluster 0 is the largest.
5. Profile and name each cluster, explain it as a rule, and measure each rule's precision
   and recall by evaluating the rule text on everyone (one shared query).
6. Store the run (parameters, scores, clusters) and everyone's cluster.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from segmint.cluster.explain import ClusterProfile, FeatureProfile
from segmint.cluster.model import Score
from segmint.errors import ArgumentError, ConflictError, ModelError, NotFoundError
from segmint.store import clusters as stored
from segmint.store.txn import transaction
from segmint.traits.definitions import CLV_TRAITS

if TYPE_CHECKING:
    import pandas as pd

    from segmint.console import Progress
    from segmint.segments.context import SegmentContext
    from segmint.segments.query import Evaluator

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
    """Cluster the customers at ``as_of`` (see the module docstring); the run is stored."""
    import numpy as np

    from segmint.cluster import explain as ex
    from segmint.cluster import model as km
    from segmint.cluster.features import ORDER_TRAITS, Encoding, fill, needs_orders, resolve
    from segmint.console import SilentProgress
    from segmint.rules.coerce import as_rule
    from segmint.rules.text import to_text
    from segmint.segments.query import parse_as_of

    progress = progress or SilentProgress()
    started = time.perf_counter()
    when = parse_as_of(as_of)
    ks = _ks(k, k_range)
    km.check_range(ks, max(ks) + 1)  # k >= 2 before anything is read
    _check_between("--sample", sample, 2, MAX_SAMPLE)
    _check_between("--seed", seed, 0, MAX_SEED)
    if plot_dir is not None:
        _plot_folder(plot_dir)
    evaluator = ctx.evaluator()
    chosen = resolve(features, evaluator.catalog)
    names = [f.name for f in chosen]
    if needs_orders(chosen) and not _any_orders(ctx, when):
        raise ArgumentError(
            f"no customer has an order up to {_iso(when)}, and the features "
            f"{', '.join(n for n in names if n in ORDER_TRAITS)} come from orders: load "
            "orders or give --features without them (e.g. tenure_days,days_since_last_seen,"
            "email_open_rate_90d)",
            "--features",
        )
    warnings: list[str] = []
    progress.phase("reading features")
    try:
        raw = _read(evaluator, when, names)
    except ModelError as exc:
        if features:
            raise
        # The default features go on without predicted CLV when it cannot be fitted.
        chosen = [f for f in chosen if f.name not in CLV_TRAITS]
        names = [f.name for f in chosen]
        warnings.append(f"predicted_clv_365d left out: {exc}")
        raw = _read(evaluator, when, names)
    rows = len(raw)
    if rows == 0:
        raise NotFoundError(f"no customers exist at {_iso(when)}", "--as-of")
    km.check_range(ks, rows)
    rng = np.random.default_rng(seed)
    size = min(sample, rows)
    if size <= max(ks):
        raise ArgumentError(
            f"--sample {sample} is too small for k={max(ks)}: the sample needs more customers "
            "than clusters",
            "--sample",
        )
    picked = np.sort(rng.choice(rows, size=size, replace=False)) if size < rows else np.arange(rows)
    stored = raw.iloc[picked].copy()  # the trees see stored values, missing ones included
    frame = raw  # filled in place from here on
    filled = fill(frame, chosen)
    warnings += [
        f"{f.name}: filled {filled[f.name]:,} missing values" for f in chosen if f.name in filled
    ]
    encoding = Encoding.fit(frame.iloc[picked], chosen)
    for f in chosen:
        if not f.category and frame[f.name].nunique() <= 1:
            warnings.append(f"{f.name}: the same for everyone, it does not shape the clusters")
    matrix = encoding.transform(frame)
    fitted, scores = km.sweep(matrix[picked], ks, seed, progress)
    left_out = [n for n in ks if n not in fitted]
    if left_out:
        warnings.append(
            f"k={', '.join(map(str, left_out))} left out: k-means left a cluster empty (the "
            "features do not tell that many groups apart)"
        )
    choice = km.choose(scores, fixed=k is not None)
    progress.phase(f"assigning {rows:,} customers to {choice.k} clusters")
    labels = km.assign(fitted[choice.k], matrix)
    labels = km.by_size(labels, choice.k)[labels]
    clusters = ex.profiles(frame, encoding, matrix, labels, choice.k)
    ex.suggest_names(clusters, {f.name: f.type for f in chosen})
    progress.phase("explaining clusters as rules")
    x_tree, inputs = ex.tree_inputs(stored, encoding)
    rules = []
    for c in clusters:
        rule = as_rule(ex.explain(x_tree, inputs, labels[picked] == c.id, seed))
        rules.append(rule)
        c.rule = to_text(rule)
        c.rule_size = _leaves(rule.to_json())
    progress.phase("measuring the rules on everyone")
    flags = evaluator.flags(rules, when)
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
    params = {
        "features": names,
        "k": k,
        "k_range": None if k is not None else [ks[0], ks[-1]],
        "sample": size,
        "seed": seed,
        "customers": rows,
    }
    result = ClusterRun(
        0,
        when,
        choice.k,
        choice.reason,
        choice.scores,
        choice.elbow,
        params,
        encoding.describe(),
        clusters,
        0.0,
        warnings,
        labels=_labels_frame(ids, labels),
    )
    result.seconds = time.perf_counter() - started
    result.run_id = _store(ctx, result)
    if plot_dir is not None:
        from segmint.cluster.plots import write_plots

        progress.phase("drawing")
        write_plots(
            result.run_id, result.clusters, matrix[picked], labels[picked], encoding, plot_dir, seed
        )
    progress.done()
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


def _read(evaluator: Evaluator, when: datetime, names: list[str]) -> pd.DataFrame:
    """The features of everyone at ``when`` (and tenure_days, which fills recency)."""
    extra = (
        ["tenure_days"] if "days_since_last_order" in names and "tenure_days" not in names else []
    )
    frame = evaluator.members({"and": []}, when, output="pandas", columns=[*names, *extra])
    return cast("pd.DataFrame", frame)


def _any_orders(ctx: SegmentContext, when: datetime) -> bool:
    from segmint.traits.expressions import TraitSettings

    events = list(TraitSettings.from_config(ctx.config).purchase_events)
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


def _store(ctx: SegmentContext, run: ClusterRun) -> int:
    """Insert the run and everyone's cluster in one transaction; the new run id."""
    import pyarrow as pa

    assert run.labels is not None
    con = ctx.con
    with transaction(con, "cluster", "storing the cluster run"):
        run_id = stored.next_run_id(con)
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
        members = pa.table(
            {
                "customer_id": pa.array(run.labels["customer_id"], pa.string()),
                "cluster": pa.array(run.labels["cluster"], pa.int32()),
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
    """The customer ids of one cluster of a stored run, sorted."""
    run = load(ctx, run_id)
    run.cluster(ident)
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
