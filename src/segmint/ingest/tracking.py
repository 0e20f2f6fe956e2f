"""Loading a micro-batch of tracking messages (the HTTP server's, docs/server.md) through
the file path: the messages become a customers file and an events file
(ingest/messages.py), loaded by :func:`segmint.ingest.load.run_load` like any file.

The customers file goes first, so an ``identify`` or ``alias`` that ties an anonymous id
comes before the events that carry it (the result is the same either way: events loaded
first would attach to an anonymous profile that the tie then merges).

A load refuses a whole file for some problems (a column whose values cannot be one
type, say a trait that is a number in one message and a list in another). A micro-batch
must not stop on one bad message, so then each message is loaded on its own, and the
messages that still fail go to ``rejects/`` with the reason, as bad rows do.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.errors import IngestError
from segmint.ingest.load import LoadResult, run_load
from segmint.ingest.messages import Rows, to_rows, write_rows

if TYPE_CHECKING:
    import duckdb

    from segmint.config import Config


@dataclass
class TrackingResult:
    """What loading one micro-batch did."""

    messages: int
    loads: list[LoadResult] = field(default_factory=list)
    # Messages refused whole (the load of the message on its own failed), and where.
    refused: int = 0
    refused_file: Path | None = None

    @property
    def accepted(self) -> int:
        return sum(r.accepted for r in self.loads)

    @property
    def rejected(self) -> int:
        return sum(r.rejected for r in self.loads) + self.refused


def load_messages(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    root: Path,
    messages: list[dict[str, Any]],
    reserved: frozenset[str] = frozenset(),
) -> TrackingResult:
    """Load ``messages`` (as the server accepted them) into the workspace at ``root``."""
    result = TrackingResult(len(messages))
    now = datetime.now(UTC)
    # The server stamps each message when it arrives; messages given here directly
    # arrive now (a message without a timestamp happened when it arrived).
    messages = [m if "receivedAt" in m else {**m, "receivedAt": now.isoformat()} for m in messages]
    rows = to_rows(messages)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    try:
        result.loads.extend(_load_rows(con, config, root, rows, stamp, reserved))
    except IngestError:
        refused: list[tuple[dict[str, Any], str]] = []
        for i, message in enumerate(messages):
            try:
                one = _load_rows(con, config, root, to_rows([message]), f"{stamp}-{i}", reserved)
            except IngestError as exc:
                refused.append((message, str(exc)))
            else:
                result.loads.extend(one)
        if refused:
            result.refused = len(refused)
            result.refused_file = _write_refused(root, stamp, refused)
    return result


def _load_rows(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    root: Path,
    rows: Rows,
    stamp: str,
    reserved: frozenset[str],
) -> list[LoadResult]:
    folder = root / "tmp"
    folder.mkdir(exist_ok=True)
    done = []
    for kind, part in (("customers", rows.customers), ("events", rows.events)):
        if not part:
            continue
        path = write_rows(part, folder / f"tracking-{stamp}-{kind}.jsonl")
        try:
            done.append(run_load(con, config, root, kind, path, "jsonl", reserved=reserved))
        finally:
            path.unlink(missing_ok=True)
    return done


def _write_refused(root: Path, stamp: str, refused: list[tuple[dict[str, Any], str]]) -> Path:
    """The messages no load took, each with its reason, as JSON Lines in ``rejects/``."""
    folder = root / "rejects"
    folder.mkdir(exist_ok=True)
    path = folder / f"tracking-{stamp}.jsonl"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for message, reason in refused:
            f.write(json.dumps({"reason": reason, "message": message}, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return path
