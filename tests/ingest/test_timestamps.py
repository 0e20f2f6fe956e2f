"""Timestamps in ingested files follow ISO 8601 and nothing else: the extended and basic
forms, a date alone, hh:mm without seconds, fractions after '.' or ',', Z or an offset
(a space for the 'T' too, as RFC 3339 and CSV exports write it). Anything else, and an
instant outside the accepted range ([ingest] earliest, latest_days_ahead), is a rejected
row with its reason, in every timestamp column."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_jsonl
from tests.ingest.test_hostile_files import query, rejects_of

ACCEPTED = {
    "2024-06-01T10:00:00Z": datetime(2024, 6, 1, 10, tzinfo=UTC),
    "2024-06-01T10:00Z": datetime(2024, 6, 1, 10, tzinfo=UTC),
    "2024-06-01 10:00:00": datetime(2024, 6, 1, 10, tzinfo=UTC),
    "20240601T100000Z": datetime(2024, 6, 1, 10, tzinfo=UTC),
    "20240601T1000+0200": datetime(2024, 6, 1, 8, tzinfo=UTC),
    "2024-06-01T10:00:00,5Z": datetime(2024, 6, 1, 10, 0, 0, 500_000, tzinfo=UTC),
    "2024-06-01T10:00:00.25-05": datetime(2024, 6, 1, 15, 0, 0, 250_000, tzinfo=UTC),
    "2024-06-01T10:00:00+05:30": datetime(2024, 6, 1, 4, 30, tzinfo=UTC),
    "2024-06-01T10:00:00-0130": datetime(2024, 6, 1, 11, 30, tzinfo=UTC),
    "2024-06-01T10:00:00.123Z": datetime(2024, 6, 1, 10, 0, 0, 123_000, tzinfo=UTC),
    "2024-06-01 10:00:00.000001Z": datetime(2024, 6, 1, 10, 0, 0, 1, tzinfo=UTC),
    "2024-06-01T10:00:00-23:59": datetime(2024, 6, 2, 9, 59, tzinfo=UTC),
    "2024-06-01": datetime(2024, 6, 1, tzinfo=UTC),
    "20240601": datetime(2024, 6, 1, tzinfo=UTC),
}
NOT_ISO = [
    "2024-6-1 10:00:00",
    "2024-06-01 10:00:00 UTC",
    "2024-06-01T1000Z",  # extended date, basic time
    "01/06/2024",
    "epoch",
    "2024-02-30",
    "2024-06-01T 0:00:00Z",  # DuckDB reads a space for a digit
    "2024-06-01T10:00:0Z",
]
RANGE = "outside the accepted range 1970-01-01.."
OUT_OF_RANGE = ["0001-01-01T00:00:00Z", "9999-12-31", "1969-12-31T23:59:59Z"]


def _events_csv(path: Path, stamps: list[str]) -> Path:
    lines = ["event,timestamp,customer_id"]
    lines += [f'x,"{s}",C{i}' for i, s in enumerate(stamps)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_iso_8601_forms_load_as_the_right_utc_instant(ws_dir: Path, files: Path) -> None:
    stamps = list(ACCEPTED)
    done = run_cli(ws_dir, "ingest", "events", str(_events_csv(files / "e.csv", stamps)))
    assert done.returncode == 0, done.stderr
    assert f"{len(stamps)} rows read, {len(stamps)} accepted, 0 rejected" in done.stdout
    stored = dict(
        query(ws_dir, "SELECT p.customer_id, e.ts FROM events e JOIN profiles p USING (pid)")
    )
    assert {s: stored[f"C{i}"] for i, s in enumerate(stamps)} == ACCEPTED


def test_other_forms_and_implausible_instants_are_rejected_rows(ws_dir: Path, files: Path) -> None:
    stamps = ["2024-06-01T10:00:00Z", *NOT_ISO, *OUT_OF_RANGE]
    done = run_cli(ws_dir, "ingest", "events", str(_events_csv(files / "e.csv", stamps)))
    assert done.returncode == 0, done.stderr
    assert f"{len(stamps)} rows read, 1 accepted, {len(stamps) - 1} rejected" in done.stdout
    reasons = {r["timestamp"]: r["reason"] for r in rejects_of(done.stdout)}
    for s in NOT_ISO:
        assert reasons[s] == f'timestamp: not an ISO 8601 timestamp: "{s}"'
    for s in OUT_OF_RANGE:
        assert reasons[s].startswith(f"timestamp: {RANGE}"), reasons[s]
        assert reasons[s].endswith(
            '(segmint.toml [ingest] earliest, latest_days_ahead), got "' + s + '"'
        )
    assert query(ws_dir, "SELECT max(ts) FROM events") == [(datetime(2024, 6, 1, 10, tzinfo=UTC),)]


def test_the_range_is_set_in_segmint_toml(ws_dir: Path, files: Path) -> None:
    toml = ws_dir / "segmint.toml"
    toml.write_text(toml.read_text().replace('earliest = "1970-01-01"', 'earliest = "1900-01-01"'))
    stamps = ["1969-12-31T23:59:59Z", "1899-12-31"]
    done = run_cli(ws_dir, "ingest", "events", str(_events_csv(files / "e.csv", stamps)))
    assert "2 rows read, 1 accepted, 1 rejected" in done.stdout, done.stderr
    assert rejects_of(done.stdout)[0]["reason"].startswith(
        "timestamp: outside the accepted range 1900-01-01.."
    )
    toml.write_text(toml.read_text().replace('earliest = "1900-01-01"', 'earliest = "1900-13-01"'))
    done = run_cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert done.returncode == 2
    assert done.stderr == (
        f'error: {toml}: [ingest] earliest: expected a date such as "1970-01-01", '
        "got '1900-13-01'\n"
    )


def test_orders_customers_and_timestamp_attributes_are_held_to_the_same_rules(
    ws_dir: Path, files: Path
) -> None:
    orders = files / "o.csv"
    orders.write_text(
        "order_id,customer_id,ordered_at,total\n"
        "O1,C1,2024-06-01T10:00Z,10\nO2,C2,2024-6-1,10\nO3,C3,9999-12-31T00:00:00Z,10\n"
    )
    done = run_cli(ws_dir, "ingest", "orders", str(orders))
    assert "3 rows read, 1 accepted, 2 rejected" in done.stdout, done.stderr
    reasons = [r["reason"] for r in rejects_of(done.stdout)]
    assert reasons[0] == 'ordered_at: not an ISO 8601 timestamp: "2024-6-1"'
    assert reasons[1].startswith(f"ordered_at: {RANGE}")
    people = write_jsonl(
        files / "c.jsonl",
        [
            {"customer_id": "C1", "created_at": "20240601T100000Z"},
            {"customer_id": "C2", "created_at": "0001-01-01T00:00:00Z"},
            {"customer_id": "C3", "created_at": "2024-06-01 10:00:00 UTC"},
        ],
    )
    done = run_cli(ws_dir, "ingest", "customers", str(people))
    assert "3 rows read, 1 accepted, 2 rejected" in done.stdout, done.stderr
    reasons = [r["reason"] for r in rejects_of(done.stdout)]
    assert reasons[0].startswith(f"created_at: {RANGE}")
    assert reasons[1].startswith("created_at: expected timestamp")
    assert query(ws_dir, "SELECT created_at FROM profiles WHERE customer_id = 'C1'") == [
        (datetime(2024, 6, 1, 10, tzinfo=UTC),)
    ]


@pytest.mark.parametrize("value", ["2024-6-1 10:00:00", "2024-06-01 10:00:00 UTC"])
def test_a_column_of_non_iso_dates_is_not_inferred_as_timestamps(
    ws_dir: Path, files: Path, value: str
) -> None:
    path = files / "e.csv"
    path.write_text(f'event,timestamp,customer_id,seen\nx,2024-06-01,C1,"{value}"\n')
    done = run_cli(ws_dir, "ingest", "events", str(path))
    assert done.returncode == 0, done.stderr
    assert query(ws_dir, "SELECT properties->>'seen' FROM events") == [(value,)]
    basic = files / "b.csv"
    basic.write_text("event,timestamp,customer_id,seen_at\nx,2024-06-01,C1,2024-06-01T10:00Z\n")
    done = run_cli(ws_dir, "ingest", "events", str(basic))
    assert done.returncode == 0, done.stderr
    assert query(ws_dir, "SELECT type FROM event_properties WHERE prop = 'seen_at'") == [
        ("timestamp",)
    ]


def test_a_timestamp_property_in_json_lines_is_range_checked(ws_dir: Path, files: Path) -> None:
    events = write_jsonl(
        files / "e.jsonl",
        [
            {"event": "x", "timestamp": "2024-06-01", "customer_id": "C1", "properties": p}
            for p in ({"due": "2024-07-01T00:00Z"}, {"due": "9999-12-31T00:00:00Z"})
        ],
    )
    done = run_cli(ws_dir, "ingest", "events", str(events))
    assert "2 rows read, 1 accepted, 1 rejected" in done.stdout, done.stderr
    assert rejects_of(done.stdout)[0]["reason"].startswith(f"due: {RANGE}")
