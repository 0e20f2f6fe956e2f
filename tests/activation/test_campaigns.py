"""Campaigns: the audience frozen at the start, the assignment recomputed here with
hashlib (reproducible, stable, one group per customer) and tested for uniformity with a
chi-square test, goals that must be event conditions, and the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pytest
from scipy import stats

import segmint
from segmint.errors import ConflictError, NotFoundError, SegmintError
from tests.conftest import run_cli

STARTS = "2026-03-01T00:00:00Z"
N = 20_000


def u(campaign: str, customer_id: str) -> float:
    digest = hashlib.sha256(f"{campaign}:{customer_id}".encode()).hexdigest()
    return int(digest[:13], 16) / 16**13


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("campaigns") / "ws"
    with segmint.init(root) as ws:
        ids = [f"C{i:05d}" for i in range(N)]
        ws.ingest(
            "customers",
            pa.table(
                {
                    "customer_id": ids,
                    "country": ["US" if i % 2 else "DE" for i in range(N)],
                    "tier": ["gold" if i % 3 == 0 else "basic" for i in range(N)],
                    "created_at": ["2026-01-01T00:00:00Z"] * (N - 10)
                    + ["2026-04-01T00:00:00Z"] * 10,
                }
            ),
        )
        ws.add_segment("us", 'country = "US"')
        ws.add_segment("gold", 'tier = "gold"')
        ws.ingest(
            "events",
            pa.table(
                {
                    "customer_id": ["C00001"],
                    "event": ["order_completed"],
                    "timestamp": ["2026-03-02T00:00:00Z"],
                }
            ),
        )
    return root


def test_the_assignment_is_the_documented_hash_one_group_per_customer(shop: Path) -> None:
    with segmint.open(shop) as ws:
        campaign = ws.create_campaign(
            "spring",
            ["us", "gold"],
            "did order_completed",
            holdout="10%",
            window="14d",
            starts=STARTS,
        )
        rows = ws.campaign_members("spring").to_pylist()
    us = {f"C{i:05d}" for i in range(N - 10) if i % 2}
    gold = {f"C{i:05d}" for i in range(N - 10) if i % 3 == 0}
    assert {r["customer_id"] for r in rows if r["segment"] == "us"} == us
    assert {r["customer_id"] for r in rows if r["segment"] == "gold"} == gold
    for row in rows:
        expected = "holdout" if u("spring", row["customer_id"]) < 0.1 else "treatment"
        assert row["group"] == expected, row
    groups: dict[str, set[str]] = {}
    for row in rows:
        groups.setdefault(row["customer_id"], set()).add(row["group"])
    assert all(len(g) == 1 for g in groups.values())
    assert campaign.audience == len(us | gold) == campaign.treatment + campaign.held_out
    both = us & gold
    assert campaign.by_segment["us"][0] + campaign.by_segment["us"][1] == len(us)
    assert len(both) > 0 and campaign.by_segment["gold"] == (
        sum(u("spring", c) >= 0.1 for c in gold),
        sum(u("spring", c) < 0.1 for c in gold),
    )


def test_the_split_is_uniform(shop: Path) -> None:
    with segmint.open(shop) as ws:
        ws.create_campaign(
            "uniform", ["us", "gold"], "did order_completed", holdout=0.3, starts=STARTS
        )
        rows = ws.campaign_members("uniform").to_pylist()
    people = {r["customer_id"]: r["group"] for r in rows}
    held = sum(g == "holdout" for g in people.values())
    assert (
        stats.chisquare([held, len(people) - held], [0.3 * len(people), 0.7 * len(people)]).pvalue
        > 0.001
    )
    deciles = [0] * 10
    for customer in people:
        deciles[int(u("uniform", customer) * 10)] += 1
    assert stats.chisquare(deciles).pvalue > 0.001


def test_the_audience_is_frozen_at_the_start(shop: Path) -> None:
    with segmint.open(shop) as ws:
        first = ws.create_campaign("frozen", ["gold"], "did order_completed", starts=STARTS)
        before = ws.campaign_members("frozen").to_pylist()
        # The last ten customers are created after the start: not in the audience.
        assert first.audience == len({i for i in range(N - 10) if i % 3 == 0})
        ws.ingest("customers", pa.table({"customer_id": ["C00000"], "tier": ["basic"]}))
        assert ws.campaign_members("frozen").to_pylist() == before
        ws.ingest("customers", pa.table({"customer_id": ["C00000"], "tier": ["gold"]}))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"goal": "did order_completed in last 7 days"}, "has a window of its own"),
        ({"goal": 'country = "US"'}, "is not an event condition"),
        ({"goal": "did no_such_event"}, "no_such_event"),
        ({"holdout": "0%"}, "--holdout: must be more than 0"),
        ({"holdout": "lots"}, "--holdout: expected a share"),
        ({"window": "3 months"}, "--window: expected days"),
        ({"starts": "2099-01-01"}, "cannot be in the future"),
        ({"segments": ["uss"]}, "did you mean 'us'"),
        ({"name": "Spring Sale"}, "campaign name"),
    ],
)
def test_bad_campaigns_are_one_clear_error(
    shop: Path, options: dict[str, object], message: str
) -> None:
    settings = {
        "name": "bad",
        "segments": ["us"],
        "goal": "did order_completed",
        "starts": STARTS,
    } | options
    with segmint.open(shop) as ws:
        with pytest.raises(SegmintError, match=message):
            ws.create_campaign(**settings)
        assert "bad" not in [c.name for c in ws.campaigns()]


def test_a_segment_without_members_is_an_empty_part_of_the_audience(shop: Path) -> None:
    with segmint.open(shop) as ws:
        ws.add_segment("nobody", 'tier = "platinum"')
        campaign = ws.create_campaign(
            "sparse", ["nobody", "gold"], "did order_completed", starts=STARTS
        )
        assert campaign.by_segment.get("nobody", (0, 0)) == (0, 0)
        assert campaign.audience == sum(campaign.by_segment["gold"])
        report = ws.campaign_report("sparse")
        assert [r.segment for r in report.segments] == ["nobody", "gold"]
        assert report.segments[0].verdict == "too small to tell"


def test_names_are_unique_and_unknown_ones_suggested(shop: Path) -> None:
    with segmint.open(shop) as ws:
        ws.create_campaign("once", ["us"], "did order_completed", starts=STARTS)
        with pytest.raises(ConflictError, match="already exists"):
            ws.create_campaign("once", ["us"], "did order_completed", starts=STARTS)
        with pytest.raises(NotFoundError, match="did you mean 'once'"):
            ws.campaign("onse")


def test_the_cli_creates_lists_and_shows(shop: Path) -> None:
    done = run_cli(
        shop,
        "campaign",
        "create",
        "cli",
        "--segment",
        "gold",
        "--goal",
        "did order_completed",
        "--holdout",
        "20%",
        "--window",
        "2w",
        "--starts",
        STARTS,
    )
    assert done.returncode == 0, done.stderr
    assert "campaign cli:" in done.stdout and "within 14 days" in done.stdout
    listed = run_cli(shop, "campaign", "list", "--json")
    assert "cli" in [c["name"] for c in json.loads(listed.stdout)]
    shown = json.loads(run_cli(shop, "campaign", "show", "cli", "--json").stdout)
    assert shown["holdout"] == 0.2 and len(shown["members"]) == shown["audience"]
    assert {m["group"] for m in shown["members"]} == {"treatment", "holdout"}
    bad = run_cli(shop, "campaign", "create", "x", "--segment", "gold", "--goal", "tier = 1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr


def test_an_export_sends_the_treatment_group_only(shop: Path, tmp_path: Path) -> None:
    with segmint.open(shop) as ws:
        ws.create_campaign("sends", ["us", "gold"], "did order_completed", starts=STARTS)
        groups = {r["customer_id"]: r["group"] for r in ws.campaign_members("sends").to_pylist()}
        result = ws.export_campaign("sends", "csv", tmp_path / "t.csv", columns=["tier"])
        sent = [line.split(",")[0] for line in result.file.read_text().splitlines()[1:]]
        assert sorted(sent) == sorted(c for c, g in groups.items() if g == "treatment")
        assert result.segment == "campaign:sends"
        again = ws.export_campaign("sends", "csv", tmp_path / "d.csv", delta=True, columns=["tier"])
        assert (again.added, again.removed) == (0, 0)  # the audience is frozen
        assert [e["segment"] for e in ws.export_history()][-2:] == ["campaign:sends"] * 2
    done = run_cli(
        shop, "campaign", "export", "sends", "--to", "jsonl", "--out", str(tmp_path / "j.jsonl")
    )
    assert done.returncode == 0 and "exported campaign:sends to jsonl" in done.stdout, done.stderr


def test_the_report_counts_the_goal_within_the_window_only(tmp_path: Path) -> None:
    """Responses built here: a quarter of the treatment customers buy within the window,
    an eighth of the holdout ones; others buy before the start or
    after the end, which must not count. The report's counts and revenue equal these,
    and its figures those of quality/lift.py on them."""
    from segmint.quality import lift

    n = 4_000
    ids = [f"C{i:05d}" for i in range(n)]
    ws = segmint.init(tmp_path / "ws")
    ws.ingest(
        "customers",
        pa.table(
            {
                "customer_id": ids,
                "tier": ["gold" if i % 2 else "basic" for i in range(n)],
                "created_at": ["2026-01-01T00:00:00Z"] * n,
            }
        ),
    )
    ws.add_segment("gold", 'tier = "gold"')
    ws.add_segment("all", 'tier in ["gold", "basic"]')
    # The goal's event must be known when the campaign is made (a typo is an error).
    old_order = {"customer_id": ["C00003"], "event": ["order_completed"]}
    ws.ingest("events", pa.table({**old_order, "timestamp": ["2026-01-15T00:00:00Z"]}))
    ws.create_campaign(
        "resp", ["gold", "all"], "did order_completed", holdout="30%", window="14d", starts=STARTS
    )
    group = {r["customer_id"]: r["group"] for r in ws.campaign_members("resp").to_pylist()}
    events = {"customer_id": [], "event": [], "timestamp": [], "revenue": []}

    def buy(customer: str, when: str, amount: float) -> None:
        for key, value in zip(events, (customer, "order_completed", when, amount), strict=True):
            events[key].append(value)

    bought: dict[str, float] = {}
    for i, customer in enumerate(ids):
        step = 4 if group[customer] == "treatment" else 8
        if (i // 2) % step == 0:  # i // 2: as often among gold (odd) as basic customers
            amount = float(10 + i % 7)
            buy(customer, "2026-03-05T12:00:00Z", amount)
            bought[customer] = amount
        elif i % 5 == 0:
            buy(customer, "2026-02-27T12:00:00Z", 99.0)  # before the start
        elif i % 5 == 1:
            buy(customer, "2026-03-15T00:00:00Z", 99.0)  # at the end: outside
    ws.ingest("events", pa.table(events))
    report = ws.campaign_report("resp")
    assert report.finished and report.as_of.isoformat() == "2026-03-15T00:00:00+00:00"

    def expected(customers: list[str]) -> tuple[int, int, int, int, list[float], list[float]]:
        treated = [c for c in customers if group[c] == "treatment"]
        held = [c for c in customers if group[c] == "holdout"]
        return (
            len(treated),
            sum(c in bought for c in treated),
            len(held),
            sum(c in bought for c in held),
            [bought.get(c, 0.0) for c in treated],
            [bought.get(c, 0.0) for c in held],
        )

    gold = [c for i, c in enumerate(ids) if i % 2]
    for response, customers in [
        (report.segments[0], gold),
        (report.segments[1], ids),
        (report.overall, ids),
    ]:
        t, tc, h, hc, t_money, h_money = expected(customers)
        conv = response.conversion
        assert (conv.treated, conv.treated_converted, conv.held, conv.held_converted) == (
            t,
            tc,
            h,
            hc,
        )
        assert conv == lift.conversion(t, tc, h, hc)
        # The report passes each distinct revenue once with its count: the same figures,
        # summed in another order.
        money, want = response.revenue, lift.revenue(t_money, h_money)
        assert (money.treated, money.held) == (want.treated, want.held)
        for got, expected_value in [
            (money.treated_mean, want.treated_mean),
            (money.held_mean, want.held_mean),
            (money.p_value, want.p_value),
            *zip(money.absolute_interval or (), want.absolute_interval or (), strict=True),
        ]:
            assert got == pytest.approx(expected_value, rel=1e-9)
        assert want.absolute_interval is not None
        assert response.verdict == "measurable lift"  # 25 % against 12.5 %
        assert not response.sample_ratio.mismatch
    # The report counts the groups with the outcomes: the sizes the campaign has stored.
    assert report.campaign == ws.campaign("resp")
    ws.close()
    chart = tmp_path / "lift.png"
    done = run_cli(tmp_path / "ws", "campaign", "report", "resp", "--plot", str(chart))
    assert done.returncode == 0 and "verdict: measurable lift" in done.stdout, done.stderr
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    as_json = json.loads(run_cli(tmp_path / "ws", "campaign", "report", "resp", "--json").stdout)
    assert (
        as_json["overall"]["conversion"]["treated_converted"]
        == report.overall.conversion.treated_converted
    )


def test_imported_results_replace_the_goal_and_bad_rows_are_refused(
    shop: Path, tmp_path: Path
) -> None:
    with segmint.open(shop) as ws:
        c = ws.create_campaign(
            "elsewhere", ["gold"], "did order_completed", holdout="50%", starts=STARTS
        )
        members = ws.campaign_members("elsewhere").to_pylist()
        treated = [m["customer_id"] for m in members if m["group"] == "treatment"]
        held = [m["customer_id"] for m in members if m["group"] == "holdout"]
        lines = ["customer_id,sent,opened,converted,revenue"]
        lines += [
            f"{cid},true,{'yes' if i % 2 else 'no'},{i % 3 == 0},{i % 5}"
            for i, cid in enumerate(treated)
        ]
        lines += [f"{cid},,,{i % 6 == 0},0" for i, cid in enumerate(held) if i != 2]
        lines += [
            "C99999,true,true,true,1",
            f"{treated[0]},true,true,true,1",
            ",true,,,",
            f"{held[1]}x,maybe,,,",
            f"{held[2]},true,maybe,,",
        ]
        (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
        got = ws.import_campaign_results("elsewhere", tmp_path / "r.csv")
        assert got.refused == {
            "customer_id given twice": 2,
            "not in the campaign": 2,
            "no customer_id": 1,
            "opened is not true or false": 1,
        }
        assert got.stored == len(treated) - 1 + len(held) - 1
        report = ws.campaign_report("elsewhere")
        assert report.source == "imported results"
        conv = report.overall.conversion
        expected_treated = sum(i % 3 == 0 for i in range(1, len(treated)))  # treated[0] refused
        assert (conv.treated, conv.treated_converted) == (c.treatment, expected_treated)
        # Imported again: the earlier rows are replaced.
        (tmp_path / "r2.csv").write_text(f"customer_id,converted\n{treated[1]},true\n")
        assert ws.import_campaign_results("elsewhere", tmp_path / "r2.csv").stored == 1
        assert ws.campaign_report("elsewhere").overall.conversion.treated_converted == 1
        (tmp_path / "bad.csv").write_text("customer_id,bought\nC1,true\n")
        with pytest.raises(SegmintError, match="unknown column 'bought'"):
            ws.import_campaign_results("elsewhere", tmp_path / "bad.csv")
    done = run_cli(shop, "campaign", "import-results", "elsewhere", str(tmp_path / "r.csv"))
    assert done.returncode == 0 and "refused, not in the campaign: 2" in done.stdout, done.stderr
