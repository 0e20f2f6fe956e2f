"""The CLV predictions of a source-mode workspace, kept on the source (docs/sources.md).

The predictions are computed in Python (traits/source_clv.py) and written into the engine
as Arrow: first into a temporary table of the session, then, for a stored fit, as version
``fit_id`` of the source state's ``clv_predictions`` (store/source_state.py). A stored fit
is read only once the workspace's own ``clv_fits`` names it (store/models.py,
``commit_fit``); a rule reads it through a temporary view of that one version. A fit
kept for the session only stays in its temporary table.

The names here are this module's own, with integer fit ids in them; the one query written
into a version reads the temporary table of the predictions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from segmint.engine.base import Engine
    from segmint.store.source_state import SourceState

TABLE = "clv_predictions"
_LOADING = "segmint_clv_arrow"
_COLUMNS = "fit_id, pid, p_alive, predicted_orders_365d, predicted_clv_365d"


def _with_fit_id(scores: pa.Table, fit_id: int) -> pa.Table:
    import pyarrow as pa

    return scores.add_column(0, "fit_id", pa.array([fit_id] * scores.num_rows, pa.int64()))


def _load(engine: Engine, name: str, parts: Iterable[pa.Table], fit_id: int) -> None:
    """Temporary table ``name`` of the prediction ``parts`` (Arrow tables), with their fit
    id as ``fit_id``. On Spark a temporary table is a view that an insert rebuilds, so the
    parts are joined in Arrow first; elsewhere each is appended as it comes."""
    import pyarrow as pa

    if engine.name == "spark":
        parts = [pa.concat_tables(list(parts))]
    first = True
    for part in parts:
        rows = _with_fit_id(part, fit_id)
        if first:
            engine.create_table(name, rows, temporary=True)
            first = False
        else:
            engine.insert(name, rows)
    if first:
        raise ValueError("no predictions to load: expected at least one (maybe empty) part")


def write_version(state: SourceState, fit_id: int, parts: Iterable[pa.Table]) -> None:
    """Write the predictions ``parts`` as version ``fit_id`` of ``clv_predictions`` on the
    source (replacing what an uncommitted attempt at the same id left there)."""
    _load(state.engine, _LOADING, parts, fit_id)
    try:
        state.write(TABLE, fit_id, f"SELECT {_COLUMNS} FROM {_LOADING}")
    finally:
        state.engine.drop_table(_LOADING, temporary=True)


def view_of(fit_id: int) -> str:
    """The temporary view a rule reads stored fit ``fit_id`` from."""
    return f"segmint_clv_v{int(fit_id)}"


def attach_version(state: SourceState, fit_id: int) -> str:
    """Make the view of stored fit ``fit_id`` (one committed version) and return its name."""
    view = view_of(fit_id)
    state.attach(TABLE, [fit_id], view)
    return view


def printed_table(state: SourceState, dialect: str) -> str | None:
    """The stored predictions as SQL printed for ``dialect`` names them outside segmint's
    session (``schema.clv_predictions`` on PostgreSQL, with every fit's rows, which the
    SQL filters by ``fit_id``); None where they have no table name (Spark's Parquet)."""
    if state.engine.name != "postgres" or dialect != "postgres":
        return None
    return f"{state.schema}.{TABLE}"


def session_table(fit_id: int) -> str:
    """The temporary table of session fit ``fit_id`` (a negative id)."""
    return f"segmint_clv_session_{-int(fit_id)}"


def keep_for_session(engine: Engine, fit_id: int, parts: Iterable[pa.Table]) -> str:
    """Keep a session fit's predictions in a temporary table of the engine's session;
    its name."""
    name = session_table(fit_id)
    _load(engine, name, parts, fit_id)
    return name


def drop_uncommitted(state: SourceState, committed: Collection[int]) -> None:
    """Remove the versions no stored fit names: pruned fits, and what a fit killed before
    its commit left."""
    state.drop(TABLE, state.versions(TABLE) - set(committed))
