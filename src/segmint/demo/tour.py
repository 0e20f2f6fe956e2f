"""``segmint demo``: build a synthetic shop in a new workspace through the public ingest path
and gather what a first look at it shows. Rendering is the front-end's job (cli/render.py).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import segmint
from segmint.console import Progress
from segmint.errors import WorkspaceError
from segmint.ingest.load import LoadResult


@dataclass(frozen=True)
class DemoReport:
    """What the demo built and found."""

    root: Path
    data_end: datetime
    loads: list[LoadResult]
    stats: dict[str, int]
    anonymous_profiles: int
    events_by_name: list[tuple[str, int]]
    orders: int
    revenue: float
    countries: list[tuple[str, int]]
    devices: list[tuple[str, int]]
    merged_example: str | None
    seconds: float


def build_demo(
    directory: Path,
    customers: int = 5000,
    seed: int = 0,
    progress: Progress | None = None,
    end: datetime | None = None,
    force: bool = False,
) -> DemoReport:
    """Create a workspace at ``directory`` holding a synthetic shop; return the tour's facts.

    >>> import tempfile, pathlib
    >>> report = build_demo(pathlib.Path(tempfile.mkdtemp()) / "shop", customers=100)
    >>> report.stats["customers"] >= 100
    True
    """
    import time

    from segmint.demo.generate import generate_shop

    clock = time.perf_counter()
    _prepare(directory, force)
    ws = segmint.init(directory)
    with ws:
        shop = generate_shop(directory / "data", customers=customers, seed=seed, end=end)
        # Shops load in batches; the last 90 days come as a second load, so visitors who
        # browsed anonymously before and log in now are merged, as they would be in life.
        history, recent = split_csv_at(shop.events, shop.end - timedelta(days=90))
        loads = [
            ws.ingest("customers", shop.customers, progress=progress),
            ws.ingest("events", history, progress=progress),
            ws.ingest("events", recent, progress=progress),
            ws.ingest("events", shop.app_events, progress=progress),
            ws.ingest("orders", shop.orders, progress=progress),
        ]
        return _report(ws, shop.end, loads, time.perf_counter() - clock)


def split_csv_at(path: Path, cutoff: datetime) -> tuple[Path, Path]:
    """Split a time-ordered events CSV into rows before ``cutoff``'s day and from it on."""
    day = cutoff.strftime("%Y-%m-%d")
    before = path.with_name(path.stem + "-history.csv")
    after = path.with_name(path.stem + "-recent.csv")
    with path.open(encoding="utf-8") as src, before.open("w", encoding="utf-8") as a:
        header = src.readline()
        a.write(header)
        out, ts_index = a, header.rstrip("\n").split(",").index("timestamp")
        with after.open("w", encoding="utf-8") as b:
            b.write(header)
            for line in src:
                # Our generator writes no quoted commas before the timestamp column.
                stamp = line.split(",", ts_index + 1)[ts_index][:10]
                if out is a and stamp[:4].isdigit() and stamp >= day:
                    out = b
                out.write(line)
    path.unlink()
    return before, after


def _prepare(directory: Path, force: bool) -> None:
    if not directory.exists():
        return
    if not force:
        raise WorkspaceError(
            f"{directory} already exists; pass --force to replace it or name another folder"
        )
    if not (directory / "segmint.toml").exists():
        raise WorkspaceError(f"{directory} exists and is not a segmint workspace; not replacing it")
    shutil.rmtree(directory)


def _report(
    ws: segmint.Workspace, end: datetime, loads: list[LoadResult], seconds: float
) -> DemoReport:
    def all_rows(sql: str) -> list[Any]:
        return ws.con.execute(sql).fetchall()

    order_event = ws.config.order_event
    orders, revenue = all_rows(
        f"SELECT count(*), coalesce(sum(revenue), 0) FROM events WHERE event = '{order_event}'"
    )[0]
    merged = all_rows(
        "SELECT p.customer_id FROM identity_merges m JOIN profiles p ON p.pid = m.into_pid "
        "ORDER BY m.events_moved DESC, p.customer_id LIMIT 1"
    )
    return DemoReport(
        root=ws.root,
        data_end=end,
        loads=loads,
        stats=ws.stats(),
        anonymous_profiles=all_rows("SELECT count(*) FROM profiles WHERE customer_id IS NULL")[0][
            0
        ],
        events_by_name=all_rows("SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"),
        orders=int(orders),
        revenue=float(revenue),
        countries=all_rows(
            "SELECT coalesce(country, '(none)'), count(*) FROM profiles "
            "WHERE customer_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
        ),
        devices=_devices(ws),
        merged_example=merged[0][0] if merged else None,
        seconds=seconds,
    )


def _devices(ws: segmint.Workspace) -> list[tuple[str, int]]:
    row = ws.con.execute("SELECT column_name FROM attributes WHERE name = 'device_os'").fetchone()
    if row is None:
        return []
    return ws.con.execute(
        f"SELECT coalesce(\"{row[0]}\", '(none)'), count(*) FROM profiles "
        "WHERE customer_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
