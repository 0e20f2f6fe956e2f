"""The webhook outbox (store/schema.py, ``ACTIVATION_DDL``): the messages a refresh writes
for each endpoint in its own transaction, what the deliverer reads and records, and the
endpoints a 410 disabled.

Everything here is parameterized SQL (values as ``?``, lists as list parameters), because
the body of a message is built by DuckDB's JSON functions in one INSERT ... SELECT (a
Python loop per change would be the slow part of a large refresh), the results of a
delivery are written back in one UPDATE ... FROM over list parameters, and the trait
values of a message come from a query the segments layer compiled (``Evaluator``'s
``with_columns``) run into the temporary table ``_wh_traits``. The only names written
into a statement are the traits of an endpoint, which the refresh checked against the
catalog; they are quoted as identifiers and string literals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from segmint.engine.sqltext import quote_ident, quote_str

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from segmint.engine.base import Params
    from segmint.engine.duckdb import DuckDBEngine

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
# The table the trait values of a refresh's changes are computed into, and the pids they
# are computed for (the unbound table the segments layer compiles against).
TRAITS_TABLE = "_wh_traits"
PIDS_TABLE = "_wh_pids"
# A source-mode refresh's changes, copied from the source into the workspace's session.
STAGED_TABLE = "_wh_changes"


@dataclass(frozen=True)
class OutboxEndpoint:
    """What one endpoint receives of a refresh (config.WebhookConfig, its name resolved)."""

    endpoint: str
    segments: tuple[str, ...]  # "*": every segment
    changes: tuple[str, ...]
    batch_size: int
    traits: tuple[str, ...] = ()


@dataclass(frozen=True)
class DueMessage:
    msg_id: str
    endpoint: str
    body: str
    changes: int
    attempts: int
    first_attempt_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    """The outcome of one delivery attempt, as it is recorded: ``status`` is the message's
    new status (pending again when it will be retried at ``next_at``)."""

    msg_id: str
    status: str
    attempts: int
    first_attempt_at: datetime
    next_at: datetime
    retry_after: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class EndpointCounts:
    endpoint: str
    pending: int
    pending_changes: int
    due: int
    delivered: int
    failed: int
    last_delivered_at: datetime | None
    last_error: str | None


def compute_traits(engine: DuckDBEngine, refresh_id: int, sql: str, params: Params) -> None:
    """Run the traits query ``sql`` (``customer_id`` and one column per trait, over the
    pids of :data:`PIDS_TABLE`) for everyone who entered or exited in ``refresh_id``."""
    engine.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PIDS_TABLE} AS "
        "SELECT DISTINCT pid FROM segment_changes WHERE refresh_id = ?",
        [refresh_id],
    )
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {TRAITS_TABLE} AS {sql}", params)


def enqueue(
    con: duckdb.DuckDBPyConnection,
    refresh_id: int,
    as_of: datetime,
    as_of_text: str,
    endpoints: Sequence[OutboxEndpoint],
    now: datetime,
    staged: bool = False,
) -> int:
    """Write the messages of refresh ``refresh_id`` for each endpoint: its wanted changes
    of its wanted segments, ``batch_size`` to a message, each body one JSON document
    (docs/activation.md, "Webhooks"). Runs inside the refresh's transaction, after its
    changes are stored; traits are read from :data:`TRAITS_TABLE` (compute_traits). With
    ``staged`` the changes are those :func:`stage_changes` copied from a source.
    Returns how many messages were written."""
    written = 0
    for e in endpoints:
        inserted = con.execute(
            _enqueue_sql(e.traits, staged),
            [
                refresh_id,
                list(e.changes),
                "*" in e.segments,
                list(e.segments),
                e.batch_size,
                e.endpoint,
                str(refresh_id),
                e.endpoint,
                refresh_id,
                as_of,
                as_of_text,
                now,
                now,
            ],
        ).fetchone()
        written += int(inserted[0]) if inserted else 0
    return written


def stage_changes(con: duckdb.DuckDBPyConnection, changes: pa.Table) -> None:
    """Copy a source-mode refresh's entries and exits (``name``, ``customer_id``,
    ``change``, ``refresh_id``, read from the source) into :data:`STAGED_TABLE`."""
    con.register("_wh_source_changes", changes)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS SELECT name, "
            "customer_id::VARCHAR AS customer_id, change, refresh_id::INTEGER AS refresh_id "
            "FROM _wh_source_changes"
        )
    finally:
        con.unregister("_wh_source_changes")


def _enqueue_sql(traits: tuple[str, ...], staged: bool) -> str:
    trait_columns = "".join(f", t.{quote_ident(name)}" for name in traits)
    trait_join = f" LEFT JOIN {TRAITS_TABLE} t ON t.customer_id = p.customer_id" if traits else ""
    trait_pairs = "".join(f", {quote_str(name)}, {quote_ident(name)}" for name in traits)
    changes = (
        f"{STAGED_TABLE} c" if staged else "segment_changes c JOIN profiles p ON p.pid = c.pid"
    )
    customer = "c.customer_id" if staged else "p.customer_id"
    return (
        "INSERT INTO webhook_messages (msg_id, endpoint, segment, refresh_id, batch, as_of, "
        "changes, body, created_at, status, attempts, next_at) "
        f"WITH picked AS (SELECT c.name AS segment, c.change, {customer}{trait_columns} "
        f"FROM {changes}{trait_join} "
        "WHERE c.refresh_id = ? AND list_contains(?, c.change) "
        "AND (? OR list_contains(?, c.name))), "
        "numbered AS (SELECT *, row_number() OVER (PARTITION BY segment "
        "ORDER BY change, customer_id) AS rn FROM picked), "
        "batched AS (SELECT *, (rn - 1) // ? AS batch FROM numbered) "
        "SELECT 'msg_' || left(sha256(concat_ws(chr(31), ?, ?, segment, batch::VARCHAR)), 32), "
        "?, segment, ?, batch, ?, count(*), "
        "json_object('type', 'segment.membership', 'segment', segment, 'as_of', ?, "
        "'changes', to_json(list(json_object('customer_id', customer_id, "
        f"'change', change{trait_pairs}) ORDER BY rn)))::VARCHAR, "
        f"?, '{PENDING}', 0, ? FROM batched GROUP BY segment, batch"
    )


def due_ids(
    con: duckdb.DuckDBPyConnection, endpoints: Sequence[str], now: datetime, ignore_backoff: bool
) -> list[tuple[str, str]]:
    """The pending messages (id, endpoint) of the configured ``endpoints`` due at ``now``, in
    the order they were written; a disabled endpoint's wait. ``ignore_backoff`` takes
    every pending message whose Retry-After has passed, due or not."""
    rows = con.execute(
        "SELECT msg_id, endpoint FROM webhook_messages "
        f"WHERE status = '{PENDING}' AND list_contains(?, endpoint) "
        "AND endpoint NOT IN (SELECT endpoint FROM webhook_endpoints WHERE disabled_at "
        "IS NOT NULL) AND (? OR next_at <= ?) AND (retry_after IS NULL OR retry_after <= ?) "
        "ORDER BY refresh_id, endpoint, segment, batch",
        [list(endpoints), ignore_backoff, now, now],
    ).fetchall()
    return [(msg_id, endpoint) for msg_id, endpoint in rows]


def messages(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> list[DueMessage]:
    """The messages ``ids`` with their bodies, in the order of ``ids``."""
    rows = con.execute(
        "SELECT msg_id, endpoint, body, changes, attempts, first_attempt_at "
        "FROM webhook_messages "
        "WHERE msg_id IN (SELECT unnest(?::VARCHAR[]))",
        [list(ids)],
    ).fetchall()
    found = {row[0]: DueMessage(*row) for row in rows}
    return [found[i] for i in ids if i in found]


def record(con: duckdb.DuckDBPyConnection, attempts: Sequence[Attempt]) -> None:
    """Record the outcomes of delivery attempts (one statement for all of them)."""
    if not attempts:
        return
    columns = [
        [a.msg_id for a in attempts],
        [a.status for a in attempts],
        [a.attempts for a in attempts],
        [a.first_attempt_at for a in attempts],
        [a.next_at for a in attempts],
        [a.retry_after for a in attempts],
        [a.last_status for a in attempts],
        [a.last_error for a in attempts],
        [a.delivered_at for a in attempts],
    ]
    con.execute(
        "UPDATE webhook_messages m SET status = r.status, attempts = r.attempts, "
        "first_attempt_at = r.first_attempt_at, next_at = r.next_at, "
        "retry_after = r.retry_after, last_status = r.last_status, "
        "last_error = r.last_error, delivered_at = r.delivered_at FROM (SELECT "
        "unnest(?::VARCHAR[]) AS msg_id, unnest(?::VARCHAR[]) AS status, "
        "unnest(?::INTEGER[]) AS attempts, unnest(?::TIMESTAMPTZ[]) AS first_attempt_at, "
        "unnest(?::TIMESTAMPTZ[]) AS next_at, unnest(?::TIMESTAMPTZ[]) AS retry_after, "
        "unnest(?::INTEGER[]) AS last_status, unnest(?::VARCHAR[]) AS last_error, "
        "unnest(?::TIMESTAMPTZ[]) AS delivered_at) r WHERE m.msg_id = r.msg_id",
        columns,
    )


def disable(con: duckdb.DuckDBPyConnection, endpoint: str, when: datetime, reason: str) -> None:
    """Mark ``endpoint`` disabled (its messages wait until it is enabled again)."""
    con.execute("DELETE FROM webhook_endpoints WHERE endpoint = ?", [endpoint])
    con.execute("INSERT INTO webhook_endpoints VALUES (?, ?, ?)", [endpoint, when, reason])


def enable(con: duckdb.DuckDBPyConnection, endpoint: str) -> bool:
    """Enable ``endpoint`` again; whether it was disabled."""
    was = disabled(con).get(endpoint) is not None
    con.execute("DELETE FROM webhook_endpoints WHERE endpoint = ?", [endpoint])
    return was


def disabled(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[datetime, str]]:
    """The disabled endpoints: when and why."""
    rows = con.execute(
        "SELECT endpoint, disabled_at, reason FROM webhook_endpoints WHERE disabled_at IS NOT NULL"
    ).fetchall()
    return {endpoint: (when, reason or "") for endpoint, when, reason in rows}


def counts(con: duckdb.DuckDBPyConnection, now: datetime) -> list[EndpointCounts]:
    """Messages per endpoint and status, the last delivery and the latest error."""
    rows = con.execute(
        f"SELECT endpoint, count(*) FILTER (WHERE status = '{PENDING}'), "
        f"coalesce(sum(changes) FILTER (WHERE status = '{PENDING}'), 0), "
        f"count(*) FILTER (WHERE status = '{PENDING}' AND next_at <= ?), "
        f"count(*) FILTER (WHERE status = '{DELIVERED}'), "
        f"count(*) FILTER (WHERE status = '{FAILED}'), max(delivered_at), "
        f"arg_max(last_error, next_at) FILTER (WHERE status <> '{DELIVERED}') "
        "FROM webhook_messages GROUP BY endpoint ORDER BY endpoint",
        [now],
    ).fetchall()
    return [
        EndpointCounts(e, int(p), int(pc), int(d), int(ok), int(f), last, error)
        for e, p, pc, d, ok, f, last, error in rows
    ]
