"""The segment commands and the Python API over a small workspace with known answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import segmint
from segmint.errors import ArgumentError, ConflictError, NotFoundError, RuleError
from tests.conftest import write_csv, write_jsonl

AS_OF = "2026-06-01T00:00:00Z"


@pytest.fixture
def shop(tmp_path: Path) -> Iterable[Path]:
    root = tmp_path / "shop"
    ws = segmint.init(root)
    write_jsonl(
        tmp_path / "c.jsonl",
        [
            {
                "customer_id": "C1",
                "email": "a@x.io",
                "country": "US",
                "device_os": "ios",
                "interests": ["boxing", "golf"],
                "created_at": "2025-01-01T00:00:00Z",
            },
            {
                "customer_id": "C2",
                "email": "b@x.io",
                "country": "GB",
                "device_os": "ios",
                "interests": ["boxing"],
                "created_at": "2025-01-01T00:00:00Z",
            },
            {
                "customer_id": "C3",
                "country": "US",
                "device_os": "android",
                "interests": [],
                "created_at": "2025-01-01T00:00:00Z",
            },
            {
                "customer_id": "C4",
                "device_os": "ios",
                "interests": ["boxing"],
                "created_at": "2026-07-01T00:00:00Z",
            },
        ],
    )
    write_csv(
        tmp_path / "e.csv",
        """event_id,event,timestamp,customer_id
        E1,app_open,2026-05-20T10:00:00Z,C1
        E2,app_open,2026-01-02T10:00:00Z,C2
        E3,app_open,2026-06-01T00:00:01Z,C2
        E4,app_open,2026-05-30T00:00:00Z,C3""",
    )
    write_csv(
        tmp_path / "o.csv",
        """order_id,customer_id,ordered_at,total,category
        O1,C1,2026-05-01T00:00:00Z,120.50,shoes
        O2,C1,2026-05-10T00:00:00Z,80,hats
        O3,C2,2025-12-01T00:00:00Z,40,shoes""",
    )
    ws.ingest("customers", tmp_path / "c.jsonl")
    ws.ingest("events", tmp_path / "e.csv")
    ws.ingest("orders", tmp_path / "o.csv")
    ws.close()
    yield root


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEGMINT_WORKSPACE": str(root)}
    cmd = [sys.executable, "-m", "segmint", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


SEED = 'device_os = "ios" and interests contains "boxing" and not did app_open in last 90 days'


def test_the_seed_example_and_the_python_api(shop: Path) -> None:
    with segmint.open(shop) as ws:
        # C1 opened the app; C2's last open in the window is after as_of; C4 is created later.
        assert ws.count(SEED, as_of=AS_OF) == 1
        table = ws.members(SEED, as_of=AS_OF)
        assert table.column_names == ["customer_id"]
        assert table.column("customer_id").to_pylist() == ["C2"]
        frame = ws.members(
            "sum(revenue) of order_completed in last 90 days > 200", as_of=AS_OF, output="pandas"
        )
        assert list(frame["customer_id"]) == ["C1"]
        wide = ws.members('country = "US"', as_of=AS_OF, output="polars", columns=["email"])
        assert wide.columns == ["customer_id", "email"]
        assert wide.rows() == [("C1", "a@x.io"), ("C3", None)]
        tree = {"not": {"attr": "country", "op": "eq", "value": "US"}}
        assert ws.count(tree, as_of=AS_OF) == 1  # C2 (GB); C4 does not exist yet
        assert ws.count(tree, as_of="2026-08-01T00:00:00+02:00") == 2
        with pytest.raises(ArgumentError, match="as_of: expected an ISO 8601 date or instant"):
            ws.count(tree, as_of="2026-06-01T00:00:00")
        with pytest.raises(RuleError, match="did you mean 'country'"):
            ws.count('contry = "US"', as_of=AS_OF)


def test_add_list_show_count_members_remove(shop: Path, tmp_path: Path) -> None:
    done = cli(shop, "segment", "add", "--rule", SEED, "--name", "ios-boxing", "--campaign", "push")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"saved segment ios-boxing: {SEED}\n"
    assert (shop / "segments" / "ios-boxing.yaml").is_file()
    (tmp_path / "us.yaml").write_text(
        'name: us-boxing\ntitle: US boxing fans\nrule: in segment ios-boxing or country = "US"\n'
    )
    assert cli(shop, "segment", "add", str(tmp_path / "us.yaml")).returncode == 0
    assert cli(shop, "segment", "count", "us-boxing", "--as-of", AS_OF).stdout == "3\n"
    listed = cli(shop, "segment", "list", "--sizes", "--as-of", AS_OF).stdout.splitlines()
    # 80 columns (a pipe): the compact list; the title and rule are in `segment show`.
    assert [line.split() for line in listed[1:3]] == [
        ["ios-boxing", "-", "-", "never", "1"],
        ["us-boxing", "-", "-", "never", "3"],
    ]
    assert "us-boxing: US boxing fans" in cli(shop, "segment", "show", "us-boxing").stdout
    shown = json.loads(
        cli(shop, "segment", "show", "ios-boxing", "--as-of", AS_OF, "--json").stdout
    )
    assert shown["size"] == 1 and shown["customers"] == 3 and shown["campaign"] == "push"
    assert shown["text"] == SEED
    csv_out = cli(
        shop, "segment", "members", "us-boxing", "--as-of", AS_OF, "--columns", "email,interests"
    )
    assert csv_out.stdout.splitlines() == [
        "customer_id,email,interests",
        'C1,a@x.io,"[""boxing"", ""golf""]"',
        'C2,b@x.io,"[""boxing""]"',
        "C3,,[]",
    ]
    jsonl = cli(
        shop, "segment", "members", "--rule", 'country = "GB"', "--as-of", AS_OF, "-f", "jsonl"
    )
    assert jsonl.stdout == '{"customer_id": "C2"}\n'
    out = tmp_path / "m.parquet"
    done = cli(
        shop, "segment", "members", "us-boxing", "--as-of", AS_OF, "-f", "parquet", "-o", str(out)
    )
    assert done.stderr == f"wrote 3 members to {out}\n"
    assert pq.read_table(out).column("customer_id").to_pylist() == ["C1", "C2", "C3"]
    used = cli(shop, "segment", "remove", "ios-boxing")
    assert used.returncode == 2
    assert (
        used.stderr
        == "error: segment 'ios-boxing' is used by us-boxing; remove or edit those first\n"
    )
    assert cli(shop, "segment", "remove", "us-boxing").returncode == 0
    assert cli(shop, "segment", "remove", "ios-boxing").returncode == 0
    assert not list((shop / "segments").iterdir())


def test_rule_file_forms(shop: Path, tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text(json.dumps({"attr": "country", "op": "eq", "value": "US"}))
    (tmp_path / "r.txt").write_text('country = "US"\n')
    for path in ("r.json", "r.txt"):
        done = cli(shop, "segment", "count", "--rule-file", str(tmp_path / path), "--as-of", AS_OF)
        assert done.stdout == "2\n", done.stderr
    (tmp_path / "bad.yaml").write_text("rule: [unclosed\n")
    done = cli(shop, "segment", "count", "--rule-file", str(tmp_path / "bad.yaml"))
    assert (done.returncode, done.stderr) == (
        2,
        f"error: {tmp_path / 'bad.yaml'}: invalid YAML at line 2: expected ',' or ']', "
        "but got '<stream end>'\n",
    )
    missing = cli(shop, "segment", "count", "--rule-file", str(tmp_path / "none.txt"))
    assert (
        missing.stderr == f"error: cannot read {tmp_path / 'none.txt'}: No such file or directory\n"
    )


def test_sql_for_every_dialect_and_the_schema(shop: Path) -> None:
    for dialect in ("duckdb", "postgres", "spark", "bigquery", "snowflake"):
        done = cli(shop, "segment", "sql", "--rule", SEED, "--dialect", dialect, "--as-of", AS_OF)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("SELECT") and "app_open" in done.stdout
    schema = json.loads(cli(shop, "segment", "schema").stdout)
    assert schema["title"] == "segmint segment file"
    assert {
        "And",
        "Or",
        "Not",
        "Attribute",
        "EventCount",
        "EventAggregate",
        "EventRecency",
        "Trend",
        "SegmentRef",
        "LastDays",
        "DaysAgo",
        "Between",
    } <= set(schema["$defs"])


def test_errors_are_one_clear_message_and_exit_2(shop: Path) -> None:
    cases = {
        (
            "segment",
            "count",
            "nope",
        ): "error: no saved segment 'nope' (see: segmint segment list)\n",
        ("segment", "count"): "error: give exactly one of: a saved segment NAME, --rule TEXT, "
        "--rule-file F\n",
        ("segment", "count", "--rule", 'country = "US"', "--as-of", "yesterday"): (
            "error: --as-of: expected an ISO 8601 date or instant with an offset, got 'yesterday'\n"
        ),
        ("segment", "add", "--rule", 'country = "US"', "--name", "Bad Name"): (
            "error: segment.name: a segment name is lower-case letters, digits, '_' and '-' "
            "(at most 63, starting with a letter or digit), got 'Bad Name'\n"
        ),
        ("segment", "count", "--rule", "did app_opn"): (
            "error: rule.event: unknown event 'app_opn'; did you mean 'app_open'?\n"
        ),
        ("segment", "members", "--rule", 'country = "US"', "-f", "parquet"): (
            "error: --format parquet needs --out FILE (Parquet is binary)\n"
        ),
    }
    for args, message in cases.items():
        done = cli(shop, *args)
        assert (done.returncode, done.stderr) == (2, message), args
    syntax = cli(shop, "segment", "count", "--rule", "country = = 3")
    assert syntax.returncode == 2
    assert syntax.stderr.splitlines()[1:] == ["  country = = 3", "            ^"]


def test_saved_segments_are_files_and_broken_files_name_themselves(shop: Path) -> None:
    with segmint.open(shop) as ws:
        ws.add_segment("gb", 'country = "GB"', title="Britain")
        with pytest.raises(ConflictError, match="already exists"):
            ws.add_segment("gb", 'country = "GB"')
        assert ws.segments.get("gb").title == "Britain"
        (shop / "segments" / "gb.yaml").write_text("name: gb\nrule: {attr: country, op: eqq}\n")
        with pytest.raises(RuleError, match=r"gb.yaml.rule.op: expected one of"):
            ws.segments.all()
        # A broken file fails only the rules that use it.
        assert ws.count('country = "GB"', as_of=AS_OF) == 1
        with pytest.raises(RuleError, match=r"gb.yaml.rule.op: expected one of"):
            ws.count("in segment gb", as_of=AS_OF)
        with pytest.raises(NotFoundError, match="did you mean 'gb'"):
            ws.segments.get("gbb")
