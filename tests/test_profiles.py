"""The customer's JSON document: one code path for ``customer show --json`` and Python."""

from __future__ import annotations

import json
from pathlib import Path

import segmint
from tests.conftest import run_cli, write_csv

AS_OF = "2026-03-01T00:00:00Z"


def shop_with_a_segment(root: Path, files: Path) -> None:
    write_csv(
        files / "c.csv", "customer_id,email,plan\nC1,ada@example.com,pro\nC2,bob@example.com,free"
    )
    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total
        O1,C1,2026-01-05T10:00:00Z,40.50
        O2,C1,2026-02-10T10:00:00Z,19.99
        O3,C2,2026-02-11T10:00:00Z,5""",
    )
    with segmint.open(root) as ws:
        ws.ingest("customers", files / "c.csv")
        ws.ingest("orders", files / "o.csv")
        ws.add_segment("repeaters", "did order_completed at least 2 times")
        ws.add_segment("pros", 'plan = "pro"')
        ws.refresh(as_of="2026-01-10T00:00:00Z")
        ws.refresh(as_of=AS_OF)


def test_python_to_json_is_the_text_customer_show_json_prints(ws_dir: Path, files: Path) -> None:
    shop_with_a_segment(ws_dir, files)
    printed = run_cli(ws_dir, "customer", "show", "ada@example.com", "--json", "--as-of", AS_OF)
    assert printed.returncode == 0, printed.stderr
    with segmint.open(ws_dir) as ws:
        view = ws.customer("ada@example.com", as_of=AS_OF)
    assert isinstance(view.to_json(), str)
    assert printed.stdout == view.to_json() + "\n"
    document = json.loads(printed.stdout)
    assert document == view.to_dict()
    assert document["customer_id"] == "C1"
    assert {"kind": "email", "value": "ada@example.com"} in document["identities"]
    assert document["traits"]["orders_count"] == 2
    assert document["traits"]["revenue_total"] == 60.49
    assert document["segments"] == ["pros", "repeaters"]
    changes = [(c["segment"], c["change"], c["as_of"]) for c in document["segment_changes"]]
    assert changes == [
        ("repeaters", "entered", "2026-03-01T00:00:00Z"),
        ("pros", "entered", "2026-01-10T00:00:00Z"),
    ]
    assert [e["event_id"] for e in document["recent_events"]] == ["O2", "O1"]
