"""Customer-lifetime-value models: BG/NBD for purchase counts, Gamma-Gamma for spend.

Both models are fitted by maximum likelihood from a one-row-per-customer summary:

* ``x``: repeat transactions (transactions after the first one);
* ``t_x``: time of the last transaction, measured from the first one (0 when ``x == 0``);
* ``T``: time from the first transaction to the end of observation;
* ``m``: the mean value of the ``x`` repeat transactions (Gamma-Gamma only).

Time may be in any unit (days, weeks); the fitted ``alpha`` and every later ``t``, ``t_x``
and ``T`` are in that same unit. :meth:`BGNBD.in_unit` converts a model to another one.

The BG/NBD likelihood, its conditional expectation and ``P(alive)`` are from Fader, Hardie &
Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD Model",
*Marketing Science* 24(2), 275-284, and Hardie's note "Computing P(alive) Using the BG/NBD
Model" (brucehardie.com/notes/021). The Gamma-Gamma spend model is from Fader, Hardie & Lee
(2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", *Journal of
Marketing Research* 42(4), 415-430, and Fader & Hardie's note "The Gamma-Gamma Model of
Monetary Value" (brucehardie.com/notes/025).

Fitting works on the logarithm of the parameters with L-BFGS-B and an analytic gradient.
Customers are first compressed to distinct summary rows weighted by their counts (most
one-time buyers collapse into a few hundred rows), terms that depend only on ``x`` are
computed once per distinct ``x``, and times (or money) are rescaled to a mean of 1 so that
one set of starting values and bounds suits every unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from segmint.errors import ModelError

FloatArray = npt.NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

#: Fewest customers a BG/NBD fit accepts: four parameters need a population to average over.
BGNBD_MIN_CUSTOMERS = 20
#: Fewest repeat buyers (``x > 0``) a BG/NBD fit accepts. Only repeat buyers carry information
#: on the dropout parameters ``a`` and ``b``; with fewer than this the fit is noise.
BGNBD_MIN_REPEAT = 5
#: Fewest repeat buyers a Gamma-Gamma fit accepts (three parameters).
GAMMA_GAMMA_MIN_CUSTOMERS = 10

# Log-parameters are bounded to [-18.42, 18.42], i.e. [1e-8, 1e8] on the data rescaled to a
# mean of 1. An estimate that runs to an edge means the likelihood keeps rising towards 0 or
# infinity: the data cannot identify that parameter, and the fit is reported as degenerate.
_LOG_BOUND = float(np.log(1e8))
_EDGE = 1e-3
# L-BFGS-B may stop with "ABNORMAL" (the line search found no better point) once the mean
# log-likelihood is flat to rounding, or along a flat ridge (e.g. a, b -> infinity at a fixed
# a / (a + b) when every customer has the same dropout chance). Such a stop is accepted when
# the gradient of the mean log-likelihood in log-parameters is this small.
_GRADIENT_OK = 1e-4
# How close to 1 ``a`` may come before expected_purchases interpolates across a = 1.
_A_NEAR_ONE = 1e-5


@dataclass(frozen=True)
class BGNBD:
    """A fitted BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").

    While alive, a customer buys at Poisson rate ``lambda ~ Gamma(shape=r, rate=alpha)``;
    after each repeat purchase they drop out for good with probability ``p ~ Beta(a, b)``.
    ``alpha`` is in the time unit of the fit; ``loglik`` is the total log-likelihood at the
    optimum in that unit, over ``customers`` customers with ``repeat_purchases`` repeat
    transactions in all (needed to move ``loglik`` to another unit, see :meth:`in_unit`).

    >>> model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, loglik=-9582.4,
    ...               customers=2357, repeat_purchases=2457)
    >>> [round(float(v), 4) for v in model.p_alive(x=[0, 2], t_x=[0, 30.43], T=[38.86, 38.86])]
    [1.0, 0.7266]
    """

    r: float
    alpha: float
    a: float
    b: float
    loglik: float
    customers: int
    repeat_purchases: int

    def p_alive(self, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike) -> FloatArray:
        """Probability that a customer with summary ``(x, t_x, T)`` is still alive at ``T``.

        ``P = 1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))``
        (Hardie, note 021), evaluated as a logistic of the log of the odds term, so large
        ``x`` or ``T`` cannot overflow. Arrays broadcast; the result is in (0, 1], exactly 1
        for ``x == 0`` (a customer can only drop out right after a repeat purchase).
        """
        xs, txs, Ts = _check_summary(x, t_x, T)
        return self._p_alive(xs, txs, Ts)

    def expected_purchases(
        self, t: npt.ArrayLike, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """Expected repeat transactions in ``(T, T + t]`` given ``(x, t_x, T)``.

        Fader, Hardie & Lee (2005), equation (10)::

            E[X(T, T+t)] = (a+b+x-1)/(a-1)
                           * [1 - ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z)]
                           * P(alive),                    z = t / (alpha + T + t).

        The original ``2F1`` grows without bound with ``x`` while the power term vanishes, so
        it is computed after Euler's transformation
        ``2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)``, which turns the bracket into
        ``1 - (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z)``: no parameter grows with ``x`` but
        ``C``, the series tends to 1, and nothing overflows for large ``x`` or ``T``. ``t`` is
        in the unit of the fit; arrays broadcast.
        """
        ts = _as_numbers("t", t)
        xs, txs, Ts = _check_summary(x, t_x, T)
        if abs(self.a - 1.0) >= _A_NEAR_ONE:
            return self._expected_purchases(ts, xs, txs, Ts)
        # At a = 1 the formula is a removable 0/0, and near it the bracket cancels: interpolate
        # between a = 1 - d and 1 + d (error ~1e-9 from rounding and curvature, for d = 1e-5).
        low, high = (
            replace(self, a=1.0 + side * _A_NEAR_ONE)._expected_purchases(ts, xs, txs, Ts)
            for side in (-1.0, 1.0)
        )
        result: FloatArray = low + (self.a - 1.0 + _A_NEAR_ONE) / (2 * _A_NEAR_ONE) * (high - low)
        return result

    def in_unit(self, factor: float) -> BGNBD:
        """The same model with time measured in units ``factor`` times longer.

        Days to weeks is ``factor=7``. Times shrink by ``factor``, so the rate scale becomes
        ``alpha / factor`` (``r``, ``a``, ``b`` are unit-free). The likelihood of one customer
        is a density over the times of their ``x`` repeat purchases, so it gains the Jacobian
        ``factor^x``: the returned ``loglik`` is ``loglik + repeat_purchases * ln(factor)``, the
        log-likelihood of the same data measured in the new unit.

        >>> BGNBD(0.25, 30.9, 0.79, 2.43, -14363.6, 2357, 2457).in_unit(7).alpha
        4.414285714285714
        """
        if not (np.isfinite(factor) and factor > 0):
            raise ModelError(f"in_unit: factor must be a finite number > 0, got {factor}")
        return BGNBD(
            r=self.r,
            alpha=self.alpha / factor,
            a=self.a,
            b=self.b,
            loglik=self.loglik + self.repeat_purchases * float(np.log(factor)),
            customers=self.customers,
            repeat_purchases=self.repeat_purchases,
        )

    def to_json(self) -> dict[str, Any]:
        """The parameters and fit statistics as a JSON-ready dict (``BGNBD(**d)`` rebuilds)."""
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "loglik": self.loglik,
            "customers": self.customers,
            "repeat_purchases": self.repeat_purchases,
        }

    def _expected_purchases(
        self, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        from scipy.special import hyp2f1

        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        # log(1 - z) = -log1p(t / (alpha + T)), exact for small t.
        log1mz = -np.log1p(t / (alpha + T))
        z = -np.expm1(log1mz)
        c = a + b + x - 1.0
        bracket = 1.0 - np.exp((a - 1.0) * log1mz) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
        result: FloatArray = c / (a - 1.0) * bracket * self._p_alive(x, t_x, T)
        return result

    def _p_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        from scipy.special import expit

        repeat = x > 0
        # The odds of having dropped out; b + x - 1 is only formed where x >= 1 (b may be < 1).
        log_odds = (
            np.log(self.a)
            - np.log(np.where(repeat, self.b + x - 1.0, 1.0))
            + (self.r + x) * np.log1p((T - t_x) / (self.alpha + t_x))
        )
        result: FloatArray = np.where(repeat, expit(-log_odds), 1.0)
        return result


@dataclass(frozen=True)
class GammaGamma:
    """A fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV").

    A customer's transaction values are ``Gamma(shape=p, rate=nu)`` with
    ``nu ~ Gamma(shape=q, rate=v)`` across customers, so a customer's mean value is
    ``p / nu`` and the population mean is ``p * v / (q - 1)`` (finite: a fit with ``q <= 1``
    is rejected). ``v`` is in the money unit of the fit; ``customers`` counts the repeat
    buyers it used.

    >>> model = GammaGamma(p=6.25, q=3.74, v=15.44, customers=946)
    >>> [round(float(v), 2) for v in model.expected_spend(x=[0, 1, 10], m=[0, 20.0, 20.0])]
    [35.22, 24.64, 20.64]
    """

    p: float
    q: float
    v: float
    customers: int

    def expected_spend(self, x: npt.ArrayLike, m: npt.ArrayLike) -> FloatArray:
        """Expected mean transaction value of a customer with ``x`` repeat purchases of mean ``m``.

        ``E[Z | x, m] = p * (v + x * m) / (p * x + q - 1)``, a weighted mean of the population
        mean ``p * v / (q - 1)`` and the customer's own ``m`` (Fader & Hardie, note 025). For
        ``x == 0`` it is the population mean and ``m`` is ignored (it may be NaN there). A
        mean of 0 (free repeat orders) is allowed here, though not in a fit.
        """
        xs, ms = _check_spend(x, m, allow_zero=True)
        spend = np.where(xs > 0, ms, 0.0)
        result: FloatArray = self.p * (self.v + xs * spend) / (self.p * xs + self.q - 1.0)
        return result

    def to_json(self) -> dict[str, Any]:
        """The parameters and the number of customers fitted, as a JSON-ready dict."""
        return {"p": self.p, "q": self.q, "v": self.v, "customers": self.customers}


def fit_bgnbd(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    min_customers: int = BGNBD_MIN_CUSTOMERS,
    min_repeat: int = BGNBD_MIN_REPEAT,
) -> BGNBD:
    """Fit a BG/NBD model by maximum likelihood to one summary row per customer.

    The log-likelihood of one customer (Fader, Hardie & Lee 2005, equation 6) is::

        ln Gamma(r+x) - ln Gamma(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
        + logaddexp(-(r+x) ln(alpha+T),
                    [x > 0] (ln a - ln(b+x-1) - (r+x) ln(alpha+t_x)))

    Raises :class:`ModelError` on bad input (negative, NaN, non-integer ``x``,
    ``t_x > T``, ``t_x > 0`` with ``x == 0``), with fewer than ``min_customers`` customers or
    ``min_repeat`` repeat buyers, when the optimiser does not converge, or when an estimate
    runs to the edge of its range (the data do not identify the model).

    >>> fit_bgnbd(x=[0] * 30, t_x=[0] * 30, T=[10] * 30)
    Traceback (most recent call last):
    ...
    segmint.errors.ModelError: cannot fit BG/NBD: 30 customers, 0 with a repeat purchase; \
it needs at least 20 customers and 5 repeat buyers
    """
    xs, txs, Ts = (a.ravel() for a in _check_summary(x, t_x, T))
    customers, repeat = xs.size, int(np.count_nonzero(xs))
    if customers < min_customers or repeat < min_repeat:
        raise ModelError(
            f"cannot fit BG/NBD: {customers} customers, {repeat} with a repeat purchase; "
            f"it needs at least {min_customers} customers and {min_repeat} repeat buyers"
        )
    scale = float(Ts.mean())
    if scale <= 0:
        raise ModelError("cannot fit BG/NBD: every T is 0, so no time has been observed")
    objective = _BGNBDLikelihood(xs, txs / scale, Ts / scale)
    start = np.log([1.0, 1.0 / np.clip(xs.mean(), 1e-3, 1e3), 1.0, 1.0])
    units = np.array([1.0, scale, 1.0, 1.0])
    theta, mean_loglik = _maximise("BG/NBD", objective, start, ("r", "alpha", "a", "b"), units)
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    total = int(xs.sum())
    in_scaled_unit = BGNBD(r, alpha, a, b, mean_loglik * customers, customers, total)
    # The fit ran in units `scale` times longer than the caller's: convert back.
    return in_scaled_unit.in_unit(1.0 / scale)


def fit_gamma_gamma(
    x: npt.ArrayLike,
    m: npt.ArrayLike,
    *,
    min_customers: int = GAMMA_GAMMA_MIN_CUSTOMERS,
) -> GammaGamma:
    """Fit a Gamma-Gamma spend model by maximum likelihood on the customers with ``x > 0``.

    ``m`` is the mean value of a customer's ``x`` repeat transactions (rows with ``x == 0``
    are ignored, their ``m`` may be anything, NaN included). The density of ``m`` given ``x``
    (Fader & Hardie, note 025, equation 3) is::

        Gamma(px+q) / (Gamma(px) Gamma(q)) * v^q * m^(px-1) * x^(px) / (v + x m)^(px+q)

    Raises :class:`ModelError` on bad input (negative or NaN ``x``, ``m <= 0`` or NaN where
    ``x > 0``), with fewer than ``min_customers`` repeat buyers, when the optimiser does not
    converge, when an estimate runs to the edge of its range, or when ``q <= 1`` (the
    population mean spend would be infinite).

    >>> fit_gamma_gamma(x=[0, 2, 1], m=[0.0, 15.5, 20.0])
    Traceback (most recent call last):
    ...
    segmint.errors.ModelError: cannot fit Gamma-Gamma: 2 customers with a repeat purchase; \
it needs at least 10
    """
    xs, ms = (a.ravel() for a in _check_spend(x, m))
    repeat = xs > 0
    customers = int(np.count_nonzero(repeat))
    if customers < min_customers:
        raise ModelError(
            f"cannot fit Gamma-Gamma: {customers} customers with a repeat purchase; "
            f"it needs at least {min_customers}"
        )
    xs, ms = xs[repeat], ms[repeat]
    scale = float(ms.mean())
    objective = _gamma_gamma_objective(xs, ms / scale)
    # Start with the population mean p*v/(q-1) equal to the observed mean (1 after scaling).
    start = np.log([1.0, 2.0, 1.0])
    units = np.array([1.0, 1.0, scale])
    theta, _ = _maximise("Gamma-Gamma", objective, start, ("p", "q", "v"), units)
    p, q, v = (float(val) for val in np.exp(theta))
    if q <= 1.0:
        raise ModelError(
            f"Gamma-Gamma fit is degenerate: q = {q:.4g} <= 1 makes the population mean spend "
            f"infinite (p = {p:.4g}, v = {v * scale:.4g}); the spend data are too heavy-tailed"
        )
    return GammaGamma(p=p, q=q, v=v * scale, customers=customers)


class _BGNBDLikelihood:
    """Minus the mean BG/NBD log-likelihood and its gradient in ``log(r, alpha, a, b)``.

    Customers are compressed to distinct ``(x, t_x, T)`` rows with counts as weights; the
    terms that depend on ``x`` alone are computed once per distinct ``x``.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> None:
        (self.x, self.t_x, self.T), self.weights = _compress(x, t_x, T)
        self.per_x, self.x_index = np.unique(self.x, return_inverse=True)
        self.n_per_x = np.bincount(self.x_index, weights=self.weights)
        self.total = float(self.weights.sum())

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(theta)
        loglik_x, gradient_x = self._terms_by_x(*params)
        loglik_rows, gradient_rows = self._terms_by_row(*params)
        gradient = (gradient_x + gradient_rows) * params
        return -(loglik_x + loglik_rows) / self.total, -gradient / self.total

    def _terms_by_x(self, r: float, alpha: float, a: float, b: float) -> tuple[float, FloatArray]:
        """``ln Gamma(r+x) - ln Gamma(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)``, summed."""
        from scipy.special import digamma, gammaln

        xs, n = self.per_x, self.n_per_x
        loglik = _dot(
            n,
            gammaln(r + xs)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(a + b)
            + gammaln(b + xs)
            - gammaln(b)
            - gammaln(a + b + xs),
        )
        d_ab = digamma(a + b) - digamma(a + b + xs)
        d_r = _dot(n, digamma(r + xs) - digamma(r) + np.log(alpha))
        d_b = _dot(n, d_ab + digamma(b + xs) - digamma(b))
        return loglik, np.array([d_r, self.total * r / alpha, _dot(n, d_ab), d_b])

    def _terms_by_row(self, r: float, alpha: float, a: float, b: float) -> tuple[float, FloatArray]:
        """``logaddexp(alive, dropped)`` per row, the two ways ``(x, t_x, T)`` can come about."""
        from scipy.special import expit

        has_dropout = self.per_x > 0
        # a / (b + x - 1) only exists for x >= 1 (b may be < 1): at x == 0 there is no dropout
        # term, so its log is -inf and its share of the likelihood 0.
        b_x_1 = np.where(has_dropout, b + self.per_x - 1.0, 1.0)
        log_odds = np.where(has_dropout, np.log(a / b_x_1), -np.inf)[self.x_index]
        inverse = np.where(has_dropout, 1.0 / b_x_1, 0.0)[self.x_index]
        r_x, w = r + self.x, self.weights
        log_t, log_tx = np.log(alpha + self.T), np.log(alpha + self.t_x)
        alive = -r_x * log_t
        dropped = log_odds - r_x * log_tx
        dropped_share = expit(dropped - alive)
        alive_share = 1.0 - dropped_share
        d_r = -_dot(w, alive_share * log_t + dropped_share * log_tx)
        rate = alive_share / (alpha + self.T) + dropped_share / (alpha + self.t_x)
        d_alpha = -_dot(w, r_x * rate)
        w_dropped = w * dropped_share
        gradient = np.array([d_r, d_alpha, w_dropped.sum() / a, -_dot(w_dropped, inverse)])
        return _dot(w, np.logaddexp(alive, dropped)), gradient


def _gamma_gamma_objective(x: FloatArray, m: FloatArray) -> Objective:
    """Minus the mean Gamma-Gamma log-likelihood and its gradient in ``log(p, q, v)``."""
    from scipy.special import digamma, gammaln

    (x, m), weights = _compress(x, m)
    per_x, x_index = np.unique(x, return_inverse=True)
    n_per_x = np.bincount(x_index, weights=weights)
    log_xm = np.log(x * m)
    constant = _dot(weights, np.log(m))
    total = float(weights.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = np.exp(theta)
        px, px_q = p * per_x, p * per_x + q
        log_vxm = np.log(v + x * m)
        shape = px_q[x_index]
        loglik = _dot(n_per_x, gammaln(px_q) - gammaln(px) - gammaln(q) + q * np.log(v))
        loglik += _dot(weights, p * x * log_xm - shape * log_vxm) - constant
        d_p = _dot(n_per_x, per_x * (digamma(px_q) - digamma(px)))
        d_p += _dot(weights, x * (log_xm - log_vxm))
        d_q = _dot(n_per_x, digamma(px_q) - digamma(q) + np.log(v)) - _dot(weights, log_vxm)
        d_v = total * q / v - _dot(weights, shape / (v + x * m))
        gradient = np.array([d_p, d_q, d_v]) * np.exp(theta)
        return -loglik / total, -gradient / total

    return objective


def _maximise(
    model: str, objective: Objective, start: FloatArray, names: Sequence[str], units: FloatArray
) -> tuple[FloatArray, float]:
    """Minimise ``objective`` over bounded log-parameters; return them and the mean loglik.

    ``units`` converts the parameters to the caller's units for error messages.
    """
    from scipy.optimize import minimize

    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-8},
    )
    theta = np.asarray(result.x, dtype=np.float64)
    values = np.exp(theta) * units
    shown = ", ".join(f"{n} = {v:.4g}" for n, v in zip(names, values, strict=True))
    if not (np.isfinite(result.fun) and np.all(np.isfinite(theta))):
        raise ModelError(f"{model} fit failed: the log-likelihood is not finite at {shown}")
    at_edge = [n for n, th in zip(names, theta, strict=True) if abs(th) > _LOG_BOUND - _EDGE]
    if at_edge:
        raise ModelError(
            f"{model} fit is degenerate: {', '.join(at_edge)} ran to the edge of the search "
            f"range ({shown}); the data cannot identify the model"
        )
    gradient = float(np.max(np.abs(result.jac)))
    if not result.success and gradient > _GRADIENT_OK:
        raise ModelError(
            f"{model} fit did not converge after {result.nit} iterations "
            f"({result.message}; largest gradient {gradient:.3g}); last estimates {shown}"
        )
    return theta, -float(result.fun)


def _dot(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    """``a @ b`` without BLAS: numpy and scipy each load their own OpenBLAS, and on a 2-core
    machine the two thread pools fight, making one 400k-long BLAS dot up to 50x slower."""
    return float(np.einsum("i,i->", a, b))


def _compress(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """The columns cut to their distinct rows, and how many customers share each row.

    ``np.unique(..., axis=0)`` sorts rows as opaque byte strings and takes ~1.4 s on 1M rows;
    coding one column at a time into a dense integer key gives the same rows in ~0.3 s.
    """
    key = np.zeros(columns[0].size, dtype=np.int64)
    for column in columns:
        values, codes = np.unique(column, return_inverse=True)
        # The key is re-numbered densely (< rows) each time, so this product stays < rows**2.
        _, first, key, counts = np.unique(
            key * values.size + codes, return_index=True, return_inverse=True, return_counts=True
        )
    return [column[first] for column in columns], counts.astype(np.float64)


def _as_numbers(name: str, values: npt.ArrayLike) -> FloatArray:
    """``values`` as float64, all finite and >= 0, or a ModelError naming the first bad one."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{name}: expected numbers, got {exc}") from exc
    _require(name, array, ~np.isfinite(array), "must be finite (not NaN or infinite)")
    _require(name, array, array < 0, "must be >= 0")
    return array


def _require(name: str, values: FloatArray, bad: npt.NDArray[np.bool_], rule: str) -> None:
    """Raise a ModelError saying how many ``values`` are ``bad`` and showing the first one."""
    count = int(np.count_nonzero(bad))
    if count:
        first = int(np.argmax(bad.ravel()))
        raise ModelError(
            f"{name}: {rule}, got {values.ravel()[first]:.6g} at index {first} "
            f"({count} bad value{'s' if count > 1 else ''})"
        )


def _check_summary(
    x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate and broadcast a BG/NBD summary; raise ModelError naming the first bad row."""
    xs, txs, Ts = (_as_numbers(n, v) for n, v in (("x", x), ("t_x", t_x), ("T", T)))
    try:
        xs, txs, Ts = np.broadcast_arrays(xs, txs, Ts)
    except ValueError as exc:
        shapes = f"{xs.shape}, {txs.shape} and {Ts.shape}"
        raise ModelError(f"x, t_x and T must have the same length, got shapes {shapes}") from exc
    _require("x", xs, xs != np.floor(xs), "must be whole numbers of repeat transactions")
    _require("t_x", txs, txs > Ts, "must be <= T (the last purchase is within observation)")
    _require("t_x", txs, (xs == 0) & (txs > 0), "must be 0 where x is 0 (no repeat purchase)")
    return xs, txs, Ts


def _check_spend(
    x: npt.ArrayLike, m: npt.ArrayLike, allow_zero: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Validate and broadcast ``(x, m)``; ``m`` is only checked where ``x > 0`` (and may be
    0 there with ``allow_zero``)."""
    xs = _as_numbers("x", x)
    _require("x", xs, xs != np.floor(xs), "must be whole numbers of repeat transactions")
    try:
        ms = np.asarray(m, dtype=np.float64)
        xs, ms = np.broadcast_arrays(xs, ms)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"x and m must be numbers of the same length: {exc}") from exc
    used = xs > 0
    # `not m > 0` also catches NaN.
    if allow_zero:
        _require("m", ms, used & ~(ms >= 0), "must be >= 0 where x > 0 (a mean transaction value)")
    else:
        _require("m", ms, used & ~(ms > 0), "must be > 0 where x > 0 (a mean transaction value)")
    _require("m", ms, used & ~np.isfinite(ms), "must be finite where x > 0")
    return xs, ms
