"""A cluster run's assignments on a source (cluster/source.py): staged in a temporary
table of the engine's session batch by batch, written as version ``run_id`` of
``cluster_members`` (store/source_state.py), and read back from there.

The staged labels are k-means' own numbers; the version holds the numbers by size
(cluster 0 the largest), which are only known once everyone is assigned, so the write
maps one to the other. A version is read only for a run the workspace's own store names
(cluster/runs.py checks that first), so one written by a process killed before the run
was committed there is never read, and the next run, which gets the same id, replaces it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from segmint.engine.base import Engine
    from segmint.store.source_state import SourceState

STAGING = "segmint_cluster_staging"
TABLE = "cluster_members"


def stage(engine: Engine, batch: pa.Table, first: bool) -> None:
    """Add ``batch`` (``pid`` string, ``cluster`` int32) to the staged labels; ``first``
    starts them afresh."""
    if first:
        engine.create_table(STAGING, batch, temporary=True, replace=True)
    else:
        engine.insert(STAGING, batch)


def unstage(engine: Engine) -> None:
    engine.drop_table(STAGING, temporary=True)


def write_members(state: SourceState, run_id: int, mapping: list[int]) -> None:
    """Write the staged labels as version ``run_id`` of ``cluster_members``, label ``i``
    becoming cluster ``mapping[i]``."""
    cases = " ".join(f"WHEN {int(old)} THEN {int(new)}" for old, new in enumerate(mapping))
    state.write(TABLE, run_id, f"SELECT pid, CASE cluster {cases} END AS cluster FROM {STAGING}")


def drop_members(state: SourceState, run_id: int) -> None:
    """Remove version ``run_id`` (a run that failed before it was committed)."""
    state.drop(TABLE, [run_id])


def hits_by_label(engine: Engine, flags: ir.Table, rules: int) -> pa.Table:
    """For each staged label (null for a customer the rules saw and nobody staged): how
    many customers have it (``n``) and how many of them each rule selects (``h0``,
    ``h1``, ...), from ``flags`` (``pid``, ``s0``, ``s1``, ...; a compiled query)."""
    import ibis

    staged = ibis.table({"pid": "string", "cluster": "int32"}, name=STAGING)
    # The compiler types ``pid`` as the embedded store's integer; a source's is its text id.
    joined = flags.left_join(staged, flags.pid.cast("string") == staged.pid)
    counts = {f"h{i}": joined[f"s{i}"].ifelse(1, 0).sum() for i in range(rules)}
    query = joined.group_by(label=joined.cluster).aggregate(n=joined.count(), **counts)
    return engine.to_arrow(query)


def member_ids(state: SourceState, run_id: int, cluster: int) -> list[str]:
    """The ids in cluster ``cluster`` of version ``run_id``, sorted."""
    rows = state.rows(TABLE, [run_id])
    found = state.engine.to_arrow(f"SELECT r.pid FROM {rows} r WHERE r.cluster = {int(cluster)}")
    # Sorted here: the engine's collation may order text otherwise than the embedded store.
    return sorted(str(v) for v in found.column(0).to_pylist())
