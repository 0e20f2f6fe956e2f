"""``--as-of`` (and ``--since``, ``--from``, ``--to``) and the Python API's ``as_of``: one
parser for every command. A bare date is 00:00 UTC; an instant needs an offset; every
error names the option and echoes the input exactly as typed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import segmint
from segmint.errors import ArgumentError
from tests.conftest import run_cli, write_csv, write_jsonl

# One app open each at 2026-05-20 10:00 (C1) and 2026-05-21 10:00 UTC (C2).
DAY = "2026-05-21"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("as_of")
    ws = segmint.init(folder / "ws")
    write_jsonl(
        folder / "customers.jsonl",
        [{"customer_id": f"C{i}", "created_at": "2025-01-01T00:00:00Z"} for i in range(1, 4)],
    )
    write_csv(
        folder / "events.csv",
        """event_id,event,timestamp,customer_id
        E1,app_open,2026-05-20T10:00:00Z,C1
        E2,app_open,2026-05-21T10:00:00Z,C2""",
    )
    write_csv(
        folder / "orders.csv",
        """order_id,customer_id,ordered_at,total
        O1,C1,2026-05-01T00:00:00Z,120
        O2,C2,2025-12-01T00:00:00Z,40""",
    )
    ws.ingest("customers", folder / "customers.jsonl")
    ws.ingest("events", folder / "events.csv")
    ws.ingest("orders", folder / "orders.csv")
    ws.add_segment("openers", "did app_open")
    ws.close()
    return folder / "ws"


COMMANDS = [
    ["segment", "count", "openers"],
    ["segment", "members", "openers"],
    ["segment", "sql", "openers"],
    ["segment", "show", "openers"],
    ["segment", "list", "--sizes"],
    ["traits"],
    ["customer", "show", "C1"],
    ["templates", "--sizes"],
    ["cluster", "--k", "2", "--features", "tenure_days,orders_count"],
    ["models"],
    ["refresh"],
]
IDS = [" ".join(c[:2]) for c in COMMANDS]


@pytest.mark.parametrize("args", COMMANDS, ids=IDS)
def test_every_command_takes_a_bare_date_and_echoes_bad_input_as_typed(
    shop: Path, args: list[str]
) -> None:
    done = run_cli(shop, *args, "--as-of", DAY)
    if args[0] == "models":
        # Two orders fit no CLV model: an error about the data at 00:00 UTC that day.
        assert done.returncode == 2
        assert f"at {DAY}T00:00:00Z: cannot fit BG/NBD" in done.stderr, done.stderr
    elif args[0] == "templates":
        # The other templates are counted; vip says why it is not, at 00:00 UTC that day.
        assert done.returncode == 0, done.stderr
        assert f"at {DAY}T00:00:00Z: cannot fit BG/NBD" in done.stdout, done.stdout
    else:
        assert done.returncode == 0, done.stderr
    for typed in ("2024-13-01", "2024-06-01T10:00:00", " yesterday"):
        bad = run_cli(shop, *args, "--as-of", typed)
        assert bad.returncode == 2
        assert bad.stderr == (
            f"error: --as-of: expected an ISO 8601 date or instant with an offset, got {typed!r}\n"
        )


def test_a_bare_date_is_midnight_utc(shop: Path) -> None:
    def count(as_of: str) -> str:
        done = run_cli(shop, "segment", "count", "openers", "--as-of", as_of)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert count(DAY) == count(f"{DAY}T00:00:00Z") == "1"
    assert count(f"{DAY}T00:00:00-12:00") == "2"  # 12:00 UTC: C2's open is in


def test_a_bare_date_out_of_range_is_refused_as_typed(shop: Path) -> None:
    done = run_cli(shop, "segment", "count", "openers", "--as-of", "1899-12-31")
    assert done.returncode == 2
    assert done.stderr == (
        "error: --as-of: must be between 1900-01-01 and 9999-12-31 (UTC), got '1899-12-31'\n"
    )


def test_history_since_and_backfill_from_to_share_the_parser(shop: Path) -> None:
    done = run_cli(shop, "segment", "history", "openers", "--since", "2026-05-01")
    assert done.returncode == 0, done.stderr
    bad = run_cli(shop, "segment", "history", "openers", "--since", "2026-05-01T00:00")
    assert bad.stderr == (
        "error: --since: expected an ISO 8601 date or instant with an offset, "
        "got '2026-05-01T00:00'\n"
    )
    bad = run_cli(shop, "refresh", "--backfill", "--from", "2026-02-30", "--to", DAY)
    assert bad.stderr == (
        "error: --from: expected an ISO 8601 date or instant with an offset, got '2026-02-30'\n"
    )


def test_the_python_api_takes_the_same_text(shop: Path) -> None:
    with segmint.open(shop) as ws:
        assert ws.count("did app_open", as_of=DAY) == 1
        assert ws.count("did app_open", as_of=date(2026, 5, 21)) == 1
        assert ws.count("did app_open", as_of=f"{DAY}T12:00:00+00:00") == 2
        assert ws.members("did app_open", as_of=DAY).num_rows == 1
        windowed = "did app_open in last 1 days"
        assert ws.sql(windowed, as_of=DAY) == ws.sql(windowed, as_of=f"{DAY}T00:00:00Z")
        assert ws.sql(windowed, as_of=DAY) != ws.sql(windowed, as_of=f"{DAY}T00:00:01Z")
        with pytest.raises(ArgumentError) as err:
            ws.count("did app_open", as_of="2024-13-01")
        assert str(err.value) == (
            "as_of: expected an ISO 8601 date or instant with an offset, got '2024-13-01'"
        )
        with pytest.raises(ArgumentError) as err:
            ws.count("did app_open", as_of=datetime(2026, 5, 21))
        assert str(err.value).endswith("got naive 2026-05-21T00:00:00")
        assert ws.count("did app_open", as_of=datetime(2026, 5, 21, tzinfo=UTC)) == 1
