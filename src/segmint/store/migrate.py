"""Bringing a workspace made by an older segmint up to the current schema, in place."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from segmint.errors import WorkspaceError
from segmint.store.schema import DDL, MIGRATIONS, SCHEMA_VERSION, builtin_catalog_rows
from segmint.store.txn import transaction

if TYPE_CHECKING:
    import duckdb


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables of a new workspace, its built-in catalog and its schema version,
    in one transaction (``segmint init``)."""
    with transaction(con, "init", "segmint init"):
        con.execute(DDL)
        con.executemany("INSERT INTO attributes VALUES (?, ?, ?, ?, ?)", builtin_catalog_rows())
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?), ('next_pid', '1')",
            [str(SCHEMA_VERSION)],
        )


def upgrade(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Apply the missing migration steps in one transaction (nothing when current)."""
    import duckdb

    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error as exc:
        raise WorkspaceError(
            f"{path} is a DuckDB database but not a segmint workspace (no schema version); "
            "restore the workspace's segmint.duckdb from a backup"
        ) from exc
    version = int(row[0]) if row and str(row[0]).isdigit() else 0
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION or version not in MIGRATIONS:
        raise WorkspaceError(
            f"this workspace has schema version {version}, which this segmint "
            f"(schema version {SCHEMA_VERSION}) cannot open; upgrade segmint"
        )
    with transaction(con, "upgrade", "the schema upgrade"):
        for step in range(version, SCHEMA_VERSION):
            for sql in MIGRATIONS[step]:
                con.execute(sql)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
