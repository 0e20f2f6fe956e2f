"""Hostile inputs, through the real ``segmint`` command: what the user sees for each.

A bad row goes to the rejects file with its reason and the other rows load; a bad whole
input is one ``error:`` line on stderr with exit code 2, no traceback, nothing loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import segmint
from segmint.ingest.duckdb.sources import MAX_COLUMNS, MAX_JSON_DEPTH, MAX_QUOTE_REPAIRS, json_depth
from tests.conftest import db, rejects_of, run_cli, write_csv, write_jsonl

HEADER = "event,timestamp,customer_id"


cli = run_cli


def query(ws_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with segmint.open(ws_dir) as ws:
        return db(ws).execute(sql).fetchall()


def refused(done: subprocess.CompletedProcess[str], message: str) -> None:
    """The whole input was refused: exit 2 and exactly one line, the message."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == f"error: {message}\n"


# 1. Bad bytes in a property column


def test_bad_utf8_in_a_property_column_rejects_that_row_only(ws_dir: Path, files: Path) -> None:
    (files / "e.csv").write_bytes(
        b"event,timestamp,customer_id,color,size\n"
        b"x,2024-01-01,C1,red,1\n"
        b"x,2024-01-01,C2,r\xff\xfed,2\n"
        b"x,2024-01-01,C3,blue,\xc3\n"
        b"x,2024-01-01,C4,green,4\n"
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert done.returncode == 0, done.stderr
    assert "4 rows read, 2 accepted, 2 rejected" in done.stdout
    rejected = rejects_of(done.stdout)
    assert [(r["line"], r["reason"]) for r in rejected] == [
        ("3", "unreadable CSV line: INVALID ENCODING: invalid UTF-8 in column 'color'"),
        ("4", "unreadable CSV line: INVALID ENCODING: invalid UTF-8 in column 'size'"),
    ]
    assert query(ws_dir, "SELECT properties->>'color' FROM events ORDER BY ts, 1") == [
        ("green",),
        ("red",),
    ]


def test_bad_utf8_in_a_customer_attribute_past_the_sample_rejects_that_row(
    ws_dir: Path, files: Path
) -> None:
    # Past the 10,000-row sample, in a column guessed integer: the check of the guess reads
    # the whole file, and met the bad bytes.
    lines = [f"C{i},{i}" for i in range(12_000)]
    lines[11_000] = "C11000,1\xff1"
    (files / "c.csv").write_bytes(
        ("customer_id,points\n" + "\n".join(lines) + "\n").encode("latin-1")
    )
    done = cli(ws_dir, "ingest", "customers", str(files / "c.csv"))
    assert done.returncode == 0, done.stderr
    assert "12,000 rows read, 11,999 accepted, 1 rejected" in done.stdout
    (reject,) = rejects_of(done.stdout)
    assert reject["line"] == "11002"
    assert (
        reject["reason"]
        == "unreadable CSV line: INVALID ENCODING: invalid UTF-8 in column 'points'"
    )
    assert query(ws_dir, "SELECT type FROM attributes WHERE name = 'points'") == [("integer",)]


# 2. Wide files


def test_a_600_column_file_loads_in_bounded_time_and_memory(ws_dir: Path, files: Path) -> None:
    names = [f"p{i}" for i in range(597)]
    rows = [
        f"view,2024-01-01T00:00:{r % 60:02d}Z,C{r}," + ",".join(f"{r * i}" for i in range(597))
        for r in range(200)
    ]
    (files / "e.csv").write_text(f"{HEADER},{','.join(names)}\n" + "\n".join(rows) + "\n")
    # The command runs under a small parent that reports its peak memory (its own children's).
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    cmd = [sys.executable, "-c", measure, sys.executable, "-m", "segmint"]
    started = time.perf_counter()
    done = subprocess.run(
        [*cmd, "--workspace", str(ws_dir), "ingest", "events", str(files / "e.csv")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    summary, peak_kb = done.stdout.splitlines()
    assert summary == "e.csv: 200 rows read, 200 accepted, 0 rejected, 200 new profiles"
    # Before, type inference grew faster than the square of the width: this file took 47 s
    # and 4.8 GB on the project machine; now 2-3 s and 0.4 GB.
    assert seconds < 30
    assert int(peak_kb) < 1_500_000
    got = query(ws_dir, "SELECT count(*), min(type), max(type) FROM event_properties")
    assert got == [(597, "integer", "integer")]
    (props,) = query(ws_dir, "SELECT properties FROM events LIMIT 1")[0]
    assert len(json.loads(props)) == 597


def test_a_file_with_more_columns_than_the_cap_is_refused(ws_dir: Path, files: Path) -> None:
    width = MAX_COLUMNS + 1
    names = [f"p{i}" for i in range(width - 3)]
    (files / "e.csv").write_text(
        f"{HEADER},{','.join(names)}\nx,2024-01-01,C1{',' * (width - 3)}\n"
    )
    refused(
        cli(ws_dir, "ingest", "events", str(files / "e.csv")),
        "e.csv: 1,001 columns (header); at most 1,000 are supported: split the file or leave "
        "columns out",
    )
    row = {"event": "x", "timestamp": "2024-01-01", "customer_id": "C1"}
    write_jsonl(files / "e.jsonl", [row | {f"k{i}": i for i in range(width)}])
    refused(
        cli(ws_dir, "ingest", "events", str(files / "e.jsonl")),
        "e.jsonl: 1,004 columns (top-level keys); at most 1,000 are supported: split the file "
        "or leave columns out",
    )
    assert query(ws_dir, "SELECT count(*) FROM events") == [(0,)]


# 3. Repeated and case-colliding names


def test_repeated_or_case_colliding_csv_headers_are_refused(ws_dir: Path, files: Path) -> None:
    write_csv(files / "e.csv", f"{HEADER},channel,channel\nx,2024-01-01,C1,web,app")
    refused(
        cli(ws_dir, "ingest", "events", str(files / "e.csv")),
        "e.csv: repeated names in the header: 'channel' 2 times (names that differ only in "
        "letter case are the same to DuckDB, so both cannot be kept): rename them",
    )
    write_csv(files / "c.csv", "customer_id,Plan,PLAN,plan\nC1,a,b,c")
    refused(
        cli(ws_dir, "ingest", "customers", str(files / "c.csv")),
        "c.csv: repeated names in the header: 'Plan' and 'PLAN' and 'plan' (names that differ "
        "only in letter case are the same to DuckDB, so both cannot be kept): rename them",
    )
    assert query(ws_dir, "SELECT count(*) FROM profiles") == [(0,)]


def test_case_colliding_parquet_and_json_lines_names_are_refused(ws_dir: Path, files: Path) -> None:
    table = pa.table(
        [["x"], ["2024-01-01"], ["C1"], ["a"], ["b"]], names=[*HEADER.split(","), "Plan", "PLAN"]
    )
    pq.write_table(table, files / "e.parquet")
    refused(
        cli(ws_dir, "ingest", "events", str(files / "e.parquet")),
        "e.parquet: repeated names in the schema: 'Plan' and 'PLAN' (names that differ only in "
        "letter case are the same to DuckDB, so both cannot be kept): rename them",
    )
    row = {"event": "x", "timestamp": "2024-01-01", "customer_id": "C1"}
    write_jsonl(files / "top.jsonl", [row | {"Plan": "a"}, row | {"PLAN": "b"}])
    refused(
        cli(ws_dir, "ingest", "events", str(files / "top.jsonl")),
        "top.jsonl: repeated names in the top-level keys: 'Plan' and 'PLAN' (names that differ "
        "only in letter case are the same to DuckDB, so both cannot be kept): rename them",
    )
    write_jsonl(
        files / "props.jsonl",
        [row | {"properties": {"plan": "a"}}, row | {"properties": {"Plan": "b"}}],
    )
    refused(
        cli(ws_dir, "ingest", "events", str(files / "props.jsonl")),
        "props.jsonl: repeated names in the keys of properties: 'plan' and 'Plan' (names that "
        "differ only in letter case are the same to DuckDB, so both cannot be kept): rename "
        "them",
    )
    assert query(ws_dir, "SELECT count(*) FROM events") == [(0,)]


def test_case_colliding_columns_of_a_table_are_refused(tmp_path: Path) -> None:
    table = pa.table({"customer_id": ["C1"], "Plan": ["a"], "PLAN": ["b"]})
    with segmint.init(tmp_path / "ws") as ws:
        with pytest.raises(segmint.IngestError) as caught:
            ws.ingest("customers", table)
        assert str(caught.value) == (
            "table: repeated names in the columns: 'Plan' and 'PLAN' (names that differ only "
            "in letter case are the same to DuckDB, so both cannot be kept): rename them"
        )
        assert ws.stats()["profiles"] == 0


# 4. A malformed quoted line


@pytest.mark.parametrize(
    "bad", ['x,2024-01-01,"C3', 'x,2024-01-01,"C3"x', 'x,"2024-01-01,C3'], ids=str
)
def test_a_malformed_quoted_line_in_a_small_file_is_one_reject(
    ws_dir: Path, files: Path, bad: str
) -> None:
    lines = [HEADER] + [f"x,2024-01-01,C{i}" for i in range(1, 6)]
    lines[3] = bad
    (files / "e.csv").write_text("\n".join(lines) + "\n")
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert done.returncode == 0, done.stderr
    assert "5 rows read, 4 accepted, 1 rejected" in done.stdout
    (reject,) = rejects_of(done.stdout)
    assert (reject["line"], reject["raw"]) == ("4", bad)
    assert reject["reason"].startswith("unreadable CSV line: UNQUOTED VALUE: ")
    ids = query(ws_dir, "SELECT customer_id FROM profiles ORDER BY 1")
    assert ids == [("C1",), ("C2",), ("C4",), ("C5",)]


def test_an_unclosed_quote_in_a_large_file_loses_no_later_row(ws_dir: Path, files: Path) -> None:
    lines = [f"E{i},x,2024-01-01T00:00:00Z,C{i % 97}" for i in range(1, 100_001)]
    lines[49_999] = 'E50000,x,2024-01-01T00:00:00Z,"C50000'  # record 50,000, file line 50,001
    lines[79_999] = "E80000,x,not-a-time,C1"
    (files / "e.csv").write_text("event_id,event,timestamp,customer_id\n" + "\n".join(lines))
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert done.returncode == 0, done.stderr
    assert "100,000 rows read, 99,998 accepted, 2 rejected" in done.stdout
    quote, time_ = rejects_of(done.stdout)
    assert (quote["line"], quote["raw"]) == ("50001", 'E50000,x,2024-01-01T00:00:00Z,"C50000')
    assert (
        quote["reason"]
        == "unreadable CSV line: UNQUOTED VALUE: Value with unterminated quote found."
    )
    # The set-aside line is not a record: the next row is record 79,999 of the file's rows.
    assert (time_["record"], time_["event_id"]) == ("79999", "E80000")
    got = query(
        ws_dir,
        "SELECT count(*), count(*) FILTER (WHERE event_id IN ('E49999', 'E50001', 'E100000')) "
        "FROM events",
    )
    assert got == [(99_998, 3)]


def test_too_many_unclosed_quotes_refuse_the_file(ws_dir: Path, files: Path) -> None:
    lines = [HEADER] + [f'x,2024-01-01,"C{i}' for i in range(1, MAX_QUOTE_REPAIRS + 3)]
    (files / "e.csv").write_text("\n".join(lines) + "\n")
    refused(
        cli(ws_dir, "ingest", "events", str(files / "e.csv")),
        f"e.csv: more than {MAX_QUOTE_REPAIRS} lines open a quote that is never closed "
        "(line 18: 'x,2024-01-01,\"C17'); fix the quoting and load again",
    )


# 5. Byte order marks


def test_a_byte_order_mark_is_not_data(ws_dir: Path, files: Path) -> None:
    rows = [{"event": "x", "timestamp": "2024-01-01", "customer_id": f"C{i}"} for i in (1, 2)]
    text = "\n".join(json.dumps(r) for r in rows) + "\n"
    (files / "e.jsonl").write_bytes(b"\xef\xbb\xbf" + text.encode())
    done = cli(ws_dir, "ingest", "events", str(files / "e.jsonl"))
    assert done.stdout.strip() == "e.jsonl: 2 rows read, 2 accepted, 0 rejected, 2 new profiles"
    (files / "e.csv").write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\nx,2024-01-01,C3\n".encode())
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert done.stdout.strip() == "e.csv: 1 row read, 1 accepted, 0 rejected, 1 new profiles"


# 6. Money


def test_money_too_large_is_rejected_as_too_large(ws_dir: Path, files: Path) -> None:
    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total
        O1,C1,2024-01-01,100000000000000
        O2,C1,2024-01-01,-1e20
        O3,C1,2024-01-01,1.23456
        O4,C1,2024-01-01,99999999999999.9999""",
    )
    done = cli(ws_dir, "ingest", "orders", str(files / "o.csv"))
    assert "4 rows read, 1 accepted, 3 rejected" in done.stdout
    assert [r["reason"] for r in rejects_of(done.stdout)] == [
        "total: too large: money holds -99999999999999.9999 to 99999999999999.9999, "
        'got "100000000000000"',
        'total: too large: money holds -99999999999999.9999 to 99999999999999.9999, got "-1e20"',
        'total: expected a number with at most 4 decimals, got "1.23456"',
    ]


def test_the_largest_money_is_kept_exactly_end_to_end(ws_dir: Path, files: Path) -> None:
    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total
        O1,C1,2024-01-01,-99999999999999.9999""",
    )
    assert cli(ws_dir, "ingest", "orders", str(files / "o.csv")).returncode == 0
    # JSON Lines numbers are read as binary floats by DuckDB: the digits must survive.
    write_jsonl(
        files / "o.jsonl",
        [
            '{"order_id": "O2", "customer_id": "C2", "ordered_at": "2024-01-01", '
            '"properties": {"total": 1}, "total": -99999999999999.9999}',
            '{"order_id": "O3", "customer_id": "C2", "ordered_at": "2024-01-01", "total": 0.1}',
            '{"order_id": "O4", "customer_id": "C2", "ordered_at": "2024-01-01", '
            '"total": 12345678901234.5678}',
            '{"order_id": "O5", "customer_id": "C2", "ordered_at": "2024-01-01", "total": 1e14}',
            '{"order_id": "O6", "customer_id": "C3", "ordered_at": "2024-01-01", "total": 19.99}',
        ],
    )
    done = cli(ws_dir, "ingest", "orders", str(files / "o.jsonl"))
    assert "5 rows read, 4 accepted, 1 rejected" in done.stdout
    (reject,) = rejects_of(done.stdout)
    assert reject["reason"] == (
        'total: too large: money holds -99999999999999.9999 to 99999999999999.9999, got "1e14"'
    )
    assert query(ws_dir, "SELECT event_id, revenue FROM events ORDER BY event_id") == [
        ("O1", Decimal("-99999999999999.9999")),
        ("O2", Decimal("-99999999999999.9999")),
        ("O3", Decimal("0.1000")),
        ("O4", Decimal("12345678901234.5678")),
        ("O6", Decimal("19.9900")),
    ]
    shown = json.loads(cli(ws_dir, "customer", "show", "C1", "--json").stdout)
    assert shown["revenue_total"] == "-99999999999999.9999"  # a float cannot hold it
    assert shown["recent_events"][0]["revenue"] == "-99999999999999.9999"
    assert "-99,999,999,999,999.9999" in cli(ws_dir, "customer", "show", "C1").stdout
    shown = json.loads(cli(ws_dir, "customer", "show", "C2", "--json").stdout)
    assert [e["revenue"] for e in shown["recent_events"]] == [
        "-99999999999999.9999",
        0.1,
        "12345678901234.5678",
    ]
    # Money a float holds exactly stays a JSON number.
    shown = json.loads(cli(ws_dir, "customer", "show", "C3", "--json").stdout)
    assert (shown["revenue_total"], shown["recent_events"][0]["revenue"]) == (19.99, 19.99)
    assert "19.99" in cli(ws_dir, "customer", "show", "C3").stdout


# 7. Names that are not strings


def test_non_string_event_names_and_ids_in_json_lines_are_rejected(
    ws_dir: Path, files: Path
) -> None:
    row = {"event": "x", "timestamp": "2024-01-01", "customer_id": "C1"}
    write_jsonl(
        files / "e.jsonl",
        [
            row | {"event": ["page_view"]},
            row | {"event": {"name": "x"}},
            row | {"event": 7},
            row | {"event": True},
            row | {"customer_id": ["C1"]},
            row | {"customer_id": 42},  # an integer id is an id
            row | {"customer_id": 4.5},
            {"event": "x", "timestamp": "2024-01-01", "anonymous_id": {"a": 1}},
            {"event": "x", "timestamp": "2024-01-01", "email": 12},
            row | {"event_id": [1]},
            row | {"event_id": 99},
        ],
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.jsonl"))
    assert done.returncode == 0, done.stderr
    assert "11 rows read, 2 accepted, 9 rejected" in done.stdout
    assert [(r["line"], r["reason"]) for r in rejects_of(done.stdout)] == [
        (1, 'event: expected a string, got an array: ["page_view"]'),
        (2, 'event: expected a string, got an object: {"name":"x"}'),
        (3, "event: expected a string, got a number: 7"),
        (4, "event: expected a string, got a boolean: true"),
        (5, 'customer_id: expected a string or an integer, got an array: ["C1"]'),
        (7, "customer_id: expected a string or an integer, got a number: 4.5"),
        (8, 'anonymous_id: expected a string or an integer, got an object: {"a":1}'),
        (9, "email: expected a string, got a number: 12"),
        (10, "event_id: expected a string or an integer, got an array: [1]"),
    ]
    assert query(ws_dir, "SELECT DISTINCT event FROM events") == [("x",)]
    assert query(ws_dir, "SELECT customer_id FROM profiles ORDER BY 1") == [("42",), ("C1",)]


def test_customers_ids_and_emails_in_json_lines_must_be_strings(ws_dir: Path, files: Path) -> None:
    write_jsonl(
        files / "c.jsonl",
        [
            {"customer_id": {"id": 1}},
            {"customer_id": "C1", "email": ["a@example.com"]},
            {"customer_id": 7, "email": "b@example.com"},
        ],
    )
    done = cli(ws_dir, "ingest", "customers", str(files / "c.jsonl"))
    assert "3 rows read, 1 accepted, 2 rejected" in done.stdout
    assert [r["reason"] for r in rejects_of(done.stdout)] == [
        'customer_id: expected a string or an integer, got an object: {"id":1}',
        'email: expected a string, got an array: ["a@example.com"]',
    ]


def test_a_list_column_of_event_names_refuses_the_parquet_file(ws_dir: Path, files: Path) -> None:
    table = pa.table({"event": [["x"]], "timestamp": ["2024-01-01"], "customer_id": ["C1"]})
    pq.write_table(table, files / "e.parquet")
    refused(
        cli(ws_dir, "ingest", "events", str(files / "e.parquet")),
        "e.parquet: column 'event' is VARCHAR[]; expected text",
    )


# 8. UTC offsets


def test_timestamps_with_an_impossible_offset_are_rejected(ws_dir: Path, files: Path) -> None:
    stamps = [
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00-24:00",
        "2024-01-01T00:00:00+05:60",
        "2024-01-01T00:00:00+99",
        "2024-01-01T12:00:00-23:59",
        "2024-01-01T12:00:00+23:59",
        "2024-01-01T12:00:00+0530",
        "2024-01-01T12:00:00.5+05",
        "2024-01-01T12:00:00Z",
    ]
    (files / "e.csv").write_text(
        f"{HEADER},seen_at\n" + "".join(f"x,{s},C{i},{s}\n" for i, s in enumerate(stamps))
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert "9 rows read, 5 accepted, 4 rejected" in done.stdout
    assert [r["reason"] for r in rejects_of(done.stdout)] == [
        f'timestamp: not an ISO 8601 timestamp (its UTC offset is outside -23:59..+23:59): "{s}"'
        for s in stamps[:4]
    ]
    got = query(ws_dir, "SELECT strftime(ts, '%Y-%m-%d %H:%M:%S.%g') FROM events ORDER BY ts")
    assert [t for (t,) in got] == [
        "2023-12-31 12:01:00.000",
        "2024-01-01 06:30:00.000",
        "2024-01-01 07:00:00.500",
        "2024-01-01 12:00:00.000",
        "2024-01-02 11:59:00.000",
    ]
    # A column holding such an offset is not a timestamp column: its values are text.
    assert query(ws_dir, "SELECT type FROM event_properties WHERE prop = 'seen_at'") == [
        ("string",)
    ]


# 9. Deep nesting


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_values_nested_too_deep_are_rejected_and_the_rest_load(ws_dir: Path, files: Path) -> None:
    head = '{"event": "x", "timestamp": "2024-01-01", "customer_id": "C1", "properties": {"a": '
    (files / "e.jsonl").write_text(
        f"{head}{nested(5_000)}}}}}\n"
        # The record and properties are two levels: 62 arrays make 64, the most allowed.
        f"{head}{nested(MAX_JSON_DEPTH - 2)}}}}}\n"
        f"{head}{nested(MAX_JSON_DEPTH - 1)}}}}}\n"
        f'{head}"{"[" * 100}"}}}}\n'  # brackets inside a string do not nest
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.jsonl"))
    assert "4 rows read, 2 accepted, 2 rejected" in done.stdout
    assert [(r["line"], r["reason"]) for r in rejects_of(done.stdout)] == [
        (1, "objects or arrays nested more than 64 levels deep"),
        (3, "objects or arrays nested more than 64 levels deep"),
    ]
    deep = '{"customer_id": "C2", "tags": ' + nested(5_000) + "}"
    write_jsonl(files / "c.jsonl", [deep, {"customer_id": "C3", "tags": ["a"]}])
    done = cli(ws_dir, "ingest", "customers", str(files / "c.jsonl"))
    assert "2 rows read, 1 accepted, 1 rejected" in done.stdout
    shown = cli(ws_dir, "customer", "show", "C1", "--json")
    assert shown.returncode == 0, shown.stderr


def test_customer_show_does_not_crash_on_anything_stored(ws_dir: Path, files: Path) -> None:
    write_csv(files / "e.csv", f"{HEADER}\nx,2024-01-01,C1")
    assert cli(ws_dir, "ingest", "events", str(files / "e.csv")).returncode == 0
    # Stored before the depth limit existed, or written to the store by other means.
    with segmint.open(ws_dir) as ws:
        deep = '{"a": ' + nested(5_000) + ', "b": 1, "c": null}'
        db(ws).execute("UPDATE events SET properties = ?", [deep])
    done = cli(ws_dir, "customer", "show", "C1", "--json")
    assert done.returncode == 0, done.stderr
    props = json.loads(done.stdout)["recent_events"][0]["properties"]
    assert props == {"a": "[" * 200 + "…", "b": 1}
    done = cli(ws_dir, "customer", "show", "C1")
    assert done.returncode == 0, done.stderr
    assert "b=1" in done.stdout


@pytest.mark.parametrize(
    ("text", "depth"),
    [('"x"', 0), ("[]", 1), ('{"a": [1, {"b": "]]"}]}', 3), ('["[[[", "\\"[["]', 1)],
)
def test_json_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert json_depth(text) == depth


def test_a_rejected_json_lines_record_keeps_its_exact_digits(ws_dir: Path, files: Path) -> None:
    write_jsonl(
        files / "o.jsonl",
        [
            '{"order_id": "O1", "customer_id": "C1", "ordered_at": "never", '
            '"total": -99999999999999.9999, "note": "tab\\there, \\"quoted\\""}',
            '{"order_id": "O2", "customer_id": "C1", "ordered_at": "2024-01-01", "total": 5}',
            "not json at all, with a comma",
        ],
    )
    done = cli(ws_dir, "ingest", "orders", str(files / "o.jsonl"))
    assert "3 rows read, 1 accepted, 2 rejected" in done.stdout, done.stdout
    line = next(x for x in done.stdout.splitlines() if x.startswith("rejected rows and"))
    text = Path(line.split(": ", 1)[1]).read_text(encoding="utf-8")
    assert "-99999999999999.9999" in text and "-100000000000000" not in text
    first, second = (json.loads(x) for x in text.splitlines())
    assert first["line"] == 1 and first["raw"] is None
    assert first["row"]["note"] == 'tab\there, "quoted"'
    assert first["reason"].startswith("ordered_at: ")
    assert second == {
        "reason": second["reason"],
        "line": 3,
        "row": None,
        "raw": "not json at all, with a comma",
    }


EMPTY_KEY = '{"event": "x", "timestamp": "2026-01-01", "customer_id": "C1", '


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("e.jsonl", EMPTY_KEY + '"": 1}', "top-level keys"),
        ("p.jsonl", EMPTY_KEY + '"properties": {" ": 1}}', "keys of properties"),
    ],
)
def test_a_column_or_key_without_a_name_refuses_the_file(
    ws_dir: Path, files: Path, name: str, text: str, where: str
) -> None:
    (files / name).write_text(text + "\n", encoding="utf-8")
    done = cli(ws_dir, "ingest", "events", str(files / name))
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {name}: a name in the {where} is empty; every column and key needs a name "
        "(name it or leave it out)\n"
    )
