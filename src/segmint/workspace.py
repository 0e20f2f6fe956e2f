"""The one façade: ``segmint.open(path)`` returns a :class:`Workspace`.

The CLI, the HTTP server and notebooks all go through it; front-ends never touch the store.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from segmint.config import CONFIG_FILE, Config, default_toml, load_config
from segmint.console import Progress
from segmint.errors import ArgumentError, NotFoundError, SegmintError, WorkspaceError
from segmint.segments.listing import BrokenFile, SegmentListing
from segmint.store.db import DB_FILE, connect, release

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from segmint.activation.backtest import Backtest
    from segmint.activation.campaigns import Campaign, CampaignReport, ImportedResults
    from segmint.activation.exports import ExportResult
    from segmint.activation.keys import ApiKey
    from segmint.activation.webhooks import (
        DeliveredRefresh,
        DeliveryResult,
        EndpointStatus,
        EndpointTest,
    )
    from segmint.cluster.runs import ClusterRun
    from segmint.engine.base import Engine
    from segmint.identity.view import CustomerView
    from segmint.ingest.load import LoadResult
    from segmint.ingest.tracking import TrackingResult
    from segmint.quality.checks import Overlap, Review, SegmentQuality
    from segmint.quality.report import SegmentReport
    from segmint.rules.catalog import CatalogView
    from segmint.segments.context import SegmentContext
    from segmint.segments.incremental import Mode as RefreshMode
    from segmint.segments.live import LiveResult
    from segmint.segments.query import Evaluator
    from segmint.segments.registry import Registry, SegmentDefinition
    from segmint.segments.templates import TemplateSize
    from segmint.store.layout import LayoutResult
    from segmint.store.source_state import SourceState
    from segmint.store.stats import Overview
    from segmint.traits.models import FittedModels
    from segmint.traits.table import TraitsResult

ENV_VAR = "SEGMINT_WORKSPACE"


def init(path: str | os.PathLike[str], source: str | None = None) -> Workspace:
    """Create a workspace folder (config, database, rejects/) and open it.

    ``source`` makes a source-mode workspace (docs/sources.md): ``postgresql://...`` or
    ``spark`` (``spark:MASTER`` for another master than local[2]); its ``[source]``
    section then names the tables, and :meth:`Workspace.refresh_catalog` reads them.

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
        config_path.write_text(source_toml(source) if source else default_toml(), "utf-8")
        _create_store(root, load_config(config_path))
    except BaseException:
        # Leave nothing half-built: a folder without both files is not a workspace.
        _remove_partial(root, created)
        raise
    return open(root)


def source_toml(source: str) -> str:
    """The default segmint.toml with its [source] engine set from ``source``.

    >>> 'engine = "spark"' in source_toml("spark")
    True
    """
    import json

    text = default_toml()
    if source.startswith(("postgresql://", "postgres://")):
        settings = {"engine": "postgres", "url": source}
    elif source == "spark" or source.startswith("spark:"):
        master = source.partition(":")[2] or "local[2]"
        settings = {"engine": "spark", "master": master}
    else:
        raise ArgumentError(
            f"source: expected postgresql://USER@HOST:PORT/DATABASE, spark or spark:MASTER, "
            f"got {source!r}",
            "source",
        )
    head, _, tail = text.partition("[source]\n")
    for key, value in settings.items():
        tail = re.sub(rf'(?m)^{key} = ".*"$', f"{key} = {json.dumps(value)}", tail, count=1)
    return head + "[source]\n" + tail


def _create_store(root: Path, config: Config) -> None:
    from segmint.store.migrate import create

    con = connect(root, config.store)
    try:
        create(con)
        if config.source.enabled:
            from segmint.store.source import SourceCatalog, store_source_catalog

            # The store's built-in attributes are not the source's: its catalog starts
            # empty, until `catalog refresh` reads it from the source.
            store_source_catalog(con, SourceCatalog({}, [], {}, []))
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
    """The workspace folder: ``explicit``, else ``$SEGMINT_WORKSPACE``, else the cwd.

    >>> str(find_root("shop"))
    'shop'
    """
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


def open_writing_if_free(path: str | os.PathLike[str] | None = None) -> Workspace:
    """:func:`open` for writing, so that what is computed (the CLV predictions at an as_of)
    can be stored; read-only when another process has the workspace open (``read_only``
    on the result says which).

    >>> import tempfile, segmint
    >>> root = tempfile.mkdtemp() + "/shop"
    >>> segmint.init(root).close()
    >>> with segmint.open_writing_if_free(root) as ws:
    ...     ws.read_only
    False
    """
    from segmint.errors import WorkspaceBusyError

    ws = open(path)
    try:
        ws._db  # noqa: B018 - take the lock now: a busy workspace falls back below
    except WorkspaceBusyError:
        return open(path, read_only=True)
    return ws


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _own_store_only(
    method: Callable[Concatenate[Workspace, _P], _R],
) -> Callable[Concatenate[Workspace, _P], _R]:
    """A feature that reads the workspace's own store: refused, with one clear line, on
    a source-mode workspace, where it would read an empty store (docs/sources.md says
    what runs on a source so far)."""

    @functools.wraps(method)
    def checked(ws: Workspace, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if ws.config.source.enabled:
            raise WorkspaceError(
                f"{method.__name__} reads the workspace's own store, and this workspace "
                f"reads its data from {ws.config.source.engine} (docs/sources.md lists what "
                "runs on a source)"
            )
        return method(ws, *args, **kwargs)

    return checked


@dataclass
class Workspace:
    """A workspace folder: its config and its DuckDB store.

    Every feature of the CLI is one method here, so that a server or a notebook calls the
    same code. The methods stay on this one class, grouped by subject below (53 public
    members), rather than in sub-façades such as ``ws.clusters``. That was meant to hold
    until about 40: exports, webhooks and campaigns took it past, and they are the first
    subjects to move to sub-façades (``ws.campaigns.create(...)``).

    >>> import tempfile, segmint
    >>> with segmint.init(tempfile.mkdtemp() + "/shop") as ws:
    ...     ws.read_only
    False
    """

    root: Path
    config: Config
    read_only: bool = False
    _con: duckdb.DuckDBPyConnection | None = None
    # The engine of a source-mode workspace ([source] engine; store/source.py).
    _source: Engine | None = None

    @property
    def _db(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, opened (and the workspace locked) on first use. Private:
        callers above the façade go through its methods, never the raw connection."""
        if self._con is None:
            from segmint.ingest.duckdb.rejects import recover_rejects
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
        """Close the database connection.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.close()
        >>> ws.close()  # a second close does nothing
        """
        if self._con is not None:
            release(self._con)
            self._con = None
        if self._source is not None:
            from segmint.store.source import close_source

            close_source(self._source)
            self._source = None

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

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> import pyarrow
        >>> people = pyarrow.table({"customer_id": ["C1", "C2"], "country": ["US", "FR"]})
        >>> ws.ingest("customers", people).summary()
        'table: 2 rows read, 2 accepted, 0 rejected, 2 new profiles'
        """
        from segmint.errors import IngestError
        from segmint.ingest.duckdb.sources import csv_delimiter, delimiter_hint

        if self.config.source.enabled:
            raise WorkspaceError(
                f"this workspace reads its data from {self.config.source.engine} "
                "([source] in segmint.toml): segments run there, and nothing is loaded into "
                "the workspace; to load files, make a workspace without a [source] engine"
            )
        from segmint.ingest.load import run_load
        from segmint.traits.definitions import TRAIT_TYPES

        with csv_delimiter(delimiter):
            try:
                return run_load(
                    self._db, self.config, self.root, kind, data, format, progress,
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

    def ingest_messages(self, messages: list[dict[str, Any]]) -> TrackingResult:
        """Load Segment tracking messages (identify, track, page, screen, group, alias)
        through the file path: what ``segmint serve`` does with each micro-batch
        (ingest/messages.py says what each call becomes).

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> done = ws.ingest_messages([
        ...     {"type": "identify", "messageId": "m1", "userId": "C1",
        ...      "traits": {"email": "a@example.com", "plan": "pro"}},
        ...     {"type": "track", "messageId": "m2", "userId": "C1",
        ...      "event": "signed_up", "timestamp": "2026-03-01T10:00:00Z"},
        ... ])
        >>> done.accepted, done.rejected
        (2, 0)
        """
        from segmint.ingest.tracking import load_messages
        from segmint.traits.definitions import TRAIT_TYPES

        if self.config.source.enabled:
            raise WorkspaceError(
                "this workspace reads its data from a [source] engine; tracking messages "
                "are loaded into a workspace's own store"
            )
        return load_messages(
            self._db, self.config, self.root, messages, reserved=frozenset(TRAIT_TYPES)
        )

    @_own_store_only
    def customer(
        self, key: str, recent: int = 10, as_of: datetime | str | None = None
    ) -> CustomerView:
        """The single customer view of a customer id, an email or an anonymous id, with
        its computed traits at ``as_of`` (default now).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.customer("C3", as_of="2026-01-01").traits["orders_count"]
        3
        """
        import dataclasses

        from segmint.identity.view import customer_view
        from segmint.segments.query import parse_as_of
        from segmint.traits.expressions import TraitSettings
        from segmint.traits.table import compute_traits

        view = customer_view(self._db, key, recent)
        when = parse_as_of(as_of)
        settings = TraitSettings.from_config(self.config)
        table = compute_traits(self._db, when, settings, pid=view.pid).table
        found = table.to_pylist()
        values = {k: v for k, v in found[0].items() if v is not None} if found else {}
        values.pop("customer_id", None)
        return dataclasses.replace(view, traits=values, as_of=when)

    @_own_store_only
    def search_customers(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Known customers whose id or email starts with ``text``, or whose name contains
        it (case-insensitive): customer_id, email, names, country and last event, by
        customer_id, at most ``limit`` (1 to 1,000).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> [c["customer_id"] for c in ws.search_customers("c")]
        ['C1', 'C2', 'C3', 'C4']
        """
        from segmint.store.profiles import search

        if not text.strip():
            raise ArgumentError("search: give some text to look for", "text")
        if not 1 <= limit <= 1000:
            raise ArgumentError(f"--limit: between 1 and 1,000, got {limit}", "--limit")
        return search(self._db, text.strip(), limit)

    @_own_store_only
    def stats(self) -> dict[str, int]:
        """Counts of profiles, known customers, events, merges, loads and rejected rows.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.stats()["customers"], ws.stats()["events"]
        (4, 10)
        """
        import dataclasses

        from segmint.store.stats import workspace_counts

        return dataclasses.asdict(workspace_counts(self._db))

    @_own_store_only
    def overview(self) -> Overview:
        """What the workspace holds beyond :meth:`stats`: order events and revenue, the
        stored orders' counts, anonymous profiles, events per name, the most common
        countries and devices, and the most merged customer.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> found = ws.overview()
        >>> found.order_events, found.revenue, found.events_by_name
        (10, Decimal('300.0000'), (('order_completed', 10),))
        >>> found.orders.left_out, found.anonymous_profiles, found.most_merged_customer
        (0, 0, None)
        """
        from segmint.store.stats import overview

        return overview(self._db, self.config.order_event, self.config.money.currency)

    @_own_store_only
    def optimize(self, progress: Progress | None = None, force: bool = False) -> LayoutResult:
        """Order the events table by (event, time) so segment queries skip what they
        do not need; a no-op when nothing was loaded since the last time.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.optimize().rows
        10
        """
        from segmint.store.layout import sort_events

        return sort_events(self._db, progress, force)

    # --- segments -------------------------------------------------------------------

    @property
    def segments(self) -> Registry:
        """The saved segments (``segments/NAME.yaml`` files).

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.add_segment("us", 'country = "US"')
        >>> list(ws.segments.files())
        ['us']
        """
        from segmint.segments.registry import Registry

        return Registry(self.root)

    def evaluator(self) -> Evaluator:
        """Rule evaluation on this workspace, with its catalog and saved segments.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.evaluator().count("orders_count >= 2", as_of="2026-01-01")
        3
        """
        from segmint.segments.query import Evaluator
        from segmint.traits.expressions import TraitSettings

        source = self._source_engine()
        return Evaluator(
            self._db,
            self.segments.rules(),
            TraitSettings.from_config(self.config),
            source=source,
            state=None if source is None else self._source_state(),
        )

    def _source_engine(self) -> Engine | None:
        """The source's engine with its views attached, opened on first use (None for a
        workspace with its own store)."""
        if not self.config.source.enabled:
            return None
        if self._source is None:
            from segmint.store.activity import attach_activity
            from segmint.store.catalog import attribute_columns
            from segmint.store.source import open_source

            columns = [column for column, _ in attribute_columns(self._db).values()]
            self._source = open_source(self.config.source, columns)
            # The profiles view reads the committed activity table, when one is built.
            attach_activity(self._db, self._source_state(), self.config.source)
        return self._source

    def _source_state(self) -> SourceState:
        """segmint's own tables on the source ([source] schema, or state on Spark)."""
        from segmint.store.source_state import SourceState

        engine = self._source_engine()
        if engine is None:
            raise WorkspaceError("no [source] engine: this workspace keeps its state in its store")
        location = self.config.source.state or str((self.root / "source-state").resolve())
        return SourceState(engine, self.config.source.schema, location)

    def refresh_catalog(self) -> dict[str, int]:
        """Read the names a rule may use from the source ([source] in segmint.toml): the
        customers table's columns and types, the event names, and property names and types
        from the latest ``sample_rows`` events. Returns how many of each were found.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.refresh_catalog()
        Traceback (most recent call last):
        ...
        segmint.errors.WorkspaceError: no [source] engine: this workspace's catalog comes from loads
        """
        from segmint.store.activity import activity_build, attach_activity
        from segmint.store.source import attach, read_source_catalog, store_source_catalog

        engine = self._source_engine()
        if engine is None:
            raise WorkspaceError("no [source] engine: this workspace's catalog comes from loads")
        from segmint.store.source import customer_columns

        attach(engine, self.config.source, list(customer_columns(engine, self.config.source)))
        catalog = read_source_catalog(engine, self.config.source)
        # The catalog and a new activity version commit together (store/activity.py).
        state = self._source_state()
        with activity_build(self._db, state, self.config.source, "catalog", "the catalog refresh"):
            store_source_catalog(self._db, catalog)
        attach_activity(self._db, state, self.config.source)
        return {
            "attributes": len(catalog.attributes),
            "events": len(catalog.events),
            "properties": len(catalog.properties),
        }

    def _context(self) -> SegmentContext:
        """The narrow view of this workspace that segment and cluster work takes."""
        from segmint.segments.context import SegmentContext

        return SegmentContext(
            self._db,
            self.config,
            self.segments,
            self.evaluator,
            lambda when: self.traits(when),
            self._source_state if self.config.source.enabled else None,
        )

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
        """:meth:`traits` with the fitted models and any warnings.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> table = ws.traits_result(as_of="2026-01-01", names=["orders_count"]).table
        >>> table.column("orders_count").to_pylist()
        [1, 2, 3, 4]
        """
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
        source = self._source_engine()
        if source is not None:
            from segmint.traits.expressions import needs_models
            from segmint.traits.table import source_traits

            when = parse_as_of(as_of)
            # The CLV fit at as_of: its predictions are written to the source to be read.
            found = self.evaluator().fit_at(when) if needs_models(chosen) else None
            return source_traits(source, when, settings, chosen, found)
        return compute_traits(self._db, parse_as_of(as_of), settings, chosen, progress)

    def lifecycle_thresholds(self, as_of: datetime | str | None = None) -> dict[str, int]:
        """The lifecycle thresholds in force at ``as_of``: at_risk_days, lapsed_days,
        churned_days, loyal_orders (configured, or derived from the purchase cadence).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.lifecycle_thresholds(as_of="2026-01-01")["churned_days"]
        365
        """
        from segmint.segments.query import parse_as_of
        from segmint.traits.expressions import TraitSettings
        from segmint.traits.table import lifecycle_thresholds

        settings = TraitSettings.from_config(self.config)
        on = self._source_engine() or self._db
        return lifecycle_thresholds(on, parse_as_of(as_of), settings)

    def models(self, as_of: datetime | str | None = None, time_unit: str = "day") -> dict[str, Any]:
        """The CLV models fitted on purchases up to ``as_of`` (DESIGN section 6 JSON).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> import segmint
        >>> try:
        ...     ws.models(as_of="2026-01-01")
        ... except segmint.SegmintError as exc:  # four customers are too few
        ...     print(type(exc).__name__)
        ModelError
        """
        return self.fitted_models(as_of).to_json(time_unit)

    def fitted_models(self, as_of: datetime | str | None = None) -> FittedModels:
        """The fitted BG/NBD and Gamma-Gamma models at ``as_of`` (either may be None),
        with their predictions stored for the SQL of rules at that as_of (:meth:`sql`;
        kept for this session only when the workspace is open read-only).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.fitted_models(as_of="2026-01-01").bgnbd is None  # too few customers to fit
        True
        """
        from segmint.segments.query import parse_as_of

        return self.evaluator().fit_at(parse_as_of(as_of), store=True).models

    def predictions_stored(self, rule: Any, as_of: datetime | str | None = None) -> bool:
        """Whether the SQL of ``rule`` at ``as_of`` (:meth:`sql`) runs on the workspace as
        printed: true unless the rule uses the CLV traits and their predictions at that
        as_of are not stored (:meth:`models` stores them).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.predictions_stored("orders_count >= 2", as_of="2026-01-01")
        True
        """
        return not self.evaluator().unstored_fit(rule, as_of)

    def catalog(self) -> CatalogView:
        """The names and types a rule may use: attributes and traits, event names, and
        event properties with the events they were seen on (``segmint catalog show``,
        ``GET /v1/catalog``).

        >>> from segmint.demo.sample import sample_workspace
        >>> view = sample_workspace().catalog()
        >>> "order_completed" in view.events, {"name": "country", "type": "string",
        ...     "trait": False} in view.attributes
        (True, True)
        """
        from segmint.rules.catalog import catalog_view

        return catalog_view(self.evaluator().catalog)

    def known_values(self, name: str, limit: int = 20) -> list[tuple[Any, int]]:
        """The most common values of a text attribute (among known customers) or a text
        event property (in a sample of about 200,000 events), with their counts, most
        common first: the suggestions of a rule editor. Other types have none.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.known_values("currency"), ws.known_values("total")
        ([('EUR', 10)], [])
        """
        from segmint.hints import suggest
        from segmint.store.profiles import top_property_values, top_values

        if not 1 <= limit <= 1000:
            raise ArgumentError(f"limit must be between 1 and 1000, not {limit}", "limit")
        if self.config.source.enabled:
            raise WorkspaceError("known values are read from the own store, not a [source]")
        catalog = self.evaluator().catalog
        info = catalog.attributes.get(name)
        if info is not None:
            ok = info.type == "string" and not info.trait
            return top_values(self._db, info.column, limit) if ok else []
        if name in catalog.properties:
            ok = catalog.properties[name] == "string"
            return top_property_values(self._db, name, limit) if ok else []
        known = [*catalog.attributes, *catalog.properties]
        raise NotFoundError(f"no attribute or event property {name!r}{suggest(name, known)}")

    def check_rule(self, rule: Any) -> dict[str, Any]:
        """A rule (text, JSON or tree) checked against this workspace, in both forms:
        ``{"rule": canonical JSON, "text": canonical text}``; an invalid rule raises a
        :class:`RuleError` naming the node (what a rule editor syncs its two views with).

        >>> from segmint.demo.sample import sample_workspace
        >>> sample_workspace().check_rule({"attr": "country", "op": "in", "value": ["US"]})
        {'rule': {'attr': 'country', 'op': 'in', 'value': ['US']}, 'text': 'country in ["US"]'}
        """
        from segmint.rules.text import to_text

        tree = self.evaluator().prepare(rule)
        return {"rule": tree.to_json(), "text": to_text(tree)}

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
        (attribute names), as an Arrow table, or ``output="pandas"``/``"polars"``, or
        ``output="batches"``: a ``pyarrow.RecordBatchReader`` to read them a batch at a
        time (on a source, from the engine as they come).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.members("orders_count >= 3", as_of="2026-01-01").column("customer_id").to_pylist()
        ['C3', 'C4']
        """
        return self.evaluator().members(rule, as_of, output, columns)

    def sql(
        self, rule: Any, as_of: datetime | str | None = None, dialect: str | None = None
    ) -> str:
        """The SQL of ``rule`` for ``dialect`` (duckdb, postgres, spark, bigquery, snowflake;
        by default the engine the workspace runs rules on: DuckDB, or its [source] engine).

        A rule on the CLV traits reads the predictions of the fit at ``as_of`` by its id;
        they are stored first, so that the DuckDB SQL runs on the workspace as printed
        (open read-only, they are this session's: :meth:`predictions_stored` says so).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> "orders_count" in ws.sql("orders_count >= 3", as_of="2026-01-01", dialect="postgres")
        True
        """
        default = self.config.source.engine or "duckdb"
        return self.evaluator().sql(rule, as_of, dialect or default)

    def add_segment(
        self,
        name: str,
        rule: Any,
        *,
        title: str | None = None,
        description: str | None = None,
        campaign: str | None = None,
        replace: bool = False,
        live: bool = False,
    ) -> SegmentDefinition:
        """Check and save a segment as ``segments/NAME.yaml``; a ``live`` one is also
        re-evaluated by ``segmint serve`` as tracking messages arrive (docs/server.md).

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.add_segment("us", 'country = "US"', title="US customers").title
        'US customers'
        """
        from segmint.segments.registry import definition_from

        definition = definition_from(
            {
                "name": name,
                "title": title,
                "description": description,
                "campaign": campaign,
                "live": live,
                "rule": rule if isinstance(rule, str) else _rule_json(rule),
            },
            "segment",
        )
        return self.save_segment(definition, replace=replace)

    def list_segments(
        self, sizes: bool = False, as_of: datetime | str | None = None
    ) -> SegmentListing:
        """Every saved segment (a file that cannot be read is listed with its error) with
        its last refresh; with ``sizes``, each one counted now at ``as_of`` (None for a
        rule that fails).

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.add_segment("us", 'country = "US"')
        >>> ws.list_segments(sizes=True, as_of="2026-01-01").sizes
        {'us': 0}
        """
        from segmint.segments.query import parse_as_of
        from segmint.segments.refresh import states

        found: list[SegmentDefinition | BrokenFile] = []
        for name in self.segments.files():
            try:
                found.append(self.segments.get(name))
            except SegmintError as exc:
                found.append(BrokenFile(name, str(exc)))
        if not sizes:
            return SegmentListing(found, None, states(self._context()))
        when = parse_as_of(as_of)  # a bad as_of is an error, not a None per segment
        return SegmentListing(found, self._sizes(found, when), states(self._context()), when)

    def _sizes(
        self, found: list[SegmentDefinition | BrokenFile], when: datetime
    ) -> dict[str, int | None]:
        evaluator = self.evaluator()
        counts: dict[str, int | None] = {}
        for d in found:
            if isinstance(d, BrokenFile):
                continue
            try:
                counts[d.name] = evaluator.count(d.rule, when)
            except SegmintError:
                counts[d.name] = None
        return counts

    def segment_report(
        self,
        name: str,
        as_of: datetime | str | None = None,
        plot: str | os.PathLike[str] | None = None,
    ) -> SegmentReport:
        """The report of a saved segment: definition, size and share, trend, checks and
        how its members differ from everyone; at its last refresh, or live at ``as_of``
        when given or when it was never refreshed. ``plot`` writes the size over time as a
        PNG chart (its path is checked before the report is made).

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.add_segment("us", 'country = "US"')
        >>> ws.segment_report("us", as_of="2026-01-01").size
        0
        """
        from segmint.quality.report import check_plot_path, plot_trend, segment_report

        if plot is not None:
            check_plot_path(plot)  # before the report, which reads every member
        report = segment_report(self._context(), name, as_of)
        if plot is not None:
            plot_trend(report, plot)
        return report

    def backtest(
        self,
        name: str,
        at: Sequence[datetime | str] | datetime | str,
        goal: Any,
        window: int | str = "30d",
    ) -> Backtest:
        """Backtest saved segment ``name`` at each past instant of ``at``: its members
        then against everyone else who existed then, and how many of each met ``goal`` (an
        event condition, as a campaign's) within ``window`` after it, with the lift, its
        95 % interval and a verdict (docs/campaigns.md, "Backtest a segment"). The segment
        sees nothing after each as_of. It reads through the evaluator, so it runs on a
        source-mode workspace too.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("recent", "did order_completed in last 90 days")
        >>> found = ws.backtest("recent", ["2025-06-01"], "did order_completed", window="60d")
        >>> p = found.points[0]
        >>> p.members, p.members_converted, p.others, p.others_converted, p.complete
        (3, 2, 1, 0, True)
        >>> p.verdict
        'too small to tell'
        """
        from segmint.activation.backtest import backtest

        return backtest(self._context(), name, at, goal, window)

    def remove_segment(self, name: str) -> Path:
        """Delete a saved segment's file and return its path; refused while the rule of
        another saved segment refers to it.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.add_segment("us", 'country = "US"')
        >>> ws.remove_segment("us").name
        'us.yaml'
        """
        from segmint.errors import ConflictError
        from segmint.rules.validate import referenced_segments

        users = [
            other
            for other, rule in self.segments.rules().items()
            if other != name and name in set(referenced_segments(rule))
        ]
        if users:
            raise ConflictError(
                f"segment {name!r} is used by {', '.join(sorted(users))}; "
                "remove or edit those first"
            )
        return self.segments.remove(name)

    @staticmethod
    def plan_backfill(
        start: datetime | str, end: datetime | str, every: timedelta | str = "7d"
    ) -> list[datetime]:
        """The as_of of each refresh of a backfill: ``start``, ``start + every``, ... up to
        ``end`` (``every`` a timedelta or text such as ``1h``, ``7d``, ``1d12h``; at most a
        year); at most 10,000 dates. Needs no workspace; errors name the CLI's options
        (``--from``, ``--to``, ``--every``).

        >>> import segmint
        >>> [d.day for d in segmint.Workspace.plan_backfill("2026-01-01", "2026-01-15")]
        [1, 8, 15]
        """
        from segmint.segments.backfill import plan_backfill

        return plan_backfill(start, end, every)

    def template_sizes(self, as_of: datetime | str | None = None) -> list[TemplateSize]:
        """Every built-in template's size at ``as_of`` (default now); one that cannot be
        counted for want of data gets its reason instead of a size.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.template_sizes(as_of="2026-01-01")[0].size
        0
        """
        from segmint.segments.query import parse_as_of
        from segmint.segments.templates import count_templates

        return count_templates(self.evaluator(), parse_as_of(as_of))

    @_own_store_only
    def live_segments(self, unrefreshed: bool = False) -> list[str]:
        """The saved segments marked ``live`` (not retired); with ``unrefreshed`` only
        those never refreshed, which a live update cannot compare with yet.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.add_segment("fr", 'country = "FR"', live=True)
        >>> ws.live_segments(), ws.live_segments(unrefreshed=True)
        (['fr'], ['fr'])
        """
        from segmint.segments import live

        ctx = self._context()
        names = live.live_names(ctx)
        return live.unrefreshed(ctx, names) if unrefreshed else names

    @_own_store_only
    def update_live(
        self,
        customer_ids: list[str],
        anonymous_ids: list[str],
        load_ids: list[int],
        as_of: datetime | None = None,
    ) -> LiveResult:
        """Re-evaluate the live segments for the profiles of these ids and those the
        loads ``load_ids`` merged (what ``segmint serve`` does after each micro-batch;
        segments/live.py), recording entries, exits and webhook messages.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> first = [{"type": "identify", "userId": "C1", "traits": {"plan": "pro"}}]
        >>> _ = ws.ingest_messages(first)
        >>> _ = ws.add_segment("pros", 'plan = "pro"', live=True)
        >>> _ = ws.refresh(["pros"])
        >>> done = ws.ingest_messages(
        ...     [{"type": "identify", "userId": "C2", "traits": {"plan": "pro"}}])
        >>> ws.update_live(["C2"], [], [r.load_id for r in done.loads]).changes
        1
        """
        from segmint.segments.live import update

        return update(self._context(), customer_ids, anonymous_ids, load_ids, as_of)

    @_own_store_only
    def memberships(self, after: int | None = None) -> pa.Table:
        """The stored members of every saved segment, (pid, name); with ``after``, the
        entries and exits of the refreshes after that refresh id instead, (refresh_id,
        name, pid, change), oldest first: what the server's look-up index is built from
        and kept current with.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.ingest_messages([{"type": "identify", "userId": "C1", "traits": {"vip": True}}])
        >>> _ = ws.add_segment("vips", "vip = true")
        >>> refresh_id = ws.refresh().refresh_id
        >>> ws.memberships().column("name").to_pylist()
        ['vips']
        >>> ws.memberships(after=refresh_id).num_rows
        0
        """
        from segmint.store import segments as store

        if after is None:
            return store.memberships(self._db)
        return store.changes_after(self._db, after)

    @_own_store_only
    def profile_keys(
        self, customer_ids: list[str] | None = None, anonymous_ids: list[str] | None = None
    ) -> pa.Table:
        """The ids each profile is looked up by, (kind, value, pid): everyone's, or only
        those of the profiles of the given customer and anonymous ids.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.ingest_messages([{"type": "identify", "userId": "C1", "anonymousId": "a1",
        ...                          "traits": {"email": "c1@example.com"}}])
        >>> sorted(ws.profile_keys(["C1"]).column("kind").to_pylist())
        ['anonymous_id', 'customer_id', 'email']
        """
        from segmint.store.segments import profile_keys

        return profile_keys(self._db, customer_ids, anonymous_ids)

    def refresh(
        self,
        names: list[str] | None = None,
        as_of: datetime | str | None = None,
        progress: Progress | None = None,
        deliver: bool = True,
        full: bool = False,
    ) -> DeliveredRefresh:
        """Evaluate saved segments (default: every active one) at ``as_of`` and record who
        entered and exited; a failing segment is marked failed, the others go on. The
        changes are written to the webhook outbox with the membership, and with
        ``deliver`` (and ``[[webhooks]]`` configured) the due messages are posted after the
        commit: ``result.delivery`` says how that went (a failed delivery is retried
        later and does not undo the refresh).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> [(r.name, r.size) for r in ws.refresh(as_of="2026-01-01").runs]
        [('loyal', 2)]
        """
        from segmint.activation.webhooks import deliver_after, with_delivery
        from segmint.segments.refresh import refresh

        result = refresh(self._context(), names, as_of, progress, full)
        if not deliver or not self.config.webhooks:
            return with_delivery(result, None)
        return with_delivery(result, deliver_after(self._db, self.config.webhooks, progress))

    def explain_refresh(
        self,
        names: list[str] | None = None,
        as_of: datetime | str | None = None,
        full: bool = False,
    ) -> list[RefreshMode]:
        """How :meth:`refresh` would evaluate each segment at ``as_of``: ``incremental``
        (only the customers whose measures or profile changed) or ``full``, with the
        reason; nothing is computed or stored.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("buyers", "did order_completed in last 30 days")
        >>> [(m.name, m.mode) for m in ws.explain_refresh(as_of="2026-01-01")]
        [('buyers', 'full')]
        >>> _ = ws.refresh(as_of="2026-01-01")
        >>> [(m.name, m.mode) for m in ws.explain_refresh(as_of="2026-01-02")]
        [('buyers', 'incremental')]
        """
        from segmint.segments.refresh import explain

        return explain(self._context(), names, as_of, full)

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
        stored as a run (``cluster_runs``). On a source the engine computes the features
        and keeps everyone's cluster (``labels`` is None; docs/clusters.md, "On a source").

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.cluster(k=2, as_of="2026-01-01", features=["orders_count", "revenue_total"]).k
        2
        """
        from segmint.cluster.runs import DEFAULT_SAMPLE, cluster

        return cluster(
            self._context(),
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
        """The stored cluster runs, oldest first.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.cluster(k=2, as_of="2026-01-01", features=["orders_count"])
        >>> [run["k"] for run in ws.cluster_runs()]
        [2]
        """
        from segmint.cluster.runs import runs

        return runs(self._context())

    def cluster_run(self, run_id: int) -> ClusterRun:
        """A stored cluster run (parameters, scores, clusters with rules).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> run = ws.cluster(k=2, as_of="2026-01-01", features=["orders_count"])
        >>> ws.cluster_run(run.run_id).k
        2
        """
        from segmint.cluster.runs import load

        return load(self._context(), run_id)

    def rename_cluster(self, run_id: int, cluster: int, name: str) -> ClusterRun:
        """Override the suggested name of a cluster in a stored run.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> run = ws.cluster(k=2, as_of="2026-01-01", features=["orders_count"])
        >>> ws.rename_cluster(run.run_id, 0, "Frequent").clusters[0].name
        'Frequent'
        """
        from segmint.cluster.runs import rename

        return rename(self._context(), run_id, cluster, name)

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
        or its members at the run's as_of as a fixed list (``kind="static"``).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> run = ws.cluster(k=2, as_of="2026-01-01", features=["orders_count"])
        >>> ws.save_cluster(run.run_id, 0, "cluster-0").name
        'cluster-0.yaml'
        """
        from segmint.cluster.runs import as_segment

        found = as_segment(self._context(), run_id, cluster, kind, title)
        self.add_segment(
            name, found.rule, title=found.title, description=found.description, replace=replace
        )
        return self.segments.path(name)

    def retire(self, name: str) -> None:
        """Stop refreshing a segment; its history and file are kept.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> _ = ws.refresh(as_of="2026-01-01")
        >>> ws.retire("loyal")
        >>> ws.list_segments().states["loyal"].status
        'retired'
        """
        from segmint.segments.refresh import require_known
        from segmint.store import segment_history
        from segmint.store.txn import transaction

        require_known(self._context(), name)
        with transaction(self._db, "retire", f"retiring {name}"):
            segment_history.retire(self._db, name)

    def history(self, name: str, since: datetime | str | None = None, output: str = "arrow") -> Any:
        """Every entry and exit of segment ``name`` (since ``since``): ``customer_id``,
        ``change`` (entered or exited) and ``as_of``, oldest first.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> _ = ws.refresh(as_of="2026-01-01")
        >>> ws.history("loyal").column("customer_id").to_pylist()
        ['C3', 'C4']
        """
        from segmint.segments.query import check_output, parse_as_of
        from segmint.segments.refresh import require_known

        check_output(output)
        context = self._context()
        require_known(context, name)
        start = parse_as_of(since, "since") if since is not None else None
        return _convert(context.members().changes(name, start), output)

    def review(self) -> Review:
        """The quarterly review of the active segments (checks and findings), with the
        findings of finished campaigns after the others: segments that respond
        identically, and unresponsive ones (docs/campaigns.md). A source-mode workspace
        has no campaign findings: campaign reports read the workspace's own store.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> _ = ws.refresh(as_of="2026-01-01")
        >>> [s["name"] for s in ws.review().to_json()["segments"]]
        ['loyal']
        """
        from dataclasses import replace

        from segmint.activation.evidence import campaign_findings
        from segmint.quality.checks import review

        context = self._context()
        found = review(context)
        if self.config.source.enabled:
            return found
        return replace(found, findings=found.findings + campaign_findings(context))

    def quality(self, names: list[str] | None = None) -> list[SegmentQuality]:
        """Quality checks of the active segments (or ``names``) at their last refresh.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> _ = ws.refresh(as_of="2026-01-01")
        >>> [q.name for q in ws.quality()]
        ['loyal']
        """
        from segmint.quality.checks import assess

        return assess(self._context(), names)

    def overlap(self, names: list[str] | None = None) -> tuple[dict[str, int], list[Overlap]]:
        """Stored sizes of segments (default: the active ones) and each pair's shared
        members and Jaccard overlap, from their last refresh.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> _ = ws.add_segment("repeat", "orders_count >= 2")
        >>> _ = ws.refresh(as_of="2026-01-01")
        >>> sizes, pairs = ws.overlap()
        >>> sizes, [(p.a, p.b, p.both) for p in pairs]
        ({'loyal': 2, 'repeat': 3}, [('loyal', 'repeat', 2)])
        """
        from segmint.quality.checks import overlaps
        from segmint.segments.refresh import require_known, retired_names

        if names:
            for name in names:
                require_known(self._context(), name)
            chosen = list(dict.fromkeys(names))
        else:
            retired = retired_names(self._context())
            chosen = [n for n in self.segments.files() if n not in retired]
        never = [n for n in chosen if n not in self._refreshed()]
        if never:
            raise NotFoundError(
                f"segment {never[0]!r} has not been refreshed yet; run: segmint refresh"
            )
        return overlaps(self._context(), chosen)

    # --- exports ---------------------------------------------------------------------

    def export(
        self,
        segment: str,
        to: str,
        out: str | os.PathLike[str] | None = None,
        as_of: datetime | str | None = None,
        delta: bool = False,
        columns: list[str] | None = None,
        value: str | None = None,
        progress: Progress | None = None,
    ) -> ExportResult:
        """Export the saved segment ``segment`` to ``to`` (csv, parquet, jsonl, klaviyo,
        mailchimp, meta, google) as the file ``out`` (default: the workspace's exports/
        folder), leaving out the suppressed and those without consent; ``delta`` writes
        only what changed since the last export of this segment to ``to``
        (docs/activation.md). ``as_of`` defaults to the segment's last refresh.

        >>> import tempfile
        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> out = tempfile.mkdtemp() + "/loyal.csv"
        >>> result = ws.export("loyal", "csv", out, as_of="2026-01-01", columns=["orders_count"])
        >>> result.exported, result.file.read_text().splitlines()
        (2, ['customer_id,orders_count', 'C3,3', 'C4,4'])
        """
        from segmint.activation.exports import check_destination, export

        check_destination(to)
        self.segments.path(segment)  # an unknown segment is an error with a suggestion
        target = self._export_path(segment, to, out)
        return export(self._context(), segment, to, target, as_of, delta, columns, value, progress)

    def _export_path(self, name: str, to: str, out: str | os.PathLike[str] | None) -> Path:
        """``out``, or a new file in the workspace's exports/ folder."""
        from segmint.activation.exports import extension

        if out is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            folder = self.root / "exports"
            folder.mkdir(exist_ok=True)
            return folder / f"{name}-{to}-{stamp}.{extension(to)}"
        target = Path(out)
        if target.is_dir():
            raise ArgumentError(
                f"--out: {target} is a folder; give a file name such as {name}.csv", "--out"
            )
        if not target.parent.is_dir():
            raise ArgumentError(f"--out: no such folder: {target.parent}", "--out")
        return target

    def export_history(self, segment: str | None = None) -> list[dict[str, Any]]:
        """The export ledger, oldest first: each export's time, as_of, definition version,
        counts, reasons for leaving people out, and files.

        >>> import tempfile
        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> _ = ws.export("loyal", "csv", tempfile.mkdtemp() + "/a.csv", as_of="2026-01-01")
        >>> [(e["segment"], e["destination"], e["exported"]) for e in ws.export_history()]
        [('loyal', 'csv', 2)]
        """
        from segmint.store.exports import history

        if segment is not None:
            self.segments.path(segment)
        return history(self._db, segment)

    def suppress(self, values: list[str], reason: str | None = None) -> int:
        """Add emails and customer ids to the suppression list (a value with '@' is an
        email, compared without white space and in lower case); no export ever includes
        them. The number newly listed.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.suppress(["C3", " Ann@Example.com"], reason="asked to be left alone")
        2
        >>> [(s["kind"], s["value"]) for s in ws.suppressions()]
        [('customer_id', 'C3'), ('email', 'ann@example.com')]
        """
        from segmint.store import suppressions
        from segmint.store.txn import transaction

        entries = _suppression_entries(values)
        with transaction(self._db, "suppress", "the suppression list"):
            return suppressions.add(self._db, entries, reason)

    def unsuppress(self, values: list[str]) -> int:
        """Take emails and customer ids off the suppression list; the number removed.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.suppress(["C3"]), ws.unsuppress(["C3", "C4"])
        (1, 1)
        """
        from segmint.store import suppressions
        from segmint.store.txn import transaction

        entries = _suppression_entries(values)
        with transaction(self._db, "suppress", "the suppression list"):
            return suppressions.remove(self._db, entries)

    def suppressions(self) -> list[dict[str, Any]]:
        """The suppression list: kind (email or customer_id), value, reason, when added.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.suppress(["C2"], reason="complaint")
        >>> [(s["value"], s["reason"]) for s in ws.suppressions()]
        [('C2', 'complaint')]
        """
        from segmint.store.suppressions import listed

        return listed(self._db)

    # --- API keys ---------------------------------------------------------------------

    def create_key(self, name: str, scope: str = "write") -> ApiKey:
        """Make an API key for the HTTP server (docs/server.md, "API keys"): ``scope`` is
        read, write or admin. Only its hash is stored, so the returned ``key`` is the one
        chance to see the secret.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> made = ws.create_key("tracker", scope="write")
        >>> made.key.startswith("sk_"), made.prefix == made.key[:10]
        (True, True)
        """
        from segmint.activation.keys import create

        return create(self._db, name, scope)

    def keys(self) -> list[ApiKey]:
        """Every API key, revoked ones too, oldest first; the secrets are not there.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.create_key("dashboard", scope="read")
        >>> [(k.name, k.scope, k.key) for k in ws.keys()]
        [('dashboard', 'read', None)]
        """
        from segmint.activation.keys import listed

        return listed(self._db)

    def revoke_key(self, name: str) -> None:
        """Revoke the active API key ``name``: it stops working and stays listed.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> _ = ws.create_key("tracker")
        >>> ws.revoke_key("tracker")
        >>> ws.revoke_key("tracker")
        Traceback (most recent call last):
        ...
        segmint.errors.NotFoundError: no active API key 'tracker' (see: segmint keys list)
        """
        from segmint.activation.keys import revoke

        revoke(self._db, name)

    def key_scope(self, key: str) -> str | None:
        """The scope of an active API key, or None for a revoked or unknown one.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> made = ws.create_key("admin", scope="admin")
        >>> ws.key_scope(made.key), ws.key_scope("sk_guess")
        ('admin', None)
        """
        from segmint.activation.keys import scope_of

        return scope_of(self._db, key)

    # --- webhooks ---------------------------------------------------------------------

    def deliver_webhooks(
        self,
        now: bool = False,
        progress: Progress | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> DeliveryResult:
        """Post the due messages of the webhook outbox to the ``[[webhooks]]`` endpoints of
        segmint.toml, signed (docs/activation.md, "Webhooks"); ``now`` posts every pending
        message without waiting for its retry time (a Retry-After is still honoured).
        ``clock`` gives the current time for the retry schedule (tests).

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.deliver_webhooks().attempted
        0
        """
        from segmint.activation.webhooks import deliver, utc_now

        return deliver(self._db, self.config.webhooks, now, clock or utc_now, progress)

    def webhook_status(self, clock: Callable[[], datetime] | None = None) -> list[EndpointStatus]:
        """Each webhook endpoint (configured, or with messages left in the outbox): messages
        pending, due, delivered and failed, the latest error, and whether a 410 disabled it.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.webhook_status()
        []
        """
        from segmint.activation.webhooks import status, utc_now

        return status(self._db, self.config.webhooks, clock or utc_now)

    def test_webhook(self, name: str) -> EndpointTest:
        """Post a signed ``{"type": "segment.test", ...}`` message to endpoint ``name`` and
        return its answer; nothing is written to the outbox. A 2xx answer enables an
        endpoint a 410 disabled.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.test_webhook("crm")
        Traceback (most recent call last):
        ...
        segmint.errors.NotFoundError: no webhook endpoint 'crm' (configured: none in segmint.toml)
        """
        from segmint.activation.webhooks import send_test

        return send_test(self._db, self.config.webhooks, name)

    # --- campaigns -------------------------------------------------------------------

    def create_campaign(
        self,
        name: str,
        segments: list[str],
        goal: Any,
        holdout: float | str = "10%",
        window: int | str = "14d",
        starts: datetime | str | None = None,
    ) -> Campaign:
        """Create a campaign on saved ``segments``: their members at ``starts`` (default
        now) are frozen, and each is assigned to treatment or holdout (``holdout``: the
        share held out) by a hash of the campaign and the customer; ``goal`` is a rule
        over the events within ``window`` after the start (docs/campaigns.md).

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> c = ws.create_campaign("spring", ["loyal"], "did order_completed", holdout="50%",
        ...                        starts="2026-01-01")
        >>> c.audience, c.treatment + c.held_out, c.window_days
        (2, 2, 14)
        """
        from segmint.activation.campaigns import create

        return create(self._context(), name, segments, holdout, goal, window, starts)

    def campaigns(self) -> list[Campaign]:
        """Every campaign, oldest first, with its group sizes.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> ws.campaigns()
        []
        """
        from segmint.activation.campaigns import listed

        return listed(self._context())

    def campaign(self, name: str) -> Campaign:
        """One campaign, with its group sizes per segment.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> _ = ws.create_campaign("spring", ["loyal"], "did order_completed", starts="2026-01-01")
        >>> sum(ws.campaign("spring").by_segment["loyal"])
        2
        """
        from segmint.activation.campaigns import get

        return get(self._context(), name)

    @_own_store_only
    def export_campaign(
        self,
        name: str,
        to: str,
        out: str | os.PathLike[str] | None = None,
        delta: bool = False,
        columns: list[str] | None = None,
        value: str | None = None,
        progress: Progress | None = None,
    ) -> ExportResult:
        """Export the treatment group of campaign ``name`` (never its holdout) to ``to``,
        with consent and suppression as :meth:`export`; the ledger keeps it under
        ``campaign:<name>``.

        >>> import tempfile
        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 2")
        >>> c = ws.create_campaign("spring", ["loyal"], "did order_completed", starts="2026-01-01")
        >>> result = ws.export_campaign("spring", "csv", tempfile.mkdtemp() + "/t.csv")
        >>> result.members == c.treatment
        True
        """
        from segmint.activation.exports import check_destination, export_campaign

        check_destination(to)
        self.campaign(name)
        target = self._export_path(f"campaign-{name}", to, out)
        return export_campaign(self._context(), name, to, target, delta, columns, value, progress)

    @_own_store_only
    def campaign_report(
        self, name: str, plot: str | os.PathLike[str] | None = None
    ) -> CampaignReport:
        """The response of campaign ``name``, overall and per segment: conversion to its
        goal and revenue per customer in treatment and holdout, the lift with 95 %
        intervals, the p-value, the sample-ratio check, the minimum detectable effect and
        a verdict (docs/campaigns.md); ``plot``: a PNG chart of the lifts to write.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 2")
        >>> _ = ws.create_campaign("spring", ["loyal"], "did order_completed", starts="2026-01-01")
        >>> report = ws.campaign_report("spring")
        >>> report.overall.audience, report.overall.verdict
        (3, 'too small to tell')
        """
        from segmint.activation.campaigns import plot_report, report
        from segmint.quality.report import check_plot_path

        if plot is not None:
            check_plot_path(plot)
        found = report(self._context(), name)
        if plot is not None:
            plot_report(found, plot)
        return found

    def import_campaign_results(self, name: str, path: str | os.PathLike[str]) -> ImportedResults:
        """Per-customer outcomes (sent, opened, clicked, converted, revenue) of campaign
        ``name``'s sends made elsewhere, from a CSV, Parquet or JSON Lines file; they
        replace those imported before, and the report reads them instead of the goal.

        >>> import tempfile, pathlib
        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 2")
        >>> _ = ws.create_campaign("spring", ["loyal"], "did order_completed", starts="2026-01-01")
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "results.csv"
        >>> _ = f.write_text("customer_id,converted,revenue\\nC2,true,30\\nC9,true,5\\n")
        >>> got = ws.import_campaign_results("spring", f)
        >>> got.stored, got.refused
        (1, {'not in the campaign': 1})
        """
        from segmint.activation.campaigns import import_results

        return import_results(self._context(), name, str(path))

    def campaign_members(self, name: str, output: str = "arrow") -> Any:
        """Each member of campaign ``name``: customer_id, segment and group (treatment or
        holdout), one row per segment the customer came from.

        >>> from segmint.demo.sample import sample_workspace
        >>> ws = sample_workspace()
        >>> _ = ws.add_segment("loyal", "orders_count >= 3")
        >>> _ = ws.create_campaign("spring", ["loyal"], "did order_completed", starts="2026-01-01")
        >>> ws.campaign_members("spring").column("customer_id").to_pylist()
        ['C3', 'C4']
        """
        from segmint.store.campaigns import members

        self.campaign(name)
        return _convert(members(self._db, name), output)

    def _refreshed(self) -> set[str]:
        from segmint.store.segment_history import refreshed_names

        return refreshed_names(self._db)

    def add_templates(
        self, names: list[str] | None = None, replace: bool = False
    ) -> list[tuple[str, bool]]:
        """Save built-in templates (all when ``names`` is None) as segments; returns
        (name, saved) pairs. Named templates that exist already are an error unless
        ``replace``; with all templates, existing segments are kept (they may be edited).

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> ws.add_templates(["champions"])
        [('champions', True)]
        """
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
        """Validate a definition against this workspace and write its file.

        >>> import tempfile, segmint
        >>> ws = segmint.init(tempfile.mkdtemp() + "/shop")
        >>> us = ws.add_segment("us", 'country = "US"')
        >>> ws.save_segment(us.model_copy(update={"title": "US"}), replace=True).title
        'US'
        """
        self.evaluator().prepare(definition.rule, name=definition.name)
        self.segments.save(definition, replace=replace)
        return definition


def _suppression_entries(values: list[str]) -> list[tuple[str, str]]:
    """(kind, normalised value) of each value: an email when it has '@', else a customer
    id as written (trimmed)."""
    from segmint.activation.exports import normal_email

    entries = []
    for value in values:
        text = value.strip()
        if not text:
            raise ArgumentError("suppress: an empty value names nobody", "values")
        entries.append(("email", normal_email(text)) if "@" in text else ("customer_id", text))
    return entries


def _convert(table: Any, output: str) -> Any:
    from segmint.segments.query import convert_output

    return convert_output(table, output)


def _rule_json(rule: Any) -> Any:
    to_json = getattr(rule, "to_json", None)
    return to_json() if callable(to_json) else rule
