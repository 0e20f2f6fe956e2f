"""CLV model maths against published fits, an independent implementation and simulation.

The published numbers come from the CDNOW 1/10 sample (tests/data/README.md):
Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way" (BG/NBD, 39-week
calibration, weekly) and "RFM and CLV: Using Iso-Value Curves" (Gamma-Gamma).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln, hyp2f1

from segmint.errors import ModelError
from segmint.traits.clv import (
    BGNBD,
    GammaGamma,
    _BGNBDLikelihood,
    _gamma_gamma_objective,
    _maximise,
    fit_bgnbd,
    fit_gamma_gamma,
)

CDNOW = Path(__file__).parents[1] / "data" / "CDNOW_sample.txt"
CALIBRATION_END = pd.Timestamp("1997-09-30")

# Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", weekly time unit.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "loglik": -9582.4}
# Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves".
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def cdnow_summary() -> pd.DataFrame:
    """One row per customer: x, t_x and T in days, m = mean value of the repeat transactions."""
    raw = pd.read_csv(
        CDNOW,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "value"],
        dtype={"date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    # Several orders on one day are one transaction whose value is their sum.
    days = raw[raw["date"] <= CALIBRATION_END].groupby(["customer", "date"], as_index=False)
    transactions = days["value"].sum()
    by_customer = transactions.groupby("customer")["date"]
    first, last = by_customer.min(), by_customer.max()
    summary = pd.DataFrame(
        {
            "x": by_customer.size() - 1,
            "t_x": (last - first).dt.days,
            "T": (CALIBRATION_END - first).dt.days,
        }
    ).astype(float)
    repeats = transactions[transactions["date"] > transactions["customer"].map(first)]
    summary["m"] = repeats.groupby("customer")["value"].mean()
    return summary


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return cdnow_summary()


@pytest.fixture(scope="module")
def fit_days(summary: pd.DataFrame) -> BGNBD:
    return fit_bgnbd(summary["x"], summary["t_x"], summary["T"])


@pytest.fixture(scope="module")
def fit_weeks(summary: pd.DataFrame) -> BGNBD:
    return fit_bgnbd(summary["x"], summary["t_x"] / 7, summary["T"] / 7)


def model(r: float, alpha: float, a: float, b: float) -> BGNBD:
    return BGNBD(r=r, alpha=alpha, a=a, b=b, loglik=0.0, customers=0, repeat_purchases=0)


# --- the CDNOW summary and the published fits -----------------------------------------------


def test_cdnow_summary_has_the_published_counts(summary: pd.DataFrame) -> None:
    assert len(summary) == 2357
    assert int((summary["x"] > 0).sum()) == 946
    assert summary["x"].sum() == 2457
    # A first purchase on 1997-01-01 is observed for 272 days (38.857 weeks).
    assert summary["T"].max() == 272
    assert summary["m"].notna().sum() == 946


def test_bgnbd_fit_in_days_reported_in_weeks_matches_the_published_fit(fit_days: BGNBD) -> None:
    weekly = fit_days.in_unit(7)
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(weekly, name) == pytest.approx(published, rel=0.01), name
    assert (weekly.customers, weekly.repeat_purchases) == (2357, 2457)


def test_bgnbd_fit_in_weeks_matches_the_published_fit(fit_weeks: BGNBD) -> None:
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(fit_weeks, name) == pytest.approx(published, rel=0.01), name


def test_the_unit_of_time_does_not_change_the_fit(fit_days: BGNBD, fit_weeks: BGNBD) -> None:
    converted = fit_days.in_unit(7).to_json()
    for name, value in fit_weeks.to_json().items():
        assert converted[name] == pytest.approx(value, rel=1e-6), name


def test_bgnbd_fit_matches_lifetimes_fit_of_the_same_summary(fit_weeks: BGNBD) -> None:
    # lifetimes 0.11.3 BetaGeoFitter(penalizer_coef=0).fit(x, t_x / 7, T / 7) on this summary,
    # run once in a throwaway virtualenv (lifetimes is not a dependency of segmint).
    lifetimes = {"r": 0.2425945434, "alpha": 4.413602716, "a": 0.7929218333, "b": 2.425905729}
    for name, value in lifetimes.items():
        assert getattr(fit_weeks, name) == pytest.approx(value, rel=1e-5), name


def test_gamma_gamma_fit_matches_the_published_fit(summary: pd.DataFrame) -> None:
    fitted = fit_gamma_gamma(summary["x"], summary["m"])
    assert fitted.customers == 946
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=0.01), name
    # lifetimes 0.11.3 GammaGammaFitter(penalizer_coef=0) on the same 946 customers.
    lifetimes = {"p": 6.249572278, "q": 3.744224675, "v": 15.44352102}
    for name, value in lifetimes.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=1e-5), name


def test_loglik_is_the_sum_of_the_customers_likelihoods(
    summary: pd.DataFrame, fit_days: BGNBD
) -> None:
    # Equation 6 of "Counting Your Customers the Easy Way", written out without logs.
    r, alpha, a, b = fit_days.r, fit_days.alpha, fit_days.a, fit_days.b
    x, t_x, T = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    common = np.exp(gammaln(r + x) - gammaln(r) + betaln(a, b + x) - betaln(a, b)) * alpha**r
    alive = 1 / (alpha + T) ** (r + x)
    dropped = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) / (alpha + t_x) ** (r + x), 0.0)
    assert fit_days.loglik == pytest.approx(np.log(common * (alive + dropped)).sum(), rel=1e-10)


@pytest.mark.parametrize("scale", [1.0, 7.0, 365.0])
def test_bgnbd_gradient_matches_finite_differences(summary: pd.DataFrame, scale: float) -> None:
    likelihood = _BGNBDLikelihood(
        summary["x"].to_numpy(), summary["t_x"].to_numpy() / scale, summary["T"].to_numpy() / scale
    )
    theta = np.log([0.3, 30.0 / scale, 0.7, 2.0])
    assert_gradient(likelihood, theta)


def test_gamma_gamma_gradient_matches_finite_differences(summary: pd.DataFrame) -> None:
    repeat = summary[summary["x"] > 0]
    objective = _gamma_gamma_objective(repeat["x"].to_numpy(), repeat["m"].to_numpy())
    assert_gradient(objective, np.log([5.0, 3.0, 12.0]))


def assert_gradient(objective: object, theta: np.ndarray) -> None:
    assert callable(objective)
    _, gradient = objective(theta)
    step = 1e-5
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        numeric = (objective(up)[0] - objective(down)[0]) / (2 * step)
        assert gradient[i] == pytest.approx(numeric, rel=1e-6, abs=1e-10), i


# --- predictions against lifetimes -----------------------------------------------------------

# lifetimes 0.11.3 (BetaGeoFitter with params_ set to PINNED below, i.e. this module's weekly
# CDNOW fit) computed conditional_probability_alive(x, t_x, T) and
# conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T) for t = 1, 39, 200 weeks.
# An mpmath evaluation of equation (10) at 50 digits agreed with every value to 1e-12;
# they are pinned here to 11-12 significant digits.
PINNED = {"r": 0.2425945300779555, "alpha": 4.4136022267622605}
PINNED |= {"a": 0.7929217295424683, "b": 2.425905818476888}
HORIZONS = (1.0, 39.0, 200.0)
LIFETIMES_BGNBD = [
    # x, t_x, T, p_alive, expected purchases in the next 1, 39, 200 weeks
    (0, 0.0, 38.86, 1, (0.00558637942721, 0.194782041753, 0.754751933935)),
    (0, 0.0, 0.0, 1, (0.0531842907165, 1.19501008057, 3.13979311488)),
    (1, 1.71, 38.86, 0.212231935998, (0.00606477854525, 0.203254805644, 0.724723079454)),
    (2, 30.43, 38.86, 0.726609179331, (0.0374431600665, 1.2259068941, 4.18575279985)),
    (7, 29.43, 35.0, 0.77900075162, (0.142001049958, 4.36933556923, 13.6162343898)),
    (5, 32.0, 32.0, 0.890159208782, (0.127112968973, 3.90028515096, 12.1379039217)),
    (29, 37.0, 38.0, 0.950244798336, (0.649484865194, 19.6625873044, 59.9834139502)),
    (100, 90.0, 100.0, 0.00526945952873, (0.00504022444839, 0.173657905934, 0.636597392058)),
    (400, 300, 700, 7.4218249971e-144, (4.2146662063e-144, 1.6098561584e-142, 7.6228891162e-142)),
]


@pytest.mark.parametrize(("x", "t_x", "T", "p_alive", "expected"), LIFETIMES_BGNBD)
def test_bgnbd_predictions_match_lifetimes(
    x: int, t_x: float, T: float, p_alive: float, expected: tuple[float, ...]
) -> None:
    pinned = model(**PINNED)
    assert pinned.p_alive(x, t_x, T) == pytest.approx(p_alive, rel=1e-9)
    got = pinned.expected_purchases(np.array(HORIZONS), x, t_x, T)
    assert got == pytest.approx(expected, rel=1e-9)


def test_gamma_gamma_expected_spend_matches_lifetimes() -> None:
    # lifetimes 0.11.3 GammaGammaFitter with params_ set to this module's CDNOW fit:
    # conditional_expected_average_profit(x, m).
    fitted = GammaGamma(p=6.249572307708011, q=3.74422466849597, v=15.443520866903402, customers=1)
    x = [0, 1, 2, 10, 50, 3]
    m = [1.0, 20.0, 15.5, 35.0, 100.0, 0.5]
    lifetimes = [35.17037123502268, 24.628846646587533, 19.041206473203644]
    lifetimes += [35.007166421220546, 99.43561492410934, 4.926722494149347]
    assert fitted.expected_spend(x, m) == pytest.approx(lifetimes, rel=1e-12)


# --- identities and shape of the predictions -------------------------------------------------


def test_a_new_customer_expects_the_unconditional_number_of_purchases() -> None:
    # x = t_x = T = 0 reduces equation (10) to equation (9), computed here without Euler's
    # transformation: E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; z)].
    r, alpha, a, b = PINNED.values()
    t = np.array([0.5, 5.0, 52.0, 500.0])
    z = t / (alpha + t)
    unconditional = (
        (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))
    )
    assert model(**PINNED).expected_purchases(t, 0, 0, 0) == pytest.approx(unconditional, rel=1e-10)


def test_one_time_buyers_expect_their_mean_rate_over_a_short_horizon() -> None:
    # With x == 0 the customer is alive and the posterior mean rate is r / (alpha + T).
    fitted = model(**PINNED)
    T = np.array([0.0, 10.0, 300.0])
    got = fitted.expected_purchases(1e-6, 0, 0, T)
    assert got == pytest.approx(1e-6 * fitted.r / (fitted.alpha + T), rel=1e-4)


def test_one_time_buyers_expect_one_over_p_purchases_in_the_long_run() -> None:
    # For a > 1, E[1/p] = (a+b-1)/(a-1) purchases before dropping out (geometric count).
    fitted = model(r=3.0, alpha=10.0, a=2.0, b=3.0)
    assert fitted.expected_purchases(1e13, 0, 0, 20.0) == pytest.approx(4.0, rel=1e-9)


def test_expected_purchases_is_continuous_through_a_equals_1() -> None:
    # (a+b+x-1)/(a-1) * [...] is 0/0 at a = 1. Reference values: equation (10) in mpmath at
    # 60 digits with a = 1 + 1e-30.
    exact = model(r=0.3, alpha=5.0, a=1.0, b=2.0)
    got = exact.expected_purchases([1.0, 52.0], [0, 3], [0.0, 20.0], [10.0, 30.0])
    assert got == pytest.approx([0.019718259134730163, 1.910434691753041], rel=1e-8)
    near = model(r=0.3, alpha=5.0, a=1.0 + 3e-6, b=2.0).expected_purchases(52.0, 3, 20.0, 30.0)
    assert near == pytest.approx(1.910434691753041, rel=1e-5)


def test_p_alive_is_one_without_repeat_purchases_and_in_0_1_otherwise() -> None:
    fitted = model(**PINNED)
    assert np.all(fitted.p_alive(0, 0, [0.0, 10.0, 1e6]) == 1.0)
    x, t_x = np.meshgrid(np.arange(1, 60.0), np.linspace(0, 50, 26))
    p_alive = fitted.p_alive(x, t_x, 50.0)
    assert np.all((p_alive > 0) & (p_alive <= 1))


def test_predictions_move_the_right_way() -> None:
    fitted = model(**PINNED)
    # Longer horizons, more purchases.
    assert np.all(np.diff(fitted.expected_purchases(np.linspace(0, 500, 50), 3, 20.0, 30.0)) > 0)
    # The longer since the last purchase, the less likely alive and the fewer purchases.
    T = np.linspace(20, 200, 50)
    assert np.all(np.diff(fitted.p_alive(3, 20.0, T)) < 0)
    assert np.all(np.diff(fitted.expected_purchases(10.0, 3, 20.0, T)) < 0)
    # A recent buyer (t_x == T) with more purchases is more likely alive and buys more.
    x = np.arange(1, 200.0)
    assert np.all(np.diff(fitted.p_alive(x, 30.0, 30.0)) > 0)
    assert np.all(np.diff(fitted.expected_purchases(10.0, x, 30.0, 30.0)) > 0)
    assert fitted.expected_purchases(0.0, 3, 20.0, 30.0) == 0.0


def test_predictions_stay_finite_for_heavy_buyers() -> None:
    fitted = model(r=0.25, alpha=30.0, a=0.8, b=2.5)
    # 5000 purchases in 9000 days: about 0.556 a day, almost surely still alive.
    got = fitted.expected_purchases(1.0, 5000, 9000.0, 9000.5)
    assert got == pytest.approx(5000.25 / 9030.5, rel=2e-3)
    assert fitted.p_alive(5000, 9000.0, 9000.5) == pytest.approx(1.0, abs=1e-3)
    # The same history followed by 20 years of silence: dead, and nothing overflows.
    assert fitted.p_alive(5000, 9000.0, 16300.0) == pytest.approx(0.0, abs=1e-300)
    assert np.isfinite(fitted.expected_purchases([1.0, 1e5], 5000, 9000.0, 16300.0)).all()


def test_predictions_broadcast() -> None:
    fitted = model(**PINNED)
    t = np.array([[1.0], [2.0]])
    assert fitted.expected_purchases(t, [0, 1, 2], [0.0, 1.0, 1.0], 5.0).shape == (2, 3)
    assert fitted.expected_purchases(1.0, [0, 1], [0.0, 1.0], 5.0).shape == (2,)
    assert fitted.p_alive(1, 1.0, 5.0).shape == ()


def test_expected_spend_shrinks_towards_the_population_mean() -> None:
    fitted = GammaGamma(p=6.25, q=3.74, v=15.44, customers=946)
    population = 6.25 * 15.44 / 2.74
    assert fitted.expected_spend(0, np.nan) == pytest.approx(population)
    spend = fitted.expected_spend(np.arange(1, 100.0), 100.0)
    assert np.all(np.diff(spend) > 0) and population < spend[0] and spend[-1] < 100.0


# --- simulation --------------------------------------------------------------------------------


def simulate_bgnbd(
    rng: np.random.Generator, n: int, r: float, alpha: float, a: float, b: float, horizon: float
) -> tuple[np.ndarray, ...]:
    """BG/NBD customers observed for T days, then for `horizon` more (the holdout)."""
    rate, dropout = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.integers(30, 365, n).astype(float)
    x, t_x, holdout = np.zeros(n), np.zeros(n), np.zeros(n)
    alive_at_T = np.ones(n, dtype=bool)
    clock, active = np.zeros(n), np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1 / rate[active])
        active = active[clock[active] <= T[active] + horizon]
        before = clock[active] <= T[active]
        x[active[before]] += 1
        t_x[active[before]] = clock[active[before]]
        holdout[active[~before]] += 1
        drops = rng.uniform(size=active.size) < dropout[active]
        alive_at_T[active[drops & before]] = False
        active = active[~drops]
    return x, t_x, T, holdout, alive_at_T


def test_fit_recovers_simulated_parameters_and_predicts_the_holdout() -> None:
    truth = {"r": 0.5, "alpha": 20.0, "a": 0.9, "b": 3.0}
    rng = np.random.default_rng(20240601)
    x, t_x, T, holdout, alive_at_T = simulate_bgnbd(rng, 20_000, **truth, horizon=90.0)
    fitted = fit_bgnbd(x, t_x, T)
    for name, value in truth.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.1), name
    exact = model(**truth)
    assert exact.expected_purchases(90.0, x, t_x, T).sum() == pytest.approx(holdout.sum(), rel=0.03)
    assert exact.p_alive(x, t_x, T).sum() == pytest.approx(alive_at_T.sum(), rel=0.01)


# --- units and JSON ---------------------------------------------------------------------------


def test_in_unit_rescales_alpha_and_shifts_loglik_by_the_jacobian(fit_days: BGNBD) -> None:
    weekly = fit_days.in_unit(7)
    assert weekly.alpha == pytest.approx(fit_days.alpha / 7)
    assert weekly.loglik - fit_days.loglik == pytest.approx(2457 * math.log(7))
    back = weekly.in_unit(1 / 7).to_json()
    assert back == pytest.approx(fit_days.to_json(), rel=1e-12)
    # Predictions do not depend on the unit.
    assert weekly.expected_purchases(2.0, 3, 4.0, 5.0) == pytest.approx(
        fit_days.expected_purchases(14.0, 3, 28.0, 35.0), rel=1e-12
    )
    with pytest.raises(ModelError, match="factor must be a finite number > 0, got 0"):
        fit_days.in_unit(0)


def test_to_json_round_trips_through_json(fit_days: BGNBD, summary: pd.DataFrame) -> None:
    data = json.loads(json.dumps(fit_days.to_json()))
    assert set(data) == {"r", "alpha", "a", "b", "loglik", "customers", "repeat_purchases"}
    assert BGNBD(**data) == fit_days
    spend = fit_gamma_gamma(summary["x"], summary["m"])
    assert GammaGamma(**json.loads(json.dumps(spend.to_json()))) == spend


# --- errors ------------------------------------------------------------------------------------


def test_too_few_customers() -> None:
    x = [0, 1, 2, 0, 3, 0, 0, 1, 0, 0, 0, 0]
    with pytest.raises(ModelError) as error:
        fit_bgnbd(x, [float(v) for v in x], [10.0] * 12)
    assert str(error.value) == (
        "cannot fit BG/NBD: 12 customers, 4 with a repeat purchase; "
        "it needs at least 20 customers and 5 repeat buyers"
    )


def test_no_repeat_buyers() -> None:
    with pytest.raises(ModelError, match="500 customers, 0 with a repeat purchase"):
        fit_bgnbd(np.zeros(500), np.zeros(500), np.full(500, 30.0))
    with pytest.raises(ModelError, match="cannot fit Gamma-Gamma: 0 customers with a repeat"):
        fit_gamma_gamma(np.zeros(500), np.full(500, np.nan))


def test_minimums_can_be_lowered() -> None:
    x = np.array([0, 1, 2, 0, 3, 0, 0, 1, 0, 4, 0, 2.0])
    t_x = np.array([0, 3, 7, 0, 9, 0, 0, 2, 0, 8, 0, 1.0])
    fitted = fit_bgnbd(x, t_x, np.full(12, 10.0), min_customers=10, min_repeat=2)
    assert fitted.customers == 12


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, 2], [5.0, 40.0], [10.0, 30.0], "t_x: must be <= T .*got 40 at index 1 \\(1 bad"),
        ([1, -1], [5.0, 0.0], [10.0, 30.0], "x: must be >= 0, got -1 at index 1"),
        ([1, 2], [-5.0, 1.0], [10.0, 30.0], "t_x: must be >= 0, got -5 at index 0"),
        ([1, 2], [5.0, 1.0], [10.0, np.nan], "T: must be finite .*got nan at index 1"),
        ([1.5, 2], [5.0, 1.0], [10.0, 30.0], "x: must be whole numbers .*got 1.5 at index 0"),
        ([0, 2], [5.0, 1.0], [10.0, 30.0], "t_x: must be 0 where x is 0 .*at index 0"),
        ([0, 2, 3], [0.0, 1.0], [10.0, 30.0], "x, t_x and T must have the same length"),
        (["a"], [0.0], [1.0], "x: expected numbers"),
    ],
)
def test_bad_input_is_named(x: list[Any], t_x: list[Any], T: list[Any], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        fit_bgnbd(x, t_x, T)
    with pytest.raises(ModelError, match=message):
        model(**PINNED).expected_purchases(1.0, x, t_x, T)


@pytest.mark.parametrize(
    ("m", "message"),
    [
        ([20.0, 0.0, 5.0], "m: must be > 0 where x > 0 .*got 0 at index 1"),
        ([20.0, -3.0, 5.0], "m: must be > 0 where x > 0 .*got -3 at index 1"),
        ([20.0, np.nan, 5.0], "m: must be > 0 where x > 0 .*got nan at index 1"),
        ([20.0, np.inf, 5.0], "m: must be finite where x > 0, got inf at index 1"),
    ],
)
def test_bad_spend_is_named(m: list[float], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        fit_gamma_gamma([1, 2, 0], m)
    model = GammaGamma(p=6.25, q=3.74, v=15.44, customers=1)
    if m[1] == 0:  # a prediction takes a mean of 0 (free repeat orders): the prior pulls up
        spend = model.expected_spend([1, 2, 0], m)
        assert spend[1] == pytest.approx(6.25 * 15.44 / (6.25 * 2 + 3.74 - 1))
        return
    with pytest.raises(ModelError, match=message.replace("m: must be > 0", "m: must be >= 0")):
        model.expected_spend([1, 2, 0], m)


def test_spend_of_customers_without_repeats_is_ignored() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, 400).astype(float)
    m = rng.gamma(6.0 * x, 1 / (rng.gamma(3.5, 1 / 15.0, 400) * x))
    with_one_timers = fit_gamma_gamma(np.append(x, [0, 0]), np.append(m, [np.nan, -1.0]))
    assert with_one_timers == fit_gamma_gamma(x, m)


def test_an_estimate_at_the_edge_of_the_search_range_is_degenerate() -> None:
    def rising(theta: np.ndarray) -> tuple[float, np.ndarray]:
        # Minus a likelihood that keeps rising as r -> infinity; s is identified (at 1).
        return float(-theta[0] + (theta[1] - 1) ** 2), np.array([-1.0, 2 * (theta[1] - 1)])

    message = r"toy fit is degenerate: r ran to the edge of the search range \(r = 1e\+08, s = 5"
    with pytest.raises(ModelError, match=message):
        _maximise("toy", rising, np.zeros(2), ("r", "s"), np.array([1.0, 2.0]))


def test_an_infinite_population_mean_spend_is_refused() -> None:
    # Spend simulated with q = 0.7 < 1: the mean of 1/nu, hence of spend, is infinite.
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, 2000).astype(float)
    m = rng.gamma(4.0 * x, 1 / (rng.gamma(0.7, 1 / 10.0, 2000) * x))
    with pytest.raises(ModelError, match=r"q = 0\.\d+ <= 1 makes the population mean spend"):
        fit_gamma_gamma(x, m)


def test_a_fit_that_does_not_converge_says_so() -> None:
    def wrong_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        return float(theta @ theta), -2 * theta

    with pytest.raises(ModelError, match=r"toy fit did not converge after \d+ iterations .*r = "):
        _maximise("toy", wrong_gradient, np.array([1.0, 1.0]), ("r", "s"), np.ones(2))
