"""The segment builder in a real browser: a rule built by clicking (a nested OR inside an
AND, an event with a where-filter and a window, a NOT), its live count equal to the API's
count of the same rule, the text form and back without loss, save, and the saved segment
in the list and in the workspace."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow
import pytest

import segmint
from tests.server.conftest import Server, serving


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    rng = random.Random(5)
    ids = [f"C{i}" for i in range(200)]
    now = datetime.now(UTC)
    root = tmp_path / "ws"
    with segmint.init(root) as ws:
        ws.ingest(
            "customers",
            pyarrow.table(
                {
                    "customer_id": ids,
                    "country": [rng.choice(["US", "FR", "DE"]) for _ in ids],
                    "plan": [rng.choice(["free", "pro"]) for _ in ids],
                }
            ),
        )
        n = 1500
        ws.ingest(
            "events",
            pyarrow.table(
                {
                    "event_id": [f"e{i}" for i in range(n)],
                    "event": [rng.choice(["page_view", "order_completed"]) for _ in range(n)],
                    "timestamp": [now - timedelta(days=rng.uniform(0, 90)) for _ in range(n)],
                    "customer_id": [rng.choice(ids) for _ in range(n)],
                    "channel": [rng.choice(["email", "ads", "direct"]) for _ in range(n)],
                }
            ),
        )
    with serving(root) as server:
        yield server


def _count(page: Any) -> str:
    counted = page.get_by_test_id("live-count").locator("strong")
    counted.wait_for()
    return str(counted.inner_text())


def _settle(page: Any) -> str:
    """The live count once it stops changing (the debounce, then the API's answer)."""
    last = None
    for _ in range(40):
        page.wait_for_timeout(150)
        now = _count(page)
        if now == last:
            return now
        last = now
    raise AssertionError("the live count did not settle")


def test_build_count_text_and_save(page: Any, served: Server) -> None:
    page.goto(served.url + "/")
    page.get_by_label("API key").fill(served.keys["write"])
    page.get_by_role("button", name="Open").click()
    page.get_by_role("link", name="New segment").click()
    first = page.locator(".condition").nth(0)
    first.get_by_label("Attribute", exact=True).select_option("country")
    first.get_by_label("Attribute value").fill("US")
    # A nested OR group inside the AND: an event with a where-filter and a window ...
    page.get_by_role("button", name="Add group").click()
    event = page.locator("fieldset.group.or .condition").nth(0)
    event.get_by_label("Condition on").select_option("event")
    event.get_by_label("Event").select_option("page_view")
    event.get_by_label("Times operator").select_option("ge")
    event.get_by_label("Times value").fill("2")
    event.get_by_label("Window").select_option("last N days")
    event.get_by_label("Days").fill("30")
    event.get_by_role("button", name="Add filter").click()
    event.get_by_label("Property", exact=True).select_option("channel")
    event.get_by_label("Property value").fill("email")
    # ... or NOT plan = "pro".
    page.locator("fieldset.group.or").get_by_role("button", name="Add condition").click()
    plan = page.locator("fieldset.group.or .condition").nth(1)
    plan.get_by_label("Attribute", exact=True).select_option("plan")
    plan.get_by_label("Attribute value").fill("pro")
    plan.get_by_role("button", name="Negate (NOT)").click()
    shown = _settle(page)
    page.get_by_role("tab", name="Text").click()
    text = page.get_by_label("Rule").input_value()
    assert text == (
        'country = "US" and (did page_view where channel = "email" at least 2 times in last '
        '30 days or not plan = "pro")'
    )
    with served.client("read") as http:
        expected = http.get("/v1/count", params={"rule": text}).json()["count"]
    assert shown == f"{expected:,}" and expected > 0
    # Back to the builder: the tree is the same (the text round-trips through the API).
    page.get_by_role("tab", name="Builder").click()
    assert page.locator(".not .condition").count() == 1
    assert page.locator("fieldset.where .row").count() == 1
    assert _settle(page) == shown
    page.get_by_role("tab", name="Text").click()
    assert page.get_by_label("Rule").input_value() == text
    # An edit in the text shows in the builder.
    page.get_by_label("Rule").fill(text.replace('"US"', '"FR"'))
    page.wait_for_timeout(600)
    page.get_by_role("tab", name="Builder").click()
    assert page.locator(".condition").nth(0).get_by_label("Attribute value").input_value() == "FR"
    page.get_by_label("Name").fill("email-browsers")
    page.get_by_role("button", name="Save segment").click()
    page.get_by_role("heading", name="Segments").wait_for()
    page.locator(".name", has_text="email-browsers").wait_for()
    with served.client("read") as http:
        saved = http.get("/v1/segments/email-browsers/count").json()["count"]
        again = http.get("/v1/count", params={"rule": text.replace('"US"', '"FR"')}).json()
    assert saved == again["count"]


def test_an_invalid_text_shows_the_error_at_its_node(page: Any, served: Server) -> None:
    page.goto(served.url + "/")
    page.get_by_label("API key").fill(served.keys["read"])
    page.get_by_role("button", name="Open").click()
    page.get_by_role("link", name="New segment").click()
    page.get_by_role("tab", name="Text").click()
    page.get_by_label("Rule").fill('country = "US" and countri = "FR"')
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "rule.and[1].attr" in alert.inner_text() and "country" in alert.inner_text()
    assert page.get_by_role("button", name="Save segment").is_disabled()
