"""Loading events and orders: validation, de-duplication, identity, typed properties.

An order is stored as a purchase event (DESIGN section 3): event = the configured order event,
``event_id`` = ``order_id``, ``revenue`` = ``total``, other columns as properties.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmint.errors import IngestError
from segmint.ingest.catalog import (
    Target,
    conflict_reason,
    property_catalog,
    record_properties,
    record_usage,
    resolve,
)
from segmint.ingest.context import LoadContext
from segmint.ingest.identity import (
    KEY_ANONYMOUS,
    KEY_CUSTOMER,
    KEY_EMAIL,
    apply_ties,
    create_customers,
    create_unknown,
)
from segmint.ingest.sources import Source
from segmint.ingest.stage import convert_check, create_stage, infer_types, missing_check
from segmint.ingest.types import (
    SourceColumn,
    cast_expr,
    inference_aggregates,
    pick_type,
    quote_str,
)


@dataclass(frozen=True)
class Layout:
    """Which input columns play which role for this kind of file."""

    event: str | None
    timestamp: str
    event_id: str
    revenue: str
    required: tuple[str, ...]


EVENTS = Layout("event", "timestamp", "event_id", "revenue", ("event", "timestamp"))
ORDERS = Layout(
    None, "ordered_at", "order_id", "total", ("order_id", "customer_id", "ordered_at", "total")
)
_IDENTIFIERS = ("customer_id", "anonymous_id", "email")


def load_events(ctx: LoadContext, source: Source, layout: Layout) -> dict[str, int]:
    """Stage, validate, de-duplicate, resolve identities and append events."""
    _check_columns(source, layout)
    props = _property_targets(ctx, source, layout)
    selects, checks = _core_columns(ctx, source, layout)
    for i, (col, target) in enumerate(props):
        selects.append(f"{cast_expr(col, target.logical)} AS s_p{i}")
        checks.append(convert_check(f"s_p{i}", col, conflict_reason(target, col.text())))
    props_sql, props_checks, json_types = _json_properties(ctx, source)
    selects.append(f"{props_sql} AS s_props")
    checks.extend(props_checks)
    selects.append(
        f"CASE WHEN s_customer_id IS NOT NULL THEN {KEY_CUSTOMER} WHEN s_anonymous_id IS NOT NULL "
        f"THEN {KEY_ANONYMOUS} ELSE {KEY_EMAIL} END AS _kk"
    )
    selects.append("coalesce(s_customer_id, s_anonymous_id, s_email) AS _key")
    create_stage(ctx, source, selects, checks)
    _reject_repeats_in_file(ctx)
    good = _good_rows(ctx)
    ctx.progress.phase("resolving identities")
    created, merges = _resolve(ctx, good)
    inserted = _insert(
        ctx, good, props, bool(json_types) or source.column("properties") is not None
    )
    _update_activity(ctx)
    record_properties(ctx, json_types | {t.name: t.logical for _, t in props})
    _record_usage(ctx, good, props)
    valid = ctx.count("SELECT count(*) FROM _stage WHERE _reason IS NULL")
    return {
        "inserted": inserted,
        "duplicates": valid - inserted,
        "profiles_created": created,
        "merges": merges,
    }


def _check_columns(source: Source, layout: Layout) -> None:
    missing = [name for name in layout.required if source.column(name) is None]
    if layout.event is not None and not any(source.column(n) for n in _IDENTIFIERS):
        missing.append("one of customer_id, anonymous_id, email")
    if missing:
        raise IngestError(
            f"{source.label}: missing required column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(source.names) or 'none'})"
        )


def _core_columns(ctx: LoadContext, source: Source, layout: Layout) -> tuple[list[str], list[str]]:
    col = source.column
    selects: list[str] = []
    checks: list[str] = []
    if layout.event is None:
        selects.append(f"{quote_str(ctx.config.order_event)} AS s_event")
    else:
        selects.append(f"trim({_text(col(layout.event))}) AS s_event")
        checks.append(missing_check(col(layout.event), "event"))
    ts = _require(col(layout.timestamp))
    selects.append(f"{cast_expr(ts, 'timestamp')} AS s_ts")
    checks.append(missing_check(ts, layout.timestamp))
    checks.append(
        convert_check(
            "s_ts",
            ts,
            f"'{layout.timestamp}: not an ISO 8601 timestamp: \"' || left({ts.text()}, 60) || '\"'",
        )
    )
    for name in _IDENTIFIERS:
        expr = f"trim({_text(col(name))})"
        selects.append(f"{'lower(' + expr + ')' if name == 'email' else expr} AS s_{name}")
    if layout.event is None:
        checks.append(missing_check(col("customer_id"), "customer_id"))
    else:
        checks.append(
            "CASE WHEN s_customer_id IS NULL AND s_anonymous_id IS NULL AND s_email IS NULL THEN "
            "'missing customer_id, anonymous_id and email: an event needs one of them' END"
        )
    event_id = col(layout.event_id)
    selects.append(f"trim({_text(event_id)}) AS s_event_id")
    if layout.event is None:
        checks.append(missing_check(event_id, layout.event_id))
    revenue = col(layout.revenue)
    scale = ctx.config.ingest.money_scale
    selects.append(f"{cast_expr(revenue, 'money', scale) if revenue else 'NULL'} AS s_revenue")
    if revenue is not None:
        checks.append(
            convert_check(
                "s_revenue",
                revenue,
                f"'{layout.revenue}: expected a number with at most {scale} decimals, got \"' "
                f"|| left({revenue.text()}, 60) || '\"'",
            )
        )
    if layout.event is None:
        checks.append(missing_check(revenue, layout.revenue))
    return selects, checks


def _require(col: SourceColumn | None) -> SourceColumn:
    assert col is not None  # _check_columns ran first
    return col


def _text(col: SourceColumn | None) -> str:
    return "CAST(NULL AS VARCHAR)" if col is None else col.text()


def _role_columns(layout: Layout) -> set[str]:
    roles = {layout.timestamp, layout.event_id, layout.revenue, *_IDENTIFIERS, "properties"}
    return roles | ({layout.event} if layout.event else set())


def _property_targets(
    ctx: LoadContext, source: Source, layout: Layout
) -> list[tuple[SourceColumn, Target]]:
    roles = _role_columns(layout)
    columns = [c for c in source.columns if c.name not in roles]
    inferred = infer_types(ctx, columns)
    catalog = property_catalog(ctx)
    targets = []
    for col in columns:
        logical, _ = resolve(catalog.get(col.name), inferred[col.name])
        if logical is not None:
            targets.append((col, Target(col.name, col.name, logical, col.name in catalog)))
    return targets


def _json_properties(ctx: LoadContext, source: Source) -> tuple[str, list[str], dict[str, str]]:
    """The JSON Lines ``properties`` object, checks on its values, and its key types."""
    col = source.column("properties")
    if col is None or source.format != "jsonl":
        return "CAST(NULL AS JSON)", [], {}
    checks = [
        f"CASE WHEN {col.present()} AND json_type({col.sql}) <> 'OBJECT' THEN "
        "'properties: expected a JSON object' END"
    ]
    catalog = property_catalog(ctx)
    types: dict[str, str] = {}
    for key, logical in _infer_json_keys(ctx, col).items():
        known = catalog.get(key)
        target, _ = resolve(known, logical)
        types[key] = target or logical
        if known is None or target == logical:
            continue
        value = SourceColumn(key, f"json_extract({col.sql}, {quote_str(_path(key))})", "json")
        checks.append(
            f"CASE WHEN {value.present()} AND ({cast_expr(value, types[key])}) IS NULL THEN "
            f"{conflict_reason(Target(key, key, types[key], True), value.text())} END"
        )
    value_sql = f"CASE WHEN json_type({col.sql}) = 'OBJECT' THEN {col.sql} END"
    return value_sql, checks, types


def _path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _infer_json_keys(ctx: LoadContext, col: SourceColumn) -> dict[str, str]:
    """Logical type of each key of a JSON object column, from the JSON types of its values."""
    value = SourceColumn("v", "v", "json", "JSON")
    stats = ", ".join(inference_aggregates(value, 0))
    rows = ctx.con.execute(
        f"SELECT k, {stats} FROM (SELECT k, json_extract(p, "
        "'$.\"' || replace(replace(k, '\\', '\\\\'), '\"', '\\\"') || '\"') AS v FROM "
        f"(SELECT {col.sql} AS p, unnest(json_keys({col.sql})) AS k FROM _src "
        f"WHERE json_type({col.sql}) = 'OBJECT')) GROUP BY k ORDER BY k"
    )
    names = [d[0] for d in rows.description]
    found = {}
    for row in rows.fetchall():
        logical = pick_type(value, 0, dict(zip(names, row, strict=True)))
        if logical is not None:
            found[row[0]] = logical
    return found


def _reject_repeats_in_file(ctx: LoadContext) -> None:
    """A second row with an ``event_id`` already used earlier in the same file is rejected."""
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _repeats AS SELECT s_event_id AS repeated, "
        "min(_record) AS first FROM _stage WHERE _reason IS NULL AND s_event_id IS NOT NULL "
        "GROUP BY s_event_id HAVING count(*) > 1"
    )
    if not ctx.count("SELECT count(*) FROM _repeats"):
        return
    ctx.con.execute(
        "UPDATE _stage SET _reason = 'duplicate event_id ' || r.repeated || "
        "' (first used by record ' || r.first || ' of this file)', _raw = CAST(json_object("
        "'event', s_event, 'timestamp', s_ts, 'customer_id', s_customer_id, "
        "'anonymous_id', s_anonymous_id, 'email', s_email, 'event_id', s_event_id, "
        "'revenue', s_revenue) AS VARCHAR) "
        "FROM _repeats r WHERE _stage.s_event_id = r.repeated AND _stage._record <> r.first "
        "AND _stage._reason IS NULL"
    )


def _good_rows(ctx: LoadContext) -> str:
    """SQL for the rows to load: valid and not already loaded by an earlier load."""
    if not ctx.count("SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1)"):
        return "SELECT * FROM _stage WHERE _reason IS NULL"
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _seen AS SELECT s._record FROM _stage s "
        "SEMI JOIN events e ON e.event_id = s.s_event_id WHERE s._reason IS NULL"
    )
    return (
        "SELECT * FROM _stage WHERE _reason IS NULL AND _record NOT IN (SELECT _record FROM _seen)"
    )


def _resolve(ctx: LoadContext, good: str) -> tuple[int, int]:
    """Create and merge profiles so that every good row's identifier has a profile."""
    ctx.con.execute(f"CREATE OR REPLACE TEMP VIEW _good AS {good}")
    created = create_customers(ctx, "SELECT DISTINCT s_customer_id AS customer_id FROM _good")
    merges = 0
    for kind in ("anonymous_id", "email"):
        merges += apply_ties(
            ctx,
            kind,
            f"SELECT s_{kind} AS value, s_customer_id AS customer_id, (s_ts, _record) AS rank "
            f"FROM _good WHERE s_customer_id IS NOT NULL AND s_{kind} IS NOT NULL",
        )
    for key_kind in (KEY_ANONYMOUS, KEY_EMAIL):
        created += create_unknown(
            ctx, key_kind, f"SELECT DISTINCT _key AS k FROM _good WHERE _kk = {key_kind}"
        )
    return created, merges


def _insert(
    ctx: LoadContext, good: str, props: list[tuple[SourceColumn, Target]], has_json: bool
) -> int:
    pairs = []
    for i, (_, target) in enumerate(props):
        value = f"g.s_p{i}"
        if target.logical == "timestamp":
            # JSON has no timestamp type: keep an ISO 8601 UTC string.
            value = f"strftime(g.s_p{i}, '%Y-%m-%dT%H:%M:%S.%fZ')"
        pairs.append(f"{quote_str(target.name)}, {value}")
    # A null value is a missing one (DESIGN section 4), so columns are written as they are:
    # stripping null keys (json_merge_patch) cost 10 % of a large load.
    columns_json = f"json_object({', '.join(pairs)})" if pairs else None
    if columns_json is None:
        properties = "g.s_props"
    elif has_json:
        properties = f"json_merge_patch(coalesce(g.s_props, '{{}}'), {columns_json})"
    else:
        properties = columns_json
    ctx.con.execute(
        "CREATE OR REPLACE TEMP VIEW _idmap AS "
        f"SELECT {KEY_CUSTOMER} AS kk, customer_id AS key, pid FROM profiles "
        "WHERE customer_id IS NOT NULL UNION ALL "
        f"SELECT CASE kind WHEN 'anonymous_id' THEN {KEY_ANONYMOUS} ELSE {KEY_EMAIL} END, "
        "value, pid FROM identities"
    )
    ctx.run(
        "writing events",
        "INSERT INTO events SELECT m.pid, g.s_event, g.s_ts, g.s_event_id, g.s_revenue, "
        f"{properties}, g.s_anonymous_id, {ctx.load_id} FROM ({good}) g "
        "JOIN _idmap m ON m.kk = g._kk AND m.key = g._key",
    )
    return ctx.count(f"SELECT count(*) FROM events WHERE load_id = {ctx.load_id}")


def _update_activity(ctx: LoadContext) -> None:
    ctx.con.execute(
        "UPDATE profiles AS p SET "
        "first_event_at = least(coalesce(p.first_event_at, x.mn), x.mn), "
        "last_event_at = greatest(coalesce(p.last_event_at, x.mx), x.mx) "
        "FROM (SELECT pid, min(ts) AS mn, max(ts) AS mx FROM events "
        f"WHERE load_id = {ctx.load_id} GROUP BY pid) x WHERE p.pid = x.pid"
    )


def _record_usage(ctx: LoadContext, good: str, props: list[tuple[SourceColumn, Target]]) -> None:
    """Which events carry which properties: counted on staged columns, JSON keys only for
    JSON Lines objects (parsing every stored object again would cost a second pass)."""
    if props:
        counts = ", ".join(f"count(s_p{i}) AS c{i}" for i in range(len(props)))
        cursor = ctx.con.execute(f"SELECT s_event, {counts} FROM ({good}) GROUP BY s_event")
        pairs = [
            (row[0], target.name)
            for row in cursor.fetchall()
            for (_, target), n in zip(props, row[1:], strict=True)
            if n
        ]
        if pairs:
            ctx.con.execute("CREATE OR REPLACE TEMP TABLE _pairs (event VARCHAR, prop VARCHAR)")
            ctx.con.executemany("INSERT INTO _pairs VALUES (?, ?)", pairs)
            record_usage(ctx, "SELECT event, prop FROM _pairs")
    record_usage(
        ctx,
        f"SELECT s_event AS event, unnest(json_keys(s_props)) AS prop FROM ({good}) x "
        "WHERE s_props IS NOT NULL",
    )
