"""From acknowledgement to the store: the journal's group commit and the applier.

Request handlers hand the accepted messages to :meth:`Pipeline.submit` and answer once
the returned future is done, which is when the messages are in the journal and synced to
disk (store/journal.py). One writer thread does the writing: it takes every group that
is waiting, writes them with one ``write`` and one ``fsync``, and completes their
futures, so concurrent requests share a sync ("group commit"). One applier thread reads
from the journal's applied position, loads what it read through the façade
(``Workspace.ingest_messages``, the file path) and moves the position on, in
micro-batches: at most every ``apply_interval`` seconds, at most ``batch_messages``
messages at a time. Nothing else writes to the store while it applies (``store_lock``).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from segmint.store.journal import Journal, Position

if TYPE_CHECKING:
    from segmint.ingest.tracking import TrackingResult
    from segmint.workspace import Workspace

log = logging.getLogger("segmint.server")


@dataclass(frozen=True)
class PipelineSettings:
    # Seconds between micro-batches (the least; a batch waits for the previous one).
    apply_interval: float = 0.1
    batch_messages: int = 20_000
    # Acknowledged bytes not yet applied beyond which new messages get 429.
    max_backlog_bytes: int = 64 * 1024 * 1024


@dataclass
class PipelineStats:
    acknowledged: int = 0
    applied: int = 0
    batches: int = 0
    last_batch_seconds: float = 0.0
    last_error: str | None = None
    errors: int = 0
    # Errors of the work after a batch (the live update), which does not stop loading.
    follow_up_errors: int = 0


class Pipeline:
    """The writer and applier threads of one server."""

    def __init__(
        self,
        ws: Workspace,
        journal: Journal,
        store_lock: threading.Lock,
        settings: PipelineSettings | None = None,
        after_apply: Callable[[list[dict[str, Any]], TrackingResult], None] | None = None,
    ) -> None:
        self.ws = ws
        self.journal = journal
        self.store_lock = store_lock
        self.settings = settings or PipelineSettings()
        self.after_apply = after_apply
        self.stats = PipelineStats()
        self._queue: queue.Queue[tuple[list[bytes], Future[Position]] | None] = queue.Queue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="journal", daemon=True)
        self._applier = threading.Thread(target=self._apply_loop, name="applier", daemon=True)

    def start(self) -> None:
        self._writer.start()
        self._applier.start()

    def submit(self, lines: list[bytes]) -> Future[Position]:
        """Queue accepted messages (JSON lines) for the journal; the future is done when
        they are durable."""
        done: Future[Position] = Future()
        self._queue.put((lines, done))
        return done

    def backlog(self) -> int:
        return self.journal.backlog()

    def overloaded(self) -> bool:
        return self.backlog() > self.settings.max_backlog_bytes

    def stop(self, drain_seconds: float = 30.0) -> None:
        """Stop taking messages, write what is queued, apply the backlog (for at most
        ``drain_seconds``; the rest is applied at the next start)."""
        self._queue.put(None)
        self._writer.join()
        deadline = time.monotonic() + drain_seconds
        while self.backlog() > 0 and time.monotonic() < deadline and self._applier.is_alive():
            self._wake.set()
            time.sleep(0.02)
        self._stop.set()
        self._wake.set()
        self._applier.join()
        self.journal.close()

    # -- the writer ---------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while True:  # everything else already waiting goes in the same sync
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            try:
                position = self.journal.append([line for lines, _ in group for line in lines])
            except BaseException as exc:  # each waiting request gets the error
                for _, done in group:
                    done.set_exception(exc)
            else:
                self.stats.acknowledged += sum(len(lines) for lines, _ in group)
                for _, done in group:
                    done.set_result(position)
                self._wake.set()
            if stop:
                return

    # -- the applier --------------------------------------------------------------------

    def _apply_loop(self) -> None:
        last = 0.0
        while not self._stop.is_set():
            wait = self.settings.apply_interval - (time.monotonic() - last)
            if wait > 0:
                time.sleep(wait)
            start = self.journal.applied()
            lines, end = self.journal.read(start, self.settings.batch_messages)
            if not lines:
                if end != start:  # moved on past the end of a segment file
                    self.journal.mark_applied(end)
                    continue
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            last = time.monotonic()
            try:
                self.apply(lines, end)
            except Exception as exc:  # kept, reported, and retried
                self.stats.errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("applying tracking messages failed; retrying")
                self._stop.wait(1.0)

    def apply(self, lines: list[bytes], end: Position) -> TrackingResult:
        """Load one micro-batch, run what follows it (live segments, the look-up index),
        and move the applied position past it. What follows cannot stop the loading: its
        errors are counted and logged, and the batch counts as applied."""
        messages: list[dict[str, Any]] = [json.loads(line) for line in lines]
        clock = time.perf_counter()
        with self.store_lock:
            result = self.ws.ingest_messages(messages)
            if self.after_apply is not None:
                try:
                    self.after_apply(messages, result)
                except Exception as exc:  # logged and counted; the next batch tries again
                    self.stats.follow_up_errors += 1
                    self.stats.last_error = f"after the batch: {type(exc).__name__}: {exc}"
                    log.exception("live update after a batch failed")
        self.journal.mark_applied(end)
        self.stats.applied += len(messages)
        self.stats.batches += 1
        self.stats.last_batch_seconds = time.perf_counter() - clock
        return result
