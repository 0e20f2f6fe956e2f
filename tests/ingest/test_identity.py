from __future__ import annotations

from pathlib import Path

import segmint
from tests.conftest import rows, write_csv


def profile_of(ws: segmint.Workspace, event_id: str) -> str | None:
    got = rows(
        ws,
        "SELECT p.customer_id FROM events e JOIN profiles p USING (pid) WHERE e.event_id = ?",
        [event_id],
    )
    assert len(got) == 1
    return got[0][0]


def test_anonymous_profile_merges_when_its_id_is_tied_later(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(
        files / "a.csv",
        """event_id,event,timestamp,anonymous_id
        E1,page_view,2024-01-01T00:00:00Z,anon-1
        E2,page_view,2024-01-02T00:00:00Z,anon-1""",
    )
    write_csv(
        files / "b.csv",
        """event_id,event,timestamp,customer_id,anonymous_id
        E3,signed_up,2024-01-03T00:00:00Z,C1,anon-1
        E4,page_view,2024-01-04T00:00:00Z,,anon-1""",
    )
    first = ws.ingest("events", files / "a.csv")
    assert first.profiles_created == 1
    assert profile_of(ws, "E1") is None  # an anonymous profile
    second = ws.ingest("events", files / "b.csv")
    assert second.merges == 1
    assert {profile_of(ws, e) for e in ("E1", "E2", "E3", "E4")} == {"C1"}
    assert ws.stats()["profiles"] == 1
    assert rows(ws, "SELECT via_kind, via_value, events_moved FROM identity_merges") == [
        ("anonymous_id", "anon-1", 2)
    ]
    view = ws.customer("anon-1")
    assert view.customer_id == "C1"
    assert view.merged_from[0]["events_moved"] == 2
    assert view.event_counts == {"page_view": 3, "signed_up": 1}


def test_a_tie_anywhere_in_a_file_claims_the_files_anonymous_events(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,customer_id,anonymous_id
        E1,page_view,2024-01-01T00:00:00Z,,anon-1
        E2,login,2024-01-02T00:00:00Z,C1,anon-1""",
    )
    result = ws.ingest("events", files / "e.csv")
    assert (result.profiles_created, result.merges) == (1, 0)
    assert profile_of(ws, "E1") == "C1"


def test_two_known_customers_are_never_merged(ws: segmint.Workspace, files: Path) -> None:
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,customer_id,anonymous_id
        E1,login,2024-01-01T00:00:00Z,C1,shared-device
        E2,login,2024-01-02T00:00:00Z,C2,shared-device
        E3,page_view,2024-01-03T00:00:00Z,,shared-device""",
    )
    ws.ingest("events", files / "e.csv")
    stats = ws.stats()
    assert (stats["profiles"], stats["customers"], stats["merges"]) == (2, 2, 0)
    # The anonymous id stays with its first (earliest) tie.
    assert profile_of(ws, "E3") == "C1"
    assert profile_of(ws, "E2") == "C2"


def test_email_only_events_attach_by_email_or_create_a_profile_that_merges_later(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(files / "c.csv", "customer_id,email\nC1,Ada@Example.com")
    write_csv(
        files / "e.csv",
        """event_id,event,timestamp,email
        E1,email_opened,2024-01-01T00:00:00Z,ada@example.com
        E2,email_opened,2024-01-01T00:00:00Z,bob@example.com""",
    )
    ws.ingest("customers", files / "c.csv")
    result = ws.ingest("events", files / "e.csv")
    assert result.profiles_created == 1
    assert profile_of(ws, "E1") == "C1"
    assert profile_of(ws, "E2") is None
    write_csv(files / "c2.csv", "customer_id,email,first_name\nC2,bob@example.com,Bob")
    merged = ws.ingest("customers", files / "c2.csv")
    assert merged.merges == 1
    assert profile_of(ws, "E2") == "C2"
    assert ws.customer("bob@example.com").attributes["first_name"] == "Bob"


def test_unknown_customer_ids_create_bare_profiles(ws: segmint.Workspace, files: Path) -> None:
    write_csv(files / "o.csv", "order_id,customer_id,ordered_at,total\nO1,C9,2024-01-01,5")
    result = ws.ingest("orders", files / "o.csv")
    assert result.profiles_created == 1
    assert rows(ws, "SELECT customer_id, email FROM profiles") == [("C9", None)]


def test_several_profiles_merging_into_one_keep_the_earliest_and_latest_event(
    ws: segmint.Workspace, files: Path
) -> None:
    write_csv(
        files / "a.csv",
        """event,timestamp,customer_id,anonymous_id
        page_view,2025-01-10T00:00:00Z,,a1
        page_view,2025-03-10T00:00:00Z,,a2
        page_view,2025-09-01T00:00:00Z,,a2
        page_view,2025-04-10T00:00:00Z,c1,""",
    )
    write_csv(
        files / "b.csv",
        """event,timestamp,customer_id,anonymous_id
        login,2025-05-01T00:00:00Z,c1,a1
        login,2025-05-02T00:00:00Z,c1,a2""",
    )
    ws.ingest("events", files / "a.csv")
    assert ws.ingest("events", files / "b.csv").merges == 2
    # Both merged profiles count: a1 has the earliest event, a2 the latest.
    assert rows(ws, "SELECT first_event_at::VARCHAR, last_event_at::VARCHAR FROM profiles") == [
        ("2025-01-10 00:00:00+00", "2025-09-01 00:00:00+00")
    ]
