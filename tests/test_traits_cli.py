"""The trait, model and template commands, and traits inside rules, on a demo shop."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

import segmint
from segmint.cli import app
from segmint.demo.tour import build_demo
from segmint.errors import ConfigError, IngestError, ModelError
from segmint.segments.query import parse_as_of
from segmint.segments.templates import TEMPLATES
from segmint.traits.definitions import LIFECYCLE_STAGES, RFM_SEGMENTS, TRAIT_NAMES
from tests.conftest import db, write_csv

END = datetime(2026, 6, 1, tzinfo=UTC)
AS_OF = "2026-06-01T00:00:00Z"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("t") / "shop", customers=600, seed=3, end=END).root


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-w", str(root), *args])


@pytest.fixture
def empty(tmp_path: Path) -> Iterable[Path]:
    ws = segmint.init(tmp_path / "ws")
    write_csv(tmp_path / "o.csv", "order_id,customer_id,ordered_at,total\nO1,C1,2026-01-05,10")
    ws.ingest("orders", tmp_path / "o.csv")
    ws.close()
    yield tmp_path / "ws"


def test_traits_command_writes_every_trait_per_customer(shop: Path, tmp_path: Path) -> None:
    out = run(shop, "traits", "--as-of", AS_OF)
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[0].split(",") == ["customer_id", *TRAIT_NAMES]
    assert len(lines) == 1 + 600
    done = run(
        shop, "traits", "--as-of", AS_OF, "--format", "parquet", "--out", str(tmp_path / "t.pq")
    )
    assert done.exit_code == 0 and "wrote the traits of 600 customers" in done.stderr
    table = pq.read_table(tmp_path / "t.pq").to_pandas()
    assert list(table.columns) == ["customer_id", *TRAIT_NAMES]
    assert table.customer_id.is_monotonic_increasing
    assert set(table.rfm_segment.dropna()) <= set(RFM_SEGMENTS)
    assert set(table.lifecycle_stage) <= set(LIFECYCLE_STAGES)
    buyers = table[table.orders_count > 0]
    assert buyers.p_alive.notna().all() and buyers.value_tier.notna().all()
    assert table[table.orders_count == 0].p_alive.isna().all()
    jsonl = run(shop, "traits", "--as-of", AS_OF, "--format", "jsonl").stdout.splitlines()
    first = json.loads(jsonl[0])
    assert list(first) == ["customer_id", *TRAIT_NAMES]


def test_traits_at_an_earlier_as_of_see_only_earlier_data(shop: Path) -> None:
    with segmint.open(shop) as ws:
        now = ws.traits(AS_OF, output="pandas").set_index("customer_id")
        before = ws.traits("2026-01-01T00:00:00Z", output="pandas").set_index("customer_id")
    assert len(before) <= len(now)
    both = now.loc[before.index]
    assert (before.orders_count <= both.orders_count).all()
    assert (before.last_seen_at.dropna() <= pd_ts("2026-01-01")).all()


def pd_ts(day: str) -> object:
    import pandas as pd

    return pd.Timestamp(day, tz="UTC")


def test_a_rule_on_a_trait_selects_the_customers_whose_trait_holds(shop: Path) -> None:
    with segmint.open(shop) as ws:
        traits = ws.traits(AS_OF, output="pandas")
        for rule, expected in [
            ('rfm_segment = "Champions"', traits.rfm_segment == "Champions"),
            ("p_alive < 0.5", traits.p_alive < 0.5),
            ('value_tier in ["vip", "high"]', traits.value_tier.isin(["vip", "high"])),
            ("days_since_last_order > 90", traits.days_since_last_order > 90),
            ("not email_open_rate_90d >= 0.3", ~(traits.email_open_rate_90d >= 0.3)),
        ]:
            assert ws.count(rule, AS_OF) == int(expected.sum()), rule
        members = ws.members('churn_risk = "high"', AS_OF, columns=["p_alive", "rfm_segment"])
        assert members.column_names == ["customer_id", "p_alive", "rfm_segment"]
        assert members.num_rows == int((traits.churn_risk == "high").sum()) > 0
        # Mixed with behaviour and attributes, and for other engines' SQL.
        assert (
            ws.count('lifecycle_stage = "loyal" and did order_completed in last 365 days', AS_OF)
            > 0
        )
        sql = ws.sql("p_alive > 0.5", AS_OF, "postgres")
        # It reads the stored predictions of the fit at AS_OF, named by its id.
        found = re.search(
            r'FROM "clv_predictions" AS "t\d+"\s+WHERE\s+"t\d+"."fit_id" = (\d+)', sql
        )
        assert found is not None, sql
        fit = "SELECT as_of FROM clv_fits WHERE fit_id = ?"
        assert db(ws).execute(fit, [int(found[1])]).fetchone() == (parse_as_of(AS_OF),)


def test_models_command_and_units(shop: Path) -> None:
    out = run(shop, "models", "--as-of", AS_OF)
    assert out.exit_code == 0, out.output
    models = json.loads(out.stdout)
    assert models["bgnbd"]["customers"] > 0 and models["gamma_gamma"]["customers"] > 0
    weeks = json.loads(run(shop, "models", "--as-of", AS_OF, "--time-unit", "week").stdout)
    assert weeks["bgnbd"]["alpha"] == pytest.approx(models["bgnbd"]["alpha"] / 7)
    assert run(shop, "models", "--time-unit", "month").exit_code == 2


def test_too_little_data_is_a_clear_error_for_models_and_rules(empty: Path) -> None:
    out = run(empty, "models", "--as-of", AS_OF)
    assert out.exit_code == 2
    assert out.stderr.startswith(f"error: at {AS_OF}: cannot fit BG/NBD: 1 customers")
    traits = run(empty, "traits", "--as-of", AS_OF)
    assert traits.exit_code == 0
    assert "warning: CLV traits are empty" in traits.stderr
    with segmint.open(empty) as ws:
        with pytest.raises(ModelError, match="p_alive needs the CLV models"):
            ws.count("p_alive > 0.5", AS_OF)
        # churn_risk falls back to recency (147 days > the fallback at-risk 90 days);
        # plain traits need no model.
        assert ws.count('churn_risk = "medium"', AS_OF) == 1
        assert ws.count("orders_count = 1", AS_OF) == 1


def test_customer_show_includes_traits(shop: Path) -> None:
    with segmint.open(shop) as ws:
        cid = ws.members("orders_count >= 2", AS_OF).column("customer_id")[0].as_py()
    out = run(shop, "customer", "show", cid, "--json", "--as-of", AS_OF)
    view = json.loads(out.stdout)
    assert view["as_of"] == AS_OF
    assert view["traits"]["orders_count"] >= 2
    assert view["traits"]["rfm_segment"] in RFM_SEGMENTS
    assert 0 < view["traits"]["p_alive"] <= 1
    text = run(shop, "customer", "show", cid, "--as-of", AS_OF).stdout
    assert "traits as of 2026-06-01T00:00:00Z" in text and "lifecycle_stage" in text


def test_templates_list_and_add(empty: Path) -> None:
    listed = json.loads(run(empty, "templates", "--json").stdout)
    assert [t["name"] for t in listed] == [t.name for t in TEMPLATES]
    assert all(t["rule"] and t["campaign"] for t in listed)
    names = {t["title"] for t in listed}
    wanted = [
        "Champions", "Loyal", "Potential Loyalist", "New", "At Risk / Risk of Churn",
        "Can't Lose Them", "Hibernating", "Churned / Lost", "Reactivation",
        "VIP by predicted CLV", "High churn risk", "Email-engaged", "Email-dormant",
    ]  # fmt: skip
    assert set(wanted) <= names
    assert {f"lifecycle-{s.replace('_', '-')}" for s in LIFECYCLE_STAGES} <= {
        t["name"] for t in listed
    }
    assert "champions" in run(empty, "templates").stdout
    added = run(empty, "templates", "add", "champions", "vip")
    assert added.exit_code == 0 and "saved 2 segments: champions, vip" in added.stdout
    again = run(empty, "templates", "add", "champions")
    assert again.exit_code == 2 and "already exists" in again.stderr
    every = run(empty, "templates", "add", "--all")
    assert every.exit_code == 0
    assert f"saved {len(TEMPLATES) - 2} segments" in every.stdout
    assert "kept 2 existing segments" in every.stdout
    with segmint.open(empty) as ws:
        assert sorted(ws.segments.files()) == sorted(t.name for t in TEMPLATES)
        assert ws.segments.get("lifecycle-subscriber").campaign
    unknown = run(empty, "templates", "add", "champion")
    assert unknown.exit_code == 2
    assert "no template 'champion'; did you mean 'champions'?" in unknown.stderr
    assert run(empty, "templates", "add").exit_code == 2


def test_template_sizes_on_the_demo(shop: Path) -> None:
    out = run(shop, "templates", "--json", "--sizes", "--as-of", AS_OF)
    sizes = {t["name"]: t["size"] for t in json.loads(out.stdout)}
    rfm = [t.name for t in TEMPLATES if t.rule.startswith("rfm_segment")]
    stages = [t.name for t in TEMPLATES if t.name.startswith("lifecycle-")]
    with segmint.open(shop) as ws:
        traits = ws.traits(AS_OF, output="pandas")
    assert sum(sizes[n] for n in rfm) <= int((traits.orders_count > 0).sum())
    assert sum(sizes[n] for n in stages) == len(traits)  # every customer has one stage
    assert all(sizes[n] > 0 for n in ("champions", "vip", "lifecycle-subscriber"))


def test_template_sizes_on_a_shop_too_small_for_the_models_count_the_others(
    tmp_path: Path,
) -> None:
    # Two buyers, one repeat order worth 0: neither CLV model can be fitted.
    with segmint.init(tmp_path / "ws") as ws:
        orders = write_csv(
            tmp_path / "o.csv",
            """order_id,customer_id,ordered_at,total
            O1,C1,2026-01-05T10:00:00Z,40
            O2,C1,2026-02-10T10:00:00Z,0
            O3,C2,2026-02-11T10:00:00Z,5""",
        )
        ws.ingest("orders", orders)
    root = tmp_path / "ws"
    out = run(root, "templates", "--json", "--sizes", "--as-of", "2026-03-01")
    assert out.exit_code == 0, out.stderr
    listed = {t["name"]: t for t in json.loads(out.stdout)}
    assert list(listed) == [t.name for t in TEMPLATES]
    vip = listed.pop("vip")
    assert vip["size"] is None
    assert vip["size_error"].startswith("value_tier needs the CLV models, which cannot be fitted")
    # No email was ever sent on this shop: the email templates say so too.
    for name in ("email-engaged", "email-dormant"):
        email = listed.pop(name)
        assert email["size"] is None and "counts 'email_sent' events" in email["size_error"]
    assert all(isinstance(t["size"], int) and "size_error" not in t for t in listed.values())
    assert listed["lifecycle-repeat-buyer"]["size"] == 1
    assert listed["lifecycle-first-time-buyer"]["size"] == 1
    text = run(root, "templates", "--sizes", "--as-of", "2026-03-01")
    assert text.exit_code == 0, text.stderr
    assert "lifecycle-first-time-buyer" in text.stdout  # listed after vip
    reason = next(line for line in text.stdout.splitlines() if line.startswith("vip: "))
    # What is missing for the spend model: a repeat buyer whose repeat orders are worth > 0.
    assert reason == (
        "vip: not counted: value_tier needs the CLV models, which cannot be fitted at "
        "2026-03-01T00:00:00Z: cannot fit BG/NBD: 2 customers, 1 with a repeat purchase; it "
        "needs at least 20 customers and 5 repeat buyers; cannot fit Gamma-Gamma: 1 customers "
        "with a repeat purchase, none with a positive average repeat order value (repeat "
        "orders worth 0 are left out); it needs at least 10"
    )


def test_a_customer_column_named_like_a_trait_is_refused(
    ws: segmint.Workspace, files: Path
) -> None:
    path = write_csv(files / "c.csv", "customer_id,aov\nC1,10")
    with pytest.raises(IngestError, match="column 'aov' has the name of a computed trait"):
        ws.ingest("customers", path)
    assert ws.stats()["customers"] == 0


def test_trait_settings_are_checked(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    ws.close()
    config = tmp_path / "ws" / "segmint.toml"
    text = config.read_text()
    config.write_text(text.replace("at_risk_quantile = 0.75", "at_risk_quantile = 1.5"))
    with pytest.raises(ConfigError, match=r"\[lifecycle\] at_risk_quantile: must be between 0"):
        segmint.open(tmp_path / "ws")
    config.write_text(text.replace("vip_share = 0.05", "vip_share = 0.5"))
    with pytest.raises(ConfigError, match="vip_share <= high_share"):
        segmint.open(tmp_path / "ws")
    config.write_text(text.replace("fallback_days = [90, 180, 365]", "fallback_days = [90, 180]"))
    with pytest.raises(ConfigError, match="fallback_days: expected 3 list of int"):
        segmint.open(tmp_path / "ws")
    config.write_text(text.replace("at_risk_days = 0", "at_risk_days = 30").replace(
        "churned_quantile = 0.97", "churned_quantile = 1"))  # fmt: skip
    with pytest.raises(ConfigError, match="churned_quantile: must be between 0 and 1"):
        segmint.open(tmp_path / "ws")
