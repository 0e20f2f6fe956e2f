"""The computed traits on PostgreSQL and Spark against the pandas reference.

One random traits workspace of tests/traits/test_traits_reference.py (email events, heavy
buyers, purchases without revenue) is copied into each engine as it is stored (as
tests/rules/test_engine_differential.py copies its store); the traits expression is
compiled for the engine with its instants as UTC literals, run there in one query per
as_of, and every trait that SQL computes is compared per customer with
tests/traits/reference.py, with the tolerances of the DuckDB comparison. The CLV traits
(the model fits run in Python, and churn_risk and value_tier are built on them) are not
compared here.

A pass on each engine runs with the session time zone set to America/New_York: the
windows of the 2026-03-01 as_of (60, 90 and 120 days, days since an order, tenure) reach
back across the DST change of 2025-11-02, and a day count or a window that followed the
session's calendar would move by an hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd
import pytest

from segmint.config import Config
from segmint.engine.base import Engine
from segmint.traits.definitions import MODEL_TRAITS, TRAIT_NAMES
from tests.rules.random_store import AS_OFS
from tests.rules.test_engine_differential import copy_to_postgres, copy_to_spark
from tests.traits import reference as ref
from tests.traits.test_traits_reference import FIXED, SEEDS, Case, build_case, same

# Every trait that the traits query computes in SQL.
SQL_TRAITS = tuple(t for t in TRAIT_NAMES if t not in MODEL_TRAITS)
ZONE = "America/New_York"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    built = build_case(tmp_path_factory.mktemp("engine-traits"), SEEDS[0])
    yield built
    built.ws.close()


@pytest.fixture(scope="module")
def postgres(postgres_url: str, case: Case) -> Iterator[Engine]:
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    copy_to_postgres(engine, case.ws)
    yield engine
    engine.drop_table("profiles")
    engine.drop_table("events")
    engine.con.close()


@pytest.fixture(scope="module")
def spark_engine(spark: Any, case: Case) -> Iterator[Engine]:
    from segmint.engine.spark import SparkEngine

    engine = SparkEngine(spark)
    copy_to_spark(engine, case.ws)
    yield engine
    engine.drop_table("profiles", temporary=True)
    engine.drop_table("events", temporary=True)


def other_settings(config: Config) -> Config:
    """``config`` with R as quintiles among buyers and every lifecycle threshold fixed (the
    paths that the workspace's defaults, cadence R and derived thresholds, do not take)."""
    lifecycle = {k: v for k, v in FIXED.items() if k != "loyal_orders"}
    return replace(
        config,
        rfm=replace(config.rfm, recency="quintiles"),
        lifecycle=replace(config.lifecycle, **lifecycle, loyal_orders=FIXED["loyal_orders"]),
    )


def engine_traits(engine: Engine, config: Config, as_of: datetime) -> pd.DataFrame:
    """Every SQL trait of every customer at ``as_of``, computed on ``engine``."""
    from segmint.engine.clock import Clock
    from segmint.traits.expressions import TraitSettings
    from segmint.traits.table import traits_expr

    settings = TraitSettings.from_config(config)
    expr = traits_expr(Clock(as_of), settings, SQL_TRAITS, backend=engine.backend)
    return engine.to_arrow(expr).to_pandas()


def differences(
    engine: Engine, case: Case, as_of: datetime, config: Config | None = None
) -> list[str]:
    """The traits on ``engine`` that differ from the reference's, one line each."""
    config = config or case.ws.config
    expected = ref.reference_traits(case.raw, as_of, config)
    got = engine_traits(engine, config, as_of).set_index("customer_id")
    assert got.index.is_unique, "a customer has several rows"
    assert sorted(got.index) == sorted(expected.index), "the population differs"
    wanted, found = expected.to_dict("index"), got.to_dict("index")
    return [
        f"{engine.name} at {as_of.isoformat()}: customer {cid} {trait}: "
        f"expected {wanted[cid][trait]!r}, got {found[cid][trait]!r}"
        for cid in sorted(wanted)
        for trait in SQL_TRAITS
        if not same(wanted[cid][trait], found[cid][trait], trait)
    ]


def test_every_sql_trait_is_compared() -> None:
    assert set(SQL_TRAITS) == set(ref.TRAIT_COLUMNS) - MODEL_TRAITS
    assert {"lifecycle_stage", "rfm_segment", "orders_trend_60d", "tenure_days"} <= set(SQL_TRAITS)


@pytest.mark.postgres
@pytest.mark.parametrize("as_of", AS_OFS[:2], ids=lambda a: a.isoformat())
def test_traits_on_postgres(postgres: Engine, case: Case, as_of: datetime) -> None:
    failures = differences(postgres, case, as_of)
    assert not failures, f"{len(failures)} differences:\n" + "\n".join(failures[:30])


@pytest.mark.postgres
def test_traits_on_postgres_in_a_zone_with_dst(postgres: Engine, case: Case) -> None:
    postgres.con.execute(f"SET TIME ZONE '{ZONE}'")
    try:
        failures = differences(postgres, case, AS_OFS[0])
    finally:
        postgres.con.execute("SET TIME ZONE 'UTC'")
    assert not failures, f"{len(failures)} differences:\n" + "\n".join(failures[:30])


@pytest.mark.postgres
def test_traits_on_postgres_with_quintile_recency_and_fixed_thresholds(
    postgres: Engine, case: Case
) -> None:
    failures = differences(postgres, case, AS_OFS[0], other_settings(case.ws.config))
    assert not failures, f"{len(failures)} differences:\n" + "\n".join(failures[:30])


@pytest.mark.spark
@pytest.mark.parametrize("as_of", AS_OFS[:2], ids=lambda a: a.isoformat())
def test_traits_on_spark_in_a_zone_with_dst(
    spark: Any, spark_engine: Engine, case: Case, as_of: datetime
) -> None:
    """Spark runs in America/New_York only (a query costs seconds there); at the second
    as_of with quintile R and fixed lifecycle thresholds."""
    config = case.ws.config if as_of == AS_OFS[0] else other_settings(case.ws.config)
    spark.conf.set("spark.sql.session.timeZone", ZONE)
    try:
        failures = differences(spark_engine, case, as_of, config)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert not failures, f"{len(failures)} differences:\n" + "\n".join(failures[:30])
