"""Customer identifiers normalised and hashed for Meta Custom Audiences and Google Customer
Match, as Ibis expressions: the engine normalises and hashes every row (no Python per row).

The rules follow each platform's documentation (docs/activation.md quotes them):

- Meta, "Hashing and Normalizing Data":
  https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash
  and the customer-list columns:
  https://www.facebook.com/business/help/2082575038703844
- Google, Customer Match data files:
  https://support.google.com/google-ads/answer/7659867 (columns),
  https://support.google.com/google-ads/answer/7476159 (hashed data) and
  https://support.google.com/google-ads/answer/7474263 (Country and Zip are not hashed).

A value that normalises to nothing is NULL, written as an empty cell: never the hash of an
empty string, which would match nobody and say that the field was blank.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from segmint.engine.dialects import BACKENDS, Backend

if TYPE_CHECKING:
    import ibis.expr.types as ir

# The columns read from a profiles-like table; any but customer_id may be missing.
PROFILE_COLUMNS = (
    "customer_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "zip",
    "city",
    "state",
    "country",
)
META_COLUMNS = ("email", "phone", "fn", "ln", "zip", "ct", "st", "country", "extern_id")
GOOGLE_COLUMNS = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
# E.164 numbers have at most 15 digits, the country code included.
E164_MAX_DIGITS = 15
# Letters a Roman-alphabet field (Meta's ct and st: "a-z only") spells with two letters;
# the other accented Latin letters lose their accent (_accents).
_LIGATURES = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th"}


def _null() -> ir.StringValue:
    import ibis

    value: ir.StringValue = ibis.null().cast("string")
    return value


def _nonempty(value: ir.StringValue) -> ir.StringValue:
    return value.nullif("")


def email(value: ir.StringValue) -> ir.StringValue:
    """Trimmed and lower-case; Google also drops spaces inside, which no valid address has."""
    return _nonempty(value.re_replace(r"\s", "").lower())


def country(value: ir.StringValue) -> ir.StringValue:
    """The ISO 3166-1 alpha-2 code, lower-case; NULL unless two letters a-z."""
    import ibis

    code = value.strip().lower()
    result: ir.StringValue = ibis.ifelse(code.re_search("^[a-z]{2}$"), code, _null())
    return result


@cache
def _regions() -> tuple[tuple[str, str, str | None], ...]:
    """(region, calling code, national prefix) for each region that the ``phonenumbers``
    metadata (Google's libphonenumber) knows, the region in lower case."""
    import phonenumbers

    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = metadata.national_prefix if metadata is not None else None
        found.append((region.lower(), str(phonenumbers.country_code_for_region(region)), prefix))
    return tuple(found)


def calling_code(code: ir.StringValue, backend: Backend | None = None) -> ir.StringValue:
    """The calling code (``44``) of a normalised two-letter country (``gb``); NULL for an
    unknown one. A lookup in the phonenumbers metadata, built when the query is built (a
    CASE, or a map where the engine looks one up faster: ``Backend.lookup``)."""
    return (backend or BACKENDS["duckdb"]).lookup(code, {r: c for r, c, _ in _regions()})


def _national(digits: ir.StringValue, code: ir.StringValue) -> ir.StringValue:
    """``digits`` without the trunk prefix that the country dials before a national number:
    leading zeros where it is 0 (UK, France), the 1 of NANP, the 8 of Russia, the 06 of
    Hungary. Where a country has none (Italy), a leading 0 is part of the number."""
    import ibis

    prefixes: dict[str, list[str]] = {}
    for region, _, prefix in _regions():
        if prefix:
            prefixes.setdefault(prefix, []).append(region)
    branches = [
        (code.isin(regions), digits.re_replace("^0+" if prefix == "0" else f"^{prefix}", ""))
        for prefix, regions in sorted(prefixes.items())
    ]
    result: ir.StringValue = ibis.cases(*branches, else_=digits)
    return result


def phone(
    value: ir.StringValue, country_value: ir.StringValue, backend: Backend | None = None
) -> ir.StringValue:
    """The E.164 digits without '+': a number written with '+' or ``00`` is international
    as written; any other is national, its trunk prefix dropped and the calling code of
    ``country_value`` (the profile's country, any case) put first. NULL without digits,
    for a national number without a known country, and past 15 digits."""
    text = value.strip()
    return _e164(text, text.re_replace("[^0-9]", ""), country_value.strip().lower(), backend)


def _e164(
    text: ir.StringValue, digits: ir.StringValue, code: ir.StringValue, backend: Backend | None
) -> ir.StringValue:
    """:func:`phone` from the trimmed number, its digits and the trimmed lower-case country
    (only two-letter codes match a region, so the country needs no other check)."""
    import ibis

    international = text.startswith("+") | digits.startswith("00")
    # After '+' or 00 comes a country code, which never starts with 0.
    e164 = ibis.ifelse(
        international,
        digits.re_replace("^0+", ""),
        calling_code(code, backend) + _nonempty(_national(digits, code)),
    )
    # Too long becomes empty, then NULL.
    too_long = f"^[0-9]{{{E164_MAX_DIGITS + 1},}}$"
    return _nonempty(e164.re_replace(too_long, ""))


def name(value: ir.StringValue, backend: Backend | None = None) -> ir.StringValue:
    """Lower-case letters only: spaces, hyphens, apostrophes and dots dropped. Letters of
    any script stay as they are (UTF-8): Meta's rules say that first and last names "support
    special characters and non-Roman alphabets" (custom-audiences#hash above), and Google's
    template (answer/7659867) writes "zoë" and "pérez" with their accents."""
    letter = (backend or BACKENDS["duckdb"]).LETTER
    return _nonempty(value.lower().re_replace(f"[^{letter}]", ""))


@cache
def _accents() -> tuple[str, str]:
    """Each lower-case accented Latin letter (U+00C0-U+024F) and its base letter a-z, from
    the Unicode decompositions, for one TRANSLATE."""
    import unicodedata

    pairs = []
    for point in range(0xC0, 0x250):
        letter = chr(point)
        base = unicodedata.normalize("NFD", letter)[0]
        if letter.islower() and base != letter and "a" <= base <= "z":
            pairs.append((letter, base))
    return "".join(a for a, _ in pairs), "".join(b for _, b in pairs)


def roman(value: ir.StringValue, backend: Backend | None = None) -> ir.StringValue:
    """Meta's city and state: "a-z only", lower-case, without punctuation, special
    characters or white space; accented letters lose the accent (São Paulo: saopaulo)."""
    text = value.lower()
    for letter, spelled in _LIGATURES.items():
        text = text.replace(letter, spelled)
    source, target = _accents()
    plain = (backend or BACKENDS["duckdb"]).strip_accents(text, source, target)
    return _nonempty(plain.re_replace("[^a-z]", ""))


def zip_code(value: ir.StringValue) -> ir.StringValue:
    """The postal code before any '-' (a US ZIP+4's extension), trimmed and lower-case."""
    return _nonempty(_zip_text(value))


def _zip_text(value: ir.StringValue) -> ir.StringValue:
    return value.re_replace("-.*$", "").strip().lower()


def meta_zip(value: ir.StringValue, country_value: ir.StringValue) -> ir.StringValue:
    """Meta's ZIP: lower-case without white space; in the US the first 5 digits, in the UK
    the area, district and sector (a full postcode without its last two letters)."""
    return _meta_zip(_zip_text(value), country_value.strip().lower())


def _meta_zip(zip_text: ir.StringValue, code: ir.StringValue) -> ir.StringValue:
    import ibis

    text = _nonempty(zip_text.re_replace(r"\s", ""))
    uk_full = (code == "gb") & text.re_search("^[a-z0-9]{2,4}[0-9][a-z]{2}$")
    result: ir.StringValue = ibis.cases(
        (code == "us", text.left(5)),
        (uk_full, text.substr(0, text.length() - 2)),
        else_=text,
    )
    return result


def sha256(value: ir.StringValue, backend: Backend | None = None) -> ir.StringValue:
    """The SHA-256 of the UTF-8 bytes of ``value`` as 64 lower-case hex digits; NULL for
    NULL or an empty string."""
    return (backend or BACKENDS["duckdb"]).sha256_hex(_nonempty(value))


def _column(profiles: ir.Table, column: str) -> ir.StringValue:
    """``profiles[column]`` as text, or NULL where the catalog has no such column."""
    if column not in profiles.columns:
        return _null()
    value: ir.StringValue = profiles[column].cast("string")
    return value


# The normalised identifiers (before hashing) that :func:`normalised` adds to a table.
NORMALISED = (
    "n_email",
    "n_e164",
    "n_fn",
    "n_ln",
    "n_zip",
    "n_meta_zip",
    "n_ct",
    "n_st",
    "n_country",
)


# What each normalised identifier is built from (the :func:`primitives` it needs).
NEEDS = {
    "n_email": ("n_email",),
    "n_e164": ("n_phone", "n_digits", "n_code"),
    "n_fn": ("n_fn",),
    "n_ln": ("n_ln",),
    "n_zip": ("n_zip_text",),
    "n_meta_zip": ("n_zip_text", "n_code"),
    "n_ct": ("n_ct",),
    "n_st": ("n_st",),
    "n_country": ("n_country",),
}


def primitives(
    profiles: ir.Table,
    backend: Backend | None = None,
    names: dict[str, str] | None = None,
    wanted: Sequence[str] = NORMALISED,
) -> ir.Table:
    """``profiles`` with each identifier normalised on its own (the first of two steps of
    :func:`normalised`), those that the ``wanted`` identifiers need; ``names`` maps a
    field (``zip``, ``state``, ...) to the column that holds it where the names differ."""
    where = names or {}

    def col(field: str) -> ir.StringValue:
        return _column(profiles, where.get(field, field))

    def text() -> ir.StringValue:
        return col("phone").strip()

    build: dict[str, Callable[[], ir.Value]] = {
        "n_email": lambda: email(col("email")),
        "n_phone": text,
        "n_digits": lambda: text().re_replace("[^0-9]", ""),
        "n_code": lambda: col("country").strip().lower(),
        "n_country": lambda: country(col("country")),
        "n_fn": lambda: name(col("first_name"), backend),
        "n_ln": lambda: name(col("last_name"), backend),
        "n_zip_text": lambda: _zip_text(col("zip")),
        "n_ct": lambda: roman(col("city"), backend),
        "n_st": lambda: roman(col("state"), backend),
    }
    needed = dict.fromkeys(part for field in wanted for part in NEEDS[field])
    return profiles.mutate(**{part: build[part]() for part in needed})


def fields(table: ir.Table, backend: Backend | None = None) -> ir.Table:
    """The identifiers built from several of :func:`primitives`' columns: the phone in
    E.164, the ZIP for each platform (those whose parts ``table`` has). Kept apart because
    DuckDB writes an expression out again wherever it is referenced (in ``NULLIF``, in the
    branches of a CASE) and does not share it: a whole phone expression over the raw
    columns costs seconds at 400k rows, over stored primitives a fraction. An export
    stores each step in a table."""
    t = table
    built: dict[str, ir.Value] = {}
    if "n_digits" in t.columns:
        built["n_e164"] = _e164(t.n_phone, t.n_digits, t.n_code, backend)
    if "n_zip_text" in t.columns:
        built["n_zip"] = _nonempty(t.n_zip_text)
        built["n_meta_zip"] = _meta_zip(t.n_zip_text, t.n_code)
    return t.mutate(**built) if built else t


def normalised(profiles: ir.Table, backend: Backend | None = None) -> ir.Table:
    """``profiles`` with the normalised identifiers (``NORMALISED``) as one expression."""
    return fields(primitives(profiles, backend), backend)


def meta_layout(
    table: ir.Table, backend: Backend | None = None, keep: Sequence[str] = ()
) -> ir.Table:
    """Meta's columns from a :func:`normalised` table: each identifier hashed,
    ``extern_id`` the customer id as it is (Meta: "you don't need to hash this ID"); the
    columns ``keep`` go first, as they are."""

    def hashed(value: ir.StringValue) -> ir.StringValue:
        return sha256(value, backend)

    t = table
    return t.select(
        *keep,
        email=hashed(t.n_email),
        phone=hashed(t.n_e164),
        fn=hashed(t.n_fn),
        ln=hashed(t.n_ln),
        zip=hashed(t.n_meta_zip),
        ct=hashed(t.n_ct),
        st=hashed(t.n_st),
        country=hashed(t.n_country),
        extern_id=t.customer_id.cast("string"),
    )


def google_layout(
    table: ir.Table, backend: Backend | None = None, keep: Sequence[str] = ()
) -> ir.Table:
    """Google's columns from a :func:`normalised` table: Email, Phone (E.164 with '+'),
    First Name and Last Name hashed; Country and Zip in plain text, as Google requires
    (answer/7474263); the columns ``keep`` go first, as they are."""

    def hashed(value: ir.StringValue) -> ir.StringValue:
        return sha256(value, backend)

    t = table
    columns = {
        "Email": hashed(t.n_email),
        "Phone": hashed("+" + t.n_e164),
        "First Name": hashed(t.n_fn),
        "Last Name": hashed(t.n_ln),
        "Country": t.n_country,
        "Zip": t.n_zip,
    }
    return t.select(*keep, **columns)


def meta_audience(
    profiles: ir.Table, backend: Backend | None = None, keep: Sequence[str] = ()
) -> ir.Table:
    """A Meta customer list from a profiles-like table, as one expression."""
    return meta_layout(normalised(profiles, backend), backend, keep)


def google_audience(
    profiles: ir.Table, backend: Backend | None = None, keep: Sequence[str] = ()
) -> ir.Table:
    """A Google Customer Match list from a profiles-like table, as one expression."""
    return google_layout(normalised(profiles, backend), backend, keep)
