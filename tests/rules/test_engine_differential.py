"""The differential test on PostgreSQL and Spark.

The random store of tests/rules/random_store.py (loaded into DuckDB through the ingest) is
copied into each engine as it is stored: profiles with every attribute type, events with
their properties as one JSON column (``jsonb`` on PostgreSQL, a JSON string on Spark).
Rules are compiled for the engine with their instants as UTC literals, run there, and
their members compared with the reference evaluator (tests/rules/reference.py). Many rules
go into one query (``compile_many``: a boolean column per rule), so every leaf kind and a
few hundred random trees cost a few queries per engine.

One PostgreSQL pass runs with the session time zone set to America/New_York: the windows
of the 2026-03-01 as_of reach back across the DST change of 2025-11-02, and a day count
that followed the session's calendar would move customers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.engine.base import Engine
from segmint.rules.compile import compile_many, compile_rule, inline_segments
from segmint.rules.text import parse, to_text
from tests.conftest import db
from tests.rules.random_store import AS_OFS, RandomStore, build_store
from tests.rules.reference import evaluate
from tests.rules.strategies import every_leaf, rules
from tests.rules.test_differential import SEEDS, SEGMENTS

# Random trees per engine: examples x trees per example (one query each).
TREES = {"postgres": (8, 25), "spark": (2, 40)}
# Trees of each example also run one by one, on the single-rule path.
SINGLE = 4
CHUNK = {"postgres": 150, "spark": 50}


@pytest.fixture(scope="module")
def random_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RandomStore]:
    built = build_store(tmp_path_factory.mktemp("engines"), SEEDS[0])
    for name, text in SEGMENTS.items():
        built.ws.add_segment(name, text)
    yield built
    built.ws.close()


def stored_tables(ws: Any) -> tuple[Any, Any]:
    """The stored profiles and events of workspace ``ws`` as Arrow tables, properties as
    JSON text (the engine fixtures make them ``jsonb`` on PostgreSQL)."""
    con = db(ws)
    profiles = con.execute("SELECT * FROM profiles").arrow().read_all()
    events = (
        con.execute(
            "SELECT pid, event, ts, event_id, revenue, CAST(properties AS VARCHAR) AS properties, "
            "anonymous_id, load_id FROM events"
        )
        .arrow()
        .read_all()
    )
    return profiles, events


def copy_to_postgres(engine: Any, ws: Any) -> None:
    """Tables ``profiles`` and ``events`` (properties as ``jsonb``) copied from ``ws``."""
    profiles, events = stored_tables(ws)
    engine.create_table("profiles", profiles)
    engine.create_table("events", events)
    engine.con.execute(
        "ALTER TABLE events ALTER COLUMN properties TYPE jsonb USING properties::jsonb"
    )


def copy_to_spark(engine: Any, ws: Any) -> None:
    """Temporary views ``profiles`` and ``events`` (properties as JSON text) from ``ws``."""
    profiles, events = stored_tables(ws)
    engine.create_table("profiles", profiles, temporary=True)
    engine.create_table("events", events, temporary=True)


@pytest.fixture(scope="module")
def postgres(postgres_url: str, random_store: RandomStore) -> Iterator[Engine]:
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    copy_to_postgres(engine, random_store.ws)
    yield engine
    engine.drop_table("profiles")
    engine.drop_table("events")
    engine.con.close()


def typed_events(ws: Any) -> Any:
    """The stored events with every property as a typed column ``p_NAME`` (values as the
    DuckDB compiler reads them from the JSON) and no JSON at all."""
    import ibis

    from segmint.engine.dialects import BACKENDS
    from segmint.engine.render import render_sql
    from segmint.engine.tables import events_table

    catalog = ws.evaluator().catalog
    t = events_table()
    columns = {
        f"p_{prop}": BACKENDS["duckdb"].json_property(t.properties, prop, kind)
        for prop, kind in sorted(catalog.properties.items())
    }
    expr = t.select("pid", "event", "ts", "revenue", **columns).mutate(
        properties=ibis.null().cast("string")
    )
    return db(ws).execute(render_sql(expr, "duckdb")).arrow().read_all()


def typed_catalog(ws: Any) -> Any:
    """The catalog of ``ws`` with every property read from its typed column."""
    from dataclasses import replace

    catalog = ws.evaluator().catalog
    return replace(catalog, property_columns={p: f"p_{p}" for p in catalog.properties})


@pytest.fixture(scope="module")
def postgres_typed(postgres_url: str, random_store: RandomStore) -> Iterator[Engine]:
    """The random store on PostgreSQL with its properties as typed columns, no JSON."""
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    engine.run("CREATE SCHEMA typed")
    engine.run("SET search_path TO typed, public")
    profiles, _ = stored_tables(random_store.ws)
    # Made in schema typed, first on the search path; public's tables stay as they are.
    engine.create_table("profiles", profiles)
    engine.create_table("events", typed_events(random_store.ws))
    engine.run("ALTER TABLE events ALTER COLUMN properties TYPE jsonb USING properties::jsonb")
    yield engine
    engine.run("DROP SCHEMA typed CASCADE")
    engine.con.close()


@pytest.fixture(scope="module")
def spark_engine(spark: Any, random_store: RandomStore) -> Iterator[Engine]:
    from segmint.engine.spark import SparkEngine

    engine = SparkEngine(spark)
    copy_to_spark(engine, random_store.ws)
    yield engine
    engine.drop_table("profiles", temporary=True)
    engine.drop_table("events", temporary=True)


def _differences(
    engine: Engine,
    store: RandomStore,
    trees: list[Any],
    as_of: Any,
    chunk: int,
    catalog: Any = None,
) -> list[str]:
    """The rules whose members on ``engine`` differ from the reference's, as lines."""
    catalog = catalog or store.ws.evaluator().catalog
    segments = {n: parse(t) for n, t in SEGMENTS.items()}
    cid = store.data.customer_ids
    lines = []
    for start in range(0, len(trees), chunk):
        part = trees[start : start + chunk]
        inlined = [inline_segments(t, catalog) for t in part]
        result = engine.to_arrow(compile_many(inlined, catalog, as_of, backend=engine.name))
        columns = result.to_pydict()
        for i, tree in enumerate(part):
            got = {cid[p] for p, hit in zip(columns["pid"], columns[f"s{i}"], strict=True) if hit}
            want = evaluate(tree, store.data, as_of, segments)
            if got != want:
                lines.append(
                    f"{to_text(tree)} at {as_of.isoformat()}: engine only "
                    f"{sorted(got - want)[:6]}, reference only {sorted(want - got)[:6]}"
                )
    return lines


def _vocab(store: RandomStore) -> Any:
    from dataclasses import replace

    return replace(store.vocab, segments=sorted(SEGMENTS))


@pytest.mark.postgres
@pytest.mark.parametrize("as_of", AS_OFS, ids=lambda a: a.date().isoformat())
def test_every_leaf_on_postgres(postgres: Engine, random_store: RandomStore, as_of: Any) -> None:
    leaves = every_leaf(_vocab(random_store))
    assert len(leaves) > 500
    failures = _differences(postgres, random_store, leaves, as_of, CHUNK["postgres"])
    assert not failures, f"{len(failures)} leaves differ:\n" + "\n".join(failures[:30])


@pytest.mark.postgres
def test_every_leaf_on_postgres_in_a_zone_with_dst(
    postgres: Engine, random_store: RandomStore
) -> None:
    postgres.con.execute("SET TIME ZONE 'America/New_York'")
    try:
        leaves = every_leaf(_vocab(random_store))
        failures = _differences(postgres, random_store, leaves, AS_OFS[0], CHUNK["postgres"])
    finally:
        postgres.con.execute("SET TIME ZONE 'UTC'")
    assert not failures, f"{len(failures)} leaves differ:\n" + "\n".join(failures[:30])


@pytest.mark.postgres
@pytest.mark.parametrize("as_of", AS_OFS[:2], ids=lambda a: a.date().isoformat())
def test_every_leaf_on_postgres_with_typed_property_columns(
    postgres_typed: Engine, random_store: RandomStore, as_of: Any
) -> None:
    """Properties as typed columns of the events table (docs/sources.md,
    ``property_columns``) and no JSON: the same members as the reference."""
    leaves = every_leaf(_vocab(random_store))
    catalog = typed_catalog(random_store.ws)
    failures = _differences(postgres_typed, random_store, leaves, as_of, CHUNK["postgres"], catalog)
    assert not failures, f"{len(failures)} leaves differ:\n" + "\n".join(failures[:30])


@pytest.mark.spark
def test_every_leaf_on_spark_in_a_zone_with_dst(
    spark: Any, spark_engine: Engine, random_store: RandomStore
) -> None:
    """Spark's one pass runs in America/New_York (its queries follow the session zone the
    same way PostgreSQL's do)."""
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        leaves = every_leaf(_vocab(random_store))
        failures = _differences(spark_engine, random_store, leaves, AS_OFS[0], CHUNK["spark"])
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert not failures, f"{len(failures)} leaves differ:\n" + "\n".join(failures[:30])


def _random_trees(engine_name: str) -> Any:
    examples = TREES[engine_name][0]
    if os.environ.get("SEGMINT_DIFF_EXAMPLES"):
        examples = max(1, int(os.environ["SEGMINT_DIFF_EXAMPLES"]) // 100)
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


@pytest.mark.postgres
@_random_trees("postgres")
@given(data=st.data())
def test_random_trees_on_postgres(
    postgres: Engine, random_store: RandomStore, data: st.DataObject
) -> None:
    _check_random(postgres, random_store, data)


@pytest.mark.spark
@_random_trees("spark")
@given(data=st.data())
def test_random_trees_on_spark(
    spark_engine: Engine, random_store: RandomStore, data: st.DataObject
) -> None:
    _check_random(spark_engine, random_store, data)


def _check_random(engine: Engine, store: RandomStore, data: st.DataObject) -> None:
    n = TREES[engine.name][1]
    trees = data.draw(st.lists(rules(_vocab(store), depth=4), min_size=n, max_size=n))
    as_of = data.draw(st.sampled_from(AS_OFS))
    failures = _differences(engine, store, trees, as_of, n)
    assert not failures, f"{len(failures)} trees differ:\n" + "\n".join(failures[:10])
    # A single rule compiles on its own path (``compile_rule``: hit masks of one left join
    # on these engines, no NOT IN): a few of the trees again, one query each.
    catalog = store.ws.evaluator().catalog
    segments = {name: parse(text) for name, text in SEGMENTS.items()}
    cid = store.data.customer_ids
    for tree in trees[:SINGLE]:
        members = compile_rule(inline_segments(tree, catalog), catalog, as_of, engine.name)
        got = {cid[p] for p in engine.to_arrow(members).column("pid").to_pylist()}
        want = evaluate(tree, store.data, as_of, segments)
        assert got == want, f"{to_text(tree)} at {as_of.isoformat()}: {sorted(got ^ want)[:8]}"
