"""What the server's routes share (server/app.py): the workspace, the lock that orders
work on its store, the tracking pipeline and the cache of API keys."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
        self.pipeline = Pipeline(self.ws, self.journal, self.store_lock, settings.pipeline)
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

    def start(self) -> None:
        self.pipeline.start()
        note = {"pid": os.getpid(), "url": self.settings.url, "started_at": _now()}
        tmp = self.settings.root / (SERVER_NOTE + ".tmp")
        tmp.write_text(json.dumps(note) + "\n")
        tmp.replace(self.settings.root / SERVER_NOTE)

    def stop(self) -> None:
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
            "last_error": stats.last_error,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat()
