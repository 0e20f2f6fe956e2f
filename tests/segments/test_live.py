"""Live segments (segments/live.py): after each batch of tracking messages, the live
segments re-evaluated for the touched profiles only hold exactly the members a full
evaluation finds, on seeded random batches with new customers, anonymous browsing, ties
and merges; entries and exits go to the history and nothing is recorded when nobody
moved."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import segmint
from tests.conftest import rows

RULES = {
    "buyers": "did order_completed",
    "pros": 'plan = "pro"',
    "big-spenders": "sum(revenue) of order_completed > 200",
    "pro-buyers": "in segment pros and in segment buyers",
}


def _batch(rng: random.Random, n: int, start: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        k = rng.randrange(30)
        user, anon = f"U{k}", f"a{k}"
        ts = f"2026-11-{1 + rng.randrange(20):02d}T10:00:00Z"
        pick = rng.random()
        if pick < 0.25:
            msg = {
                "type": "identify",
                "userId": user,
                "traits": {"plan": rng.choice(["free", "pro"])},
            }
            if rng.random() < 0.5:
                msg["anonymousId"] = anon  # ties the anonymous browsing: a merge
        elif pick < 0.5:
            msg = {"type": "page", "anonymousId": anon, "name": "Home", "timestamp": ts}
        else:
            msg = {"type": "track", "userId": user, "event": "order_completed", "timestamp": ts,
                   "properties": {"revenue": rng.randrange(10, 150)}}  # fmt: skip
        msg["messageId"] = f"m{start + i}"
        out.append(msg)
    return out


def _stored(ws: segmint.Workspace, name: str) -> set[str]:
    found = rows(
        ws,
        "SELECT p.customer_id FROM segment_members m JOIN profiles p USING (pid) WHERE m.name = ?",
        [name],
    )
    return {r[0] for r in found}


def test_live_membership_equals_a_full_evaluation_after_every_batch(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    rng = random.Random(5)
    ws.ingest_messages(_batch(rng, 40, 0))
    for name, rule in RULES.items():
        ws.add_segment(name, rule, live=True)
    ws.add_segment("not-live", "did page_viewed")
    assert set(ws.live_segments(unrefreshed=True)) == set(RULES)
    ws.refresh(list(RULES))
    assert ws.live_segments(unrefreshed=True) == []
    changed = 0
    for round_ in range(8):
        messages = _batch(rng, 25, 1000 * (round_ + 1))
        loaded = ws.ingest_messages(messages)
        customers = sorted({m["userId"] for m in messages if "userId" in m})
        anonymous = sorted({m["anonymousId"] for m in messages if "anonymousId" in m})
        result = ws.update_live(customers, anonymous, [r.load_id for r in loaded.loads])
        assert result.touched > 0
        changed += result.changes
        for name, rule in RULES.items():
            expected = set(ws.members(rule).column("customer_id").to_pylist())
            assert _stored(ws, name) == expected, (round_, name)
    assert changed > 0
    history = rows(ws, "SELECT count(*) FROM segment_changes WHERE name = 'buyers'")[0][0]
    assert history >= len(_stored(ws, "buyers"))
    # The segment that is not live was not touched by the live updates.
    assert rows(ws, "SELECT count(*) FROM segment_members WHERE name = 'not-live'") == [(0,)]
    ws.close()


def test_an_update_that_moves_nobody_records_nothing(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    ws.ingest_messages(
        [{"type": "identify", "userId": "U1", "traits": {"plan": "pro"}, "messageId": "m1"}]
    )
    ws.add_segment("pros", 'plan = "pro"', live=True)
    ws.refresh(["pros"])
    before = rows(ws, "SELECT count(*) FROM refreshes")
    done = ws.ingest_messages(
        [{"type": "identify", "userId": "U1", "traits": {"plan": "pro"}, "messageId": "m2"}]
    )
    result = ws.update_live(["U1"], [], [r.load_id for r in done.loads])
    assert (result.touched, result.refresh_id, result.changes) == (1, 0, 0)
    assert rows(ws, "SELECT count(*) FROM refreshes") == before
    done = ws.ingest_messages(
        [{"type": "identify", "userId": "U1", "traits": {"plan": "free"}, "messageId": "m3"}]
    )
    result = ws.update_live(["U1"], [], [r.load_id for r in done.loads])
    assert result.refresh_id > 0 and result.changes == 1
    assert [r.exited for r in result.runs] == [1]
    assert _stored(ws, "pros") == set()
    ws.close()


def test_a_live_segment_never_refreshed_waits_for_its_first_refresh(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    done = ws.ingest_messages(
        [{"type": "identify", "userId": "U1", "traits": {"plan": "pro"}, "messageId": "m1"}]
    )
    ws.add_segment("pros", 'plan = "pro"', live=True)
    result = ws.update_live(["U1"], [], [r.load_id for r in done.loads])
    assert result.refresh_id == 0 and result.touched == 0
    assert ws.live_segments(unrefreshed=True) == ["pros"]
    ws.close()
