"""The segments page in a real browser: the key form, the list with the sizes the API
gives, filtering, sorting, retiring with a write key and refusing it with a read key,
at desktop and phone width; the key never appears in a URL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow
import pytest

import segmint
from tests.server.conftest import Server, serving


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "ws"
    with segmint.init(root) as ws:
        ws.ingest(
            "customers",
            pyarrow.table({"customer_id": ["C1", "C2", "C3"], "country": ["US", "FR", "US"]}),
        )
        ws.ingest(
            "events",
            pyarrow.table(
                {
                    "event_id": ["e1", "e2", "e3"],
                    "event": ["page_view"] * 3,
                    "timestamp": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)],
                    "customer_id": ["C1", "C1", "C2"],
                }
            ),
        )
        ws.add_segment("us", 'country = "US"', title="United States")
        ws.add_segment("viewers", "did page_view")
        ws.add_segment("everyone", "country is set", live=True)
        ws.refresh(as_of="2026-02-01")
    with serving(root) as server:
        yield server


def _open(page: Any, server: Server, scope: str) -> None:
    page.goto(server.url + "/")
    page.get_by_label("API key").fill(server.keys[scope])
    page.get_by_role("button", name="Open").click()
    page.get_by_role("heading", name="Segments").wait_for()


def _names(page: Any) -> list[str]:
    rows = page.locator("tbody tr th .name")
    rows.first.wait_for()
    return [str(t) for t in rows.all_inner_texts()]


def test_the_segments_page_lists_what_the_api_lists(page: Any, served: Server) -> None:
    with served.client("read") as http:
        listed = http.get("/v1/segments").json()["segments"]
    _open(page, served, "read")
    assert _names(page) == sorted(s["name"] for s in listed)
    for s in listed:
        row = page.locator("tbody tr", has=page.locator(".name", has_text=s["name"]))
        assert row.locator("td.num").inner_text() == f"{s['state']['size']:,}"
    live = page.locator("tbody tr", has=page.locator(".name", has_text="everyone"))
    assert "live" in live.inner_text()
    # Filter by title, then sort by size, largest first.
    page.get_by_label("Filter").fill("united")
    assert _names(page) == ["us"]
    page.get_by_label("Filter").fill("")
    page.get_by_role("button", name="Size").click()
    page.get_by_role("button", name="Size").click()
    sizes = {s["name"]: s["state"]["size"] for s in listed}
    assert _names(page) == sorted(sizes, key=lambda n: (-sizes[n], n))
    assert served.keys["read"] not in page.url


def test_retiring_needs_a_write_key(page: Any, served: Server) -> None:
    _open(page, served, "read")
    page.get_by_role("button", name="Retire viewers").click()
    assert "write" in page.get_by_role("alert").inner_text()
    page.get_by_role("button", name="Sign out").click()
    _open(page, served, "write")
    page.get_by_role("button", name="Retire viewers").click()
    row = page.locator("tbody tr", has=page.locator(".name", has_text="viewers"))
    row.locator(".state.retired").wait_for()
    with served.client("read") as http:
        listed = http.get("/v1/segments").json()["segments"]
    states = {s["name"]: s["state"]["status"] for s in listed}
    assert states["viewers"] == "retired"


def test_the_page_fits_a_phone(page: Any, served: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    _open(page, served, "read")
    # The table scrolls inside its box; the page itself does not scroll sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert _names(page)
