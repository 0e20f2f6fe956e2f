"""Pictures of a cluster run: a heatmap of the clusters' centres and a 2-D projection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from segmint.cluster.explain import ClusterProfile
    from segmint.cluster.features import Encoding

PROJECTED: int = 20_000  # points drawn in the projection


def write_plots(
    run_id: int | None,
    clusters: list[ClusterProfile],
    sample: np.ndarray,
    labels: np.ndarray,
    encoding: Encoding,
    folder: Path,
    seed: int,
) -> list[Path]:
    """For the clusters of run ``run_id``: ``centres.png``, each cluster's gap from everyone
    per feature, in standard deviations of the transformed feature (the colour) with the
    cluster's mean in original units (the text); ``projection.png``, the first two
    principal components of the sample, coloured by cluster."""
    import numpy as np
    from sklearn.decomposition import PCA

    from segmint.plotting import pyplot

    plt = pyplot("--plot-dir")
    folder.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in encoding.features]
    gaps = np.array(
        [[next(p.gap for p in c.features if p.feature == n) for n in names] for c in clusters]
    )
    limit = max(1.0, float(np.nanmax(np.abs(gaps))))
    figure, axes = plt.subplots(figsize=(1.1 * len(names) + 3, 0.6 * len(clusters) + 2))
    image = axes.imshow(gaps, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    axes.set_xticks(range(len(names)), names, rotation=35, ha="right")
    axes.set_yticks(range(len(clusters)), [f"{c.id}: {c.name} ({c.share:.0%})" for c in clusters])
    for row, c in enumerate(clusters):
        for col, feature in enumerate(c.features):
            shown = feature.value if feature.value is not None else _short(feature.mean)
            axes.text(col, row, shown, ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axes, label="gap from everyone (standard deviations)")
    axes.set_title(f"cluster run {run_id or ''}: centres (k={len(clusters)})".replace("  ", " "))
    figure.tight_layout()
    centres = folder / "centres.png"
    figure.savefig(centres, dpi=110)
    plt.close(figure)

    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(sample), size=min(PROJECTED, len(sample)), replace=False)
    if sample.shape[1] >= 2:
        points = PCA(n_components=2, random_state=seed).fit(sample).transform(sample[drawn])
    else:
        # One column: the feature against a little vertical jitter, so points can be seen.
        jitter = rng.uniform(-0.5, 0.5, size=len(drawn))
        points = np.column_stack([sample[drawn, 0], jitter])
    figure, axes = plt.subplots(figsize=(7, 6))
    colours = plt.get_cmap("tab10")
    for c in clusters:
        mask = labels[drawn] == c.id
        axes.scatter(
            points[mask, 0],
            points[mask, 1],
            s=4,
            alpha=0.5,
            color=colours(c.id % 10),
            label=f"{c.id}: {c.name}",
        )
    axes.set_xlabel("first principal component")
    axes.set_ylabel("second principal component")
    axes.legend(markerscale=4, fontsize=8)
    axes.set_title(f"{len(drawn):,} customers of the sample, by cluster")
    figure.tight_layout()
    projection = folder / "projection.png"
    figure.savefig(projection, dpi=110)
    plt.close(figure)
    return [centres, projection]


def _short(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:,.0f}"
