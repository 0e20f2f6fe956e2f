"""CLV predictions are stored per as_of, and a rule only ever reads those of its own as_of
(issue 15, point 5): in one session, across refreshes, in the printed SQL, read-only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

import segmint
from segmint.segments.query import parse_as_of
from segmint.traits.expressions import TraitSettings
from segmint.traits.models import fit, predictions, read_summary
from tests.conftest import db, run_cli, write_csv
from tests.traits.test_models import orders_file

X = "2025-10-01T00:00:00Z"
Y = "2026-03-01T00:00:00Z"
RULE = "p_alive > 0.5"


@pytest.fixture
def shop(ws_dir: Path, files: Path) -> Path:
    with segmint.open(ws_dir) as ws:
        ws.ingest("orders", orders_file(files, 300))
    return ws_dir


def expected(root: Path, as_of: str, threshold: float = 0.5) -> int:
    """Customers with p_alive > threshold at as_of, from an independent fit (a fresh
    read-only connection; nothing the workspace stored or cached)."""
    when: datetime = parse_as_of(as_of)
    with segmint.open(root, read_only=True) as ws:
        settings = TraitSettings.from_config(ws.config)
        summary = read_summary(db(ws), when, settings)
    alive = predictions(fit(summary, when), summary).column("p_alive").to_numpy()
    return int((alive > threshold).sum())


def test_each_as_of_reads_its_own_predictions_in_one_session(shop: Path) -> None:
    want_x, want_y = expected(shop, X), expected(shop, Y)
    assert want_x != want_y  # else the test could not see a stale read
    with segmint.open(shop) as ws:
        evaluator = ws.evaluator()
        assert evaluator.count(RULE, X) == want_x
        assert evaluator.count(RULE, Y) == want_y
        assert evaluator.count(RULE, X) == want_x  # X again, after Y was fitted
        assert ws.count(RULE, X) == want_x
        members = evaluator.members(RULE, Y, columns=["p_alive"]).to_pandas()
        assert len(members) == want_y and (members.p_alive > 0.5).all()


def test_each_refresh_reads_the_predictions_of_its_as_of(shop: Path) -> None:
    want = {a: {"alive": expected(shop, a), "very-alive": expected(shop, a, 0.8)} for a in (X, Y)}
    with segmint.open(shop) as ws:
        ws.add_segment("alive", RULE)
        ws.add_segment("very-alive", "p_alive > 0.8")
        sizes = {}
        for as_of in (X, Y):
            runs = ws.refresh(as_of=as_of).runs
            sizes[as_of] = {r.name: r.size for r in runs}
        assert ws.count(RULE, X) == want[X]["alive"]  # X's fit, read again
        assert ws.refresh(as_of=Y).runs[0].entered == 0  # Y's again: no change
    assert sizes == want


def test_the_printed_sql_runs_on_the_workspace_as_printed(shop: Path) -> None:
    cases = [
        (RULE, X),
        (RULE, Y),
        ('value_tier = "vip"', Y),
        ('churn_risk = "high"', X),
        ("predicted_clv_365d > 50", Y),
    ]
    for rule, as_of in cases:
        printed = run_cli(shop, "segment", "sql", "--rule", rule, "--as-of", as_of)
        assert printed.returncode == 0 and printed.stderr == "", printed.stderr
        con = duckdb.connect(str(shop / "segmint.duckdb"), read_only=True)
        try:
            rows = con.execute(f"SELECT count(*) FROM ({printed.stdout})").fetchone()
        finally:
            con.close()
        with segmint.open(shop, read_only=True) as ws:
            assert rows == (ws.count(rule, as_of),), (rule, as_of)
    counted = run_cli(shop, "segment", "count", "--rule", RULE, "--as-of", X)
    assert int(counted.stdout) == expected(shop, X)


def test_a_read_only_session_fits_for_itself_and_stores_nothing(shop: Path) -> None:
    want_x, want_y = expected(shop, X), expected(shop, Y)
    with segmint.open(shop, read_only=True) as ws:
        assert ws.count(RULE, X) == want_x
        assert ws.count(RULE, Y) == want_y
        assert ws.count(RULE, X) == want_x
        assert "clv_predictions" not in ws.sql(RULE, X)
    with segmint.open(shop, read_only=True) as ws:
        assert db(ws).execute("SELECT count(*) FROM clv_fits").fetchone() == (0,)


def test_a_read_only_session_reads_stored_predictions(shop: Path) -> None:
    done = run_cli(shop, "models", "--as-of", X)
    assert done.returncode == 0, done.stderr
    want = expected(shop, X)
    with segmint.open(shop, read_only=True) as ws:
        assert db(ws).execute("SELECT count(*) FROM clv_fits").fetchone() == (1,)
        assert ws.count(RULE, X) == want
        assert "WHERE" in ws.sql(RULE, X) and "clv_predictions" in ws.sql(RULE, X)


def test_segment_sql_beside_a_reader_says_the_predictions_are_not_stored(shop: Path) -> None:
    from tests.test_read_only import holder

    with holder(shop, read_only=True):
        printed = run_cli(shop, "segment", "sql", "--rule", RULE, "--as-of", X)
    assert printed.returncode == 0, printed.stderr
    assert printed.stderr.count("\n") == 1
    assert "segmint models --as-of 2025-10-01T00:00:00Z" in printed.stderr


def test_new_data_is_a_new_fit(shop: Path, files: Path) -> None:
    with segmint.open(shop) as ws:
        ws.fitted_models(Y)  # stored
        before = ws.count(RULE, Y)
        more = "order_id,customer_id,ordered_at,total\n" + "\n".join(
            f"N{c},C{c},2026-02-20T00:00:00Z,30" for c in range(150)
        )
        ws.ingest("orders", write_csv(files / "more.csv", more))
        after = ws.count(RULE, Y)
        # The stored fit is for the old data: not read, and the count stored nothing.
        assert db(ws).execute("SELECT count(*) FROM clv_fits").fetchone() == (1,)
    assert after == expected(shop, Y) and after != before
