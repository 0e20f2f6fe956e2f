"""The webhook outbox of a refresh: which endpoints get which changes, and the query of
the traits they carry.

A refresh that stores entries and exits writes, in the same transaction, one message per
endpoint, segment and ``batch_size`` changes (store/webhooks.py), so the membership and
what is owed to the endpoints commit together and a crash loses neither. The traits an
endpoint asks for are checked against the catalog before the refresh's transaction and
compiled with the expression members lists use (``Evaluator.with_columns``), their
instants relative to the refresh's as_of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from segmint.errors import BackendError, ConfigError

if TYPE_CHECKING:
    from segmint.engine.base import Params
    from segmint.segments.context import SegmentContext
    from segmint.segments.query import Evaluator
    from segmint.store.webhooks import OutboxEndpoint


@dataclass(frozen=True)
class Outbox:
    """What one refresh owes its webhook endpoints."""

    as_of: datetime
    endpoints: tuple[OutboxEndpoint, ...]
    evaluator: Evaluator
    traits_sql: str | None = None
    traits_params: Params = field(default_factory=dict)

    def write(self, refresh_id: int) -> int:
        """Write the refresh's messages (inside its transaction); how many were written."""
        from segmint.store.webhooks import compute_traits, enqueue

        con = self.evaluator.con
        if self.traits_sql is not None:
            compute_traits(self.evaluator.engine, refresh_id, self.traits_sql, self.traits_params)
        text = self.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return enqueue(con, refresh_id, self.as_of, text, self.endpoints, datetime.now(UTC))


def plan_outbox(ctx: SegmentContext, as_of: datetime) -> Outbox | None:
    """The outbox of a refresh at ``as_of`` (None without ``[[webhooks]]``). An unknown
    trait is a :class:`ConfigError` naming the endpoint, raised before anything is
    evaluated; a source-mode workspace cannot have webhooks yet."""
    from segmint.store.webhooks import OutboxEndpoint

    hooks = ctx.config.webhooks
    if not hooks:
        return None
    if ctx.source_state is not None:
        raise BackendError(
            "segmint.toml [[webhooks]]",
            f"source-mode workspaces ({ctx.config.source.engine}) yet; remove the "
            "[[webhooks]] tables to refresh",
            "webhook delivery",
        )
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
    endpoints = tuple(
        OutboxEndpoint(
            hook.endpoint,
            hook.segments,
            hook.changes,
            hook.batch_size,
            tuple(t for t in dict.fromkeys(hook.traits) if t != "customer_id"),
        )
        for hook in hooks
    )
    traits = list(dict.fromkeys(t for e in endpoints for t in e.traits))
    if not traits:
        return Outbox(as_of, endpoints, evaluator)
    sql, params = _traits_query(evaluator, traits, as_of)
    return Outbox(as_of, endpoints, evaluator, sql, params)


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
