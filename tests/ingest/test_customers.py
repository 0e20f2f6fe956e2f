from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa

import segmint
from tests.conftest import rows, write_csv, write_jsonl


def catalog(ws: segmint.Workspace) -> dict[str, str]:
    return dict(rows(ws, "SELECT name, type FROM attributes WHERE NOT builtin"))


def test_custom_attribute_types_are_inferred_from_csv(ws: segmint.Workspace, files: Path) -> None:
    write_csv(
        files / "c.csv",
        """customer_id,vip,points,score,signed_up,plan,note
        C1,true,3,1.5,2024-01-02T03:04:05Z,gold,
        C2,false,-4,2,2024-02-01,free,hello""",
    )
    ws.ingest("customers", files / "c.csv")
    assert catalog(ws) == {
        "vip": "bool",
        "points": "integer",
        "score": "float",
        "signed_up": "timestamp",
        "plan": "string",
        "note": "string",
    }
    got = rows(ws, "SELECT x_vip, x_points, x_score, x_signed_up FROM profiles ORDER BY pid")
    assert got[1] == (False, -4, 2.0, datetime(2024, 2, 1, tzinfo=UTC))


def test_jsonl_arrays_become_list_attributes(ws: segmint.Workspace, files: Path) -> None:
    write_jsonl(
        files / "c.jsonl",
        [
            {"customer_id": "C1", "interests": ["boxing", "yoga"], "age": 31},
            {"customer_id": "C2", "interests": []},
            {"customer_id": "C3"},
        ],
    )
    ws.ingest("customers", files / "c.jsonl")
    assert catalog(ws) == {"interests": "list", "age": "integer"}
    got = rows(ws, "SELECT customer_id, x_interests FROM profiles ORDER BY customer_id")
    # An empty list is set and contains nothing; an absent key is missing (DESIGN section 4).
    assert got == [("C1", ["boxing", "yoga"]), ("C2", []), ("C3", None)]


def test_loading_a_known_customer_updates_only_the_given_fields(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(files / "a.csv", "customer_id,email,country,plan\nC1,a@x.com,US,free")
    write_csv(files / "b.csv", "customer_id,plan,city\nC1,pro,Boston")
    write_csv(files / "c.csv", "customer_id,plan,country\nC1,,GB")
    for name in ("a", "b", "c"):
        ws.ingest("customers", files / f"{name}.csv")
    got = rows(ws, "SELECT email, country, city, x_plan FROM profiles")
    # An empty cell is a missing value: it never erases what is stored.
    assert got == [("a@x.com", "GB", "Boston", "pro")]
    assert ws.stats()["profiles"] == 1


def test_last_row_wins_when_a_file_repeats_a_customer(ws: segmint.Workspace, files: Path) -> None:
    write_csv(files / "c.csv", "customer_id,plan,city\nC1,free,Paris\nC1,pro,\nC2,free,Rome")
    result = ws.ingest("customers", files / "c.csv")
    assert (result.accepted, result.profiles_created) == (3, 2)
    assert rows(ws, "SELECT x_plan, city FROM profiles WHERE customer_id = 'C1'") == [
        ("pro", "Paris")
    ]


def test_type_conflict_rejects_rows_and_integer_widens_to_float(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(files / "a.csv", "customer_id,points,level\nC1,3,1")
    ws.ingest("customers", files / "a.csv")
    write_csv(files / "b.csv", "customer_id,points,level\nC2,gold,2.5\nC3,7,3")
    result = ws.ingest("customers", files / "b.csv")
    assert (result.accepted, result.rejected) == (1, 1)
    assert any("level" in w and "widened" in w for w in result.warnings)
    assert catalog(ws) == {"points": "integer", "level": "float"}
    assert result.rejects_file is not None
    text = result.rejects_file.read_text()
    assert 'points: expected integer (its type from an earlier load), got ""gold""' in text
    assert rows(ws, "SELECT x_level FROM profiles WHERE customer_id = 'C3'") == [(3.0,)]


def test_timestamps_with_offsets_are_stored_in_utc(ws: segmint.Workspace, files: Path) -> None:
    write_csv(
        files / "c.csv",
        """customer_id,created_at
        C1,2024-03-01T10:00:00+02:00
        C2,2024-03-01T10:00:00
        C3,2024-03-01""",
    )
    ws.ingest("customers", files / "c.csv")
    got = [r[0] for r in rows(ws, "SELECT created_at FROM profiles ORDER BY customer_id")]
    assert got == [
        datetime(2024, 3, 1, 8, tzinfo=UTC),
        datetime(2024, 3, 1, 10, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    ]


def test_dataframes_and_arrow_tables_load_like_files(ws: segmint.Workspace) -> None:
    ws.ingest("customers", pd.DataFrame({"customer_id": ["C1"], "score": [1.5]}))
    ws.ingest("customers", pl.DataFrame({"customer_id": ["C2"], "score": [2.0]}))
    ws.ingest("customers", pa.table({"customer_id": ["C3"], "score": [None]}))
    got = rows(ws, "SELECT customer_id, x_score FROM profiles ORDER BY customer_id")
    assert got == [("C1", 1.5), ("C2", 2.0), ("C3", None)]


def test_types_are_inferred_from_all_rows_not_only_a_sample(
    ws: segmint.Workspace, files: Path
) -> None:
    rows_ = [f"C{i},{i},{i},{i % 2 == 0}" for i in range(10_500)]
    rows_[10_200] = "C10200,2.5,oops,maybe"
    text = "customer_id,score,code,flag\n" + "\n".join(rows_) + "\n"
    (files / "c.csv").write_text(text)
    result = ws.ingest("customers", files / "c.csv")
    assert result.rejected == 0
    assert catalog(ws) == {"score": "float", "code": "string", "flag": "string"}
