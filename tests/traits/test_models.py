"""How the CLV models behave on awkward data: degenerate fits, free orders, caching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import segmint
from segmint.errors import ModelError
from tests.conftest import db, write_csv

AS_OF = "2026-03-01T00:00:00Z"


def test_a_degenerate_bgnbd_fit_is_reported_not_used(tmp_path: Path) -> None:
    # Every buyer orders every 20 days and none drops out: one shared purchase rate, so the
    # likelihood has a flat ridge, the fit runs to the edge of r's range and the
    # predictions would overflow.
    rng = np.random.default_rng(3)
    start = np.datetime64("2025-01-01T00:00:00")
    lines, n = ["order_id,customer_id,ordered_at,total"], 0
    for c in range(200):
        at = start + np.timedelta64(int(rng.integers(0, 21)), "D")
        while at < np.datetime64("2026-02-20T00:00:00"):
            n += 1
            lines.append(f"O{n},C{c},{at}Z,{int(rng.integers(10, 51))}")
            at += np.timedelta64(20, "D")
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = segmint.init(tmp_path / "ws")
    ws.ingest("orders", tmp_path / "o.csv")
    result = ws.traits_result(AS_OF)
    assert result.models.bgnbd is None
    assert any("BG/NBD fit is degenerate" in w for w in result.warnings)
    table = result.table.to_pandas()
    assert table.p_alive.isna().all() and table.predicted_clv_365d.isna().all()
    with pytest.raises(ModelError, match="degenerate"):
        ws.count("predicted_orders_365d > 1", AS_OF)
    ws.close()


def orders_file(files: Path, customers: int, free: str | None = None) -> Path:
    """Orders of a shop whose buyers have their own purchase rates and drop out: what the
    models expect. ``free``'s repeat orders cost nothing."""
    rng = np.random.default_rng(11)
    start = np.datetime64("2025-01-01T00:00:00")
    lines = ["order_id,customer_id,ordered_at,total"]
    for c in range(customers):
        rate, life = rng.gamma(0.8, 1 / 20), rng.exponential(200)
        t = float(rng.uniform(0, 100))
        k = 0
        while t < min(life, 420):
            total = 0 if (f"C{c}" == free and k) else int(rng.integers(5, 80))
            stamp = start + np.timedelta64(int(t * 86400), "s")
            lines.append(f"O{c}-{k},C{c},{stamp}Z,{total}")
            t, k = t + float(rng.exponential(1 / rate)), k + 1
    return write_csv(files / "o.csv", "\n".join(lines))


def test_free_repeat_orders_do_not_stop_the_spend_model(ws: segmint.Workspace, files: Path) -> None:
    ws.ingest("orders", orders_file(files, 300, free="C3"))
    models = ws.fitted_models(AS_OF)
    assert models.bgnbd is not None and models.gamma_gamma is not None, models.problem
    repeat = ws.traits(AS_OF, output="pandas").set_index("customer_id")
    repeat = repeat[repeat.orders_count > 1]
    assert "C3" in repeat.index
    # C3's repeat orders were free: left out of the fit, still predicted.
    assert models.gamma_gamma.customers == len(repeat) - 1
    traits = ws.traits(AS_OF, output="pandas").set_index("customer_id")
    assert traits.loc["C5", "predicted_clv_365d"] > 0


def test_a_spend_model_without_paid_repeat_orders_says_what_is_missing(
    ws: segmint.Workspace, files: Path
) -> None:
    lines = ["order_id,customer_id,ordered_at,total"]
    for c in range(30):  # 30 repeat buyers; all but 3 repeat orders are free
        lines.append(f"O{c}-a,C{c},2026-01-0{1 + c % 9}T10:00:00Z,20")
        lines.append(f"O{c}-b,C{c},2026-02-1{c % 9}T10:00:00Z,{5 if c < 3 else 0}")
    ws.ingest("orders", write_csv(files / "o.csv", "\n".join(lines)))
    models = ws.fitted_models(AS_OF)
    assert models.gamma_gamma is None and models.problem is not None
    assert (
        "cannot fit Gamma-Gamma: 30 customers with a repeat purchase, only 3 with a positive "
        "average repeat order value (repeat orders worth 0 are left out); it needs at least 10"
    ) in models.problem


def test_models_are_fitted_once_per_as_of_and_data(ws: segmint.Workspace, files: Path) -> None:
    def fits() -> list[tuple[Any, ...]]:
        return db(ws).execute("SELECT fit_id, as_of, fingerprint FROM clv_fits").fetchall()

    ws.ingest("orders", orders_file(files, 300))
    first = ws.count("p_alive > 0.5", AS_OF)
    assert fits() == []  # a count stores nothing: the fit is the session's
    ws.fitted_models(AS_OF)
    stored = fits()
    assert len(stored) == 1
    assert ws.count("p_alive > 0.5", AS_OF) == first
    ws.fitted_models(AS_OF)
    assert fits() == stored
    # A load changes the data: the next evaluation fits again, under a new fingerprint.
    more = "order_id,customer_id,ordered_at,total\nX1,C1,2025-12-01,99"
    ws.ingest("orders", write_csv(files / "more.csv", more))
    ws.fitted_models(AS_OF)
    after = fits()
    assert len(after) == 2 and after[1][2] != stored[0][2]


def test_old_fits_are_pruned(ws: segmint.Workspace, files: Path) -> None:
    from segmint.traits.models import KEEP_FITS

    ws.ingest("orders", orders_file(files, 60))
    days = [f"2026-01-{d:02d}T00:00:00Z" for d in range(1, KEEP_FITS + 4)]
    for day in days:
        ws.fitted_models(day)
    kept = db(ws).execute("SELECT min(fit_id), count(*) FROM clv_fits").fetchone()
    assert kept == (4, KEEP_FITS)
    ids = db(ws).execute("SELECT DISTINCT fit_id FROM clv_predictions ORDER BY 1").fetchall()
    assert [i for (i,) in ids] == list(range(4, KEEP_FITS + 4))
    ws.fitted_models(days[0])  # fitted again when asked for
    assert db(ws).execute("SELECT max(fit_id) FROM clv_fits").fetchone() == (KEEP_FITS + 4,)


def test_a_rule_on_an_email_rate_without_email_events_says_why(tmp_path: Path) -> None:
    """No email was ever sent: the rate has no value for anyone, so the rule is an error
    when evaluated (not an empty answer), yet it can be saved for data that comes later."""
    with segmint.init(tmp_path / "ws") as ws:
        ws.ingest(
            "events",
            pa.table({"event": ["page_view"], "timestamp": ["2026-01-01T00:00:00Z"],
                      "customer_id": ["C1"]}),
        )  # fmt: skip
        rule = "email_open_rate_90d >= 0.3"
        for attempt in (lambda: ws.count(rule), lambda: ws.count(f"not {rule}")):
            with pytest.raises(ModelError, match="counts 'email_sent' events, and none have"):
                attempt()
        ws.add_segment("engaged", rule)
        assert ws.refresh(as_of="2026-02-01T00:00:00Z").runs[0].status == "failed"
        assert ws.members('country = "US"', columns=["email_open_rate_90d"]).num_rows == 0
