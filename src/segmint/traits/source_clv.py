"""The CLV models of a source-mode workspace: summary in the engine, fit in Python,
predictions back in the engine (docs/sources.md, "CLV on a source").

- The per-customer summary (:func:`segmint.traits.models.summary_expr`, compiled for the
  source's dialect) runs in the engine; only one row per buyer comes back, in batches.
- The models are fitted in Python on every buyer, or on a random sample of ``[clv]
  fit_sample`` buyers above that (:func:`segmint.traits.models.sample_of`).
- The predictions are computed per batch and written into the engine: a stored fit as
  version ``fit_id`` of ``clv_predictions`` on the source, then named in the local
  ``clv_fits`` with its as_of and a fingerprint of the source's purchases (the commit
  point: a version no local row names is never read); a fit for this session only in a
  temporary table of the engine's session.

A query at as_of X reads the view of X's fit only: a fit is found by its as_of and
fingerprint, and its view holds that one version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from segmint.traits.expressions import TraitSettings

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    import numpy as np
    import pyarrow as pa

    from segmint.engine.base import Engine
    from segmint.store.source_state import SourceState
    from segmint.traits.models import ClvFit, FittedModels

# Buyers predicted (and written to the engine) at a time.
PREDICT_ROWS = 500_000


def ensure_source_predictions(
    con: duckdb.DuckDBPyConnection,
    state: SourceState,
    as_of: datetime,
    settings: TraitSettings,
    store: bool = False,
) -> ClvFit:
    """The fit at ``as_of`` for the source's current purchases and the settings: the
    stored one, else this session's, else one fitted now and kept for the session; with
    ``store`` (and the workspace open for writing) a fit that is not stored is fitted and
    stored, as :func:`segmint.traits.models.ensure_predictions` does on the store."""
    from segmint.store.db import is_read_only
    from segmint.traits.models import fit, sample_of

    key = source_fingerprint(state.engine, as_of, settings)
    store = store and not is_read_only(con)
    found = _find(con, state, as_of, key)
    if found is None and not store:
        found = _find(con, state, as_of, key, session=True)
    if found is not None:
        return found
    summary = read_source_summary(state.engine, as_of, settings)
    models = fit(sample_of(summary, settings.clv.fit_sample), as_of)
    if store:
        return _store(con, state, as_of, key, models, summary)
    return _keep_for_session(con, state, as_of, key, models, summary)


def stored_source_fit(
    con: duckdb.DuckDBPyConnection, state: SourceState, as_of: datetime, settings: TraitSettings
) -> ClvFit | None:
    """The stored fit at ``as_of`` for the source's current purchases, if there is one."""
    return _find(con, state, as_of, source_fingerprint(state.engine, as_of, settings))


def signature_expr(clock: Any, settings: TraitSettings, engine: Engine) -> ir.Table:
    """One row that changes when the purchases the summary is made of change: how many,
    by how many buyers, their revenue, first and last time and the sum of their times in
    seconds (exact integers and decimals, so the same data gives the same row)."""
    from segmint.traits.models import purchases_expr

    p = purchases_expr(clock, settings, engine.backend)
    return p.aggregate(
        rows=p.count(),
        buyers=p.pid.nunique(),
        revenue=p.revenue.sum(),
        first=p.us.min(),
        last=p.us.max(),
        seconds=(p.us // 1_000_000).sum(),
    )


def source_fingerprint(engine: Engine, as_of: datetime, settings: TraitSettings) -> str:
    """What a fit at ``as_of`` depends on besides as_of: the source's purchases up to
    as_of (:func:`signature_expr`, one aggregate query there) and the trait settings."""
    import hashlib

    from segmint.engine.clock import Clock

    row = engine.to_arrow(signature_expr(Clock(as_of), settings, engine)).to_pylist()[0]
    text = json.dumps([engine.name, row, repr(settings)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_source_summary(
    engine: Engine, as_of: datetime, settings: TraitSettings
) -> dict[str, np.ndarray]:
    """The summary at ``as_of``, computed in the engine and read in batches."""
    import numpy as np
    import pyarrow as pa

    from segmint.engine.clock import Clock
    from segmint.traits.models import summary_expr

    names = ("x", "t_x", "T", "mbar")
    parts = list(engine.batches(summary_expr(Clock(as_of), settings, engine.backend)))
    if not parts or not sum(part.num_rows for part in parts):
        return {"pid": np.array([], dtype=object), **{n: np.array([], np.float64) for n in names}}
    table = pa.Table.from_batches(parts)
    # pid as text (the views' customer id), the rest as float64, whatever the engine gave.
    out = {"pid": table.column("pid").cast(pa.string()).to_numpy(zero_copy_only=False)}
    for name in names:
        out[name] = table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
    return out


def prediction_parts(models: FittedModels, summary: dict[str, np.ndarray]) -> Iterator[pa.Table]:
    """The predictions of every buyer, :data:`PREDICT_ROWS` at a time (at least one part,
    empty when there are no buyers)."""
    from segmint.traits.models import predictions

    size = len(summary["pid"])
    for start in range(0, max(size, 1), PREDICT_ROWS):
        part = {name: values[start : start + PREDICT_ROWS] for name, values in summary.items()}
        yield predictions(models, part)


def _find(
    con: duckdb.DuckDBPyConnection,
    state: SourceState,
    as_of: datetime,
    key: str,
    session: bool = False,
) -> ClvFit | None:
    from segmint.store import models as stored
    from segmint.store.source_clv import attach_version, session_table
    from segmint.traits.models import ClvFit, models_from_json

    found = stored.find_fit(con, as_of, key, session)
    if found is None:
        return None
    fit_id, text = found
    models = models_from_json(as_of, json.loads(text))
    if session:
        return ClvFit(fit_id, session_table(fit_id), models)
    return ClvFit(fit_id, attach_version(state, fit_id), models, on_source=True)


def _store(
    con: duckdb.DuckDBPyConnection,
    state: SourceState,
    as_of: datetime,
    key: str,
    models: FittedModels,
    summary: dict[str, np.ndarray],
) -> ClvFit:
    """Write the predictions as a version on the source, then commit the fit locally; the
    :data:`~segmint.traits.models.KEEP_FITS` newest are kept, and the versions no stored
    fit names (older fits, an attempt killed before its commit) are dropped after."""
    from segmint.store import models as stored
    from segmint.store.source_clv import attach_version, drop_uncommitted, write_version
    from segmint.traits.models import KEEP_FITS, ClvFit, models_json

    fit_id = stored.next_fit_id(con)
    write_version(state, fit_id, prediction_parts(models, summary))
    text = json.dumps(models_json(models))
    stored.commit_fit(con, fit_id, as_of, key, text, KEEP_FITS)
    drop_uncommitted(state, stored.committed_fits(con))
    return ClvFit(fit_id, attach_version(state, fit_id), models, on_source=True)


def _keep_for_session(
    con: duckdb.DuckDBPyConnection,
    state: SourceState,
    as_of: datetime,
    key: str,
    models: FittedModels,
    summary: dict[str, np.ndarray],
) -> ClvFit:
    from segmint.store import models as stored
    from segmint.store.source_clv import keep_for_session
    from segmint.traits.models import ClvFit, models_json

    # The table first: a session fit is recorded once its predictions are there.
    fit_id = stored.session_fit_id(con)
    table = keep_for_session(state.engine, fit_id, prediction_parts(models, summary))
    stored.record_session_fit(con, fit_id, as_of, key, json.dumps(models_json(models)))
    return ClvFit(fit_id, table, models)
