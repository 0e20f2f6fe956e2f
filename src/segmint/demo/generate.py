"""Synthetic demo shop: the four input files of DESIGN.md section 3, reproducibly.

``generate_shop`` writes ``customers.jsonl``, ``events.csv`` (web and email events),
``app_events.jsonl`` and ``orders.csv`` for a sports shop over the two years before ``end``. The
data is shaped so that the demo's segments have something to find: skewed activity (a few heavy
customers, many light ones), weekly and yearly seasonality (November and December peaks), churned
and new customers, anonymous visitors of whom some later identify, email campaigns with opens and
clicks, app users who drift away, never-buyers, one-time and repeat buyers, and a few deliberately
bad rows that an ingest must reject (``BAD_EVENT_ROWS``, ``BAD_ORDER_ROWS``).

Every value is drawn from one ``numpy.random.default_rng(seed)`` stream in a fixed order, so the
same (customers, seed, end) gives byte-identical files for a given numpy version. Customers' phone
numbers, postal codes and ads consent come from a child stream spawned from it (``_draw_contact``),
which leaves the parent's draws, and so every other value, as they were before those fields. All
work is vectorised over rows; the only Python loops run over customers or campaigns.

The tour runs one campaign with a holdout on the shop (``CAMPAIGN``). The shop knows its groups,
because the assignment is a hash of the campaign and the customer, and plants a known true lift
in one segment and none in the other: the orders the campaign caused, drawn from a stream of
their own and written at the end of ``orders.csv``.

This module imports numpy at import time: front-ends should import it lazily.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

BAD_EVENT_ROWS = 3
BAD_ORDER_ROWS = 2

IntArr = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.float64]
BoolArr = npt.NDArray[np.bool_]
ObjArr = npt.NDArray[np.object_]

DAY = 86_400
WINDOW_DAYS = 730
MAX_CUSTOMER_AGE_DAYS = 1_460
NEW_CUSTOMER_DAYS = 60
NEW_CUSTOMER_SHARE = 0.06
CHURN_SHARE = 0.30
CHURN_MIN_DAYS_BEFORE_END = 120
MISSING_COUNTRY_SHARE = 0.03

WEB_SESSIONS_PER_DAY = 0.012  # median of the lognormal activity rate
ACTIVITY_SIGMA = 1.1
APP_SESSIONS_PER_DAY = 0.02
APP_QUIT_SHARE = 0.55
ORDERS_PER_DAY = 0.0022
NO_ORDER_SHARE = 0.35
ANONYMOUS_SHARE = 0.15  # of web rows (page_view, product_view, add_to_cart)
IDENTIFYING_SHARE = 0.35  # of customers with web activity who browsed anonymously first
EMAIL_ONLY_SHARE = 0.01

EVENT_NAMES = (
    "page_view",
    "product_view",
    "add_to_cart",
    "email_sent",
    "email_opened",
    "email_clicked",
)
PAGE_VIEW, PRODUCT_VIEW, ADD_TO_CART, EMAIL_SENT, EMAIL_OPENED, EMAIL_CLICKED = range(6)
CHANNELS = ("web", "email")
WEB, EMAIL = range(2)

CATEGORIES = ("apparel", "shoes", "equipment", "nutrition", "accessories", "boxing gear")
CATEGORY_WEIGHTS = (0.26, 0.22, 0.16, 0.12, 0.14, 0.10)
PRODUCTS_PER_CATEGORY = 60
INTERESTS = ("boxing", "running", "yoga", "cycling", "football", "tennis", "swimming", "hiking")
INTEREST_WEIGHTS = (0.9, 1.4, 1.0, 0.8, 0.9, 0.5, 0.5, 0.7)
INTEREST_CATEGORY = {
    "boxing": "boxing gear",
    "running": "shoes",
    "yoga": "apparel",
    "cycling": "equipment",
    "football": "shoes",
    "tennis": "equipment",
    "swimming": "accessories",
    "hiking": "apparel",
}
DEVICE_OS = ("ios", "android", "web", None)
DEVICE_OS_WEIGHTS = (0.36, 0.30, 0.24, 0.10)
PLANS = ("free", "plus", "pro")
APP_EVENTS = ("push_opened", "app_open", "app_screen_view")
SCREENS = ("home", "shop", "product", "cart", "checkout", "workouts", "profile", "search", "orders")
SCREEN_WEIGHTS = (0.24, 0.18, 0.2, 0.08, 0.03, 0.12, 0.06, 0.06, 0.03)
APP_VERSIONS = ("2.9.0", "2.9.3", "3.0.0", "3.0.1", "3.1.0", "3.1.2", "3.2.0", "3.2.1")

# Local hour of day, midnight first: quiet nights, a lunch bump and an evening peak.
HOUR_WEIGHTS = (
    *(2.0, 1.0, 0.6, 0.4, 0.4, 0.6, 1.2, 2.5, 3.5, 4.0, 4.2, 4.5),
    *(5.0, 4.8, 4.5, 4.3, 4.4, 4.8, 5.5, 6.5, 7.0, 6.5, 5.0, 3.5),
)
WEB_WEEKDAY = (1.0, 0.97, 0.97, 1.0, 0.95, 1.05, 1.12)  # Monday first
WEB_MONTH = (0.95, 0.9, 0.95, 0.95, 0.95, 0.9, 0.88, 0.9, 1.0, 1.05, 1.35, 1.3)
ORDER_WEEKDAY = (1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.1)
ORDER_MONTH = (0.85, 0.8, 0.9, 0.9, 0.95, 0.9, 0.85, 0.9, 1.0, 1.05, 1.8, 1.7)
TIMESTAMP_STYLE_WEIGHTS = (0.88, 0.08, 0.04)  # "...Z", "...+02:00", no offset (UTC)

BAD_EVENT_TIMESTAMPS = ("not-a-date", "2025-13-45T00:00:00Z", "yesterday 10:00")
BAD_ORDER_TOTALS = ("12,5O", "19.9O")
UNKNOWN_EMAILS = (
    "mia.keller@posteo.de",
    "t.nguyen@fastmail.com",
    "kwame.osei@posteo.de",
    "r.lindgren@fastmail.com",
    "amira.haddad@posteo.de",
)


@dataclass(frozen=True)
class _Country:
    code: str
    weight: float
    names: str  # key of _NAMES
    currency: str
    offsets: tuple[int, ...]  # plausible UTC offsets in minutes (several zones, summer time)
    cities: tuple[str, ...]
    domains: tuple[str, ...]  # local email providers


_COUNTRIES = (
    _Country(
        "US",
        30,
        "en",
        "USD",
        (-300, -240, -360, -420, -480),
        ("New York", "Los Angeles", "Chicago", "Houston", "Austin", "Seattle", "Miami", "Denver"),
        ("aol.com", "comcast.net"),
    ),
    _Country(
        "GB",
        14,
        "en",
        "GBP",
        (0, 60),
        ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol"),
        ("btinternet.com", "sky.com"),
    ),
    _Country(
        "DE",
        11,
        "de",
        "EUR",
        (60, 120),
        ("Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Düsseldorf"),
        ("gmx.de", "web.de", "t-online.de"),
    ),
    _Country(
        "FR",
        8,
        "fr",
        "EUR",
        (60, 120),
        ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille"),
        ("orange.fr", "free.fr", "laposte.net"),
    ),
    _Country(
        "CA",
        6,
        "en",
        "CAD",
        (-300, -240, -480, -420),
        ("Toronto", "Montréal", "Vancouver", "Calgary", "Ottawa"),
        ("rogers.com", "shaw.ca"),
    ),
    _Country(
        "AU",
        5,
        "en",
        "AUD",
        (600, 660, 480),
        ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide"),
        ("bigpond.com",),
    ),
    _Country(
        "NL",
        4,
        "nl",
        "EUR",
        (60, 120),
        ("Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven"),
        ("ziggo.nl", "kpnmail.nl"),
    ),
    _Country(
        "ES",
        4,
        "es",
        "EUR",
        (60, 120),
        ("Madrid", "Barcelona", "Valencia", "Sevilla", "Málaga"),
        ("telefonica.net",),
    ),
    _Country(
        "IT", 3.5, "it", "EUR", (60, 120), ("Roma", "Milano", "Napoli", "Torino"), ("libero.it",)
    ),
    _Country("SE", 2.5, "nordic", "SEK", (60, 120), ("Stockholm", "Göteborg", "Malmö"), ()),
    _Country("IE", 2, "en", "EUR", (0, 60), ("Dublin", "Cork", "Galway"), ("eircom.net",)),
    _Country("BE", 2, "fr", "EUR", (60, 120), ("Bruxelles", "Antwerpen", "Gent", "Liège"), ()),
    _Country("CH", 2, "de", "CHF", (60, 120), ("Zürich", "Genève", "Basel", "Bern"), ()),
    _Country("AT", 1.5, "de", "EUR", (60, 120), ("Wien", "Graz", "Salzburg"), ("gmx.at",)),
    _Country("PL", 1.5, "pl", "PLN", (60, 120), ("Warszawa", "Kraków", "Wrocław"), ("wp.pl",)),
    _Country("DK", 1, "nordic", "DKK", (60, 120), ("København", "Aarhus", "Odense"), ()),
    _Country("NO", 1, "nordic", "NOK", (60, 120), ("Oslo", "Bergen", "Trondheim"), ()),
    _Country("PT", 1, "pt", "EUR", (0, 60), ("Lisboa", "Porto", "Braga"), ("sapo.pt",)),
)

# Per language: (female first names, male first names, last names).
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("Emma", "Olivia", "Sophie", "Chloe", "Grace", "Hannah", "Zoë", "Megan", "Ava", "Renée"),
        ("James", "Liam", "Noah", "Oliver", "Jack", "Ethan", "Lucas", "Ryan", "Daniel", "Sean"),
        (
            *("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thompson"),
            *("O'Brien", "Walker", "Harris", "Clarke", "Murphy", "Lee", "Nguyen", "Patel"),
        ),
    ),
    "de": (
        ("Anna", "Lena", "Sophie", "Marie", "Katrin", "Jana", "Lea", "Mia", "Jördis"),
        ("Lukas", "Jonas", "Felix", "Maximilian", "Jürgen", "Tobias", "Niklas", "Björn"),
        (
            *("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"),
            *("Schäfer", "Koch", "Groß", "Hoffmann"),
        ),
    ),
    "fr": (
        ("Chloé", "Léa", "Manon", "Camille", "Inès", "Océane", "Élodie", "Julie", "Zoé"),
        ("Lucas", "Hugo", "Louis", "Théo", "Mathéo", "François", "Jérôme", "Nicolas", "Antoine"),
        (
            *("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux"),
            *("Fontaine", "Mercier"),
        ),
    ),
    "es": (
        ("Lucía", "María", "Sofía", "Paula", "Martina", "Carmen", "Elena", "Inés"),
        ("José", "Hugo", "Martín", "Pablo", "Alejandro", "Álvaro", "Javier", "Sergio"),
        (
            *("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez"),
            *("Pérez", "Núñez", "Jiménez"),
        ),
    ),
    "nl": (
        ("Emma", "Julia", "Sanne", "Fleur", "Lotte", "Eva", "Anouk"),
        ("Daan", "Sem", "Lucas", "Bram", "Thijs", "Jeroen", "Ruud"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser"),
    ),
    "it": (
        ("Giulia", "Sofia", "Chiara", "Francesca", "Martina", "Alessia"),
        ("Leonardo", "Francesco", "Lorenzo", "Matteo", "Niccolò", "Andrea"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"),
    ),
    "nordic": (
        ("Ingrid", "Astrid", "Maja", "Freja", "Linnéa", "Sigrid"),
        ("Søren", "Björn", "Erik", "Lars", "Mikkel", "Åke", "Magnus"),
        ("Andersson", "Johansson", "Nielsen", "Hansen", "Larsen", "Lindqvist", "Østergaard"),
    ),
    "pl": (
        ("Zofia", "Anna", "Małgorzata", "Katarzyna", "Agnieszka"),
        ("Jakub", "Piotr", "Łukasz", "Michał", "Tomasz"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski"),
    ),
    "pt": (
        ("Beatriz", "Inês", "Mariana", "Leonor", "Carolina"),
        ("João", "Tiago", "Rodrigo", "Gonçalo", "Duarte"),
        ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Conceição"),
    ),
}
_COMMON_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com")
_COMMON_DOMAIN_WEIGHTS = (0.5, 0.14, 0.14, 0.12, 0.1)
# NFKD leaves these letters whole, so they need an explicit ASCII spelling in email addresses.
_ASCII_FOLD = str.maketrans({"ø": "o", "ß": "ss", "ł": "l", "æ": "ae", "đ": "d"})

PHONE_SHARE = 0.60  # customers who gave a phone number
INTERNATIONAL_PHONE_SHARE = 0.25  # of those, written with + and the calling code
POSTAL_CODE_SHARE = 0.85  # of customers with a known country (a delivery address)
ADS_CONSENT_SHARE = 0.55  # independent of email consent: a separate tick box
ZIP4_SHARE = 0.10  # US postal codes written as ZIP+4
# Per country: the calling code and mobile numbers as people write them at home. "#" is any
# digit, "N" one of 2-9, "%" the area code of the customer's city; a leading 0 is the trunk
# prefix, which the + form leaves out.
_PHONES: dict[str, tuple[str, tuple[str, ...]]] = {
    "US": ("1", ("(%) N##-####", "%-N##-####", "%.N##.####")),
    "GB": ("44", ("077## ######", "078## ######", "079########")),
    "DE": ("49", ("0151 ########", "017# #######", "0160 #######")),
    "FR": ("33", ("06 ## ## ## ##", "07 8# ## ## ##", "06########")),
    "CA": ("1", ("(%) N##-####", "%-N##-####")),
    "AU": ("61", ("04## ### ###", "04########")),
    "NL": ("31", ("06 1#######", "06-2#######", "06 5#######")),
    "ES": ("34", ("6## ## ## ##", "6########")),
    "IT": ("39", ("3## ### ####", "3#########")),
    "SE": ("46", ("070-### ## ##", "073-### ## ##", "076#######")),
    "IE": ("353", ("087 ### ####", "086 ### ####", "085#######")),
    "BE": ("32", ("047# ## ## ##", "049# ## ## ##")),
    "CH": ("41", ("079 ### ## ##", "076 ### ## ##")),
    "AT": ("43", ("0664 #######", "0676 #######")),
    "PL": ("48", ("5## ### ###", "6## ### ###")),
    "DK": ("45", ("N# ## ## ##",)),
    "NO": ("47", ("4## ## ###", "9## ## ###")),
    "PT": ("351", ("91# ### ###", "93# ### ###", "96# ### ###")),
}
_AREA_CODES = {
    **{"New York": ("212", "646", "917"), "Los Angeles": ("213", "310", "323")},
    **{"Chicago": ("312", "773"), "Houston": ("713", "832"), "Austin": ("512", "737")},
    **{"Seattle": ("206",), "Miami": ("305", "786"), "Denver": ("303", "720")},
    **{"Toronto": ("416", "647"), "Montréal": ("514", "438"), "Vancouver": ("604", "778")},
    **{"Calgary": ("403", "587"), "Ottawa": ("613", "343")},
}
# Postal codes per city, in each country's format: "#" a digit, "A" a capital letter.
_POSTAL_CODES = {
    **{"New York": "100##", "Los Angeles": "900##", "Chicago": "606##", "Houston": "770##"},
    **{"Austin": "787##", "Seattle": "981##", "Miami": "331##", "Denver": "802##"},
    **{"London": "SW# #AA", "Manchester": "M## #AA", "Birmingham": "B## #AA"},
    **{"Leeds": "LS# #AA", "Glasgow": "G## #AA", "Bristol": "BS# #AA"},
    **{"Berlin": "10###", "München": "80###", "Hamburg": "20###", "Köln": "50###"},
    **{"Frankfurt am Main": "60###", "Düsseldorf": "40###"},
    **{"Paris": "750##", "Lyon": "6900#", "Marseille": "130##", "Toulouse": "310##"},
    **{"Nantes": "440##", "Lille": "590##"},
    **{"Toronto": "M#A #A#", "Montréal": "H#A #A#", "Vancouver": "V#A #A#"},
    **{"Calgary": "T#A #A#", "Ottawa": "K#A #A#"},
    **{"Sydney": "20##", "Melbourne": "30##", "Brisbane": "40##", "Perth": "60##"},
    **{"Adelaide": "50##"},
    **{"Amsterdam": "10## AA", "Rotterdam": "30## AA", "Utrecht": "35## AA"},
    **{"Den Haag": "25## AA", "Eindhoven": "56## AA"},
    **{"Madrid": "280##", "Barcelona": "080##", "Valencia": "460##", "Sevilla": "410##"},
    **{"Málaga": "290##", "Roma": "001##", "Milano": "201##", "Napoli": "801##"},
    **{"Torino": "101##", "Stockholm": "1## ##", "Göteborg": "41# ##", "Malmö": "21# ##"},
    **{"Dublin": "D0# A##A", "Cork": "T12 A##A", "Galway": "H91 A##A"},
    **{"Bruxelles": "10##", "Antwerpen": "20##", "Gent": "90##", "Liège": "40##"},
    **{"Zürich": "80##", "Genève": "12##", "Basel": "40##", "Bern": "30##"},
    **{"Wien": "1##0", "Graz": "80##", "Salzburg": "50##"},
    **{"Warszawa": "0#-###", "Kraków": "3#-###", "Wrocław": "5#-###"},
    **{"København": "1###", "Aarhus": "8###", "Odense": "5###"},
    **{"Oslo": "0###", "Bergen": "5###", "Trondheim": "7###"},
    **{"Lisboa": "1###-###", "Porto": "4###-###", "Braga": "47##-###"},
}


@dataclass(frozen=True)
class ShopFiles:
    """Paths and row counts of one generated shop."""

    customers: Path  # customers.jsonl
    events: Path  # events.csv
    app_events: Path  # app_events.jsonl
    orders: Path  # orders.csv
    rates: Path  # rates.csv: monthly exchange rates into EUR, the demo's base currency
    order_updates: Path  # order_updates.csv: late refunds and partial refunds
    end: datetime  # tz-aware UTC instant the data ends at (exclusive)
    customers_count: int
    events_count: int  # rows in events.csv + app_events.jsonl
    orders_count: int  # rows in orders.csv, the campaign's orders included
    campaign_orders: int = 0  # orders the campaign caused (CAMPAIGN), at the end of orders.csv


@dataclass(frozen=True)
class CampaignSegment:
    """One segment of the demo's campaign: customers on some plans, and the true lift in
    conversion the campaign has on them (a share: 0.1 is ten percentage points)."""

    name: str
    title: str
    plans: tuple[str, ...]
    true_lift: float

    @property
    def rule(self) -> str:
        if len(self.plans) == 1:
            return f'plan = "{self.plans[0]}"'
        return "plan in [" + ", ".join(f'"{p}"' for p in self.plans) + "]"


@dataclass(frozen=True)
class DemoCampaign:
    """The campaign the tour runs (demo/tour.py): its audience is frozen at the start,
    ``days_before_end`` days before the data ends, and split by the hash of
    store/campaigns.py; the goal is an order within ``window_days``."""

    name: str
    segments: tuple[CampaignSegment, ...]
    holdout: float
    window_days: int
    days_before_end: int
    goal: str = "did order_completed"


# A discount email: it moves customers on the free plan, and not those on a paid plan, who
# get member prices anyway. A quarter is held out so that the free plan's holdout reaches the
# hundred customers a verdict needs (quality/lift.py MIN_PER_GROUP) in a shop of about 560
# customers; in a smaller one the verdict is "too small to tell".
CAMPAIGN = DemoCampaign(
    name="discount-email",
    segments=(
        CampaignSegment("free-plan", "Customers on the free plan", ("free",), 0.10),
        CampaignSegment("paid-plans", "Customers on a paid plan", ("plus", "pro"), 0.0),
    ),
    holdout=0.25,
    window_days=14,
    days_before_end=30,
)


@dataclass(frozen=True)
class _Clock:
    start_s: int
    end_s: int
    web_cum: FloatArr  # cumulative day weights at day boundaries, WINDOW_DAYS + 1 values
    order_cum: FloatArr
    holiday: BoolArr  # per day: mid-November to Christmas


@dataclass(frozen=True)
class _People:
    ids: list[str]
    emails: list[str]
    first: list[str]
    last: list[str]
    gender: list[str | None]
    city: list[str]
    country: IntArr  # index into _COUNTRIES
    country_known: BoolArr
    tz_min: IntArr
    created_s: IntArr
    lo_s: IntArr  # first instant the customer can act: created_at, or the window start
    hi_s: IntArr  # end of activity (exclusive): the window end, or the churn instant
    activity: FloatArr  # web sessions per active day
    device_os: list[str | None]
    interests: list[list[str]]
    fav_cat: IntArr
    email_consent: BoolArr
    sms_consent: BoolArr
    phone: list[str | None]  # as the customer wrote it, national or international
    postal_code: list[str | None]
    ads_consent: BoolArr
    open_p: FloatArr
    click_p: FloatArr

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class _Rows:
    """Rows of events.csv as codes; -1 means an empty cell."""

    t: IntArr
    event: IntArr
    cust: IntArr
    anon: IntArr
    email: IntArr  # index into customer emails, then UNKNOWN_EMAILS
    channel: IntArr
    product: IntArr  # index into the catalogue; its category is product // PRODUCTS_PER_CATEGORY
    campaign: IntArr
    tz_min: IntArr

    @property
    def size(self) -> int:
        return int(self.t.size)


@dataclass(frozen=True)
class _Orders:
    t: IntArr
    cust: IntArr
    cents: IntArr
    refunded: BoolArr
    category: IntArr
    items: IntArr


def generate_shop(
    out_dir: Path, customers: int = 5000, seed: int = 0, end: datetime | None = None
) -> ShopFiles:
    """Write a synthetic shop's customers, events, app events and orders into ``out_dir``.

    ``end`` (tz-aware; default: the start of the current UTC day) is the exclusive end of the
    data, which covers the two years before it.

    >>> import tempfile
    >>> shop = generate_shop(Path(tempfile.mkdtemp()), 30, end=datetime(2025, 1, 1, tzinfo=UTC))
    >>> (shop.customers_count, shop.customers.name)
    (30, 'customers.jsonl')
    """
    if customers < 1:
        raise ValueError(f"customers: must be an integer >= 1, got {customers}")
    end_utc = _resolve_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    clock = _make_clock(end_utc)
    people = _make_people(rng, customers, clock)
    rows, anon_ids = _all_events(rng, people, clock)
    app = _app_lines(rng, people, clock)
    orders = _make_orders(rng, people, clock)
    paths = ShopFiles(
        customers=out_dir / "customers.jsonl",
        events=out_dir / "events.csv",
        app_events=out_dir / "app_events.jsonl",
        orders=out_dir / "orders.csv",
        rates=out_dir / "rates.csv",
        order_updates=out_dir / "order_updates.csv",
        end=end_utc,
        customers_count=people.n,
        events_count=rows.size + BAD_EVENT_ROWS + len(app),
        orders_count=int(orders.t.size) + BAD_ORDER_ROWS,
    )
    _write_events(paths.events, rng, rows, people, anon_ids)
    _write_lines(paths.app_events, app)
    # Rates and refunds draw from their own stream, so the other files stay as they were.
    money_rng = np.random.default_rng([seed, 1])
    rates = _make_rates(money_rng, clock)
    _write_rates(paths.rates, rates)
    _write_orders(paths.orders, paths.order_updates, rng, money_rng, orders, people, rates)
    lines, plans = _customer_lines(rng, people, orders, clock)
    _write_lines(paths.customers, lines)
    # The campaign's orders draw from their own stream and come last in orders.csv, so
    # every other value and row stays as it was.
    caused = _campaign_orders(np.random.default_rng([seed, 2]), people, plans, orders, clock)
    _append_orders(paths.orders, caused, people, rates, first=paths.orders_count)
    return replace(
        paths, orders_count=paths.orders_count + caused.t.size, campaign_orders=caused.t.size
    )


def _resolve_end(end: datetime | None) -> datetime:
    if end is None:
        return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError(f"end: must be timezone-aware, got naive {end.isoformat()}")
    return end.astimezone(UTC)


# --- time ---------------------------------------------------------------------------------------


def _make_clock(end: datetime) -> _Clock:
    end_s = math.floor(end.timestamp())
    start_s = end_s - WINDOW_DAYS * DAY
    epoch_day = (start_s + np.arange(WINDOW_DAYS, dtype=np.int64) * DAY) // DAY
    dates = epoch_day.astype("datetime64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    dom = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    weekday = (epoch_day + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
    growth = 1.0 + 0.2 * np.arange(WINDOW_DAYS) / WINDOW_DAYS
    black_friday = ((month == 10) & (dom >= 22)) | ((month == 11) & (dom <= 2))
    holiday = ((month == 10) & (dom >= 15)) | ((month == 11) & (dom <= 24))
    after_christmas = (month == 11) & (dom >= 25)
    web = np.take(WEB_WEEKDAY, weekday) * np.take(WEB_MONTH, month) * growth
    web = web * np.where(black_friday, 1.4, 1.0)
    orders = np.take(ORDER_WEEKDAY, weekday) * np.take(ORDER_MONTH, month) * growth
    orders = orders * np.where(black_friday, 2.2, 1.0) * np.where(after_christmas, 0.5, 1.0)
    return _Clock(start_s, end_s, _cumulative(web), _cumulative(orders), holiday)


def _cumulative(weights: FloatArr) -> FloatArr:
    return np.concatenate(([0.0], np.cumsum(weights))).astype(np.float64)


def _sample_times(
    rng: np.random.Generator, clock: _Clock, cum: FloatArr, lo: IntArr, hi: IntArr, tz_min: IntArr
) -> IntArr:
    """One instant per row, roughly in [lo, hi), following day weights and a local daily cycle.

    Rows on the first and last day can fall just outside [lo, hi): callers filter them.
    """
    grid = np.arange(cum.size, dtype=np.float64)
    c_lo = np.interp((lo - clock.start_s) / DAY, grid, cum)
    c_hi = np.interp((hi - clock.start_s) / DAY, grid, cum)
    day = np.interp(c_lo + rng.random(lo.size) * (c_hi - c_lo), cum, grid).astype(np.int64)
    day = np.minimum(day, WINDOW_DAYS - 1)
    hour_p = np.asarray(HOUR_WEIGHTS) / sum(HOUR_WEIGHTS)
    local = rng.choice(24, size=lo.size, p=hour_p) * 3600 + rng.integers(0, 3600, lo.size)
    # The window may start at any second, so align to UTC midnight, not to the slot start.
    phase = clock.start_s % DAY
    time_of_day = (local - tz_min * 60 - phase) % DAY
    return (clock.start_s + day * DAY + time_of_day).astype(np.int64)


def _expand_sessions(
    rng: np.random.Generator, starts: IntArr, sizes: IntArr, mean_gap_s: float
) -> tuple[IntArr, IntArr, IntArr]:
    """Rows of sessions: (session index, position in session, time), times growing by gaps."""
    session = np.repeat(np.arange(starts.size, dtype=np.int64), sizes)
    first = np.cumsum(sizes) - sizes
    pos = np.arange(session.size, dtype=np.int64) - first[session]
    gaps = 3 + rng.exponential(mean_gap_s, session.size).astype(np.int64)
    gaps[pos == 0] = 0
    total = np.cumsum(gaps)
    return session, pos, starts[session] + total - total[first[session]]


# --- customers ----------------------------------------------------------------------------------


def _make_people(rng: np.random.Generator, n: int, clock: _Clock) -> _People:
    created, lo, hi = _draw_timeline(rng, n, clock)
    country, known, tz_min, city = _draw_geo(rng, n)
    first, last, gender, emails = _draw_names(rng, country)
    device_os, interests, fav_cat = _draw_tastes(rng, n)
    email_consent = rng.random(n) < 0.68
    # A child stream: spawning does not advance ``rng``, so no other value changes.
    extra = rng.spawn(1)[0]
    phone, postal_code, ads_consent = _draw_contact(extra, country, known, city)
    return _People(
        ids=[f"C{i:06d}" for i in range(1, n + 1)],
        emails=emails,
        first=first,
        last=last,
        gender=gender,
        city=city,
        country=country,
        country_known=known,
        tz_min=tz_min,
        created_s=created,
        lo_s=lo,
        hi_s=hi,
        activity=WEB_SESSIONS_PER_DAY * rng.lognormal(0.0, ACTIVITY_SIGMA, n),
        device_os=device_os,
        interests=interests,
        fav_cat=fav_cat,
        email_consent=email_consent,
        sms_consent=rng.random(n) < np.where(email_consent, 0.38, 0.12),
        phone=phone,
        postal_code=postal_code,
        ads_consent=ads_consent,
        open_p=rng.beta(2.0, 5.0, n),
        click_p=rng.beta(1.5, 7.0, n),
    )


def _draw_timeline(rng: np.random.Generator, n: int, clock: _Clock) -> tuple[IntArr, ...]:
    is_new = rng.random(n) < NEW_CUSTOMER_SHARE
    # beta(1, 1.6) favours recent sign-ups: the shop grows; about a third predate the window.
    older = NEW_CUSTOMER_DAYS + (MAX_CUSTOMER_AGE_DAYS - NEW_CUSTOMER_DAYS) * rng.beta(1.0, 1.6, n)
    age_days = np.where(is_new, rng.random(n) * NEW_CUSTOMER_DAYS, older)
    created = clock.end_s - 1 - (age_days * DAY).astype(np.int64)
    lo = np.maximum(created, clock.start_s)
    room = clock.end_s - CHURN_MIN_DAYS_BEFORE_END * DAY - lo
    churned = (rng.random(n) < CHURN_SHARE) & (room > CHURN_MIN_DAYS_BEFORE_END * DAY)
    churn_at = lo + (rng.uniform(0.1, 1.0, n) * np.maximum(room, 0)).astype(np.int64)
    return created, lo, np.where(churned, churn_at, clock.end_s).astype(np.int64)


def _draw_geo(rng: np.random.Generator, n: int) -> tuple[IntArr, BoolArr, IntArr, list[str]]:
    weights = np.array([c.weight for c in _COUNTRIES])
    country = rng.choice(len(_COUNTRIES), size=n, p=weights / weights.sum()).astype(np.int64)
    known = rng.random(n) >= MISSING_COUNTRY_SHARE
    tz_u, city_u = rng.random(n), rng.random(n)
    tz_min: list[int] = []
    city: list[str] = []
    for i, c in enumerate(country.tolist()):
        offsets, cities = _COUNTRIES[c].offsets, _COUNTRIES[c].cities
        tz_min.append(offsets[int(tz_u[i] * len(offsets))])
        city.append(cities[int(city_u[i] * len(cities))])
    return country, known, np.asarray(tz_min, dtype=np.int64), city


def _draw_names(
    rng: np.random.Generator, country: IntArr
) -> tuple[list[str], list[str], list[str | None], list[str]]:
    n = country.size
    sex = rng.choice(3, size=n, p=[0.5, 0.48, 0.02])  # female, male, non-binary
    name_u, last_u, gender_u = rng.random(n), rng.random(n), rng.random(n)
    first: list[str] = []
    last: list[str] = []
    gender: list[str | None] = []
    for i, c in enumerate(country.tolist()):
        female, male, surnames = _NAMES[_COUNTRIES[c].names]
        pool = female if sex[i] == 0 or (sex[i] == 2 and name_u[i] < 0.5) else male
        first.append(pool[int(name_u[i] * len(pool))])
        last.append(surnames[int(last_u[i] * len(surnames))])
        gender.append(_gender_value(int(sex[i]), float(gender_u[i])))
    return first, last, gender, _draw_emails(rng, first, last, country)


def _gender_value(sex: int, u: float) -> str | None:
    """The stored gender; "" marks a key left out, None a JSON null."""
    if u < 0.07:
        return ""
    if u < 0.09:
        return None
    return ("female", "male", "non_binary")[sex]


def _draw_emails(
    rng: np.random.Generator, first: list[str], last: list[str], country: IntArr
) -> list[str]:
    n = len(first)
    style, local_u, domain_u = rng.integers(0, 4, n), rng.random(n), rng.random(n)
    common = rng.choice(len(_COMMON_DOMAINS), size=n, p=_COMMON_DOMAIN_WEIGHTS)
    number = rng.integers(1, 100, n)
    seen: set[str] = set()
    emails: list[str] = []
    for i in range(n):
        f, s = _email_word(first[i]), _email_word(last[i])
        local = (f"{f}.{s}", f"{f}{s}{number[i]}", f"{f[0]}{s}", f"{f}_{s}{number[i]}")[style[i]]
        local_domains = _COUNTRIES[country[i]].domains
        if local_domains and local_u[i] < 0.25:
            domain = local_domains[int(domain_u[i] * len(local_domains))]
        else:
            domain = _COMMON_DOMAINS[common[i]]
        email, k = f"{local}@{domain}", 1
        while email in seen:
            k += 1
            email = f"{local}{k}@{domain}"
        seen.add(email)
        emails.append(email)
    return emails


def _email_word(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.lower().translate(_ASCII_FOLD))
    return re.sub(r"[^a-z0-9]", "", folded.encode("ascii", "ignore").decode("ascii"))


def _draw_contact(
    rng: np.random.Generator, country: IntArr, known: BoolArr, city: list[str]
) -> tuple[list[str | None], list[str | None], BoolArr]:
    """Phone numbers, postal codes and ads consent. A customer without a known country may
    still give a national number, which no one can then turn into E.164: as in life."""
    n = country.size
    has_phone = rng.random(n) < PHONE_SHARE
    international = rng.random(n) < INTERNATIONAL_PHONE_SHARE
    style_u = rng.random(n)
    has_postal = known & (rng.random(n) < POSTAL_CODE_SHARE)
    zip4 = rng.random(n) < ZIP4_SHARE
    phone_digits = rng.integers(0, 10, (n, 12)).tolist()
    postal_digits = rng.integers(0, 10, (n, 12)).tolist()
    letters = rng.integers(0, 26, (n, 4)).tolist()
    phones: list[str | None] = []
    postal: list[str | None] = []
    for i, c in enumerate(country.tolist()):
        code = _COUNTRIES[c].code
        calling, forms = _PHONES[code]
        form = forms[int(style_u[i] * len(forms))]
        if "%" in form:  # the last digit, which no form uses, picks the area code
            areas = _AREA_CODES[city[i]]
            form = form.replace("%", areas[phone_digits[i][-1] % len(areas)])
        number = _fill(form, phone_digits[i], letters[i])
        if international[i]:
            rest = re.sub(r"[-./]", " ", number.removeprefix("0").replace("(", "").replace(")", ""))
            number = f"+{calling} {rest}"
        phones.append(number if has_phone[i] else None)
        found = _fill(_POSTAL_CODES[city[i]], postal_digits[i], letters[i])
        if code == "US" and zip4[i]:
            found += "-" + _fill("####", postal_digits[i][5:], letters[i])
        postal.append(found if has_postal[i] else None)
    return phones, postal, rng.random(n) < ADS_CONSENT_SHARE


def _fill(template: str, digits: list[int], letters: list[int]) -> str:
    """``template`` with "#" a digit, "N" a digit 2-9 and "A" a capital letter, in turn."""
    out: list[str] = []
    d, a = iter(digits), iter(letters)
    for char in template:
        if char == "#":
            out.append(str(next(d)))
        elif char == "N":
            out.append(str(2 + next(d) % 8))
        elif char == "A":
            out.append(chr(ord("A") + next(a)))
        else:
            out.append(char)
    return "".join(out)


def _draw_tastes(
    rng: np.random.Generator, n: int
) -> tuple[list[str | None], list[list[str]], IntArr]:
    os_index = rng.choice(len(DEVICE_OS), size=n, p=DEVICE_OS_WEIGHTS)
    counts = rng.choice(5, size=n, p=[0.15, 0.35, 0.28, 0.15, 0.07])
    # Weighted sampling without replacement: the k smallest exponential keys / weights.
    keys = rng.exponential(size=(n, len(INTERESTS))) / np.asarray(INTEREST_WEIGHTS)
    ranked = np.argsort(keys, axis=1)
    interests = [[INTERESTS[j] for j in ranked[i, : counts[i]]] for i in range(n)]
    random_cat = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_WEIGHTS)
    fav = [
        CATEGORIES.index(INTEREST_CATEGORY[picked[0]]) if picked else int(random_cat[i])
        for i, picked in enumerate(interests)
    ]
    return [DEVICE_OS[k] for k in os_index], interests, np.asarray(fav, dtype=np.int64)


# --- events.csv ---------------------------------------------------------------------------------


def _all_events(
    rng: np.random.Generator, people: _People, clock: _Clock
) -> tuple[_Rows, list[str]]:
    """Every events.csv row but the bad ones, sorted by time, and the anonymous ids."""
    web = _web_events(rng, people, clock)
    web, before, anon_ids = _identifying_visits(rng, people, clock, web)
    target = round(ANONYMOUS_SHARE / (1 - ANONYMOUS_SHARE) * web.size) - before.size
    strangers, stranger_ids = _stranger_visits(rng, clock, target, first_anon=len(anon_ids))
    rows = _concat([web, before, strangers, _email_events(rng, people, clock)])
    rows = _email_only(rng, rows)
    rows = _concat([rows, _unknown_email_rows(rng, clock, people.n)])
    return _take(rows, np.argsort(rows.t, kind="stable")), anon_ids + stranger_ids


def _web_events(rng: np.random.Generator, people: _People, clock: _Clock) -> _Rows:
    days = np.maximum(people.hi_s - people.lo_s, 0) / DAY
    owner = np.repeat(np.arange(people.n, dtype=np.int64), rng.poisson(people.activity * days))
    lo, hi = people.lo_s[owner], people.hi_s[owner]
    starts = _sample_times(rng, clock, clock.web_cum, lo, hi, people.tz_min[owner])
    keep = (starts >= lo) & (starts < hi)
    owner, starts = owner[keep], starts[keep]
    rows = _browse(
        rng, starts, people.fav_cat[owner], people.tz_min[owner], owner, _none(owner.size)
    )
    return _take(rows, rows.t < people.hi_s[rows.cust])


def _browse(
    rng: np.random.Generator,
    starts: IntArr,
    fav_cat: IntArr,
    tz_min: IntArr,
    cust: IntArr,
    anon: IntArr,
) -> _Rows:
    """Web sessions (one per start, with per-session fields): a page view, then views and adds."""
    sizes = 1 + rng.poisson(2.3, starts.size)
    session, pos, t = _expand_sessions(rng, starts, sizes, mean_gap_s=50.0)
    event = rng.choice(3, size=session.size, p=[0.35, 0.5, 0.15]).astype(np.int64)
    event[pos == 0] = PAGE_VIEW
    random_cat = rng.choice(len(CATEGORIES), size=starts.size, p=CATEGORY_WEIGHTS)
    session_cat = np.where(rng.random(starts.size) < 0.55, fav_cat, random_cat)[session]
    rank = rng.exponential(10.0, session.size).astype(np.int64)
    product = session_cat * PRODUCTS_PER_CATEGORY + np.minimum(rank, PRODUCTS_PER_CATEGORY - 1)
    # A cart add right after a product view adds the product just viewed.
    after_view = (pos > 0) & (np.roll(event, 1) == PRODUCT_VIEW)
    product = np.where((event == ADD_TO_CART) & after_view, np.roll(product, 1), product)
    n = session.size
    return _Rows(
        t=t,
        event=event,
        cust=cust[session],
        anon=anon[session],
        email=_none(n),
        channel=np.full(n, WEB, dtype=np.int64),
        product=np.where(event == PAGE_VIEW, -1, product),
        campaign=_none(n),
        tz_min=tz_min[session],
    )


def _identifying_visits(
    rng: np.random.Generator, people: _People, clock: _Clock, web: _Rows
) -> tuple[_Rows, _Rows, list[str]]:
    """Anonymous sessions before some customers' first known visit, which then carries both ids.

    Returns the known rows (tie rows now carry an anonymous id), the anonymous rows and the ids.
    """
    order = np.lexsort((web.t, web.cust))
    is_first = np.ones(order.size, dtype=bool)
    is_first[1:] = web.cust[order][1:] != web.cust[order][:-1]
    first_rows = order[is_first]
    tie_rows = first_rows[rng.random(first_rows.size) < IDENTIFYING_SHARE]
    who, tie_t = web.cust[tie_rows], web.t[tie_rows]
    tied = web.anon.copy()
    tied[tie_rows] = np.arange(who.size, dtype=np.int64)
    visitor = np.repeat(np.arange(who.size, dtype=np.int64), 1 + rng.poisson(1.3, who.size))
    starts = tie_t[visitor] - (rng.uniform(0.02, 21.0, visitor.size) * DAY).astype(np.int64)
    fav, tz_min = people.fav_cat[who][visitor], people.tz_min[who][visitor]
    before = _browse(rng, starts, fav, tz_min, _none(visitor.size), visitor)
    # Anonymous browsing stays strictly before the visit that ties it to the customer.
    keep = (before.t >= clock.start_s) & (before.t < tie_t[before.anon])
    return replace(web, anon=tied), _take(before, keep), _anonymous_ids(rng, who.size, 0)


def _stranger_visits(
    rng: np.random.Generator, clock: _Clock, target_rows: int, first_anon: int
) -> tuple[_Rows, list[str]]:
    """Visitors who never identify, making about ``target_rows`` anonymous rows."""
    count = max(1, round(max(target_rows, 0) / (1.7 * 3.3)))  # visits per visitor x rows per visit
    visitor = np.repeat(np.arange(count, dtype=np.int64), 1 + rng.poisson(0.7, count))
    weights = np.array([c.weight for c in _COUNTRIES])
    country = rng.choice(len(_COUNTRIES), size=count, p=weights / weights.sum())
    tz_min = np.array([_COUNTRIES[c].offsets[0] for c in country], dtype=np.int64)[visitor]
    lo = np.full(visitor.size, clock.start_s, dtype=np.int64)
    hi = np.full(visitor.size, clock.end_s, dtype=np.int64)
    starts = _sample_times(rng, clock, clock.web_cum, lo, hi, tz_min)
    fav = rng.choice(len(CATEGORIES), size=visitor.size, p=CATEGORY_WEIGHTS).astype(np.int64)
    rows = _browse(rng, starts, fav, tz_min, _none(visitor.size), visitor + first_anon)
    rows = _take(rows, (rows.t >= clock.start_s) & (rows.t < clock.end_s))
    return rows, _anonymous_ids(rng, count, first_anon)


def _anonymous_ids(rng: np.random.Generator, count: int, start: int) -> list[str]:
    # The counter suffix keeps ids unique whatever the random part draws.
    random_part = rng.integers(0, 16**10, count).tolist()
    return [f"anon-{r:010x}{start + i:05x}" for i, r in enumerate(random_part)]


def _email_events(rng: np.random.Generator, people: _People, clock: _Clock) -> _Rows:
    """Campaign sends to consenting customers; opens follow sends, clicks follow opens."""
    camp_t = _campaign_times(rng, clock)
    camp, cust = _campaign_audiences(rng, people, camp_t)
    sent = camp_t[camp] + rng.integers(0, 1800, camp.size)
    # Churned customers rarely open: their mail goes unread.
    open_p = people.open_p[cust] * np.where(sent >= people.hi_s[cust], 0.15, 1.0)
    opened = rng.random(camp.size) < open_p
    opened_t = sent + 60 + rng.exponential(5 * 3600, camp.size).astype(np.int64)
    clicked = opened & (rng.random(camp.size) < people.click_p[cust])
    clicked_t = opened_t + 5 + rng.exponential(120, camp.size).astype(np.int64)
    landed_t = clicked_t + rng.integers(2, 20, camp.size)
    rows = _concat(
        [
            _campaign_rows(EMAIL_SENT, EMAIL, sent, cust, camp, np.ones(camp.size, dtype=bool)),
            _campaign_rows(EMAIL_OPENED, EMAIL, opened_t, cust, camp, opened),
            _campaign_rows(EMAIL_CLICKED, EMAIL, clicked_t, cust, camp, clicked),
            _campaign_rows(PAGE_VIEW, WEB, landed_t, cust, camp, clicked),
        ]
    )
    rows = replace(rows, tz_min=people.tz_min[rows.cust])
    return _take(rows, rows.t < clock.end_s)


def _campaign_times(rng: np.random.Generator, clock: _Clock) -> IntArr:
    """About two campaigns a week, plus extra ones in the holiday season."""
    every = 3.5 * DAY
    regular = clock.start_s + (np.arange(int(WINDOW_DAYS * DAY / every)) + 0.5) * every
    jitter = rng.integers(-6 * 3600, 6 * 3600, regular.size)
    extra_days = np.flatnonzero(clock.holiday & (rng.random(WINDOW_DAYS) < 0.2))
    extra = clock.start_s + extra_days * DAY + rng.integers(8 * 3600, 18 * 3600, extra_days.size)
    times = np.sort(np.concatenate([regular.astype(np.int64) + jitter, extra]).astype(np.int64))
    return times[times < clock.end_s - DAY]


def _campaign_audiences(
    rng: np.random.Generator, people: _People, camp_t: IntArr
) -> tuple[IntArr, IntArr]:
    """(campaign, customer) pairs: each campaign mails a share of the consenting customers."""
    camps: list[IntArr] = [_none(0)]
    custs: list[IntArr] = [_none(0)]
    for c, t in enumerate(camp_t.tolist()):
        share = rng.uniform(0.03, 0.15)
        eligible = people.email_consent & (people.created_s < t)
        chosen = np.flatnonzero(eligible & (rng.random(people.n) < share)).astype(np.int64)
        custs.append(chosen)
        camps.append(np.full(chosen.size, c, dtype=np.int64))
    return np.concatenate(camps), np.concatenate(custs)


def _campaign_rows(
    event: int, channel: int, t: IntArr, cust: IntArr, camp: IntArr, keep: BoolArr
) -> _Rows:
    n = int(keep.sum())
    return _Rows(
        t=t[keep],
        event=np.full(n, event, dtype=np.int64),
        cust=cust[keep],
        anon=_none(n),
        email=_none(n),
        channel=np.full(n, channel, dtype=np.int64),
        product=_none(n),
        campaign=camp[keep],
        tz_min=np.zeros(n, dtype=np.int64),
    )


def _email_only(rng: np.random.Generator, rows: _Rows) -> _Rows:
    """Name about 1 % of plain customer rows by email only, as an email tool's export would."""
    pick = (rows.cust >= 0) & (rows.anon < 0) & (rng.random(rows.size) < EMAIL_ONLY_SHARE)
    email = np.where(pick, rows.cust, rows.email)
    return replace(rows, email=email, cust=np.where(pick, -1, rows.cust))


def _unknown_email_rows(rng: np.random.Generator, clock: _Clock, n_people: int) -> _Rows:
    n = len(UNKNOWN_EMAILS)
    t = clock.end_s - rng.integers(DAY, WINDOW_DAYS * DAY, n)
    return _Rows(
        t=t.astype(np.int64),
        event=np.full(n, PAGE_VIEW, dtype=np.int64),
        cust=_none(n),
        anon=_none(n),
        email=n_people + np.arange(n, dtype=np.int64),
        channel=np.full(n, WEB, dtype=np.int64),
        product=_none(n),
        campaign=_none(n),
        tz_min=np.zeros(n, dtype=np.int64),
    )


def _none(n: int) -> IntArr:
    return np.full(n, -1, dtype=np.int64)


def _concat(parts: Sequence[_Rows]) -> _Rows:
    return _Rows(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in _ROW_FIELDS})


def _take(rows: _Rows, index: IntArr | BoolArr) -> _Rows:
    return _Rows(**{f: getattr(rows, f)[index] for f in _ROW_FIELDS})


_ROW_FIELDS = tuple(_Rows.__dataclass_fields__)


def _write_events(
    path: Path, rng: np.random.Generator, rows: _Rows, people: _People, anon_ids: list[str]
) -> None:
    campaigns = [f"CMP{c + 1:04d}" for c in range(int(rows.campaign.max(initial=-1)) + 1)]
    category = np.where(rows.product >= 0, rows.product // PRODUCTS_PER_CATEGORY, -1)
    columns = {
        "event": _lookup(EVENT_NAMES, rows.event),
        "timestamp": _event_timestamps(rng, rows.t, rows.tz_min),
        "customer_id": _lookup(people.ids, rows.cust),
        "anonymous_id": _lookup(anon_ids, rows.anon),
        "email": _lookup([*people.emails, *UNKNOWN_EMAILS], rows.email),
        "channel": _lookup(CHANNELS, rows.channel),
        "category": _lookup(CATEGORIES, category),
        "product_id": _lookup(_catalogue(), rows.product),
        "campaign_id": _lookup(campaigns, rows.campaign),
        "revenue": _lookup((), _none(rows.size)),
    }
    bad = {
        "event": ["page_view"] * BAD_EVENT_ROWS,
        "timestamp": list(BAD_EVENT_TIMESTAMPS),
        "customer_id": [people.ids[int(i)] for i in rng.integers(0, people.n, BAD_EVENT_ROWS)],
        "channel": ["web"] * BAD_EVENT_ROWS,
    }
    at = np.sort(rng.choice(rows.size + 1, size=BAD_EVENT_ROWS, replace=rows.size < BAD_EVENT_ROWS))
    for name, values in columns.items():
        columns[name] = np.insert(values, at, bad.get(name, [""] * BAD_EVENT_ROWS))
    ids = _numbered("E", rows.size + BAD_EVENT_ROWS)
    _write_csv(path, {"event_id": ids, **columns})


def _catalogue() -> list[str]:
    return [
        f"P{c + 1}{j + 1:03d}" for c in range(len(CATEGORIES)) for j in range(PRODUCTS_PER_CATEGORY)
    ]


def _lookup(values: Sequence[str], index: IntArr) -> ObjArr:
    """values[index] as an object array, with "" (an empty cell) where index is -1."""
    table = np.array([*values, ""], dtype=object)
    return np.asarray(table[index], dtype=object)


def _numbered(prefix: str, count: int) -> ObjArr:
    width = max(7, len(str(count)))
    digits = np.strings.zfill(np.arange(1, count + 1).astype(str), width)
    return np.asarray(np.strings.add(prefix, digits).astype(object), dtype=object)


def _event_timestamps(rng: np.random.Generator, t: IntArr, tz_min: IntArr) -> ObjArr:
    """ISO 8601 in three styles: UTC with Z, local time with an offset, and no offset (UTC)."""
    style = rng.choice(3, size=t.size, p=TIMESTAMP_STYLE_WEIGHTS)
    utc = _iso(t, "s")
    local = _iso(t + tz_min * 60, "s") + _offset_text(tz_min)
    return np.asarray(
        np.where(style == 0, utc + "Z", np.where(style == 1, local, utc)), dtype=object
    )


def _iso(t: IntArr, unit: Literal["s", "ms"]) -> ObjArr:
    stamps: npt.NDArray[np.datetime64] = t.astype(f"datetime64[{unit}]")
    text = np.datetime_as_string(stamps, unit=unit)
    return np.asarray(text.astype(object), dtype=object)


def _offset_text(tz_min: IntArr) -> ObjArr:
    values, inverse = np.unique(tz_min, return_inverse=True)
    texts = [
        f"{'-' if v < 0 else '+'}{abs(v) // 60:02d}:{abs(v) % 60:02d}" for v in values.tolist()
    ]
    return np.asarray(np.array(texts, dtype=object)[inverse.reshape(-1)], dtype=object)


def _write_csv(path: Path, columns: dict[str, ObjArr]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(zip(*(c.tolist() for c in columns.values()), strict=True))


def _write_lines(path: Path, lines: list[str]) -> None:
    # Bytes, not text mode, so the files are identical on every platform.
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))


# --- app_events.jsonl ---------------------------------------------------------------------------


def _app_lines(rng: np.random.Generator, people: _People, clock: _Clock) -> list[str]:
    """App sessions of iOS and Android customers; many of them stop using the app."""
    users = np.flatnonzero([os in ("ios", "android") for os in people.device_os]).astype(np.int64)
    lo, hi = people.lo_s[users], people.hi_s[users]
    quits = rng.random(users.size) < APP_QUIT_SHARE
    app_hi = np.where(quits, lo + (rng.random(users.size) * (hi - lo)).astype(np.int64), hi)
    rate = APP_SESSIONS_PER_DAY * rng.lognormal(0.0, 0.9, users.size)
    rate = rate * np.sqrt(people.activity[users] / WEB_SESSIONS_PER_DAY)
    owner = np.repeat(
        np.arange(users.size, dtype=np.int64), rng.poisson(rate * (app_hi - lo) / DAY)
    )
    tz_min = people.tz_min[users][owner]
    starts = _sample_times(rng, clock, clock.web_cum, lo[owner], app_hi[owner], tz_min)
    keep = (starts >= lo[owner]) & (starts < app_hi[owner])
    owner, starts = owner[keep], starts[keep]
    has_push = (rng.random(starts.size) < 0.15).astype(np.int64)
    sizes = 1 + has_push + rng.poisson(2.0, starts.size)
    session, pos, t = _expand_sessions(rng, starts, sizes, mean_gap_s=25.0)
    kind = np.where(pos < has_push[session], 0, np.where(pos == has_push[session], 1, 2))
    t_ms = t * 1000 + rng.integers(0, 1000, t.size)
    lag = rng.geometric(0.55, users.size) - 1  # how many releases behind a user's app is
    version = _app_version(clock, t, lag[owner][session])
    screen = rng.choice(len(SCREENS), size=t.size, p=SCREEN_WEIGHTS)
    cust = users[owner][session]
    keep = t < app_hi[owner][session]
    order = np.flatnonzero(keep)[np.argsort(t_ms[keep], kind="stable")]
    return _app_json(people, cust[order], kind[order], t_ms[order], version[order], screen[order])


def _app_version(clock: _Clock, t: IntArr, lag: IntArr) -> IntArr:
    """Index into APP_VERSIONS: the newest release at ``t``, ``lag`` releases behind."""
    released = clock.start_s + np.linspace(-120, WINDOW_DAYS - 60, len(APP_VERSIONS)) * DAY
    newest = np.searchsorted(released, t, side="right") - 1
    index: IntArr = np.clip(newest - lag, 0, len(APP_VERSIONS) - 1).astype(np.int64)
    return index


def _app_json(
    people: _People, cust: IntArr, kind: IntArr, t_ms: IntArr, version: IntArr, screen: IntArr
) -> list[str]:
    """JSON lines built by vectorised concatenation: every value is a fixed, JSON-safe token."""
    os_names = _lookup([json.dumps(os or "") for os in people.device_os], cust)
    screen_part = np.where(
        kind == 2, ',"screen":' + _lookup([json.dumps(s) for s in SCREENS], screen), ""
    )
    lines = (
        '{"event_id":"'
        + _numbered("AE", t_ms.size)
        + '","event":'
        + _lookup([json.dumps(e) for e in APP_EVENTS], kind)
        + ',"timestamp":"'
        + _iso(t_ms, "ms")
        + 'Z","customer_id":"'
        + _lookup(people.ids, cust)
        + '","properties":{"device_os":'
        + os_names
        + ',"app_version":'
        + _lookup([json.dumps(v) for v in APP_VERSIONS], version)
        + screen_part
        + "}}"
    )
    return [str(line) for line in lines.tolist()]


# --- orders.csv ---------------------------------------------------------------------------------


def _make_orders(rng: np.random.Generator, people: _People, clock: _Clock) -> _Orders:
    """Orders of about 65 % of customers; more active customers buy more often."""
    n = people.n
    pct = np.argsort(np.argsort(people.activity)) / max(n - 1, 1)
    is_new = people.created_s >= clock.end_s - NEW_CUSTOMER_DAYS * DAY
    # New customers buy less often, so the others buy slightly more to keep the overall share.
    buy_p = np.where(is_new, 0.4, 1.02 - NO_ORDER_SHARE + 0.5 * (pct - 0.5))
    buyer = rng.random(n) < buy_p
    rate = ORDERS_PER_DAY * (people.activity / WEB_SESSIONS_PER_DAY) ** 0.6
    rate = rate * rng.gamma(2.0, 0.5, n)
    days = (people.hi_s - people.lo_s) / DAY
    owner = np.repeat(
        np.arange(n, dtype=np.int64), np.where(buyer, 1 + rng.poisson(rate * days), 0)
    )
    lo, hi = people.lo_s[owner], people.hi_s[owner]
    t = _sample_times(rng, clock, clock.order_cum, lo, hi, people.tz_min[owner])
    # Keep every drawn order (buyers stay buyers): move the few off-range ones just after lo.
    nudged = lo + (rng.random(owner.size) * np.minimum(hi - lo, DAY)).astype(np.int64)
    t = np.where((t < lo) | (t >= hi), nudged, t)
    aov = rng.lognormal(math.log(55.0), 0.45, n)
    items = 1 + rng.poisson(0.9, owner.size)
    noise = rng.lognormal(0.0, 0.25, owner.size)
    cents = np.maximum(np.round(aov[owner] * (0.55 + 0.45 * items) * noise * 100), 199)
    random_cat = rng.choice(len(CATEGORIES), size=owner.size, p=CATEGORY_WEIGHTS)
    category = np.where(rng.random(owner.size) < 0.55, people.fav_cat[owner], random_cat)
    refunded = rng.random(owner.size) < 0.05
    order = np.argsort(t, kind="stable")
    return _Orders(
        t=t[order],
        cust=owner[order],
        cents=cents.astype(np.int64)[order],
        refunded=refunded[order],
        category=category.astype(np.int64)[order],
        items=items.astype(np.int64)[order],
    )


# Rough value in EUR of one unit of each currency of the demo's countries.
BASE_CURRENCY = "EUR"
_EUR_PER_UNIT = {
    "USD": 0.92, "GBP": 1.17, "CAD": 0.68, "AUD": 0.61, "SEK": 0.088,
    "CHF": 1.04, "PLN": 0.23, "DKK": 0.134, "NOK": 0.086,
}  # fmt: skip
# Share of orders cancelled before shipping, refunded later in full, and refunded in part.
CANCELLED_SHARE = 0.01
PARTIAL_REFUND_SHARE = 0.03


@dataclass(frozen=True)
class _Rates:
    month_s: IntArr  # start of each month (UTC seconds), the first before the data starts
    eur: dict[str, FloatArr]  # per currency: EUR for one unit, per month (4 decimals)


def _make_rates(rng: np.random.Generator, clock: _Clock) -> _Rates:
    """Monthly rates into EUR, each a random walk (about 1.5 % a month) from a rough value."""
    first = np.datetime64(clock.start_s, "s").astype("datetime64[M]")
    last = np.datetime64(clock.end_s, "s").astype("datetime64[M]")
    months = np.arange(first, last + 1)
    month_s = months.astype("datetime64[s]").astype(np.int64)
    eur = {}
    for code, value in _EUR_PER_UNIT.items():
        walk = np.exp(np.cumsum(rng.normal(0.0, 0.015, months.size)))
        eur[code] = np.round(value * walk, 4 if value > 0.5 else 5)
    return _Rates(month_s, eur)


def _write_rates(path: Path, rates: _Rates) -> None:
    valid_from = (_iso(rates.month_s, "s") + "Z").tolist()
    rows = [
        (code, f"{rate:.5f}".rstrip("0").rstrip("."), when)
        for code, values in rates.eur.items()
        for rate, when in zip(values.tolist(), valid_from, strict=True)
    ]
    _write_csv(
        path,
        {
            "currency": np.array([r[0] for r in rows], dtype=object),
            "rate": np.array([r[1] for r in rows], dtype=object),
            "valid_from": np.array([r[2] for r in rows], dtype=object),
        },
    )


def _local_cents(orders: _Orders, currency: ObjArr, rates: _Rates) -> IntArr:
    """Order totals in the customer's own currency: the EUR value at the month's rate."""
    month = np.searchsorted(rates.month_s, orders.t, side="right") - 1
    rate = np.ones(orders.t.size)
    for code, values in rates.eur.items():
        mine = currency == code
        rate[mine] = values[month[mine]]
    return np.maximum(np.round(orders.cents / rate), 1).astype(np.int64)


def _write_orders(
    path: Path,
    updates_path: Path,
    rng: np.random.Generator,
    money_rng: np.random.Generator,
    orders: _Orders,
    people: _People,
    rates: _Rates,
) -> None:
    currency = [_COUNTRIES[c].currency for c in people.country.tolist()]
    local = _local_cents(orders, _lookup(currency, orders.cust), rates)
    columns = _order_columns(orders, people, currency, local)
    # Cancelled orders come as such; refunds arrive later as updates of completed orders.
    cancelled = (money_rng.random(local.size) < CANCELLED_SHARE) & ~orders.refunded
    columns["status"] = np.where(cancelled, "cancelled", "completed").astype(object)
    columns["refunded_amount"] = np.full(local.size, "", dtype=object)
    updates = _order_updates(money_rng, orders, local, cancelled, columns)
    who = rng.integers(0, people.n, BAD_ORDER_ROWS)
    span = people.hi_s[who] - people.lo_s[who]
    bad_t = people.lo_s[who] + (rng.random(BAD_ORDER_ROWS) * span).astype(np.int64)
    bad = {
        "refunded_amount": [""] * BAD_ORDER_ROWS,
        "customer_id": [people.ids[int(i)] for i in who],
        "ordered_at": (_iso(bad_t, "s") + "Z").tolist(),
        "total": list(BAD_ORDER_TOTALS),
        "currency": [currency[int(i)] for i in who],
        "status": ["completed"] * BAD_ORDER_ROWS,
        "category": [CATEGORIES[int(i)] for i in people.fav_cat[who]],
        "items": ["1"] * BAD_ORDER_ROWS,
    }
    size = int(orders.t.size)
    # A tiny shop may have fewer orders than bad rows: places may then repeat.
    at = np.sort(rng.choice(size + 1, size=BAD_ORDER_ROWS, replace=size < BAD_ORDER_ROWS))
    ids = _numbered("O", size + BAD_ORDER_ROWS)
    good_ids = np.delete(ids, at + np.arange(BAD_ORDER_ROWS))
    for name, values in columns.items():
        columns[name] = np.insert(values, at, bad[name])
    _write_csv(path, {"order_id": ids, **columns})
    _write_csv(updates_path, {"order_id": good_ids[updates["index"]], **updates["columns"]})


def _order_updates(
    rng: np.random.Generator,
    orders: _Orders,
    local: IntArr,
    cancelled: BoolArr,
    columns: dict[str, ObjArr],
) -> dict[str, Any]:
    """Rows of order_updates.csv: every refunded order again with status "refunded", and a
    few completed ones with a partial refund (20-50 % of the total)."""
    partial = ~orders.refunded & ~cancelled & (rng.random(local.size) < PARTIAL_REFUND_SHARE)
    index = np.flatnonzero(orders.refunded | partial)
    share = rng.uniform(0.2, 0.5, local.size)
    refund = np.maximum(np.round(local * share), 1).astype(np.int64)
    updated = {name: values[index].copy() for name, values in columns.items()}
    updated["status"] = np.where(orders.refunded[index], "refunded", "completed").astype(object)
    updated["refunded_amount"] = np.array(
        [f"{c // 100}.{c % 100:02d}" if p else "" for c, p in zip(
            refund[index].tolist(), partial[index].tolist(), strict=True
        )],
        dtype=object,
    )  # fmt: skip
    return {"index": index, "columns": updated}


def _order_columns(
    orders: _Orders, people: _People, currency: list[str], local: IntArr
) -> dict[str, ObjArr]:
    totals = [f"{c // 100}.{c % 100:02d}" for c in local.tolist()]
    return {
        "customer_id": _lookup(people.ids, orders.cust),
        "ordered_at": _iso(orders.t, "s") + "Z",
        "total": np.array(totals, dtype=object),
        "currency": _lookup(currency, orders.cust),
        "category": _lookup(CATEGORIES, orders.category),
        "items": orders.items.astype(str).astype(object),
    }


# --- customers.jsonl ----------------------------------------------------------------------------


def _customer_lines(
    rng: np.random.Generator, people: _People, orders: _Orders, clock: _Clock
) -> tuple[list[str], list[str]]:
    """The lines of customers.jsonl, and each customer's plan."""
    n = people.n
    spent = np.bincount(
        orders.cust, weights=np.where(orders.refunded, 0, orders.cents), minlength=n
    )
    # Points earned on spend, partly redeemed, plus a sign-up bonus for some.
    points = (spent / 100 * rng.uniform(0.3, 1.0, n)).astype(np.int64)
    points = points + rng.choice(np.array([0, 50, 100]), size=n, p=[0.6, 0.25, 0.15])
    age_years = 18 + np.minimum(rng.gamma(3.0, 6.0, n), 67)
    end_day = clock.end_s // DAY
    birth = end_day - (age_years * 365.25).astype(np.int64)
    birth_text = np.datetime_as_string(birth.astype("datetime64[D]"), unit="D").tolist()
    created_text = (_iso(people.created_s, "s") + "Z").tolist()
    plans = _draw_plans(rng, people.activity)
    lines = [
        json.dumps(
            _customer_record(people, i, birth_text[i], created_text[i], plans[i], int(points[i])),
            ensure_ascii=False,
        )
        for i in range(n)
    ]
    return lines, plans


def _draw_plans(rng: np.random.Generator, activity: FloatArr) -> list[str]:
    """Paid plans are likelier among active customers."""
    pct = np.argsort(np.argsort(activity)) / max(activity.size - 1, 1)
    u = rng.random(activity.size)
    plan = np.where(u < 0.03 + 0.12 * pct, 2, np.where(u < 0.12 + 0.3 * pct, 1, 0))
    return [PLANS[p] for p in plan.tolist()]


def _customer_record(
    people: _People, i: int, birth: str, created: str, plan: str, points: int
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "customer_id": people.ids[i],
        "email": people.emails[i],
        "first_name": people.first[i],
        "last_name": people.last[i],
    }
    if people.phone[i] is not None:
        record["phone"] = people.phone[i]
    if people.country_known[i]:
        record["country"] = _COUNTRIES[people.country[i]].code
        record["city"] = people.city[i]
    if people.postal_code[i] is not None:
        record["postal_code"] = people.postal_code[i]
    if people.gender[i] != "":
        record["gender"] = people.gender[i]
    record["birth_date"] = birth
    record["created_at"] = created
    record["email_consent"] = bool(people.email_consent[i])
    record["sms_consent"] = bool(people.sms_consent[i])
    record["ads_consent"] = bool(people.ads_consent[i])
    if people.device_os[i] is not None:
        record["device_os"] = people.device_os[i]
    record["interests"] = people.interests[i]
    record["plan"] = plan
    record["loyalty_points"] = points
    return record


# --- the campaign's orders ----------------------------------------------------------------------


def held_out(campaign: str, customer_ids: Sequence[str], share: float) -> BoolArr:
    """Whether each customer is in the campaign's holdout: the assignment of
    store/campaigns.py (its SQL hashes the same way), so the shop knows the groups the
    workspace will draw."""
    from segmint.store.campaigns import HASH_DIGITS, HASH_SCALE

    u = [
        int(hashlib.sha256(f"{campaign}:{c}".encode()).hexdigest()[:HASH_DIGITS], 16)
        for c in customer_ids
    ]
    held: BoolArr = np.asarray(u, dtype=np.float64) < share * HASH_SCALE
    return held


def _campaign_orders(
    rng: np.random.Generator, people: _People, plans: list[str], orders: _Orders, clock: _Clock
) -> _Orders:
    """Orders the campaign causes. In a segment with a true lift L, a treatment member
    who orders in the window anyway is left as is, and each of the others orders once
    with probability L / (1 - b), b the share of the segment's audience who order in the
    window anyway: the treatment group then converts at b + L in expectation, the
    holdout at b."""
    start = clock.end_s - CAMPAIGN.days_before_end * DAY
    end = start + CAMPAIGN.window_days * DAY
    exists = people.created_s <= start  # the audience is who exists at the start
    anyway = np.zeros(people.n, dtype=bool)
    anyway[orders.cust[(orders.t >= start) & (orders.t < end)]] = True
    treated = ~held_out(CAMPAIGN.name, people.ids, CAMPAIGN.holdout)
    plan = np.asarray(plans, dtype=object)
    buyers = np.zeros(people.n, dtype=bool)
    for segment in CAMPAIGN.segments:
        audience = exists & np.isin(plan, segment.plans)
        u = rng.random(people.n)
        if segment.true_lift > 0 and audience.any():
            base = float(anyway[audience].mean())
            chance = segment.true_lift / max(1 - base, segment.true_lift)
            buyers |= audience & treated & ~anyway & (u < chance)
    cust = np.flatnonzero(buyers).astype(np.int64)
    # Most who respond do so in the first days after the email.
    t = start + (rng.random(cust.size) ** 2 * (end - start)).astype(np.int64)
    items = 1 + rng.poisson(0.9, cust.size)
    aov = rng.lognormal(math.log(55.0), 0.45, cust.size)
    cents = np.maximum(np.round(aov * (0.55 + 0.45 * items) * 100), 199).astype(np.int64)
    order = np.argsort(t, kind="stable")
    return _Orders(
        t=t[order],
        cust=cust[order],
        cents=cents[order],
        refunded=np.zeros(cust.size, dtype=bool),
        category=people.fav_cat[cust][order],
        items=items.astype(np.int64)[order],
    )


def _append_orders(path: Path, orders: _Orders, people: _People, rates: _Rates, first: int) -> None:
    """Add completed ``orders`` at the end of orders.csv, numbered on from ``first``."""
    currency = [_COUNTRIES[c].currency for c in people.country.tolist()]
    local = _local_cents(orders, _lookup(currency, orders.cust), rates)
    columns = _order_columns(orders, people, currency, local)
    columns["status"] = np.full(local.size, "completed", dtype=object)
    columns["refunded_amount"] = np.full(local.size, "", dtype=object)
    ids = _numbered("O", first + local.size)[first:]
    with path.open("a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerows(zip(ids.tolist(), *(c.tolist() for c in columns.values()), strict=True))
