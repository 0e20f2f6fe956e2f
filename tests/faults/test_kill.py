"""SIGKILL at every write path, before, inside and after COMMIT: the workspace that opens
afterwards is exactly as before the command or exactly as after it (every table, the
rejects files and the segment files), never something between.

Kills inside COMMIT are placed by watching the write-ahead log (tests/faults/harness.py):
at its first bytes, at fractions of its final size, and just after it stopped growing
(the checkpoint). These tests are slow (about 2 s per kill) and run in CI.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import duckdb
import pytest

import segmint
from tests.conftest import db
from tests.engines import drop
from tests.faults.harness import Snapshot, run, snapshot

pytestmark = pytest.mark.slow

CUSTOMERS = 40_000
EVENTS = 300_000
AS_OF = "2026-06-01T00:00:00Z"
SEGMENTS = {
    "viewers": "did page_view at least 2 times in last 90 days",
    "buyers": "orders_count >= 1",
    "de": 'country = "DE"',
}


def _write(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> Path:
    con.execute(f"COPY ({query}) TO '{path}' (HEADER)")
    return path


def make_inputs(folder: Path) -> dict[str, Path]:
    """Customers, events (a few bad rows) and orders, and a second batch of each for the
    loads that get killed."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    out: dict[str, Path] = {}
    for batch, offset in (("", 0), ("2", 1)):
        out["customers" + batch] = _write(
            con,
            f"SELECT 'C' || (i + {offset * CUSTOMERS // 2}) AS customer_id, "
            "'c' || i || '@example.com' AS email, ['DE','US','FR'][1 + i % 3] AS country, "
            "TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i) AS created_at, "
            f"(i % 7) * {offset + 1} AS points FROM range({CUSTOMERS}) t(i)",
            folder / f"customers{batch}.csv",
        )
        out["events" + batch] = _write(
            con,
            f"SELECT 'E{batch}-' || i AS event_id, ['page_view','app_open','email_opened']"
            "[1 + i % 3] AS event, CASE WHEN i % 50000 = 7 THEN 'not-a-time' ELSE "
            "strftime(TIMESTAMPTZ '2025-06-01 00:00:00+00' + to_seconds(i * 40), "
            "'%Y-%m-%dT%H:%M:%SZ') END AS timestamp, "
            f"'C' || ((i * 7) % {CUSTOMERS * 2}) AS customer_id, 'web' || (i % 4) AS channel "
            f"FROM range({EVENTS}) t(i)",
            folder / f"events{batch}.csv",
        )
        out["orders" + batch] = _write(
            con,
            f"SELECT 'O{batch}-' || i AS order_id, 'C' || ((i * 13) % {CUSTOMERS}) AS "
            "customer_id, strftime(TIMESTAMPTZ '2025-07-01 00:00:00+00' + to_minutes(i * 17), "
            "'%Y-%m-%dT%H:%M:%SZ') AS ordered_at, round(10 + (i % 300) * 1.25, 2) AS total, "
            "CASE WHEN i % 2 = 0 THEN 'USD' ELSE 'EUR' END AS currency "
            f"FROM range({CUSTOMERS // 2}) t(i)",
            folder / f"orders{batch}.csv",
        )
    out["rates"] = _write(
        con, "SELECT 'USD' AS currency, 0.9 AS rate, '2025-01-01' AS valid_from",
        folder / "rates.csv",
    )  # fmt: skip
    # A correction of the rate and a new one: every stored USD order is converted again.
    out["rates2"] = _write(
        con,
        "SELECT * FROM (VALUES ('USD', 0.95, '2025-01-01'), ('USD', 0.8, '2025-08-01')) "
        "v(currency, rate, valid_from)",
        folder / "rates2.csv",
    )
    # The first batch of orders again: a third refunded, a third partly refunded.
    out["orders_updated"] = _write(
        con,
        "SELECT o.* REPLACE (CASE WHEN i % 3 = 0 THEN 'refunded' ELSE 'completed' END AS "
        "status), CASE WHEN i % 3 = 1 THEN 5 END AS refunded_amount FROM (SELECT *, "
        f"row_number() OVER () AS i, 'completed' AS status FROM read_csv('{out['orders']}')) o",
        folder / "orders_updated.csv",
    )
    return out


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """A workspace with the first batch loaded, segments saved and refreshed once."""
    root = tmp_path_factory.mktemp("faults")
    inputs = make_inputs(root / "in")
    with segmint.init(root / "base") as ws:
        for kind in ("customers", "events", "rates", "orders"):
            ws.ingest(kind, inputs[kind])
        for name, rule in SEGMENTS.items():
            ws.add_segment(name, rule)
        ws.refresh(as_of="2026-01-01T00:00:00Z")
    return root / "base", inputs


def copy_of(base: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(base, dest)
    return dest


def check_kills(
    base: Path, work: Path, args: list[str], path: str, extra_points: tuple[str, ...] = ()
) -> int:
    """Run ``args`` to completion once (the "after" state, the log's final size), then kill
    it at each point; every killed workspace must equal the before or the after state.
    Returns how many kills landed inside COMMIT (the log partly written)."""
    before = snapshot(copy_of(base, work / "before"))
    full = copy_of(base, work / "full")
    done = run(full, *args)
    assert done.returncode == 0, done.stderr
    after = snapshot(full, volatile=False)
    assert after != snapshot(copy_of(base, work / "b2"), volatile=False), "nothing changed"
    top = max(done.wal_max, 1)
    points: list[tuple[str, dict[str, object]]] = [
        (f"{path}:before-commit", {"kill_at": f"{path}:before-commit"}),
        (f"{path}:after-commit", {"kill_at": f"{path}:after-commit"}),
        (f"{path}:after-checkpoint", {"kill_at": f"{path}:after-checkpoint"}),
        *((p, {"kill_at": p}) for p in extra_points),
        ("log: first bytes", {"wal_bytes": 1}),
        *((f"log: {f:.0%}", {"wal_bytes": int(top * f)}) for f in (0.3, 0.6, 0.9)),
        ("log: 5 ms after it stopped growing", {"after_wal_ms": 5.0}),
    ]
    inside = 0
    for label, how in points:
        target = copy_of(base, work / "killed")
        outcome = run(target, *args, **how)  # type: ignore[arg-type]
        inside += outcome.killed and 0 < outcome.wal_at_kill < done.wal_max
        try:
            state = snapshot(target)
        except Exception as exc:  # the workspace did not open: say which kill did that
            raise AssertionError(
                f"{' '.join(args)} killed at {label} (log {outcome.wal_at_kill:,} of "
                f"{done.wal_max:,} bytes): {exc}"
            ) from exc
        assert state == before or snapshot(target, volatile=False) == after, (
            f"{' '.join(args)} killed at {label} (log {outcome.wal_at_kill:,} of "
            f"{done.wal_max:,} bytes): neither the state before nor after\n"
            f"{_diff(state, before, after)}"
        )
        if label.endswith("before-commit"):
            assert outcome.killed and state == before, label
        if label.endswith(("after-commit", "after-checkpoint")):
            assert outcome.killed, label
        if label.endswith("after-checkpoint"):
            assert snapshot(target, volatile=False) == after, label
    return inside


def _diff(state: Snapshot, before: Snapshot, after: Snapshot) -> str:
    return "\n".join(
        f"  {key}: got {state.get(key)}, before {before.get(key)}, after {after.get(key)}"
        for key in sorted(set(state) | set(before))
        if state.get(key) != before.get(key)
    )


@pytest.mark.parametrize(
    ("kind", "into"),
    [
        ("events", "empty"),
        ("events", "shop"),
        ("customers", "shop"),
        ("orders", "shop"),
        ("orders_updated", "shop"),
        ("rates2", "shop"),
    ],
)
def test_a_killed_load_leaves_the_state_before_or_after(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path, kind: str, into: str
) -> None:
    """The first load into an empty workspace is the case DuckDB's optimistic writes got
    wrong (events without their profiles and load row)."""
    base, inputs = shop
    if into == "empty":
        base = tmp_path / "empty"
        segmint.init(base).close()
    extra = ("ingest:before-rejects-rename",) if kind == "events" else ()
    # Order updates replace stored orders and their events; a rates load converts the
    # stored orders again: both write to existing rows.
    loads = {"orders_updated": "orders", "rates2": "rates"}
    given = inputs[kind] if kind in loads else inputs[kind + "2"]
    args = ["ingest", loads.get(kind, kind), str(given)]
    inside = check_kills(base, tmp_path, args, "ingest", extra)
    # The log of these loads is several MB: some kills must have landed inside COMMIT.
    assert inside >= 1


def test_the_rejects_of_a_load_killed_before_their_rename_are_kept(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    base, inputs = shop
    target = copy_of(base, tmp_path / "ws")
    outcome = run(
        target, "ingest", "events", str(inputs["events2"]), kill_at="ingest:before-rejects-rename"
    )
    assert outcome.killed
    assert [p.name for p in (target / "rejects").iterdir() if p.name.startswith(".")]
    with segmint.open(target) as ws:
        con = db(ws)
        row = con.execute(
            "SELECT rejected, rejects_file FROM loads ORDER BY load_id DESC LIMIT 1"
        ).fetchone()
    assert row is not None and row[0] == EVENTS // 50000
    lines = Path(row[1]).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + row[0] and all("not-a-time" in line for line in lines[1:])
    assert not [p for p in (target / "rejects").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("args", "path"),
    [
        # Incremental for "viewers" and "de": the kept measures' changes are written in
        # the refresh's transaction; --full writes them afresh.
        (["refresh", "--as-of", AS_OF], "refresh"),
        (["refresh", "--full", "--as-of", AS_OF], "refresh"),
        (["optimize"], "optimize"),
        (["cluster", "--k", "3", "--as-of", AS_OF, "--sample", "5000"], "cluster"),
        (["segment", "retire", "de"], "retire"),
        # Stores the CLV fit at AS_OF (this shop's buyers never buy twice: a fit whose
        # predictions are all empty, written all the same).
        (["segment", "sql", "--rule", "p_alive > 0.5", "--as-of", AS_OF], "clv"),
    ],
    ids=["refresh", "refresh-full", "optimize", "cluster", "retire", "clv"],
)
def test_a_killed_write_leaves_the_state_before_or_after(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path, args: list[str], path: str
) -> None:
    base, _ = shop
    check_kills(base, tmp_path, args, path)


def test_a_killed_campaign_creation_leaves_no_half_audience(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    base, _ = shop
    args = ["campaign", "create", "spring", "--segment", "de", "--segment", "buyers"]
    args += ["--goal", "did page_view", "--holdout", "20%", "--starts", "2026-01-01"]
    check_kills(base, tmp_path, args, "campaign")


def test_a_killed_results_import_leaves_the_results_before_or_after(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    base, _ = shop
    with_campaign = copy_of(base, tmp_path / "with-campaign")
    create = ["campaign", "create", "spring", "--segment", "de", "--goal", "did page_view"]
    assert run(with_campaign, *create, "--starts", "2026-01-01").returncode == 0
    results = tmp_path / "results.csv"
    rows = [f"C{i},true,{i % 2 == 0},{i % 7}" for i in range(0, 40_000, 3)]
    results.write_text("customer_id,sent,converted,revenue\n" + "\n".join(rows) + "\n")
    args = ["campaign", "import-results", "spring", str(results)]
    check_kills(with_campaign, tmp_path / "k", args, "campaign-results")


def test_a_killed_key_creation_leaves_the_key_whole_or_absent(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    """A key is random, so the "after" state leaves out its hash, prefix and time
    (harness.VOLATILE): the key's row is there with its name and scope, or not at all."""
    base, _ = shop
    check_kills(base, tmp_path, ["keys", "create", "tracker", "--scope", "admin"], "keys")


def test_a_killed_suppression_leaves_the_list_before_or_after(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    base, _ = shop
    check_kills(base, tmp_path, ["suppress", "add", "c5@example.com", "C7"], "suppress")


def test_a_killed_export_keeps_the_ledger_whole_and_the_next_delta_complete(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    """The file is renamed into place before the ledger commits: a kill leaves the ledger
    as before (the next delta sends the same changes again) or as after, and the file
    whole either way."""
    base, _ = shop
    out = tmp_path / "de.csv"
    args = ["export", "de", "--to", "csv", "--delta", "--out", str(out)]
    check_kills(base, tmp_path, args, "export", extra_points=("export:files-written",))
    target = copy_of(base, tmp_path / "again")
    assert run(target, *args, kill_at="export:files-written").killed
    full = out.read_text().splitlines()
    assert len(full) > 1 and full[0].endswith(",change")
    # The ledger did not record it, so the next delta is the same full first sync.
    assert run(target, *args).returncode == 0
    assert out.read_text().splitlines() == full


def test_a_killed_backfill_keeps_every_finished_refresh_whole(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    """A backfill is one refresh per date, each its own transaction: a kill leaves the
    state after some number of whole refreshes."""
    base, _ = shop
    dates = ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"]
    states = [snapshot(copy_of(base, tmp_path / "s0"), volatile=False)]
    step = copy_of(base, tmp_path / "steps")
    for date in dates:
        assert run(step, "refresh", "--as-of", date).returncode == 0
        states.append(snapshot(step, volatile=False))
    args = ["refresh", "--backfill", "--from", "2026-02-01", "--to", "2026-04-01", "--every"]
    args.append("28d")
    seen = set()
    points = ({"kill_at": "refresh:after-checkpoint"}, {"wal_bytes": 1}, {"after_wal_ms": 30.0})
    for how in points:
        target = copy_of(base, tmp_path / "killed")
        outcome = run(target, *args, **how)  # type: ignore[arg-type]
        state = snapshot(target, volatile=False)
        assert state in states, f"killed at {how} ({outcome}): not the state after whole refreshes"
        seen.add(states.index(state))
    assert seen - {0}, "no kill left a finished refresh behind"


@pytest.mark.parametrize("command", ["segment add", "cluster save"])
def test_a_killed_segment_save_leaves_no_half_file(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path, command: str
) -> None:
    base, _ = shop
    if command == "cluster save":
        base = copy_of(base, tmp_path / "clustered")
        with segmint.open(base) as ws:
            run_id = ws.cluster(k=3, as_of=AS_OF, sample=5000).run_id
        args = ["cluster", "save", str(run_id), "0", "--name", "loyal"]
    else:
        args = ["segment", "add", "--name", "loyal", "--rule", "orders_count >= 3"]

    def check_files(root: Path) -> list[str]:
        # A killed writer's hidden temporary file is removed by the next save.
        return sorted(p.name for p in (root / "segments").iterdir() if p.name[0] != ".")

    names_before = check_files(base)
    for point in ("segment:before-rename", "segment:after-rename"):
        target = copy_of(base, tmp_path / "ws")
        outcome = run(target, *args, kill_at=point)
        assert outcome.killed, outcome.stderr
        names = check_files(target)
        if point.endswith("before-rename"):
            assert names == names_before
        else:
            assert names == sorted([*names_before, "loyal.yaml"])
            with segmint.open(target) as ws:
                assert "loyal" in ws.segments.files()
                ws.count(ws.segments.get("loyal").rule, as_of=AS_OF)
        with segmint.open(target) as ws:  # the next save clears what the kill left
            ws.add_segment("another", "orders_count >= 1")
        assert not [p for p in (target / "segments").iterdir() if p.name[0] == "."]


def test_ctrl_c_during_a_load_is_one_line_and_changes_nothing_or_everything(
    shop: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    base, inputs = shop
    args = ["ingest", "events", str(inputs["events2"])]
    before = snapshot(copy_of(base, tmp_path / "before"))
    full = copy_of(base, tmp_path / "full")
    assert run(full, *args).returncode == 0
    after = snapshot(full, volatile=False)
    for how in ({"wal_bytes": 1}, {"wal_bytes": 200_000}, {"after_wal_ms": 0.0}):
        target = copy_of(base, tmp_path / "stopped")
        outcome = run(target, *args, signum=signal.SIGINT, **how)  # type: ignore[arg-type]
        assert outcome.returncode in (0, 130), outcome.stderr
        if outcome.returncode == 130:
            assert outcome.stderr.startswith("error: interrupted"), outcome.stderr
            assert outcome.stderr.count("\n") == 1, outcome.stderr
        state = snapshot(target)
        assert state == before or snapshot(target, volatile=False) == after, how


@pytest.mark.postgres
def test_a_killed_catalog_refresh_leaves_the_catalog_before_or_after(
    postgres_url: str, tmp_path: Path
) -> None:
    """A source workspace's catalog refresh writes its own store (the catalog tables and
    the typed-column map) in one transaction: killed anywhere, it is the old catalog or
    the new one."""
    import pyarrow as pa

    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    engine.create_table(
        "kill_customers", pa.table({"customer_id": ["a", "b"], "country": ["US", "FR"]})
    )
    engine.create_table(
        "kill_events",
        pa.table(
            {
                "customer_id": ["a", "b"],
                "event": ["view", "buy"],
                "timestamp": pa.array([1, 2], pa.timestamp("us", "UTC")),
                "properties": ['{"path": "/"}', '{"sku": 3}'],
                "channel": ["web", "app"],
            }
        ),
    )
    try:
        base = tmp_path / "base"
        segmint.init(base, source=postgres_url).close()
        toml = base / "segmint.toml"
        text = toml.read_text(encoding="utf-8")
        text = text.replace('customers = "customers"', 'customers = "kill_customers"')
        text = text.replace('events = "events"', 'events = "kill_events"')
        text = text.replace("property_columns = []", 'property_columns = ["channel"]')
        toml.write_text(text, encoding="utf-8")
        check_kills(base, tmp_path / "work", ["catalog", "refresh"], "catalog")
    finally:
        drop(engine, "DROP TABLE IF EXISTS kill_customers CASCADE")
        drop(engine, "DROP TABLE IF EXISTS kill_events CASCADE")
        engine.con.close()
