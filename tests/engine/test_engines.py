"""The same checks on every engine: DuckDB, PostgreSQL and Spark (the ``engine`` fixture
of tests/engines.py). Tables are made from Arrow, queried through Ibis expressions over
unbound tables, appended to, dropped, and rolled back where the engine has transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from segmint.engine.base import Engine

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Europe moves its clocks

ORDERS = pa.table(
    {
        "customer": ["C1", "C2", "C3", "C4", "C5", "C6"],
        "country": ["DE", "US", "DE", "FR", "US", "DE"],
        "amount": [10.0, 25.5, 7.25, 100.0, 3.0, 40.0],
        "ts": pa.array([T0 + timedelta(hours=h) for h in range(6)], pa.timestamp("us", "UTC")),
    }
)


def _orders() -> object:
    import ibis

    return ibis.table(
        {"customer": "string", "country": "string", "amount": "float64", "ts": "timestamp('UTC')"},
        name="orders_t",
    )


def test_a_table_from_arrow_answers_an_ibis_query(engine: Engine) -> None:
    engine.create_table("orders_t", ORDERS)
    t = _orders()
    big = t.filter(t.amount > 5)  # type: ignore[attr-defined]
    query = big.group_by("country").aggregate(n=big.count(), total=big.amount.sum())
    result = engine.to_arrow(query.order_by("country"))
    assert result.column_names == ["country", "n", "total"]
    assert result.to_pylist() == [
        {"country": "DE", "n": 3, "total": 57.25},
        {"country": "FR", "n": 1, "total": 100.0},
        {"country": "US", "n": 1, "total": 25.5},
    ]
    engine.drop_table("orders_t")


def test_timestamps_come_back_as_utc_instants(engine: Engine) -> None:
    engine.create_table("orders_t", ORDERS)
    t = _orders()
    result = engine.to_arrow(t.order_by("customer").select("ts"))  # type: ignore[attr-defined]
    assert result.schema.field("ts").type.tz in ("UTC", "Etc/UTC", "+00:00")
    assert result.column("ts").to_pylist() == ORDERS.column("ts").to_pylist()
    engine.drop_table("orders_t")


def test_scalar(engine: Engine) -> None:
    engine.create_table("orders_t", ORDERS)
    t = _orders()
    assert engine.scalar(t.filter(t.country == "DE").count()) == 3  # type: ignore[attr-defined]
    assert engine.scalar(t.amount.max()) == 100.0  # type: ignore[attr-defined]
    assert engine.scalar("SELECT customer FROM orders_t WHERE amount < 0") is None
    engine.drop_table("orders_t")


def test_batches_of_ten_thousand_rows_come_in_order(engine: Engine) -> None:
    import ibis

    engine.create_table("numbers_t", pa.table({"n": pa.array(range(10_000), pa.int64())}))
    t = ibis.table({"n": "int64"}, name="numbers_t")
    batches = list(engine.batches(t.order_by(t.n.desc()), rows=3_000))
    assert all(b.num_rows <= 3_000 for b in batches)
    assert sum(b.num_rows for b in batches) == 10_000
    got = [n for b in batches for n in b.column("n").to_pylist()]
    assert got == list(range(9_999, -1, -1))
    # An empty result is one empty batch: its schema is known all the same.
    none = list(engine.batches(t.filter(t.n < 0).select(m=t.n * 2), rows=3_000))
    assert [(b.num_rows, b.schema.names) for b in none] == [(0, ["m"])]
    engine.drop_table("numbers_t")


def test_insert_arrow_and_a_query(engine: Engine) -> None:
    engine.create_table("orders_t", ORDERS)
    engine.insert("orders_t", ORDERS.slice(0, 2))
    t = _orders()
    engine.insert("orders_t", t.filter(t.country == "FR"))  # type: ignore[attr-defined]
    assert engine.scalar(t.count()) == 9  # type: ignore[attr-defined]
    assert engine.scalar(t.filter(t.customer == "C4").count()) == 2  # type: ignore[attr-defined]
    engine.drop_table("orders_t")


def test_temporary_tables_from_a_query_hold_their_rows(engine: Engine) -> None:
    engine.create_table("orders_t", ORDERS)
    t = _orders()
    engine.create_table("de_t", t.filter(t.country == "DE"), temporary=True)  # type: ignore[attr-defined]
    engine.insert("orders_t", ORDERS)  # the temporary table is a copy, not a view of it
    engine.insert("de_t", ORDERS.slice(0, 1))
    assert engine.scalar("SELECT count(*) FROM de_t") == 4
    engine.drop_table("de_t", temporary=True)
    engine.drop_table("orders_t")


def test_drop_table_drops_and_a_missing_table_is_no_error(engine: Engine) -> None:
    engine.create_table("gone_t", ORDERS)
    engine.drop_table("gone_t")
    engine.drop_table("gone_t")
    # Created again without replace: it was really gone.
    engine.create_table("gone_t", ORDERS.slice(0, 1), replace=False)
    assert engine.scalar("SELECT count(*) FROM gone_t") == 1
    engine.drop_table("gone_t")


def test_a_rolled_back_transaction_leaves_nothing(engine: Engine) -> None:
    if not engine.SUPPORTS_TRANSACTIONS:
        # Spark: the block only runs; documented in segmint/engine/spark.py.
        with engine.transaction():
            pass
        return
    engine.create_table("kept_t", ORDERS)
    with pytest.raises(RuntimeError, match="stop"), engine.transaction():
        engine.insert("kept_t", ORDERS)
        engine.create_table("new_t", ORDERS)
        raise RuntimeError("stop")
    assert engine.scalar("SELECT count(*) FROM kept_t") == 6
    engine.create_table("new_t", ORDERS.slice(0, 1), replace=False)  # it was never made
    with engine.transaction():
        engine.insert("kept_t", ORDERS)
    assert engine.scalar("SELECT count(*) FROM kept_t") == 12
    engine.drop_table("new_t")
    engine.drop_table("kept_t")


def test_names_are_plain_identifiers(engine: Engine) -> None:
    with pytest.raises(ValueError, match="plain identifier"):
        engine.create_table("x; DROP TABLE y", ORDERS)


def test_engines_without_parameters_refuse_them(engine: Engine) -> None:
    if engine.SUPPORTS_PARAMETERS:
        return
    with pytest.raises(ValueError, match="no query parameters"):
        engine.to_arrow("SELECT 1", {"as_of": T0})


@pytest.mark.postgres
def test_the_postgres_engine_runs_on_an_ibis_backend_too(postgres_url: str) -> None:
    import ibis

    from segmint.engine.postgres import PostgresEngine

    backend = ibis.connect(postgres_url)
    engine = PostgresEngine(backend)
    assert engine.con is backend.con  # type: ignore[attr-defined]
    assert engine.scalar("SHOW TIME ZONE") == "UTC"
    engine.create_table("orders_t", ORDERS, temporary=True)
    assert backend.table("orders_t").count().execute() == 6  # type: ignore[attr-defined]
    backend.disconnect()
