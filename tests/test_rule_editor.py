"""What a rule editor needs (``ws.catalog``, ``ws.known_values``, ``ws.check_rule``; the
CLI's ``catalog show|values`` and ``segment check``): the catalog as the workspace knows
it, the most common values against an independent count, and a rule in both forms."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

import segmint
from segmint.errors import ArgumentError, NotFoundError, RuleError
from tests.conftest import run_cli


@pytest.fixture
def shop(tmp_path: Path) -> tuple[segmint.Workspace, list[str], list[str]]:
    rng = random.Random(7)
    plans = [rng.choice(["free", "plus", "pro", None]) for _ in range(300)]
    shoes = [rng.choice(["boots", "heels", "sneakers"]) for _ in range(500)]
    ws = segmint.init(tmp_path / "ws")
    ids = [f"C{i}" for i in range(300)]
    ws.ingest("customers", pa.table({"customer_id": ids, "plan": plans}))
    ws.ingest(
        "events",
        pa.table(
            {
                "event_id": [f"e{i}" for i in range(500)],
                "event": ["product_view"] * 500,
                "timestamp": [datetime(2026, 1, 1, tzinfo=UTC)] * 500,
                "customer_id": [ids[i % 300] for i in range(500)],
                "category": shoes,
                "price": [float(i) for i in range(500)],
            }
        ),
    )
    return ws, [p for p in plans if p], shoes


def test_the_catalog_and_the_most_common_values(
    shop: tuple[segmint.Workspace, list[str], list[str]],
) -> None:
    ws, plans, shoes = shop
    view = ws.catalog()
    assert {"name": "plan", "type": "string", "trait": False} in view.attributes
    assert {"name": "rfm_segment", "type": "string", "trait": True} in view.attributes
    assert view.events == ["product_view"]
    found = {p["name"]: p for p in view.properties}
    assert found["category"] == {"name": "category", "type": "string", "events": ["product_view"]}
    assert found["price"]["type"] == "float"
    expected = sorted(Counter(plans).items(), key=lambda kv: (-kv[1], kv[0]))
    assert ws.known_values("plan") == expected
    assert ws.known_values("plan", 1) == expected[:1]
    # A small table is read whole: the counts are exact.
    assert ws.known_values("category") == sorted(
        Counter(shoes).items(), key=lambda kv: (-kv[1], kv[0])
    )
    assert ws.known_values("price") == [] and ws.known_values("rfm_segment") == []
    with pytest.raises(NotFoundError, match="plan"):
        ws.known_values("plann")
    with pytest.raises(ArgumentError):
        ws.known_values("plan", 0)


def test_a_rule_in_both_forms(shop: tuple[segmint.Workspace, list[str], list[str]]) -> None:
    ws, _, _ = shop
    text = 'plan in ["pro", "plus"] and did product_view where category = "boots"'
    checked = ws.check_rule(text)
    assert ws.check_rule(checked["rule"]) == checked
    assert ws.check_rule(checked["text"]) == checked
    assert checked["rule"]["and"][0] == {"attr": "plan", "op": "in", "value": ["pro", "plus"]}
    with pytest.raises(RuleError) as bad:
        ws.check_rule('did product_view where colour = "red"')
    assert bad.value.location == "rule.where[0].prop"


def test_the_commands(shop: tuple[segmint.Workspace, list[str], list[str]]) -> None:
    ws, plans, _ = shop
    root = ws.root
    ws.close()
    shown = run_cli(root, "catalog", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["events"] == ["product_view"]
    values = run_cli(root, "catalog", "values", "plan", "--limit", "2")
    top = sorted(Counter(plans).items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    assert values.stdout.splitlines() == [f"{n}\t{v}" for v, n in top]
    checked = run_cli(root, "segment", "check", "--rule", 'plan = "pro"')
    assert checked.stdout.splitlines() == [
        'plan = "pro"',
        '{"attr": "plan", "op": "eq", "value": "pro"}',
    ]
    bad = run_cli(root, "segment", "check", "--rule", 'plann = "pro"')
    assert bad.returncode == 2 and "plan" in bad.stderr
