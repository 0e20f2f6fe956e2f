"""The CLV fits end to end: CDNOW orders loaded through `segmint ingest orders`, then
`segmint models`, must give the published parameters (docs/traits.md, "Correctness")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segmint
from segmint.cli import app

DATA = Path(__file__).parents[1] / "data" / "CDNOW_sample.txt"
# Calibration ends with 1997-09-30 (39 weeks from 1997-01-01); purchases at 00:00 that day
# count, so T for a first purchase on 1997-01-01 is 272 days (38.86 weeks), as published.
AS_OF = "1997-09-30T00:00:00Z"

# Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", weekly unit.
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "loglik": -9582.4}
# Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves".
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def orders_csv(folder: Path) -> Path:
    """The sample's transactions as an orders file: one order per line of the sample."""
    lines = ["order_id,customer_id,ordered_at,total"]
    for i, raw in enumerate(DATA.read_text().splitlines()):
        _, customer, day, _, dollars = raw.split()
        stamp = f"{day[:4]}-{day[4:6]}-{day[6:]}T00:00:00Z"
        lines.append(f"o{i},{int(customer)},{stamp},{dollars}")
    path = folder / "cdnow_orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cdnow")
    ws = segmint.init(root / "ws")
    with ws:
        result = ws.ingest("orders", orders_csv(root))
        assert (result.accepted, result.rejected) == (6919, 0)
    return root / "ws"


def test_models_reproduce_the_published_cdnow_fits(cdnow: Path) -> None:
    out = CliRunner().invoke(
        app, ["-w", str(cdnow), "models", "--as-of", AS_OF, "--time-unit", "week"]
    )
    assert out.exit_code == 0, out.output
    models = json.loads(out.stdout)
    assert set(models) == {"bgnbd", "gamma_gamma"}
    assert set(models["bgnbd"]) == {"r", "alpha", "a", "b", "loglik", "customers"}
    assert set(models["gamma_gamma"]) == {"p", "q", "v", "customers"}
    for key, published in BGNBD.items():
        assert models["bgnbd"][key] == pytest.approx(published, rel=0.01), key
    for key, published in GAMMA_GAMMA.items():
        assert models["gamma_gamma"][key] == pytest.approx(published, rel=0.01), key
    # 2,357 customers; 946 of them bought again within the calibration period.
    assert models["bgnbd"]["customers"] == 2357
    assert models["gamma_gamma"]["customers"] == 946


def test_time_unit_changes_only_alpha_and_loglik(cdnow: Path) -> None:
    with segmint.open(cdnow) as ws:
        days = ws.models(AS_OF, "day")["bgnbd"]
        weeks = ws.models(AS_OF, "week")["bgnbd"]
    for key in ("r", "a", "b"):
        assert days[key] == pytest.approx(weeks[key], rel=1e-9)
    assert days["alpha"] == pytest.approx(7 * weeks["alpha"], rel=1e-9)
    assert days["loglik"] != pytest.approx(weeks["loglik"])


def test_clv_traits_at_the_calibration_end(cdnow: Path) -> None:
    with segmint.open(cdnow) as ws:
        traits = ws.traits(AS_OF, output="pandas").set_index("customer_id")
    assert len(traits) == 2357
    buyers = traits[traits.orders_count > 0]
    assert len(buyers) == 2357
    # BG/NBD: one-time buyers are alive with certainty; repeat buyers less so.
    one_time = buyers[buyers.orders_count == 1]
    assert (one_time.p_alive == 1.0).all()
    assert buyers.p_alive.between(0, 1).all() and buyers.p_alive.min() < 0.5
    assert (buyers.predicted_orders_365d > 0).all()
    assert (buyers.predicted_clv_365d > 0).all()
    # Value tiers: 5 % VIP (ties to the better tier, so at least 5 %).
    vip = (buyers.value_tier == "vip").sum()
    assert 0.05 * len(buyers) <= vip < 0.06 * len(buyers)


def test_models_need_enough_data(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    ws.close()
    out = CliRunner().invoke(app, ["-w", str(tmp_path / "ws"), "models", "--as-of", AS_OF])
    assert out.exit_code == 2
    assert out.stderr.startswith("error: ")
    assert "BG/NBD" in out.stderr and out.stderr.count("\n") == 1
