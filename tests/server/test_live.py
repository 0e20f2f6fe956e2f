"""Live segments and look-ups through a real ``segmint serve``: a message sent by the
real Segment client moves its customer into a live segment, the look-up sees it by
customer id, email and anonymous id, the change is in the membership history, and the
webhook it fires reaches a real receiver that checks its signature."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

import segmint
from tests.activation.receiver import Receiver, new_secret
from tests.activation.test_webhooks import configure
from tests.server.conftest import make_keys, start_server


def _segments(http: httpx.Client, key: str) -> list[str] | None:
    found = http.get(f"/v1/profiles/{key}/segments")
    if found.status_code == 404:
        return None
    found.raise_for_status()
    segments: list[str] = found.json()["segments"]
    return segments


def test_a_tracked_purchase_moves_a_customer_live(tmp_path: Path) -> None:
    from segment.analytics.client import Client

    root = tmp_path / "ws"
    ws = segmint.init(root)
    ws.ingest_messages(
        [
            {"type": "identify", "userId": "U1", "messageId": "s1",
             "traits": {"email": "One@Example.com", "plan": "pro"}},
            {"type": "track", "userId": "U1", "event": "order_completed", "messageId": "s2",
             "timestamp": "2026-11-01T10:00:00Z", "properties": {"revenue": 20}},
        ]
    )  # fmt: skip
    ws.add_segment("buyers", "did order_completed", live=True)
    ws.add_segment("pros", 'plan = "pro"', live=True)
    ws.close()
    secret = new_secret()
    with Receiver(secret) as receiver:
        configure(root, receiver.url, secret)
        keys = make_keys(root)
        server = start_server(root, keys)
        try:
            with httpx.Client(base_url=server.url, auth=(keys["read"], ""), timeout=10) as http:
                # The live segments were refreshed at the start; the index has them.
                assert _segments(http, "U1") == ["buyers", "pros"]
                assert _segments(http, "email:one@example.com") == ["buyers", "pros"]
                assert _segments(http, "U2") is None
                assert httpx.get(f"{server.url}/v1/profiles/U1/segments").status_code == 401

                client = Client(keys["write"], host=server.url, max_retries=2)
                client.page(None, None, "Home", {}, anonymous_id="anon-2")
                client.identify("U2", {"plan": "free"}, anonymous_id="anon-2")
                client.track("U2", "order_completed", {"revenue": 30})
                client.flush()
                sent = time.monotonic()
                while time.monotonic() - sent < 10:
                    if _segments(http, "U2") == ["buyers"]:
                        break
                    time.sleep(0.02)
                took = time.monotonic() - sent
                assert _segments(http, "U2") == ["buyers"], server.status()
                assert _segments(http, "anonymous:anon-2") == ["buyers"]
                assert took < 5
                client.shutdown()
                # Traits come from the sweep's table (the first sweep runs at the start).
                deadline = time.monotonic() + 30
                while (
                    http.get("/v1/profiles/U1/traits").status_code == 404
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.1)
                traits = http.get("/v1/profiles/email:one@example.com/traits?fields=orders_count")
                assert traits.status_code == 200, traits.text
                assert traits.json()["traits"] == {"orders_count": 1}
                bad = http.get("/v1/profiles/U1/traits?fields=nope")
                assert bad.status_code == 400 and bad.json()["location"] == "fields"
                status = server.status()
                assert status["live_changes"] >= 1 and status["follow_up_errors"] == 0
        finally:
            server.stop()
        deadline = time.monotonic() + 10
        while ("buyers", "U2", "entered") not in receiver.changes():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert receiver.changes()[("buyers", "U2", "entered")] == 1
        assert receiver.bad_signatures == 0
    with segmint.open(root, read_only=True) as ws:
        history = ws.history("buyers")
        assert ("U2", "entered") in {
            (c, k) for c, k in zip(
                history.column("customer_id").to_pylist(),
                history.column("change").to_pylist(),
                strict=True,
            )
        }  # fmt: skip
