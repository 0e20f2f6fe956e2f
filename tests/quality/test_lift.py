"""The statistics of campaign reports (quality/lift.py): the figures against statsmodels
and scipy on fixed inputs, the coverage and false-alarm rate on seeded simulated
campaigns (issue 19, "Correctness"), and the verdict and equivalence rules on hand-built
tables."""

from __future__ import annotations

import ast
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats import proportion
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep

from segmint.errors import ArgumentError
from segmint.quality import lift as lift_module
from segmint.quality.lift import (
    MEASURABLE,
    NO_RESPONSE,
    TOO_SMALL,
    conversion,
    difference_of_lifts,
    equivalent,
    minimum_detectable_effect,
    revenue,
    sample_ratio,
    verdict,
)

TABLES = [(1000, 120, 1000, 100), (50, 5, 48, 2), (10, 0, 10, 0)]


def _verdict(treated: int, treated_converted: int, held: int, held_converted: int) -> str:
    lift = conversion(treated, treated_converted, held, held_converted)
    rate = lift.held_rate if lift.held_rate is not None else math.nan
    return verdict(lift, minimum_detectable_effect(treated, held, rate))


# --- conversion -------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_the_absolute_interval_is_statsmodels_newcombe(table: tuple[int, int, int, int]) -> None:
    treated, treated_converted, held, held_converted = table
    lift = conversion(*table)
    expected = confint_proportions_2indep(
        treated_converted, treated, held_converted, held, compare="diff", method="newcombe"
    )
    assert lift.absolute_interval == pytest.approx(expected, rel=1e-12)
    assert lift.absolute == pytest.approx(treated_converted / treated - held_converted / held)


def test_the_relative_interval_and_the_p_value_are_statsmodels() -> None:
    lift = conversion(1000, 120, 1000, 100)
    low, high = confint_proportions_2indep(
        120, 1000, 100, 1000, compare="ratio", method="log-adjusted"
    )
    assert lift.relative == pytest.approx(0.2)
    assert lift.relative_interval == pytest.approx((low - 1, high - 1))
    score = proportion.test_proportions_2indep(120, 1000, 100, 1000, method="score")
    assert (lift.p_value, lift.p_value_method) == (pytest.approx(score.pvalue), "score")


def test_a_table_with_an_empty_cell_takes_fishers_exact_p_value() -> None:
    lift = conversion(50, 5, 48, 0)
    fisher = stats.fisher_exact([[5, 45], [0, 48]]).pvalue
    assert (lift.p_value, lift.p_value_method) == (pytest.approx(fisher), "fisher")
    assert lift.relative is None and lift.relative_interval is None  # holdout rate 0
    assert conversion(50, 0, 48, 5).relative == -1.0


def test_an_empty_group_gives_no_figures_and_no_verdict() -> None:
    for table in [(0, 0, 10, 1), (10, 1, 0, 0), (0, 0, 0, 0)]:
        lift = conversion(*table)
        assert lift.absolute is None and lift.absolute_interval is None
        assert lift.relative is None and lift.p_value is None
        assert verdict(lift, math.nan) == TOO_SMALL
    assert conversion(0, 0, 10, 1).held_rate == 0.1


def test_no_one_or_everyone_converting_is_too_small_to_tell_however_large() -> None:
    nobody, everybody = conversion(5000, 0, 5000, 0), conversion(5000, 5000, 5000, 5000)
    assert not nobody.varies and not everybody.varies
    assert nobody.p_value == everybody.p_value == 1.0
    assert everybody.relative == 0.0 and everybody.relative_interval is None
    for lift in (nobody, everybody):
        assert verdict(lift, 0.01) == TOO_SMALL


@pytest.mark.parametrize(
    ("args", "location"),
    [
        ((10, 11, 10, 1), "treated_converted"),
        ((10, 1, -1, 0), "held"),
        ((10, 1, 10, -1), "held_converted"),
    ],
)
def test_impossible_counts_are_refused(args: tuple[int, int, int, int], location: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        conversion(*args)
    assert caught.value.location == location
    with pytest.raises(ArgumentError, match="alpha"):
        conversion(10, 1, 10, 1, alpha=1.5)


# --- simulated campaigns (issue 19, Correctness) ----------------------------------------


def test_the_interval_covers_the_true_lift_in_at_least_93_percent_of_400_campaigns() -> None:
    rng = np.random.default_rng(0)
    treated = rng.binomial(2000, 0.13, size=400)
    held = rng.binomial(2000, 0.10, size=400)
    covered = 0
    for t, h in zip(treated, held, strict=True):
        lower, upper = conversion(2000, int(t), 2000, int(h)).absolute_interval or (1, 0)
        covered += lower <= 0.03 <= upper
    assert covered / 400 >= 0.93


def test_a_campaign_without_effect_shows_measurable_lift_in_at_most_7_percent() -> None:
    rng = np.random.default_rng(1)
    treated = rng.binomial(2000, 0.10, size=400)
    held = rng.binomial(2000, 0.10, size=400)
    verdicts = [_verdict(2000, int(t), 2000, int(h)) for t, h in zip(treated, held, strict=True)]
    assert verdicts.count(MEASURABLE) / 400 <= 0.07
    assert verdicts.count(NO_RESPONSE) > 300  # 2,000 a group can see a 5-point lift


# --- revenue ----------------------------------------------------------------------------


def test_welchs_interval_and_p_value_are_scipys() -> None:
    treated = [0.0, 12.5, 0.0, 80.0, 33.0, 0.0, 0.0, 41.0]
    held = [0.0, 0.0, 19.0, 0.0, 5.0, 0.0]
    lift = revenue(treated, held)
    welch = stats.ttest_ind(treated, held, equal_var=False)
    assert lift.absolute_interval == pytest.approx(tuple(welch.confidence_interval()))
    assert lift.p_value == pytest.approx(welch.pvalue)
    assert lift.treated_mean == pytest.approx(np.mean(treated))
    assert lift.relative == pytest.approx(np.mean(treated) / np.mean(held) - 1)


def test_revenue_with_mostly_zeros() -> None:
    rng = np.random.default_rng(7)
    spend = rng.lognormal(3, 1, size=(2, 5000))
    treated = np.where(rng.random(5000) < 0.06, spend[0], 0.0)
    held = np.where(rng.random(5000) < 0.04, spend[1], 0.0)
    lift = revenue(treated, held)
    assert lift.treated_mean == pytest.approx(treated.mean())  # per customer, not per buyer
    assert lift.absolute_interval is not None
    lower, upper = lift.absolute_interval
    assert lower < lift.absolute < upper  # type: ignore[operator]
    welch = stats.ttest_ind(treated, held, equal_var=False)
    assert (lower, upper) == pytest.approx(tuple(welch.confidence_interval()))


def test_revenue_from_counted_values_equals_one_value_per_customer() -> None:
    """The report passes each distinct revenue with how many customers had it (all the
    zeros as one value): the figures are those of the expanded lists, by scipy."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        values = [np.round(rng.lognormal(2, 1, size=rng.integers(1, 30)), 2) for _ in "ab"]
        zeros = rng.integers(0, 400, size=2)
        counted = [np.concatenate([[0.0], v]) for v in values]
        counts = [
            np.concatenate([[z], np.ones(len(v))]) for z, v in zip(zeros, values, strict=True)
        ]
        lift = revenue(counted[0], counted[1], treated_counts=counts[0], held_counts=counts[1])
        expanded = [np.repeat(c, n.astype(int)) for c, n in zip(counted, counts, strict=True)]
        assert (lift.treated, lift.held) == (len(expanded[0]), len(expanded[1]))
        welch = stats.ttest_ind(expanded[0], expanded[1], equal_var=False)
        assert lift.absolute_interval == pytest.approx(tuple(welch.confidence_interval()))
        assert lift.p_value == pytest.approx(welch.pvalue)
        assert lift.treated_mean == pytest.approx(expanded[0].mean())
    with pytest.raises(ArgumentError, match="count"):
        revenue([1.0, 2.0], [1.0], treated_counts=[1.0])


def test_revenue_without_enough_to_compare() -> None:
    assert revenue([], [1.0, 2.0]).absolute is None
    one = revenue([5.0], [1.0, 2.0])
    assert one.absolute == 3.5 and one.absolute_interval is None and one.p_value is None
    nothing = revenue([0.0, 0.0], [0.0, 0.0, 0.0])
    assert nothing.absolute == 0.0 and nothing.relative is None and nothing.p_value is None
    with pytest.raises(ArgumentError, match="finite"):
        revenue([1.0, math.nan], [1.0])


# --- sample ratio -----------------------------------------------------------------------


def test_the_sample_ratio_check_flags_a_skewed_split() -> None:
    skewed = sample_ratio(5000, 4000, holdout_share=0.5)
    assert skewed.mismatch
    assert skewed.p_value == pytest.approx(stats.chisquare([5000, 4000]).pvalue)
    assert not sample_ratio(5000, 4000, holdout_share=4 / 9).mismatch
    assert not sample_ratio(9000, 1000, holdout_share=0.1).mismatch
    assert sample_ratio(9000, 1200, holdout_share=0.1).mismatch
    assert not sample_ratio(0, 0, holdout_share=0.1).mismatch
    with pytest.raises(ArgumentError, match="holdout_share"):
        sample_ratio(10, 1, holdout_share=10)


# --- minimum detectable effect ----------------------------------------------------------


def test_the_mde_falls_as_the_groups_grow() -> None:
    mdes = [minimum_detectable_effect(n, n, 0.10) for n in (100, 500, 2000, 10_000, 100_000)]
    assert all(a > b > 0 for a, b in itertools.pairwise(mdes))


@pytest.mark.parametrize(("n_treated", "n_held", "base"), [(2000, 2000, 0.10), (9000, 1000, 0.03)])
def test_a_lift_the_size_of_the_mde_is_found_with_80_percent_power(
    n_treated: int, n_held: int, base: float
) -> None:
    mde = minimum_detectable_effect(n_treated, n_held, base)
    h = 2 * math.asin(math.sqrt(base + mde)) - 2 * math.asin(math.sqrt(base))
    power = NormalIndPower().power(h, nobs1=n_treated, alpha=0.05, ratio=n_held / n_treated)
    assert power == pytest.approx(0.8, abs=1e-4)  # solve_power's root tolerance


def test_a_simulated_campaign_at_the_mde_is_measured_about_80_percent_of_the_time() -> None:
    mde = minimum_detectable_effect(2000, 2000, 0.10)
    rng = np.random.default_rng(3)
    treated = rng.binomial(2000, 0.10 + mde, size=2000)
    held = rng.binomial(2000, 0.10, size=2000)
    # statsmodels takes whole arrays: the interval of each simulated campaign in one call
    lower, _ = confint_proportions_2indep(treated, 2000, held, 2000, method="newcombe")
    assert np.mean(lower > 0) == pytest.approx(0.8, abs=0.03)


def test_the_mde_is_nan_when_it_cannot_be_computed() -> None:
    assert math.isnan(minimum_detectable_effect(0, 100, 0.1))
    assert math.isnan(minimum_detectable_effect(100, 100, 1.5))
    assert math.isnan(minimum_detectable_effect(5, 5, 0.95))  # would need a rate above 100 %


# --- verdicts ---------------------------------------------------------------------------


def test_one_hand_built_table_of_each_verdict() -> None:
    assert _verdict(1000, 150, 1000, 100) == MEASURABLE
    assert _verdict(5000, 500, 5000, 505) == NO_RESPONSE
    assert _verdict(300, 45, 300, 30) == TOO_SMALL  # includes 0, MDE about 8 points


def test_a_negative_lift_is_measurable_and_a_tiny_group_is_not() -> None:
    assert _verdict(1000, 60, 1000, 120) == MEASURABLE
    assert _verdict(99, 60, 99, 5) == TOO_SMALL  # below the minimum per group


# --- difference of lifts ----------------------------------------------------------------


def test_identical_responses_are_equivalent() -> None:
    a = conversion(4000, 520, 4000, 400)
    d = difference_of_lifts(a, conversion(4000, 520, 4000, 400))
    assert d.difference == 0.0 and d.interval is not None
    assert d.interval[0] < 0 < d.interval[1]
    assert equivalent(d)
    assert not equivalent(d, margin=0.001)


def test_very_different_responses_differ_and_are_not_equivalent() -> None:
    d = difference_of_lifts(conversion(4000, 800, 4000, 400), conversion(4000, 400, 4000, 400))
    assert d.difference == pytest.approx(0.1)
    assert d.interval is not None and d.interval[0] > 0
    assert not equivalent(d)


def test_the_standard_error_is_the_wald_one_at_large_counts() -> None:
    a, b = conversion(50_000, 6500, 50_000, 5000), conversion(50_000, 5000, 50_000, 5000)
    wald = [r * (1 - r) / 50_000 for r in (0.13, 0.10, 0.10, 0.10)]
    d = difference_of_lifts(a, b)
    assert d.standard_error == pytest.approx(math.sqrt(sum(wald)), rel=1e-2)


def test_a_missing_lift_has_no_difference_and_no_equivalence() -> None:
    d = difference_of_lifts(conversion(0, 0, 10, 1), conversion(10, 2, 10, 1))
    assert d.difference is None and d.interval is None
    assert not equivalent(d)
    both_zero = difference_of_lifts(conversion(200, 0, 200, 0), conversion(200, 0, 200, 0))
    assert both_zero.standard_error is not None and both_zero.standard_error > 0


def test_the_module_imports_only_the_errors_of_segmint() -> None:
    tree = ast.parse(Path(lift_module.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {m for m in imported if m and m.startswith("segmint")} == {"segmint.errors"}
