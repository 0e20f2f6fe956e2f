"""The strict conversions of ingest/duckdb/types.py, one line per case (in-memory DuckDB)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest

from segmint.ingest.duckdb.types import (
    SourceColumn,
    cast_expr,
    inference_aggregates,
    money_can_fail,
    pick_type,
)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    return c


def convert(con: duckdb.DuckDBPyConnection, text: str, logical: str) -> object:
    col = SourceColumn("v", "v", "text")
    row = con.execute(f"SELECT {cast_expr(col, logical)} FROM (SELECT ? AS v)", [text]).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize(
    ("text", "logical", "expected"),
    [
        ("42", "integer", 42),
        (" -7 ", "integer", -7),
        ("12.5", "integer", None),  # DuckDB alone would round to 13
        ("0x10", "integer", None),  # DuckDB alone would read hex
        ("12.0", "integer", 12),
        ("2.5", "float", 2.5),
        ("inf", "float", None),
        ("nan", "float", None),
        ("19.99", "money", Decimal("19.9900")),
        ("19.99999", "money", None),  # more decimals than kept: rejected, not rounded
        ("ten", "money", None),
        ("true", "bool", True),
        ("no", "bool", False),
        ("maybe", "bool", None),
        ("2024-03-01T10:00:00+02:00", "timestamp", datetime(2024, 3, 1, 8, tzinfo=UTC)),
        ("2024-03-01", "timestamp", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-02-30", "timestamp", None),
        ("epoch", "timestamp", None),
        ("infinity", "timestamp", None),
        ("24-01-02", "timestamp", None),
        ("1700000000", "timestamp", None),
        ('["a", "b"]', "list", ["a", "b"]),
        ("", "string", None),  # an empty cell is missing
    ],
)
def test_text_conversions(
    con: duckdb.DuckDBPyConnection, text: str, logical: str, expected: object
) -> None:
    assert convert(con, text, logical) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["true", "FALSE", None], "bool"),
        (["1", "-20", ""], "integer"),
        (["1", "2.5"], "float"),
        (["2024-01-01", "2024-01-02T10:00:00Z"], "timestamp"),
        (["2024-01-01", "soon"], "string"),
        (["1", "0x10"], "string"),
        ([None, ""], None),
    ],
)
def test_inferred_types_of_text_columns(
    con: duckdb.DuckDBPyConnection, values: list[str | None], expected: str | None
) -> None:
    col = SourceColumn("v", "v", "text")
    aggs = ", ".join(inference_aggregates(col, 0))
    rows = ", ".join("(?)" for _ in values)
    cursor = con.execute(f"SELECT {aggs} FROM (VALUES {rows}) t(v)", values)
    row = cursor.fetchone()
    stats = dict(zip([d[0] for d in cursor.description], row or (), strict=True))
    assert pick_type(col, 0, stats) == expected


@pytest.mark.parametrize(
    ("duck_type", "value", "can_fail", "expected"),
    [
        ("DECIMAL(12,2)", "19.99", False, Decimal("19.9900")),
        ("DECIMAL(18,4)", "-0.0001", False, Decimal("-0.0001")),
        ("DECIMAL(20,6)", "1.500000", True, Decimal("1.5000")),
        ("DECIMAL(20,6)", "1.123456", True, None),  # more places than kept
        ("DECIMAL(20,2)", "1000000000000000.00", True, None),  # too large for DECIMAL(18,4)
        ("DOUBLE", "2.5", True, Decimal("2.5000")),
    ],
)
def test_typed_money_conversions(
    con: duckdb.DuckDBPyConnection, duck_type: str, value: str, can_fail: bool, expected: object
) -> None:
    col = SourceColumn("v", "v", "typed", duck_type)
    assert money_can_fail(col, 4) is can_fail
    sql = f"SELECT {cast_expr(col, 'money')} FROM (SELECT CAST(? AS {duck_type}) AS v)"
    row = con.execute(sql, [value]).fetchone()
    assert row is not None and row[0] == expected
