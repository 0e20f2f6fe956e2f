"""The kept measures of incremental refresh (rules/increments.py; store/schema.py,
``MEASURES_DDL``): per event condition ("leaf") a table ``segment_measures_<key>`` of the
measures its test reads, one row per customer; each leaf's base (the as_of and last load
its measures stand at); and each segment's basis and mode per refresh.

A refresh stages each leaf's new measures before its transaction (``_leaf_<key>``: the
leaf computed afresh, or what changed since its base), then, inside it, :func:`apply`
replaces or adds them, so the measures move with the membership or not at all.
:func:`mark_changed` then writes ``_touched``: the customers an incremental refresh
re-evaluates. Leaf keys are hex digests, checked before they name a table; every value
is a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from segmint.engine.base import Params
    from segmint.engine.duckdb import DuckDBEngine

_KEY = re.compile(r"[0-9a-f]{20}")
_COLUMNS = "pid, n, n2, s, r, lo, hi, first_ts, last_ts"
_TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS {table} (pid BIGINT NOT NULL, n BIGINT NOT NULL, "
    "n2 BIGINT NOT NULL, s DOUBLE, r DECIMAL(38, 4), lo DOUBLE, hi DOUBLE, "
    "first_ts TIMESTAMPTZ, last_ts TIMESTAMPTZ)"
)


def _key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a leaf key: {key!r}")
    return key


def _table(key: str) -> str:
    return f"segment_measures_{_key(key)}"


def _stage(key: str) -> str:
    return f"_leaf_{_key(key)}"


@dataclass(frozen=True)
class SegmentBase:
    """What a segment's stored membership was last computed from by a refresh."""

    refresh_id: int
    basis: str
    as_of: datetime
    load_id: int


def load_mark(con: duckdb.DuckDBPyConnection) -> int:
    """The id of the last load (0 before any)."""
    row = con.execute("SELECT coalesce(max(load_id), 0) FROM loads").fetchone()
    return int(row[0]) if row else 0


def leaf_bases(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[datetime, int]]:
    """Per leaf with kept measures: the as_of and last load they stand at."""
    rows = con.execute("SELECT leaf, as_of, load_id FROM segment_measure_bases").fetchall()
    return {leaf: (as_of, int(load)) for leaf, as_of, load in rows}


def segment_bases(con: duckdb.DuckDBPyConnection) -> dict[str, SegmentBase]:
    """Per segment, its basis at its latest refresh (not a live update) that computed its
    membership, if that refresh's run of it is still stored."""
    rows = con.execute(
        "SELECT b.name, arg_max({'r': b.refresh_id, 'b': b.basis, 'a': b.as_of, "
        "'l': b.load_id}, b.refresh_id) FROM segment_bases b JOIN segment_runs r "
        "ON r.refresh_id = b.refresh_id AND r.name = b.name AND r.status = 'ok' GROUP BY b.name"
    ).fetchall()
    return {name: SegmentBase(int(v["r"]), str(v["b"]), v["a"], int(v["l"])) for name, v in rows}


def orders_rewritten(con: duckdb.DuckDBPyConnection, load_id: int) -> bool:
    """Whether a load after ``load_id`` changed orders stored before it (a refund or a
    status change rewrites stored purchase events, which the added rows do not show)."""
    row = con.execute(
        "SELECT 1 FROM orders WHERE load_id > ? AND first_load_id <= ? LIMIT 1",
        [load_id, load_id],
    ).fetchone()
    return row is not None


def merges_since(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple[int, int]]:
    """The profile merges (merged, into) of the loads after ``load_id``, in order."""
    rows = con.execute(
        "SELECT merged_pid, into_pid FROM identity_merges WHERE load_id > ? "
        "ORDER BY load_id, merged_at",
        [load_id],
    ).fetchall()
    return [(int(a), int(b)) for a, b in rows]


def stage(engine: DuckDBEngine, key: str, sql: str, params: Params) -> None:
    """Stage the change of a leaf's measures (``sql`` from rules/increments.py)."""
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {_stage(key)} AS {sql}", params)


def stage_group(engine: DuckDBEngine, group: int, sql: str, params: Params) -> None:
    """Stage the measures of a group of leaves on one event, computed afresh in one scan
    (one column per leaf and measure)."""
    engine.execute(f"CREATE OR REPLACE TEMP TABLE _leafgroup_{int(group)} AS {sql}", params)


@dataclass(frozen=True)
class Rebuilt:
    """A leaf computed afresh: its group's staging table and its columns there, by
    measure (None where the leaf keeps no such measure)."""

    key: str
    group: int
    columns: dict[str, str | None]


_GROUP_COLUMN = re.compile(r"[a-z0-9_]+")
_ZERO = {"n", "n2"}


def apply(
    con: duckdb.DuckDBPyConnection,
    rebuilt: list[Rebuilt],
    updated: list[str],
    merges: list[tuple[int, int]],
    as_of: datetime,
    load_id: int,
    refresh_id: int,
) -> None:
    """Inside the refresh's transaction: replace the measures of the ``rebuilt`` leaves by
    their staged ones; move the ``updated`` leaves' measures of merged profiles to the
    profile they merged into and add the staged changes to them; note every leaf's new
    base."""
    for leaf in rebuilt:
        table = _table(leaf.key)
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(_TABLE_DDL.format(table=table))
        picked = []
        for measure, column in leaf.columns.items():
            if column is None:
                picked.append("0" if measure in _ZERO else "NULL")
            elif _GROUP_COLUMN.fullmatch(column):
                picked.append(column)
            else:
                raise ValueError(f"not a measure column: {column!r}")
        n, n2 = picked[0], picked[1]
        con.execute(
            f"INSERT INTO {table} SELECT pid, {', '.join(picked)} "
            f"FROM _leafgroup_{int(leaf.group)} WHERE {n} <> 0 OR {n2} <> 0"
        )
    final = _final_pids(merges)
    if updated and final:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _leaf_final AS "
            "SELECT unnest(?) AS pid, unnest(?) AS into_pid",
            [list(final), list(final.values())],
        )
    for key in updated:
        table, stage = _table(key), _stage(key)
        if final:
            _move_merged(con, table)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _leaf_merged AS SELECT d.pid, "
            "coalesce(m.n, 0) + d.n AS n, coalesce(m.n2, 0) + d.n2 AS n2, "
            "CASE WHEN m.s IS NULL AND d.s IS NULL THEN NULL "
            "ELSE coalesce(m.s, 0) + coalesce(d.s, 0) END AS s, "
            "CASE WHEN m.r IS NULL AND d.r IS NULL THEN NULL "
            "ELSE coalesce(m.r, 0) + coalesce(d.r, 0) END AS r, "
            "least(m.lo, d.lo) AS lo, greatest(m.hi, d.hi) AS hi, "
            "least(m.first_ts, d.first_ts) AS first_ts, "
            f"greatest(m.last_ts, d.last_ts) AS last_ts FROM {stage} d "
            f"LEFT JOIN {table} m USING (pid)"
        )
        con.execute(f"DELETE FROM {table} WHERE pid IN (SELECT pid FROM {stage})")
        con.execute(
            f"INSERT INTO {table} SELECT {_COLUMNS} FROM _leaf_merged WHERE n <> 0 OR n2 <> 0"
        )
    leaves = [*(leaf.key for leaf in rebuilt), *updated]
    con.execute("DELETE FROM segment_measure_bases WHERE leaf IN (SELECT unnest(?))", [leaves])
    con.execute(
        "INSERT INTO segment_measure_bases SELECT unnest(?), ?, ?, ?",
        [leaves, as_of, load_id, refresh_id],
    )


def _final_pids(merges: list[tuple[int, int]]) -> dict[int, int]:
    """Each merged profile and the profile it ended up in (merges chain in load order)."""
    final: dict[int, int] = dict(merges)
    for merged in list(final):
        seen = {merged}
        target = final[merged]
        while target in final and target not in seen:
            seen.add(target)
            target = final[target]
        final[merged] = target
    return final


def _move_merged(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Merged profiles' measures belong to the profile they merged into (their events
    moved there): counts and sums add, minima and maxima combine."""
    involved = "(SELECT pid FROM _leaf_final UNION SELECT into_pid FROM _leaf_final)"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _leaf_moved AS SELECT coalesce(f.into_pid, m.pid) "
        "AS pid, sum(m.n) AS n, sum(m.n2) AS n2, sum(m.s) AS s, sum(m.r) AS r, min(m.lo) AS lo, "
        "max(m.hi) AS hi, min(m.first_ts) AS first_ts, max(m.last_ts) AS last_ts "
        f"FROM {table} m LEFT JOIN _leaf_final f ON m.pid = f.pid "
        f"WHERE m.pid IN {involved} GROUP BY ALL"
    )
    con.execute(f"DELETE FROM {table} WHERE pid IN {involved}")
    con.execute(f"INSERT INTO {table} SELECT {_COLUMNS} FROM _leaf_moved")


def drop_unused(con: duckdb.DuckDBPyConnection, used: set[str]) -> int:
    """Drop the kept measures of leaves no longer in ``used`` (a refresh of every active
    segment knows them all); how many."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
            "AND starts_with(table_name, 'segment_measures_')"
        ).fetchall()
    ]
    gone = [n for n in names if n.removeprefix("segment_measures_") not in used]
    for name in gone:
        con.execute(f"DROP TABLE {_table(name.removeprefix('segment_measures_'))}")
    if gone:
        con.execute(
            "DELETE FROM segment_measure_bases WHERE leaf IN (SELECT unnest(?))",
            [[n.removeprefix("segment_measures_") for n in gone]],
        )
    return len(gone)


def mark_changed(
    con: duckdb.DuckDBPyConnection,
    updated: list[str],
    since_load: int,
    before: datetime,
    as_of: datetime,
    flips: list[tuple[str, str, datetime, datetime]],
) -> int:
    """``_touched``: the customers an incremental refresh from (``before``, load
    ``since_load``) to ``as_of`` re-evaluates. Those whose measures moved (the staged
    changes of the ``updated`` leaves), with rows or profile changes in a later load, in
    a merge since, created or first seen in between, or whose first or last time lies in
    one of the ``flips`` ranges (leaf, column, low, high). How many."""
    parts = [f"SELECT pid FROM {_stage(key)}" for key in updated]
    parts += [
        "SELECT pid FROM events WHERE load_id > $load",
        "SELECT pid FROM profiles WHERE updated_at >= "
        "(SELECT min(started_at) FROM loads WHERE load_id > $load)",
        "SELECT merged_pid FROM identity_merges WHERE load_id > $load",
        "SELECT into_pid FROM identity_merges WHERE load_id > $load",
        "SELECT pid FROM profiles WHERE created_at BETWEEN $before AND $as_of "
        "OR first_event_at BETWEEN $before AND $as_of",
    ]
    params: dict[str, object] = {"load": since_load, "before": before, "as_of": as_of}
    for i, (leaf, column, low, high) in enumerate(flips):
        if column not in ("first_ts", "last_ts"):
            raise ValueError(f"not a measure time column: {column!r}")
        parts.append(f"SELECT pid FROM {_table(leaf)} WHERE {column} BETWEEN $low{i} AND $high{i}")
        params |= {f"low{i}": low, f"high{i}": high}
    con.execute("CREATE OR REPLACE TEMP TABLE _touched AS " + " UNION ".join(parts), params)
    row = con.execute("SELECT count(*) FROM _touched").fetchone()
    return int(row[0]) if row else 0


def record_bases(
    con: duckdb.DuckDBPyConnection,
    refresh_id: int,
    rows: list[tuple[str, str, str]],
    as_of: datetime,
    load_id: int,
) -> None:
    """Note each segment's basis and mode (``rows``: name, basis, mode) in a refresh."""
    if rows:
        con.executemany(
            "INSERT INTO segment_bases VALUES (?, ?, ?, ?, ?, ?)",
            [[refresh_id, name, b, as_of, load_id, mode] for name, b, mode in rows],
        )
