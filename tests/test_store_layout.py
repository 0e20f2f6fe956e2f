"""Event ordering (`segmint optimize`) and schema upgrades of older workspaces."""

from __future__ import annotations

from pathlib import Path

import pytest

import segmint
from segmint.errors import WorkspaceError
from tests.conftest import db, rows, write_csv

EVENTS = """event_id,event,timestamp,customer_id
E1,page_view,2026-03-02T00:00:00Z,C1
E2,app_open,2026-03-01T00:00:00Z,C2
E3,page_view,2026-03-01T00:00:00Z,C2
E4,app_open,2026-02-01T00:00:00Z,C1"""


def test_optimize_orders_events_and_changes_no_answer(ws: segmint.Workspace, files: Path) -> None:
    ws.ingest("events", write_csv(files / "e.csv", EVENTS))
    rule = "did page_view in last 30 days and not did app_open from 40 to 20 days ago"
    before = ws.count(rule, as_of="2026-03-10T00:00:00Z")
    result = ws.optimize()
    assert (result.rows, result.names, result.already_sorted) == (4, 2, False)
    assert rows(ws, "SELECT event_id FROM events") == [("E4",), ("E2",), ("E3",), ("E1",)]
    assert ws.count(rule, as_of="2026-03-10T00:00:00Z") == before == 1
    assert ws.optimize().already_sorted
    ws.ingest(
        "events",
        write_csv(
            files / "f.csv",
            "event_id,event,timestamp,customer_id\nE5,app_open,2026-01-01T00:00:00Z,C3",
        ),
    )
    assert not ws.optimize().already_sorted
    assert rows(ws, "SELECT event_id FROM events")[0] == ("E5",)


def test_a_version_1_workspace_is_upgraded_when_opened(tmp_path: Path, files: Path) -> None:
    ws = segmint.init(tmp_path / "old")
    ws.ingest("events", write_csv(files / "e.csv", EVENTS))
    # What version 1 did not have: the event names catalog, the segment state (v3) and
    # the cluster runs (v4), rates, orders and stored CLV predictions (v5), the
    # suppressions, export ledger and webhook outbox (v6), campaigns (v7), API keys (v8),
    # the bases of incremental refresh (v9).
    db(ws).execute("DROP TABLE event_names")
    older = (*SEGMENT_TABLES, *CLUSTER_TABLES, *V5_TABLES, *V6_TABLES, *V7_TABLES, *V8_TABLES)
    for table in (*older, *V9_TABLES):
        db(ws).execute(f"DROP TABLE {table}")
    db(ws).execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    ws.close()
    with segmint.open(tmp_path / "old") as again:
        assert rows(again, "SELECT event FROM event_names ORDER BY 1") == [
            ("app_open",),
            ("page_view",),
        ]
        assert rows(again, "SELECT value FROM meta WHERE key = 'schema_version'") == [("9",)]
        for table in (*CLUSTER_TABLES, *V5_TABLES, *V6_TABLES, *V7_TABLES, *V8_TABLES):
            assert rows(again, f"SELECT count(*) FROM {table}") == [(0,)]
        for table in V9_TABLES:
            assert rows(again, f"SELECT count(*) FROM {table}") == [(0,)]
        assert again.count("did app_open", as_of="2026-03-10T00:00:00Z") == 2
        again.add_segment("openers", "did app_open")
        assert again.refresh(as_of="2026-03-10T00:00:00Z").runs[0].size == 2
        # The upgraded workspace refreshes incrementally from then on.
        later = again.refresh(as_of="2026-03-11T00:00:00Z").runs[0]
        assert (later.size, later.mode) == (2, "incremental")


V9_TABLES = ("segment_measure_bases", "segment_bases")
SEGMENT_TABLES = (
    "segment_versions",
    "segment_state",
    "refreshes",
    "segment_runs",
    "segment_members",
    "segment_changes",
)

CLUSTER_TABLES = ("cluster_runs", "cluster_members")
V5_TABLES = ("rates", "orders", "clv_fits", "clv_predictions")
V6_TABLES = ("suppressions", "exports", "export_sent", "webhook_messages", "webhook_endpoints")
V7_TABLES = ("campaigns", "campaign_members", "campaign_results")
V8_TABLES = ("api_keys",)


def test_a_newer_workspace_is_refused(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "new")
    db(ws).execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    ws.close()
    with pytest.raises(WorkspaceError, match="schema version 99, which this segmint"):
        segmint.open(tmp_path / "new").stats()
