"""What the CLI shows people at 80 columns: overlap, segment list, numbers, help texts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import segmint
from segmint.cli import app
from segmint.cli.formats import instant, money, percent, plural, trait
from tests.conftest import write_csv

LONG = "customers-who-bought-twice-recently"  # long names squeeze a grid


def cli(root: Path | None, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    where = ["--workspace", str(root)] if root is not None else []
    cmd = [sys.executable, "-m", "segmint", *where, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small shop with eight refreshed segments, one of them never refreshed."""
    tmp = tmp_path_factory.mktemp("render")
    root = tmp / "ws"
    rows = ["customer_id,email,country,email_consent"]
    rows += [f"C{i},c{i}@example.com,{'US' if i % 2 else 'DE'},true" for i in range(1, 41)]
    write_csv(tmp / "customers.csv", "\n".join(rows))
    orders = ["order_id,customer_id,ordered_at,total"]
    orders += [
        f"O{i},C{i % 30 + 1},2026-11-{i % 28 + 1:02d}T10:00:00.250Z,1234.5" for i in range(60)
    ]
    write_csv(tmp / "orders.csv", "\n".join(orders))
    with segmint.init(root) as ws:
        ws.ingest("customers", tmp / "customers.csv")
        ws.ingest("orders", tmp / "orders.csv")
        rules = {
            "us": 'country = "US"',
            "de": 'country = "DE"',
            "buyers": "did order_completed in last 365 days",
            LONG: "did order_completed at least 2 times in last 365 days",
            f"{LONG}-in-the-us": 'country = "US" and did order_completed at least 2 times',
            "big-spenders-of-the-last-year": "sum(revenue) of order_completed > 2000",
            "everyone-with-an-email-address": "email is set",
        }
        (root / "refreshed.txt").write_text(" ".join(rules))
        for name, rule in rules.items():
            ws.add_segment(name, rule, campaign="a long campaign text that would need room")
        ws.refresh(None, "2026-12-01T00:00:00Z")
        ws.add_segment("never-refreshed", 'country = "FR"')
    return root


def test_overlap_that_does_not_fit_is_a_ranked_list_of_pairs(shop: Path) -> None:
    # Every refreshed segment (overlap refuses one never refreshed).
    names = (shop / "refreshed.txt").read_text().split()
    done = cli(shop, "overlap", *names)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "…" not in out
    assert all(len(line) <= 80 for line in out.splitlines())
    lines = out.splitlines()
    # Two 45-character names side by side do not fit: each pair's names are stacked.
    assert lines[0].split() == ["segments", "shared", "Jaccard", "of", "smaller"]
    assert lines[1].split() == ["big-spenders-of-the-last-year", "30", "100.0%", "100.0%"]
    assert lines[2].split() == ["&", "buyers"]
    jaccards = [float(m) for m in re.findall(r"(\d+\.\d)%\s+\d+\.\d%$", out, re.M)]
    assert len(jaccards) == 10 and jaccards == sorted(jaccards, reverse=True)
    assert "the 10 most overlapping of 21 pairs; all: segmint overlap --all" in out
    everything = cli(shop, "overlap", *names, "--all").stdout
    assert "most overlapping of" not in everything
    assert everything.count("%") >= 2 * 21


def test_overlap_grid_when_it_fits(shop: Path) -> None:
    out = cli(shop, "overlap", "us", "de", "buyers").stdout
    assert out.splitlines()[0].split() == ["segment", "size", "buyers", "de", "us"]
    assert "0 (0%)" in out and "cells: shared members" in out


def test_segment_list_is_compact_at_80_columns(shop: Path) -> None:
    out = cli(shop, "segment", "list", "--sizes").stdout
    lines = out.splitlines()
    assert "…" not in out
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert lines[0].split() == ["segment", "size", "last", "refresh", "status", "size", "now"]
    row = next(line for line in lines if line.startswith("us "))
    assert row.split() == ["us", "20", "2026-12-01T00:00:00Z", "ok", "20"]
    never = next(line for line in lines if line.startswith("never-refreshed"))
    assert never.split()[1:4] == ["-", "-", "never"]
    assert "segmint segment show NAME" in out
    assert lines[-1] == "8 segments"
    wide = cli(shop, "segment", "list", columns=160).stdout
    assert 'country = "US"' in wide and "a long campaign text" in wide


def test_numbers_money_shares_and_times(shop: Path) -> None:
    show = cli(shop, "segment", "show", "us").stdout
    assert "size: 20 of 40 customers (50.0%) as of 2026-12-01T00:00:00Z" in show
    assert re.search(r"reachable\s+yes\s+100\.0%\s+50\.0%", show)
    assert re.search(r"fresh\s+\w+\s+[\d.]+ days\s+7 days", show)
    customer = cli(shop, "customer", "show", "C2", "--as-of", "2026-12-01").stdout
    assert re.search(r"revenue\s+2,469\.00 EUR", customer)
    assert re.search(r"aov\s+1,234\.50 EUR", customer)
    assert re.search(r"email_open_rate_90d\s+\S+%|email_open_rate_90d\s+-", customer) or (
        "email_open_rate_90d" not in customer
    )
    assert "traits as of 2026-12-01T00:00:00Z" in customer
    stamps = re.findall(r"\d{4}-\d\d-\d\dT[\d:.]+Z", customer)
    assert stamps and all(re.fullmatch(r"\S+T\d\d:\d\d:\d\dZ", s) for s in stamps)


def test_plurals() -> None:
    assert plural(1, "segment") == "1 segment"
    assert plural(2, "segment") == "2 segments"
    assert plural(1, "customer") == "1 customer"
    assert plural(1_200, "refresh", "refreshes") == "1,200 refreshes"


def test_formatters() -> None:
    assert money(Decimal("82.7600"), "EUR") == "82.76 EUR"
    assert money(1234.5, "USD") == "1,234.50 USD"
    assert money(Decimal("0.0125"), "GBP") == "0.0125 GBP"  # shown exactly, not rounded
    assert percent(0.0892) == "8.9%" and percent(None) == "-"
    assert instant(datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert instant(date(1998, 1, 24)) == "1998-01-24"
    assert trait("p_alive", 0.5) == "50.0%" and trait("orders_count", 1234) == "1,234"


def test_version() -> None:
    for flag in ("--version", "-V"):
        done = cli(None, flag)
        assert done.returncode == 0
        assert done.stdout == f"segmint {segmint.__version__}\n"


def test_ingest_of_a_folder_is_one_line_and_exit_2(shop: Path) -> None:
    done = cli(shop, "ingest", "events", str(shop.parent))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {shop.parent} is a folder; pass one CSV")


def test_semicolon_csv_gets_a_hint_and_loads_with_delimiter(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    segmint.init(root).close()
    data = write_csv(tmp_path / "c.csv", "customer_id;email;country\nC1;a@example.com;FR")
    done = cli(root, "ingest", "customers", str(data))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "missing required column 'customer_id'" in done.stderr
    assert done.stderr.endswith("the header looks semicolon-separated; pass --delimiter ';'\n")
    loaded = cli(root, "ingest", "customers", str(data), "--delimiter", ";")
    assert loaded.returncode == 0, loaded.stderr
    assert "1 accepted" in loaded.stdout
    with segmint.open(root, read_only=True) as ws:
        assert ws.customer("C1").attributes["country"] == "FR"
    tabbed = write_csv(tmp_path / "t.csv", "customer_id\temail\nC2\tb@example.com")
    assert cli(root, "ingest", "customers", str(tabbed), "-d", "\\t").returncode == 0
    bad = cli(root, "ingest", "customers", str(data), "--delimiter", ";;")
    assert bad.returncode == 2
    assert bad.stderr == (
        "error: --delimiter: expected one character such as ';', '|' or \\t (tab), got ';;'\n"
    )


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            yield from _commands(command, (*path, name))


COMMAND = typer.main.get_command(app)
PATHS = list(_commands(COMMAND))


def _find(path: tuple[str, ...]) -> Any:
    command: Any = COMMAND
    for name in path:
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "segmint")
def test_help_at_80_columns_reads_whole(path: tuple[str, ...]) -> None:
    command = _find(path)
    summary = (command.help or "").split("\n\n")[0].strip()
    assert summary.endswith("."), summary
    assert "\n" not in summary, f"the first paragraph spans lines: {summary!r}"
    for param in command.params:
        text = getattr(param, "help", None)
        if text is not None:
            assert text.endswith("."), f"{param.name}: {text!r}"
    done = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, color=False)
    assert done.exit_code == 0, done.output
    assert "<bool>" not in done.output
    assert "…" not in done.output
    assert all(len(line) <= 80 for line in done.output.splitlines())
