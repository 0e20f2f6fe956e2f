"""The suppression list (store/schema.py ``suppressions``): emails and customer ids that no
export ever writes (activation/exports.py filters them out in the engine).

Plain parameterized SQL: an insert that skips what is already there, a delete, a read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

KINDS = ("email", "customer_id")


def add(
    con: duckdb.DuckDBPyConnection, entries: Sequence[tuple[str, str]], reason: str | None
) -> int:
    """Add ``entries`` ((kind, normalised value) pairs); those already listed are kept as
    they were. The number added."""
    before = _count(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _suppress (kind VARCHAR, value VARCHAR)")
    con.executemany("INSERT INTO _suppress VALUES (?, ?)", [list(e) for e in entries])
    con.execute(
        "INSERT INTO suppressions SELECT DISTINCT n.kind, n.value, ?::VARCHAR, ? FROM _suppress n "
        "WHERE NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = n.kind "
        "AND s.value = n.value)",
        [reason, datetime.now(UTC)],
    )
    con.execute("DROP TABLE _suppress")
    return _count(con) - before


def remove(con: duckdb.DuckDBPyConnection, entries: Sequence[tuple[str, str]]) -> int:
    """Remove ``entries`` from the list; the number removed."""
    before = _count(con)
    for kind, value in entries:
        con.execute("DELETE FROM suppressions WHERE kind = ? AND value = ?", [kind, value])
    return before - _count(con)


def listed(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every entry, oldest first."""
    rows = con.execute(
        "SELECT kind, value, reason, added_at FROM suppressions ORDER BY added_at, kind, value"
    ).fetchall()
    return [dict(zip(("kind", "value", "reason", "added_at"), row, strict=True)) for row in rows]


def _count(con: duckdb.DuckDBPyConnection) -> int:
    found = con.execute("SELECT count(*) FROM suppressions").fetchone()
    return int(found[0]) if found else 0
