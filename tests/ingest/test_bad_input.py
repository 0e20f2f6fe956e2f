"""Each kind of bad input, through the real ``segmint`` command: message, counts, rejects.

Nothing is lost: for every load, accepted + rejected + skipped equals the rows in the file,
and the rejects file holds exactly the rejected rows.
"""

from __future__ import annotations

from pathlib import Path

import segmint
from tests.conftest import db, rejects_of, run_cli, write_csv, write_jsonl

cli = run_cli


def event_count(ws_dir: Path) -> int:
    with segmint.open(ws_dir) as ws:
        return ws.stats()["events"]


def test_missing_required_column_fails_the_whole_load(ws_dir: Path, files: Path) -> None:
    write_csv(files / "e.csv", "event,customer_id\npage_view,C1")
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: e.csv: missing required column 'timestamp' (columns: event, customer_id)"
    )
    assert event_count(ws_dir) == 0


def test_rows_missing_required_fields_are_rejected_with_reasons(ws_dir: Path, files: Path) -> None:
    write_csv(
        files / "e.csv",
        """event,timestamp,customer_id,anonymous_id
        page_view,2024-01-01T00:00:00Z,C1,
        ,2024-01-01T00:00:00Z,C1,
        page_view,,C1,
        page_view,2024-01-01T00:00:00Z,,""",
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert done.returncode == 0
    assert "4 rows read, 1 accepted, 3 rejected" in done.stdout
    reasons = [r["reason"] for r in rejects_of(done.stdout)]
    assert reasons == [
        "missing event",
        "missing timestamp",
        "missing customer_id, anonymous_id and email: an event needs one of them",
    ]


def test_unparsable_timestamp_and_number_are_rejected(ws_dir: Path, files: Path) -> None:
    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total
        O1,C1,2024-01-01T00:00:00Z,10.50
        O2,C1,2024-02-30T00:00:00Z,10.50
        O3,C1,2024-01-01T00:00:00Z,ten""",
    )
    done = cli(ws_dir, "ingest", "orders", str(files / "o.csv"))
    assert done.returncode == 0
    rejected = rejects_of(done.stdout)
    assert [r["order_id"] for r in rejected] == ["O2", "O3"]
    assert rejected[0]["reason"] == 'ordered_at: not an ISO 8601 timestamp: "2024-02-30T00:00:00Z"'
    assert rejected[1]["reason"] == 'total: expected a number with at most 4 decimals, got "ten"'
    assert rejected[1]["record"] == "3"


def test_empty_file_is_an_error_and_header_only_loads_nothing(ws_dir: Path, files: Path) -> None:
    (files / "empty.csv").write_text("")
    done = cli(ws_dir, "ingest", "events", str(files / "empty.csv"))
    assert done.returncode == 2
    assert "empty.csv: the file is empty; a CSV file needs a header line" in done.stderr
    (files / "header.csv").write_text("event,timestamp,customer_id\n")
    done = cli(ws_dir, "ingest", "events", str(files / "header.csv"))
    assert done.returncode == 0
    assert "header.csv: 0 rows read, 0 accepted, 0 rejected" in done.stdout


def test_unknown_extension_asks_for_format(ws_dir: Path, files: Path) -> None:
    (files / "e.txt").write_text("event,timestamp,customer_id\nx,2024-01-01,C1\n")
    done = cli(ws_dir, "ingest", "events", str(files / "e.txt"))
    assert done.returncode == 2
    assert "cannot tell the format from extension '.txt'; pass --format" in done.stderr
    done = cli(ws_dir, "ingest", "events", str(files / "e.txt"), "--format", "csv")
    assert done.returncode == 0 and event_count(ws_dir) == 1


def test_non_utf8_bytes_reject_that_row_only(ws_dir: Path, files: Path) -> None:
    (files / "e.csv").write_bytes(
        b"event,timestamp,customer_id\nx,2024-01-01,C1\nx,2024-01-02,C\xff\xfe2\ny,2024-01-03,C3\n"
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert done.returncode == 0, done.stderr
    assert "3 rows read, 2 accepted, 1 rejected" in done.stdout
    (reject,) = rejects_of(done.stdout)
    assert "INVALID ENCODING" in reject["reason"] and reject["line"] == "3"
    (files / "e.jsonl").write_bytes(
        b'{"event":"x","timestamp":"2024-01-01","customer_id":"C\xff"}\n'
        b'{"event":"x","timestamp":"2024-01-01","customer_id":"C4"}\n'
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.jsonl"))
    assert "2 rows read, 1 accepted, 1 rejected" in done.stdout
    assert rejects_of(done.stdout)[0]["reason"].startswith("not UTF-8")


def test_duplicate_event_id_within_a_file_keeps_the_first(ws_dir: Path, files: Path) -> None:
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,customer_id
        E1,x,2024-01-01,C1
        E1,x,2024-01-02,C1
        E2,x,2024-01-03,C1""",
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert "3 rows read, 2 accepted, 1 rejected" in done.stdout
    (reject,) = rejects_of(done.stdout)
    assert reject["reason"] == "duplicate event_id E1 (first used by record 1 of this file)"


def test_jsonl_lines_that_are_not_json_objects_are_rejected(ws_dir: Path, files: Path) -> None:
    good = {"event": "x", "timestamp": "2024-01-01T00:00:00Z", "customer_id": "C1"}
    write_jsonl(files / "e.jsonl", [good, "{not json", "[1, 2]", good | {"customer_id": "C2"}])
    done = cli(ws_dir, "ingest", "events", str(files / "e.jsonl"))
    assert done.returncode == 0
    assert "4 rows read, 2 accepted, 2 rejected" in done.stdout
    rejected = rejects_of(done.stdout)
    assert [(r["line"], r["reason"]) for r in rejected] == [
        (2, "not valid JSON"),
        (3, "not a JSON object (got ARRAY)"),
    ]
    assert rejected[0]["raw"] == "{not json"


def test_a_ten_megabyte_field_loads_whole(ws_dir: Path, files: Path) -> None:
    big = "x" * 10_000_000
    (files / "c.csv").write_text(f"customer_id,bio\nC1,{big}\nC2,short\n")
    done = cli(ws_dir, "ingest", "customers", str(files / "c.csv"))
    assert done.returncode == 0, done.stderr
    assert "2 rows read, 2 accepted, 0 rejected" in done.stdout
    with segmint.open(ws_dir) as ws:
        got = db(ws).execute("SELECT length(x_bio) FROM profiles ORDER BY customer_id").fetchall()
    assert got == [(10_000_000,), (5,)]


def test_malformed_csv_lines_are_rejected_with_their_text(ws_dir: Path, files: Path) -> None:
    write_csv(
        files / "e.csv",
        """event,timestamp,customer_id
        x,2024-01-01,C1
        x,2024-01-01,C2,extra
        y,2024-01-01,C3""",
    )
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert "3 rows read, 2 accepted, 1 rejected" in done.stdout
    (reject,) = rejects_of(done.stdout)
    assert "TOO MANY COLUMNS" in reject["reason"]
    assert reject["raw"] == "x,2024-01-01,C2,extra"


def test_not_a_workspace_is_one_line_with_exit_2(tmp_path: Path) -> None:
    done = cli(tmp_path, "ingest", "events", "x.csv")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "create one with: segmint init" in done.stderr


def test_record_numbers_in_rejects_are_file_order_on_a_large_file(
    ws_dir: Path, files: Path
) -> None:
    # Large enough that DuckDB parses it in parallel; numbering must still be file order.
    bad = {1_234, 150_000, 299_999}
    lines = [
        f"E{i},view,{'not-a-time' if i in bad else '2024-01-01T00:00:00Z'},C{i % 97}"
        for i in range(1, 300_001)
    ]
    (files / "e.csv").write_text("event_id,event,timestamp,customer_id\n" + "\n".join(lines))
    done = cli(ws_dir, "ingest", "events", str(files / "e.csv"))
    assert "300,000 rows read, 299,997 accepted, 3 rejected" in done.stdout
    rejected = rejects_of(done.stdout)
    assert [int(r["record"]) for r in rejected] == sorted(bad)
    assert [r["event_id"] for r in rejected] == [f"E{i}" for i in sorted(bad)]
