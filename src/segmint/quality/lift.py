"""The statistics of a campaign report (issue 19): lift with intervals, p-values, the
sample-ratio check, the minimum detectable effect, the verdict, and the difference of two
segments' lifts with its equivalence test.

Pure functions: counts and values in, figures out; nothing here reads a workspace. The
figures come from statsmodels and scipy wherever they compute them; docs/campaigns.md
("The statistics, in plain words") explains each one and why its method was chosen.

A figure that cannot be computed (a group without customers, a rate with no variation
to measure) is None, never an exception; the verdict is then "too small to tell".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist

from segmint.errors import ArgumentError

MEASURABLE = "measurable lift"
NO_RESPONSE = "no measurable response"
TOO_SMALL = "too small to tell"
VERDICTS = (MEASURABLE, NO_RESPONSE, TOO_SMALL)

# Below this many customers in a group the report gives no verdict: one customer moves a
# rate by a percentage point or more, and the normal approximations behind the MDE and
# the score test are poor.
MIN_PER_GROUP = 100
# "No measurable response" needs a campaign that could have seen a lift of this size (its
# MDE at most this): five percentage points, the same size the review's default
# equivalence margin treats as no difference between two segments.
MAX_MDE = 0.05
# The usual sample-ratio-mismatch alarm level: strict, because the check runs on every
# report and a split off by chance should almost never raise it.
SRM_ALPHA = 0.001

Interval = tuple[float, float]


@dataclass(frozen=True)
class ConversionLift:
    """Conversion in the treatment and holdout groups and the lift between them.

    ``absolute`` is the treatment rate minus the holdout rate, ``relative`` their ratio
    minus 1; each interval is at level 1 - ``alpha``. ``p_value`` is that of the
    difference, by ``p_value_method`` ("score" or "fisher").
    """

    treated: int
    treated_converted: int
    held: int
    held_converted: int
    alpha: float
    treated_rate: float | None = None
    held_rate: float | None = None
    absolute: float | None = None
    absolute_interval: Interval | None = None
    relative: float | None = None
    relative_interval: Interval | None = None
    p_value: float | None = None
    p_value_method: str | None = None

    @property
    def varies(self) -> bool:
        """Whether anything can be measured: both groups have customers and the goal is
        neither met by no one nor by everyone."""
        converted = self.treated_converted + self.held_converted
        return self.treated > 0 and self.held > 0 and 0 < converted < self.treated + self.held


@dataclass(frozen=True)
class MeanLift:
    """Revenue per customer (every customer counts, zero when they bought nothing) in
    each group, the difference with Welch's interval and p-value, and the relative
    difference (no interval: it would need the holdout mean's own uncertainty)."""

    treated: int
    held: int
    alpha: float
    treated_mean: float | None = None
    held_mean: float | None = None
    absolute: float | None = None
    absolute_interval: Interval | None = None
    relative: float | None = None
    p_value: float | None = None


@dataclass(frozen=True)
class SampleRatio:
    """The observed split against the one the campaign asked for; ``mismatch`` when the
    chi-square goodness-of-fit p-value is below ``SRM_ALPHA``."""

    treated: int
    held: int
    expected_holdout_share: float
    holdout_share: float | None
    chi2: float | None
    p_value: float | None
    mismatch: bool


@dataclass(frozen=True)
class LiftDifference:
    """Segment A's absolute lift minus segment B's in one campaign, with its standard
    error and its interval at level 1 - ``alpha``."""

    a: float | None
    b: float | None
    difference: float | None
    standard_error: float | None
    interval: Interval | None
    alpha: float


def conversion(
    treated: int, treated_converted: int, held: int, held_converted: int, alpha: float = 0.05
) -> ConversionLift:
    """Conversion rates, absolute and relative lift with intervals, and the p-value.

    The absolute lift's interval is Newcombe's hybrid score interval (built from the two
    Wilson intervals), which keeps its coverage at small counts and at rates near 0 where
    the Wald interval fails. The relative lift's is the log interval of the rate ratio
    with 0.5 added to each count ("log-adjusted"), which stays finite when a group has no
    conversions. The p-value is the score test's, or Fisher's exact test's when a cell of
    the table is 0 and the score test's normal approximation has nothing to stand on.

    >>> lift = conversion(1000, 120, 1000, 100)
    >>> round(lift.absolute, 3), tuple(round(x, 4) for x in lift.absolute_interval)
    (0.02, (-0.0075, 0.0476))
    >>> round(lift.relative, 2), round(lift.p_value, 3), lift.p_value_method
    (0.2, 0.153, 'score')
    >>> conversion(0, 0, 10, 1).absolute is None
    True
    """
    _check_group("treated", treated, treated_converted)
    _check_group("held", held, held_converted)
    _check_alpha(alpha)
    lift = ConversionLift(treated, treated_converted, held, held_converted, alpha)
    if treated == 0 or held == 0:
        return replace(
            lift,
            treated_rate=treated_converted / treated if treated else None,
            held_rate=held_converted / held if held else None,
        )
    from statsmodels.stats.proportion import confint_proportions_2indep

    treated_rate, held_rate = treated_converted / treated, held_converted / held
    table = (treated_converted, treated, held_converted, held)
    lower, upper = confint_proportions_2indep(
        *table, compare="diff", method="newcombe", alpha=alpha
    )
    p_value, method = _p_value(*table)
    lift = replace(
        lift,
        treated_rate=treated_rate,
        held_rate=held_rate,
        absolute=treated_rate - held_rate,
        absolute_interval=(float(lower), float(upper)),
        p_value=p_value,
        p_value_method=method,
    )
    if held_converted == 0:  # no ratio to a holdout rate of 0
        return lift
    lift = replace(lift, relative=treated_rate / held_rate - 1)
    if not lift.varies:  # everyone converted: the log interval collapses to a point
        return lift
    low, high = confint_proportions_2indep(
        *table, compare="ratio", method="log-adjusted", alpha=alpha
    )
    return replace(lift, relative_interval=(float(low) - 1, float(high) - 1))


def _p_value(converted1: int, n1: int, converted0: int, n0: int) -> tuple[float, str]:
    if min(converted1, n1 - converted1, converted0, n0 - converted0) == 0:
        from scipy.stats import fisher_exact

        table = [[converted1, n1 - converted1], [converted0, n0 - converted0]]
        return float(fisher_exact(table).pvalue), "fisher"
    from statsmodels.stats.proportion import test_proportions_2indep

    result = test_proportions_2indep(converted1, n1, converted0, n0, method="score")
    return float(result.pvalue), "score"


def revenue(
    treated_values: Sequence[float],
    held_values: Sequence[float],
    alpha: float = 0.05,
    treated_counts: Sequence[float] | None = None,
    held_counts: Sequence[float] | None = None,
) -> MeanLift:
    """Revenue per customer in each group and its difference with Welch's interval.

    Pass one value per customer of the group, zero for those who bought nothing, so the
    mean is revenue per customer and not per buyer; or each distinct value once with
    ``*_counts``, how many customers had it (the campaign report passes the zeros of
    everyone who bought nothing as one value). Welch's t interval does not assume the
    groups' variances are equal (a campaign changes who buys and how much).

    >>> lift = revenue([0, 0, 0, 40, 60, 0], [0, 0, 30, 0, 0])
    >>> round(lift.treated_mean, 2), lift.held_mean, round(lift.absolute, 2)
    (16.67, 6.0, 10.67)
    >>> round(lift.relative, 3)
    1.778
    >>> tuple(round(x, 1) for x in lift.absolute_interval), round(lift.p_value, 3)
    ((-18.2, 39.5), 0.416)
    >>> same = revenue([0, 40, 60], [0, 30], treated_counts=[4, 1, 1], held_counts=[4, 1])
    >>> tuple(round(x, 1) for x in same.absolute_interval), round(same.p_value, 3)
    ((-18.2, 39.5), 0.416)
    """
    import numpy as np

    _check_alpha(alpha)
    groups = []
    for name, values, counts in (
        ("treated_values", treated_values, treated_counts),
        ("held_values", held_values, held_counts),
    ):
        x = np.asarray(values, dtype=float)
        n = np.ones_like(x) if counts is None else np.asarray(counts, dtype=float)
        if x.ndim != 1 or not np.isfinite(x).all():
            raise ArgumentError(f"{name}: must be one finite number per customer", name)
        if n.shape != x.shape or (n < 0).any() or not np.isfinite(n).all():
            raise ArgumentError(f"{name}: needs one customer count (>= 0) per value", name)
        groups.append((x, n))
    (a, wa), (b, wb) = groups
    size_a, size_b = int(wa.sum()), int(wb.sum())
    mean_a = float(np.average(a, weights=wa)) if size_a else None
    mean_b = float(np.average(b, weights=wb)) if size_b else None
    lift = MeanLift(size_a, size_b, alpha, mean_a, mean_b)
    if mean_a is None or mean_b is None:
        return lift
    relative = mean_a / mean_b - 1 if mean_b != 0 else None
    lift = replace(lift, absolute=mean_a - mean_b, relative=relative)
    if min(size_a, size_b) < 2:
        return lift
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    # Frequency weights: DescrStatsW counts a value of weight k as k customers.
    first, second = DescrStatsW(a, weights=wa), DescrStatsW(b, weights=wb)
    if first.var == 0 and second.var == 0:
        return lift  # no variance to measure the difference against
    compare = CompareMeans(first, second)
    lower, upper = compare.tconfint_diff(alpha=alpha, usevar="unequal")
    p_value = compare.ttest_ind(usevar="unequal")[1]
    return replace(lift, absolute_interval=(float(lower), float(upper)), p_value=float(p_value))


def sample_ratio(treated: int, held: int, holdout_share: float) -> SampleRatio:
    """Chi-square goodness of fit of the observed split to the holdout share asked for.

    A mismatch means the assignment or the data lost customers unevenly, and no lift of
    this campaign can be trusted until the cause is found.

    >>> sample_ratio(5000, 4000, holdout_share=0.5).mismatch
    True
    >>> sample_ratio(9010, 990, holdout_share=0.1).mismatch
    False
    """
    _check_group("treated", treated, 0)
    _check_group("held", held, 0)
    if not 0 < holdout_share < 1:
        raise ArgumentError(
            f"holdout_share: must be between 0 and 1, got {holdout_share}", "holdout_share"
        )
    total = treated + held
    if total == 0:
        return SampleRatio(treated, held, holdout_share, None, None, None, False)
    from scipy.stats import chisquare

    expected = [total * (1 - holdout_share), total * holdout_share]
    chi2, p_value = chisquare([treated, held], f_exp=expected)
    return SampleRatio(
        treated, held, holdout_share, held / total, float(chi2), float(p_value),
        bool(p_value < SRM_ALPHA),
    )  # fmt: skip


def minimum_detectable_effect(
    n_treated: int, n_held: int, base_rate: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """The smallest rise in conversion rate (absolute, from ``base_rate``) that a
    two-sided test at ``alpha`` detects with probability ``power`` at these group sizes.

    statsmodels solves for the effect in Cohen's h (the difference of arcsine-transformed
    rates, h = 2·asin(√p1) − 2·asin(√p0)), which turns back into a rate as
    p1 = sin²(asin(√p0) + h/2). NaN when it cannot be computed: an empty group, a base
    rate outside [0, 1], or a needed rate above 100 %.

    >>> round(minimum_detectable_effect(2000, 2000, base_rate=0.10), 4)
    0.0281
    >>> math.isnan(minimum_detectable_effect(0, 2000, base_rate=0.10))
    True
    """
    _check_alpha(alpha)
    if not 0 < power < 1:
        raise ArgumentError(f"power: must be between 0 and 1, got {power}", "power")
    if n_treated <= 0 or n_held <= 0 or not 0 <= base_rate <= 1:
        return math.nan
    from statsmodels.stats.power import NormalIndPower

    h = NormalIndPower().solve_power(
        effect_size=None, nobs1=n_treated, ratio=n_held / n_treated, alpha=alpha, power=power
    )
    angle = math.asin(math.sqrt(base_rate)) + float(h) / 2
    if not math.isfinite(angle) or angle > math.pi / 2:
        return math.nan
    return math.sin(angle) ** 2 - base_rate


def verdict(
    lift: ConversionLift,
    mde: float,
    *,
    max_mde: float = MAX_MDE,
    min_per_group: int = MIN_PER_GROUP,
) -> str:
    """One of ``VERDICTS``, by a rule in three steps:

    1. "too small to tell" when a group has fewer than ``min_per_group`` customers or
       nothing varies (no one, or everyone, converted);
    2. "measurable lift" when the absolute lift's interval excludes 0 (either way: a
       negative lift is measurable too, and its sign is in ``lift.absolute``);
    3. "no measurable response" when the interval includes 0 and the campaign was big
       enough to see a lift of ``max_mde`` (its ``mde`` is at most that); otherwise
       "too small to tell".

    >>> big = conversion(5000, 500, 5000, 505)
    >>> verdict(big, minimum_detectable_effect(5000, 5000, big.held_rate))
    'no measurable response'
    >>> small = conversion(300, 45, 300, 30)
    >>> verdict(small, minimum_detectable_effect(300, 300, small.held_rate))
    'too small to tell'
    """
    if min(lift.treated, lift.held) < min_per_group or not lift.varies:
        return TOO_SMALL
    if lift.absolute_interval is None:
        return TOO_SMALL
    lower, upper = lift.absolute_interval
    if lower > 0 or upper < 0:
        return MEASURABLE
    return NO_RESPONSE if math.isfinite(mde) and mde <= max_mde else TOO_SMALL


def difference_of_lifts(
    a: ConversionLift, b: ConversionLift, alpha: float = 0.05
) -> LiftDifference:
    """Segment A's absolute lift minus segment B's, with a normal-approximation interval.

    No library computes this contrast of two independent estimates, so it follows Altman
    and Bland, "Interaction revisited: the difference between two estimates" (BMJ 2003;
    326:219): each lift's standard error is recovered from its reported interval as its
    width / (2·z), and the difference's is the root of their squares' sum. Recovering it
    from the Newcombe interval keeps it above 0 at rates of 0 or 100 %, where the Wald
    standard error is 0. The sum assumes disjoint audiences; a customer in both segments
    makes the lifts positively correlated, so the interval is then wider than it needs to
    be: slower to call two segments different or equivalent, never quicker.

    >>> d = difference_of_lifts(conversion(2000, 260, 2000, 200), conversion(2000, 200, 2000, 200))
    >>> round(d.difference, 3), tuple(round(x, 3) for x in d.interval)
    (0.03, (0.003, 0.057))
    """
    _check_alpha(alpha)
    if a.absolute is None or b.absolute is None:
        return LiftDifference(a.absolute, b.absolute, None, None, None, alpha)
    standard_error = math.hypot(_standard_error(a), _standard_error(b))
    difference = a.absolute - b.absolute
    half = NormalDist().inv_cdf(1 - alpha / 2) * standard_error
    interval = (difference - half, difference + half)
    return LiftDifference(a.absolute, b.absolute, difference, standard_error, interval, alpha)


def _standard_error(lift: ConversionLift) -> float:
    assert lift.absolute_interval is not None  # set whenever lift.absolute is
    lower, upper = lift.absolute_interval
    return (upper - lower) / (2 * NormalDist().inv_cdf(1 - lift.alpha / 2))


def equivalent(diff: LiftDifference, margin: float = 0.05, alpha: float = 0.05) -> bool:
    """Whether two segments' lifts are equivalent within ±``margin`` (absolute).

    Two one-sided tests (TOST) at level ``alpha``: equivalent when the 1 - 2·``alpha``
    interval of the difference (90 % by default) lies inside (-margin, margin). The
    default margin is issue 19's: five percentage points of lift.

    >>> same = conversion(2000, 240, 2000, 200)
    >>> equivalent(difference_of_lifts(same, same))
    True
    >>> other = conversion(2000, 400, 2000, 200)
    >>> equivalent(difference_of_lifts(same, other))
    False
    """
    _check_alpha(alpha)
    if not margin > 0:
        raise ArgumentError(f"margin: must be above 0, got {margin}", "margin")
    if diff.difference is None or diff.standard_error is None:
        return False
    half = NormalDist().inv_cdf(1 - alpha) * diff.standard_error
    return -margin < diff.difference - half and diff.difference + half < margin


def _check_group(name: str, size: int, converted: int) -> None:
    if size < 0:
        raise ArgumentError(f"{name}: must be at least 0 customers, got {size}", name)
    if not 0 <= converted <= size:
        raise ArgumentError(
            f"{name}_converted: must be between 0 and {name} ({size}), got {converted}",
            f"{name}_converted",
        )


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ArgumentError(f"alpha: must be between 0 and 1, got {alpha}", "alpha")
