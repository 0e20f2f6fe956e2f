"""A real webhook receiver for the tests and the bench: an HTTP server on 127.0.0.1 (a
free port) in a thread, which checks every request's signature with the standardwebhooks
library, answers as scripted, and records what it accepted."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@dataclass(frozen=True)
class Answer:
    """A scripted answer: a status, headers, and a delay before it (longer than the
    endpoint's timeout: the deliverer gives up waiting)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """Answers the first requests from ``script`` in order, then ``default``. Records each
    request it answered 2xx as (webhook-id, parsed body); ``verify=False`` skips the
    signature check (the bench measures both)."""

    def __init__(
        self, secret: str, script: list[Answer] | None = None, verify: bool = True
    ) -> None:
        self.secret = secret
        self.webhook = Webhook(secret)
        self.script = list(script or [])
        self.verify = verify
        self.default = Answer(200)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.requests = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self) -> Answer:
        with self.lock:
            self.requests += 1
            return self.script.pop(0) if self.script else self.default

    def accept(self, body: bytes, headers: dict[str, str]) -> bool:
        """Whether the signature holds (counted when it does not)."""
        if not self.verify:
            return True
        try:
            self.webhook.verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.bad_signatures += 1
            return False
        return True

    def record(self, msg_id: str, body: bytes) -> None:
        parsed = json.loads(body)
        with self.lock:
            self.received.append((msg_id, parsed))

    # What the tests ask of the records.

    def changes(self) -> Counter[tuple[str, str, str]]:
        """(segment, customer_id, change) -> how often it arrived."""
        with self.lock:
            return Counter(
                (body["segment"], c["customer_id"], c["change"])
                for _, body in self.received
                if body["type"] == "segment.membership"
                for c in body["changes"]
            )

    def bodies_by_id(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        with self.lock:
            for msg_id, body in self.received:
                found.setdefault(msg_id, []).append(body)
        return found

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the deliverer's clients use

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(size)
                if len(body) < size:
                    return  # the sender died mid-request: nothing arrived
                headers = {k.lower(): v for k, v in self.headers.items()}
                if not receiver.accept(body, headers):
                    self._send(Answer(400))
                    return
                answer = receiver.answer()
                if 200 <= answer.status < 300:
                    receiver.record(headers["webhook-id"], body)
                if answer.delay:
                    time.sleep(answer.delay)  # processed, but answered too late
                self._send(answer)

            def _send(self, answer: Answer) -> None:
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the deliverer stopped waiting (a timeout)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
