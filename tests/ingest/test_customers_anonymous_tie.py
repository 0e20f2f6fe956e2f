"""A customers file's ``anonymous_id`` column ties the id to the row's customer exactly as an
events row carrying both ids does (an identify or alias call of the tracking API)."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import segmint
from tests.conftest import rows, write_csv, write_jsonl

# One event: (event_id, timestamp, customer_id or "", anonymous_id or "").
Event = tuple[str, str, str, str]

_EVENT_HEADER = ("event_id", "event", "timestamp", "customer_id", "anonymous_id")


def _write_events(path: Path, events: list[Event]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(_EVENT_HEADER)
        out.writerows((eid, "page_view", ts, cid, anon) for eid, ts, cid, anon in events)
    return path


def _write_ties(path: Path, ties: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(("customer_id", "anonymous_id"))
        out.writerows(ties)
    return path


def _load_as_events(ws: segmint.Workspace, folder: Path, batches: list[list[Event]]) -> None:
    """Path A: every batch is one events file; rows with both ids tie them."""
    for n, batch in enumerate(batches):
        ws.ingest("events", _write_events(folder / f"a{n}.csv", batch))


def _load_as_customers(ws: segmint.Workspace, folder: Path, batches: list[list[Event]]) -> None:
    """Path B: the ties of each batch come from a customers file loaded just before it (in
    the order an events load ranks them: earliest first); the events keep their customer
    and lose the anonymous id they tied, so only the customers file ties anything."""
    for n, batch in enumerate(batches):
        ties = sorted(
            (ts, i, cid, anon) for i, (_, ts, cid, anon) in enumerate(batch) if cid and anon
        )
        ws.ingest("customers", _write_ties(folder / f"c{n}.csv", [(c, a) for _, _, c, a in ties]))
        stripped = [(e, ts, cid, "" if cid else anon) for e, ts, cid, anon in batch]
        ws.ingest("events", _write_events(folder / f"b{n}.csv", stripped))


def _names(ws: segmint.Workspace) -> dict[int, str]:
    """Each profile's name independent of pid numbering: its customer id, else its lowest
    anonymous id."""
    got = rows(
        ws,
        "SELECT p.pid, coalesce(p.customer_id, 'anon:' || min(i.value)) FROM profiles p "
        "LEFT JOIN identities i ON i.pid = p.pid AND i.kind = 'anonymous_id' "
        "GROUP BY p.pid, p.customer_id",
    )
    return {pid: name for pid, name in got}


def _facts(ws: segmint.Workspace) -> dict[str, Any]:
    """What identity resolution decided, by profile name rather than pid."""
    name = _names(ws)
    return {
        "profiles": sorted(
            (name[pid], first, last)
            for pid, first, last in rows(
                ws, "SELECT pid, first_event_at, last_event_at FROM profiles"
            )
        ),
        "identities": sorted(
            (kind, value, name[pid])
            for kind, value, pid in rows(ws, "SELECT kind, value, pid FROM identities")
        ),
        "merges": sorted(
            (kind, value, name[into], moved)
            for kind, value, into, moved in rows(
                ws, "SELECT via_kind, via_value, into_pid, events_moved FROM identity_merges"
            )
        ),
        "events": sorted(
            (eid, name[pid]) for eid, pid in rows(ws, "SELECT event_id, pid FROM events")
        ),
    }


def _random_batches(seed: int) -> list[list[Event]]:
    rng = random.Random(seed)
    customers = [f"C{i}" for i in range(8)]
    anons = [f"anon-{i}" for i in range(16)]
    t = datetime(2024, 1, 1, tzinfo=UTC)
    batches: list[list[Event]] = []
    for b in range(rng.randint(2, 5)):
        batch: list[Event] = []
        for n in range(rng.randint(5, 30)):
            t += timedelta(minutes=rng.randint(1, 90))
            who = rng.random()
            cid = rng.choice(customers) if who < 0.6 else ""
            anon = rng.choice(anons) if who > 0.3 else ""
            batch.append((f"E{b}-{n}", t.isoformat(), cid, anon))
        # Not in time order inside a file: the earliest tie wins, not the first row.
        rng.shuffle(batch)
        batches.append(batch)
    return batches


def _both_ways(tmp_path: Path, batches: list[list[Event]]) -> tuple[dict[str, Any], ...]:
    facts = []
    for way, load in (("a", _load_as_events), ("b", _load_as_customers)):
        folder = tmp_path / f"in-{way}"
        folder.mkdir()
        ws = segmint.init(tmp_path / f"ws-{way}")
        try:
            load(ws, folder, batches)
            facts.append(_facts(ws))
        finally:
            ws.close()
    return tuple(facts)


@pytest.mark.parametrize("seed", range(6))
def test_random_ties_resolve_as_events_ties_do(tmp_path: Path, seed: int) -> None:
    by_events, by_customers = _both_ways(tmp_path, _random_batches(seed))
    assert by_customers == by_events


def test_anonymous_events_loaded_before_merge_into_the_customer(tmp_path: Path) -> None:
    batches: list[list[Event]] = [
        [
            ("E1", "2024-01-01T00:00:00Z", "", "anon-1"),
            ("E2", "2024-01-02T00:00:00Z", "", "anon-1"),
        ],
        [("E3", "2024-01-03T00:00:00Z", "C1", "anon-1")],
    ]
    by_events, by_customers = _both_ways(tmp_path, batches)
    assert by_customers == by_events
    assert by_customers["merges"] == [("anonymous_id", "anon-1", "C1", 2)]
    assert {who for _, who in by_customers["events"]} == {"C1"}


def test_the_merge_is_counted_and_shown(ws: segmint.Workspace, files: Path) -> None:
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,anonymous_id
        E1,page_view,2024-01-01T00:00:00Z,anon-1""",
    )
    write_csv(files / "c.csv", "customer_id,anonymous_id,country\nC1,anon-1,US")
    ws.ingest("events", files / "e.csv")
    result = ws.ingest("customers", files / "c.csv")
    assert (result.profiles_created, result.merges) == (1, 1)
    view = ws.customer("anon-1")
    assert view.customer_id == "C1"
    assert view.merged_from[0]["events_moved"] == 1
    assert ws.stats()["profiles"] == 1


def test_anonymous_events_loaded_after_attach_to_the_customer(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(files / "c.csv", "customer_id,anonymous_id\nC1,anon-1")
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,anonymous_id
        E1,page_view,2024-01-01T00:00:00Z,anon-1""",
    )
    assert ws.ingest("customers", files / "c.csv").merges == 0
    result = ws.ingest("events", files / "e.csv")
    assert (result.profiles_created, result.merges) == (0, 0)
    assert rows(ws, "SELECT p.customer_id FROM events JOIN profiles p USING (pid)") == [("C1",)]


def test_an_id_tied_to_another_customer_stays_with_it(tmp_path: Path) -> None:
    batches: list[list[Event]] = [
        [("E1", "2024-01-01T00:00:00Z", "C1", "anon-1")],
        [("E2", "2024-01-02T00:00:00Z", "C2", "anon-1")],
        [("E3", "2024-01-03T00:00:00Z", "", "anon-1")],
    ]
    by_events, by_customers = _both_ways(tmp_path, batches)
    assert by_customers == by_events
    assert by_customers["identities"] == [("anonymous_id", "anon-1", "C1")]
    assert by_customers["merges"] == []
    assert dict(by_customers["events"]) == {"E1": "C1", "E2": "C2", "E3": "C1"}


def test_in_one_file_the_first_row_wins(ws: segmint.Workspace, files: Path) -> None:
    write_csv(files / "c.csv", "customer_id,anonymous_id\nC2,anon-1\nC1,anon-1")
    ws.ingest("customers", files / "c.csv")
    assert ws.customer("anon-1").customer_id == "C2"


def test_an_empty_anonymous_id_is_missing(ws: segmint.Workspace, files: Path) -> None:
    write_csv(files / "c.csv", 'customer_id,anonymous_id\nC1,\nC2," "\nC3, anon-3 ')
    write_jsonl(
        files / "c.jsonl",
        [
            {"customer_id": "C4", "anonymous_id": ""},
            {"customer_id": "C5", "anonymous_id": None},
            {"customer_id": "C6", "anonymous_id": 66},
        ],
    )
    first = ws.ingest("customers", files / "c.csv")
    second = ws.ingest("customers", files / "c.jsonl")
    assert (first.accepted, first.rejected, second.accepted, second.rejected) == (3, 0, 3, 0)
    assert sorted(
        rows(ws, "SELECT value, p.customer_id FROM identities JOIN profiles p USING (pid)")
    ) == [
        ("66", "C6"),
        ("anon-3", "C3"),
    ]
    # An identifier, never a custom attribute.
    assert rows(ws, "SELECT name FROM attributes WHERE name = 'anonymous_id'") == []


def test_an_anonymous_id_that_is_not_a_name_is_rejected(ws: segmint.Workspace, files: Path) -> None:
    write_jsonl(
        files / "c.jsonl",
        [{"customer_id": "C1", "anonymous_id": ["a"]}, {"customer_id": "C2", "anonymous_id": "b"}],
    )
    result = ws.ingest("customers", files / "c.jsonl")
    assert (result.accepted, result.rejected) == (1, 1)
    assert rows(ws, "SELECT value FROM identities") == [("b",)]


def test_a_customers_file_without_the_column_ties_no_anonymous_id(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,anonymous_id,email
        E1,page_view,2024-01-01T00:00:00Z,anon-1,
        E2,page_view,2024-01-01T00:00:00Z,,a@x.com""",
    )
    write_csv(files / "c.csv", "customer_id,email,plan\nC1,A@x.com,pro")
    ws.ingest("events", files / "e.csv")
    result = ws.ingest("customers", files / "c.csv")
    # The email still ties (and merges its anonymous profile); the anonymous id does not.
    assert (result.profiles_created, result.merges) == (1, 1)
    assert ws.customer("anon-1").customer_id is None
    assert ws.customer("C1").attributes["email"] == "A@x.com"
    assert rows(ws, "SELECT via_kind FROM identity_merges") == [("email",)]
    assert rows(ws, "SELECT name FROM attributes WHERE NOT builtin") == [("plan",)]
