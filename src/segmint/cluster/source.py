"""The parts of a cluster run that happen in a source engine (docs/clusters.md, "On a
source"): the features of everyone are one query there; the sample k-means is fitted on
is drawn there (the first N customers in a seeded md5 order of their ids); everyone's
features come back in batches, are assigned in Python, and the labels go back into the
engine (store/source_clusters.py); the rules' fidelity is counted there.

cluster/runs.py runs the steps; nothing here reads the workspace's own store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np
    import pandas as pd

    from segmint.cluster.features import Encoding, Feature
    from segmint.engine.base import Engine
    from segmint.engine.clock import Clock
    from segmint.rules.model import RuleNode
    from segmint.segments.query import Evaluator
    from segmint.store.source_state import SourceState

# Customers read, assigned and written back at a time: about 100 MB of features.
BATCH_ROWS: Final = 200_000


def engine_of(evaluator: Evaluator) -> Engine:
    assert evaluator.source is not None, "a source-mode evaluator"
    return evaluator.source


def population(evaluator: Evaluator, when: datetime) -> ir.Table:
    """Everyone at ``when`` (``pid``, ``customer_id``), compiled for the source."""
    from segmint.rules.compile import compile_rule

    tree = evaluator.prepare({"and": []})
    return compile_rule(tree, evaluator.catalog, when, engine_of(evaluator).name)


def count(evaluator: Evaluator, when: datetime) -> int:
    found = engine_of(evaluator).to_arrow(population(evaluator, when).count())
    return int(found.column(0)[0].as_py())


def has_orders(evaluator: Evaluator, when: datetime, events: list[str]) -> bool:
    """Whether anyone has a purchase event up to ``when``."""
    known = [e for e in events if e in evaluator.catalog.events]
    if not known:
        return False
    return evaluator.count({"or": [{"event": e} for e in known]}, when) > 0


def _clock(evaluator: Evaluator, when: datetime, columns: list[str]) -> Clock:
    """The query clock at ``when``; with a CLV trait among ``columns``, it names the CLV
    fit at ``when`` (found or fitted, its predictions on the source), as rules there read
    it. A model that cannot be fitted is a ModelError, as on the embedded store."""
    from segmint.engine.clock import Clock
    from segmint.traits.expressions import needs_models

    clock = Clock(when)
    if needs_models(columns):
        evaluator.prepare_traits(evaluator.prepare({"and": []}), tuple(columns), when)
        found = evaluator.fit_at(when)
        clock.clv_table, clock.clv_fit = found.table, found.fit_id
    return clock


def _features(
    evaluator: Evaluator, people: ir.Table, when: datetime, columns: list[str]
) -> ir.Table:
    """``customer_id`` and ``columns`` of ``people``, ordered by ``customer_id``. Traits
    are computed over everyone before the join, so a sample sees everyone's ranks."""
    return evaluator.with_columns(people, columns, _clock(evaluator, when, columns))


def sample(
    evaluator: Evaluator, when: datetime, columns: list[str], size: int, rows: int, seed: int
) -> pd.DataFrame:
    """The features of ``size`` customers of the ``rows`` there are, ordered by
    ``customer_id``: everyone when ``size`` is ``rows``, else the first ``size`` in the
    md5 order of ``seed`` and their id (the same sample on every engine)."""
    from segmint.engine.hashing import seeded_order

    people = population(evaluator, when)
    if size < rows:
        people = people.order_by(seeded_order(people.customer_id, seed)).limit(size)
    table = engine_of(evaluator).to_arrow(_features(evaluator, people, when, columns))
    return cast("pd.DataFrame", table.to_pandas())


def batches(evaluator: Evaluator, when: datetime, columns: list[str]) -> Iterator[pd.DataFrame]:
    """The features of everyone, :data:`BATCH_ROWS` customers at a time."""
    import pyarrow as pa

    query = _features(evaluator, population(evaluator, when), when, columns)
    for batch in engine_of(evaluator).batches(query, rows=BATCH_ROWS):
        yield pa.Table.from_batches([batch]).to_pandas()


def assign(
    evaluator: Evaluator,
    when: datetime,
    columns: list[str],
    chosen: list[Feature],
    medians: dict[str, float],
    encoding: Encoding,
    model: Any,
    k: int,
) -> tuple[np.ndarray, dict[str, int]]:
    """Assign everyone to the nearest centre of ``model``, batch by batch, staging each
    batch's labels in the engine: the size of each label, and the values filled per
    feature (as :func:`segmint.cluster.features.fill` counts them)."""
    import numpy as np
    import pyarrow as pa

    from segmint.cluster import model as km
    from segmint.cluster.features import fill
    from segmint.store.source_clusters import stage

    engine = engine_of(evaluator)
    sizes = np.zeros(k, dtype="int64")
    filled: dict[str, int] = {}
    first = True
    for frame in batches(evaluator, when, columns):
        for name, n in fill(frame, chosen, medians).items():
            filled[name] = filled.get(name, 0) + n
        labels = km.assign(model, encoding.transform(frame))
        sizes += np.bincount(labels, minlength=k)
        staged = pa.table(
            {
                "pid": pa.array(frame["customer_id"], pa.string()),
                "cluster": pa.array(labels, pa.int32()),
            }
        )
        stage(engine, staged, first)
        first = False
    return sizes, filled


def rule_hits(
    evaluator: Evaluator, rules: list[RuleNode], when: datetime, columns: list[str]
) -> Any:
    """Per staged label: its customers (``n``) and how many each rule selects (``h0``,
    ...), the rules compiled into one query for the source (store/source_clusters.py);
    ``columns`` are the features, whose CLV fit the rules read."""
    from segmint.engine.dialects import BACKENDS
    from segmint.rules.compile import Compiler, inline_segments
    from segmint.store.source_clusters import hits_by_label

    engine = engine_of(evaluator)
    trees = [inline_segments(evaluator.prepare(rule), evaluator.catalog) for rule in rules]
    clock = _clock(evaluator, when, columns)
    flags = Compiler(evaluator.catalog, clock, BACKENDS[engine.name]).many(trees)
    return hits_by_label(engine, flags, len(rules))


def write(state: SourceState, run_id: int, mapping: list[int]) -> None:
    """Write the staged labels as the run's version of ``cluster_members`` (by size)."""
    from segmint.store.source_clusters import unstage, write_members

    try:
        write_members(state, run_id, mapping)
    finally:
        unstage(state.engine)
