"""Meta and Google customer lists: the normalised values written out by hand here, their
hashes computed here with hashlib, against what DuckDB computes from the expressions."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pytest

from segmint.activation.audiences import (
    GOOGLE_COLUMNS,
    META_COLUMNS,
    PROFILE_COLUMNS,
    google_audience,
    meta_audience,
)
from segmint.activation.files import write_members
from segmint.engine.dialects import BACKENDS
from segmint.engine.duckdb import DuckDBEngine

EMPTY_HASH = hashlib.sha256(b"").hexdigest()


def h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def engine() -> DuckDBEngine:
    return DuckDBEngine(duckdb.connect())


def profiles(engine: DuckDBEngine, rows: list[dict[str, Any]], columns=PROFILE_COLUMNS) -> Any:
    """The rows as a temporary table ``profiles`` (columns missing from a row are NULL)."""
    schema = pa.schema([(c, pa.string()) for c in columns])
    table = pa.Table.from_pylist(
        [{"customer_id": f"c{i}", **row} for i, row in enumerate(rows)], schema=schema
    )
    engine.create_table("profiles", table, temporary=True)
    return ibis.table({c: "string" for c in columns}, name="profiles")


def meta(engine: DuckDBEngine, **row: Any) -> dict[str, Any]:
    result: dict[str, Any] = engine.to_arrow(meta_audience(profiles(engine, [row]))).to_pylist()[0]
    return result


def google(engine: DuckDBEngine, **row: Any) -> dict[str, Any]:
    t = profiles(engine, [row])
    result: dict[str, Any] = engine.to_arrow(google_audience(t)).to_pylist()[0]
    return result


def test_layouts_have_each_platforms_column_names(engine: DuckDBEngine) -> None:
    t = profiles(engine, [{}])
    assert tuple(engine.to_arrow(meta_audience(t)).column_names) == META_COLUMNS
    assert tuple(engine.to_arrow(google_audience(t)).column_names) == GOOGLE_COLUMNS


def test_email_is_trimmed_and_lower_case(engine: DuckDBEngine) -> None:
    expected = h("john.doe@example.com")
    assert meta(engine, email="  John.Doe@Example.COM ")["email"] == expected
    assert google(engine, email="  John.Doe@Example.COM ")["Email"] == expected


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+1 (650) 555-1234", None, "16505551234"),  # international as written
        ("+1 (650) 555-1234", "FR", "16505551234"),  # the '+' wins over the country
        ("0044 20 7946 0958", None, "442079460958"),  # 00 is the international prefix
        ("020 7946 0958", "GB", "442079460958"),  # trunk 0 dropped, 44 from the country
        ("06 12 34 56 78", "FR", "33612345678"),
        ("06 12 34 56 78", " fr ", "33612345678"),
        ("1-650-555-1234", "us", "16505551234"),  # NANP's trunk 1
        ("(650) 555.1234", "US", "16505551234"),
        ("06 1234 5678", "IT", "390612345678"),  # Italy keeps the leading 0
        ("8 912 345-67-89", "RU", "79123456789"),  # Russia's trunk 8
    ],
)
def test_phone_is_e164_without_plus_for_meta_with_plus_for_google(
    engine: DuckDBEngine, raw: str, country: str | None, e164: str
) -> None:
    assert meta(engine, phone=raw, country=country)["phone"] == h(e164)
    assert google(engine, phone=raw, country=country)["Phone"] == h("+" + e164)


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("650 555 1234", None),  # national, no country: no phone
        ("650 555 1234", "XX"),  # an unknown country
        ("650 555 1234", "USA"),  # not a two-letter code
        ("+1 234 567 890 123 456", None),  # 16 digits: past E.164
        ("n/a", "US"),
        ("", "US"),
        (None, "US"),
    ],
)
def test_no_phone_when_it_cannot_be_e164(
    engine: DuckDBEngine, raw: str | None, country: str | None
) -> None:
    assert meta(engine, phone=raw, country=country)["phone"] is None
    assert google(engine, phone=raw, country=country)["Phone"] is None


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Zoë", "zoë"),
        ("Jean-Luc", "jeanluc"),
        ("O'Brien", "obrien"),
        ("Müller", "müller"),
        ("  ANNA ", "anna"),
        ("ÉLODIE", "élodie"),
        ("Mary Ann", "maryann"),
        ("J.", "j"),
    ],
)
def test_names_keep_letters_only_in_lower_case(
    engine: DuckDBEngine, raw: str, normalised: str
) -> None:
    row = meta(engine, first_name=raw, last_name=raw)
    assert row["fn"] == row["ln"] == h(normalised)
    row = google(engine, first_name=raw, last_name=raw)
    assert row["First Name"] == row["Last Name"] == h(normalised)


def test_zip_country_city_and_state(engine: DuckDBEngine) -> None:
    us = {"zip": "94043-1351", "country": "US", "city": "Mountain View", "state": "CA"}
    assert meta(engine, **us) == {
        "email": None,
        "phone": None,
        "fn": None,
        "ln": None,
        "zip": h("94043"),
        "ct": h("mountainview"),
        "st": h("ca"),
        "country": h("us"),
        "extern_id": "c0",
    }
    # Google wants Country and Zip in plain text.
    assert google(engine, **us)["Country"] == "us"
    assert google(engine, **us)["Zip"] == "94043"
    fr = {"zip": "75001", "country": " fr ", "city": "Saint-Étienne", "state": "Île-de-France"}
    row = meta(engine, **fr)
    assert (row["zip"], row["country"]) == (h("75001"), h("fr"))
    assert (row["ct"], row["st"]) == (h("saintetienne"), h("iledefrance"))
    assert google(engine, **fr)["Country"] == "fr"
    # Meta: a US ZIP's first 5 digits; a UK postcode's area, district and sector.
    assert meta(engine, zip="940431351", country="us")["zip"] == h("94043")
    assert meta(engine, zip="SW1A 1AA", country="GB")["zip"] == h("sw1a1")
    assert google(engine, zip=" SW1A 1AA ", country="GB")["Zip"] == "sw1a 1aa"


def test_missing_fields_are_empty_cells_never_the_hash_of_nothing(
    engine: DuckDBEngine,
) -> None:
    blank = dict.fromkeys(PROFILE_COLUMNS[1:], "")
    spaces = dict.fromkeys(PROFILE_COLUMNS[1:], "   ")
    t = profiles(engine, [{}, blank, spaces, {"zip": "-1351", "first_name": "'-."}])
    for layout in (meta_audience, google_audience):
        rows = engine.to_arrow(layout(t)).to_pylist()
        values = [v for row in rows for k, v in row.items() if k != "extern_id"]
        assert values == [None] * len(values)
    out = io.StringIO()
    write_members(engine.to_arrow(meta_audience(t)), "csv", None, out)
    assert out.getvalue().splitlines()[1:] == [
        ",,,,,,,,c0",
        ",,,,,,,,c1",
        ",,,,,,,,c2",
        ",,,,,,,,c3",
    ]
    assert EMPTY_HASH not in out.getvalue()


def test_columns_missing_from_the_catalog_are_empty(engine: DuckDBEngine) -> None:
    t = profiles(engine, [{"email": "a@b.co"}], columns=("customer_id", "email"))
    assert engine.to_arrow(meta_audience(t)).to_pylist() == [
        {**dict.fromkeys(META_COLUMNS), "email": h("a@b.co"), "extern_id": "c0"}
    ]
    google_row = engine.to_arrow(google_audience(t)).to_pylist()[0]
    assert google_row == {**dict.fromkeys(GOOGLE_COLUMNS), "Email": h("a@b.co")}


def test_extern_id_is_the_customer_id_unhashed(engine: DuckDBEngine) -> None:
    t = profiles(engine, [{}, {}])
    assert engine.to_arrow(meta_audience(t)).column("extern_id").to_pylist() == ["c0", "c1"]


@pytest.mark.parametrize(("backend", "dialect"), [("postgres", "postgres"), ("spark", "pyspark")])
def test_compiles_for_postgres_and_spark(backend: str, dialect: str) -> None:
    t = ibis.table({c: "string" for c in PROFILE_COLUMNS}, name="profiles")
    meta_sql = ibis.to_sql(meta_audience(t, BACKENDS[backend]), dialect=dialect)
    google_sql = ibis.to_sql(google_audience(t, BACKENDS[backend]), dialect=dialect)
    if backend == "postgres":
        # No \p{L} in PostgreSQL's regular expressions; sha256() takes bytes.
        assert "[^[:alpha:]]" in meta_sql and "\\p{L}" not in meta_sql
        assert "ENCODE(SHA256(CONVERT_TO(" in meta_sql.replace("\n", "").replace(" ", "")
    else:
        assert "SHA2(" in meta_sql and "SHA2(" in google_sql
    # The calling codes, from the phonenumbers metadata.
    assert "WHEN 'gb' THEN '44'" in " ".join(meta_sql.split())
