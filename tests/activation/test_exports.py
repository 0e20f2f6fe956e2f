"""Exports against an independent evaluation on random customers: who is in the segment,
who is left out and why, every destination's columns and values (computed here in plain
Python with hashlib), and deltas that turn the last export into the next one."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import segmint
from segmint.errors import ArgumentError
from tests.conftest import run_cli

AS_OF = "2026-06-01T00:00:00Z"
COUNTRIES = ["US", "DE", "FR", "GB", "it", None]
CALLING = {"US": "1", "DE": "49", "FR": "33", "GB": "44"}
FIRST = ["Anna", "  JOHN ", "Zoë", "Jean-Luc", "O'Neil", "", None, "Łukasz"]
LAST = ["Smith", "Müller", "de la Cruz", None, "D'Arcy"]
RULE = 'country in ["US", "DE", "GB"]'


def h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def people(seed: int, n: int = 240) -> list[dict[str, Any]]:
    """Random customers with the awkward cases: emails with capitals and spaces, phones
    national or international with punctuation, names with accents, missing fields."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        country = rng.choice(COUNTRIES)
        email = rng.choice([f"  User{i}@Example.COM ", f"user{i}@shop.test", None, ""])
        local = f"{rng.randrange(10**8, 10**9)}"
        phone = rng.choice([f"0{local[:3]} {local[3:]}", f"+49-{local}", None, f"({local})"])
        bools = [True, False, None]
        out.append(
            {
                "customer_id": f"C{i:04d}",
                "email": email,
                "phone": phone,
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "postal_code": rng.choice(["94043-1351", "75001", None, "SW1A 1AA"]),
                "city": rng.choice(["Mountain View", "Saint-Étienne", None]),
                "region": rng.choice(["CA", None]),
                "country": country,
                "email_consent": rng.choice(bools),
                "sms_consent": rng.choice(bools),
                "ads_consent": rng.choice(bools),
                "score": rng.choice([12.5, -3.0, None, 100.0]),
                "created_at": "2025-01-01T00:00:00Z",
            }
        )
    return out


def load(ws: segmint.Workspace, rows: list[dict[str, Any]], folder: Path) -> None:
    path = folder / "customers.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    ws.ingest("customers", path)


# The independent evaluation -----------------------------------------------------------


def norm_email(value: str | None) -> str | None:
    text = re.sub(r"\s", "", value or "").lower()
    return text or None


def e164(phone: str | None, country: str | None) -> str | None:
    if not phone:
        return None
    digits = re.sub(r"[^0-9]", "", phone)
    if phone.strip().startswith("+") or digits.startswith("00"):
        return digits.lstrip("0") or None
    code = (country or "").strip().upper()
    if code not in CALLING or not digits:
        return None
    national = digits[1:] if code == "US" and digits.startswith("1") else digits
    national = national if code == "US" else national.lstrip("0")
    return (CALLING[code] + national) if national else None


def letters(value: str | None) -> str | None:
    text = "".join(ch for ch in (value or "").lower() if ch.isalpha())
    return text or None


def member(p: dict[str, Any]) -> bool:
    return p["country"] in ("US", "DE", "GB")


def reason(p: dict[str, Any], to: str, suppressed: set[str]) -> str | None:
    email = norm_email(p["email"])
    if p["customer_id"] in suppressed or (email is not None and email in suppressed):
        return "suppressed"
    phone = e164(p["phone"], p["country"])
    if to == "mailchimp":
        if email is None:
            return "no email"
        return None if p["email_consent"] else "no email consent"
    if to == "klaviyo":
        if email is None and phone is None:
            return "no email or phone"
        ok = (email is not None and p["email_consent"]) or (phone is not None and p["sms_consent"])
        return None if ok else "no email or SMS consent"
    if to in ("meta", "google"):
        if not p["ads_consent"]:
            return "no ads consent"
        names = letters(p["first_name"]) is not None and letters(p["last_name"]) is not None
        if to == "google":
            country = (p["country"] or "").strip().lower()
            zip_ok = bool((p["postal_code"] or "").split("-")[0].strip())
            names = names and len(country) == 2 and zip_ok
        return None if (email or phone or names) else "no identifier to match"
    return None


def hashed(value: str | None) -> str:
    return "" if value is None else h(value)


def expected_row(p: dict[str, Any], to: str, segment: str) -> dict[str, str]:
    email = norm_email(p["email"])
    phone = e164(p["phone"], p["country"])

    def plain(value: str | None) -> str:
        return (value or "").strip()

    if to == "csv":
        return {"customer_id": p["customer_id"], "email": p["email"] or ""}
    if to == "mailchimp":
        return {
            "Email Address": plain(p["email"]),
            "First Name": plain(p["first_name"]),
            "Last Name": plain(p["last_name"]),
            "Tags": segment,
        }
    if to == "klaviyo":
        email_ok = email is not None and bool(p["email_consent"])
        sms_ok = phone is not None and bool(p["sms_consent"])
        return {
            "Email": plain(p["email"]) if email_ok else "",
            "Phone Number": f"+{phone}" if sms_ok else "",
            "First Name": plain(p["first_name"]),
            "Last Name": plain(p["last_name"]),
            "Email Marketing Consent": "TRUE" if email_ok else "FALSE",
            "SMS Marketing Consent": "TRUE" if sms_ok else "FALSE",
        }
    country = (p["country"] or "").strip().lower() or None
    if to == "google":
        zip_code = (p["postal_code"] or "").split("-")[0].strip().lower() or None
        return {
            "Email": hashed(email),
            "Phone": hashed(None if phone is None else "+" + phone),
            "First Name": hashed(letters(p["first_name"])),
            "Last Name": hashed(letters(p["last_name"])),
            "Country": country or "",
            "Zip": zip_code or "",
            "value": f"{max(p['score'] or 0.0, 0.0):.1f}",
        }
    raise AssertionError(to)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# Tests --------------------------------------------------------------------------------


@pytest.fixture
def shop(tmp_path: Path) -> tuple[segmint.Workspace, list[dict[str, Any]]]:
    ws = segmint.init(tmp_path / "ws")
    rows = people(seed=7)
    load(ws, rows, tmp_path)
    ws.add_segment("core", RULE)
    return ws, rows


@pytest.mark.parametrize("to", ["csv", "mailchimp", "klaviyo", "google"])
def test_a_full_export_matches_an_independent_evaluation(
    shop: tuple[segmint.Workspace, list[dict[str, Any]]], tmp_path: Path, to: str
) -> None:
    ws, rows = shop
    suppressed = {"C0003", "user10@shop.test", "user11@example.com"}
    ws.suppress(["C0003", "user10@shop.test", " User11@Example.com"])
    options: dict[str, Any] = {"columns": ["email"]} if to == "csv" else {}
    if to == "google":
        options["value"] = "score"
    result = ws.export("core", to, tmp_path / f"{to}.csv", as_of=AS_OF, **options)
    inside = [p for p in rows if member(p)]
    reasons = [reason(p, to, suppressed) for p in inside]
    expected = [
        expected_row(p, to, "core") for p, r in zip(inside, reasons, strict=True) if r is None
    ]
    left: dict[str, int] = {}
    for r in reasons:
        if r is not None:
            left[r] = left.get(r, 0) + 1
    assert result.members == len(inside)
    assert result.left_out == left
    assert result.exported == len(expected) == result.added
    got = read_csv(result.file)
    if to == "google":
        for row in got:
            row["value"] = f"{float(row['value']):.1f}"
    key = next(iter(expected[0]))
    assert sorted(got, key=lambda r: json.dumps(r)) == sorted(expected, key=lambda r: json.dumps(r))
    assert list(got[0]) == list(expected[0]), key
    assert not any(cell == h("") for row in got for cell in row.values())
    if to == "google":
        assert any("Google" in w for w in result.warnings)  # below 1,000 people


def apply(previous: dict[str, dict[str, str]], delta: list[dict[str, str]]) -> dict[str, Any]:
    """A generic file's delta applied to the last full export, keyed by customer id."""
    now = dict(previous)
    for row in delta:
        change = row.pop("change")
        if change == "remove":
            now.pop(row["customer_id"])
        else:
            now[row["customer_id"]] = row
    return now


def test_deltas_turn_the_last_export_into_the_next(
    shop: tuple[segmint.Workspace, list[dict[str, Any]]], tmp_path: Path
) -> None:
    ws, rows = shop
    first = ws.export("core", "csv", tmp_path / "d0.csv", as_of=AS_OF, delta=True)
    assert first.removed == 0 and first.added == first.exported  # a first sync is full
    sent = {r["customer_id"]: r for r in read_csv(first.file)}
    for row in sent.values():
        assert row.pop("change") == "add"
    # Some leave (country), some come, some change email, one is suppressed.
    rng = random.Random(3)
    changed = []
    for p in rng.sample(rows, 60):
        q = dict(p)
        if rng.random() < 0.5:
            q["country"] = rng.choice(COUNTRIES)
        else:
            q["email"] = f"new{p['customer_id']}@x.test"
        changed.append(q)
    by_id = {p["customer_id"]: p for p in rows} | {q["customer_id"]: q for q in changed}
    load(ws, changed, tmp_path)
    ws.suppress([next(iter(sent))])
    second = ws.export("core", "csv", tmp_path / "d1.csv", as_of=AS_OF, delta=True)
    full = ws.export("core", "csv", tmp_path / "full.csv", as_of=AS_OF)
    expected = {r["customer_id"]: r for r in read_csv(full.file)}
    assert apply(sent, read_csv(second.file)) == expected
    assert second.added + second.removed == len(read_csv(second.file))
    assert second.removed >= 1
    # Nothing changed since: an empty delta.
    third = ws.export("core", "csv", tmp_path / "d2.csv", as_of=AS_OF, delta=True)
    assert (third.added, third.removed) == (0, 0)
    assert [e["delta"] for e in ws.export_history("core")] == [True, True, False, True]
    assert len(by_id) == len(rows)


def test_a_meta_delta_removes_the_old_hashes_when_an_email_changes(
    shop: tuple[segmint.Workspace, list[dict[str, Any]]], tmp_path: Path
) -> None:
    ws, rows = shop
    first = ws.export("core", "meta", tmp_path / "m.csv", as_of=AS_OF, delta=True)
    assert first.remove_file == tmp_path / "m.remove.csv"
    assert read_csv(first.remove_file) == []
    sent = read_csv(first.file)
    target = next(p for p in rows if member(p) and p["ads_consent"] and norm_email(p["email"]))
    load(ws, [{**target, "email": "Moved@Example.org"}], tmp_path)
    second = ws.export("core", "meta", tmp_path / "m2.csv", as_of=AS_OF, delta=True)
    (added,) = read_csv(second.file)
    (removed,) = read_csv(second.remove_file)  # type: ignore[arg-type]
    old = next(r for r in sent if r["extern_id"] == target["customer_id"])
    assert removed == old
    assert added["email"] == h("moved@example.org") and added["extern_id"] == target["customer_id"]
    assert (second.added, second.removed) == (1, 1)


def test_mailchimp_removals_carry_a_tag_and_klaviyo_a_change_column(
    shop: tuple[segmint.Workspace, list[dict[str, Any]]], tmp_path: Path
) -> None:
    ws, rows = shop
    ws.export("core", "mailchimp", tmp_path / "a.csv", as_of=AS_OF)
    ws.export("core", "klaviyo", tmp_path / "k.csv", as_of=AS_OF)
    leaver = next(p for p in rows if member(p) and p["email_consent"] and norm_email(p["email"]))
    load(ws, [{**leaver, "country": "FR"}], tmp_path)
    mail = ws.export("core", "mailchimp", tmp_path / "b.csv", as_of=AS_OF, delta=True)
    assert read_csv(mail.file) == [
        {
            "Email Address": leaver["email"].strip(),
            "First Name": "",
            "Last Name": "",
            "Tags": "core-removed",
        }
    ]
    klaviyo = ws.export("core", "klaviyo", tmp_path / "k2.csv", as_of=AS_OF, delta=True)
    (row,) = read_csv(klaviyo.file)
    assert row["change"] == "remove" and row["Email"] == leaver["email"].strip()


def test_parquet_and_jsonl_keep_types_and_the_ledger_says_what_was_done(
    shop: tuple[segmint.Workspace, list[dict[str, Any]]], tmp_path: Path
) -> None:
    ws, rows = shop
    columns = ["score", "email_consent", "orders_count"]
    parquet = ws.export("core", "parquet", tmp_path / "c.parquet", as_of=AS_OF, columns=columns)
    table = pq.read_table(parquet.file)
    assert table.column_names == ["customer_id", *columns]
    assert pa.types.is_floating(table.schema.field("score").type)
    assert table.num_rows == sum(member(p) for p in rows)
    jsonl = ws.export("core", "jsonl", tmp_path / "c.jsonl", as_of=AS_OF, columns=["score"])
    lines = [json.loads(line) for line in jsonl.file.read_text().splitlines()]
    assert {line["customer_id"] for line in lines} == set(table.column("customer_id").to_pylist())
    (entry, second) = ws.export_history()
    assert entry["segment"] == "core" and entry["destination"] == "parquet"
    assert entry["file"] == str(tmp_path / "c.parquet") and entry["version"] is None
    assert second["exported"] == len(lines) and not second["delta"]


def test_export_follows_the_last_refresh_and_records_its_version(
    shop: tuple[segmint.Workspace, list[dict[str, Any]]], tmp_path: Path
) -> None:
    ws, _ = shop
    ws.refresh(as_of=AS_OF)
    result = ws.export("core", "csv", tmp_path / "r.csv")
    assert result.as_of.isoformat() == "2026-06-01T00:00:00+00:00"
    assert result.version == 1
    assert result.members == ws.refresh(as_of=AS_OF).runs[0].size


def test_bad_requests_are_one_clear_error(
    shop: tuple[segmint.Workspace, list[dict[str, Any]]], tmp_path: Path
) -> None:
    ws, _ = shop
    cases: list[tuple[dict[str, Any], str]] = [
        ({"to": "facebook"}, "--to: expected one of"),
        ({"to": "csv", "value": "score"}, "--value adds a value column"),
        ({"to": "meta", "value": "email"}, "numeric attribute"),
        ({"to": "meta", "columns": ["email"]}, "--columns applies to"),
        ({"to": "csv", "columns": ["emial"]}, "did you mean 'email'"),
    ]
    for options, message in cases:
        with pytest.raises(ArgumentError, match=re.escape(message)):
            ws.export("core", out=tmp_path / "x.csv", as_of=AS_OF, **options)
    assert ws.export_history() == []


def test_an_ad_audience_needs_the_consent_attribute(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "ws")
    rows = [{k: v for k, v in p.items() if k != "ads_consent"} for p in people(seed=1, n=20)]
    load(ws, rows, tmp_path)
    ws.add_segment("core", RULE)
    with pytest.raises(ArgumentError, match="needs ads consent, read from the attribute"):
        ws.export("core", "meta", tmp_path / "m.csv", as_of=AS_OF)


def test_the_cli_exports_reports_and_lists_the_ledger(
    shop: tuple[segmint.Workspace, list[dict[str, Any]]], tmp_path: Path
) -> None:
    ws, _ = shop
    root = ws.root
    ws.close()
    (tmp_path / "suppress.txt").write_text("email\n# from the CRM\nuser5@shop.test\nC0001\n\n")
    done = run_cli(root, "suppress", "add", "--file", str(tmp_path / "suppress.txt"))
    assert done.returncode == 0 and "suppressed 2 new entries" in done.stdout, done.stderr
    done = run_cli(root, "export", "core", "--to", "mailchimp", "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert "left out, no email consent:" in done.stdout
    written = list((root / "exports").glob("core-mailchimp-*.csv"))
    assert len(written) == 1
    done = run_cli(root, "export", "core", "--to", "meta", "--json", "--as-of", AS_OF)
    report = json.loads(done.stdout)
    assert report["destination"] == "meta" and "warning: the audience has" in done.stderr
    done = run_cli(root, "export", "history")
    assert done.returncode == 0 and "core -> mailchimp  full" in done.stdout
    for args, message in [
        (("export", "cor", "--to", "csv"), "did you mean 'core'"),
        (("export", "core", "--to", "csv", "--out", "/no/such/dir/x.csv"), "no such folder"),
        (("export", "core", "--to", "csv", "--out", str(tmp_path)), "is a folder"),
        (("suppress", "add"), "give emails or customer ids"),
    ]:
        done = run_cli(root, *args)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
