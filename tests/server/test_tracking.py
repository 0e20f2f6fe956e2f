"""The tracking API with real clients (segment-analytics-python, rudder-sdk-python)
against a real ``segmint serve``: what they send lands as the same data loaded from
files does (issue 20, "Tests with real components"), and the API's limits and errors."""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import segmint
from tests.server.conftest import Server

START = datetime(2026, 11, 1, tzinfo=UTC)


def _story(seed: int, people: int = 40) -> list[dict[str, Any]]:
    """A seeded history of calls: anonymous browsing, identify (some with the anonymous
    id, which ties it), alias, purchases with revenue, screens and groups."""
    rng = random.Random(seed)
    calls: list[dict[str, Any]] = []
    for i in range(people):
        user, anon = f"U{i}", f"anon-{seed}-{i}"
        at = START + timedelta(hours=rng.randrange(500))
        for _ in range(rng.randrange(3)):  # browsing before signing in
            at += timedelta(minutes=rng.randrange(1, 90))
            calls.append({"call": "page", "anon": anon, "at": at, "name": "Home",
                          "properties": {"path": f"/p/{rng.randrange(9)}"}})  # fmt: skip
        traits = {"email": f"user{i}@example.com", "firstName": f"F{i}",
                  "plan": rng.choice(["free", "pro"]), "address": {"country": "FR"}}  # fmt: skip
        if rng.random() < 0.3:
            calls.append({"call": "alias", "user": user, "previous": anon, "at": at})
            calls.append({"call": "identify", "user": user, "at": at, "traits": traits})
        else:
            calls.append({"call": "identify", "user": user, "anon": anon, "at": at,
                          "traits": traits})  # fmt: skip
        for _ in range(rng.randrange(4)):
            at += timedelta(hours=rng.randrange(1, 48))
            props = {"revenue": rng.randrange(5, 300), "sku": "S1"}
            calls.append({"call": "track", "user": user, "at": at, "event": "order_completed",
                          "properties": props})  # fmt: skip
        if rng.random() < 0.3:
            calls.append({"call": "screen", "user": user, "at": at, "name": "Cart",
                          "properties": {}})  # fmt: skip
        if rng.random() < 0.2:
            calls.append({"call": "group", "user": user, "at": at, "group": "acme",
                          "traits": {"industry": "retail"}})  # fmt: skip
    for n, call in enumerate(calls):
        call["id"] = f"m-{seed}-{n}"
    return calls


def _send(client: Any, calls: list[dict[str, Any]]) -> None:
    """Make the calls with a Segment-style client (both libraries share the API)."""
    for c in calls:
        common = {"timestamp": c["at"], "message_id": c["id"]}
        kind = c["call"]
        if kind == "identify":
            client.identify(c["user"], c["traits"], anonymous_id=c.get("anon"), **common)
        elif kind == "alias":
            client.alias(c["previous"], c["user"], **common)
        elif kind == "track":
            client.track(c["user"], c["event"], c["properties"], **common)
        elif kind == "page":
            client.page(None, None, c["name"], c["properties"], anonymous_id=c["anon"], **common)
        elif kind == "screen":
            client.screen(c["user"], None, c["name"], c["properties"], **common)
        else:
            client.group(c["user"], c["group"], c["traits"], **common)
    client.flush()


def _files(calls: list[dict[str, Any]], folder: Path) -> tuple[Path, Path]:
    """The same history written as input files (DESIGN section 3), by hand."""
    customers, events = [], []
    for c in calls:
        at = c["at"].isoformat()
        if c["call"] == "identify":
            t = c["traits"]
            row = {"customer_id": c["user"], "email": t["email"], "first_name": t["firstName"],
                   "plan": t["plan"], "country": t["address"]["country"]}  # fmt: skip
            if c.get("anon"):
                row["anonymous_id"] = c["anon"]
            customers.append(row)
        elif c["call"] == "alias":
            customers.append({"customer_id": c["user"], "anonymous_id": c["previous"]})
        else:
            name = {"page": "page_viewed", "screen": "screen_viewed", "group": "group_joined"}
            props = dict(c.get("properties", {}))
            if c["call"] in ("page", "screen"):
                props["name"] = c["name"]
            if c["call"] == "group":
                props = {**c["traits"], "group_id": c["group"]}
            row = {"event": c.get("event") or name[c["call"]], "timestamp": at,
                   "event_id": c["id"], "properties": props}  # fmt: skip
            if c.get("user"):
                row["customer_id"] = c["user"]
            else:
                row["anonymous_id"] = c["anon"]
            if "revenue" in props:
                row["revenue"] = props["revenue"]
            events.append(row)
    paths = folder / "customers.jsonl", folder / "events.jsonl"
    for path, found in zip(paths, (customers, events), strict=True):
        path.write_text("".join(json.dumps(r) + "\n" for r in found))
    return paths


def _state(root: Path) -> dict[str, Any]:
    """What a workspace holds, by the ids a user sees (pids differ between workspaces)."""
    with segmint.open(root, read_only=True) as ws:
        con = ws._db
        owner = (
            "coalesce(p.customer_id, (SELECT min(i.value) FROM identities i WHERE i.pid = p.pid))"
        )
        profiles = con.execute(
            "SELECT customer_id, email, first_name, country FROM profiles "
            "WHERE customer_id IS NOT NULL ORDER BY customer_id"
        ).fetchall()
        events = con.execute(
            f"SELECT e.event_id, e.event, e.ts, {owner}, e.revenue, e.properties "
            "FROM events e JOIN profiles p USING (pid) ORDER BY e.event_id"
        ).fetchall()
        plan = con.execute(
            "SELECT customer_id, x_plan FROM profiles WHERE customer_id IS NOT NULL "
            "ORDER BY customer_id"
        ).fetchall()
        people = con.execute("SELECT count(*) FROM profiles").fetchone()
    return {"profiles": profiles, "events": events, "plan": plan, "people": people}


def _same(served: dict[str, Any], loaded: dict[str, Any]) -> None:
    assert served["profiles"] == loaded["profiles"]
    assert served["plan"] == loaded["plan"]
    assert served["people"] == loaded["people"]
    assert len(served["events"]) == len(loaded["events"])
    for mine, theirs in zip(served["events"], loaded["events"], strict=True):
        event_id, event, ts, owner, revenue, props = mine
        assert (event_id, event, owner, revenue) == (theirs[0], theirs[1], theirs[3], theirs[4])
        assert json.loads(props) == json.loads(theirs[5])
        # The server corrects the client's clock by the time the batch took to arrive.
        assert abs((ts - theirs[2]).total_seconds()) < 5


@pytest.mark.parametrize("library", ["segment", "rudder"])
def test_a_real_client_lands_what_the_same_files_load(
    served: Server, tmp_path: Path, library: str
) -> None:
    calls = _story(seed=7 if library == "segment" else 8)
    if library == "segment":
        from segment.analytics.client import Client
    else:
        from rudderstack.analytics.client import Client  # type: ignore[no-redef]
    errors: list[Any] = []
    client = Client(
        served.keys["write"], host=served.url, sync_mode=False, max_retries=2,
        on_error=lambda e, batch: errors.append(e),
    )  # fmt: skip
    _send(client, calls)
    client.shutdown()
    assert not errors
    served.wait_applied(acknowledged=len(calls))
    # uvicorn shuts down cleanly on SIGTERM, then exits by the signal it caught.
    assert served.stop() in (0, -15)
    assert not (served.root / "server.json").exists()

    files = tmp_path / "files"
    files.mkdir()
    customers, events = _files(calls, files)
    segmint.init(tmp_path / "loaded").close()
    with segmint.open(tmp_path / "loaded") as ws:
        ws.ingest("customers", customers)
        ws.ingest("events", events)
    _same(_state(served.root), _state(tmp_path / "loaded"))


def test_every_write_needs_a_write_key(served: Server) -> None:
    from segmint.ingest.messages import TYPES

    message = {"userId": "U1", "event": "x", "previousId": "a", "groupId": "g"}
    for path in [*TYPES, "batch", "import"]:
        body = {"batch": [{**message, "type": "track"}]} if path in ("batch", "import") else message
        with served.client(None) as http:
            assert http.post(f"/v1/{path}", json=body).status_code == 401
        with served.client("read") as http:
            denied = http.post(f"/v1/{path}", json=body)
            assert denied.status_code == 403
            assert set(denied.json()) >= {"code", "message"}
        with served.client("write") as http:
            assert http.post(f"/v1/{path}", json=body).status_code == 200
    with served.client(None) as http:
        http.auth = ("sk_not-a-key", "")
        assert http.post("/v1/track", json=message).status_code == 401
        # Segment's clients may send the key in the body instead.
        good = {**message, "writeKey": served.keys["write"]}
        assert http.post("/v1/track", json=good).status_code == 401  # the header wins
    with served.client(None) as http:
        good = {**message, "writeKey": served.keys["write"]}
        assert http.post("/v1/track", json=good).status_code == 200


def test_sizes_encodings_and_bad_bodies(served: Server) -> None:
    big = {"userId": "U1", "event": "x", "properties": {"blob": "y" * 40_000}}
    with served.client() as http:
        too_big = http.post("/v1/track", json=big)
        assert too_big.status_code == 413 and too_big.json()["code"] == "request_too_large"
        batch = {"batch": [{"type": "track", "userId": "U1", "event": "x",
                            "properties": {"blob": "y" * 30_000}} for _ in range(20)]}  # fmt: skip
        assert http.post("/v1/batch", json=batch).status_code == 413
        one_big = {"batch": [{"type": "track", "userId": "U1", "event": "x",
                              "properties": {"blob": "y" * 33_000}}]}  # fmt: skip
        assert http.post("/v1/batch", json=one_big).json()["code"] == "message_too_large"
        assert http.post("/v1/track", content=b"{nope").status_code == 400
        assert http.post("/v1/batch", json={"batch": {}}).status_code == 400
        odd = http.post("/v1/batch", json={"batch": [{"type": "click"}]})
        assert odd.status_code == 400 and "type must be one of" in odd.json()["message"]
        zipped = gzip.compress(json.dumps({"batch": [
            {"type": "track", "userId": "Z1", "event": "zipped", "messageId": "z-1",
             "timestamp": "2026-11-02T10:00:00Z"}]}).encode())  # fmt: skip
        done = http.post("/v1/batch", content=zipped, headers={"Content-Encoding": "gzip"})
        assert done.status_code == 200, done.text
        bomb = gzip.compress(b'{"batch": [' + b" " * 2_000_000 + b"]}")
        refused = http.post("/v1/batch", content=bomb, headers={"Content-Encoding": "gzip"})
        assert refused.status_code == 413
    served.wait_applied()
    assert served.stop() in (0, -15)
    with segmint.open(served.root, read_only=True) as ws:
        assert ws.customer("Z1").event_counts == {"zipped": 1}


def test_a_message_without_a_user_is_acknowledged_and_rejected_with_its_reason(
    served: Server,
) -> None:
    with served.client() as http:
        assert http.post("/v1/track", json={"event": "lost", "messageId": "n-1"}).status_code == 200
    served.wait_applied(acknowledged=1)
    served.stop()
    rejects = list((served.root / "rejects").glob("*"))
    assert rejects, "the message went nowhere"
    text = "".join(p.read_text() for p in rejects)
    assert "n-1" in text and "customer_id" in text


def test_a_command_on_a_served_workspace_says_a_server_owns_it(served: Server) -> None:
    from tests.conftest import run_cli

    done = run_cli(served.root, "segment", "count", "--rule", "did order_completed")
    assert done.returncode == 2
    assert f"serves it at {served.url}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_source_workspace_is_served_but_refuses_tracking(tmp_path: Path) -> None:
    """Its data lives on the source engine: a message taken could never be loaded, so it
    is refused before the journal, and the server still starts and answers."""
    from tests.server.conftest import serving

    root = tmp_path / "ws"
    # No PostgreSQL is needed: nothing here reaches the source.
    segmint.init(root, source="postgresql://u@127.0.0.1:1/db").close()
    with serving(root) as server, server.client() as http:
        refused = http.post("/v1/track", json={"userId": "U1", "event": "x"})
        assert refused.status_code == 400 and refused.json()["code"] == "not_supported"
        assert server.status()["acknowledged"] == 0
    assert not list((root / "journal").glob("*.jsonl")) or all(
        p.stat().st_size == 0 for p in (root / "journal").glob("*.jsonl")
    )
