"""A source-mode workspace's data: the user's own customers and events tables in
PostgreSQL or Spark, seen through two temporary views with segmint's column names.

The compiled rules read ``profiles`` and ``events`` (engine/tables.py). On a source, those
names are temporary views of the session, made from ``[source]`` in segmint.toml
(docs/sources.md): the customer id is both ``pid`` and ``customer_id``, the events keep
their own ids, times, names, properties and revenue. Nothing is copied: the views are
read where the data lives. Every name comes from the config, which admits plain
identifiers only (config.py), and is quoted for the engine's dialect here.

The catalog a rule is checked against is read from the source once (``segmint catalog
refresh``) and kept in the workspace's own catalog tables: attribute columns and their
types from the customers table, event names from one scan of the event-name column, and
property names and types from the latest ``sample_rows`` events.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from segmint.store.catalog import EVENT_DAY_KEY, PROPERTY_COLUMNS_KEY

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from segmint.config import SourceConfig
    from segmint.engine.base import Engine

# Per engine: the schema an unqualified table is in, and the types the views cast to.
_DEFAULT_SCHEMA = {"postgres": "public", "spark": "default"}
_TYPES = {
    "postgres": {"text": "TEXT", "ts": "TIMESTAMPTZ", "json": "JSONB", "money": "NUMERIC(18, 4)"},
    "spark": {"text": "STRING", "ts": "TIMESTAMP", "json": "STRING", "money": "DECIMAL(18, 4)"},
}
# Columns of the profiles view that are not attributes.
_PEOPLE = ("pid", "customer_id", "created_at", "first_event_at", "last_event_at")
_ISO_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}.*)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _quote(engine: str, name: str) -> str:
    """A checked name quoted for the engine: "name" on PostgreSQL, `name` on Spark."""
    mark = "`" if engine == "spark" else '"'
    return mark + name.replace(mark, mark * 2) + mark


def _table(engine: str, name: str) -> str:
    """A configured table name, schema-qualified (so a view of the same name as the table
    it reads does not read itself) and quoted."""
    parts = name.split(".") if "." in name else [_DEFAULT_SCHEMA[engine], name]
    return ".".join(_quote(engine, p) for p in parts)


@dataclass(frozen=True)
class ActivityRows:
    """A committed version of the activity table (store/activity.py) as the ``profiles``
    view reads it: ``rows``, SQL a FROM clause can read with ``pid``, ``first_event_at``
    and ``last_event_at``; ``since``, the latest event time it includes as a literal of
    the engine (None: the version holds no events, and every event is newer)."""

    rows: str
    since: str | None


def view_statements(
    source: SourceConfig, attributes: list[str], activity: ActivityRows | None = None
) -> list[str]:
    """The statements that make the ``profiles`` and ``events`` views of ``source``;
    ``attributes`` are the customers columns to expose (checked identifiers). With
    ``activity``, each customer's first and last event come from it and from the events
    newer than it; without, from an aggregate of all the events.

    >>> from segmint.config import SourceConfig
    >>> cfg = SourceConfig(engine="postgres", url="postgresql://u@h/d", customers="shop.people")
    >>> print(view_statements(cfg, ["country"])[0])  # doctest: +NORMALIZE_WHITESPACE
    CREATE OR REPLACE TEMP VIEW profiles AS SELECT CAST(c."customer_id" AS TEXT) AS pid,
    CAST(c."customer_id" AS TEXT) AS customer_id, CAST(NULL AS TIMESTAMPTZ) AS created_at,
    a.first_event_at, a.last_event_at, c."country" FROM "shop"."people" c LEFT JOIN
    (SELECT pid, CAST(min(ts) AS TIMESTAMPTZ) AS first_event_at, CAST(max(ts) AS
    TIMESTAMPTZ) AS last_event_at FROM (SELECT CAST(x."customer_id" AS TEXT) AS pid,
    CAST(x."event" AS TEXT) AS event, CAST(x."timestamp" AS TIMESTAMPTZ) AS ts, CAST(NULL
    AS NUMERIC(18, 4)) AS revenue, CAST(x."properties" AS JSONB) AS properties FROM
    "public"."events" x WHERE x."customer_id" IS NOT NULL) r GROUP BY pid) a ON a.pid =
    CAST(c."customer_id" AS TEXT) WHERE c."customer_id" IS NOT NULL
    """
    e = source.engine
    t = _TYPES[e]
    q = _quote_for(e)
    cid = q(source.customer_id)
    created = (
        f"CAST(c.{q(source.created_at)} AS {t['ts']})"
        if source.created_at
        else f"CAST(NULL AS {t['ts']})"
    )
    key = f"CAST(c.{cid} AS {t['text']})"
    # First and last event of each customer, as the embedded store keeps them: the
    # "seen" traits read them, and so does who exists at as_of (a customer without a
    # creation time exists from their first event), so every rule reads first_event_at.
    # Without an activity version each query aggregates all the events for it
    # (docs/sources.md, "Cost"); with one it reads the version and aggregates only the
    # events after its watermark, a filter on the event time that engines prune with.
    if activity is None:
        seen = ["a.first_event_at", "a.last_event_at"]
        joins = f"LEFT JOIN ({activity_query(source)}) a ON a.pid = {key}"
    else:
        seen = [
            "coalesce(a.first_event_at, n.first_event_at) AS first_event_at",
            "greatest(a.last_event_at, n.last_event_at) AS last_event_at",
        ]
        joins = (
            f"LEFT JOIN {activity.rows} a ON a.pid = {key} "
            f"LEFT JOIN ({activity_query(source, after=activity.since)}) n ON n.pid = {key}"
        )
    people = [
        f"{key} AS pid",
        f"{key} AS customer_id",
        f"{created} AS created_at",
        *seen,
        *[f"c.{q(a)}" for a in attributes if a not in _PEOPLE],
    ]
    profiles = (
        f"CREATE OR REPLACE TEMP VIEW profiles AS SELECT {', '.join(people)} "
        f"FROM {_table(e, source.customers)} c {joins} WHERE c.{cid} IS NOT NULL"
    )
    return [profiles, f"CREATE OR REPLACE TEMP VIEW events AS {event_rows(source)}"]


def activity_query(source: SourceConfig, after: str | None = None) -> str:
    """Each customer's first and last event time (``pid``, ``first_event_at``,
    ``last_event_at``) over the source's events, or over those later than the instant
    literal ``after`` (compared with the event-time column as it is, so that an index on
    it or the files' time statistics can skip the older events)."""
    t = _TYPES[source.engine]
    return (
        f"SELECT pid, CAST(min(ts) AS {t['ts']}) AS first_event_at, CAST(max(ts) AS "
        f"{t['ts']}) AS last_event_at FROM ({event_rows(source, after)}) r GROUP BY pid"
    )


def event_rows(source: SourceConfig, after: str | None = None) -> str:
    """The source's events with segmint's column names (pid, event, ts, revenue,
    properties, the typed ``p_NAME`` columns, ``event_day`` with ``[source] event_date``):
    the events table, each person id mapped through the identity map when there is one,
    and the orders table's purchases when there is one. ``after`` (an instant literal)
    keeps the later rows only, tested on each table's own time column so that an index or
    the files' statistics skip the rest."""
    e = source.engine
    t = _TYPES[e]
    q = _quote_for(e)
    person = f"x.{q(source.event_customer_id)}"
    at = f"x.{q(source.event_time)}"
    joins = ""
    if source.identities:
        # An id the map knows is its customer's; any other is a customer id as it is.
        joins = (
            f" LEFT JOIN {_table(e, source.identities)} m ON "
            f"CAST(m.{q(source.identity_id)} AS {t['text']}) = CAST({person} AS {t['text']})"
        )
        person = f"coalesce(CAST(m.{q(source.identity_customer_id)} AS {t['text']}), {person})"
    props = f"x.{q(source.properties)}" if source.properties else "NULL"
    revenue = f"x.{q(source.revenue)}" if source.revenue else "NULL"
    typed = [(f"x.{q(c)}", property_column(c)) for c in source.property_columns]
    day = f"x.{q(source.event_date)}" if source.event_date else None
    rows = [
        _rows(source, person, f"x.{q(source.event_name)}", at, revenue, props, typed, day)
        + f" FROM {_table(e, source.events)} x{joins} WHERE x.{q(source.event_customer_id)} "
        f"IS NOT NULL" + (f" AND {at} > {after}" if after is not None else "")
    ]
    if source.orders:
        rows.append(_order_rows(source, after))
    return " UNION ALL ".join(rows)


def _rows(
    source: SourceConfig,
    person: str,
    event: str,
    at: str,
    revenue: str,
    props: str,
    typed: list[tuple[str, str]],
    day: str | None,
) -> str:
    """The SELECT list of one table's rows in the events view's columns and types."""
    t = _TYPES[source.engine]
    q = _quote_for(source.engine)
    columns = [
        f"CAST({person} AS {t['text']}) AS pid",
        f"CAST({event} AS {t['text']}) AS event",
        f"CAST({at} AS {t['ts']}) AS ts",
        f"CAST({revenue} AS {t['money']}) AS revenue",
        f"CAST({props} AS {t['json']}) AS properties",
        *[f"{value} AS {q(column)}" for value, column in typed],
    ]
    if source.event_date:
        # The partition column as it is (a cast would hide it from partition pruning);
        # the orders' day is their time's.
        columns.append(f"{day} AS event_day" if day else f"CAST({at} AS DATE) AS event_day")
    return "SELECT " + ", ".join(columns)


def _order_rows(source: SourceConfig, after: str | None) -> str:
    """The orders that are purchases, as purchase events: revenue is the total less what
    was refunded; an order with an excluded status, or refunded in full, is not one."""
    from segmint.engine.sqltext import quote_str

    e = source.engine
    q = _quote_for(e)
    at = f"o.{q(source.order_time)}"
    total = f"o.{q(source.order_total)}"
    refunded = f"coalesce(o.{q(source.order_refunded)}, 0)" if source.order_refunded else "0"
    tests = [
        f"o.{q(source.order_customer_id)} IS NOT NULL",
        f"NOT ({refunded} > 0 AND {refunded} >= {total})",
    ]
    if source.order_status and source.order_excluded:
        statuses = ", ".join(quote_str(s.lower()) for s in source.order_excluded)
        status = f"o.{q(source.order_status)}"
        tests.append(f"({status} IS NULL OR lower({status}) NOT IN ({statuses}))")
    if after is not None:
        tests.append(f"{at} > {after}")
    typed = [("NULL", property_column(c)) for c in source.property_columns]
    select = _rows(
        source,
        f"o.{q(source.order_customer_id)}",
        quote_str(source.order_event),
        at,
        f"{total} - {refunded}",
        "NULL",
        typed,
        None,
    )
    return f"{select} FROM {_table(e, source.orders)} o WHERE {' AND '.join(tests)}"


def instant(engine: str, when: datetime) -> str:
    """A UTC instant as a literal of the engine's timestamp type, with its offset written
    out (so a Spark session in another time zone reads the same instant).

    >>> from datetime import UTC, datetime
    >>> instant("postgres", datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC))
    "CAST('2026-03-01 12:00:00.000005+00:00' AS TIMESTAMPTZ)"
    """
    text = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"CAST('{text}+00:00' AS {_TYPES[engine]['ts']})"


def property_column(name: str) -> str:
    """The events view's column of a property kept as a typed column (prefixed, so that
    a property named ``event`` or ``ts`` cannot take a view column's name)."""
    return f"p_{name}"


def _quote_for(engine: str) -> Any:
    return lambda name: _quote(engine, name)


def attach(
    engine: Engine,
    source: SourceConfig,
    attributes: list[str],
    activity: ActivityRows | None = None,
) -> None:
    """Make the ``profiles`` and ``events`` views in the engine's session (reading
    ``activity`` when given)."""
    for statement in view_statements(source, attributes, activity):
        engine.run(statement)


def customer_columns(engine: Engine, source: SourceConfig) -> dict[str, str]:
    """The attribute columns of the customers table and their logical types (columns of
    a type no rule can compare are left out)."""
    e = source.engine
    table = engine.to_arrow(f"SELECT * FROM {_table(e, source.customers)} LIMIT 0")
    wanted = None if "*" in source.attributes else set(source.attributes)
    taken = {source.customer_id, source.created_at, *_PEOPLE}
    found = {}
    for column in table.schema:
        if column.name in taken or (wanted is not None and column.name not in wanted):
            continue
        kind = _logical(column.type)
        if kind is not None and _IDENTIFIER.fullmatch(column.name):
            found[column.name] = kind
    if source.created_at:
        # A rule may name the creation time, as on the embedded store (the view's column).
        found["created_at"] = "timestamp"
    # And the customer id (a static list of members is a rule on it).
    found["customer_id"] = "string"
    return found


def _logical(arrow_type: pa.DataType) -> str | None:
    import pyarrow.types as t

    if t.is_boolean(arrow_type):
        return "bool"
    if t.is_integer(arrow_type):
        return "integer"
    if t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "float"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "string"
    if t.is_timestamp(arrow_type):
        return "timestamp"
    if t.is_date(arrow_type):
        return "date"
    if (t.is_list(arrow_type) or t.is_large_list(arrow_type)) and (
        t.is_string(arrow_type.value_type) or t.is_large_string(arrow_type.value_type)
    ):
        return "list"
    return None


@dataclass(frozen=True)
class SourceCatalog:
    """What a rule on a source may name: attributes, event names, property types and
    which event carries which property."""

    attributes: dict[str, str]
    events: list[str]
    properties: dict[str, str]
    usage: list[tuple[str, str]]
    # Properties that are typed events columns: name -> the events view's column.
    property_columns: dict[str, str] = field(default_factory=dict)
    # Whether the events view has the partition date (``[source] event_date``).
    event_day: bool = False


def read_source_catalog(engine: Engine, source: SourceConfig) -> SourceCatalog:
    """The catalog of a source (the views must be attached)."""
    attributes = customer_columns(engine, source)
    names = engine.to_arrow("SELECT DISTINCT event FROM events WHERE event IS NOT NULL")
    events = sorted(str(e) for e in names.column(0).to_pylist())
    properties: dict[str, str] = {}
    usage: list[tuple[str, str]] = []
    typed = _typed_property_columns(engine, source)
    if source.properties:
        sample = engine.to_arrow(
            "SELECT event, properties FROM events WHERE properties IS NOT NULL "
            f"ORDER BY ts DESC LIMIT {int(source.sample_rows)}"
        )
        properties, usage = _property_types(
            sample.column(0).to_pylist(), sample.column(1).to_pylist()
        )
    if typed:
        q = _quote_for(source.engine)
        counted = ", ".join(f"count({q(property_column(p))}) AS n{i}" for i, p in enumerate(typed))
        seen = engine.to_arrow(
            f"SELECT event, {counted} FROM (SELECT * FROM events ORDER BY ts DESC "
            f"LIMIT {int(source.sample_rows)}) s GROUP BY event"
        ).to_pylist()
        found = {
            (str(row["event"]), name)
            for row in seen
            for i, name in enumerate(typed)
            if row[f"n{i}"]
        }
        properties = {**properties, **typed}
        usage = sorted({*usage, *found})
    columns = {p: property_column(p) for p in typed}
    return SourceCatalog(attributes, events, properties, usage, columns, bool(source.event_date))


def _typed_property_columns(engine: Engine, source: SourceConfig) -> dict[str, str]:
    """The logical type of each ``property_columns`` column of the events table (a column
    of a type no rule can compare is left out)."""
    if not source.property_columns:
        return {}
    schema = engine.to_arrow(f"SELECT * FROM {_table(source.engine, source.events)} LIMIT 0").schema
    types = {column.name: _logical(column.type) for column in schema}
    return {c: kind for c in source.property_columns if (kind := types.get(c)) is not None}


def _property_types(
    events: list[Any], texts: list[Any]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Each property key's type from the JSON values seen (the ingest's rules: integers
    that meet floats are floats, ISO instants are timestamps; a key whose values disagree
    otherwise is left out), and the (event, key) pairs seen."""
    kinds: dict[str, set[str]] = defaultdict(set)
    pairs: set[tuple[str, str]] = set()
    for event, text in zip(events, texts, strict=True):
        try:
            value = json.loads(text) if isinstance(text, str) else text
        except ValueError:
            continue
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            if not _IDENTIFIER.fullmatch(str(key)) or item is None:
                continue
            kinds[key].add(_json_kind(item))
            pairs.add((str(event), str(key)))
    types = {}
    for key, seen in kinds.items():
        if seen <= {"integer", "float"}:
            types[key] = "float" if "float" in seen else "integer"
        elif len(seen) == 1 and "object" not in seen:
            types[key] = next(iter(seen))
        elif seen <= {"timestamp", "string"}:
            types[key] = "string"
    return types, sorted(p for p in pairs if p[1] in types)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return "list" if all(isinstance(v, str) for v in value) else "object"
    if isinstance(value, str):
        return "timestamp" if _ISO_INSTANT.fullmatch(value) else "string"
    return "object"


def store_source_catalog(con: duckdb.DuckDBPyConnection, catalog: SourceCatalog) -> None:
    """Replace the workspace's catalog tables with a source's catalog."""
    con.execute("DELETE FROM attributes")
    con.execute("DELETE FROM event_names")
    con.execute("DELETE FROM event_properties")
    con.execute("DELETE FROM event_property_usage")
    for name, kind in catalog.attributes.items():
        con.execute("INSERT INTO attributes VALUES (?, ?, ?, false, NULL)", [name, name, kind])
    for event in catalog.events:
        con.execute("INSERT INTO event_names VALUES (?, 0)", [event])
    for prop, kind in catalog.properties.items():
        con.execute("INSERT INTO event_properties VALUES (?, ?, 0)", [prop, kind])
    for event, prop in catalog.usage:
        con.execute("INSERT INTO event_property_usage VALUES (?, ?)", [event, prop])
    con.execute("DELETE FROM meta WHERE key IN (?, ?)", [PROPERTY_COLUMNS_KEY, EVENT_DAY_KEY])
    if catalog.event_day:
        con.execute("INSERT INTO meta VALUES (?, 'true')", [EVENT_DAY_KEY])
    if catalog.property_columns:
        con.execute(
            "INSERT INTO meta VALUES (?, ?)",
            [PROPERTY_COLUMNS_KEY, json.dumps(catalog.property_columns, sort_keys=True)],
        )


def open_source(source: SourceConfig, attributes: list[str]) -> Engine:
    """The engine of ``source`` with its views attached (``attributes``: the customers
    columns the catalog knows)."""
    from segmint.errors import BackendError

    engine: Engine
    try:
        if source.engine == "postgres":
            from segmint.engine.postgres import connect

            engine = connect(source.url)
        else:
            from segmint.engine.spark import SparkEngine, session

            engine = SparkEngine(session(master=source.master, conf=source.spark_settings))
    except ImportError as exc:
        raise BackendError(
            "", source.engine, f"reading a source without {exc.name} installed"
        ) from None
    attach(engine, source, attributes)
    return engine


def close_source(engine: Engine) -> None:
    """Close a source's connection (a Spark session stays: others may share it)."""
    close = getattr(getattr(engine, "con", None), "close", None)
    if engine.name == "postgres" and callable(close):
        close()
