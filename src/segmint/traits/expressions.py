"""The traits of DESIGN section 5 as Ibis expressions, at any ``as_of``.

:func:`with_traits` adds the traits a caller wants to a table of people (one row per
profile, with ``pid``, ``created_at``, ``first_event_at``, ``last_event_at``). Only the parts
those traits need are built: order facts and the purchase trend share one scan of the
purchase events; engagement is one scan of the three email events; ``last_seen_at`` scans
events only for profiles whose latest event is after ``as_of``. Scores among buyers (RFM,
value tiers) are window functions; the derived lifecycle thresholds are a one-row table
crossed in. The CLV predictions come from the fit at ``as_of`` that
:mod:`segmint.traits.models` stores in ``clv_predictions`` (the BG/NBD expectation needs
the hypergeometric function, which SQL does not have).

Instants come from the rule compiler's :class:`~segmint.rules.compile.Clock`, so a
query with traits is, like any rule, compiled once and run at any as_of.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from segmint.config import ClvConfig, Config, LifecycleConfig, RfmConfig, TraitsConfig
from segmint.store.models import SESSION_PREDICTIONS, STORED_PREDICTIONS
from segmint.traits.definitions import CADENCE_RFM_GRID, MODEL_TRAITS, RFM_GRID, TRAIT_NAMES

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.engine.clock import Clock
    from segmint.engine.dialects import Backend

# The CLV predictions per fit: stored in the workspace, or (a read-only session's own
# fits) in a temporary table; a query reads the rows of the fit of its as_of (the Clock's).
STORED_TABLE = STORED_PREDICTIONS
SESSION_TABLE = SESSION_PREDICTIONS
DAY_US = 86_400_000_000
HORIZON_DAYS = 365

_NEEDS: dict[str, set[str]] = {
    # trait -> the parts it is computed from
    **{
        t: {"orders"}
        for t in (
            "orders_count",
            "revenue_total",
            "aov",
            "first_order_at",
            "last_order_at",
            "days_since_last_order",
            "orders_trend_60d",
        )
    },
    "first_seen_at": set(),
    "tenure_days": set(),
    "last_seen_at": {"last_seen"},
    "days_since_last_seen": {"last_seen"},
    "r_score": {"orders", "rfm"},
    "f_score": {"orders", "rfm"},
    "m_score": {"orders", "rfm"},
    "rfm_segment": {"orders", "rfm"},
    "lifecycle_stage": {"orders", "thresholds"},
    "email_open_rate_90d": {"email"},
    "email_click_rate_90d": {"email"},
    "p_alive": {"clv"},
    "predicted_orders_365d": {"clv"},
    "predicted_clv_365d": {"clv"},
    "churn_risk": {"orders", "clv", "thresholds"},
    "value_tier": {"clv", "tier"},
}


@dataclass(frozen=True)
class TraitSettings:
    """Everything besides as_of that trait values depend on."""

    purchase_events: tuple[str, ...] = ("order_completed",)
    traits: TraitsConfig = field(default_factory=TraitsConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    clv: ClvConfig = field(default_factory=ClvConfig)
    rfm: RfmConfig = field(default_factory=RfmConfig)

    @classmethod
    def from_config(cls, config: Config) -> TraitSettings:
        return cls(
            config.ingest.purchase_events,
            config.traits,
            config.lifecycle,
            config.clv,
            rfm=config.rfm,
        )


def clv_table(clock: Clock) -> ir.Table:
    """The CLV predictions per buyer of the fit at the clock's as_of (``clock.clv_table``
    a table name, or ``schema.table``)."""
    import ibis

    database, _, name = clock.clv_table.rpartition(".")
    t = ibis.table(
        {
            "fit_id": "int32",
            "pid": "int64",
            "p_alive": "float64",
            "predicted_orders_365d": "float64",
            "predicted_clv_365d": "float64",
        },
        name=name,
        database=database or None,
    )
    return t.filter(t.fit_id == clock.clv_fit_id()).drop("fit_id")


def needs_models(traits: Iterable[str]) -> bool:
    """Whether any of ``traits`` is computed from the fitted CLV models."""
    return any(t in MODEL_TRAITS for t in traits)


def with_traits(
    people: ir.Table,
    wanted: Iterable[str],
    clock: Clock,
    settings: TraitSettings,
    backend: Backend | None = None,
) -> ir.Table:
    """``people`` with a column for each wanted trait (in the order of section 5)."""
    wanted = [t for t in TRAIT_NAMES if t in set(wanted)]
    parts: set[str] = set().union(*(_NEEDS[t] for t in wanted)) if wanted else set()
    builder = TraitBuilder(people, clock, settings, backend)
    t = people
    if "orders" in parts:
        t = builder.add_orders(t)
    if "last_seen" in parts:
        t = builder.add_last_seen(t)
    if "email" in parts:
        t = builder.add_email(t)
    if "clv" in parts:
        t = t.left_join(clv_table(clock), "pid").drop("pid_right")
    if "thresholds" in parts:
        t = t.cross_join(builder.thresholds())
    if "rfm" in parts:
        t = builder.add_rfm(t)
    if "tier" in parts:
        t = builder.add_value_tier(t)
    values = builder.values(t, wanted)
    # The people's own columns pass through (joins only add columns), so no join back.
    return t.select(*people.columns, **values)


class TraitBuilder:
    """Builds the parts of the traits query (see :func:`with_traits`)."""

    def __init__(
        self,
        people: ir.Table,
        clock: Clock,
        settings: TraitSettings,
        backend: Backend | None = None,
    ) -> None:
        from segmint.engine.dialects import BACKENDS
        from segmint.engine.tables import events_table

        self.people = people
        self.clock = clock
        self.settings = settings
        self.backend = backend or BACKENDS["duckdb"]
        self.events = events_table()
        self.at = clock.ago(0)
        self._orders: ir.Table | None = None

    def epoch_us(self, ts: Any) -> ir.IntegerValue:
        return self.backend.epoch_us(ts)

    def day_number(self, ts: Any) -> ir.IntegerValue:
        """The UTC day of ``ts`` as a day count since 1970-01-01."""
        return self.epoch_us(ts) // DAY_US

    def days_between(self, earlier: Any, later: Any) -> ir.IntegerValue:
        """``floor((later - earlier) / 1 day)`` for ``earlier <= later``, exactly."""
        return (self.epoch_us(later) - self.epoch_us(earlier)) // DAY_US

    def purchases(self) -> ir.Table:
        e = self.events
        return e.filter(e.event.isin(list(self.settings.purchase_events)), e.ts <= self.at)

    def orders(self) -> ir.Table:
        """Order facts per buyer of the population (one scan of the purchase events; the
        same expression each call, so the SQL shares it as one CTE)."""
        if self._orders is None:
            self._orders = self._order_facts()
        return self._orders

    def _order_facts(self) -> ir.Table:
        p = self.purchases()
        recent = p.ts > self.clock.ago(60)
        prior = (p.ts > self.clock.ago(120)) & (p.ts <= self.clock.ago(60))
        orders = p.group_by("pid").aggregate(
            orders_count=p.count(),
            revenue_total=p.revenue.sum().fill_null(0),
            first_order_at=p.ts.min(),
            last_order_at=p.ts.max(),
            orders_60d=p.count(where=recent),
            orders_prior_60d=p.count(where=prior),
        )
        return orders.semi_join(self.people, "pid")

    def add_orders(self, t: ir.Table) -> ir.Table:
        return t.left_join(self.orders(), "pid").drop("pid_right")

    def add_last_seen(self, t: ir.Table) -> ir.Table:
        """The latest event up to as_of: the stored latest event when it is not after
        as_of (so no scan at all for a current as_of), else a scan for those profiles."""
        e = self.events
        later = self.people.filter(self.people.last_event_at > self.at).select("pid")
        rows = e.filter(e.ts <= self.at).semi_join(later, "pid")
        scanned = rows.group_by("pid").aggregate(scanned_last=rows.ts.max())
        t = t.left_join(scanned, "pid").drop("pid_right")
        import ibis

        stored_ok = t.last_event_at <= self.at
        return t.mutate(
            last_seen=ibis.ifelse(stored_ok.fill_null(False), t.last_event_at, t.scanned_last)
        )

    def add_email(self, t: ir.Table) -> ir.Table:
        c = self.settings.traits
        e = self.events
        names = [c.email_sent_event, c.email_open_event, c.email_click_event]
        rows = e.filter(e.event.isin(names), e.ts > self.clock.ago(90), e.ts <= self.at)
        email = rows.group_by("pid").aggregate(
            sent_90d=rows.count(where=rows.event == c.email_sent_event),
            opens_90d=rows.count(where=rows.event == c.email_open_event),
            clicks_90d=rows.count(where=rows.event == c.email_click_event),
        )
        return t.left_join(email, "pid").drop("pid_right")

    def thresholds(self) -> ir.Table:
        """One row: the lifecycle day thresholds and the loyal order count in force."""
        import ibis

        c = self.settings.lifecycle
        p = self.purchases()
        days_table = self.day_thresholds()
        if c.loyal_orders:
            return days_table.mutate(loyal_orders=ibis.literal(c.loyal_orders, type="int64"))
        per_buyer = p.group_by("pid").aggregate(n=p.count())
        q = self.backend.quantile(per_buyer.n, c.loyal_quantile).ceil().cast("int64")
        loyal = per_buyer.aggregate(loyal_orders=ibis.greatest(q.fill_null(3), 3))
        return days_table.cross_join(loyal)

    def day_thresholds(self, recent: bool = False) -> ir.Table:
        """One row: at_risk_days, lapsed_days and churned_days in force; with ``recent``
        also recent_days, the last day of R = 5 in cadence recency."""
        import ibis

        c = self.settings.lifecycle
        p = self.purchases()
        days = p.select("pid", day=self.day_number(p.ts)).distinct()
        gap = days.day - days.day.lag().over(group_by="pid", order_by="day")
        gaps = days.select(gap=gap).filter(lambda g: g.gap.notnull())
        fallback = c.fallback_days
        quantiles = {
            "q_at_risk": c.at_risk_quantile,
            "q_lapsed": c.lapsed_quantile,
            "q_churned": c.churned_quantile,
        }
        if recent:
            quantiles["q_recent"] = self.settings.rfm.recent_quantile
        derived = gaps.aggregate(
            n_gaps=gaps.count(),
            **{k: self.backend.quantile(gaps.gap, q) for k, q in quantiles.items()},
        )
        enough = derived.n_gaps >= c.min_gaps

        def pick(fixed: int, quantile: Any, default: int) -> ir.IntegerValue:
            if fixed:
                return ibis.literal(fixed, type="int64")
            value = quantile.ceil().cast("int64")
            return ibis.ifelse(enough, ibis.greatest(value, 1), default)

        at_risk = pick(c.at_risk_days, derived.q_at_risk, fallback[0])
        lapsed = pick(c.lapsed_days, derived.q_lapsed, fallback[1])
        churned = pick(c.churned_days, derived.q_churned, fallback[2])
        # Strictly increasing whatever the data: a stage must be reachable.
        lapsed = ibis.greatest(lapsed, at_risk + 1)
        churned = ibis.greatest(churned, lapsed + 1)
        out = {"at_risk_days": at_risk, "lapsed_days": lapsed, "churned_days": churned}
        if recent:
            r = self.settings.rfm
            top = pick(r.recent_days, derived.q_recent, r.fallback_recent_days)
            # Below at_risk_days, so that R = 4 can be reached.
            out["recent_days"] = ibis.least(top, at_risk - 1)
        return derived.select(**out)

    def add_rfm(self, t: ir.Table) -> ir.Table:
        """R, F, M scores among buyers: 1 + floor(5 * worse / buyers), ``worse`` being how
        many buyers are strictly worse on that measure, so ties share a score. With cadence
        recency ([rfm] recency), R is instead from days since the last order against the
        shop's cadence thresholds (see :meth:`cadence_score`)."""
        import ibis

        # From the order facts alone, not from ``t``: a window over ``t`` would repeat
        # every join that built it.
        o = self.orders()
        b = o.select(
            "pid",
            days=self.days_between(o.last_order_at, self.at),
            n=o.orders_count,
            money=o.revenue_total,
        )
        cadence = self.settings.rfm.recency == "cadence"
        if cadence:
            # The select ends the join, so the windows below are over a plain relation.
            days = self.day_thresholds(recent=True)
            b = b.cross_join(days).select(*b.columns, *days.columns)
        if self.backend.GROUPED_RANKS:
            scores = self.grouped_scores(b, cadence)
        else:
            buyers = b.count().over()

            def score(order: Any) -> ir.IntegerValue:
                worse = ibis.rank().over(order_by=order)
                return (1 + (5 * worse) // buyers).cast("int64")

            scores = b.select(
                "pid",
                r_score=self.cadence_score(b) if cadence else score(ibis.desc(b.days)),
                f_score=score(b.n),
                m_score=score(b.money),
            )
        fm = (scores.f_score + scores.m_score + 1) // 2
        key = scores.r_score * 10 + fm
        grid = CADENCE_RFM_GRID if cadence else RFM_GRID
        cells = [(r * 10 + i + 1, name) for r, row in grid.items() for i, name in enumerate(row)]
        scores = scores.mutate(rfm_segment=key.cases(*cells, else_=None))
        return t.left_join(scores, "pid").drop("pid_right")

    def grouped_scores(self, b: ir.Table, cadence: bool) -> ir.Table:
        """The scores of :meth:`add_rfm` with ``worse`` counted per distinct value: the
        buyers of each value, summed over the values before it. The same figures as
        ``rank()``; the window runs over the distinct values (order counts, day counts,
        revenue totals) instead of every buyer, and the rest are grouped aggregates and
        joins, which the engine spreads over its workers. Every measure is set for every
        buyer (``orders`` has a last order, a count and a coalesced total)."""
        import ibis

        buyers = b.aggregate(buyers=b.count())
        counts = {"r": b.days, "f": b.n, "m": b.money}
        if cadence:
            del counts["r"]
        out = b.select("pid", **({"r_score": self.cadence_score(b)} if cadence else {}))
        for key, value in counts.items():
            levels = b.group_by(value=value).aggregate(k=b.count())
            order = ibis.desc(levels.value) if key == "r" else levels.value
            before = ibis.window(order_by=order, rows=(None, -1))
            levels = levels.mutate(worse=levels.k.sum().over(before).fill_null(0))
            keyed = b.select("pid", value=value).join(levels, "value").cross_join(buyers)
            score = (1 + (5 * keyed.worse) // keyed.buyers).cast("int64")
            out = out.join(keyed.select("pid", **{f"{key}_score": score}), "pid")
        return out.select("pid", "r_score", "f_score", "m_score")

    def cadence_score(self, b: ir.Table) -> ir.IntegerValue:
        """R from ``b.days`` (days since the last order) and the day thresholds of
        :meth:`day_thresholds` crossed into ``b``: 5 minus the thresholds passed."""
        import ibis

        return ibis.cases(
            (b.days <= b.recent_days, 5),
            (b.days <= b.at_risk_days, 4),
            (b.days <= b.lapsed_days, 3),
            (b.days <= b.churned_days, 2),
            else_=1,
        ).cast("int64")

    def add_value_tier(self, t: ir.Table) -> ir.Table:
        """Tiers by predicted CLV among buyers with a prediction: a customer is in the top
        share s when fewer than s * buyers have a strictly higher prediction."""
        import ibis

        c = self.settings.clv
        scores = clv_table(self.clock).semi_join(self.people, "pid")
        b = scores.filter(scores.predicted_clv_365d.notnull()).select(
            "pid", clv=scores.predicted_clv_365d
        )
        higher = ibis.rank().over(order_by=ibis.desc(b.clv))
        n = b.count().over()
        tier = ibis.cases(
            (higher < c.vip_share * n, "vip"),
            (higher < c.high_share * n, "high"),
            (higher < c.medium_share * n, "medium"),
            else_="low",
        )
        return t.left_join(b.select("pid", value_tier=tier), "pid").drop("pid_right")

    def values(self, t: ir.Table, wanted: list[str]) -> dict[str, ir.Value]:
        import ibis

        at = self.at
        out: dict[str, Any] = {}
        for name in wanted:
            if name == "orders_count":
                value = t.orders_count.fill_null(0)
            elif name == "revenue_total":
                value = t.revenue_total.fill_null(0).cast("decimal(38, 4)")
            elif name == "aov":
                value = t.revenue_total.fill_null(0).cast("float64") / t.orders_count
            elif name in ("first_order_at", "last_order_at"):
                value = t[name]
            elif name == "days_since_last_order":
                value = self.days_between(t.last_order_at, at)
            elif name == "first_seen_at":
                # The stored first event is the first up to as_of, unless it is later.
                value = ibis.ifelse(t.first_event_at <= at, t.first_event_at, ibis.null())
            elif name == "last_seen_at":
                value = t.last_seen
            elif name == "days_since_last_seen":
                value = self.days_between(t.last_seen, at)
            elif name == "tenure_days":
                value = self.days_between(t.created_at.fill_null(t.first_event_at), at)
            elif name in ("r_score", "f_score", "m_score", "rfm_segment", "value_tier"):
                value = t[name]
            elif name == "lifecycle_stage":
                value = self.lifecycle(t)
            elif name == "orders_trend_60d":
                prior = t.orders_prior_60d.cast("float64")
                value = (t.orders_60d.cast("float64") - prior) / prior.nullif(0)
            elif name in ("email_open_rate_90d", "email_click_rate_90d"):
                hits = t.opens_90d if name == "email_open_rate_90d" else t.clicks_90d
                sent = t.sent_90d.cast("float64").nullif(0)
                rate = hits.cast("float64") / sent
                # Opens can outnumber sends (one email opened twice); a rate stops at 1.
                # (Not LEAST: it skips NULLs, and no sends must stay missing.)
                value = ibis.ifelse(rate > 1.0, 1.0, rate)
            elif name in ("p_alive", "predicted_orders_365d", "predicted_clv_365d"):
                value = t[name]
            elif name == "churn_risk":
                value = self.churn_risk(t)
            else:  # pragma: no cover - _NEEDS and this list name the same traits
                raise AssertionError(name)
            out[name] = value
        return out

    def lifecycle(self, t: ir.Table) -> ir.StringValue:
        import ibis

        days = self.days_between(t.last_order_at, self.at)
        return ibis.cases(
            (t.orders_count.isnull(), "subscriber"),
            (days > t.churned_days, "churned"),
            (days > t.lapsed_days, "lapsed"),
            (days > t.at_risk_days, "at_risk"),
            (t.orders_count >= t.loyal_orders, "loyal"),
            (t.orders_count >= 2, "repeat_buyer"),
            else_="first_time_buyer",
        )

    def churn_risk(self, t: ir.Table) -> ir.StringValue:
        """From p_alive and recency; without a fitted model (p_alive missing), from
        recency alone."""
        import ibis

        c = self.settings.clv
        days = self.days_between(t.last_order_at, self.at)
        high = (t.p_alive < c.churn_high_p_alive).fill_null(False) | (days > t.lapsed_days)
        medium = (t.p_alive < c.churn_medium_p_alive).fill_null(False) | (days > t.at_risk_days)
        return ibis.cases(
            (t.orders_count.isnull(), ibis.null("string")),
            (high, "high"),
            (medium, "medium"),
            else_="low",
        )
