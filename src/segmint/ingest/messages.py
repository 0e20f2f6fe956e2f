"""Segment tracking messages as rows of the input files (docs/server.md, "What each call
becomes"): the HTTP tracking API loads through the same code path as a file.

A micro-batch of messages becomes at most two JSON Lines files, a customers file (from
``identify`` and ``alias``) and an events file (from ``track``, ``page``, ``screen`` and
``group``), which :func:`segmint.ingest.load.run_load` loads as it loads any file: the
same validation, identity ties and merges, rejects with their reasons, and atomicity.

- ``identify``: a customers row, ``customer_id`` = ``userId``, ``anonymous_id`` =
  ``anonymousId`` (which ties the anonymous id to the customer), and the traits
  (``traits``, or ``context.traits`` where RudderStack's clients put them) as
  attributes: Segment's reserved traits under segmint's names (``firstName`` →
  ``first_name``, ``address.city`` → ``city``, ...), the others under their own names.
- ``alias``: a customers row tying ``previousId`` (an anonymous id) to ``userId``.
- ``track``: an event named ``event`` with its properties; ``properties.revenue`` is the
  event's revenue.
- ``page`` / ``screen``: the events ``page_viewed`` / ``screen_viewed``, with ``name`` and
  ``category`` among the properties.
- ``group``: the event ``group_joined`` with ``group_id`` and the group's traits.

Every event's ``event_id`` is the ``messageId``, so a message delivered twice (a client
retry, a replay of the journal) is loaded once. Times are corrected for the client's
clock as Segment documents: ``timestamp = receivedAt - (sentAt - timestamp)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CUSTOMER_TYPES = ("identify", "alias")
EVENT_TYPES = ("track", "page", "screen", "group")
TYPES = CUSTOMER_TYPES + EVENT_TYPES
EVENT_NAMES = {"page": "page_viewed", "screen": "screen_viewed", "group": "group_joined"}
# Segment's reserved traits that are segmint's built-in customer fields.
TRAIT_NAMES = {
    "firstName": "first_name",
    "lastName": "last_name",
    "birthday": "birth_date",
    "createdAt": "created_at",
}
ADDRESS_NAMES = {
    "city": "city",
    "country": "country",
    "postalCode": "postal_code",
    "postal_code": "postal_code",
    "state": "region",
    "region": "region",
}
# Keys of a customers or events row that a trait or property must not overwrite.
_ROW_KEYS = frozenset({"customer_id", "anonymous_id"})


@dataclass(frozen=True)
class Rows:
    """The rows of one micro-batch, in message order."""

    customers: list[dict[str, Any]]
    events: list[dict[str, Any]]


def to_rows(messages: Iterable[dict[str, Any]]) -> Rows:
    """The customers and events rows of ``messages`` (as accepted by the server: each
    with ``type``, ``messageId`` and ``receivedAt``)."""
    customers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for message in messages:
        kind = message.get("type")
        if kind == "identify":
            customers.append(_identify(message))
        elif kind == "alias":
            customers.append(
                {
                    "customer_id": _text(message.get("userId")),
                    "anonymous_id": _text(message.get("previousId")),
                }
            )
        else:
            events.append(_event(message))
    return Rows(customers, events)


def corrected_timestamp(message: dict[str, Any]) -> str | None:
    """When it happened, on the server's clock: ``receivedAt - (sentAt - timestamp)``
    when the client sent both, its ``timestamp`` when it sent no ``sentAt``,
    ``receivedAt`` when it sent no ``timestamp``. A value that does not parse is passed on
    as given, for the load to reject with its reason."""
    given = message.get("timestamp") or message.get("originalTimestamp")
    received = message.get("receivedAt")
    if given is None:
        return received if isinstance(received, str) else None
    if not isinstance(given, str):
        return str(given)
    sent = message.get("sentAt")
    at, sent_at, received_at = _instant(given), _instant(sent), _instant(received)
    if at is None or sent_at is None or received_at is None:
        return given
    return (received_at - (sent_at - at)).astimezone(UTC).isoformat()


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    """An id as text (Segment ids may arrive as numbers); empty is missing."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _identify(message: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "customer_id": _text(message.get("userId")),
        "anonymous_id": _text(message.get("anonymousId")),
    }
    # RudderStack's clients send an identify's traits in ``context.traits``; Segment's at
    # the top (which wins where both name a trait).
    context = message.get("context")
    traits = context.get("traits") if isinstance(context, dict) else None
    traits = dict(traits) if isinstance(traits, dict) else {}
    if isinstance(message.get("traits"), dict):
        traits.update(message["traits"])
    if traits:
        for name, value in traits.items():
            if name == "address" and isinstance(value, dict):
                for part, inner in value.items():
                    if part in ADDRESS_NAMES:
                        row[ADDRESS_NAMES[part]] = inner
                continue
            target = TRAIT_NAMES.get(str(name), str(name))
            if target in _ROW_KEYS:
                continue
            # An object trait is kept as its JSON text: an attribute holds a value or a
            # list of values, not a record.
            row[target] = json.dumps(value) if isinstance(value, dict) else value
    return row


def _event(message: dict[str, Any]) -> dict[str, Any]:
    kind = message.get("type")
    properties = message.get("properties")
    props: dict[str, Any] = dict(properties) if isinstance(properties, dict) else {}
    if kind in ("page", "screen"):
        for key in ("name", "category"):
            if message.get(key) is not None:
                props.setdefault(key, message[key])
    if kind == "group":
        traits = message.get("traits")
        props = dict(traits) if isinstance(traits, dict) else {}
        props["group_id"] = _text(message.get("groupId"))
    name = message.get("event") if kind == "track" else EVENT_NAMES.get(str(kind))
    row: dict[str, Any] = {
        "event": name,
        "timestamp": corrected_timestamp(message),
        "customer_id": _text(message.get("userId")),
        "anonymous_id": _text(message.get("anonymousId")),
        "event_id": _text(message.get("messageId")),
        "properties": props,
    }
    if "revenue" in props:
        row["revenue"] = props["revenue"]
    return row


def write_rows(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write rows as JSON Lines (the format a micro-batch is loaded from)."""
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=str))
            f.write("\n")
    return path
