"""Source-mode benchmark: ``Workspace.count`` on PostgreSQL and Spark against hand-written
SQL of the same rule in that engine's own dialect.

    python bench/engines_bench.py --engine postgres --events 5000000 [--out F.json]
    python bench/engines_bench.py --engine spark --events 5000000,10000000,20000000 [--out F.json]

The data are the ingest benchmark's (bench/data: 1M customers, 50M events; see
bench/README.md). For each size N the script takes N of the 50M events, evenly through
time (every row whose position in events.parquet is < N/1M modulo 50, so the two years
stay covered and a smaller set is part of a larger one), drops the rows without a
customer id, builds a ``properties`` JSON text from ``category``, ``channel`` and
``price`` (the keys an event has), and loads them with all customers as the user's own
tables ``shop_customers`` and ``shop_events_<N>``:

* PostgreSQL: a throwaway cluster (initdb/pg_ctl as in tests/engines.py, as the
  ``postgres`` user when run by root), tables loaded with ``COPY ... FROM STDIN`` (CSV
  written by DuckDB), ``properties`` as ``jsonb``, a primary key on the customer id, an
  index on ``(event, "timestamp")``, ``ANALYZE``.
* Spark: a local[2] session (``segmint.engine.spark.session``), Parquet files written by
  DuckDB sorted by ``(event, timestamp)`` (the Parquet counterpart of the index) and
  registered as tables of ``default`` (``CREATE TABLE ... USING PARQUET LOCATION``).

A source-mode workspace maps those tables (``[source]`` in segmint.toml), reads its
catalog (``ws.refresh_catalog()``, timed: it also builds segmint's activity table, each
customer's first and last event, on the engine), builds the activity table once more
(timed alone: what a refresh of segments is to run first), and for each rule of
bench/rules_bench.py ``ws.count(rule, as_of=AS_OF)`` is timed (first call, then the
median of ``--repeat``) next to a hand-written query of the same rule run through the
same engine (the workspace's own connection or session), written as an analyst would:
the customers created by as_of (every customer has a creation time), ``IN`` subqueries
with ``GROUP BY ... HAVING`` for event conditions and ``NOT EXISTS`` for negated ones.
Counts must agree; a difference is reported and recorded, never hidden (``--strict``
stops on one).
``--without-activity`` then times segmint's rules again with the ``profiles`` view that
aggregates every event in each query (a source without the table built).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from rules_bench import AS_OF, RULES  # noqa: E402

import segmint  # noqa: E402

STEP = 1_000_000  # events.parquet positions are taken modulo 50 of these


# --- hand-written SQL, per dialect ------------------------------------------------------


class Dialect:
    """What differs between the PostgreSQL and Spark SQL an analyst writes."""

    def __init__(self, engine: str, events: str) -> None:
        self.engine = engine
        self.events = events
        self.time = '"timestamp"' if engine == "postgres" else "`timestamp`"

    def ts(self, days: int) -> str:
        instant = AS_OF - timedelta(days=days)
        if self.engine == "postgres":
            return f"TIMESTAMPTZ '{instant.isoformat()}'"
        return f"TIMESTAMP '{instant.strftime('%Y-%m-%d %H:%M:%S')}'"  # session zone: UTC

    def prop(self, key: str) -> str:
        if self.engine == "postgres":
            return f"(e.properties->>'{key}')"
        return f"get_json_object(e.properties, '$.{key}')"

    def double(self, expr: str) -> str:
        return (
            f"CAST({expr} AS DOUBLE PRECISION)"
            if self.engine == "postgres"
            else (f"CAST({expr} AS DOUBLE)")
        )

    def window(self, days: int | None) -> str:
        t = self.time
        lower = f"e.{t} > {self.ts(days)} AND " if days is not None else ""
        return f"{lower}e.{t} <= {self.ts(0)}"

    def did(self, event: str, days: int, having: str = "", where: str = "") -> str:
        """``c.customer_id IN (...)`` for "did EVENT [where] [at least n times] in last DAYS"."""
        extra = f" AND {where}" if where else ""
        group = f" GROUP BY e.customer_id HAVING {having}" if having else ""
        return (
            f"c.customer_id IN (SELECT e.customer_id FROM {self.events} e WHERE "
            f"e.event = '{event}' AND {self.window(days)}{extra}{group})"
        )

    def did_not(self, event: str, days: int) -> str:
        return (
            f"NOT EXISTS (SELECT 1 FROM {self.events} e WHERE e.customer_id = c.customer_id "
            f"AND e.event = '{event}' AND {self.window(days)})"
        )

    def count(self, condition: str) -> str:
        return (
            f"SELECT count(*) FROM shop_customers c WHERE c.customer_id IS NOT NULL "
            f"AND c.created_at <= {self.ts(0)} AND ({condition})"
        )


def hand_written(d: Dialect) -> dict[str, str]:
    """The six rules of bench/rules_bench.py, as SQL conditions on ``shop_customers c``."""
    t = d.time
    twenty = [
        d.did("search", 7, "count(*) >= 3"),
        d.did("checkout_started", 3),
        d.did_not("order_completed", 3),
        "c.country = 'DE'",
        d.did("email_clicked", 14),
        "c.plan = 'pro'",
        "c.loyalty_points > 2000",
        d.did("add_to_cart", 7, "count(*) >= 2"),
        "c.device_os = 'ios'",
        d.did_not("app_open", 30),
        d.did("page_view", 30, "count(*) >= 20"),
        "c.country IN ('FR', 'ES', 'IT')",
        "c.email_consent = true",
        d.did("email_opened", 30, "count(*) >= 3"),
        d.did("product_view", 14, "count(*) >= 3", f"{d.prop('category')} = 'electronics'"),
        f"c.created_at > {d.ts(30)}",  # created_at <= as_of: the population test
        d.did("order_completed", 90, "count(*) >= 2"),
        "c.plan = 'free'",
        d.did("email_sent", 30, "count(*) >= 4"),
        d.did_not("page_view", 60),
    ]
    old, new = (
        f"count(*) FILTER (WHERE e.{t} <= {d.ts(60)})",
        (f"count(*) FILTER (WHERE e.{t} > {d.ts(60)})"),
    )
    return {
        "3-condition mix": f"c.country = 'US' AND {d.did('order_completed', 90, 'count(*) >= 3')}"
        f" AND {d.did_not('email_opened', 30)}",
        "aggregate": d.did("order_completed", 365, "sum(e.revenue) > 500"),
        "recency": (
            f"c.customer_id IN (SELECT e.customer_id FROM {d.events} e WHERE "
            f"e.event = 'order_completed' AND {d.window(None)} GROUP BY e.customer_id "
            f"HAVING max(e.{t}) <= {d.ts(60)})"
        ),
        "trend": (
            f"c.customer_id IN (SELECT e.customer_id FROM {d.events} e WHERE "
            f"e.event = 'order_completed' AND {d.window(120)} GROUP BY e.customer_id "
            f"HAVING {old} > 0 AND {d.double(f'{new} - {old}')} / {old} <= -0.5)"
        ),
        "nested AND/OR": (
            "(c.country IN ('US', 'CA') AND ("
            + d.did("product_view", 30, "count(*) >= 2", f"{d.prop('category')} = 'shoes'")
            + f" OR {d.did('add_to_cart', 14)})) OR (c.plan = 'pro' AND "
            f"{d.did_not('app_open', 60)} AND c.loyalty_points > 500)"
        ),
        "20 conditions": " OR ".join(
            f"(({twenty[i]}) AND ({twenty[i + 1]}))" for i in range(0, 20, 2)
        ),
    }


# --- data ---------------------------------------------------------------------------------


def _events_select(data: Path, n: int, order: bool) -> str:
    per_step = n // STEP
    if n % STEP or not 1 <= per_step <= 50:
        raise SystemExit(f"--events takes multiples of {STEP:,} up to 50M (got {n:,})")
    parts = ", ".join(
        f"CASE WHEN {col} IS NOT NULL THEN '\"{col}\":' || CAST(to_json({col}) AS VARCHAR) END"
        for col in ("category", "channel", "price")
    )
    return (
        "SELECT customer_id, event, timestamp, revenue, "
        f"'{{' || concat_ws(',', {parts}) || '}}' AS properties "
        f"FROM read_parquet('{data / 'events.parquet'}', file_row_number = true) "
        f"WHERE file_row_number % 50 < {per_step} AND customer_id IS NOT NULL"
        + (" ORDER BY event, timestamp" if order else "")
    )


def _duckdb() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET memory_limit = '3GB'; SET threads = 2; SET preserve_insertion_order = false")
    return con


# --- PostgreSQL -------------------------------------------------------------------------------


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (as tests/engines.py starts one)."""

    def __init__(self, settings: dict[str, str]) -> None:
        import psycopg

        from tests.engines import _as_cluster_owner, _free_port, _pg_bin, _run

        self._owner, self._run = _as_cluster_owner, _run
        initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if initdb is None or self.pg_ctl is None:
            raise SystemExit("initdb/pg_ctl not found: install PostgreSQL")
        self.root = Path(tempfile.mkdtemp(prefix="segmint-pgbench-"))
        user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.data, port = self.root / "data", _free_port()
        _run(_as_cluster_owner([initdb, "-D", str(self.data), "-A", "trust", "-U", user,
                                "-E", "UTF8", "--no-sync"]))  # fmt: skip
        options = f"-k {self.root} -h 127.0.0.1 -p {port} -F " + " ".join(
            f"-c {k}={v}" for k, v in settings.items()
        )
        _run(_as_cluster_owner([self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "log"),
                                "-o", options, "-w", "start"]))  # fmt: skip
        with psycopg.connect(f"postgresql://{user}@127.0.0.1:{port}/postgres",
                             autocommit=True) as con:  # fmt: skip
            con.execute("CREATE DATABASE shop")
            self.version = con.execute("SHOW server_version").fetchone()[0]
        self.url = f"postgresql://{user}@127.0.0.1:{port}/shop"

    def stop(self) -> None:
        self._run(self._owner([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"]))
        shutil.rmtree(self.root, ignore_errors=True)


def _copy_csv(con: Any, table: str, path: Path) -> None:
    with (
        con.cursor() as cur,
        cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy,
        path.open("rb") as f,
    ):
        while chunk := f.read(8 << 20):
            copy.write(chunk)


def load_postgres(url: str, data: Path, n: int, scratch: Path, customers: bool) -> dict[str, Any]:
    import psycopg

    timings: dict[str, Any] = {}
    start = time.perf_counter()
    duck = _duckdb()
    events_csv = scratch / "events.csv"
    duck.execute(f"COPY ({_events_select(data, n, order=False)}) TO '{events_csv}' (HEADER false)")
    if customers:
        duck.execute(
            "COPY (SELECT customer_id, email, country, created_at, email_consent, device_os, "
            f"loyalty_points, plan FROM read_parquet('{data / 'customers.parquet'}')) "
            f"TO '{scratch / 'customers.csv'}' (HEADER false)"
        )
    duck.close()
    timings["csv_s"] = round(time.perf_counter() - start, 1)
    table = f"shop_events_{n // STEP}m"
    with psycopg.connect(url, autocommit=True) as con:
        start = time.perf_counter()
        if customers:
            con.execute(
                "CREATE TABLE shop_customers (customer_id text PRIMARY KEY, email text, "
                "country text, created_at timestamptz, email_consent boolean, device_os text, "
                "loyalty_points bigint, plan text)"
            )
            _copy_csv(con, "shop_customers", scratch / "customers.csv")
            con.execute("ANALYZE shop_customers")
        con.execute(
            f'CREATE TABLE {table} (customer_id text, event text, "timestamp" timestamptz, '
            "revenue numeric(12, 2), properties jsonb)"
        )
        _copy_csv(con, table, events_csv)
        timings["copy_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        con.execute(f'CREATE INDEX ON {table} (event, "timestamp")')
        con.execute(f"ANALYZE {table}")
        timings["index_analyze_s"] = round(time.perf_counter() - start, 1)
        timings["rows"] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        timings["table_mb"] = round(
            con.execute(f"SELECT pg_total_relation_size('{table}')").fetchone()[0] / 2**20
        )
    events_csv.unlink()
    return {"table": table, **timings}


# --- Spark ----------------------------------------------------------------------------------


def load_spark(spark: Any, data: Path, n: int, scratch: Path, customers: bool) -> dict[str, Any]:
    timings: dict[str, Any] = {}
    table = f"shop_events_{n // STEP}m"
    start = time.perf_counter()
    duck = _duckdb()
    folder = scratch / table
    duck.execute(
        f"COPY ({_events_select(data, n, order=True)}) TO '{folder}' "
        "(FORMAT parquet, PER_THREAD_OUTPUT true)"
    )
    if customers:
        duck.execute(
            f"COPY (SELECT * FROM read_parquet('{data / 'customers.parquet'}')) "
            f"TO '{scratch / 'shop_customers.parquet'}' (FORMAT parquet)"
        )
    duck.close()
    timings["parquet_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    if customers:
        spark.sql("DROP TABLE IF EXISTS default.shop_customers")
        spark.sql(
            "CREATE TABLE default.shop_customers USING PARQUET "
            f"LOCATION '{scratch / 'shop_customers.parquet'}'"
        )
    spark.sql(f"DROP TABLE IF EXISTS default.{table}")
    spark.sql(f"CREATE TABLE default.{table} USING PARQUET LOCATION '{folder}'")
    timings["rows"] = spark.sql(f"SELECT count(*) FROM default.{table}").collect()[0][0]
    timings["register_s"] = round(time.perf_counter() - start, 1)
    timings["files_mb"] = round(sum(f.stat().st_size for f in folder.iterdir()) / 2**20)
    return {"table": table, **timings}


# --- the workspace and the timings -----------------------------------------------------------


def workspace(root: Path, source: str, events_table: str) -> segmint.Workspace:
    """A source-mode workspace on ``shop_customers`` and ``events_table``."""
    import re

    segmint.init(root, source=source).close()
    toml = root / "segmint.toml"
    text = toml.read_text(encoding="utf-8")
    settings = {
        "customers": "shop_customers",
        "customer_id": "customer_id",
        "created_at": "created_at",
        "events": events_table,
        "event_customer_id": "customer_id",
        "event_name": "event",
        "event_time": "timestamp",
        "properties": "properties",
        "revenue": "revenue",
    }
    head, _, tail = text.partition("[source]\n")
    for key, value in settings.items():
        tail, found = re.subn(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', tail, count=1)
        if not found:
            raise SystemExit(f"segmint.toml has no [source] key {key}")
    toml.write_text(head + "[source]\n" + tail, encoding="utf-8")
    return segmint.open(root)


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """The first call's time, the median of ``repeat`` more, and the result."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        again = fn()
        times.append(time.perf_counter() - start)
        if again != result:
            raise SystemExit(f"the same query counted {result:,} then {again:,}")
    return first, statistics.median(times), result


RULE_TEXT = {name: text for name, (text, _) in RULES.items()}


def run_rules(
    ws: segmint.Workspace, engine_name: str, events_table: str, repeat: int, strict: bool,
    only: list[str] | None,
) -> list[dict[str, Any]]:  # fmt: skip
    engine = ws._source_engine()
    assert engine is not None
    queries = hand_written(Dialect(engine_name, events_table))
    rows = []
    for name, text in RULE_TEXT.items():
        if only and name not in only:
            continue
        sql = Dialect(engine_name, events_table).count(queries[name])
        seg_first, seg_s, seg_n = timed(lambda t=text: ws.count(t, as_of=AS_OF), repeat)
        hand_first, hand_s, hand_n = timed(lambda q=sql: int(engine.scalar(q)), repeat)  # type: ignore[call-overload]
        row = {
            "rule": name, "text": text, "members": seg_n, "hand_written_members": hand_n,
            "segmint_first_s": round(seg_first, 3), "segmint_s": round(seg_s, 3),
            "hand_written_first_s": round(hand_first, 3), "hand_written_s": round(hand_s, 3),
            "ratio": round(seg_s / hand_s, 2), "hand_written_sql": sql,
        }  # fmt: skip
        rows.append(row)
        flag = "" if seg_n == hand_n else f"  COUNT MISMATCH: hand-written {hand_n:,}"
        print(
            f"  {name:16} {seg_n:>9,}  segmint {seg_s:7.2f} s (first {seg_first:7.2f})  "
            f"hand-written {hand_s:7.2f} s (first {hand_first:7.2f})  "
            f"ratio {seg_s / hand_s:5.2f}{flag}",
            flush=True,
        )
        if flag and strict:
            raise SystemExit(f"{name}: segmint counts {seg_n:,}, the hand-written SQL {hand_n:,}")
    return rows


def run_traits(
    ws: segmint.Workspace, engine_name: str, events_table: str, repeat: int
) -> dict[str, Any]:
    """Every SQL trait of everyone through ``ws.traits`` against the hand-written query of
    the same traits (bench/source_traits.py) on the same engine; the two must be equal.
    R is scored by quintiles among buyers in both, as bench/traits_bench.py does."""
    from dataclasses import replace

    from source_traits import SQL_TRAITS, differences, hand_written_traits

    engine = ws._source_engine()
    assert engine is not None
    ws.config = replace(ws.config, rfm=replace(ws.config.rfm, recency="quintiles"))
    hand = hand_written_traits(engine_name, AS_OF, "shop_customers", events_table)
    tables: dict[str, Any] = {}

    def ours() -> int:
        tables["segmint"] = ws.traits(as_of=AS_OF, names=list(SQL_TRAITS))
        return int(tables["segmint"].num_rows)

    def theirs() -> int:
        tables["hand"] = engine.to_arrow(hand)
        return int(tables["hand"].num_rows)

    seg_first, seg_s, rows = timed(ours, repeat)
    hand_first, hand_s, _ = timed(theirs, repeat)
    wrong = differences(tables["segmint"], tables["hand"])
    print(f"  all SQL traits   {rows:>9,}  segmint {seg_s:7.2f} s (first {seg_first:7.2f})  "
          f"hand-written {hand_s:7.2f} s (first {hand_first:7.2f})  ratio "
          f"{seg_s / hand_s:5.2f}{'  DIFFER: ' + '; '.join(wrong) if wrong else ''}",
          flush=True)  # fmt: skip
    return {"rows": rows, "segmint_s": round(seg_s, 3), "segmint_first_s": round(seg_first, 3),
            "hand_written_s": round(hand_s, 3), "hand_written_first_s": round(hand_first, 3),
            "ratio": round(seg_s / hand_s, 2), "differences": wrong}  # fmt: skip


def build_activity(ws: segmint.Workspace) -> float:
    """Time one build of the product's activity table (store/activity.py: a new version
    of each customer's first and last event on the engine, committed in the workspace),
    as a refresh of segments is to run it; the catalog refresh already built one."""
    from segmint.store.activity import ensure_activity

    start = time.perf_counter()
    ensure_activity(ws._db, ws._source_state(), ws.config.source)
    return time.perf_counter() - start


def without_activity(
    ws: segmint.Workspace, rules: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    """segmint's rules timed again with the ``profiles`` view that aggregates every event
    in each query (what a source without an activity table built reads, and what segmint
    did before it had one); counts must not change. The view reads the table again
    afterwards."""
    from segmint.store.activity import attach_activity
    from segmint.store.catalog import attribute_columns
    from segmint.store.source import attach

    engine = ws._source_engine()
    assert engine is not None
    columns = [column for column, _ in attribute_columns(ws._db).values()]
    attach(engine, ws.config.source, columns)
    out = []
    try:
        for row in rules:
            text = RULE_TEXT[row["rule"]]
            first, median, n = timed(lambda t=text: ws.count(t, as_of=AS_OF), repeat)
            flag = "" if n == row["members"] else f"  COUNT CHANGED from {row['members']:,}"
            print(f"  {row['rule']:16} {n:>9,}  segmint, no activity table {median:7.2f} s "
                  f"(first {first:7.2f})  with it {row['segmint_s']:7.2f} s  "
                  f"hand-written {row['hand_written_s']:7.2f} s{flag}", flush=True)  # fmt: skip
            out.append({"rule": row["rule"], "members": n, "segmint_s": round(median, 3),
                        "segmint_first_s": round(first, 3),
                        "ratio": round(median / row["hand_written_s"], 2)})  # fmt: skip
    finally:
        attach_activity(ws._db, ws._source_state(), ws.config.source)
    return {"rules": out}


def explain(
    ws: segmint.Workspace, engine_name: str, events_table: str, rule: str
) -> dict[str, str]:
    """EXPLAIN ANALYZE (PostgreSQL) or EXPLAIN FORMATTED (Spark) of segmint's query and
    the hand-written one for ``rule``."""
    engine = ws._source_engine()
    assert engine is not None
    text = RULE_TEXT[rule]
    seg_sql = ws.sql(text, as_of=AS_OF, dialect=engine_name)
    d = Dialect(engine_name, events_table)
    hand_sql = d.count(hand_written(d)[rule])
    plans = {}
    for who, sql in (("segmint", f"SELECT count(*) FROM ({seg_sql}) t"), ("hand", hand_sql)):
        how = "(ANALYZE, COSTS false)" if engine_name == "postgres" else "FORMATTED"
        table = engine.to_arrow(f"EXPLAIN {how} {sql}")
        plans[who] = "\n".join(str(v) for v in table.column(0).to_pylist())
    return plans


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("postgres", "spark"), required=True)
    parser.add_argument("--events", default="5000000", help="sizes, comma-separated")
    parser.add_argument("--data", type=Path, default=ROOT / "bench/data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rules", help="only these rules (comma-separated names)")
    parser.add_argument("--strict", action="store_true", help="stop on a count mismatch")
    parser.add_argument("--explain", help="EXPLAIN this rule (a name)")
    parser.add_argument(
        "--without-activity",
        action="store_true",
        help="then time segmint again with the first/last event times aggregated in each "
        "query (no activity table)",
    )
    parser.add_argument("--traits", action="store_true", help="also time every SQL trait")
    parser.add_argument("--spark-driver-memory", default="5g")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.events.split(",")]
    only = args.rules.split(",") if args.rules else None
    scratch = Path(tempfile.mkdtemp(prefix="segmint-enginebench-"))
    os.chmod(scratch, 0o755)
    report: dict[str, Any] = {
        "engine": args.engine, "as_of": AS_OF.isoformat(), "repeat": args.repeat,
        "machine": f"{platform.node()}, {os.cpu_count()} cores, {platform.platform()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "sizes": [],
    }  # fmt: skip
    pg = spark = None
    try:
        if args.engine == "postgres":
            settings = {"shared_buffers": "2GB", "work_mem": "64MB",
                        "maintenance_work_mem": "512MB", "effective_cache_size": "8GB",
                        "max_wal_size": "4GB", "random_page_cost": "1.1"}  # fmt: skip
            pg = Postgres(settings)
            report["postgres"] = {"version": pg.version, "settings": settings}
            source = pg.url
        else:
            from segmint.engine.spark import session

            spark = session(conf={"spark.driver.memory": args.spark_driver_memory},
                            warehouse=str(scratch / "warehouse"))  # fmt: skip
            report["spark"] = {"version": spark.version, "master": "local[2]",
                               "driver_memory": args.spark_driver_memory,
                               "shuffle_partitions": spark.conf.get(
                                   "spark.sql.shuffle.partitions")}  # fmt: skip
            source = "spark"
        for i, n in enumerate(sizes):
            print(f"{args.engine}: loading 1,000,000 customers and {n:,} events", flush=True)
            if pg is not None:
                load = load_postgres(pg.url, args.data, n, scratch, customers=i == 0)
            else:
                load = load_spark(spark, args.data, n, scratch, customers=i == 0)
            print(f"  loaded: {load}", flush=True)
            ws = workspace(scratch / f"ws-{n // STEP}m", source, load["table"])
            with ws:
                start = time.perf_counter()
                found = ws.refresh_catalog()
                refresh_s = round(time.perf_counter() - start, 2)
                print(f"  catalog refresh {refresh_s} s (with the activity table): {found}",
                      flush=True)  # fmt: skip
                build_s = round(build_activity(ws), 2)
                print(f"  activity table built again: {build_s} s", flush=True)
                rules = run_rules(ws, args.engine, load["table"], args.repeat, args.strict, only)
                entry = {"events": n, "load": load, "catalog_refresh_s": refresh_s,
                         "activity_build_s": build_s, "catalog": found,
                         "rules": rules}  # fmt: skip
                if args.explain:
                    entry["explain"] = explain(ws, args.engine, load["table"], args.explain)
                    print(entry["explain"]["segmint"], "\n\n", entry["explain"]["hand"])
                if args.traits:
                    entry["traits"] = run_traits(ws, args.engine, load["table"], args.repeat)
                if args.without_activity:
                    print("  without the activity table:", flush=True)
                    entry["without_activity"] = without_activity(ws, rules, args.repeat)
            report["sizes"].append(entry)
            if args.out:
                args.out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        if pg is not None:
            pg.stop()
        if spark is not None:
            spark.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{'rule':16} {'events':>11} {'members':>9} {'segmint':>9} {'hand':>9} ratio")
    for entry in report["sizes"]:
        for r in entry["rules"]:
            print(
                f"{r['rule']:16} {entry['events']:>11,} {r['members']:>9,} "
                f"{r['segmint_s']:>8.2f}s {r['hand_written_s']:>8.2f}s {r['ratio']:5.2f}"
            )
    mismatches = [(e["events"], r["rule"]) for e in report["sizes"] for r in e["rules"]
                  if r["members"] != r["hand_written_members"]]  # fmt: skip
    if mismatches:
        print(f"COUNT MISMATCHES: {mismatches}")


if __name__ == "__main__":
    sys.exit(main())
