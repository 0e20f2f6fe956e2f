"""Segment messages as input rows (ingest/messages.py): the mapping of each call and
Segment's clock-skew correction."""

from __future__ import annotations

from datetime import datetime

from segmint.ingest.messages import corrected_timestamp, to_rows


def test_the_clock_skew_correction_is_segments() -> None:
    # The client's clock is 10 minutes fast: it stamped the event 09:59 and sent at 10:00
    # by its clock; the server received it at 09:50:02 by its own.
    message = {
        "timestamp": "2026-11-01T09:59:00+00:00",
        "sentAt": "2026-11-01T10:00:00Z",
        "receivedAt": "2026-11-01T09:50:02+00:00",
    }
    fixed = corrected_timestamp(message)
    assert fixed is not None
    assert datetime.fromisoformat(fixed) == datetime.fromisoformat("2026-11-01T09:49:02+00:00")
    assert corrected_timestamp({**message, "sentAt": None}) == message["timestamp"]
    assert corrected_timestamp({"receivedAt": message["receivedAt"]}) == message["receivedAt"]
    # What does not parse is passed on for the load to reject with its reason.
    assert corrected_timestamp({**message, "timestamp": "yesterday"}) == "yesterday"


def test_each_call_becomes_the_rows_of_the_input_files() -> None:
    rows = to_rows(
        [
            {"type": "identify", "userId": 42, "anonymousId": "a1", "messageId": "m1",
             "traits": {"firstName": "Ada", "address": {"city": "Paris", "postalCode": "75001"},
                        "prefs": {"news": True}, "customer_id": "spoof"}},
            {"type": "identify", "userId": "U2", "messageId": "m2",
             "context": {"traits": {"plan": "free", "email": "u2@x.io"}},
             "traits": {"plan": "pro"}},
            {"type": "alias", "userId": "U1", "previousId": "a9", "messageId": "m3"},
            {"type": "track", "userId": "U1", "event": "order_completed", "messageId": "m4",
             "properties": {"revenue": 12.5}, "timestamp": "2026-11-01T10:00:00Z"},
            {"type": "page", "anonymousId": "a1", "name": "Home", "messageId": "m5",
             "properties": {"path": "/"}, "timestamp": "2026-11-01T10:00:00Z"},
            {"type": "group", "userId": "U1", "groupId": "acme", "messageId": "m6",
             "traits": {"industry": "retail"}, "timestamp": "2026-11-01T10:00:00Z"},
        ]
    )  # fmt: skip
    first, second, alias = rows.customers
    assert first == {
        "customer_id": "42", "anonymous_id": "a1", "first_name": "Ada", "city": "Paris",
        "postal_code": "75001", "prefs": '{"news": true}',
    }  # fmt: skip
    assert second == {"customer_id": "U2", "anonymous_id": None, "plan": "pro", "email": "u2@x.io"}
    assert alias == {"customer_id": "U1", "anonymous_id": "a9"}
    track, page, group = rows.events
    assert track["revenue"] == 12.5 and track["event_id"] == "m4"
    assert page["event"] == "page_viewed" and page["properties"] == {"path": "/", "name": "Home"}
    assert page["customer_id"] is None and page["anonymous_id"] == "a1"
    assert group["event"] == "group_joined"
    assert group["properties"] == {"industry": "retail", "group_id": "acme"}
