from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import segmint
from tests.conftest import rows, write_csv, write_jsonl


def test_orders_are_stored_as_purchase_events_with_exact_money(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total,currency,status
        O1,C1,2024-01-01T00:00:00Z,0.10,USD,completed
        O2,C1,2024-01-02T00:00:00Z,0.20,USD,completed
        O3,C2,2024-01-03T00:00:00Z,19.99999,EUR,completed""",
    )
    write_csv(files / "r.csv", "currency,rate,valid_from\nUSD,0.5,2023-12-01")
    ws.ingest("rates", files / "r.csv")
    result = ws.ingest("orders", files / "o.csv")
    assert (result.accepted, result.rejected, result.profiles_created) == (2, 1, 1)
    got = rows(
        ws,
        "SELECT event, event_id, revenue, properties->>'currency', properties->>'total' "
        "FROM events ORDER BY ts",
    )
    # Revenue in the base currency (EUR); the original amount and currency as properties.
    assert got[0] == ("order_completed", "O1", Decimal("0.0500"), "USD", "0.1")
    # Decimal money: 0.05 + 0.10 is exactly 0.15, whatever the summation order.
    assert rows(ws, "SELECT sum(revenue) FROM events") == [(Decimal("0.1500"),)]


def test_loading_the_same_file_twice_adds_nothing(ws: segmint.Workspace, files: Path) -> None:
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,customer_id
        E1,page_view,2024-01-01T00:00:00Z,C1
        E2,page_view,2024-01-02T00:00:00Z,C1
        ,page_view,2024-01-03T00:00:00Z,C1""",
    )
    first = ws.ingest("events", files / "e.csv")
    second = ws.ingest("events", files / "e.csv")
    assert (first.accepted, first.duplicates) == (3, 0)
    # Rows without an event_id cannot be recognised, so they load again; the others skip.
    assert (second.accepted, second.duplicates) == (1, 2)
    assert ws.stats()["events"] == 4


def test_properties_keep_their_types_and_are_queryable(ws: segmint.Workspace, files: Path) -> None:
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,customer_id,category,price,in_stock,seen_at
        E1,product_view,2024-01-01,C1,shoes,12.5,true,2024-01-01T10:00:00+01:00
        E2,page_view,2024-01-01,C1,,,,""",
    )
    write_jsonl(
        files / "a.jsonl",
        [
            {
                "event_id": "E3",
                "event": "app_open",
                "timestamp": "2024-01-02T00:00:00Z",
                "customer_id": "C1",
                "properties": {"device_os": "ios", "build": 42, "tags": ["a"]},
            }
        ],
    )
    ws.ingest("events", files / "e.csv")
    ws.ingest("events", files / "a.jsonl")
    types = dict(rows(ws, "SELECT prop, type FROM event_properties"))
    assert types == {
        "category": "string",
        "price": "float",
        "in_stock": "bool",
        "seen_at": "timestamp",
        "device_os": "string",
        "build": "integer",
        "tags": "list",
    }
    props = {
        e: p if p is None else json.loads(p)
        for e, p in rows(ws, "SELECT event, properties FROM events")
    }
    assert props["product_view"] == {
        "category": "shoes",
        "price": 12.5,
        "in_stock": True,
        "seen_at": "2024-01-01T09:00:00.000000Z",
    }
    # A row gets only the keys its event has values for in the load: page views had none.
    # A missing key and a JSON null are both missing to rules (DESIGN section 4).
    assert props["page_view"] is None
    assert props["app_open"] == {"device_os": "ios", "build": 42, "tags": ["a"]}
    got = rows(ws, "SELECT count(*) FROM events WHERE CAST(properties->>'price' AS DOUBLE) > 10")
    assert got == [(1,)]
    usage = set(rows(ws, "SELECT event, prop FROM event_property_usage"))
    assert ("product_view", "price") in usage and ("page_view", "price") not in usage


def test_jsonl_property_type_conflicts_are_rejected(ws: segmint.Workspace, files: Path) -> None:
    base = {"event": "app_open", "timestamp": "2024-01-02T00:00:00Z", "customer_id": "C1"}
    write_jsonl(files / "a.jsonl", [base | {"event_id": "E1", "properties": {"build": 1}}])
    write_jsonl(
        files / "b.jsonl",
        [
            base | {"event_id": "E2", "properties": {"build": "beta"}},
            base | {"event_id": "E3", "properties": {"build": 3}},
        ],
    )
    ws.ingest("events", files / "a.jsonl")
    result = ws.ingest("events", files / "b.jsonl")
    assert (result.accepted, result.rejected) == (1, 1)
    assert result.rejects_file is not None
    rejected = [json.loads(line) for line in result.rejects_file.read_text().splitlines()]
    assert rejected[0]["line"] == 1
    assert "build: expected integer" in rejected[0]["reason"]
    assert rejected[0]["row"]["event_id"] == "E2"


def test_timestamps_are_utc_and_naive_means_utc(ws: segmint.Workspace, files: Path) -> None:
    write_csv(
        files / "e.csv",
        """event,timestamp,customer_id
        a,2024-06-01T12:00:00-04:00,C1
        b,2024-06-01 12:00:00,C1""",
    )
    ws.ingest("events", files / "e.csv")
    got = dict(rows(ws, "SELECT event, ts FROM events"))
    assert got == {
        "a": datetime(2024, 6, 1, 16, tzinfo=UTC),
        "b": datetime(2024, 6, 1, 12, tzinfo=UTC),
    }


def test_activity_bounds_follow_events(ws: segmint.Workspace, files: Path) -> None:
    write_csv(files / "a.csv", "event,timestamp,customer_id\nx,2024-01-05,C1\nx,2024-01-09,C1")
    write_csv(files / "b.csv", "event,timestamp,customer_id\nx,2024-01-01,C1")
    ws.ingest("events", files / "a.csv")
    ws.ingest("events", files / "b.csv")
    got = rows(ws, "SELECT first_event_at, last_event_at FROM profiles")
    assert got == [(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 9, tzinfo=UTC))]


def test_a_property_type_guessed_from_a_sample_is_corrected_by_later_rows(
    ws: segmint.Workspace, files: Path
) -> None:
    lines = [f"E{i},view,2024-01-01T00:00:00Z,C1,{i}" for i in range(10_300)]
    lines[10_100] = "E10100,view,2024-01-01T00:00:00Z,C1,2.5"
    (files / "e.csv").write_text("event_id,event,timestamp,customer_id,price\n" + "\n".join(lines))
    result = ws.ingest("events", files / "e.csv")
    assert (result.accepted, result.rejected) == (10_300, 0)
    assert rows(ws, "SELECT type FROM event_properties WHERE prop = 'price'") == [("float",)]
    got = rows(ws, "SELECT properties->>'price' FROM events WHERE event_id = 'E10100'")
    assert got == [("2.5",)]


def test_csv_property_conflicting_with_an_earlier_type_rejects_only_that_row(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(files / "a.csv", "event_id,event,timestamp,customer_id,size\nE1,view,2024-01-01,C1,3")
    ws.ingest("events", files / "a.csv")
    # The conflicting value lies past the sample the type is first guessed from.
    lines = [f"E{i},view,2024-01-02,C1,{i}" for i in range(2, 10_302)]
    lines[10_200] = "E10202,view,2024-01-02,C1,XL"
    header = "event_id,event,timestamp,customer_id,size\n"
    (files / "b.csv").write_text(header + "\n".join(lines) + "\n")
    result = ws.ingest("events", files / "b.csv")
    assert (result.accepted, result.rejected) == (10_299, 1)
    assert rows(ws, "SELECT type FROM event_properties WHERE prop = 'size'") == [("integer",)]
    assert result.rejects_file is not None
    text = result.rejects_file.read_text()
    assert 'size: expected integer (its type from an earlier load), got ""XL""' in text
    assert text.count("\n") == 2  # header and the one rejected row


def _typed_events(revenue_type: pa.DataType, revenues: list[Decimal | None]) -> pa.Table:
    n = len(revenues)
    return pa.table(
        {
            "event_id": [f"E{i}" for i in range(n)],
            "event": ["order_completed"] * n,
            "timestamp": pa.array(
                [datetime(2024, 1, 1 + i, tzinfo=UTC) for i in range(n)], pa.timestamp("us", "UTC")
            ),
            "customer_id": [f"C{i % 2}" for i in range(n)],
            "revenue": pa.array(revenues, revenue_type),
        }
    )


def test_a_clean_parquet_file_loads_every_row_exactly(ws: segmint.Workspace, files: Path) -> None:
    # DECIMAL(12, 2) always fits the stored DECIMAL(18, 4): no row can fail its conversion.
    table = _typed_events(pa.decimal128(12, 2), [Decimal("0.10"), Decimal("99999999.99"), None])
    pq.write_table(table, files / "e.parquet")
    result = ws.ingest("events", files / "e.parquet")
    assert (result.accepted, result.rejected, result.profiles_created) == (3, 0, 2)
    assert rows(ws, "SELECT event_id, revenue FROM events ORDER BY event_id") == [
        ("E0", Decimal("0.1000")),
        ("E1", Decimal("99999999.9900")),
        ("E2", None),
    ]


def test_bad_rows_of_a_parquet_file_go_to_the_rejects_file(
    ws: segmint.Workspace, files: Path
) -> None:
    # More places than kept, a missing event, no identifier and a repeated event_id: each row
    # is rejected with its reason; the good rows load, each profile gets only good rows.
    table = _typed_events(
        pa.decimal128(20, 6),
        [Decimal("1.500000"), Decimal("1.123456"), None, None, Decimal("2.000000"), None],
    )
    table = table.set_column(1, "event", pa.array(["order_completed"] * 2 + [None] * 1 + ["x"] * 3))
    table = table.set_column(
        3, "customer_id", pa.array(["C0", "C1", "C2", None, "C4", "C5"], pa.string())
    )
    table = table.set_column(0, "event_id", pa.array(["E0", "E1", "E2", "E3", "E4", "E0"]))
    pq.write_table(table, files / "bad.parquet")
    result = ws.ingest("events", files / "bad.parquet")
    assert (result.rows_read, result.accepted, result.rejected) == (6, 2, 4)
    assert result.rejects_file is not None
    with result.rejects_file.open() as fh:
        rejected = {r["record"]: r["reason"] for r in csv.DictReader(fh)}
    assert rejected == {
        "2": 'revenue: expected a number with at most 4 decimals, got "1.123456"',
        "3": "missing event",
        "4": "missing customer_id, anonymous_id and email: an event needs one of them",
        "6": "duplicate event_id E0 (first used by record 1 of this file)",
    }
    assert rows(ws, "SELECT event_id, revenue FROM events ORDER BY event_id") == [
        ("E0", Decimal("1.5000")),
        ("E4", Decimal("2.0000")),
    ]
    # Rejected rows create no profile: only C0 and C4 exist.
    assert rows(ws, "SELECT customer_id FROM profiles ORDER BY 1") == [("C0",), ("C4",)]


def test_each_event_keeps_only_the_property_keys_it_carries(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,customer_id,category,price
        E1,product_view,2024-01-01,C1,shoes,12.5
        E2,product_view,2024-01-02,C1,hats,
        E3,search,2024-01-03,C1,shoes,
        E4,page_view,2024-01-04,C2,,""",
    )
    ws.ingest("events", files / "e.csv")
    got = dict(rows(ws, "SELECT event_id, CAST(properties AS VARCHAR) FROM events"))
    assert got == {
        "E1": '{"category":"shoes","price":12.5}',
        "E2": '{"category":"hats","price":null}',
        "E3": '{"category":"shoes"}',
        "E4": None,
    }
    # Rules read a null value as missing; an event without a property is not asked about it.
    assert ws.count("did product_view where price is not set") == 1
    assert ws.count('did search where category = "shoes"') == 1


def test_a_typed_column_without_values_fixes_no_property_type(ws: segmint.Workspace) -> None:
    events = {
        "event_id": ["E1", "E2"],
        "event": ["page_view", "page_view"],
        "timestamp": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"],
        "customer_id": ["C1", "C1"],
    }
    ws.ingest("events", pa.table({**events, "coupon": pa.array([None, None], pa.string())}))
    assert rows(ws, "SELECT prop FROM event_properties") == []
    assert rows(ws, "SELECT properties FROM events") == [(None,), (None,)]
    # A later file with values sets the type; the empty column conflicted with nothing.
    later = {**events, "event_id": ["E3", "E4"], "coupon": pa.array([10, None], pa.int64())}
    result = ws.ingest("events", pa.table(later))
    assert (result.accepted, result.rejected) == (2, 0)
    assert rows(ws, "SELECT prop, type FROM event_properties") == [("coupon", "integer")]
    assert ws.count("did page_view where coupon = 10") == 1


def test_past_32_sets_of_keys_every_row_gets_every_key(ws: segmint.Workspace) -> None:
    # 33 event names, each with values in a different set of the six columns.
    subsets = [[i for i in range(6) if mask >> i & 1] for mask in range(1, 34)]
    columns: dict[str, list[object]] = {f"p{i}": [] for i in range(6)}
    for subset in subsets:
        for i in range(6):
            columns[f"p{i}"].append(1 if i in subset else None)
    n = len(subsets)
    table = pa.table(
        {
            "event_id": [f"E{k}" for k in range(n)],
            "event": [f"e{k}" for k in range(n)],
            "timestamp": ["2024-01-01T00:00:00Z"] * n,
            "customer_id": ["C1"] * n,
            **{name: pa.array(values, pa.int64()) for name, values in columns.items()},
        }
    )
    ws.ingest("events", table)
    first = rows(ws, "SELECT properties FROM events WHERE event = 'e0'")[0][0]
    assert json.loads(first) == {
        "p0": 1,
        "p1": None,
        "p2": None,
        "p3": None,
        "p4": None,
        "p5": None,
    }
    assert ws.count("did e0 where p0 = 1") == 1


def test_orders_and_events_are_separate_id_namespaces(ws: segmint.Workspace, files: Path) -> None:
    """Orders 1001-1003 after events 1001-1002: all three orders load (they are not the
    events with those ids), and reloading either file adds nothing."""
    events = write_csv(
        files / "e.csv",
        """event_id,event,timestamp,customer_id
        1001,page_view,2026-01-01T00:00:00Z,C1
        1002,page_view,2026-01-02T00:00:00Z,C1""",
    )
    orders = write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total
        1001,C1,2026-01-03T00:00:00Z,10.50
        1002,C1,2026-01-04T00:00:00Z,20
        1003,C1,2026-01-05T00:00:00Z,30""",
    )
    assert ws.ingest("events", events).accepted == 2
    loaded = ws.ingest("orders", orders)
    assert (loaded.accepted, loaded.duplicates) == (3, 0)
    assert ws.count("revenue_total > 60.49", as_of="2026-02-01T00:00:00Z") == 1
    again = ws.ingest("orders", orders)
    assert (again.accepted, again.duplicates) == (0, 3)
    assert ws.ingest("events", events).duplicates == 2
    assert ws.stats()["events"] == 5
