"""Cluster benchmark: 1M customers x 12 features, k from 3 to 8, end to end.

    python bench/cluster_bench.py --workspace bench/data/ws-sorted [--sample 100000]
        [--out F.json]

On the ingest data set (1M customers, 50M events; bench/README.md), in one process:

1. ``segmint``: ``ws.cluster(FEATURES, k_range=(3, 8))`` end to end, as ``segmint cluster``
   runs it: the features of everyone (traits with the CLV fit, and attributes), fills and
   encoding, k-means for each k on the sample with silhouettes, assignment of everyone,
   profiles and names, one decision tree per cluster, the rules measured on everyone, and
   the stored run. Time per phase, and the process's peak RSS when it ends.
2. ``baseline``: a plain scikit-learn script on the same matrix (the encoded features of
   everyone): for each k, ``KMeans(k, n_init=4, random_state=0).fit`` on all 1M rows and
   ``silhouette_score`` on a 10,000-row sample, the way one would write it by hand.

Targets of the cluster issue: under 60 s end to end and under 3 GB RSS on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import segmint
from segmint.cluster.features import DEFAULT_FEATURES

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # the end of the benchmark data
# The default features (nine traits), then p_alive, an integer attribute and a category.
FEATURES = [*DEFAULT_FEATURES, "p_alive", "loyalty_points", "plan"]


class Phases:
    """A progress sink that records how long each phase took."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.current: str | None = None
        self.started = time.perf_counter()

    def _close(self) -> None:
        if self.current is not None:
            name = self.current.split(" with k=")[0]
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - self.started
        self.current = None

    def phase(self, name: str, total: float | None = None) -> None:
        self._close()
        self.current = name if not name.startswith("assigning") else "assigning everyone"
        self.started = time.perf_counter()

    def advance(self, completed: float) -> None:
        pass

    def done(self) -> None:
        self._close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(ws: segmint.Workspace, sample: int) -> dict[str, Any]:
    """The same features, filled and encoded as segmint does, then plain scikit-learn."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from segmint.cluster.features import Encoding, fill, resolve

    features = resolve(FEATURES, ws.evaluator().catalog)
    frame = ws.members({"and": []}, AS_OF, output="pandas", columns=FEATURES)
    fill(frame, features)
    picked = np.random.default_rng(0).choice(len(frame), size=sample, replace=False)
    matrix = Encoding.fit(frame.iloc[picked], features).transform(frame)
    out: dict[str, Any] = {"rows": int(matrix.shape[0]), "columns": int(matrix.shape[1])}
    start = time.perf_counter()
    scores = {}
    for k in range(3, 9):
        model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(matrix)
        scores[k] = float(
            silhouette_score(matrix, model.labels_, sample_size=10_000, random_state=0)
        )
    out["seconds"] = time.perf_counter() - start
    out["silhouettes"] = scores
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("bench/data/ws-sorted"))
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"workspace": str(args.workspace), "as_of": AS_OF.isoformat()}
    with segmint.open(args.workspace) as ws:
        phases = Phases()
        start = time.perf_counter()
        run = ws.cluster(
            FEATURES, k_range=(3, 8), as_of=AS_OF, sample=args.sample, seed=0, progress=phases
        )
        seconds = time.perf_counter() - start
        report["segmint"] = {
            "seconds": seconds,
            "peak_rss_mb": peak_mb(),
            "phases": phases.times,
            "run_id": run.run_id,
            "k": run.k,
            "reason": run.reason,
            "customers": run.params["customers"],
            "sample": run.params["sample"],
            "scores": [
                {"k": s.k, "silhouette": s.silhouette, "inertia": s.inertia} for s in run.scores
            ],
            "clusters": run.summary()["clusters"],
        }
        print(
            f"segmint cluster: {seconds:.1f} s end to end, peak RSS {peak_mb():,.0f} MB, "
            f"k={run.k} ({run.params['customers']:,} customers)",
            flush=True,
        )
        for name, took in phases.times.items():
            print(f"  {name}: {took:.1f} s")
        for c in run.clusters:
            print(
                f"  cluster {c.id} {c.name!r}: {c.size:,} ({c.share:.1%}); rule precision "
                f"{c.precision:.2f}, recall {c.recall:.2f}"
            )
        plain = baseline(ws, args.sample)
        report["baseline"] = plain
        print(
            f"plain scikit-learn KMeans k=3..8 on the full {plain['rows']:,} x "
            f"{plain['columns']} matrix: {plain['seconds']:.1f} s",
            flush=True,
        )
        report["ratio"] = seconds / plain["seconds"]
        print(f"segmint end to end / plain KMeans sweep: {report['ratio']:.2f}x")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
