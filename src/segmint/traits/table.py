"""Every trait of every customer at one ``as_of`` (``segmint traits``, ``ws.traits``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from segmint.traits.definitions import TRAIT_NAMES
from segmint.traits.expressions import TraitSettings

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    import pyarrow as pa

    from segmint.console import Progress
    from segmint.engine.base import Engine
    from segmint.engine.dialects import Backend
    from segmint.traits.models import ClvFit, FittedModels


@dataclass(frozen=True)
class TraitsResult:
    """The traits table and the models its CLV columns come from."""

    table: pa.Table
    models: FittedModels
    warnings: list[str]


def traits_expr(
    clock: Any,
    settings: TraitSettings,
    names: tuple[str, ...] = TRAIT_NAMES,
    pid: int | None = None,
    backend: Backend | None = None,
) -> ir.Table:
    """One row per customer that exists at as_of (or only profile ``pid``):
    ``customer_id``, then ``names``; compiled for ``backend`` (DuckDB's if not given)."""
    from segmint.engine.tables import people_table, population
    from segmint.traits.expressions import with_traits

    people = population(people_table(), clock)
    table = with_traits(people, names, clock, settings, backend)
    if pid is not None:
        table = table.filter(table.pid == pid)
    return table.select("customer_id", *names).order_by("customer_id")


def compute_traits(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    settings: TraitSettings,
    names: tuple[str, ...] = TRAIT_NAMES,
    progress: Progress | None = None,
    pid: int | None = None,
) -> TraitsResult:
    """Fit the models (if a wanted trait needs them), then run the traits query."""
    from segmint.console import SilentProgress

    progress = progress or SilentProgress()
    from segmint.engine.clock import Clock
    from segmint.engine.duckdb import DuckDBEngine
    from segmint.traits.expressions import needs_models
    from segmint.traits.models import FittedModels, ensure_predictions

    warnings = []
    models = FittedModels(as_of, None, None, None)
    clock = Clock(as_of)
    if needs_models(names):
        progress.phase("fitting the CLV models")
        found = ensure_predictions(con, as_of, settings)
        models, clock.clv_table, clock.clv_fit = found.models, found.table, found.fit_id
        if models.problem:
            warnings.append(f"CLV traits are empty where a model is missing: {models.problem}")
    progress.phase("computing traits")
    table = DuckDBEngine(con).to_arrow(traits_expr(clock, settings, names, pid))
    progress.done()
    return TraitsResult(table, models, warnings)


def source_traits(
    engine: Engine,
    as_of: datetime,
    settings: TraitSettings,
    names: tuple[str, ...],
    clv: ClvFit | None = None,
) -> TraitsResult:
    """The traits on a source engine (store/source.py), in one query there; the CLV
    traits read ``clv``, the fit at ``as_of`` whose predictions are on the source
    (traits/source_clv.py), which a caller asking for them must give."""
    from segmint.engine.clock import Clock
    from segmint.traits.expressions import needs_models
    from segmint.traits.models import FittedModels

    clock = Clock(as_of)
    models = FittedModels(as_of, None, None, None)
    warnings = []
    if needs_models(names):
        if clv is None:
            raise AssertionError("the CLV traits on a source need the fit at as_of")
        models, clock.clv_table, clock.clv_fit = clv.models, clv.table, clv.fit_id
        if models.problem:
            warnings.append(f"CLV traits are empty where a model is missing: {models.problem}")
    table = engine.to_arrow(traits_expr(clock, settings, names, backend=engine.backend))
    return TraitsResult(table, models, warnings)


def lifecycle_thresholds(
    con: duckdb.DuckDBPyConnection | Engine, as_of: datetime, settings: TraitSettings
) -> dict[str, int]:
    """The lifecycle thresholds in force at ``as_of`` (configured, or derived from the
    shop's purchase cadence): at_risk_days, lapsed_days, churned_days, loyal_orders; on
    the workspace's store (a connection) or a source's engine."""
    from segmint.engine.base import Engine
    from segmint.engine.clock import Clock
    from segmint.engine.duckdb import DuckDBEngine
    from segmint.engine.tables import people_table
    from segmint.traits.expressions import TraitBuilder

    engine = con if isinstance(con, Engine) else DuckDBEngine(con)
    builder = TraitBuilder(people_table(), Clock(as_of), settings, engine.backend)
    table = engine.to_arrow(builder.thresholds())
    return {k: int(v[0]) for k, v in table.to_pydict().items()}
