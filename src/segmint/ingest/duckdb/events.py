"""Loading events and orders: validation, de-duplication, identity, typed properties.

An order is stored as a purchase event (DESIGN section 3): event = the configured order event,
``event_id`` = ``order_id``, ``revenue`` = ``total``, other columns as properties.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmint.engine.sqltext import quote_ident, quote_str
from segmint.errors import IngestError
from segmint.ingest.duckdb.catalog import (
    Target,
    conflict_reason,
    property_catalog,
    record_properties,
    resolve,
)
from segmint.ingest.duckdb.context import LoadContext
from segmint.ingest.duckdb.orders import (
    ORDER_PROPERTIES,
    ROLE_COLUMNS,
    order_columns,
    order_counts,
    order_properties,
    prepare_orders,
)
from segmint.ingest.duckdb.sources import Source, check_names, json_columns
from segmint.ingest.duckdb.stage import (
    Check,
    convert_check,
    create_stage,
    infer_json,
    infer_types,
    json_text_checks,
    missing_check,
    range_check,
    require_scalar_column,
    sample_types,
    settle_stage,
)
from segmint.ingest.duckdb.types import (
    SourceColumn,
    bad_offset,
    cast_can_fail,
    cast_expr,
    json_path,
    money_can_fail,
    money_reason,
)
from segmint.store import catalog as stored_catalog
from segmint.store.events import (
    ROW_KEY,
    append_events,
    identity_map,
    mark_loaded_before,
    widen_activity,
)
from segmint.store.identities import (
    KEY_ANONYMOUS,
    KEY_EMAIL,
    apply_ties,
    create_customers,
    create_unknown,
)
from segmint.store.orders import store_orders, update_activity


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
# Columns that name something, and whether an integer is a name there (an id) or not.
_NAMING_COLUMNS = {
    "event": False,
    "email": False,
    "customer_id": True,
    "anonymous_id": True,
    "event_id": True,
    "order_id": True,
}


def load_events(ctx: LoadContext, source: Source, layout: Layout) -> dict[str, int]:
    """Validate, de-duplicate, resolve identities and append events.

    Typed inputs are validated as a view: a few narrow scans (Parquet reads only the
    columns each needs) gather counts and identities, then one scan writes the events.
    Text inputs are parsed and converted once into a stage table; their column types are
    guessed from a sample and checked during that one pass, and only a wrong guess costs
    a second pass.
    """
    _check_columns(source, layout)
    text_input = source.format in ("csv", "jsonl")
    props, guessed = _property_targets(ctx, source, layout)
    json_types = _build_stage(ctx, source, layout, props, guessed, text_input)
    wrong = _wrong_guesses(ctx, props, guessed)
    if wrong:
        fixed = infer_types(ctx, [col for col, _ in props if col.name in wrong])
        catalog = property_catalog(ctx)
        retyped = [
            (col, _target(col, fixed[col.name] or t.logical, catalog)) if col.name in wrong
            else (col, t)
            for col, t in props
        ]  # fmt: skip
        # A value that conflicts with a type fixed by an earlier load changes nothing: its
        # row is rejected, and the file is not read a second time for it.
        if retyped != props:
            props = retyped
            json_types = _build_stage(ctx, source, layout, props, set(), text_input)
    _scan_counts(ctx, props)
    settle_stage(ctx, ctx.count("SELECT sum(bad) FROM _counts"))
    _reject_repeats_in_file(ctx)
    orders = layout is ORDERS
    if orders:
        prepare_orders(ctx)
    good = _good_rows(ctx, layout)
    ctx.progress.phase("resolving identities")
    created, merges = _resolve(ctx, good)
    has_json = bool(json_types) or source.column("properties") is not None
    if orders:
        identity_map(ctx.con)
        store_orders(ctx, good, ctx.config.order_event)
        _insert(ctx, f"SELECT * FROM ({good}) WHERE s_counted", props, has_json, orders=True)
        new, changed, same = order_counts(ctx)
        inserted, duplicates, updated = new + changed, same, changed
        update_activity(ctx)
    else:
        inserted = _insert(ctx, good, props, has_json)
        widen_activity(ctx.con)
    carried = _carried(ctx, props)
    extra_types = ORDER_PROPERTIES if orders else {}
    record_properties(ctx, json_types | {t.name: t.logical for _, t in carried} | extra_types)
    _record_usage(ctx, good, [t.name for _, t in props])
    if orders:
        stored_catalog.record_usage(
            ctx.con,
            "SELECT g.s_event AS event, unnest(json_keys(json_merge_patch('{}', "
            f"{order_properties()}))) AS prop FROM ({good}) g WHERE g.s_counted",
        )
    extra = ctx.count("SELECT count(*) FROM _extra_rejects")
    if not orders:
        valid = ctx.count("SELECT sum(ok) FROM _counts") - extra
        duplicates, updated = valid - inserted, 0
    return {
        "inserted": inserted,
        "updated": updated,
        "duplicates": duplicates,
        "profiles_created": created,
        "merges": merges,
        "parsed": ctx.count("SELECT sum(ok) + sum(bad) FROM _counts"),
        "rejected_rows": ctx.count("SELECT sum(bad) FROM _counts") + extra,
    }


def _build_stage(
    ctx: LoadContext,
    source: Source,
    layout: Layout,
    props: list[tuple[SourceColumn, Target]],
    guessed: set[str],
    text_input: bool,
) -> dict[str, str]:
    """Create ``_stage``; returns the types of JSON Lines ``properties`` keys."""
    selects, checks = _core_columns(ctx, source, layout)
    for i, (col, target) in enumerate(props):
        selects.append(f"{cast_expr(col, target.logical)} AS s_p{i}")
        if cast_can_fail(col, target.logical):
            checks.append(convert_check(f"s_p{i}", col, conflict_reason(target, col.text())))
        if target.logical == "timestamp":
            checks.append(range_check(ctx, f"s_p{i}", col.name, col.text()))
        if col.name in guessed:
            selects.append(f"({col.present()} AND s_p{i} IS NULL) AS s_miss{i}")
    props_sql, props_checks, json_types = _json_properties(ctx, source)
    selects.append(f"{props_sql} AS s_props")
    checks.extend(props_checks)
    create_stage(ctx, source, selects, checks, materialize=text_input, to_file=text_input)
    return json_types


def _wrong_guesses(
    ctx: LoadContext, props: list[tuple[SourceColumn, Target]], guessed: set[str]
) -> set[str]:
    """Guessed columns with a value that did not convert to the guess."""
    flags = [(i, col.name) for i, (col, _) in enumerate(props) if col.name in guessed]
    if not flags:
        return set()
    row = (
        ctx.con.execute(
            f"SELECT {', '.join(f'bool_or(s_miss{i})' for i, _ in flags)} FROM _stage"
        ).fetchone()
        or ()
    )
    return {name for (_, name), wrong in zip(flags, row, strict=True) if wrong}


def _scan_counts(ctx: LoadContext, props: list[tuple[SourceColumn, Target]]) -> None:
    """One scan: good and rejected rows per event name, and which properties each carries."""
    # A CASE, not a FILTER per property: DuckDB copies the input rows for each filtered
    # aggregate, which took 29 s for 1,000 properties of 2,000 rows (0.3 s this way).
    present = "".join(
        f", count(CASE WHEN _reason IS NULL THEN s_p{i} END) AS c{i}" for i in range(len(props))
    )
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _counts AS SELECT s_event, "
        "count(*) FILTER (WHERE _reason IS NULL) AS ok, "
        f"count(*) FILTER (WHERE _reason IS NOT NULL) AS bad{present} FROM _stage GROUP BY s_event"
    )


def _check_columns(source: Source, layout: Layout) -> None:
    missing = [name for name in layout.required if source.column(name) is None]
    if layout.event is not None and not any(source.column(n) for n in _IDENTIFIERS):
        missing.append("one of customer_id, anonymous_id, email")
    if missing:
        raise IngestError(
            f"{source.label}: missing required column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(source.names) or 'none'})"
        )
    for name in _NAMING_COLUMNS:
        require_scalar_column(source.label, source.column(name), name)


def _core_columns(
    ctx: LoadContext, source: Source, layout: Layout
) -> tuple[list[str], list[Check]]:
    col = source.column
    selects: list[str] = []
    checks: list[Check] = []
    if layout.event is None:
        selects.append(f"{quote_str(ctx.config.order_event)} AS s_event")
    else:
        selects.append(f"{_clean(col(layout.event))} AS s_event")
        checks.append(missing_check(col(layout.event), "event"))
    for name in (layout.event, *_IDENTIFIERS, layout.event_id):
        if name is not None:
            checks.extend(json_text_checks(col(name), name, _NAMING_COLUMNS[name]))
    ts = _require(col(layout.timestamp))
    selects.append(f"{cast_expr(ts, 'timestamp')} AS s_ts")
    checks.append(missing_check(ts, layout.timestamp))
    if cast_can_fail(ts, "timestamp"):
        checks.append(
            convert_check(
                "s_ts",
                ts,
                f"'{layout.timestamp}: not an ISO 8601 timestamp' || CASE WHEN "
                f"{bad_offset(ts.text())} THEN ' (its UTC offset is outside -23:59..+23:59)' "
                f"ELSE '' END || ': \"' || left({ts.text()}, 60) || '\"'",
            )
        )
    checks.append(range_check(ctx, "s_ts", layout.timestamp, ts.text()))
    for name in _IDENTIFIERS:
        expr = _clean(col(name))
        selects.append(f"{'lower(' + expr + ')' if name == 'email' else expr} AS s_{name}")
    if layout.event is None:
        checks.append(missing_check(col("customer_id"), "customer_id"))
    else:
        checks.append(
            (
                "s_customer_id IS NULL AND s_anonymous_id IS NULL AND s_email IS NULL",
                "'missing customer_id, anonymous_id and email: an event needs one of them'",
            )
        )
    event_id = col(layout.event_id)
    selects.append(f"{_clean(event_id)} AS s_event_id")
    if layout.event is None:
        checks.append(missing_check(event_id, layout.event_id))
    revenue = col(layout.revenue)
    scale = ctx.config.ingest.money_scale
    selects.append(f"{cast_expr(revenue, 'money', scale) if revenue else 'NULL'} AS s_revenue")
    if revenue is not None and money_can_fail(revenue, scale):
        checks.append(
            convert_check("s_revenue", revenue, money_reason(layout.revenue, revenue, scale))
        )
    if layout.event is None:
        checks.append(missing_check(revenue, layout.revenue))
    if layout is ORDERS:
        more, more_checks = order_columns(ctx, source)
        selects.extend(more)
        checks.extend(more_checks)
    return selects, checks


def _require(col: SourceColumn | None) -> SourceColumn:
    assert col is not None  # _check_columns ran first
    return col


def _clean(col: SourceColumn | None) -> str:
    return "CAST(NULL AS VARCHAR)" if col is None else col.clean()


def _role_columns(layout: Layout) -> set[str]:
    roles = {layout.timestamp, layout.event_id, layout.revenue, *_IDENTIFIERS, "properties"}
    if layout is ORDERS:
        roles |= set(ROLE_COLUMNS)
    return roles | ({layout.event} if layout.event else set())


def _property_targets(
    ctx: LoadContext, source: Source, layout: Layout
) -> tuple[list[tuple[SourceColumn, Target]], set[str]]:
    """Property columns with their target types, and the names whose type is a guess."""
    roles = _role_columns(layout)
    columns = [c for c in source.columns if c.name not in roles]
    # Typed columns are not scanned for values here: the counts scan does, and a column
    # without any value is then left out of the catalog (see load_events).
    inferred, guessed = sample_types(ctx, columns, scan_typed=False)
    catalog = property_catalog(ctx)
    targets = [
        (col, _target(col, inferred[col.name], catalog))
        for col in columns
        if resolve(catalog.get(col.name), inferred[col.name])[0] is not None
    ]
    return targets, {c.name for c in guessed}


def _target(col: SourceColumn, inferred: str | None, catalog: dict[str, str]) -> Target:
    logical, _ = resolve(catalog.get(col.name), inferred)
    return Target(col.name, col.name, str(logical), col.name in catalog)


def _json_properties(ctx: LoadContext, source: Source) -> tuple[str, list[Check], dict[str, str]]:
    """The JSON Lines ``properties`` object, checks on its values, and its key types."""
    col = source.column("properties")
    if col is None or source.format != "jsonl":
        return "CAST(NULL AS JSON)", [], {}
    checks: list[Check] = [
        (
            f"{col.present()} AND json_type({col.sql}) <> 'OBJECT'",
            "'properties: expected a JSON object'",
        )
    ]
    catalog = property_catalog(ctx)
    types: dict[str, str] = {}
    for key, logical in _infer_json_keys(ctx, source.label, col).items():
        known = catalog.get(key)
        target, _ = resolve(known, logical)
        types[key] = target or logical
        value = SourceColumn(key, f"json_extract({col.sql}, {quote_str(json_path(key))})", "json")
        if types[key] == "timestamp":
            checks.append(range_check(ctx, cast_expr(value, "timestamp"), key, value.text()))
        if known is None or target == logical:
            continue
        checks.append(
            (
                f"{value.present()} AND ({cast_expr(value, types[key])}) IS NULL",
                conflict_reason(Target(key, key, types[key], True), value.text()),
            )
        )
    value_sql = f"CASE WHEN json_type({col.sql}) = 'OBJECT' THEN {col.sql} END"
    return value_sql, checks, types


def _infer_json_keys(ctx: LoadContext, label: str, col: SourceColumn) -> dict[str, str]:
    """Logical type of each key of a JSON object column, from the JSON types of its values.

    Keys that differ only in letter case refuse the file, as columns do (sources.check_names).
    """
    objects = f"SELECT _record, {col.sql} AS p FROM _src WHERE json_type({col.sql}) = 'OBJECT'"
    keys = [
        str(k)
        for (k,) in ctx.con.execute(
            f"SELECT k FROM (SELECT _record, unnest(json_keys(p)) AS k FROM ({objects})) "
            "GROUP BY k ORDER BY min(_record), k"
        ).fetchall()
    ]
    check_names(label, keys, "keys of properties")
    values = [SourceColumn(k, quote_ident(k), "json", "JSON") for k in keys]
    types = infer_json(ctx, json_columns("p", values, f"({objects})"), values)
    return {k: t for k, t in types.items() if t is not None}


def _reject_repeats_in_file(ctx: LoadContext) -> None:
    """A second row with an ``event_id`` already used earlier in the same file is rejected.

    Exact, but cheap in the common case: one aggregate keeps the 64-bit hashes of the good
    rows' event ids that occur more than once (none when no id repeats; this was 40 % faster
    than comparing a count with a distinct count). Only the ids of those hashes are then
    compared as strings.
    """
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _hot AS SELECT hash(s_event_id) AS h FROM _stage "
        "WHERE _reason IS NULL AND s_event_id IS NOT NULL GROUP BY h HAVING count(*) > 1"
    )
    if not ctx.count("SELECT count(*) FROM _hot"):
        return
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _candidates AS SELECT _record, s_event, s_ts, "
        "s_customer_id, s_anonymous_id, s_email, s_event_id, s_revenue FROM _stage "
        "WHERE _reason IS NULL AND hash(s_event_id) IN (SELECT h FROM _hot)"
    )
    ctx.con.execute(
        "INSERT INTO _extra_rejects SELECT c._record, 'duplicate event_id ' || c.s_event_id || "
        "' (first used by record ' || f.first || ' of this file)', CAST(json_object("
        "'event', c.s_event, 'timestamp', c.s_ts, 'customer_id', c.s_customer_id, "
        "'anonymous_id', c.s_anonymous_id, 'email', c.s_email, 'event_id', c.s_event_id, "
        "'revenue', c.s_revenue) AS VARCHAR) FROM _candidates c JOIN "
        "(SELECT s_event_id, min(_record) AS first FROM _candidates GROUP BY s_event_id) f "
        "ON f.s_event_id = c.s_event_id WHERE c._record <> f.first"
    )


def _good_rows(ctx: LoadContext, layout: Layout) -> str:
    """SQL for the rows to load: valid, not repeated in the file, not loaded before.

    Orders and events are two namespaces: an order is compared with the stored orders
    (ingest/duckdb/orders.py: skipped when unchanged, replaced when changed), an event is skipped
    when an earlier events load has its event_id (an order 1001 is not the event 1001)."""
    keys = ROW_KEY
    if layout is ORDERS:
        return f"SELECT *, {keys} FROM _orders_in WHERE s_change <> 'same'"
    conditions = ["_reason IS NULL"]
    if ctx.count("SELECT count(*) FROM _extra_rejects"):
        conditions.append("_record NOT IN (SELECT _record FROM _extra_rejects)")
    if mark_loaded_before(ctx.con):
        conditions.append("_record NOT IN (SELECT _record FROM _seen)")
    return f"SELECT *, {keys} FROM _stage WHERE {' AND '.join(conditions)}"


def _resolve(ctx: LoadContext, good: str) -> tuple[int, int]:
    """Create and merge profiles so that every good row's identifier has a profile.

    Works on the distinct identifier combinations of the load (about one row per person),
    gathered in one scan, so the 50M-row input is not read again here.
    """
    ctx.run(
        "gathering identities",
        "CREATE OR REPLACE TEMP TABLE _combos AS SELECT s_customer_id AS cid, "
        "s_anonymous_id AS anon, s_email AS email, min({'ts': s_ts, 'r': _record}) "
        # Only rows that tie an identifier to a customer need a rank (see apply_ties).
        "FILTER (WHERE s_customer_id IS NOT NULL AND (s_anonymous_id IS NOT NULL "
        "OR s_email IS NOT NULL)) AS first, "
        f"min(s_ts) AS first_ts, max(s_ts) AS last_ts FROM ({good}) GROUP BY ALL",
    )
    created = create_customers(ctx, "SELECT DISTINCT cid AS customer_id FROM _combos")
    merges = 0
    for kind, column in (("anonymous_id", "anon"), ("email", "email")):
        merges += apply_ties(
            ctx,
            kind,
            f"SELECT {column} AS value, cid AS customer_id, first AS rank FROM _combos "
            f"WHERE cid IS NOT NULL AND {column} IS NOT NULL",
        )
    created += create_unknown(ctx, KEY_ANONYMOUS, "SELECT anon AS k FROM _combos WHERE cid IS NULL")
    created += create_unknown(
        ctx, KEY_EMAIL, "SELECT email AS k FROM _combos WHERE cid IS NULL AND anon IS NULL"
    )
    return created, merges


def _insert(
    ctx: LoadContext,
    good: str,
    props: list[tuple[SourceColumn, Target]],
    has_json: bool,
    orders: bool = False,
) -> int:
    columns_json = _columns_json(ctx, props)
    if columns_json is None:
        properties = "g.s_props"
    elif has_json:
        properties = (
            f"json_merge_patch(coalesce(g.s_props, '{{}}'), coalesce({columns_json}, '{{}}'))"
        )
    else:
        properties = columns_json
    if orders:
        # The order's own amount, currency, status and refund, over any column's value.
        properties = f"json_merge_patch(coalesce({properties}, '{{}}'), {order_properties()})"
    identity_map(ctx.con)
    return append_events(ctx, good, properties)


# At most this many different property sets get their own JSON object; beyond, every key.
_MAX_KEY_SETS = 32


def _columns_json(ctx: LoadContext, props: list[tuple[SourceColumn, Target]]) -> str | None:
    """SQL for the property columns of a row as one JSON object (None without columns).

    A row carries only the keys its event name has values for somewhere in this load (from
    the counts scan): a page view is not written with the empty keys of product views. A
    null value is a missing one (DESIGN section 4), so the answer to a rule is the same;
    the objects are shorter to write and to read (2 s less on 50M events with 3 columns),
    and stripping null keys row by row (json_merge_patch) cost 10 % of a large load.
    """
    if not props:
        return None
    values = []
    for i, (_, target) in enumerate(props):
        value = f"g.s_p{i}"
        if target.logical == "timestamp":
            # JSON has no timestamp type: keep an ISO 8601 UTC string.
            value = f"strftime(g.s_p{i}, '%Y-%m-%dT%H:%M:%S.%fZ')"
        values.append(f"{quote_str(target.name)}, {value}")

    def json_object(keys: tuple[int, ...]) -> str:
        if not keys:
            return "CAST(NULL AS JSON)"
        return f"json_object({', '.join(values[i] for i in keys)})"

    columns = ", ".join(f"c{i}" for i in range(len(props)))
    sets: dict[tuple[int, ...], list[str]] = {}
    for event, *counts in ctx.con.execute(
        f"SELECT s_event, {columns} FROM _counts WHERE ok > 0 ORDER BY s_event"
    ).fetchall():
        sets.setdefault(tuple(i for i, n in enumerate(counts) if n), []).append(event)
    if len(sets) > _MAX_KEY_SETS:
        return json_object(tuple(range(len(props))))
    if len(sets) == 1:
        return json_object(next(iter(sets)))
    branches = " ".join(
        f"WHEN g.s_event IN ({', '.join(map(quote_str, events))}) THEN {json_object(keys)}"
        for keys, events in sets.items()
    )
    return f"CASE {branches} END"


def _carried(
    ctx: LoadContext, props: list[tuple[SourceColumn, Target]]
) -> list[tuple[SourceColumn, Target]]:
    """The property columns with at least one value among the good rows."""
    if not props:
        return []
    sums = ", ".join(f"sum(c{i})" for i in range(len(props)))
    row = ctx.con.execute(f"SELECT {sums} FROM _counts").fetchone() or ()
    return [p for p, n in zip(props, row, strict=True) if n]


def _record_usage(ctx: LoadContext, good: str, names: list[str]) -> None:
    """Which event names exist, and which properties each carries: from the counts scan
    for columns, and from the keys of JSON Lines ``properties`` objects."""
    stored_catalog.record_event_names(
        ctx.con, "SELECT s_event FROM _counts WHERE ok > 0", ctx.load_id
    )
    if names:
        # One unpivot of the counts, not a select per column (1,000 took a second to plan).
        counts = ", ".join(f"c{i}" for i in range(len(names)))
        props = ", ".join(f"('c{i}', {quote_str(name)})" for i, name in enumerate(names))
        stored_catalog.record_usage(
            ctx.con,
            f"SELECT u.s_event AS event, p.prop FROM (UNPIVOT (SELECT s_event, {counts} "
            f"FROM _counts) ON {counts} INTO NAME c VALUE n) u "
            f"JOIN (VALUES {props}) p(c, prop) ON p.c = u.c WHERE u.n > 0",
        )
    stored_catalog.record_usage(
        ctx.con,
        f"SELECT s_event AS event, unnest(json_keys(s_props)) AS prop FROM ({good}) x "
        "WHERE s_props IS NOT NULL",
    )
