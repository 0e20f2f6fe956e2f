"""The one façade: ``segmint.open(path)`` returns a :class:`Workspace`.

The CLI, the HTTP server and notebooks all go through it; front-ends never touch the store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
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
    from segmint.segments.query import Evaluator
    from segmint.segments.registry import Registry, SegmentDefinition
    from segmint.store.layout import LayoutResult

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
            from segmint.store.migrate import upgrade

            con = connect(self.root, self.config.store)
            try:
                upgrade(con)
            except BaseException:
                con.close()
                raise
            self._con = con
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

    def optimize(self, progress: Progress | None = None, force: bool = False) -> LayoutResult:
        """Order the events table by (event, time) so segment queries skip what they
        do not need; a no-op when nothing was loaded since the last time."""
        from segmint.store.layout import sort_events

        return sort_events(self.con, progress, force)

    # --- segments -------------------------------------------------------------------

    @property
    def segments(self) -> Registry:
        """The saved segments (``segments/NAME.yaml`` files)."""
        from segmint.segments.registry import Registry

        return Registry(self.root)

    def evaluator(self) -> Evaluator:
        """Rule evaluation on this workspace, with its catalog and saved segments."""
        from segmint.segments.query import Evaluator

        return Evaluator(self.con, self.segments.rules())

    def count(self, rule: Any, as_of: datetime | str | None = None) -> int:
        """How many customers ``rule`` (a tree, a dict or text) selects at ``as_of``.

        ``as_of`` is a tz-aware datetime or an ISO 8601 string with an offset; default now.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.count('country = "US"', as_of="2026-01-01T00:00:00Z")
        0
        """
        return self.evaluator().count(rule, as_of)

    def members(
        self,
        rule: Any,
        as_of: datetime | str | None = None,
        output: str = "arrow",
        columns: list[str] | None = None,
    ) -> Any:
        """The customers ``rule`` selects: ``customer_id`` first, then ``columns``
        (attribute names), as an Arrow table, or ``output="pandas"``/``"polars"``."""
        return self.evaluator().members(rule, as_of, output, columns)

    def sql(self, rule: Any, as_of: datetime | str | None = None, dialect: str = "duckdb") -> str:
        """The SQL of ``rule`` for ``dialect`` (duckdb, postgres, spark, bigquery, snowflake)."""
        return self.evaluator().sql(rule, as_of, dialect)

    def add_segment(
        self,
        name: str,
        rule: Any,
        *,
        title: str | None = None,
        description: str | None = None,
        campaign: str | None = None,
        replace: bool = False,
    ) -> SegmentDefinition:
        """Check and save a segment as ``segments/NAME.yaml``."""
        from segmint.segments.registry import definition_from

        definition = definition_from(
            {
                "name": name,
                "title": title,
                "description": description,
                "campaign": campaign,
                "rule": rule if isinstance(rule, str) else _rule_json(rule),
            },
            "segment",
        )
        return self.save_segment(definition, replace=replace)

    def save_segment(
        self, definition: SegmentDefinition, replace: bool = False
    ) -> SegmentDefinition:
        """Validate a definition against this workspace and write its file."""
        self.evaluator().prepare(definition.rule, name=definition.name)
        self.segments.save(definition, replace=replace)
        return definition


def _rule_json(rule: Any) -> Any:
    to_json = getattr(rule, "to_json", None)
    return to_json() if callable(to_json) else rule
