"""The choice of k, the inertia elbow, the k checks, the relabelling by size and the
uniqueness of suggested names, on hand-made inputs (no workspace)."""

from __future__ import annotations

import numpy as np
import pytest

from segmint.cluster.explain import ClusterProfile, FeatureProfile, suggest_names
from segmint.cluster.model import (
    CLEAR_MARGIN,
    STRONG,
    STRUCTURE,
    ZONE,
    Score,
    by_size,
    check_range,
    choose,
    elbow,
)
from segmint.errors import SegmintError


def scores(silhouettes: dict[int, float], inertia: dict[int, float] | None = None) -> list[Score]:
    """Scores for k in ascending order; inertia falls with k unless given."""
    return [Score(k, s, (inertia or {}).get(k, 1000.0 / k)) for k, s in sorted(silhouettes.items())]


def test_the_zone_and_margin_are_the_documented_ones() -> None:
    assert ZONE == (5, 8)
    assert round(CLEAR_MARGIN, 9) == 0.05


def test_best_in_the_zone_wins_when_a_k_outside_is_not_clearly_better() -> None:
    # k=3 beats the zone's best (k=6) by 0.03, less than the margin.
    got = choose(scores({3: 0.63, 4: 0.55, 5: 0.52, 6: 0.60, 7: 0.41, 8: 0.40}))
    assert got.k == 6
    assert "k=6" in got.reason and "k=3" in got.reason


def test_a_k_outside_the_zone_that_is_clearly_better_wins() -> None:
    got = choose(scores({2: 0.55, 3: 0.82, 4: 0.70, 5: 0.61, 6: 0.58, 7: 0.50, 8: 0.47}))
    assert got.k == 3
    assert got.reason.startswith("k=3")
    assert "clearly better" in got.reason


def test_a_strong_structure_the_elbow_agrees_with_wins_by_any_margin() -> None:
    """Four well-separated groups: 0.78 at k=4, 0.73 at k=5, the elbow at 4 (the case a
    user met: the zone preference split a real group in two)."""
    inertia = {2: 9000.0, 3: 5000.0, 4: 1000.0, 5: 900.0, 6: 820.0, 7: 760.0, 8: 700.0}
    given = scores({2: 0.55, 3: 0.62, 4: 0.78, 5: 0.73, 6: 0.60, 7: 0.50, 8: 0.45}, inertia)
    got = choose(given)
    assert (got.k, got.elbow) == (4, 4)
    assert "strong structure" in got.reason and "elbow is at k=4 too" in got.reason


def test_a_strong_silhouette_without_the_elbow_keeps_the_margin_rule() -> None:
    # The elbow (k=3) does not agree with the best silhouette (k=4): within the margin of
    # the zone's best, the zone still wins.
    inertia = {2: 9000.0, 3: 1000.0, 4: 900.0, 5: 850.0, 6: 800.0}
    got = choose(scores({2: 0.5, 3: 0.6, 4: STRONG + 0.02, 5: STRONG, 6: 0.6}, inertia))
    assert got.elbow == 3 and got.k == 5


def test_a_weak_structure_outside_the_zone_does_not_beat_the_zone() -> None:
    # Better by more than the margin, but below the silhouette of a real structure.
    low = STRUCTURE - 0.1
    got = choose(scores({3: low, 5: low - 2 * CLEAR_MARGIN, 6: low - 3 * CLEAR_MARGIN}))
    assert got.k == 5


def test_the_zone_k_wins_when_it_also_has_the_best_silhouette() -> None:
    got = choose(scores({3: 0.40, 4: 0.45, 5: 0.50, 6: 0.71, 7: 0.60, 8: 0.30}))
    assert got.k == 6
    assert "zone" in got.reason


def test_equal_silhouettes_prefer_the_smaller_k() -> None:
    assert choose(scores({5: 0.5, 6: 0.5, 7: 0.5})).k == 5


def test_fixed_k_is_returned_as_given() -> None:
    only = [Score(4, 0.12, 500.0)]
    got = choose(only, fixed=True)
    assert got.k == 4
    assert "k=4" in got.reason and "given" in got.reason
    assert got.scores == only
    assert got.elbow is None


def test_fixed_k_outside_the_zone_with_a_poor_silhouette_is_kept() -> None:
    assert choose([Score(12, -0.2, 5.0)], fixed=True).k == 12


@pytest.mark.parametrize(
    ("silhouettes", "expected"),
    [
        ({2: 0.30, 3: 0.50, 4: 0.40}, 3),
        ({9: 0.20, 10: 0.25, 11: 0.21, 12: 0.19}, 10),
        ({2: 0.10, 3: 0.05, 4: 0.01}, 2),
    ],
)
def test_a_range_wholly_outside_the_zone_takes_the_best_silhouette(
    silhouettes: dict[int, float], expected: int
) -> None:
    got = choose(scores(silhouettes))
    assert got.k == expected
    assert "zone" in got.reason


def test_the_choice_keeps_every_score_and_the_elbow() -> None:
    given = scores({2: 0.3, 3: 0.4, 4: 0.35, 5: 0.33}, {2: 900, 3: 300, 4: 250, 5: 220})
    got = choose(given)
    assert got.scores == given
    assert got.elbow == 3
    assert "elbow is at k=3" in got.reason


def test_elbow_is_the_knee_of_the_inertia_curve() -> None:
    curve = {2: 1000.0, 3: 400.0, 4: 150.0, 5: 130.0, 6: 115.0, 7: 105.0}
    assert elbow(scores(dict.fromkeys(curve, 0.5), curve)) == 4


def test_elbow_moves_with_the_knee() -> None:
    curve = {2: 1000.0, 3: 200.0, 4: 180.0, 5: 165.0, 6: 150.0}
    assert elbow(scores(dict.fromkeys(curve, 0.5), curve)) == 3


@pytest.mark.parametrize(
    "curve",
    [
        {2: 100.0, 3: 50.0},  # fewer than three ks
        {2: 100.0, 3: 80.0, 4: 60.0, 5: 40.0},  # a straight line has no knee
        {2: 100.0, 3: 95.0, 4: 85.0, 5: 10.0},  # above the line everywhere
        {2: 10.0, 3: 20.0, 4: 30.0},  # inertia that grows
    ],
)
def test_no_elbow_without_a_knee(curve: dict[int, float]) -> None:
    assert elbow(scores(dict.fromkeys(curve, 0.5), curve)) is None


def test_check_range_accepts_ks_from_2_to_below_the_rows() -> None:
    check_range([2, 3, 4], 5)
    check_range([2], 3)


@pytest.mark.parametrize(
    ("ks", "rows", "words"),
    [
        ([1], 100, "at least 2"),
        ([0, 1, 2], 100, "at least 2"),
        ([2, 3], 3, "k=3"),
        ([50], 10, "k=50"),
        ([], 10, "no k"),
    ],
)
def test_check_range_rejects(ks: list[int], rows: int, words: str) -> None:
    with pytest.raises(SegmintError, match=words):
        check_range(ks, rows)


def test_by_size_makes_cluster_0_the_largest() -> None:
    labels = np.array([2, 2, 2, 0, 1, 1, 2])
    mapping = by_size(labels, 3)
    relabelled = mapping[labels]
    assert relabelled.tolist() == [0, 0, 0, 2, 1, 1, 0]
    assert np.bincount(relabelled).tolist() == [4, 2, 1]


def test_by_size_breaks_ties_by_the_old_label_and_keeps_empty_clusters_last() -> None:
    assert by_size(np.array([1, 0, 1, 0]), 2).tolist() == [0, 1]
    mapping = by_size(np.array([1, 1, 3]), 4)
    assert mapping.tolist() == [2, 0, 3, 1]
    assert sorted(mapping.tolist()) == [0, 1, 2, 3]  # a permutation


def profile(ident: int, gap: float, mean: float = 1.0) -> ClusterProfile:
    feature = FeatureProfile("score", mean, 1.0, mean, gap)
    return ClusterProfile(ident, 10, 0.25, [feature])


def test_suggested_names_are_unique_within_a_run() -> None:
    clusters = [profile(0, -1.5, 0.2), profile(1, -0.8, 0.6), profile(2, 1.2, 2.0)]
    suggest_names(clusters)
    names = [c.name for c in clusters]
    assert all(names) and len(set(names)) == 3


def test_disambiguated_names_do_not_repeat_a_phrase() -> None:
    clusters = [profile(0, -1.5, 0.2), profile(1, -0.8, 0.6)]
    suggest_names(clusters)
    for c in clusters:
        parts = [p.strip() for p in c.name.split("#")[0].split(",")]
        assert len(parts) == len(set(parts)), c.name


def test_thresholds_are_rounded_but_a_narrow_band_keeps_its_width() -> None:
    from segmint.cluster.explain import _conditions

    wide = _conditions("aov", {"kind": "number", "missing": False, "lo": 3.2512, "hi": 7.9149})
    assert [(c["op"], c["value"]) for c in wide] == [("gt", 3.25), ("le", 7.91)]
    narrow = _conditions("aov", {"kind": "number", "missing": False, "lo": 0.12341, "hi": 0.12349})
    low, high = (c["value"] for c in narrow)
    assert low < high and low == pytest.approx(0.12341, rel=1e-4)
    whole = _conditions("n", {"kind": "integer", "missing": True, "lo": 2.5, "hi": 7.5})
    assert whole == [
        {"or": [{"attr": "n", "op": "between", "value": [3, 7]}, {"attr": "n", "op": "is_not_set"}]}
    ]


def named(*features: FeatureProfile, ident: int = 0) -> ClusterProfile:
    return ClusterProfile(ident, 10, 0.25, list(features))


def test_a_name_word_needs_the_printed_lift_to_agree() -> None:
    """Far above the other buyers on the transformed scale, yet a CLV lift of 0.9 against
    everyone: no "high-value" beside that figure."""
    orders = FeatureProfile("orders_count", 2.5, 2.0, 1.25, 0.2, buyer_gap=0.1)
    clv = FeatureProfile("predicted_clv_365d", 90.0, 100.0, 0.9, 0.7, buyer_gap=0.9)
    clusters = [named(orders, clv)]
    suggest_names(clusters)
    assert "high-value" not in clusters[0].name
    clv_up = FeatureProfile("predicted_clv_365d", 150.0, 100.0, 1.5, 0.7, buyer_gap=0.9)
    clusters = [named(orders, clv_up)]
    suggest_names(clusters)
    assert "high-value" in clusters[0].name


def test_the_most_recently_active_cluster_is_never_called_lapsed() -> None:
    def cluster(ident: int, days: float, buyer_gap: float) -> ClusterProfile:
        return named(
            FeatureProfile("orders_count", 2.0, 2.0, 1.0, 0.0, buyer_gap=0.0),
            FeatureProfile(
                "days_since_last_order", days, 100.0, days / 100.0, 0.0, buyer_gap=buyer_gap
            ),
            FeatureProfile("days_since_last_seen", days / 2, 50.0, days / 100.0, 0.0),
            ident=ident,
        )

    # Both have a buyer gap that would say "lapsed"; the first was active most recently.
    clusters = [cluster(0, 130.0, 0.8), cluster(1, 300.0, 1.5)]
    suggest_names(clusters)
    assert "lapsed" not in clusters[0].name
    assert "lapsed" in clusters[1].name
