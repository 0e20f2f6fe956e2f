"""One load, start to finish, in one transaction: it lands whole or not at all."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from segmint.config import Config
from segmint.console import Progress, SilentProgress
from segmint.errors import IngestError, SegmintError
from segmint.ingest.duckdb import sources
from segmint.ingest.duckdb.context import LoadContext, drop_temp
from segmint.ingest.duckdb.customers import load_customers
from segmint.ingest.duckdb.events import EVENTS, ORDERS, load_events
from segmint.ingest.duckdb.rates import load_rates
from segmint.ingest.duckdb.rejects import (
    create_extra_rejects,
    parse_failures,
    publish_rejects,
    rejects_path,
    settle_rejects,
    write_rejects,
)
from segmint.store import loads
from segmint.store.txn import kill_point, transaction

if TYPE_CHECKING:
    import duckdb

Kind = Literal["customers", "events", "orders", "rates"]
KINDS: tuple[Kind, ...] = ("customers", "events", "orders", "rates")


@dataclass(frozen=True)
class LoadResult:
    """What a load did; ``rejects_file`` is None when every row was accepted."""

    load_id: int
    kind: str
    source: str
    rows_read: int
    accepted: int
    rejected: int
    duplicates: int
    profiles_created: int
    profiles_updated: int
    merges: int
    rejects_file: Path | None
    seconds: float
    warnings: list[str] = field(default_factory=list)
    # Stored rows this load replaced (an order with a new status or total, a corrected
    # rate); they are part of ``accepted``.
    updated: int = 0
    # Stored orders whose revenue a rates load converted again.
    reconverted: int = 0

    def summary(self) -> str:
        """One line for people: what was read, accepted, rejected and skipped."""
        parts = [f"{self.accepted:,} accepted", f"{self.rejected:,} rejected"]
        if self.updated:
            noun = {"orders": "order", "rates": "rate"}.get(self.kind, "row")
            parts.append(f"{_plural(self.updated, noun)} updated")
        if self.reconverted:
            parts.append(f"{_plural(self.reconverted, 'stored order')} converted again")
        if self.duplicates:
            parts.append(f"{self.duplicates:,} already loaded (skipped)")
        if self.profiles_created:
            parts.append(f"{self.profiles_created:,} new profiles")
        if self.profiles_updated:
            parts.append(f"{self.profiles_updated:,} profiles updated")
        if self.merges:
            parts.append(f"{self.merges:,} profiles merged")
        rows = "row" if self.rows_read == 1 else "rows"
        return f"{self.source}: {self.rows_read:,} {rows} read, " + ", ".join(parts)


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def run_load(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    root: Path,
    kind: str,
    data: Any,
    fmt: str | None = None,
    progress: Progress | None = None,
    reserved: frozenset[str] = frozenset(),
) -> LoadResult:
    """Load ``data`` (a path or a table) as ``kind`` into the workspace at ``root``;
    ``reserved`` names no custom attribute may take (the computed traits)."""
    if kind not in KINDS:
        raise IngestError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    clock = time.perf_counter()
    started = datetime.now(UTC)
    progress = progress or SilentProgress()
    load_id = loads.next_load_id(con)
    _clear_stale_scratch(root / "tmp")
    scratch = root / "tmp" / f"load-{load_id}-{os.getpid()}"
    ctx = LoadContext(con, config, load_id, started, progress, scratch, reserved=reserved)
    tmp: Path | None = None
    try:
        with transaction(con, "ingest", f"the load of {_label(data)}"):
            progress.phase("reading")
            source = _open(con, data, fmt)
            counts = _load(ctx, kind, source)
            result, tmp = _finish(ctx, root, kind, source, counts, clock)
    except BaseException as exc:
        if tmp is not None:
            # Renamed when the load row was committed after all (Ctrl-C held back until
            # the commit finished), removed when it was not.
            settle_rejects(root, con)
        if isinstance(exc, SegmintError) or not isinstance(exc, Exception):
            raise
        raise IngestError(f"load failed, nothing was loaded: {_first_line(exc)}") from exc
    finally:
        drop_temp(con)
        shutil.rmtree(scratch, ignore_errors=True)
        progress.done()
    if tmp is not None and result.rejects_file is not None:
        # The rejects were on disk before COMMIT; a kill from here on leaves the temporary
        # file, which the next open renames (ingest/duckdb/rejects.py recover_rejects).
        kill_point("ingest:before-rejects-rename")
        publish_rejects(tmp, result.rejects_file)
    return result


def _label(data: Any) -> str:
    return Path(data).name if isinstance(data, str | Path) else "a table"


def _open(con: duckdb.DuckDBPyConnection, data: Any, fmt: str | None) -> sources.Source:
    if isinstance(data, str | Path):
        path = Path(data)
        return sources.open_file(con, path, sources.detect_format(path, fmt))
    return sources.open_table(con, data, "table")


def _load(ctx: LoadContext, kind: str, source: sources.Source) -> dict[str, int]:
    # Rows a step after validation rejects (a repeated event_id), for the rejects file.
    create_extra_rejects(ctx.con)
    if kind == "customers":
        counts = load_customers(ctx, source)
    elif kind == "rates":
        counts = load_rates(ctx, source)
    else:
        counts = load_events(ctx, source, EVENTS if kind == "events" else ORDERS)
    if source.format == "csv":
        sources.collect_csv_parse_rejects(ctx.con)
    return counts


def _finish(
    ctx: LoadContext,
    root: Path,
    kind: str,
    source: sources.Source,
    counts: dict[str, int],
    clock: float,
) -> tuple[LoadResult, Path | None]:
    parse_failed = parse_failures(ctx.con)
    rejected = counts["rejected_rows"] + parse_failed
    parsed = counts["parsed"]
    final = rejects_path(root, source, ctx.started_at) if rejected else None
    tmp = write_rejects(ctx, source, final) if final is not None else None
    duplicates = counts.get("duplicates", 0)
    accepted = counts.get("inserted", parsed + parse_failed - rejected - duplicates)
    result = LoadResult(
        load_id=ctx.load_id,
        kind=kind,
        source=source.label,
        rows_read=parsed + parse_failed,
        accepted=accepted,
        rejected=rejected,
        duplicates=duplicates,
        profiles_created=counts.get("profiles_created", 0),
        profiles_updated=counts.get("profiles_updated", 0),
        merges=counts.get("merges", 0),
        rejects_file=final,
        seconds=time.perf_counter() - clock,
        warnings=list(ctx.warnings),
        updated=counts.get("updated", 0),
        reconverted=counts.get("reconverted", 0),
    )
    loads.record_load(
        ctx.con,
        [
            ctx.load_id, kind, source.label, source.format, ctx.started_at, datetime.now(UTC),
            result.rows_read, result.accepted, result.rejected, result.duplicates,
            result.profiles_created, result.merges, str(final) if final else None,
        ],
    )  # fmt: skip
    return result, tmp


def _clear_stale_scratch(folder: Path) -> None:
    """Remove scratch folders a killed load left behind. Only one process can hold the
    workspace's database for writing, so any other load's folder is stale."""
    mine = f"-{os.getpid()}"
    for stale in folder.glob("load-*"):
        if not stale.name.endswith(mine):
            shutil.rmtree(stale, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
