"""Money in one currency: exchange rates, order statuses, refunds and order updates."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

import segmint
from segmint.errors import ConfigError, IngestError
from tests.conftest import db, rejects_of, rows, run_cli, write_csv

AS_OF = "2025-12-31T00:00:00Z"
START = datetime(2025, 1, 1, tzinfo=UTC)


def _csv(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_random_orders_in_several_currencies_convert_at_their_order_time(
    ws: segmint.Workspace, files: Path
) -> None:
    r = random.Random(7)
    # Rates: each currency gets a few rates at random instants; a rate holds until the next.
    rates: dict[str, list[tuple[datetime, Decimal]]] = {}
    lines = []
    for code in ("USD", "GBP", "JPY"):
        instants = sorted(START + timedelta(hours=r.randint(0, 8000)) for _ in range(5))
        instants[0] = START
        rates[code] = []
        for at in instants:
            rate = Decimal(r.randint(1, 20_000)) / Decimal(10_000)
            rates[code].append((at, rate))
            lines.append(f"{code},{rate},{at:%Y-%m-%dT%H:%M:%SZ}")
    ws.ingest("rates", _csv(files / "rates.csv", "currency,rate,valid_from", lines))
    expected: dict[str, Decimal] = {}
    order_lines = []
    for n in range(400):
        customer = f"C{r.randint(1, 40)}"
        at = START + timedelta(minutes=r.randint(0, 500_000))
        code = r.choice(["EUR", "USD", "GBP", "JPY"])
        total = Decimal(r.randint(1, 10**7)) / 100
        status = r.choice(["completed", "completed", "refunded", "Cancelled", "shipped"])
        refund = Decimal(r.randint(0, int(total * 100))) / 100 if r.random() < 0.2 else None
        order_lines.append(
            f"O{n},{customer},{at:%Y-%m-%dT%H:%M:%SZ},{total},{code},{status},"
            f"{'' if refund is None else refund}"
        )
        if status.lower() in ("refunded", "cancelled") or refund == total:
            continue
        if code == "EUR":
            rate = Decimal(1)
        else:
            times = [t for t, _ in rates[code]]
            rate = rates[code][bisect.bisect_right(times, at) - 1][1]
        revenue = ((total - (refund or 0)) * rate).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        expected[customer] = expected.get(customer, Decimal(0)) + revenue
    header = "order_id,customer_id,ordered_at,total,currency,status,refunded_amount"
    result = ws.ingest("orders", _csv(files / "orders.csv", header, order_lines))
    assert result.rejected == 0
    got = dict(
        rows(
            ws,
            "SELECT p.customer_id, sum(e.revenue) FROM events e JOIN profiles p USING (pid) "
            "GROUP BY 1",
        )
    )
    assert got == expected
    # The traits see the same money: revenue_total per customer in the base currency.
    traits = ws.traits(as_of=AS_OF).to_pylist()
    totals = {t["customer_id"]: t["revenue_total"] for t in traits if t["orders_count"]}
    assert totals == expected


def test_an_order_without_a_rate_is_rejected_with_the_reason(ws_dir: Path, files: Path) -> None:
    write_csv(files / "rates.csv", "currency,rate,valid_from\nUSD,0.9,2025-03-01")
    assert run_cli(ws_dir, "ingest", "rates", str(files / "rates.csv")).returncode == 0
    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total,currency
        O1,C1,2025-02-01T00:00:00Z,10,USD
        O2,C1,2025-03-02T00:00:00Z,10,USD
        O3,C2,2025-03-02T00:00:00Z,10,SEK
        O4,C2,2025-03-02T00:00:00Z,10,
        O5,C2,2025-03-02T00:00:00Z,10,EUR""",
    )
    out = run_cli(ws_dir, "ingest", "orders", str(files / "o.csv"))
    assert out.returncode == 0, out.stderr
    reasons = {row["order_id"]: row["reason"] for row in rejects_of(out.stdout)}
    assert reasons["O1"].startswith("currency USD: no exchange rate into EUR on or before 2025-02")
    assert reasons["O3"].startswith("currency SEK: no exchange rate into EUR")
    assert reasons["O4"].startswith("missing currency")
    assert set(reasons) == {"O1", "O3", "O4"}


def test_excluded_statuses_are_not_purchases_for_traits_and_rules(
    tmp_path: Path, files: Path
) -> None:
    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total,status
        O1,C1,2025-06-01T00:00:00Z,100,completed
        O2,C1,2025-06-02T00:00:00Z,400,REFUNDED
        O3,C2,2025-06-03T00:00:00Z,300,cancelled
        O4,C2,2025-06-04T00:00:00Z,50,
        O5,C3,2025-06-05T00:00:00Z,80,completed""",
    )
    ws = segmint.init(tmp_path / "a")
    ws.ingest("orders", files / "o.csv")
    assert ws.count("did order_completed at least 1 time", as_of=AS_OF) == 3
    assert ws.count("did order_completed at least 2 times", as_of=AS_OF) == 0
    assert ws.count("sum(revenue) of order_completed > 90", as_of=AS_OF) == 1
    by = {t["customer_id"]: t for t in ws.traits(as_of=AS_OF).to_pylist()}
    assert (by["C1"]["orders_count"], by["C1"]["revenue_total"]) == (1, 100)
    assert (by["C2"]["orders_count"], by["C2"]["revenue_total"]) == (1, 50)
    # The excluded orders are kept, with their status, for the customer view.
    shown = {o["order_id"]: (o["status"], o["counted"]) for o in ws.customer("C1").orders}
    assert shown == {"O1": ("completed", True), "O2": ("REFUNDED", False)}
    ws.close()
    # With no status excluded, every order is a purchase.
    other = tmp_path / "b"
    segmint.init(other).close()
    text = (other / "segmint.toml").read_text(encoding="utf-8")
    (other / "segmint.toml").write_text(
        text.replace('exclude_statuses = ["refunded", "cancelled"]', "exclude_statuses = []"),
        encoding="utf-8",
    )
    with segmint.open(other) as everything:
        everything.ingest("orders", files / "o.csv")
        assert everything.count("did order_completed at least 2 times", as_of=AS_OF) == 2


def test_a_reloaded_order_with_a_new_status_or_refund_updates_the_stored_one(
    ws_dir: Path, files: Path
) -> None:
    header = "order_id,customer_id,ordered_at,total,status,refunded_amount,items"
    first = _csv(
        files / "o1.csv",
        header,
        [
            "O1,C1,2025-06-01T00:00:00Z,100,completed,,2",
            "O2,C1,2025-06-02T00:00:00Z,200,completed,,1",
            "O3,C1,2025-06-03T00:00:00Z,300,completed,,5",
        ],
    )
    out = run_cli(ws_dir, "ingest", "orders", str(first))
    assert "3 accepted" in out.stdout
    again = run_cli(ws_dir, "ingest", "orders", str(first))
    assert "0 accepted" in again.stdout and "3 already loaded (skipped)" in again.stdout
    later = _csv(
        files / "o2.csv",
        header,
        [
            "O1,C1,2025-06-01T00:00:00Z,100,refunded,,2",
            "O2,C1,2025-06-02T00:00:00Z,200,completed,50.5,1",
            "O3,C1,2025-06-03T00:00:00Z,300,completed,,5",
        ],
    )
    out = run_cli(ws_dir, "ingest", "orders", str(later))
    assert "2 accepted" in out.stdout and "2 orders updated" in out.stdout, out.stdout
    with segmint.open(ws_dir, read_only=True) as ws:
        assert rows(
            ws, "SELECT event_id, revenue, properties->>'items' FROM events ORDER BY event_id"
        ) == [("O2", Decimal("149.5000"), "1"), ("O3", Decimal("300.0000"), "5")]
        assert rows(ws, "SELECT count(*) FROM orders") == [(3,)]
        # The refunded order was the first: first seen is now the first order that counts.
        first = rows(ws, "SELECT first_event_at FROM profiles WHERE customer_id = 'C1'")[0][0]
        assert first == datetime(2025, 6, 2, tzinfo=UTC)
        by = {t["customer_id"]: t for t in ws.traits(as_of=AS_OF).to_pylist()}
        assert (by["C1"]["orders_count"], by["C1"]["revenue_total"]) == (2, 449.5)
    shown = run_cli(ws_dir, "customer", "show", "C1", "--json")
    assert shown.returncode == 0, shown.stderr
    import json

    orders = {o["order_id"]: o for o in json.loads(shown.stdout)["orders"]}
    assert (orders["O1"]["status"], orders["O1"]["counted"]) == ("refunded", False)
    assert (orders["O2"]["refunded_amount"], orders["O2"]["revenue"]) == (50.5, 149.5)
    text = run_cli(ws_dir, "customer", "show", "C1").stdout
    assert "excluded" in text and "149.50 EUR" in text and "50.50 EUR" in text


def test_a_corrected_rate_converts_the_stored_orders_again(
    ws: segmint.Workspace, files: Path
) -> None:
    ws.ingest("rates", write_csv(files / "r1.csv", "currency,rate,valid_from\nUSD,0.5,2025-01-01"))
    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total,currency
        O1,C1,2025-02-01T00:00:00Z,10,USD
        O2,C1,2025-04-01T00:00:00Z,10,USD""",
    )
    ws.ingest("orders", files / "o.csv")
    assert rows(ws, "SELECT sum(revenue) FROM events") == [(Decimal("10.0000"),)]
    # A rate from March on, and a correction of January's: both orders change.
    result = ws.ingest(
        "rates",
        write_csv(
            files / "r2.csv", "currency,rate,valid_from\nUSD,0.6,2025-01-01\nUSD,0.8,2025-03-01"
        ),
    )
    assert (result.accepted, result.updated, result.reconverted) == (2, 1, 2)
    assert rows(ws, "SELECT event_id, revenue FROM events ORDER BY 1") == [
        ("O1", Decimal("6.0000")),
        ("O2", Decimal("8.0000")),
    ]


def test_bad_rates_are_rejected_rows(ws_dir: Path, files: Path) -> None:
    write_csv(
        files / "r.csv",
        """currency,rate,valid_from
        USD,0.9,2025-01-01
        usd,0.8,2025-02-01
        EUR,1,2025-01-01
        DOLLAR,1,2025-01-01
        GBP,-1,2025-01-01
        GBP,abc,2025-01-01
        GBP,1.1,1/2/2025
        USD,0.7,2025-01-01T00:00:00Z""",
    )
    out = run_cli(ws_dir, "ingest", "rates", str(files / "r.csv"))
    assert out.returncode == 0, out.stderr
    assert "2 accepted, 6 rejected" in out.stdout
    reasons = [row["reason"] for row in rejects_of(out.stdout)]
    assert any("EUR is the base currency" in x for x in reasons)
    assert any("expected an ISO 4217 code" in x for x in reasons)
    assert any("rate: must be positive" in x for x in reasons)
    assert any("rate: expected a positive number" in x for x in reasons)
    assert any("valid_from: not an ISO 8601" in x for x in reasons)
    assert any(x.startswith("duplicate rate for USD") for x in reasons)
    missing = write_csv(files / "m.csv", "currency,rate\nUSD,1")
    out = run_cli(ws_dir, "ingest", "rates", str(missing))
    assert out.returncode == 2 and "missing required column 'valid_from'" in out.stderr


def test_the_base_currency_is_checked_and_fixed_by_the_first_load(
    tmp_path: Path, files: Path
) -> None:
    root = tmp_path / "ws"
    segmint.init(root).close()
    config = root / "segmint.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('currency = "EUR"', 'currency = "usd"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[money\] currency: expected an ISO 4217 code"):
        segmint.open(root)
    config.write_text(text.replace('currency = "EUR"', 'currency = "USD"'), encoding="utf-8")
    with segmint.open(root) as ws:
        ws.ingest("orders", write_csv(files / "o.csv", "order_id,customer_id,ordered_at,total\n"
                                      "O1,C1,2025-01-01,5"))  # fmt: skip
    config.write_text(text, encoding="utf-8")
    with segmint.open(root) as ws, pytest.raises(IngestError, match="money is in USD"):
        ws.ingest("orders", files / "o.csv")


def test_orders_of_a_version_4_workspace_are_kept_and_updated_by_a_reload(
    ws: segmint.Workspace, files: Path
) -> None:
    from segmint.store.schema import MIGRATIONS, ORDERS_DDL

    write_csv(
        files / "o.csv",
        """order_id,customer_id,ordered_at,total,status
        O1,C1,2025-06-01T00:00:00Z,100,completed
        O2,C1,2025-06-02T00:00:00Z,400,refunded""",
    )
    ws.ingest("orders", files / "o.csv")
    # As version 4 stored them: every order an event, and no orders table.
    db(ws).execute(
        "INSERT INTO events SELECT pid, 'order_completed', ordered_at, order_id, total, "
        "json_object('status', status), NULL, load_id FROM orders WHERE NOT counted"
    )
    db(ws).execute("DROP TABLE orders")
    # The upgrade's steps for the orders: the table, then what version 4 had stored.
    db(ws).execute(ORDERS_DDL[1])
    db(ws).execute(MIGRATIONS[4][-1])
    assert rows(ws, "SELECT count(*) FROM orders") == [(2,)]
    assert ws.count("did order_completed at least 2 times", as_of=AS_OF) == 1
    result = ws.ingest("orders", files / "o.csv")
    assert (result.updated, result.duplicates) == (1, 1)
    assert ws.count("did order_completed at least 2 times", as_of=AS_OF) == 0
