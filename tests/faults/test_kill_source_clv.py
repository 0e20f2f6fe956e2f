"""A CLV fit on a source-mode workspace writes its predictions to the source, then names
them in the workspace's own store: killed between the two, what it wrote is never read,
and the next stored fit replaces it."""

from __future__ import annotations

from pathlib import Path

import pytest

import segmint
from tests.faults.harness import run
from tests.test_source_clv import (
    _clv_shop,
    drop_when_alone,
    own_schema,
    source_tables,
    stored_fits,
)
from tests.test_source_mode import AS_OF, _arrow, _source_workspace


@pytest.mark.postgres
def test_a_clv_fit_killed_before_its_local_commit_is_never_read(
    postgres_url: str, tmp_path: Path
) -> None:
    from segmint.engine.postgres import connect

    engine = connect(postgres_url)
    people, happened = _arrow(_clv_shop(seed=8, customers=200))
    engine.create_table("kclv_customers", people)
    engine.create_table("kclv_events", happened)
    root = tmp_path / "ws"
    try:
        _source_workspace(root, postgres_url).close()
        own_schema(root, "kclv")
        source_tables(root, "kclv_customers", "kclv_events")
        with segmint.open(root) as ws:
            ws.refresh_catalog()
        when = AS_OF.isoformat()
        outcome = run(root, "models", "--as-of", when, kill_at="clv:before-commit")
        assert outcome.killed, outcome.stderr
        # The predictions reached the source as version 1; the local store names no fit.
        found = engine.to_arrow("SELECT DISTINCT v FROM kclv.clv_predictions")
        assert found.column(0).to_pylist() == [1]
        # Make the orphan version unmistakable: had a rule read it, everyone would be
        # nearly dead and worth a fortune.
        engine.run("UPDATE kclv.clv_predictions SET p_alive = 0, predicted_clv_365d = 1e9")
        rules = ["predicted_clv_365d > 1000000", "p_alive < 0.5"]
        with segmint.open(root) as ws:
            assert stored_fits(ws) == []
            counts = [ws.count(rule, as_of=AS_OF) for rule in rules]
            buyers = ws.models(as_of=AS_OF)["bgnbd"]["customers"]
            assert counts[0] == 0 and 0 < counts[1] < buyers, counts
            # models() stored the fit under the same id, replacing the orphan's rows.
            assert [f for f, _ in stored_fits(ws)] == [1]
            assert [ws.count(rule, as_of=AS_OF) for rule in rules] == counts
        top = engine.scalar("SELECT max(predicted_clv_365d) FROM kclv.clv_predictions")
        assert top < 1_000_000
    finally:
        drop_when_alone(engine, ["kclv_customers", "kclv_events"], "kclv")
