"""Each customer's first and last event on a source, kept there as segmint's ``activity``
table (store/source_state.py), so that a rule does not aggregate every event again.

Every rule reads ``first_event_at`` (who exists at as_of), and without this table the
``profiles`` view aggregates the whole events table in each query (docs/sources.md,
"Cost"). A **build** writes a new version of the table, one aggregate of all the events,
and takes its **watermark**, the latest event time the version includes. The
workspace's DuckDB file then records the version and the watermark (the ``meta`` row
``source_activity``) in one local transaction: that commit is what makes the version
read. Older versions are dropped after it; a build killed before the commit leaves the
old version in use, and the next build writes the same number again.

The ``profiles`` view reads the committed version together with the events later than
its watermark (store/source.py), so rules stay exact as events arrive. An event whose
time is at or before the watermark but which reaches the source after the build (a late
event) is not seen in the first and last times until the next build.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from segmint.store.catalog import attribute_columns
from segmint.store.source import ActivityRows, activity_query, attach, instant
from segmint.store.txn import transaction

if TYPE_CHECKING:
    import duckdb

    from segmint.config import SourceConfig
    from segmint.store.source_state import SourceState

ACTIVITY_KEY = "source_activity"
_TABLE = "activity"


@dataclass(frozen=True)
class Activity:
    """A version of the activity table and its watermark (None: it holds no events)."""

    version: int
    watermark: datetime | None


def committed_activity(con: duckdb.DuckDBPyConnection) -> Activity | None:
    """The activity version the workspace's store names, if one was ever built."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", [ACTIVITY_KEY]).fetchone()
    if row is None:
        return None
    value = json.loads(row[0])
    mark = value["watermark"]
    return Activity(int(value["version"]), None if mark is None else datetime.fromisoformat(mark))


def _record(con: duckdb.DuckDBPyConnection, built: Activity) -> None:
    mark = None if built.watermark is None else built.watermark.isoformat()
    con.execute("DELETE FROM meta WHERE key = ?", [ACTIVITY_KEY])
    con.execute(
        "INSERT INTO meta VALUES (?, ?)",
        [ACTIVITY_KEY, json.dumps({"version": built.version, "watermark": mark})],
    )


def _write(state: SourceState, source: SourceConfig, version: int) -> Activity:
    """Write ``version`` on the engine: every customer's first and last event. The
    watermark is read back from the version itself, so it is exactly the latest event
    the aggregate saw (events arriving during the build are later, or late)."""
    state.write(_TABLE, version, activity_query(source))
    if state.engine.name == "postgres":
        # Fresh rows: the planner's estimates for the join with the customers need them.
        state.engine.run(f'ANALYZE "{state.schema}"."{_TABLE}"')
    latest = state.engine.scalar(
        f"SELECT max(last_event_at) FROM {state.rows(_TABLE, [version])} r"
    )
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)  # Spark returns the session's (UTC) wall time
    return Activity(version, latest)


def activity_rows(state: SourceState, built: Activity | None) -> ActivityRows | None:
    """How the ``profiles`` view reads ``built`` (None, the aggregate of all events, when
    nothing is built or the version is gone from the engine)."""
    if built is None:
        return None
    if state.engine.name == "spark" and built.version not in state.versions(_TABLE):
        return None
    rows = state.rows(_TABLE, [built.version])
    if built.watermark is None:
        return ActivityRows(rows, None)
    # A version with events holds rows; none means its table was dropped behind our back.
    if not state.engine.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {rows} r LIMIT 1) x"):
        return None
    return ActivityRows(rows, instant(state.engine.name, built.watermark))


def attach_activity(
    con: duckdb.DuckDBPyConnection, state: SourceState, source: SourceConfig
) -> None:
    """Make the session's views read the committed activity version, with the customers
    columns the catalog knows."""
    columns = [column for column, _ in attribute_columns(con).values()]
    attach(state.engine, source, columns, activity_rows(state, committed_activity(con)))


@contextlib.contextmanager
def activity_build(
    con: duckdb.DuckDBPyConnection,
    state: SourceState,
    source: SourceConfig,
    what: str = "activity",
    doing: str = "the activity build",
) -> Iterator[Activity]:
    """Build a new activity version: write it on the engine, then run the body in the
    local transaction ``what`` that also records it (a caller commits its own writes with
    the build: the catalog refresh does), then drop the older versions. Re-attach the
    views afterwards (:func:`attach_activity`) for this session to read it."""
    before = committed_activity(con)
    built = _write(state, source, (before.version if before else 0) + 1)
    with transaction(con, what, doing):
        yield built
        _record(con, built)
    state.drop(_TABLE, state.versions(_TABLE) - {built.version})


def ensure_activity(
    con: duckdb.DuckDBPyConnection, state: SourceState, source: SourceConfig
) -> Activity:
    """Build a new activity version, commit it on its own and make the session's views
    read it: what a refresh of segments on a source runs first, outside its own
    transaction, so that its queries read a fresh table."""
    with activity_build(con, state, source) as built:
        pass
    attach_activity(con, state, source)
    return built
