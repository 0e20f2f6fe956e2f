"""Fitting the CLV models at an ``as_of`` and keeping their predictions in the store.

The per-customer summary the models need — repeat transactions ``x``, the time ``t_x`` of
the last one and the observation time ``T`` (days, from the first purchase to as_of),
and the mean value ``mbar`` of the repeat transactions — is one Ibis expression run in
the engine. Several purchases on one UTC day count as one transaction, at the time of the
day's first purchase and worth the day's total. The fits (:mod:`segmint.traits.clv`)
run on that summary in numpy; the predictions are stored per as_of in ``clv_predictions``
under a ``fit_id`` (``clv_fits`` says which as_of, data and settings each fit is for), and
a query at as_of X reads only the rows of X's fit. A session that finds no stored fit for
its as_of keeps one in a temporary table for itself (docs/traits.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from segmint.errors import ModelError
from segmint.store import models as stored
from segmint.traits.expressions import (
    DAY_US,
    HORIZON_DAYS,
    SESSION_TABLE,
    STORED_TABLE,
    TraitSettings,
)

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    import numpy as np

    from segmint.engine.dialects import Backend
    from segmint.traits.clv import BGNBD, GammaGamma

TIME_UNITS = {"day": 1.0, "week": 7.0}
# Stored fits kept (the newest); see _store.
KEEP_FITS = 16
# The seed of the random sample the models are fitted on above [clv] fit_sample buyers.
SAMPLE_SEED = 17


@dataclass(frozen=True)
class FittedModels:
    """The CLV models at one as_of (``None`` where a model could not be fitted, with the
    reason in ``problem``)."""

    as_of: datetime
    bgnbd: BGNBD | None
    gamma_gamma: GammaGamma | None
    problem: str | None = None

    def to_json(self, time_unit: str = "day") -> dict[str, Any]:
        """DESIGN section 6: ``{"bgnbd": {...}, "gamma_gamma": {...}}``; time-dependent
        BG/NBD parameters in ``time_unit``. Raises :class:`ModelError` when a model
        could not be fitted."""
        if time_unit not in TIME_UNITS:
            raise ModelError(f"time unit must be day or week, got {time_unit!r}")
        if self.bgnbd is None or self.gamma_gamma is None:
            raise ModelError(self.problem or "the CLV models could not be fitted")
        bgnbd = self.bgnbd.in_unit(TIME_UNITS[time_unit]).to_json()
        gamma_gamma = self.gamma_gamma.to_json()
        return {
            "bgnbd": {k: bgnbd[k] for k in ("r", "alpha", "a", "b", "loglik", "customers")},
            "gamma_gamma": {k: gamma_gamma[k] for k in ("p", "q", "v", "customers")},
        }


def purchases_expr(clock: Any, settings: TraitSettings, backend: Backend | None = None) -> ir.Table:
    """The purchases up to as_of of the customers that exist then: ``pid``, ``revenue``
    and ``us``, the time in microseconds since 1970 (what the summary is made of)."""
    from segmint.engine.dialects import BACKENDS
    from segmint.engine.tables import events_table, people_table, population

    epoch_us = (backend or BACKENDS["duckdb"]).epoch_us
    e = events_table()
    at = clock.ago(0)
    people = population(people_table(), clock).select("pid")
    p = e.filter(e.event.isin(list(settings.purchase_events)), e.ts <= at).semi_join(people, "pid")
    return p.select("pid", "revenue", us=epoch_us(p.ts))


def summary_expr(clock: Any, settings: TraitSettings, backend: Backend | None = None) -> ir.Table:
    """Per buyer at as_of: ``pid``, ``x``, ``t_x``, ``T`` (days, fractional), ``mbar``;
    compiled for ``backend`` (DuckDB's if not given)."""
    from segmint.engine.dialects import BACKENDS

    epoch_us = (backend or BACKENDS["duckdb"]).epoch_us
    at = clock.ago(0)
    p = purchases_expr(clock, settings, backend)
    day = p.group_by("pid", day=p.us // DAY_US).aggregate(
        t=p.us.min(), value=p.revenue.sum().fill_null(0)
    )
    per = day.group_by("pid").aggregate(
        n=day.count(),
        first=day.t.min(),
        last=day.t.max(),
        total=day.value.sum(),
        first_value=day.value.argmin(day.t),
    )
    repeat = (per.n - 1).cast("float64")
    return per.select(
        "pid",
        x=repeat,
        t_x=(per.last - per.first).cast("float64") / DAY_US,
        T=(epoch_us(at) - per.first).cast("float64") / DAY_US,
        mbar=((per.total - per.first_value).cast("float64") / repeat.nullif(0)),
    )


def read_summary(
    con: duckdb.DuckDBPyConnection, as_of: datetime, settings: TraitSettings
) -> dict[str, np.ndarray]:
    """The summary at ``as_of`` as numpy arrays."""
    from segmint.engine.clock import Clock
    from segmint.engine.duckdb import DuckDBEngine

    table = DuckDBEngine(con).to_arrow(summary_expr(Clock(as_of), settings))
    return {name: table.column(name).to_numpy() for name in table.column_names}


def sample_of(summary: dict[str, np.ndarray], limit: int) -> dict[str, np.ndarray]:
    """The buyers the models are fitted on: all of them up to ``limit`` ([clv]
    fit_sample), else ``limit`` drawn at random with a fixed seed from the buyers ordered
    by ``pid``, so that the same data gives the same sample in whatever order an engine
    returns the rows."""
    import numpy as np

    size = len(summary["pid"])
    if size <= limit:
        return summary
    order = np.argsort(summary["pid"], kind="stable")
    chosen = np.sort(np.random.default_rng(SAMPLE_SEED).choice(size, limit, replace=False))
    rows = order[chosen]
    return {name: values[rows] for name, values in summary.items()}


def fit(summary: dict[str, np.ndarray], as_of: datetime) -> FittedModels:
    """Both models on a summary; a model that cannot be fitted is ``None`` with the
    reason (the other is still fitted when it can be)."""
    import numpy as np

    from segmint.traits.clv import fit_bgnbd

    when = as_of.isoformat().replace("+00:00", "Z")
    problems = []
    bgnbd = gamma_gamma = None
    x, t_x, big_t = summary["x"], summary["t_x"], summary["T"]
    try:
        bgnbd = fit_bgnbd(x, t_x, big_t)
        # A flat likelihood ridge (e.g. every buyer with the same purchase rate) can give
        # parameters so large that the predictions overflow: no usable model then.
        with np.errstate(all="ignore"):  # judged below, not warned about
            check = bgnbd.expected_purchases(float(HORIZON_DAYS), x, t_x, big_t)
        if not np.isfinite(check).all():
            raise ModelError(
                f"BG/NBD fit is degenerate (r = {bgnbd.r:.4g}, alpha = {bgnbd.alpha:.4g} days, "
                f"a = {bgnbd.a:.4g}, b = {bgnbd.b:.4g}): its predictions are not finite"
            )
    except ModelError as exc:
        bgnbd = None
        problems.append(str(exc))
    try:
        gamma_gamma = _fit_spend(x, summary["mbar"])
    except ModelError as exc:
        problems.append(str(exc))
    problem = f"at {when}: {'; '.join(problems)}" if problems else None
    return FittedModels(as_of, bgnbd, gamma_gamma, problem)


def _fit_spend(x: np.ndarray, mbar: np.ndarray) -> GammaGamma:
    """Gamma-Gamma on the repeat buyers with a positive average repeat order value."""
    import numpy as np

    from segmint.traits.clv import GAMMA_GAMMA_MIN_CUSTOMERS, fit_gamma_gamma

    # Gamma-Gamma models positive spend: repeat buyers whose repeat purchases are worth 0
    # on average (free orders) are left out of the fit (their prediction still uses it).
    usable = (x > 0) & (np.nan_to_num(mbar) > 0)
    repeat_buyers, paying = int(np.count_nonzero(x > 0)), int(np.count_nonzero(usable))
    if paying < min(repeat_buyers, GAMMA_GAMMA_MIN_CUSTOMERS):
        # Say what is missing: the buyers are there, their repeat orders are worth 0.
        which = "none" if paying == 0 else f"only {paying}"
        raise ModelError(
            f"cannot fit Gamma-Gamma: {repeat_buyers} customers with a repeat purchase, "
            f"{which} with a positive average repeat order value (repeat orders worth 0 "
            f"are left out); it needs at least {GAMMA_GAMMA_MIN_CUSTOMERS}"
        )
    return fit_gamma_gamma(x[usable], mbar[usable])


def fit_models(
    con: duckdb.DuckDBPyConnection, as_of: datetime, settings: TraitSettings
) -> FittedModels:
    """Fit both models on the purchases up to ``as_of``."""
    return fit(sample_of(read_summary(con, as_of, settings), settings.clv.fit_sample), as_of)


def predictions(models: FittedModels, summary: dict[str, np.ndarray]) -> Any:
    """An Arrow table of the CLV traits per buyer (all null without fitted models)."""
    import numpy as np
    import pyarrow as pa

    pid = summary["pid"]
    x, t_x, big_t = summary["x"], summary["t_x"], summary["T"]
    empty = np.full(len(pid), np.nan)
    alive = orders = clv = empty
    if models.bgnbd is not None:
        alive = models.bgnbd.p_alive(x, t_x, big_t)
        orders = models.bgnbd.expected_purchases(float(HORIZON_DAYS), x, t_x, big_t)
        if models.gamma_gamma is not None:
            mbar = np.where(x > 0, np.nan_to_num(summary["mbar"]), 0.0)
            clv = orders * models.gamma_gamma.expected_spend(x, mbar)
    # pid is an integer in the workspace's store, the customer id (text) on a source.
    pid_type = pa.int64() if np.issubdtype(pid.dtype, np.integer) else pa.string()
    return pa.table(
        {
            "pid": pa.array(pid, pid_type),
            "p_alive": pa.array(alive, pa.float64(), from_pandas=True),
            "predicted_orders_365d": pa.array(orders, pa.float64(), from_pandas=True),
            "predicted_clv_365d": pa.array(clv, pa.float64(), from_pandas=True),
        }
    )


@dataclass(frozen=True)
class ClvFit:
    """Where the predictions at one as_of are: the rows of ``table`` with ``fit_id``.

    ``table`` is the stored ``clv_predictions``, or, in a read-only session whose as_of
    has no stored fit, the session's temporary table (negative fit ids)."""

    fit_id: int
    table: str
    models: FittedModels
    # A stored fit of a source-mode workspace: ``table`` is the view of its version there.
    on_source: bool = False

    @property
    def stored(self) -> bool:
        return self.table == STORED_TABLE or self.on_source


def ensure_predictions(
    con: duckdb.DuckDBPyConnection, as_of: datetime, settings: TraitSettings, store: bool = False
) -> ClvFit:
    """The fit at ``as_of`` for the current data and settings: the stored one, else this
    session's, else one fitted now and kept for this session; with ``store`` (and the
    workspace open for writing) a fit that is not stored is fitted and stored.

    Only the commands that are asked for stored predictions store them (``models``,
    ``segment sql``): a count, a refresh or a cluster run writes nothing it was not asked
    to, so a kill leaves the state before or after that command (docs/crash-safety.md)."""
    from segmint.store.db import is_read_only

    key = fingerprint(con, settings)
    store = store and not is_read_only(con)
    found = _find(con, as_of, key)
    if found is None and not store:
        found = _find(con, as_of, key, session=True)
    if found is not None:
        return found
    summary = read_summary(con, as_of, settings)
    models = fit(sample_of(summary, settings.clv.fit_sample), as_of)
    scores = predictions(models, summary)
    if store:
        return _store(con, as_of, key, models, scores)
    return _keep_for_session(con, as_of, key, models, scores)


def stored_fit(
    con: duckdb.DuckDBPyConnection, as_of: datetime, settings: TraitSettings
) -> ClvFit | None:
    """The stored fit at ``as_of`` for the current data and settings, if there is one."""
    return _find(con, as_of, fingerprint(con, settings))


def fingerprint(con: duckdb.DuckDBPyConnection, settings: TraitSettings) -> str:
    """What predictions depend on besides as_of: the data (every load adds a row to
    ``loads``) and the trait settings."""
    import hashlib

    text = json.dumps([stored.loads_version(con), repr(settings)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _find(
    con: duckdb.DuckDBPyConnection, as_of: datetime, key: str, session: bool = False
) -> ClvFit | None:
    found = stored.find_fit(con, as_of, key, session)
    if found is None:
        return None
    fit_id, models = found
    table = SESSION_TABLE if session else STORED_TABLE
    return ClvFit(fit_id, table, models_from_json(as_of, json.loads(models)))


def _store(
    con: duckdb.DuckDBPyConnection, as_of: datetime, key: str, models: FittedModels, scores: Any
) -> ClvFit:
    """Store a fit and its predictions in one write, and prune old fits: the
    :data:`KEEP_FITS` newest are kept (an older one is fitted again when asked for, to the
    same values, and each as_of asked for would otherwise stay for good)."""
    text = json.dumps(models_json(models))
    fit_id = stored.store_fit(con, as_of, key, text, scores, KEEP_FITS)
    return ClvFit(fit_id, STORED_TABLE, models)


def _keep_for_session(
    con: duckdb.DuckDBPyConnection, as_of: datetime, key: str, models: FittedModels, scores: Any
) -> ClvFit:
    """A session's fit, in temporary tables under a negative fit id (never one of the
    stored ids, and each as_of its own)."""
    text = json.dumps(models_json(models))
    fit_id = stored.keep_session_fit(con, as_of, key, text, scores)
    return ClvFit(fit_id, SESSION_TABLE, models)


def models_json(models: FittedModels) -> dict[str, Any]:
    """The fitted parameters (or None) and the problem, as kept in ``clv_fits``."""
    return {
        "bgnbd": None if models.bgnbd is None else models.bgnbd.to_json(),
        "gamma_gamma": None if models.gamma_gamma is None else models.gamma_gamma.to_json(),
        "problem": models.problem,
    }


def models_from_json(as_of: datetime, data: dict[str, Any]) -> FittedModels:
    """The models at ``as_of`` from their :func:`models_json` form."""
    from segmint.traits.clv import BGNBD, GammaGamma

    bgnbd = data["bgnbd"]
    gg = data["gamma_gamma"]
    return FittedModels(
        as_of,
        None if bgnbd is None else BGNBD(**bgnbd),
        None if gg is None else GammaGamma(**gg),
        data["problem"],
    )
