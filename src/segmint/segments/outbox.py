"""The webhook outbox of a refresh: which endpoints get which changes, and the query of
the traits they carry.

A refresh that stores entries and exits writes, in the same transaction, one message per
endpoint, segment and ``batch_size`` changes (store/webhooks.py), so the membership and
what is owed to the endpoints commit together and a crash loses neither. The traits an
endpoint asks for are checked against the catalog before the refresh's transaction and
compiled with the expression members lists use (``Evaluator.with_columns``), their
instants relative to the refresh's as_of. On a source-mode workspace the refresh's changes
are on the source (store/source_segments.py): they are read back into the local
transaction, and traits are not sent yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from segmint.errors import BackendError, ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from segmint.engine.base import Params
    from segmint.segments.context import SegmentContext
    from segmint.segments.query import Evaluator
    from segmint.store.source_state import SourceState
    from segmint.store.webhooks import OutboxEndpoint


@dataclass(frozen=True)
class Outbox:
    """What one refresh owes its webhook endpoints."""

    con: duckdb.DuckDBPyConnection
    as_of: datetime
    endpoints: tuple[OutboxEndpoint, ...]
    evaluator: Evaluator | None = None
    traits_sql: str | None = None
    traits_params: Params = field(default_factory=dict)
    # On a source-mode workspace: where the refresh's changes are (read back from there).
    source: Callable[[], SourceState] | None = None

    def write(self, refresh_id: int) -> int:
        """Write the refresh's messages (inside its transaction); how many were written."""
        from segmint.store.webhooks import compute_traits, enqueue, stage_changes

        if self.traits_sql is not None and self.evaluator is not None:
            compute_traits(self.evaluator.engine, refresh_id, self.traits_sql, self.traits_params)
        if self.source is not None:
            from segmint.store.source_segments import refresh_changes

            # The source's changes of this refresh, copied into the local transaction.
            stage_changes(self.con, refresh_changes(self.source(), refresh_id))
        text = self.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return enqueue(
            self.con,
            refresh_id,
            self.as_of,
            text,
            self.endpoints,
            datetime.now(UTC),
            staged=self.source is not None,
        )


def plan_outbox(ctx: SegmentContext, as_of: datetime) -> Outbox | None:
    """The outbox of a refresh at ``as_of`` (None without ``[[webhooks]]``). An unknown
    trait is a :class:`ConfigError` naming the endpoint, raised before anything is
    evaluated. On a source-mode workspace the changes are read back from the source, and
    traits are not sent yet (a :class:`BackendError` at the refresh's start)."""
    hooks = ctx.config.webhooks
    if not hooks:
        return None
    endpoints = _endpoints(ctx)
    if ctx.source_state is not None:
        with_traits = next((h for h in hooks if h.traits), None)
        if with_traits is not None:
            raise BackendError(
                f"segmint.toml [[webhooks]] {with_traits.endpoint}: traits",
                f"source-mode workspaces ({ctx.config.source.engine}) yet; leave traits out "
                "of this endpoint to refresh",
                "sending traits with webhooks",
            )
        return Outbox(ctx.con, as_of, endpoints, source=ctx.source_state)
    evaluator = ctx.evaluator()
    attributes = evaluator.catalog.attributes
    for hook in hooks:
        unknown = [t for t in hook.traits if t not in attributes]
        if unknown:
            from segmint.hints import suggest

            raise ConfigError(
                f"[[webhooks]] {hook.endpoint}: traits: unknown attribute or trait "
                f"{unknown[0]!r}{suggest(unknown[0], attributes)}"
            )
    traits = list(dict.fromkeys(t for e in endpoints for t in e.traits))
    if not traits:
        return Outbox(ctx.con, as_of, endpoints)
    sql, params = _traits_query(evaluator, traits, as_of)
    return Outbox(ctx.con, as_of, endpoints, evaluator, sql, params)


def _endpoints(ctx: SegmentContext) -> tuple[OutboxEndpoint, ...]:
    from segmint.store.webhooks import OutboxEndpoint

    return tuple(
        OutboxEndpoint(
            hook.endpoint,
            hook.segments,
            hook.changes,
            hook.batch_size,
            tuple(t for t in dict.fromkeys(hook.traits) if t != "customer_id"),
        )
        for hook in ctx.config.webhooks
    )


def _traits_query(evaluator: Evaluator, traits: list[str], as_of: datetime) -> tuple[str, Params]:
    """The SQL (and its parameters at ``as_of``) of ``customer_id`` and ``traits`` for the
    pids of store/webhooks.py's ``PIDS_TABLE``."""
    import ibis

    from segmint.engine.clock import Clock
    from segmint.engine.render import render_sql
    from segmint.store.webhooks import PIDS_TABLE
    from segmint.traits.expressions import needs_models

    if needs_models(set(traits)):
        evaluator.fit_at(as_of)  # the CLV fit at as_of, found or fitted before the refresh
    clock = Clock(as_of, use_variables=True, clv_table=evaluator.clv_table(as_of))
    pids = ibis.table({"pid": "int64"}, name=PIDS_TABLE)
    expr = evaluator.with_columns(pids, traits, clock)
    sql = render_sql(expr, pretty=False)
    return sql, evaluator.clock_params(clock.variables, as_of)
