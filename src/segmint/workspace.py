"""The one façade: ``segmint.open(path)`` returns a :class:`Workspace`.

The CLI, the HTTP server and notebooks all go through it; front-ends never touch the store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.config import CONFIG_FILE, Config, default_toml, load_config
from segmint.console import Progress
from segmint.errors import WorkspaceError
from segmint.store import schema
from segmint.store.db import DB_FILE, connect

if TYPE_CHECKING:
    import duckdb

    from segmint.ingest.load import LoadResult
    from segmint.profiles import CustomerView

ENV_VAR = "SEGMINT_WORKSPACE"


def init(path: str | os.PathLike[str]) -> Workspace:
    """Create a workspace folder (config, database, rejects/) and open it.

    >>> import tempfile, segmint
    >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
    >>> ws.stats()["profiles"]
    0
    """
    root = Path(path)
    if (root / CONFIG_FILE).exists():
        raise WorkspaceError(f"{root} is already a segmint workspace")
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    (root / "rejects").mkdir(exist_ok=True)
    (root / "tmp").mkdir(exist_ok=True)
    config_path = root / CONFIG_FILE
    config_path.write_text(default_toml(), encoding="utf-8")
    con = connect(root, load_config(config_path).store)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(schema.DDL)
        con.executemany(
            "INSERT INTO attributes VALUES (?, ?, ?, ?, ?)", schema.builtin_catalog_rows()
        )
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?), ('next_pid', '1')",
            [str(schema.SCHEMA_VERSION)],
        )
        con.execute("COMMIT")
    finally:
        con.close()
    return open(root)


def find_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: ``explicit``, else ``$SEGMINT_WORKSPACE``, else the cwd."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path.cwd()


def open(path: str | os.PathLike[str] | None = None) -> Workspace:
    """Open an existing workspace (see :func:`find_root` for how it is found)."""
    root = find_root(path)
    if not (root / CONFIG_FILE).is_file() or not (root / DB_FILE).is_file():
        raise WorkspaceError(
            f"{root} is not a segmint workspace (no {CONFIG_FILE} and {DB_FILE}); "
            f"create one with: segmint init {root}"
        )
    return Workspace(root, load_config(root / CONFIG_FILE))


@dataclass
class Workspace:
    """A workspace folder: its config and its DuckDB store."""

    root: Path
    config: Config
    _con: duckdb.DuckDBPyConnection | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (opened on first use)."""
        if self._con is None:
            self._con = connect(self.root, self.config.store)
        return self._con

    def close(self) -> None:
        """Close the database connection."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ingest(
        self,
        kind: str,
        data: str | os.PathLike[str] | Any,
        format: str | None = None,
        progress: Progress | None = None,
    ) -> LoadResult:
        """Load customers, events or orders from a file or an Arrow/pandas/polars table.

        Bad rows go to ``rejects/`` with their reason; the load is atomic.
        """
        from segmint.ingest.load import run_load

        return run_load(self.con, self.config, self.root, kind, data, format, progress)

    def customer(self, key: str, recent: int = 10) -> CustomerView:
        """The single customer view of a customer id, an email or an anonymous id."""
        from segmint.profiles import customer_view

        return customer_view(self.con, key, recent)

    def stats(self) -> dict[str, int]:
        """Counts of profiles, known customers, events, merges, loads and rejected rows."""
        row = self.con.execute(
            "SELECT (SELECT count(*) FROM profiles), "
            "(SELECT count(*) FROM profiles WHERE customer_id IS NOT NULL), "
            "(SELECT count(*) FROM events), (SELECT count(*) FROM identity_merges), "
            "(SELECT count(*) FROM loads), (SELECT coalesce(sum(rejected), 0) FROM loads)"
        ).fetchone()
        keys = ("profiles", "customers", "events", "merges", "loads", "rejected")
        return dict(zip(keys, (int(v) for v in row or ()), strict=True))
