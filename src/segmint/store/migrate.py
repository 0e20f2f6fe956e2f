"""Bringing a workspace made by an older segmint up to the current schema, in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from segmint.errors import WorkspaceError
from segmint.store.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    import duckdb


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the missing migration steps in one transaction (nothing when current)."""
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION or version not in MIGRATIONS:
        raise WorkspaceError(
            f"this workspace has schema version {version}, which this segmint "
            f"(schema version {SCHEMA_VERSION}) cannot open; upgrade segmint"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        for step in range(version, SCHEMA_VERSION):
            for sql in MIGRATIONS[step]:
                con.execute(sql)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
