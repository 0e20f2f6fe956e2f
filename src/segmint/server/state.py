"""What the server's routes share (server/app.py): the workspace, the lock that orders
work on its store, the tracking pipeline and the cache of API keys."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import Request

from segmint.server.pipeline import Pipeline, PipelineSettings
from segmint.store.db import SERVER_NOTE


class Denied(Exception):
    """A request without a key (401) or with a key whose scope is too small (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class ServerSettings:
    root: Path
    url: str = "http://127.0.0.1:8000"
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    # Minutes between full refreshes of the live segments (time-based exits) and the
    # look-ups' traits; 0 leaves them to `segmint refresh` (and traits out of look-ups).
    sweep_minutes: float = 5.0


@dataclass
class LiveStats:
    """Live updates after micro-batches, and the latency from a message's arrival to
    the membership change it caused being recorded (seconds, the latest 10,000)."""

    updates: int = 0
    changes: int = 0
    sweeps: int = 0
    latencies: list[float] = field(default_factory=list)


class ServerState:
    """What the routes share: the workspace, its lock, the pipeline and the key cache."""

    def __init__(self, settings: ServerSettings) -> None:
        import segmint
        from segmint.store.journal import Journal

        self.settings = settings
        self.ws = segmint.open(settings.root)
        # The connection opens on first use: open it now, so the server holds the
        # workspace's write lock from the start (no other process can write to it).
        self.ws.keys()
        self.store_lock = threading.Lock()
        self.journal = Journal(settings.root)
        self.pipeline = Pipeline(
            self.ws, self.journal, self.store_lock, settings.pipeline, self.after_batch
        )
        from segmint.server.index import LookupIndex

        self.index = LookupIndex()
        self.live = LiveStats()
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="sweep", daemon=True)
        # sha256 of a key -> its scope (None: not a key). Keys change only through this
        # process while it runs (it holds the workspace), which clears the cache.
        self._scopes: dict[str, str | None] = {}

    def scope_of(self, key: str | None) -> str | None:
        if not key:
            return None
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        if digest not in self._scopes:
            if len(self._scopes) > 10_000:
                self._scopes.clear()  # a flood of wrong keys does not grow it forever
            with self.store_lock:
                self._scopes[digest] = self.ws.key_scope(key)
        return self._scopes[digest]

    def keys_changed(self) -> None:
        self._scopes.clear()

    def require(self, key: str | None, needed: str) -> str:
        """The scope of ``key`` when it allows ``needed``, else :class:`Denied`."""
        from segmint.activation.keys import allows

        if not key:
            raise Denied(401, "this needs an API key (HTTP Basic user, or a Bearer token)")
        scope = self.scope_of(key)
        if scope is None:
            raise Denied(401, "unknown or revoked API key")
        if not allows(scope, needed):
            raise Denied(403, f"this needs a key with the {needed} scope; this key is {scope}")
        return scope

    def after_batch(self, messages: list[dict[str, Any]], result: Any) -> None:
        """After a micro-batch (store lock held): the live segments for its profiles,
        the look-up index, and the webhooks the live update queued."""
        customers = sorted({str(m["userId"]) for m in messages if m.get("userId")})
        anonymous = sorted(
            {str(m[k]) for m in messages for k in ("anonymousId", "previousId") if m.get(k)}
        )
        loads = [r.load_id for r in result.loads]
        update = self.ws.update_live(customers, anonymous, loads)
        self.index.add_profiles(self.ws, customers, anonymous)
        self.live.updates += 1
        if update.refresh_id:
            self.index.catch_up(self.ws)
            self.live.changes += update.changes
            # From each message's arrival to the change being recorded (all the batch's
            # messages count: which of them moved someone is not kept apart).
            recorded = datetime.now(UTC)
            lags = [
                (recorded - at).total_seconds()
                for at in (_instant(m.get("receivedAt")) for m in messages)
                if at is not None
            ]
            self.live.latencies = [*self.live.latencies, *lags][-10_000:]
            if update.messages:
                self.ws.deliver_webhooks()

    def sweep(self) -> None:
        """Refresh the live segments fully (time-based exits) and the look-ups' traits."""
        with self.store_lock:
            names = self.ws.live_segments()
            if names:
                self.ws.refresh(names)
                self.index.catch_up(self.ws)
            traits = self.ws.traits()
        self.index.load_traits(traits, _now())
        self.live.sweeps += 1

    def _sweep_loop(self) -> None:
        minutes = self.settings.sweep_minutes
        if minutes <= 0 or not self.own_store:
            return
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:  # logged; the next sweep tries again
                import logging

                logging.getLogger("segmint.server").exception("the sweep failed")
            self._stop.wait(minutes * 60)

    @property
    def own_store(self) -> bool:
        """Whether the workspace keeps its data itself (not on a [source] engine): only
        then does it take tracking messages, live segments and look-ups."""
        return not self.ws.config.source.enabled

    def start(self) -> None:
        if not self.own_store:
            self.pipeline.start()
            return
        with self.store_lock:
            # A live update compares with the stored membership: refresh first the live
            # segments that never were.
            fresh = self.ws.live_segments(unrefreshed=True)
            if fresh:
                self.ws.refresh(fresh)
            self.index.load(self.ws)
        self.pipeline.start()
        self._sweeper.start()
        note = {"pid": os.getpid(), "url": self.settings.url, "started_at": _now()}
        tmp = self.settings.root / (SERVER_NOTE + ".tmp")
        tmp.write_text(json.dumps(note) + "\n")
        tmp.replace(self.settings.root / SERVER_NOTE)

    def stop(self) -> None:
        self._stop.set()
        try:
            self.pipeline.stop()
        finally:
            (self.settings.root / SERVER_NOTE).unlink(missing_ok=True)
            self.ws.close()

    def status(self) -> dict[str, Any]:
        stats = self.pipeline.stats
        return {
            "acknowledged": stats.acknowledged,
            "applied": stats.applied,
            "batches": stats.batches,
            "backlog_bytes": self.pipeline.backlog(),
            "last_batch_seconds": stats.last_batch_seconds,
            "errors": stats.errors,
            "follow_up_errors": stats.follow_up_errors,
            "last_error": stats.last_error,
            "live_updates": self.live.updates,
            "live_changes": self.live.changes,
            "sweeps": self.live.sweeps,
            "live_latency": _percentiles(self.live.latencies),
        }


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def write_key(request: Request, body: dict[str, Any] | None) -> str | None:
    """The write key: the HTTP Basic user, else the body's ``writeKey``."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    if body is not None and isinstance(body.get("writeKey"), str):
        return str(body["writeKey"])
    return None


def bearer_or_basic(request: Any) -> str | None:
    """The API key of a request: ``Authorization: Bearer KEY`` or HTTP Basic user."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return str(header[7:].strip()) or None
    return write_key(request, None)


def _percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of ``values`` (seconds) in milliseconds; empty without values."""
    if not values:
        return {}
    ordered = sorted(values)
    return {
        f"p{q}_ms": ordered[min(len(ordered) - 1, len(ordered) * q // 100)] * 1000
        for q in (50, 95, 99)
    } | {"n": float(len(ordered))}
