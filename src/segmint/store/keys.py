"""API keys of the HTTP server (store/schema.py ``api_keys``): each key's name, scope,
SHA-256 hex digest and display prefix, when it was made and when it was revoked.

Plain parameterized SQL: single-row inserts, updates and reads of a table of a few rows.
The key itself is never passed here, only its hash (activation/keys.py makes both).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

_COLUMNS = ("name", "scope", "prefix", "created_at", "revoked_at")


def create(
    con: duckdb.DuckDBPyConnection,
    name: str,
    scope: str,
    key_hash: str,
    prefix: str,
    created_at: datetime,
) -> None:
    """Add an active key."""
    con.execute(
        "INSERT INTO api_keys (name, scope, key_hash, prefix, created_at, revoked_at) "
        "VALUES (?, ?, ?, ?, ?, NULL)",
        [name, scope, key_hash, prefix, created_at],
    )


def listed(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every key, revoked ones too, oldest first (without the hash)."""
    rows = con.execute(
        "SELECT name, scope, prefix, created_at, revoked_at FROM api_keys ORDER BY created_at, name"
    ).fetchall()
    return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]


def is_active(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether an active (not revoked) key is called ``name``."""
    found = con.execute(
        "SELECT count(*) FROM api_keys WHERE name = ? AND revoked_at IS NULL", [name]
    ).fetchone()
    return bool(found and found[0])


def revoke(con: duckdb.DuckDBPyConnection, name: str, when: datetime) -> bool:
    """Revoke the active key ``name`` at ``when``; False when there is none."""
    if not is_active(con, name):
        return False
    con.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", [when, name]
    )
    return True


def active_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The names of the active keys, in order."""
    rows = con.execute(
        "SELECT DISTINCT name FROM api_keys WHERE revoked_at IS NULL ORDER BY name"
    ).fetchall()
    return [row[0] for row in rows]


def scope_of(con: duckdb.DuckDBPyConnection, key_hash: str) -> str | None:
    """The scope of the active key with this hash, or None."""
    found = con.execute(
        "SELECT scope FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", [key_hash]
    ).fetchone()
    return str(found[0]) if found else None


def active_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Hash -> scope of every active key (what the server caches)."""
    rows = con.execute("SELECT key_hash, scope FROM api_keys WHERE revoked_at IS NULL").fetchall()
    return {str(h): str(s) for h, s in rows}
