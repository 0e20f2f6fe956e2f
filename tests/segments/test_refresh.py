"""Living segments: refresh, membership history, versions, retire, backfill and schedule.

Real workspaces only: a random store (tests/rules/random_store.py) with segments of every
kind refreshed at increasing as_of values, the demo shop with its saved segments, and a
tiny shop whose CLV models cannot be fitted.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import segmint
from segmint.demo.tour import build_demo
from segmint.errors import NotFoundError
from segmint.segments.refresh import RefreshResult
from tests.conftest import db, write_csv, write_jsonl
from tests.rules.random_store import build_store


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


AS_OFS = (utc(2025, 9, 1), utc(2025, 11, 30, 8), utc(2026, 1, 15), utc(2026, 3, 1))

# One saved segment per kind of node; "best" and "engaged_repeat" sort before the segments
# they refer to, so a refresh in name order would read stale memberships.
RULES = {
    "us": 'country = "US"',
    "viewers": "did product_view at least 2 times in last 30 days",
    "spenders": "sum(revenue) of order_completed in last 90 days > 200",
    "app_recent": "last app_open within last 14 days",
    "cooling": "trend of product_view over 60 days <= -0.5",
    "quiet": "not did email_opened in last 60 days",
    "repeat": "orders_count >= 2",
    "champions": 'rfm_segment = "Champions"',
    "engaged_repeat": "in segment repeat and did product_view in last 90 days",
    "best": "in segment engaged_repeat or in segment champions",
}


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "segmint", "-w", str(root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def member_ids(ws: segmint.Workspace, rule: Any, as_of: datetime | str) -> set[str]:
    return set(ws.members(rule, as_of).column("customer_id").to_pylist())


def stored_members(ws: segmint.Workspace, names: Any) -> dict[str, set[str]]:
    """The members kept in the store, by segment (a profile that is gone shows its pid)."""
    found: dict[str, set[str]] = {name: set() for name in names}
    con = db(ws)
    rows = con.execute(
        "SELECT m.name, coalesce(p.customer_id, 'pid ' || m.pid) FROM segment_members m "
        "LEFT JOIN profiles p USING (pid)"
    ).fetchall()
    for name, customer in rows:
        found.setdefault(name, set()).add(customer)
    return found


def count(ws: segmint.Workspace, table: str) -> int:
    row = db(ws).execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def replay(rows: list[dict[str, Any]], until: datetime) -> set[str]:
    """Members after applying the history up to ``until``; every change must make sense."""
    members: set[str] = set()
    for row in rows:
        if row["as_of"] > until:
            continue
        who = row["customer_id"]
        if row["change"] == "entered":
            assert who not in members, row
            members.add(who)
        else:
            assert row["change"] == "exited" and who in members, row
            members.remove(who)
    return members


def copy_workspace(root: Path, folder: Path) -> Path:
    return Path(shutil.copytree(root, folder / "copy"))


def segment_file(root: Path, name: str) -> Path:
    return root / "segments" / f"{name}.yaml"


# --- a random store, refreshed at four increasing as_of values -----------------------


@dataclass
class Living:
    root: Path
    results: list[RefreshResult]
    stored: list[dict[str, set[str]]]  # segment_members after each refresh
    fresh: list[dict[str, set[str]]]  # ws.members of each rule at each as_of
    changes: list[int]  # rows of segment_changes after each refresh


def load_late_data(ws: segmint.Workspace, folder: Path) -> None:
    """Data that arrives between two refreshes: a new US customer and recent events."""
    write_jsonl(
        folder / "late_customers.jsonl",
        [{"customer_id": "late-1", "country": "US", "created_at": "2026-01-02T00:00:00Z"}],
    )
    events = [
        {"event": "product_view", "timestamp": f"2026-01-{day:02d}T10:00:00Z", "customer_id": who}
        for who in ("late-1", "c0001", "c0002", "c0003")
        for day in (10, 12)
    ]
    write_jsonl(folder / "late_events.jsonl", events)
    ws.ingest("customers", folder / "late_customers.jsonl")
    ws.ingest("events", folder / "late_events.jsonl")


@pytest.fixture(scope="module")
def living(tmp_path_factory: pytest.TempPathFactory) -> Living:
    folder = tmp_path_factory.mktemp("living")
    ws = build_store(folder, seed=11).ws
    for name, rule in RULES.items():
        ws.add_segment(name, rule, title=f"Segment {name}")
    living = Living(folder / "ws", [], [], [], [])
    for i, as_of in enumerate(AS_OFS):
        if i == 2:
            load_late_data(ws, folder)
        living.results.append(ws.refresh(as_of=as_of))
        living.stored.append(stored_members(ws, RULES))
        living.fresh.append({name: member_ids(ws, rule, as_of) for name, rule in RULES.items()})
        living.changes.append(count(ws, "segment_changes"))
    ws.close()
    return living


def test_stored_members_equal_a_fresh_evaluation_after_every_refresh(living: Living) -> None:
    for as_of, stored, fresh in zip(AS_OFS, living.stored, living.fresh, strict=True):
        assert stored == fresh, as_of
    # The data exercises every segment, and the late data is picked up.
    assert all(any(stored[name] for stored in living.stored) for name in RULES)
    assert "late-1" in living.stored[2]["us"] and "late-1" not in living.stored[1]["us"]
    assert "late-1" in living.stored[2]["viewers"]


def test_each_run_counts_its_size_and_the_entries_and_exits_since_the_last(
    living: Living,
) -> None:
    previous: dict[str, set[str]] = {name: set() for name in RULES}
    for result, members in zip(living.results, living.stored, strict=True):
        assert sorted(r.name for r in result.runs) == sorted(RULES)
        for run in result.runs:
            now, before = members[run.name], previous[run.name]
            expected = ("ok", len(now), len(now - before), len(before - now), 1, None)
            assert (run.status, run.size, run.entered, run.exited, run.version, run.error) == (
                expected
            ), (result.as_of, run.name)
        previous = members
    assert sum(r.exited or 0 for r in living.results[-1].runs) > 0


def test_every_refresh_and_run_is_recorded(living: Living) -> None:
    with segmint.open(living.root) as ws:
        con = db(ws)
        refreshes = con.execute(
            "SELECT refresh_id, as_of, segments, failed, seconds, started_at FROM refreshes "
            "ORDER BY refresh_id"
        ).fetchall()
        runs = con.execute(
            "SELECT refresh_id, as_of, name, status, size, entered, exited, version, error "
            "FROM segment_runs ORDER BY refresh_id, name"
        ).fetchall()
    assert [r[:4] for r in refreshes] == [(i + 1, a, len(RULES), 0) for i, a in enumerate(AS_OFS)]
    assert all(r[4] > 0 for r in refreshes)
    assert [r[5] for r in refreshes] == sorted(r[5] for r in refreshes)
    expected = [
        (res.refresh_id, res.as_of, *astuple(r)[:7])  # what segment_runs stores
        for res in living.results
        for r in sorted(res.runs, key=lambda r: r.name)
    ]
    assert runs == expected
    assert [res.refresh_id for res in living.results] == [1, 2, 3, 4]


def test_the_demo_shop_segments_are_stored_as_evaluated(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    build_demo(root, customers=600, seed=3, end=utc(2026, 6, 1))
    with segmint.open(root) as ws:
        rules = {name: d.rule for name, d in ws.segments.all().items()}
        # The demo has refreshed its segments weekly up to its end: go on from there.
        for as_of in (utc(2026, 6, 1), utc(2026, 6, 8)):
            result = ws.refresh(as_of=as_of)
            assert [(r.name, r.status, r.error) for r in result.runs] == [
                (name, "ok", None) for name in rules
            ]
            stored = stored_members(ws, rules)
            for name, rule in rules.items():
                assert stored[name] == member_ids(ws, rule, as_of), (as_of, name)
    assert len(rules) >= 20


# --- membership history ------------------------------------------------------------


def test_history_replays_to_the_members_at_every_as_of(living: Living) -> None:
    with segmint.open(living.root) as ws:
        history = {name: ws.history(name).to_pylist() for name in RULES}
    for name, rows in history.items():
        assert {row["as_of"] for row in rows} <= set(AS_OFS)
        assert [row["as_of"] for row in rows] == sorted(row["as_of"] for row in rows)
        for as_of, stored in zip(AS_OFS, living.stored, strict=True):
            assert replay(rows, as_of) == stored[name], (name, as_of)


def test_history_since_keeps_the_changes_at_or_after_it(living: Living) -> None:
    since = AS_OFS[2]
    with segmint.open(living.root) as ws:
        rows = ws.history("quiet").to_pylist()
        later = ws.history("quiet", since).to_pylist()
        assert ws.history("quiet", "2026-01-15T00:00:00Z").to_pylist() == later
        frame = ws.history("quiet", since, output="pandas")
    assert later == [row for row in rows if row["as_of"] >= since]
    assert 0 < len(later) < len(rows)
    assert list(frame.columns) == ["customer_id", "change", "as_of"]
    assert len(frame) == len(later)


def test_history_storage_grows_with_changes_not_members(living: Living, tmp_path: Path) -> None:
    with segmint.open(living.root) as ws:
        con = db(ws)
        per_run = con.execute(
            "SELECT r.refresh_id, r.name, r.entered + r.exited, count(c.pid) FROM segment_runs r "
            "LEFT JOIN segment_changes c USING (refresh_id, name) "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert all(changes == rows for _, _, changes, rows in per_run)
    sizes = sum(r.size or 0 for result in living.results for r in result.runs)
    assert living.changes[-1] < sizes

    # The same as_of again: sizes recorded, not one change row.
    root = copy_workspace(living.root, tmp_path)
    with segmint.open(root) as ws:
        again = ws.refresh(as_of=AS_OFS[-1])
        assert count(ws, "segment_changes") == living.changes[-1]
        assert count(ws, "segment_runs") == len(RULES) * (len(AS_OFS) + 1)
        assert stored_members(ws, RULES) == living.stored[-1]
    last = {r.name: r.size for r in living.results[-1].runs}
    assert {r.name: (r.status, r.size, r.entered, r.exited) for r in again.runs} == {
        name: ("ok", size, 0, 0) for name, size in last.items()
    }


def test_segment_history_cli_writes_csv_and_jsonl(living: Living, tmp_path: Path) -> None:
    with segmint.open(living.root) as ws:
        rows = ws.history("quiet").to_pylist()
        later = ws.history("quiet", AS_OFS[2]).to_pylist()

    done = cli(living.root, "segment", "history", "quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "customer_id,change,as_of"
    parsed = [
        {**row, "as_of": datetime.fromisoformat(row["as_of"])}
        for row in csv.DictReader(io.StringIO(done.stdout))
    ]
    assert parsed == rows

    out = tmp_path / "quiet.jsonl"
    args = ("segment", "history", "quiet", "--since", "2026-01-15", "-f", "jsonl", "-o", str(out))
    done = cli(living.root, *args)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"wrote {len(later):,} changes to {out}" in done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [{**r, "as_of": datetime.fromisoformat(r["as_of"])} for r in lines] == later

    done = cli(living.root, "segment", "history", "nobody")
    assert done.returncode == 2
    assert done.stderr.startswith("error: no saved segment 'nobody'")


# --- references ----------------------------------------------------------------------


def test_references_read_the_referenced_segment_refreshed_first(
    living: Living, tmp_path: Path
) -> None:
    root = copy_workspace(living.root, tmp_path)
    engaged = "did product_view in last 90 days"
    as_of, later = utc(2026, 4, 1), utc(2026, 4, 10)
    segment_file(root, "repeat").write_text("name: repeat\nrule: orders_count >= 3\n")
    with segmint.open(root) as ws:
        new = member_ids(ws, f"orders_count >= 3 and {engaged}", as_of)
        assert new != member_ids(ws, f"orders_count >= 2 and {engaged}", as_of)
        champions = member_ids(ws, RULES["champions"], as_of)
        result = ws.refresh(as_of=as_of)
        assert not result.failed
        stored = stored_members(ws, RULES)
        assert stored["repeat"] == member_ids(ws, "orders_count >= 3", as_of)
        assert stored["engaged_repeat"] == new
        assert stored["best"] == new | champions

        # Refreshing only the referring segment compiles the (edited) referenced rule inline.
        segment_file(root, "repeat").write_text("name: repeat\nrule: orders_count >= 4\n")
        inline = member_ids(ws, f"orders_count >= 4 and {engaged}", later)
        assert inline != member_ids(ws, f"orders_count >= 3 and {engaged}", later)
        result = ws.refresh(["engaged_repeat"], later)
        assert [(r.name, r.status) for r in result.runs] == [("engaged_repeat", "ok")]
        after = stored_members(ws, RULES)
    assert after["engaged_repeat"] == inline
    assert after["repeat"] == stored["repeat"]


# --- a tiny shop: failures, versions, ordering, retire, schedule -----------------------

AS_OF = "2026-06-01T00:00:00Z"


def tiny_shop(folder: Path) -> Path:
    """Six customers (C1, C3, C5 in the US) and three orders: too few for the CLV models."""
    root = folder / "tiny"
    ws = segmint.init(root)
    customers = [
        {
            "customer_id": f"C{i}",
            "country": "US" if i % 2 else "GB",
            "created_at": "2025-01-01T00:00:00Z",
        }
        for i in range(6)
    ]
    write_jsonl(folder / "customers.jsonl", customers)
    write_csv(
        folder / "orders.csv",
        """order_id,customer_id,ordered_at,total
        O1,C1,2026-05-01T00:00:00Z,120
        O2,C1,2026-05-10T00:00:00Z,80
        O3,C2,2025-12-01T00:00:00Z,40""",
    )
    ws.ingest("customers", folder / "customers.jsonl")
    ws.ingest("orders", folder / "orders.csv")
    ws.add_segment("us", 'country = "US"', title="Customers in the US")
    ws.add_segment("buyers", "did order_completed")
    ws.close()
    return root


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny shop for commands that must change nothing."""
    return tiny_shop(tmp_path_factory.mktemp("idle"))


BAD_FILES = {
    "broken": "name: broken\nrule: [unclosed\n",
    "typo_event": "name: typo_event\nrule: did order_complete in last 7 days\n",
    "typo_attr": 'name: typo_attr\nrule: contry = "US"\n',
    "alive": "name: alive\nrule: p_alive > 0.5\n",
    "alive_us": "name: alive_us\nrule: in segment alive and in segment us\n",
    "loop_a": "name: loop_a\nrule: in segment loop_b\n",
    "loop_b": "name: loop_b\nrule: in segment loop_a\n",
    "misnamed": "name: other\nrule: in segment us\n",
}
BAD_ERRORS = {
    "broken": ["broken.yaml", "invalid YAML at line"],
    "typo_event": ["rule.event", "unknown event 'order_complete'", "'order_completed'"],
    "typo_attr": ["rule.attr", "unknown attribute 'contry'", "'country'"],
    "alive": ["p_alive", "CLV models", "cannot be fitted", "at least 20 customers"],
    "alive_us": ["p_alive", "CLV models", "cannot be fitted"],
    "loop_a": ["segment reference cycle: loop_a -> loop_b -> loop_a"],
    "loop_b": ["segment reference cycle: loop_b -> loop_a -> loop_b"],
    "misnamed": ["must be named other.yaml"],
}


def test_failing_segments_are_marked_failed_and_the_others_refreshed(tmp_path: Path) -> None:
    root = tiny_shop(tmp_path)
    for name, text in BAD_FILES.items():
        segment_file(root, name).write_text(text)
    with segmint.open(root) as ws:
        result = ws.refresh(as_of=AS_OF)
        stored = stored_members(ws, ["us", "buyers"])
        con = db(ws)
        failed_rows = con.execute(
            "SELECT name, status, error, size, version FROM segment_runs WHERE status <> 'ok'"
        ).fetchall()
        recorded = con.execute("SELECT segments, failed FROM refreshes").fetchall()
        versions = con.execute("SELECT DISTINCT name FROM segment_versions").fetchall()
    runs = {r.name: r for r in result.runs}
    assert sorted(runs) == sorted([*BAD_FILES, "us", "buyers"])
    for name, fragments in BAD_ERRORS.items():
        assert runs[name].status == "failed", name
        assert runs[name].size is None
        for fragment in fragments:
            assert fragment in (runs[name].error or ""), (name, fragment)
    assert (runs["us"].status, runs["buyers"].status) == ("ok", "ok")
    assert stored == {"us": {"C1", "C3", "C5"}, "buyers": {"C1", "C2"}}
    assert sorted(failed_rows) == sorted(
        (name, "failed", runs[name].error, None, None) for name in BAD_FILES
    )
    assert recorded == [(len(runs), len(BAD_FILES))]
    assert sorted(versions) == [("buyers",), ("us",)]


def test_a_query_that_fails_at_run_time_fails_only_its_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No valid rule is known to fail in DuckDB once checked, so the query of "boom" is
    # made to raise when it runs: the shared query fails, each segment then runs alone.
    from segmint.segments.refresh import _Plan

    root = tiny_shop(tmp_path)
    plain = _Plan.checked

    def checked(self: Any, names: list[str], sql: str) -> str:
        if "boom" in names:
            return "SELECT pid, error('boom at run time') AS s0 FROM profiles"
        return plain(self, names, sql)

    monkeypatch.setattr(_Plan, "checked", checked)
    with segmint.open(root) as ws:
        ws.add_segment("boom", 'country = "US"')
        result = ws.refresh(as_of=AS_OF)
        stored = stored_members(ws, ["us", "buyers"])
    runs = {r.name: r for r in result.runs}
    assert runs["boom"].status == "failed"
    assert "query failed" in (runs["boom"].error or "") and "boom at run time" in (
        runs["boom"].error or ""
    )
    assert (runs["us"].status, runs["buyers"].status) == ("ok", "ok")
    assert stored == {"us": {"C1", "C3", "C5"}, "buyers": {"C1", "C2"}}


def test_cli_refresh_prints_one_error_line_per_failed_segment_and_exits_1(
    tmp_path: Path,
) -> None:
    root = tiny_shop(tmp_path)
    for name in ("broken", "typo_attr", "alive"):
        segment_file(root, name).write_text(BAD_FILES[name])
    done = cli(root, "refresh", "--as-of", AS_OF)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert [line.split(":")[1] for line in errors] == [
        " segment alive",
        " segment broken",
        " segment typo_attr",
    ]
    assert "unknown attribute 'contry'" in errors[2]
    assert "refreshed 2 segments" in done.stdout and "3 failed" in done.stdout
    with segmint.open(root) as ws:
        statuses = db(ws).execute("SELECT name, status FROM segment_runs ORDER BY name")
        assert statuses.fetchall() == [
            ("alive", "failed"),
            ("broken", "failed"),
            ("buyers", "ok"),
            ("typo_attr", "failed"),
            ("us", "ok"),
        ]


def test_refreshing_an_unknown_name_is_an_error_that_records_nothing(idle: Path) -> None:
    done = cli(idle, "refresh", "usa", "--as-of", AS_OF)
    assert done.returncode == 2
    assert done.stderr.startswith("error: no saved segment 'usa'; did you mean 'us'")
    with segmint.open(idle) as ws:
        with pytest.raises(NotFoundError, match="no saved segment 'usa'"):
            ws.refresh(["usa"], AS_OF)
        assert count(ws, "refreshes") == 0


# --- versions and ordering -------------------------------------------------------------


def test_an_edited_rule_is_a_new_version_an_edited_title_is_not(tmp_path: Path) -> None:
    root = tiny_shop(tmp_path)
    path = segment_file(root, "us")
    with segmint.open(root) as ws:
        first = ws.refresh(["us"], "2026-05-01T00:00:00Z").runs[0]
        path.write_text('name: us\ntitle: Customers in the US\nrule: country = "GB"\n')
        second = ws.refresh(["us"], "2026-05-02T00:00:00Z").runs[0]
        path.write_text('name: us\ntitle: Great Britain\nrule: country = "GB"\n')
        third = ws.refresh(["us"], "2026-05-03T00:00:00Z").runs[0]
        # The same rule in the JSON form has the same definition.
        path.write_text("name: us\nrule: {attr: country, op: eq, value: GB}\n")
        fourth = ws.refresh(["us"], "2026-05-04T00:00:00Z").runs[0]
        con = db(ws)
        runs = con.execute("SELECT version FROM segment_runs ORDER BY refresh_id").fetchall()
        versions = con.execute(
            "SELECT name, version, rule, first_refresh_id FROM segment_versions ORDER BY version"
        ).fetchall()
        members = stored_members(ws, ["us"])["us"]
    assert [r.version for r in (first, second, third, fourth)] == [1, 2, 2, 2]
    assert runs == [(1,), (2,), (2,), (2,)]
    assert [(n, v, json.loads(rule), at) for n, v, rule, at in versions] == [
        ("us", 1, {"attr": "country", "op": "eq", "value": "US"}, 1),
        ("us", 2, {"attr": "country", "op": "eq", "value": "GB"}, 2),
    ]
    assert (second.size, second.entered, second.exited) == (3, 3, 3)
    assert members == {"C0", "C2", "C4"}


def test_history_only_moves_forward(tmp_path: Path) -> None:
    root = tiny_shop(tmp_path)
    with segmint.open(root) as ws:
        ws.refresh(as_of=AS_OF)
        ws.add_segment("gb", 'country = "GB"')
        ws.add_segment("us_buyers", "in segment us and did order_completed")
        result = ws.refresh(as_of="2026-05-01T00:00:00Z")
        stored = stored_members(ws, ["us", "buyers", "gb", "us_buyers"])
        changes = db(ws).execute("SELECT DISTINCT name, as_of FROM segment_changes").fetchall()
    runs = {r.name: r for r in result.runs}
    for name in ("us", "buyers"):
        assert runs[name].status == "failed"
        assert runs[name].error == (
            "already refreshed at a later as_of (2026-06-01T00:00:00Z); history only moves forward"
        )
    assert runs["us_buyers"].status == "failed"
    assert runs["us_buyers"].error == "refers to segment 'us', which failed"
    assert (runs["gb"].status, runs["gb"].size) == ("ok", 3)
    assert stored == {
        "us": {"C1", "C3", "C5"},
        "buyers": {"C1", "C2"},
        "gb": {"C0", "C2", "C4"},
        "us_buyers": set(),
    }
    assert sorted(changes) == [
        ("buyers", utc(2026, 6, 1)),
        ("gb", utc(2026, 5, 1)),
        ("us", utc(2026, 6, 1)),
    ]


# --- retire ----------------------------------------------------------------------------


def test_a_retired_segment_keeps_its_history_and_is_no_longer_refreshed(tmp_path: Path) -> None:
    root = tiny_shop(tmp_path)
    with segmint.open(root) as ws:
        ws.add_segment("us_buyers", "in segment buyers and in segment us")
        ws.refresh(as_of="2026-05-05T00:00:00Z")
        before = ws.history("buyers").to_pylist()
    assert {r["customer_id"] for r in before} == {"C1", "C2"}

    done = cli(root, "segment", "retire", "buyers")
    assert done.returncode == 0, done.stderr
    assert "retired segment buyers" in done.stdout
    done = cli(root, "segment", "retire", "unknown")
    assert done.returncode == 2
    assert done.stderr.startswith("error: no saved segment 'unknown'")
    assert len(done.stderr.splitlines()) == 1

    with segmint.open(root) as ws:
        plain = ws.refresh(as_of=AS_OF)
        named = ws.refresh(["buyers"], AS_OF)
        assert ws.history("buyers").to_pylist() == before
        stored = stored_members(ws, ["buyers", "us_buyers"])
        # The file removed, the history is still there.
        segment_file(root, "buyers").unlink()
        assert ws.history("buyers").to_pylist() == before
    assert [(r.name, r.status) for r in plain.runs] == [("us", "ok"), ("us_buyers", "ok")]
    # The retired segment's rule is inlined for the segments that refer to it.
    assert stored["us_buyers"] == {"C1"}
    assert stored["buyers"] == {"C1", "C2"}
    assert named.runs[0].status == "failed"
    assert "retired" in (named.runs[0].error or "")
    done = cli(root, "segment", "history", "buyers")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 + len(before)


# --- backfill --------------------------------------------------------------------------


def test_backfill_gives_a_new_segment_history_from_day_one(living: Living, tmp_path: Path) -> None:
    root = copy_workspace(living.root, tmp_path)
    rule = "did product_view in last 30 days"
    with segmint.open(root) as ws:
        ws.add_segment("new_viewers", rule)
    args = ("--backfill", "--from", "2026-01-01", "--to", "2026-01-29", "--every", "7d")
    done = cli(root, "refresh", "new_viewers", *args)
    assert done.returncode == 0, done.stderr
    dates = [utc(2026, 1, day) for day in (1, 8, 15, 22, 29)]
    with segmint.open(root) as ws:
        con = db(ws)
        refreshes = con.execute(
            "SELECT refresh_id, as_of, segments FROM refreshes WHERE refresh_id > ? "
            "ORDER BY refresh_id",
            [len(AS_OFS)],
        ).fetchall()
        runs = con.execute(
            "SELECT name, as_of, status FROM segment_runs WHERE refresh_id > ? ORDER BY as_of",
            [len(AS_OFS)],
        ).fetchall()
        history = ws.history("new_viewers").to_pylist()
        fresh = {as_of: member_ids(ws, rule, as_of) for as_of in dates}
    assert [r[1:] for r in refreshes] == [(as_of, 1) for as_of in dates]
    assert runs == [("new_viewers", as_of, "ok") for as_of in dates]
    assert history[0]["as_of"] == dates[0]
    for as_of in dates:
        assert replay(history, as_of) == fresh[as_of], as_of


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--backfill", "--from", "2026-01-29", "--to", "2026-01-01"],
            "error: --to (2026-01-01) is before --from (2026-01-29)",
        ),
        (["--backfill", "--to", "2026-01-29"], "error: --backfill needs --from and --to"),
        (
            ["--backfill", "--from", "2026-01-01", "--to", "2026-01-29", "--every", "0s"],
            "error: --every: must be longer than 0, got '0s'",
        ),
        (
            ["--backfill", "--from", "2026-01-01", "--to", "2026-01-29", "--every", "abc"],
            "error: --every: expected a duration like 1h, 30m, 7d or 1d12h, got 'abc'",
        ),
        (
            ["--backfill", "--from", "January", "--to", "2026-01-29"],
            "error: --from: expected an ISO 8601 date or instant with an offset, got 'January'",
        ),
        (["--every", "abc"], "error: --every: expected a duration like"),
        (["--every", "1h", "--as-of", AS_OF], "error: --every refreshes at the current time"),
    ],
    ids=["to-before-from", "no-from", "zero-step", "bad-step", "bad-from", "bad-every", "as-of"],
)
def test_bad_backfill_and_schedule_options_exit_2_with_one_line(
    idle: Path, args: list[str], message: str
) -> None:
    done = cli(idle, "refresh", *args)
    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert len(done.stderr.splitlines()) == 1
    with segmint.open(idle) as ws:
        assert count(ws, "refreshes") == 0


# --- schedule --------------------------------------------------------------------------


def test_refresh_every_runs_until_ctrl_c_between_refreshes(tmp_path: Path) -> None:
    root = tiny_shop(tmp_path)
    started = datetime.now(UTC)
    # A 2 s interval leaves a long sleep after each quick refresh of this tiny shop, so the
    # signal sent 0.3 s after a refresh's report lands between refreshes.
    cmd = [sys.executable, "-m", "segmint", "-w", str(root), "refresh", "--every", "2s"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )
    try:
        reports = 0
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while reports < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            reports += line.startswith("refreshed 2 segments at ")
        assert reports == 2
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert err.splitlines()[0] == "refreshing every 2s; stop with Ctrl-C"
    assert err.splitlines()[-1] == "stopped between refreshes"
    with segmint.open(root) as ws:
        recorded = db(ws).execute("SELECT as_of, segments, failed FROM refreshes").fetchall()
        runs = count(ws, "segment_runs")
    assert len(recorded) >= 2
    assert runs == 2 * len(recorded)
    finished = datetime.now(UTC)
    assert all(started <= as_of <= finished and (n, f) == (2, 0) for as_of, n, f in recorded)


def test_a_second_refresh_in_a_process_reuses_the_compiled_query(tmp_path: Path) -> None:
    from segmint.segments import query

    ws = build_store(tmp_path, seed=5).ws
    for name, rule in RULES.items():
        ws.add_segment(name, rule)
    ws.refresh(as_of=AS_OFS[0])
    shared = {key for key in query._TEMPLATES if key[0] == "many"}
    assert shared  # the shared query of each level is kept
    second = ws.refresh(as_of=AS_OFS[1])
    assert {key for key in query._TEMPLATES if key[0] == "many"} == shared
    # ... and it is evaluated at the new as_of: the stored members are those of a fresh
    # evaluation there.
    assert not second.failed
    assert stored_members(ws, RULES) == {
        name: member_ids(ws, rule, AS_OFS[1]) for name, rule in RULES.items()
    }
    ws.close()
