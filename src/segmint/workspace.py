"""The one façade: ``segmint.open(path)`` returns a :class:`Workspace`.

The CLI, the HTTP server and notebooks all go through it; front-ends never touch the store.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.config import CONFIG_FILE, Config, default_toml, load_config
from segmint.console import Progress
from segmint.errors import NotFoundError, WorkspaceError
from segmint.store import schema
from segmint.store.db import DB_FILE, connect, release

if TYPE_CHECKING:
    import duckdb

    from segmint.cluster.runs import ClusterRun
    from segmint.ingest.load import LoadResult
    from segmint.profiles import CustomerView
    from segmint.segments.quality import Overlap, Review, SegmentQuality
    from segmint.segments.query import Evaluator
    from segmint.segments.refresh import RefreshResult
    from segmint.segments.registry import Registry, SegmentDefinition
    from segmint.store.layout import LayoutResult
    from segmint.traits.models import FittedModels
    from segmint.traits.table import TraitsResult

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
    if (root / DB_FILE).exists():
        raise WorkspaceError(
            f"{root} already holds a {DB_FILE} but no {CONFIG_FILE}; move it away or restore "
            f"the {CONFIG_FILE} it belongs with"
        )
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    config_path = root / CONFIG_FILE
    try:
        (root / "rejects").mkdir(exist_ok=True)
        (root / "tmp").mkdir(exist_ok=True)
        config_path.write_text(default_toml(), encoding="utf-8")
        _create_store(root, load_config(config_path))
    except BaseException:
        # Leave nothing half-built: a folder without both files is not a workspace.
        _remove_partial(root, created)
        raise
    return open(root)


def _create_store(root: Path, config: Config) -> None:
    from segmint.store.txn import transaction

    con = connect(root, config.store)
    try:
        with transaction(con, "init", "segmint init"):
            con.execute(schema.DDL)
            con.executemany(
                "INSERT INTO attributes VALUES (?, ?, ?, ?, ?)", schema.builtin_catalog_rows()
            )
            con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?), ('next_pid', '1')",
                [str(schema.SCHEMA_VERSION)],
            )
    finally:
        release(con)


def _remove_partial(root: Path, created: bool) -> None:
    import shutil

    if created:
        shutil.rmtree(root, ignore_errors=True)
        return
    for name in (CONFIG_FILE, DB_FILE, DB_FILE + ".wal", "segmint.lock", "segmint.duckdb.commit"):
        (root / name).unlink(missing_ok=True)
    for folder in ("rejects", "tmp"):
        with contextlib.suppress(OSError):
            (root / folder).rmdir()


def find_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: ``explicit``, else ``$SEGMINT_WORKSPACE``, else the cwd."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path.cwd()


def open(path: str | os.PathLike[str] | None = None, read_only: bool = False) -> Workspace:
    """Open an existing workspace (see :func:`find_root` for how it is found).

    ``read_only=True`` (notebooks, dashboards) lets several processes read one workspace
    together; writes are then refused. A process that writes needs it alone.

    >>> import tempfile, segmint
    >>> root = tempfile.mkdtemp() + "/shop"
    >>> segmint.init(root).close()
    >>> with segmint.open(root, read_only=True) as ws:
    ...     ws.stats()["events"]
    0
    """
    root = find_root(path)
    if not (root / CONFIG_FILE).is_file() or not (root / DB_FILE).is_file():
        raise WorkspaceError(
            f"{root} is not a segmint workspace (no {CONFIG_FILE} and {DB_FILE}); "
            f"create one with: segmint init {root}"
        )
    return Workspace(root, load_config(root / CONFIG_FILE), read_only=read_only)


@dataclass
class Workspace:
    """A workspace folder: its config and its DuckDB store."""

    root: Path
    config: Config
    read_only: bool = False
    _con: duckdb.DuckDBPyConnection | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (opened on first use)."""
        if self._con is None:
            from segmint.ingest.rejects import recover_rejects
            from segmint.store.migrate import upgrade

            con = connect(self.root, self.config.store, self.read_only)
            try:
                upgrade(con, self.root / DB_FILE)
                if not self.read_only:
                    recover_rejects(self.root, con)
            except BaseException:
                release(con)
                raise
            self._con = con
        return self._con

    def close(self) -> None:
        """Close the database connection."""
        if self._con is not None:
            release(self._con)
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
        delimiter: str = ",",
    ) -> LoadResult:
        """Load customers, events, orders or exchange rates (``"rates"``) from a file or an
        Arrow/pandas/polars table; a CSV file's fields are separated by ``delimiter``.

        Bad rows go to ``rejects/`` with their reason; the load is atomic.
        """
        from segmint.errors import IngestError
        from segmint.ingest.load import run_load
        from segmint.ingest.sources import csv_delimiter, delimiter_hint
        from segmint.traits.definitions import TRAIT_TYPES

        with csv_delimiter(delimiter):
            try:
                return run_load(
                    self.con, self.config, self.root, kind, data, format, progress,
                    reserved=frozenset(TRAIT_TYPES),
                )  # fmt: skip
            except IngestError as exc:
                # A semicolon-separated file read with commas is one column that misses
                # every required one: say which separator the header seems to use.
                path = Path(data) if isinstance(data, str | os.PathLike) else None
                missing = path is not None and "missing required column" in str(exc)
                hint = delimiter_hint(path) if path is not None and missing else None
                if hint is None:
                    raise
                raise IngestError(f"{exc}; {hint}") from exc

    def customer(
        self, key: str, recent: int = 10, as_of: datetime | str | None = None
    ) -> CustomerView:
        """The single customer view of a customer id, an email or an anonymous id, with
        its computed traits at ``as_of`` (default now)."""
        import dataclasses

        from segmint.profiles import customer_view
        from segmint.segments.query import parse_as_of
        from segmint.traits.expressions import TraitSettings
        from segmint.traits.table import compute_traits

        view = customer_view(self.con, key, recent)
        when = parse_as_of(as_of)
        settings = TraitSettings.from_config(self.config)
        table = compute_traits(self.con, when, settings, pid=view.pid).table
        found = table.to_pylist()
        values = {k: v for k, v in found[0].items() if v is not None} if found else {}
        values.pop("customer_id", None)
        return dataclasses.replace(view, traits=values, as_of=when)

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
        from segmint.traits.expressions import TraitSettings

        return Evaluator(self.con, self.segments.rules(), TraitSettings.from_config(self.config))

    # --- traits ---------------------------------------------------------------------

    def traits(
        self,
        as_of: datetime | str | None = None,
        output: str = "arrow",
        names: list[str] | None = None,
    ) -> Any:
        """Every computed trait (or ``names``) of every customer at ``as_of``:
        ``customer_id`` first, as an Arrow table or ``output="pandas"``/``"polars"``.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.traits(as_of="2026-01-01T00:00:00Z").column_names[:3]
        ['customer_id', 'orders_count', 'revenue_total']
        """
        from segmint.segments.query import check_output

        check_output(output)  # before the work: a missing polars says so at once
        result = self.traits_result(as_of, names)
        return _convert(result.table, output)

    def traits_result(
        self,
        as_of: datetime | str | None = None,
        names: list[str] | None = None,
        progress: Progress | None = None,
    ) -> TraitsResult:
        """:meth:`traits` with the fitted models and any warnings."""
        from segmint.segments.query import parse_as_of
        from segmint.traits.definitions import TRAIT_NAMES
        from segmint.traits.expressions import TraitSettings
        from segmint.traits.table import compute_traits

        chosen = tuple(names) if names else TRAIT_NAMES
        unknown = [n for n in chosen if n not in TRAIT_NAMES]
        if unknown:
            from segmint.hints import suggest

            raise NotFoundError(f"unknown trait {unknown[0]!r}{suggest(unknown[0], TRAIT_NAMES)}")
        settings = TraitSettings.from_config(self.config)
        return compute_traits(self.con, parse_as_of(as_of), settings, chosen, progress)

    def lifecycle_thresholds(self, as_of: datetime | str | None = None) -> dict[str, int]:
        """The lifecycle thresholds in force at ``as_of``: at_risk_days, lapsed_days,
        churned_days, loyal_orders (configured, or derived from the purchase cadence)."""
        from segmint.segments.query import parse_as_of
        from segmint.traits.expressions import TraitSettings
        from segmint.traits.table import lifecycle_thresholds

        settings = TraitSettings.from_config(self.config)
        return lifecycle_thresholds(self.con, parse_as_of(as_of), settings)

    def models(self, as_of: datetime | str | None = None, time_unit: str = "day") -> dict[str, Any]:
        """The CLV models fitted on purchases up to ``as_of`` (DESIGN section 6 JSON)."""
        return self.fitted_models(as_of).to_json(time_unit)

    def fitted_models(self, as_of: datetime | str | None = None) -> FittedModels:
        """The fitted BG/NBD and Gamma-Gamma models at ``as_of`` (either may be None),
        with their predictions stored for the SQL of rules at that as_of (:meth:`sql`;
        kept for this session only when the workspace is open read-only)."""
        from segmint.segments.query import parse_as_of

        return self.evaluator().fit_at(parse_as_of(as_of), store=True).models

    def predictions_stored(self, rule: Any, as_of: datetime | str | None = None) -> bool:
        """Whether the SQL of ``rule`` at ``as_of`` (:meth:`sql`) runs on the workspace as
        printed: true unless the rule uses the CLV traits and their predictions at that
        as_of are not stored (:meth:`models` stores them)."""
        return not self.evaluator().unstored_fit(rule, as_of)

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
        """The SQL of ``rule`` for ``dialect`` (duckdb, postgres, spark, bigquery, snowflake).

        A rule on the CLV traits reads the predictions of the fit at ``as_of`` by its id;
        they are stored first, so that the DuckDB SQL runs on the workspace as printed
        (open read-only, they are this session's: :meth:`predictions_stored` says so)."""
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

    def refresh(
        self,
        names: list[str] | None = None,
        as_of: datetime | str | None = None,
        progress: Progress | None = None,
    ) -> RefreshResult:
        """Evaluate saved segments (default: every active one) at ``as_of`` and record who
        entered and exited; a failing segment is marked failed, the others go on."""
        from segmint.segments.refresh import refresh

        return refresh(self, names, as_of, progress)

    # --- clusters ---------------------------------------------------------------------

    def cluster(
        self,
        features: list[str] | None = None,
        k: int | None = None,
        k_range: tuple[int, int] | None = None,
        as_of: datetime | str | None = None,
        sample: int | None = None,
        seed: int = 0,
        plot_dir: str | Path | None = None,
        progress: Progress | None = None,
    ) -> ClusterRun:
        """Cluster the customers at ``as_of`` with k-means on ``features`` (default:
        recency, frequency, monetary, AOV, tenure, activity, email rates, predicted CLV):
        a fixed ``k`` or the best in ``k_range`` (default 3-8, preferring 5-8). The
        result has ``labels`` (customer_id, cluster), ``profiles`` and ``rules``; it is
        stored as a run (``cluster_runs``)."""
        from segmint.cluster.runs import DEFAULT_SAMPLE, cluster

        return cluster(
            self,
            features,
            k,
            k_range,
            as_of,
            DEFAULT_SAMPLE if sample is None else sample,
            seed,
            None if plot_dir is None else Path(plot_dir),
            progress,
        )

    def cluster_runs(self) -> list[dict[str, Any]]:
        """The stored cluster runs, oldest first."""
        from segmint.cluster.runs import runs

        return runs(self)

    def cluster_run(self, run_id: int) -> ClusterRun:
        """A stored cluster run (parameters, scores, clusters with rules)."""
        from segmint.cluster.runs import load

        return load(self, run_id)

    def rename_cluster(self, run_id: int, cluster: int, name: str) -> ClusterRun:
        """Override the suggested name of a cluster in a stored run."""
        from segmint.cluster.runs import rename

        return rename(self, run_id, cluster, name)

    def save_cluster(
        self,
        run_id: int,
        cluster: int,
        name: str,
        kind: str = "rule",
        title: str | None = None,
        replace: bool = False,
    ) -> Path:
        """Save a cluster of a stored run as a segment file: its rule (``kind="rule"``)
        or its members at the run's as_of as a fixed list (``kind="static"``)."""
        from segmint.cluster.runs import save

        return save(self, run_id, cluster, name, kind, title, replace)

    def retire(self, name: str) -> None:
        """Stop refreshing a segment; its history and file are kept."""
        from segmint.segments.refresh import require_known
        from segmint.store.txn import transaction

        require_known(self, name)
        with transaction(self.con, "retire", f"retiring {name}"):
            self.con.execute("DELETE FROM segment_state WHERE name = ?", [name])
            self.con.execute("INSERT INTO segment_state VALUES (?, now())", [name])

    def history(self, name: str, since: datetime | str | None = None, output: str = "arrow") -> Any:
        """Every entry and exit of segment ``name`` (since ``since``): ``customer_id``,
        ``change`` (entered or exited) and ``as_of``, oldest first."""
        from segmint.segments.query import check_output, parse_as_of
        from segmint.segments.refresh import require_known

        check_output(output)
        require_known(self, name)
        start = parse_as_of(since, "since") if since is not None else None
        table = (
            self.con.execute(
                "SELECT p.customer_id, c.change, c.as_of FROM segment_changes c "
                "JOIN profiles p USING (pid) WHERE c.name = ? AND (? IS NULL OR c.as_of >= ?) "
                "ORDER BY c.as_of, c.change, p.customer_id",
                [name, start, start],
            )
            .arrow()
            .read_all()
        )
        return _convert(table, output)

    def review(self) -> Review:
        """The quarterly review of the active segments (checks and findings)."""
        from segmint.segments.quality import review

        return review(self)

    def quality(self, names: list[str] | None = None) -> list[SegmentQuality]:
        """Quality checks of the active segments (or ``names``) at their last refresh."""
        from segmint.segments.quality import assess

        return assess(self, names)

    def overlap(self, names: list[str] | None = None) -> tuple[dict[str, int], list[Overlap]]:
        """Stored sizes of segments (default: the active ones) and each pair's shared
        members and Jaccard overlap, from their last refresh."""
        from segmint.segments.quality import overlaps
        from segmint.segments.refresh import require_known, retired_names

        if names:
            for name in names:
                require_known(self, name)
            chosen = list(dict.fromkeys(names))
        else:
            retired = retired_names(self)
            chosen = [n for n in self.segments.files() if n not in retired]
        never = [n for n in chosen if n not in self._refreshed()]
        if never:
            raise NotFoundError(
                f"segment {never[0]!r} has not been refreshed yet; run: segmint refresh"
            )
        return overlaps(self, chosen)

    def _refreshed(self) -> set[str]:
        rows = self.con.execute("SELECT DISTINCT name FROM segment_runs WHERE status = 'ok'")
        return {name for (name,) in rows.fetchall()}

    def add_templates(
        self, names: list[str] | None = None, replace: bool = False
    ) -> list[tuple[str, bool]]:
        """Save built-in templates (all when ``names`` is None) as segments; returns
        (name, saved) pairs. Named templates that exist already are an error unless
        ``replace``; with all templates, existing segments are kept (they may be edited)."""
        from segmint.segments.templates import TEMPLATES, get_template

        chosen = [get_template(n) for n in names] if names else list(TEMPLATES)
        existing = set(self.segments.files()) if names is None and not replace else set()
        done = []
        for template in chosen:
            if template.name in existing:
                done.append((template.name, False))
                continue
            self.save_segment(template.definition(), replace=replace)
            done.append((template.name, True))
        return done

    def save_segment(
        self, definition: SegmentDefinition, replace: bool = False
    ) -> SegmentDefinition:
        """Validate a definition against this workspace and write its file."""
        self.evaluator().prepare(definition.rule, name=definition.name)
        self.segments.save(definition, replace=replace)
        return definition


def _convert(table: Any, output: str) -> Any:
    from segmint.segments.query import convert_output

    return convert_output(table, output)


def _rule_json(rule: Any) -> Any:
    to_json = getattr(rule, "to_json", None)
    return to_json() if callable(to_json) else rule
