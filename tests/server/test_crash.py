"""SIGKILL the server in the middle of a 100k-message send: after a restart every
message it acknowledged is in the store exactly once (issue 20, "Crash"), and a client
that retries what was not acknowledged, and re-sends some that were, leaves no
duplicates."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx

import segmint
from tests.server.conftest import make_keys, start_server

TOTAL = 100_000
BATCH = 100
KILL_AFTER = 30_000


def _batch(first: int) -> dict[str, object]:
    return {
        "batch": [
            {"type": "track", "userId": f"U{n % 5000}", "event": "page_viewed",
             "messageId": f"crash-{n}", "timestamp": "2026-11-01T10:00:00Z",
             "properties": {"n": n}}
            for n in range(first, first + BATCH)
        ]
    }  # fmt: skip


def test_every_acknowledged_message_is_stored_once_after_a_kill(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    segmint.init(root).close()
    keys = make_keys(root)
    server = start_server(root, keys)
    acknowledged: set[int] = set()
    lock = threading.Lock()
    starts = list(range(0, TOTAL, BATCH))

    def send(mine: list[int]) -> None:
        with httpx.Client(base_url=server.url, auth=(keys["write"], ""), timeout=10) as http:
            for first in mine:
                try:
                    if http.post("/v1/batch", json=_batch(first)).status_code == 200:
                        with lock:
                            acknowledged.add(first)
                except httpx.TransportError:
                    return  # the server is gone

    senders = [threading.Thread(target=send, args=(starts[i::3],)) for i in range(3)]
    for thread in senders:
        thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) * BATCH < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.005)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    for thread in senders:
        thread.join()
    killed_with = len(acknowledged) * BATCH
    assert KILL_AFTER <= killed_with < TOTAL, killed_with
    with segmint.open(root, read_only=True) as ws:
        found = ws._db.execute("SELECT count(*) FROM events").fetchone()
    stored_at_kill = int(found[0]) if found else 0
    print(f"acknowledged {killed_with}, in the store at the kill {stored_at_kill}")

    again = start_server(root, keys)
    with httpx.Client(base_url=again.url, auth=(keys["write"], ""), timeout=30) as http:
        # A client retries what was not acknowledged, and may re-send what was.
        for first in starts:
            if first not in acknowledged or first % 7000 == 0:
                assert http.post("/v1/batch", json=_batch(first)).status_code == 200
    again.wait_applied(timeout=300)
    again.stop()
    with segmint.open(root, read_only=True) as ws:
        counts = ws._db.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events WHERE event_id LIKE 'crash-%'"
        ).fetchone()
    assert counts == (TOTAL, TOTAL)
