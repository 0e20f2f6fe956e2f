"""k-means over a range of k on a sample, the choice of k, and the assignment of everyone.

Each k is fitted with scikit-learn's ``KMeans`` (k-means++ starts, ``n_init`` restarts,
a fixed ``random_state``) on the sample, scored by its silhouette on a sub-sample and
its inertia. The choice prefers the 5-8 zone of segments a team can act on: the best
silhouette in the zone wins unless a k outside it shows a structure of its own, that is
a silhouette of at least :data:`STRUCTURE` (0.5, where Kaufman and Rousseeuw's scale
starts calling a structure "reasonable") that beats the zone by more than
:data:`CLEAR_MARGIN`. Customer data often splits weakly into buyers and non-buyers with
a higher silhouette at k=2 or 3 than at 6; that split alone is not worth giving up the
zone for. But when the best silhouette is strong (at least :data:`STRONG`, 0.7, Kaufman and
Rousseeuw's "strong structure") and the elbow of the inertia curve is at the same k, two
independent signals agree on how many groups there are, and the data wins whatever the
margin: four well-separated groups (0.78 at k=4, 0.73 at k=5, elbow at 4) are not split to
reach the zone. The elbow is reported beside the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from segmint.errors import ArgumentError, ModelError

if TYPE_CHECKING:
    import numpy as np

    from segmint.console import Progress

ZONE: Final = (5, 8)  # the manageable number of segments
CLEAR_MARGIN: Final = 0.05  # silhouette points a k outside the zone must win by
STRUCTURE: Final = 0.5  # ... and the silhouette it must reach
STRONG: Final = 0.7  # a silhouette this high that the elbow agrees with wins outright
SILHOUETTE_SAMPLE: Final = 10_000
N_INIT: Final = 4


@dataclass(frozen=True)
class Score:
    k: int
    silhouette: float
    inertia: float


@dataclass(frozen=True)
class Choice:
    k: int
    reason: str
    scores: list[Score]
    elbow: int | None


def check_range(ks: list[int], rows: int) -> None:
    """Each k is at least 2 and below the number of customers clustered."""
    if not ks:
        raise ArgumentError("no k to try: give --k N or --k-range LO-HI", "--k")
    if min(ks) < 2:
        raise ArgumentError(f"k must be at least 2, got {min(ks)}", "--k")
    if max(ks) >= rows:
        raise ArgumentError(
            f"k={max(ks)} needs more customers than the {rows:,} there are to cluster", "--k"
        )


def sweep(
    matrix: np.ndarray, ks: list[int], seed: int, progress: Progress | None = None
) -> tuple[dict[int, Any], list[Score]]:
    """Fit k-means for every k on ``matrix``: the fitted estimators and their scores."""
    import warnings

    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import silhouette_score

    check_range(ks, len(matrix))
    fitted: dict[int, Any] = {}
    scores: list[Score] = []
    for k in ks:
        if progress is not None:
            progress.phase(f"k-means with k={k}")
        with warnings.catch_warnings():
            # Fewer distinct points than k: checked just below, with a clearer message.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(matrix)
        found = len(set(model.labels_.tolist()))
        if found < k:
            # k-means left a cluster empty: the features do not tell k groups apart.
            continue
        silhouette = float(
            silhouette_score(
                matrix,
                model.labels_,
                sample_size=min(SILHOUETTE_SAMPLE, len(matrix)),
                random_state=seed,
            )
        )
        fitted[k] = model
        scores.append(Score(k, silhouette, float(model.inertia_)))
    if not scores:
        distinct = len(np.unique(matrix, axis=0))
        raise ModelError(
            f"the features tell only {distinct} kind(s) of customer apart in the sample, "
            f"too few for k={min(ks)}: use a smaller k or other features"
        )
    return fitted, scores


def elbow(scores: list[Score]) -> int | None:
    """The k farthest below the straight line from the first to the last inertia (the
    "knee" of the curve), or None with fewer than three ks."""
    if len(scores) < 3:
        return None
    first, last = scores[0], scores[-1]
    span_k = last.k - first.k
    span_i = first.inertia - last.inertia
    if span_k <= 0 or span_i <= 0:
        return None
    best, distance = None, 0.0
    for s in scores[1:-1]:
        on_line = first.inertia - span_i * (s.k - first.k) / span_k
        below = (on_line - s.inertia) / span_i
        if below > distance:
            best, distance = s.k, below
    return best


def choose(scores: list[Score], fixed: bool = False) -> Choice:
    """The k to use and why (see the module docstring)."""
    knee = elbow(scores)
    by_k = {s.k: s for s in scores}
    best = max(scores, key=lambda s: (s.silhouette, -s.k))
    if fixed or len(scores) == 1:
        only = scores[0]
        why = "was given" if fixed else "is the only k left in the range"
        return Choice(only.k, f"k={only.k} {why} (silhouette {only.silhouette:.3f})", scores, knee)
    zone = [s for s in scores if ZONE[0] <= s.k <= ZONE[1]]
    tail = f"; the inertia elbow is at k={knee}" if knee is not None else ""
    if not zone:
        return Choice(
            best.k,
            f"k={best.k} has the best silhouette ({best.silhouette:.3f}) in the range "
            f"(none of it is in the {ZONE[0]}-{ZONE[1]} zone){tail}",
            scores,
            knee,
        )
    in_zone = max(zone, key=lambda s: (s.silhouette, -s.k))
    if best.k == in_zone.k:
        reason = (
            f"k={best.k} has the best silhouette ({best.silhouette:.3f}) and is in the "
            f"{ZONE[0]}-{ZONE[1]} zone of manageable segments{tail}"
        )
        return Choice(best.k, reason, scores, knee)
    if best.silhouette >= STRONG and best.k == knee:
        reason = (
            f"k={best.k} has the best silhouette ({best.silhouette:.3f}, a strong structure) "
            f"and the inertia elbow is at k={knee} too: the data has {best.k} groups of its "
            f"own, so it wins over the {ZONE[0]}-{ZONE[1]} zone (best there: k={in_zone.k}, "
            f"{in_zone.silhouette:.3f})"
        )
        return Choice(best.k, reason, scores, knee)
    if best.silhouette >= STRUCTURE and best.silhouette - in_zone.silhouette > CLEAR_MARGIN:
        reason = (
            f"k={best.k} has a clearly better silhouette ({best.silhouette:.3f}) than the best "
            f"k in the {ZONE[0]}-{ZONE[1]} zone (k={in_zone.k}, {in_zone.silhouette:.3f}): the "
            f"data has a structure of its own{tail}"
        )
        return Choice(best.k, reason, scores, knee)
    why = (
        f"below the {STRUCTURE} of a clear structure"
        if best.silhouette < STRUCTURE
        else f"within {CLEAR_MARGIN} of it"
    )
    reason = (
        f"k={in_zone.k} has the best silhouette in the {ZONE[0]}-{ZONE[1]} zone of manageable "
        f"segments ({in_zone.silhouette:.3f}); k={best.k} scores {by_k[best.k].silhouette:.3f}, "
        f"{why}{tail}"
    )
    return Choice(in_zone.k, reason, scores, knee)


def assign(model: Any, matrix: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """The nearest centre of every row, in chunks (bounded memory)."""
    import numpy as np

    out = np.empty(len(matrix), dtype="int32")
    for start in range(0, len(matrix), chunk):
        out[start : start + chunk] = model.predict(matrix[start : start + chunk])
    return out


def by_size(labels: np.ndarray, k: int) -> np.ndarray:
    """Relabel so cluster 0 is the largest (ties by the old label): stable, readable ids."""
    import numpy as np

    return by_sizes(np.bincount(labels, minlength=k))


def by_sizes(sizes: np.ndarray) -> np.ndarray:
    """:func:`by_size` from the size of each label (``sizes[label]``)."""
    import numpy as np

    k = len(sizes)
    order = sorted(range(k), key=lambda c: (-sizes[c], c))
    mapping = np.empty(k, dtype="int32")
    for new, old in enumerate(order):
        mapping[old] = new
    return mapping
