"""Workspace configuration: ``segmint.toml`` with documented defaults.

The file is written once by ``segmint init`` with every default spelled out, so users can
see and edit what is in force. Unknown keys are an error, so a typo cannot be ignored.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from segmint.errors import ConfigError

CONFIG_FILE = "segmint.toml"
_T = TypeVar("_T")

# The units DuckDB accepts for memory_limit (1000^i and 1024^i); a value is checked
# against this before it reaches DuckDB.
MEMORY_LIMIT = re.compile(r"(\d{1,12}(\.\d{1,3})?) ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
MAX_THREADS = 1024
# revenue is stored as DECIMAL(18, 4): a larger scale would round what it claims to keep.
MAX_MONEY_SCALE = 4
# The furthest ahead of a load a timestamp may lie ([ingest] latest_days_ahead): 100 years.
MAX_DAYS_AHEAD = 36_500
# Lists that may be empty (no status excluded); every other list needs a value.
_MAY_BE_EMPTY = frozenset(
    {"exclude_statuses", "property_columns", "spark_conf", "order_excluded", "traits"}
)
# Text settings where "" means "none" ([source]: no source engine, no such column).
_MAY_BE_BLANK = frozenset(
    {
        "engine",
        "url",
        "created_at",
        "properties",
        "revenue",
        "state",
        "event_date",
        "identities",
        "orders",
        "order_status",
        "order_refunded",
        "order_event",
        "name",
        "secret",
        "secret_env",
    }
)


@dataclass(frozen=True)
class StoreConfig:
    """How the embedded DuckDB store runs."""

    # DuckDB spills to disk past this; keeps a 50M-event load under ~4 GB RSS on a small box.
    memory_limit: str = "3GB"
    threads: int = 0  # 0 = one per core


@dataclass(frozen=True)
class IngestConfig:
    """Ingestion settings."""

    # Events that count as purchases; orders are stored as the first of these.
    purchase_events: tuple[str, ...] = ("order_completed",)
    # Rows with more decimal places than this in `revenue`/`total` are rejected, not rounded.
    money_scale: int = 4
    # Timestamps before this date (00:00 UTC) or more than this many days after the load
    # are rejected rows: a year 0001 or 9999 in a file is a placeholder, not an instant.
    earliest: str = "1970-01-01"
    latest_days_ahead: int = 1


@dataclass(frozen=True)
class MoneyConfig:
    """The currency that revenue, RFM, CLV and money rules are in."""

    # ISO 4217 code. Orders in another currency are converted with the loaded rates
    # (`segmint ingest rates`) at their order time.
    currency: str = "EUR"


@dataclass(frozen=True)
class PurchasesConfig:
    """Which orders are purchases."""

    # Orders with one of these statuses (any letter case) are kept but are not purchases:
    # no trait, CLV fit or rule counts them.
    exclude_statuses: tuple[str, ...] = ("refunded", "cancelled")


@dataclass(frozen=True)
class TraitsConfig:
    """Which events the engagement traits count."""

    email_sent_event: str = "email_sent"
    email_open_event: str = "email_opened"
    email_click_event: str = "email_clicked"


@dataclass(frozen=True)
class LifecycleConfig:
    """Thresholds of ``lifecycle_stage``; 0 means derive it from the shop's own data."""

    # Days without an order after which a buyer is at risk / lapsed / churned. Derived:
    # the given quantile of the gaps between consecutive purchase days of all buyers.
    at_risk_days: int = 0
    lapsed_days: int = 0
    churned_days: int = 0
    at_risk_quantile: float = 0.75
    lapsed_quantile: float = 0.9
    churned_quantile: float = 0.97
    # Orders that make a buyer loyal. Derived: the given quantile of orders per buyer.
    loyal_orders: int = 0
    loyal_quantile: float = 0.8
    # Below this many purchase gaps the derived day thresholds fall back to these.
    min_gaps: int = 30
    fallback_days: tuple[int, int, int] = (90, 180, 365)


@dataclass(frozen=True)
class RfmConfig:
    """How ``r_score`` is scored; F and M are always quintiles among buyers."""

    # "cadence": days since the last order against the shop's purchase cadence (the
    # lifecycle day thresholds); "quintiles": rank among buyers.
    recency: str = "cadence"
    # With cadence, R = 5 up to this many days. Derived: the given quantile of the purchase
    # gaps, or fallback_recent_days below [lifecycle] min_gaps gaps.
    recent_days: int = 0
    recent_quantile: float = 0.5
    fallback_recent_days: int = 30


RECENCY_MODES = ("cadence", "quintiles")


@dataclass(frozen=True)
class ClvConfig:
    """``churn_risk`` and ``value_tier`` thresholds."""

    # churn_risk is high below this p_alive (or past lapsed_days), medium below the other.
    churn_high_p_alive: float = 0.3
    churn_medium_p_alive: float = 0.7
    # value_tier by predicted_clv_365d among buyers: cumulative shares from the top.
    vip_share: float = 0.05
    high_share: float = 0.2
    medium_share: float = 0.5
    # Above this many buyers the models are fitted on a random sample of this many (the
    # predictions still cover every buyer).
    fit_sample: int = 1_000_000


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the segment quality checks and the review (docs/segments.md)."""

    min_size: int = 100  # substantial: at least this many members
    min_share: float = 0.005  # ... and at least this share of all customers
    min_reachable_share: float = 0.5  # reachable: members with email+consent or phone+SMS
    max_overlap: float = 0.5  # distinct: largest Jaccard with another active segment
    max_changed_share: float = 0.5  # stable: 1 - Jaccard(previous members, members)
    max_refresh_age_days: int = 7  # fresh: last refresh at most this old
    max_active: int = 8  # review: more active segments than this is a warning


@dataclass(frozen=True)
class CampaignsConfig:
    """The review's findings from campaign reports (docs/campaigns.md, "Merge and retire on
    evidence")."""

    # Two segments respond identically when the 90 % interval of the difference of their
    # lifts lies within +- this (absolute: 0.05 is five percentage points of lift).
    equivalence_margin: float = 0.05
    # A segment with no measurable response in its last this many finished campaigns is
    # unresponsive.
    unresponsive_cycles: int = 2


@dataclass(frozen=True)
class SourceConfig:
    """Where a source-mode workspace reads customers and events (docs/sources.md): an
    empty ``engine`` is the embedded store, filled by ``segmint ingest``."""

    engine: str = ""  # "", "postgres" or "spark"
    url: str = ""  # postgres: postgresql://USER@HOST:PORT/DATABASE
    master: str = "local[2]"  # spark: the master of the session segmint starts
    customers: str = "customers"
    customer_id: str = "customer_id"
    created_at: str = ""  # a column, or "" when customers have no creation time
    attributes: tuple[str, ...] = ("*",)  # "*": every other column of customers
    events: str = "events"
    event_customer_id: str = "customer_id"
    event_name: str = "event"
    event_time: str = "timestamp"
    properties: str = "properties"  # a JSON, jsonb or JSON-text column, or ""
    # Events columns that are properties themselves (typed, read as they are).
    property_columns: tuple[str, ...] = ()
    revenue: str = ""  # a numeric column, or ""
    sample_rows: int = 100_000  # events read to find property names and types
    # The events table's partition date column ("": none): rules test it beside the time.
    event_date: str = ""
    # An identity map ("": none): events whose person id is one of its ``identity_id``
    # values are the customer's in its ``identity_customer_id`` column.
    identities: str = ""
    identity_id: str = "anonymous_id"
    identity_customer_id: str = "customer_id"
    # An orders table ("": none): each order is a purchase event, as a loaded order is.
    orders: str = ""
    order_customer_id: str = "customer_id"
    order_time: str = "ordered_at"
    order_total: str = "total"
    order_status: str = ""  # a column, or "": every order counts
    order_refunded: str = ""  # a column of the amount refunded, or ""
    # The event an order counts as ("": the first of [ingest] purchase_events) and the
    # statuses that are not purchases (empty: [purchases] exclude_statuses).
    order_event: str = ""
    order_excluded: tuple[str, ...] = ()
    # Where segmint keeps its own tables on the source (memberships, history, activity,
    # CLV predictions, cluster assignments): a PostgreSQL schema, created when needed...
    schema: str = "segmint"
    # ...and on Spark a folder or URI (file:, hdfs:, s3a:) of Parquet directories; ""
    # is the workspace's own source-state/ folder (fine for local[N], not for a cluster).
    state: str = ""
    # Spark settings for the session segmint starts, as "key=value" strings.
    spark_conf: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.engine)

    @property
    def spark_settings(self) -> dict[str, str]:
        """``spark_conf`` as a mapping.

        >>> SourceConfig(spark_conf=("spark.executor.memory = 8g",)).spark_settings
        {'spark.executor.memory': '8g'}
        """
        pairs = (setting.partition("=") for setting in self.spark_conf)
        return {key.strip(): value.strip() for key, _, value in pairs}


@dataclass(frozen=True)
class ActivationConfig:
    """Exports (docs/activation.md): the customer attributes that carry consent. Email
    destinations need ``email_consent``, SMS and phone ``sms_consent``, ad audiences
    ``ads_consent`` (true); a profile without it is left out, and the export says why."""

    email_consent: str = "email_consent"
    sms_consent: str = "sms_consent"
    ads_consent: str = "ads_consent"


WEBHOOK_CHANGES = ("entered", "exited")
# The most changes one webhook message carries.
MAX_WEBHOOK_BATCH = 10_000
# The longest wait for an endpoint's answer, in seconds.
MAX_WEBHOOK_TIMEOUT = 60.0


@dataclass(frozen=True)
class WebhookConfig:
    """One ``[[webhooks]]`` endpoint: where entries and exits of saved segments are posted,
    signed with the Standard Webhooks scheme (docs/activation.md)."""

    url: str = ""
    # The endpoint's name in the outbox and `segmint webhooks status` ("": its url).
    name: str = ""
    # Saved segments whose changes are sent; "*" is every segment.
    segments: tuple[str, ...] = ("*",)
    changes: tuple[str, ...] = WEBHOOK_CHANGES
    # The signing secret, "whsec_" and base64; or the environment variable holding it.
    secret: str = ""
    secret_env: str = ""
    # Changes per message.
    batch_size: int = 500
    # Attributes and traits sent with each change, as they are at the refresh's as_of.
    traits: tuple[str, ...] = ()
    # Seconds to wait for the endpoint's answer; a slower one is retried.
    timeout: float = 10.0

    @property
    def endpoint(self) -> str:
        return self.name or self.url

    def wants(self, segment: str) -> bool:
        return "*" in self.segments or segment in self.segments


SOURCE_ENGINES = ("postgres", "spark")
# A table (optionally schema-qualified) or column name of the source: plain identifiers.
_SOURCE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


@dataclass(frozen=True)
class Config:
    """The whole ``segmint.toml``."""

    store: StoreConfig = field(default_factory=StoreConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    money: MoneyConfig = field(default_factory=MoneyConfig)
    purchases: PurchasesConfig = field(default_factory=PurchasesConfig)
    traits: TraitsConfig = field(default_factory=TraitsConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    rfm: RfmConfig = field(default_factory=RfmConfig)
    clv: ClvConfig = field(default_factory=ClvConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    campaigns: CampaignsConfig = field(default_factory=CampaignsConfig)
    webhooks: tuple[WebhookConfig, ...] = ()

    @property
    def order_event(self) -> str:
        """The event name orders are stored under."""
        return self.ingest.purchase_events[0]


def default_toml() -> str:
    """The text ``segmint init`` writes: every setting with its default and meaning."""
    return """\
# segmint workspace configuration. Every value below is the default; edit to change.

[store]
# DuckDB memory limit; work past it spills to the workspace's tmp/ folder.
memory_limit = "3GB"
# Worker threads for DuckDB; 0 means one per CPU core.
threads = 0

[ingest]
# Events that count as purchases. Orders (`segmint ingest orders`) are stored as events
# named after the first entry.
purchase_events = ["order_completed"]
# Money (revenue, total) is stored exactly as DECIMAL(18, money_scale); a value with more
# decimal places than this is rejected rather than rounded.
money_scale = 4
# A timestamp (of an event, order, profile or attribute) before this date (00:00 UTC), or
# more than latest_days_ahead days after the load, is a rejected row.
earliest = "1970-01-01"
latest_days_ahead = 1

[money]
# The base currency (ISO 4217) of revenue, RFM, CLV and every money rule. An order in
# another currency is converted at its order time with the rates loaded by
# `segmint ingest rates` (columns currency, rate, valid_from); one without a rate is a
# rejected row. Fixed once orders are loaded.
currency = "EUR"

[purchases]
# Orders with these statuses (any letter case) are stored but are not purchases: traits,
# CLV and rules leave them out. A re-loaded order with a new status or total updates it.
exclude_statuses = ["refunded", "cancelled"]

[traits]
# The events the email engagement traits count (email_open_rate_90d = opens / sent).
email_sent_event = "email_sent"
email_open_event = "email_opened"
email_click_event = "email_clicked"

[lifecycle]
# lifecycle_stage: a buyer whose last order is more than at_risk_days / lapsed_days /
# churned_days ago is at_risk / lapsed / churned. 0 derives each from this shop's own
# purchase cadence: the *_quantile of the gaps (days) between consecutive purchase days
# of all buyers up to as_of (0.9 = 90 % of repeat purchases come sooner than this).
at_risk_days = 0
lapsed_days = 0
churned_days = 0
at_risk_quantile = 0.75
lapsed_quantile = 0.9
churned_quantile = 0.97
# Orders that make a buyer "loyal"; 0 derives it: the loyal_quantile of orders per
# buyer, at least 3.
loyal_orders = 0
loyal_quantile = 0.8
# With fewer purchase gaps than min_gaps the derived thresholds are fallback_days.
min_gaps = 30
fallback_days = [90, 180, 365]

[rfm]
# r_score (1-5, 5 best). "cadence": against this shop's purchase cadence: R = 5 up to
# recent_days since the last order, 4 up to the lifecycle at-risk threshold, 3 up to the
# lapsed one, 2 up to the churned one, 1 beyond (a churned buyer is never R >= 2).
# "quintiles": rank among buyers, 1 + floor(5 x (buyers with an older last order) / buyers),
# which on a base where most buyers are long gone scores year-old orders R = 4 or 5.
# f_score and m_score are quintiles among buyers either way.
recency = "cadence"
# 0 derives recent_days: the recent_quantile of the purchase gaps (0.5: half of repeat
# purchases come sooner), or fallback_recent_days with fewer than [lifecycle] min_gaps
# gaps; it is kept below the at-risk threshold.
recent_days = 0
recent_quantile = 0.5
fallback_recent_days = 30

[clv]
# churn_risk: "high" when p_alive < churn_high_p_alive or the last order is older than
# the lapsed threshold; "medium" when p_alive < churn_medium_p_alive or it is older than
# the at-risk threshold; else "low".
churn_high_p_alive = 0.3
churn_medium_p_alive = 0.7
# value_tier by predicted_clv_365d among buyers: the top vip_share are "vip", down to
# high_share "high", down to medium_share "medium", the rest "low".
vip_share = 0.05
high_share = 0.2
medium_share = 0.5
# Above fit_sample buyers, BG/NBD and Gamma-Gamma are fitted on a random sample of that
# many (a fixed seed: the same data gives the same fit); every buyer is still predicted.
fit_sample = 1000000

[quality]
# Segment quality checks (segment show, review). substantial: at least min_size members
# and min_share of all customers; reachable: at least min_reachable_share of members have
# an email with consent or a phone with SMS consent; distinct: Jaccard overlap with every
# other active segment at most max_overlap; stable: at most max_changed_share of members
# changed since the previous refresh (1 - Jaccard); fresh: refreshed within
# max_refresh_age_days and no absolute dates in the rule.
min_size = 100
min_share = 0.005
min_reachable_share = 0.5
max_overlap = 0.5
max_changed_share = 0.5
max_refresh_age_days = 7
# The review warns above this many active segments (the 5-8 zone).
max_active = 8

[source]
# Where customers and events live. "" (the default): this workspace's own store, filled
# by `segmint ingest`. "postgres" or "spark": rules run where the data already is
# (docs/sources.md); segmint reads the tables named below and never copies them.
engine = ""
# postgres: postgresql://USER@HOST:PORT/DATABASE. spark: the master of its session.
url = ""
master = "local[2]"
# The customers table, its id column, an optional creation time ("" for none) and the
# columns that are attributes ("*": every other column).
customers = "customers"
customer_id = "customer_id"
created_at = ""
attributes = ["*"]
# The events table: the customer id, event name and time columns, the properties (a
# JSON, jsonb or JSON-text column, or "") and an optional revenue column.
events = "events"
event_customer_id = "customer_id"
event_name = "event"
event_time = "timestamp"
properties = "properties"
revenue = ""
# Events columns that are properties of their own (typed columns, read as they are; a
# rule names them like any property).
property_columns = []
# Events read (the latest by time) to find property names and types for the catalog.
sample_rows = 100000
# The events table's partition date column, if it has one: rules then skip partitions.
event_date = ""
# An identity map: events whose person id is an identity_id there belong to the customer
# in identity_customer_id (for events keyed by an anonymous id or an alias).
identities = ""
identity_id = "anonymous_id"
identity_customer_id = "customer_id"
# An orders table: each order is a purchase event (order_event, by default the first of
# [ingest] purchase_events) with revenue = total - refunded; orders whose status is in
# order_excluded (by default [purchases] exclude_statuses), or refunded in full, are not.
orders = ""
order_customer_id = "customer_id"
order_time = "ordered_at"
order_total = "total"
order_status = ""
order_refunded = ""
order_event = ""
order_excluded = []
# Where segmint writes its own tables on the source (memberships, history, activity,
# CLV predictions, cluster assignments): a PostgreSQL schema; on Spark a folder or URI
# ("": the workspace's source-state/ folder, for local[N] only).
schema = "segmint"
state = ""
# Spark settings for the session segmint starts, e.g. ["spark.executor.memory=8g"].
spark_conf = []

[activation]
# Customer attributes (true/false) that carry consent; exports leave out profiles without
# it: email destinations need email_consent, phone numbers sms_consent, ad audiences
# (meta, google) ads_consent. `segmint export` reports how many were left out and why.
email_consent = "email_consent"
sms_consent = "sms_consent"
ads_consent = "ads_consent"

[campaigns]
# The review's findings from finished campaigns (docs/campaigns.md). Two segments of one
# campaign respond identically (merge one into the other) when the 90 % interval of the
# difference of their lifts lies within +- equivalence_margin (0.05: five percentage
# points); a segment whose last unresponsive_cycles campaigns all showed no measurable
# response is unresponsive (redefine or retire it).
equivalence_margin = 0.05
unresponsive_cycles = 2

# Webhooks on segment entry and exit, one [[webhooks]] table per endpoint (none by
# default). Each refresh writes the changes to an outbox with the membership, and they
# are posted in batches signed with the Standard Webhooks scheme (docs/activation.md).
# [[webhooks]]
# name = "crm"
# url = "https://example.com/segmint"
# segments = ["*"]                  # saved segments, "*" for all
# changes = ["entered", "exited"]
# secret = "whsec_..."              # or secret_env = "SEGMINT_CRM_SECRET"
# batch_size = 500
# traits = ["email", "predicted_clv_365d"]
# timeout = 10.0                    # seconds to wait for an answer (at most 60)
"""


def load_config(path: Path) -> Config:
    """Read ``segmint.toml``; missing keys take their defaults, unknown keys are an error
    (a :class:`ConfigError` located at the file)."""
    try:
        return _load_config(path)
    except ConfigError as exc:
        exc.location = exc.location or str(path)
        raise


def _load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    # The sections are the fields of Config: a new section is one field there.
    sections = [f.name for f in fields(Config)]
    for name in raw:
        if name not in sections:
            raise ConfigError(
                f"{path}: unknown section [{name}]{_suggest(name, sections)} "
                f"(known: {', '.join(sections)})"
            )
    ingest = _check_ingest(path, _section(path, raw, "ingest", IngestConfig))
    webhooks = _webhooks(path, raw.get("webhooks", []))
    purchases = _section(path, raw, "purchases", PurchasesConfig)
    source = _check_source(path, _section(path, raw, "source", SourceConfig))
    # A source's orders count as the first purchase event and skip the excluded statuses
    # of [ingest] and [purchases], unless [source] names its own.
    source = replace(
        source,
        order_event=source.order_event or ingest.purchase_events[0],
        order_excluded=source.order_excluded or purchases.exclude_statuses,
    )
    return Config(
        store=_check_store(path, _section(path, raw, "store", StoreConfig)),
        ingest=ingest,
        money=_check_money(path, _section(path, raw, "money", MoneyConfig)),
        purchases=purchases,
        traits=_section(path, raw, "traits", TraitsConfig),
        lifecycle=_check_lifecycle(path, _section(path, raw, "lifecycle", LifecycleConfig)),
        rfm=_check_rfm(path, _section(path, raw, "rfm", RfmConfig)),
        clv=_check_clv(path, _section(path, raw, "clv", ClvConfig)),
        quality=_check_quality(path, _section(path, raw, "quality", QualityConfig)),
        source=source,
        activation=_section(path, raw, "activation", ActivationConfig),
        campaigns=_check_campaigns(path, _section(path, raw, "campaigns", CampaignsConfig)),
        webhooks=webhooks,
    )


def _webhooks(path: Path, raw: Any) -> tuple[WebhookConfig, ...]:
    """The ``[[webhooks]]`` array of tables, each endpoint checked."""
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(
            f"{path}: webhooks must be an array of tables: write each endpoint under its "
            "own [[webhooks]] header"
        )
    hooks = tuple(
        _check_webhook(path, _section(path, {"webhooks": item}, "webhooks", WebhookConfig))
        for item in raw
    )
    names = [hook.endpoint for hook in hooks]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:
        raise ConfigError(
            f"{path}: [[webhooks]] {twice!r} is declared twice; give each endpoint its own name"
        )
    return hooks


def _check_webhook(path: Path, c: WebhookConfig) -> WebhookConfig:
    where = f"{path}: [[webhooks]] {c.endpoint or '(no url)'}"
    if not c.url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: url must be an http:// or https:// address, got {c.url!r}")
    if bool(c.secret) == bool(c.secret_env):
        raise ConfigError(
            f'{where}: give exactly one of secret ("whsec_...") or secret_env (the name '
            "of an environment variable holding it)"
        )
    if c.secret and not c.secret.startswith("whsec_"):
        raise ConfigError(f"{where}: secret must start with whsec_ (Standard Webhooks)")
    unknown = [change for change in c.changes if change not in WEBHOOK_CHANGES]
    if unknown or not c.changes:
        raise ConfigError(
            f"{where}: changes must be some of {', '.join(WEBHOOK_CHANGES)}, got {list(c.changes)}"
        )
    if not 1 <= c.batch_size <= MAX_WEBHOOK_BATCH:
        raise ConfigError(
            f"{where}: batch_size must be between 1 and {MAX_WEBHOOK_BATCH}, got {c.batch_size}"
        )
    if not 0 < c.timeout <= MAX_WEBHOOK_TIMEOUT:
        raise ConfigError(
            f"{where}: timeout must be more than 0 and at most {MAX_WEBHOOK_TIMEOUT:g} seconds, "
            f"got {c.timeout}"
        )
    return c


def _check_source(path: Path, c: SourceConfig) -> SourceConfig:
    where = f"{path}: [source]"
    if c.engine not in ("", *SOURCE_ENGINES):
        raise ConfigError(
            f'{where} engine: expected one of {", ".join(SOURCE_ENGINES)} (or "" for the '
            f"embedded store){_suggest(c.engine, SOURCE_ENGINES)}, got {c.engine!r}"
        )
    if c.engine == "postgres" and not c.url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{where} url: expected postgresql://USER@HOST:PORT/DATABASE")
    names = {
        "customers": c.customers,
        "customer_id": c.customer_id,
        "events": c.events,
        "event_customer_id": c.event_customer_id,
        "event_name": c.event_name,
        "event_time": c.event_time,
    }
    optional = {
        "created_at": c.created_at,
        "properties": c.properties,
        "revenue": c.revenue,
        "event_date": c.event_date,
        "identities": c.identities,
        "orders": c.orders,
        "order_status": c.order_status,
        "order_refunded": c.order_refunded,
    }
    if c.identities:
        names |= {"identity_id": c.identity_id, "identity_customer_id": c.identity_customer_id}
    if c.orders:
        names |= {
            "order_customer_id": c.order_customer_id,
            "order_time": c.order_time,
            "order_total": c.order_total,
        }
    for key, value in [*names.items(), *optional.items()]:
        if (value or key in names) and not _SOURCE_NAME.fullmatch(value):
            raise ConfigError(
                f"{where} {key}: expected a table or column name (letters, digits, _; "
                f"schema.table for a table), got {value!r}"
            )
    for column in c.attributes:
        if column != "*" and not _SOURCE_NAME.fullmatch(column):
            raise ConfigError(f"{where} attributes: not a column name: {column!r}")
    for column in c.property_columns:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
            raise ConfigError(f"{where} property_columns: not a column name: {column!r}")
    if c.sample_rows < 1:
        raise ConfigError(f"{where} sample_rows: at least 1, got {c.sample_rows}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c.schema):
        raise ConfigError(f"{where} schema: expected a schema name, got {c.schema!r}")
    if any(mark in c.state for mark in "`'\"\\\n"):
        raise ConfigError(f"{where} state: a folder or URI without quotes, got {c.state!r}")
    for setting in c.spark_conf:
        key, eq, _ = setting.partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z0-9_.-]+", key.strip()):
            raise ConfigError(f'{where} spark_conf: expected "key=value", got {setting!r}')
    return c


def _check_store(path: Path, c: StoreConfig) -> StoreConfig:
    match = MEMORY_LIMIT.fullmatch(c.memory_limit)
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(
            f'{path}: [store] memory_limit: expected a size like "3GB" or "512MiB" '
            f"(units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), got {c.memory_limit!r}"
        )
    if c.threads > MAX_THREADS:
        raise ConfigError(f"{path}: [store] threads: at most {MAX_THREADS}, got {c.threads}")
    return c


def _check_ingest(path: Path, c: IngestConfig) -> IngestConfig:
    if c.money_scale > MAX_MONEY_SCALE:
        raise ConfigError(
            f"{path}: [ingest] money_scale: at most {MAX_MONEY_SCALE} (money is stored as "
            f"DECIMAL(18, {MAX_MONEY_SCALE})), got {c.money_scale}"
        )
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", c.earliest) or not _is_date(c.earliest):
        raise ConfigError(
            f'{path}: [ingest] earliest: expected a date such as "1970-01-01", got {c.earliest!r}'
        )
    if c.earliest < "1900-01-01":
        raise ConfigError(f"{path}: [ingest] earliest: at least 1900-01-01, got {c.earliest!r}")
    if c.latest_days_ahead > MAX_DAYS_AHEAD:
        raise ConfigError(
            f"{path}: [ingest] latest_days_ahead: at most {MAX_DAYS_AHEAD}, "
            f"got {c.latest_days_ahead}"
        )
    return c


def _check_money(path: Path, c: MoneyConfig) -> MoneyConfig:
    if not re.fullmatch(r"[A-Z]{3}", c.currency):
        raise ConfigError(
            f'{path}: [money] currency: expected an ISO 4217 code such as "EUR" or "USD", '
            f"got {c.currency!r}"
        )
    return c


def _is_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_quality(path: Path, c: QualityConfig) -> QualityConfig:
    shares = {
        "min_share": c.min_share,
        "min_reachable_share": c.min_reachable_share,
        "max_overlap": c.max_overlap,
        "max_changed_share": c.max_changed_share,
    }
    for key, value in shares.items():
        if not 0 <= value <= 1:
            raise ConfigError(f"{path}: [quality] {key}: must be between 0 and 1, got {value}")
    return c


def _check_campaigns(path: Path, c: CampaignsConfig) -> CampaignsConfig:
    if not 0 < c.equivalence_margin < 1:
        raise ConfigError(
            f"{path}: [campaigns] equivalence_margin: must be between 0 and 1 (a share of "
            f"customers: 0.05 is five percentage points), got {c.equivalence_margin}"
        )
    if c.unresponsive_cycles < 1:
        raise ConfigError(
            f"{path}: [campaigns] unresponsive_cycles: must be >= 1, got {c.unresponsive_cycles}"
        )
    return c


def _check_lifecycle(path: Path, c: LifecycleConfig) -> LifecycleConfig:
    quantiles = {
        "at_risk_quantile": c.at_risk_quantile,
        "lapsed_quantile": c.lapsed_quantile,
        "churned_quantile": c.churned_quantile,
        "loyal_quantile": c.loyal_quantile,
    }
    for key, q in quantiles.items():
        if not 0 < q < 1:
            raise ConfigError(f"{path}: [lifecycle] {key}: must be between 0 and 1, got {q}")
    if not c.at_risk_quantile <= c.lapsed_quantile <= c.churned_quantile:
        raise ConfigError(
            f"{path}: [lifecycle] quantiles must be ordered at_risk <= lapsed <= churned"
        )
    days = [d for d in (c.at_risk_days, c.lapsed_days, c.churned_days) if d]
    if days != sorted(days):
        raise ConfigError(
            f"{path}: [lifecycle] at_risk_days < lapsed_days < churned_days, got {days}"
        )
    if list(c.fallback_days) != sorted(c.fallback_days) or min(c.fallback_days) < 1:
        raise ConfigError(
            f"{path}: [lifecycle] fallback_days must be three increasing day counts, "
            f"got {list(c.fallback_days)}"
        )
    return c


def _check_rfm(path: Path, c: RfmConfig) -> RfmConfig:
    if c.recency not in RECENCY_MODES:
        raise ConfigError(
            f"{path}: [rfm] recency: expected one of "
            f"{', '.join(repr(m) for m in RECENCY_MODES)}, got {c.recency!r}"
            f"{_suggest(c.recency, RECENCY_MODES)}"
        )
    if not 0 < c.recent_quantile < 1:
        raise ConfigError(
            f"{path}: [rfm] recent_quantile: must be between 0 and 1, got {c.recent_quantile}"
        )
    if c.fallback_recent_days < 1:
        raise ConfigError(
            f"{path}: [rfm] fallback_recent_days: must be >= 1, got {c.fallback_recent_days}"
        )
    return c


def _check_clv(path: Path, c: ClvConfig) -> ClvConfig:
    if not 0 < c.churn_high_p_alive <= c.churn_medium_p_alive < 1:
        raise ConfigError(f"{path}: [clv] needs 0 < churn_high_p_alive <= churn_medium_p_alive < 1")
    if not 0 < c.vip_share <= c.high_share <= c.medium_share <= 1:
        raise ConfigError(f"{path}: [clv] needs 0 < vip_share <= high_share <= medium_share <= 1")
    if c.fit_sample < 1000:
        raise ConfigError(f"{path}: [clv] fit_sample: must be >= 1000, got {c.fit_sample}")
    return c


def _section(path: Path, raw: dict[str, Any], name: str, cls: type[_T]) -> _T:
    values = raw.get(name, {})
    if not isinstance(values, dict):
        raise ConfigError(
            f"{path}: [{name}] must be a section (a table of settings), got {_shown(values)}; "
            f"write it as a [{name}] header with keys below it"
        )
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    for key in values:
        if key not in known:
            raise ConfigError(
                f"{path}: [{name}] has unknown key {key!r}{_suggest(key, known)} "
                f"(known: {', '.join(known)})"
            )
    kwargs = {k: _coerce(path, name, k, v, known[k].default) for k, v in values.items()}
    return cls(**kwargs)


def _suggest(word: str, options: Iterable[str]) -> str:
    from segmint.hints import suggest

    return suggest(word, options)


def _shown(value: Any) -> str:
    """A value as an error shows it: a table by its kind (its text may be long)."""
    return "a table" if isinstance(value, dict) else repr(value)


def _coerce(path: Path, section: str, key: str, value: Any, default: Any) -> Any:
    where = f"{path}: [{section}] {key}"
    if isinstance(value, dict):
        raise ConfigError(f"{where}: expected a single value, got a table ({key} = {{...}})")
    if isinstance(default, tuple):
        kind = type(default[0]) if default else str
        good = isinstance(value, list) and all(
            isinstance(v, kind) and not isinstance(v, bool) for v in value
        )
        empty_ok = key in _MAY_BE_EMPTY
        if not good or (not value and not empty_ok) or (kind is int and len(value) != len(default)):
            size = f"{len(default)} " if kind is int else "a " if empty_ok else "a non-empty "
            raise ConfigError(f"{where}: expected {size}list of {kind.__name__}, got {value!r}")
        for item in value:
            if isinstance(item, str):
                _check_text(where, item)
            elif not 0 <= item <= 2**31:
                raise ConfigError(f"{where}: values must be between 0 and {2**31}, got {item}")
        return tuple(value)
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    wrong_bool = isinstance(value, bool) and not isinstance(default, bool)
    if isinstance(default, bool) or wrong_bool or not isinstance(value, type(default)):
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}")
    if isinstance(default, int) and value < 0:
        raise ConfigError(f"{where}: must be >= 0, got {value}")
    if isinstance(default, int) and value > 2**31:
        raise ConfigError(f"{where}: must be at most {2**31}, got {value}")
    if isinstance(value, str) and not (value == "" and key in _MAY_BE_BLANK):
        _check_text(where, value)
    return value


def _check_text(where: str, value: str) -> None:
    """Names and sizes are one line of printable text (no NUL, no control characters)."""
    if not value.strip():
        raise ConfigError(f"{where}: must not be empty")
    bad = next((ch for ch in value if ord(ch) < 32 or ord(ch) == 127), None)
    if bad is not None or len(value) > 200:
        shown = f"a control character {bad!r}" if bad is not None else "over 200 characters"
        raise ConfigError(f"{where}: must be one line of printable text, got {shown}")
