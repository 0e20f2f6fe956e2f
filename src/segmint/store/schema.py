"""The workspace schema.

Profiles and events are keyed by ``pid``, a dense integer that segmint assigns; the
customer-facing ``customer_id`` is a profile column. Dense integer keys make the joins and
aggregates of segment evaluation cheap, and let a merge re-point events with one update.

Custom customer attributes are real typed columns named ``x_<slug>``; the ``attributes``
catalog maps each user-visible (case-sensitive) name to its column and type. A catalog is
needed because DuckDB identifiers are case-insensitive while our contract's names are not.
Event properties live in one JSON column (portable across engines, shared/STACK.md) and
their types in the ``event_properties`` catalog.
"""

from __future__ import annotations

from typing import Final

SCHEMA_VERSION: Final = 9

# Logical types of attributes and properties, and how each is stored in DuckDB.
STORAGE_TYPES: Final[dict[str, str]] = {
    "bool": "BOOLEAN",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "string": "VARCHAR",
    "list": "VARCHAR[]",
}

# Built-in customer fields of DESIGN section 3 and their logical types.
BUILTIN_ATTRIBUTES: Final[dict[str, str]] = {
    "customer_id": "string",
    "email": "string",
    "phone": "string",
    "first_name": "string",
    "last_name": "string",
    "country": "string",
    "region": "string",
    "city": "string",
    "postal_code": "string",
    "gender": "string",
    "birth_date": "date",
    "created_at": "timestamp",
    "email_consent": "bool",
    "sms_consent": "bool",
}

_BUILTIN_COLUMNS = ",\n    ".join(
    f"{name} {STORAGE_TYPES[kind]}" for name, kind in BUILTIN_ATTRIBUTES.items()
)

# Kept apart so that store/layout.py can build a re-ordered copy of the same shape.
EVENTS_DDL: Final = """CREATE TABLE {table} (
    pid BIGINT NOT NULL,
    event VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    event_id VARCHAR,
    revenue DECIMAL(18, 4),
    properties JSON,
    anonymous_id VARCHAR,
    load_id INTEGER NOT NULL
)"""

# Living segments (segments/refresh.py): the definitions seen, each refresh, each
# segment's run in it, current members, and every entry and exit. History grows with the
# changes, not with the members.
SEGMENT_DDL: Final = (
    """CREATE TABLE segment_versions (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    fingerprint VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    first_refresh_id INTEGER NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL
)""",
    """CREATE TABLE segment_state (
    name VARCHAR NOT NULL,
    retired_at TIMESTAMPTZ
)""",
    """CREATE TABLE refreshes (
    refresh_id INTEGER NOT NULL,
    as_of TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    seconds DOUBLE NOT NULL,
    segments INTEGER NOT NULL,
    failed INTEGER NOT NULL
)""",
    """CREATE TABLE segment_runs (
    refresh_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    version INTEGER,
    as_of TIMESTAMPTZ NOT NULL,
    status VARCHAR NOT NULL,
    error VARCHAR,
    size BIGINT,
    entered BIGINT,
    exited BIGINT
)""",
    "CREATE TABLE segment_members (name VARCHAR NOT NULL, pid BIGINT NOT NULL)",
    """CREATE TABLE segment_changes (
    name VARCHAR NOT NULL,
    pid BIGINT NOT NULL,
    change VARCHAR NOT NULL,
    as_of TIMESTAMPTZ NOT NULL,
    refresh_id INTEGER NOT NULL
)""",
)

# Cluster runs (cluster/runs.py): parameters, scores and the described clusters as JSON,
# and every customer's cluster, so a cluster can be saved as a static list later.
CLUSTER_DDL: Final = (
    """CREATE TABLE cluster_runs (
    run_id INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    as_of TIMESTAMPTZ NOT NULL,
    k INTEGER NOT NULL,
    seconds DOUBLE NOT NULL,
    params VARCHAR NOT NULL,
    result VARCHAR NOT NULL
)""",
    "CREATE TABLE cluster_members (run_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL, "
    "cluster INTEGER NOT NULL)",
)

# Money (ingest/duckdb/orders.py, store/orders.py): exchange rates into the base currency,
# and every order as last loaded. The events table holds an order as a purchase only while
# its status counts; this table keeps each order's status, original amount and currency,
# and its refunds.
ORDERS_DDL: Final = (
    """CREATE TABLE rates (
    currency VARCHAR NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL,
    rate DECIMAL(18, 10) NOT NULL,
    load_id INTEGER NOT NULL
)""",
    """CREATE TABLE orders (
    order_id VARCHAR NOT NULL,
    pid BIGINT NOT NULL,
    ordered_at TIMESTAMPTZ NOT NULL,
    status VARCHAR,
    currency VARCHAR NOT NULL,
    total DECIMAL(18, 4) NOT NULL,
    refunded_amount DECIMAL(18, 4) NOT NULL,
    rate DECIMAL(18, 10) NOT NULL,
    revenue DECIMAL(18, 4) NOT NULL,
    counted BOOLEAN NOT NULL,
    load_id INTEGER NOT NULL,
    first_load_id INTEGER NOT NULL
)""",
)

# CLV predictions (traits/models.py), stored per as_of and fit so that a rule reads only
# the predictions of its own as_of, and printed SQL can name them.
CLV_DDL: Final = (
    """CREATE TABLE clv_fits (
    fit_id INTEGER NOT NULL,
    as_of TIMESTAMPTZ NOT NULL,
    fingerprint VARCHAR NOT NULL,
    models VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
)""",
    """CREATE TABLE clv_predictions (
    fit_id INTEGER NOT NULL,
    pid BIGINT NOT NULL,
    p_alive DOUBLE,
    predicted_orders_365d DOUBLE,
    predicted_clv_365d DOUBLE
)""",
)

# Activation (activation/, store/exports.py, store/webhooks.py): the suppression list,
# the ledger of exports with what each (segment, destination) pair was last sent, and the
# webhook outbox, written in the refresh's transaction and marked as it is delivered.
ACTIVATION_DDL: Final = (
    """CREATE TABLE suppressions (
    kind VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    reason VARCHAR,
    added_at TIMESTAMPTZ NOT NULL
)""",
    """CREATE TABLE exports (
    export_id INTEGER NOT NULL,
    segment VARCHAR NOT NULL,
    destination VARCHAR NOT NULL,
    exported_at TIMESTAMPTZ NOT NULL,
    as_of TIMESTAMPTZ NOT NULL,
    version INTEGER,
    fingerprint VARCHAR NOT NULL,
    delta BOOLEAN NOT NULL,
    members BIGINT NOT NULL,
    exported BIGINT NOT NULL,
    added BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    left_out VARCHAR NOT NULL,
    file VARCHAR,
    remove_file VARCHAR
)""",
    """CREATE TABLE export_sent (
    segment VARCHAR NOT NULL,
    destination VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    fingerprint UHUGEINT NOT NULL,
    removal VARCHAR
)""",
    """CREATE TABLE webhook_messages (
    msg_id VARCHAR NOT NULL,
    endpoint VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    refresh_id INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    as_of TIMESTAMPTZ NOT NULL,
    changes INTEGER NOT NULL,
    body VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    first_attempt_at TIMESTAMPTZ,
    next_at TIMESTAMPTZ NOT NULL,
    retry_after TIMESTAMPTZ,
    last_status INTEGER,
    last_error VARCHAR,
    delivered_at TIMESTAMPTZ
)""",
    """CREATE TABLE webhook_endpoints (
    endpoint VARCHAR NOT NULL,
    disabled_at TIMESTAMPTZ,
    reason VARCHAR
)""",
)

# Campaigns (activation/campaigns.py, store/campaigns.py): each campaign's settings and
# its audience frozen at the start, every member with the segment it came from and the
# group (treatment or holdout) a hash of the campaign and the customer assigned, and
# per-customer outcomes imported for sends made elsewhere.
CAMPAIGN_DDL: Final = (
    """CREATE TABLE campaigns (
    name VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    window_days INTEGER NOT NULL,
    holdout DOUBLE NOT NULL,
    goal VARCHAR NOT NULL,
    segments VARCHAR NOT NULL
)""",
    """CREATE TABLE campaign_members (
    campaign VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    grp VARCHAR NOT NULL
)""",
    """CREATE TABLE campaign_results (
    campaign VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    sent BOOLEAN,
    opened BOOLEAN,
    clicked BOOLEAN,
    converted BOOLEAN,
    revenue DECIMAL(18, 4)
)""",
)

# Incremental refresh (rules/increments.py, store/measures.py): the as_of and the last
# load the kept measures of each event condition ("leaf") stand at (the measures
# themselves are one table per leaf, segment_measures_<key>, made by store/measures.py);
# and per segment and refresh, what its stored membership was computed from (its basis)
# and how (mode: full or incremental).
MEASURES_DDL: Final = (
    """CREATE TABLE segment_measure_bases (
    leaf VARCHAR NOT NULL,
    as_of TIMESTAMPTZ NOT NULL,
    load_id INTEGER NOT NULL,
    refresh_id INTEGER NOT NULL
)""",
    """CREATE TABLE segment_bases (
    refresh_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    basis VARCHAR NOT NULL,
    as_of TIMESTAMPTZ NOT NULL,
    load_id INTEGER NOT NULL,
    mode VARCHAR NOT NULL
)""",
)

# API keys of the HTTP server (activation/keys.py, store/keys.py): only each key's SHA-256
# and a display prefix are kept; a revoked key keeps its row, with when it was revoked.
KEYS_DDL: Final = (
    """CREATE TABLE api_keys (
    name VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    key_hash VARCHAR NOT NULL,
    prefix VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
)""",
)

DDL: Final = (
    f"""
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE profiles (
    pid BIGINT NOT NULL,
    {_BUILTIN_COLUMNS},
    -- earliest event of the profile; with created_at it decides when a profile exists
    first_event_at TIMESTAMPTZ,
    last_event_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE identities (
    kind VARCHAR NOT NULL,      -- 'email' or 'anonymous_id'
    value VARCHAR NOT NULL,
    pid BIGINT NOT NULL,
    load_id INTEGER NOT NULL
);
{EVENTS_DDL.format(table="events")};
CREATE TABLE identity_merges (
    merged_pid BIGINT NOT NULL,
    into_pid BIGINT NOT NULL,
    via_kind VARCHAR NOT NULL,
    via_value VARCHAR NOT NULL,
    events_moved BIGINT NOT NULL,
    load_id INTEGER NOT NULL,
    merged_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE attributes (
    name VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    builtin BOOLEAN NOT NULL,
    load_id INTEGER
);
CREATE TABLE event_properties (
    prop VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    load_id INTEGER NOT NULL
);
CREATE TABLE event_property_usage (event VARCHAR NOT NULL, prop VARCHAR NOT NULL);
CREATE TABLE event_names (event VARCHAR NOT NULL, load_id INTEGER NOT NULL);
CREATE TABLE loads (
    load_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    rows_read BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    profiles_created BIGINT NOT NULL,
    merges BIGINT NOT NULL,
    rejects_file VARCHAR
);
"""
    + ";\n".join(
        SEGMENT_DDL
        + CLUSTER_DDL
        + ORDERS_DDL
        + CLV_DDL
        + ACTIVATION_DDL
        + CAMPAIGN_DDL
        + KEYS_DDL
        + MEASURES_DDL
    )
    + ";\n"
)


# Steps that bring a workspace of version N to N + 1 (store/migrate.py applies them).
MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    # 1 -> 2: the catalog of event names, so rules can be checked without scanning events.
    1: (
        "CREATE TABLE event_names (event VARCHAR NOT NULL, load_id INTEGER NOT NULL)",
        "INSERT INTO event_names SELECT DISTINCT event, 0 FROM events",
    ),
    # 2 -> 3: refresh state and membership history of saved segments.
    2: SEGMENT_DDL,
    # 3 -> 4: cluster runs.
    3: CLUSTER_DDL,
    # 4 -> 5: exchange rates and orders as loaded; CLV predictions per as_of. The orders
    # loaded before are recorded as they were stored (in their own currency, counted),
    # so re-loading their files compares with them: an order whose status is excluded or
    # whose currency now has a rate is then updated, not added twice.
    4: (
        *ORDERS_DDL,
        *CLV_DDL,
        "INSERT INTO orders SELECT e.event_id, e.pid, e.ts, "
        "json_extract_string(e.properties, '$.status'), "
        "coalesce(upper(json_extract_string(e.properties, '$.currency')), ''), e.revenue, 0, 1, "
        "e.revenue, true, e.load_id, e.load_id FROM events e "
        "WHERE e.load_id IN (SELECT load_id FROM loads WHERE kind = 'orders')",
    ),
    # 5 -> 6: suppressions, the export ledger and the webhook outbox.
    5: ACTIVATION_DDL,
    # 6 -> 7: campaigns and their frozen, assigned audiences.
    6: CAMPAIGN_DDL,
    # 7 -> 8: API keys of the HTTP server.
    7: KEYS_DDL,
    # 8 -> 9: kept measures and bases of incremental refresh.
    8: MEASURES_DDL,
}


def builtin_catalog_rows() -> list[tuple[str, str, str, bool, None]]:
    """Catalog rows for the built-in customer fields (their column is their name)."""
    return [(name, name, kind, True, None) for name, kind in BUILTIN_ATTRIBUTES.items()]
