"""Generate the ingestion benchmark data set in the input formats of DESIGN section 3.

    python bench/generate.py --customers 1000000 --events 50000000 --out bench/data --seed 0

Writes customers.{parquet,csv}, events.{parquet,csv}, events_bad_rows.csv and manifest.json.
Rows are generated and written in chunks of CHUNK_ROWS, so memory stays flat whatever the size.
Every chunk draws from its own random stream keyed by (seed, stream, chunk number): the same seed
gives the same files (for a given numpy version) whichever formats are written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK_ROWS = 1_000_000
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
EVENTS_END_US = int(dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp()) * US_PER_SECOND
EVENTS_SPAN_US = 730 * US_PER_DAY
CUSTOMERS_SPAN_US = 5 * 365 * US_PER_DAY
TRAFFIC_GROWTH = 1.0  # event rate at the end of the span is (1 + growth) times the rate at start

# Random stream ids: one per table, so the customers do not shift when --events changes.
STREAM_ACTIVITY, STREAM_CUSTOMERS, STREAM_EVENTS = 1, 2, 3
# Ids are _mix64(index + salt): the seed sits in the salt's high bits, so the event ids and
# anonymous ids of two seeds (below 2**22) never collide: a workspace can load both sets.
SALT_ANONYMOUS, SALT_EVENT_ID = 1 << 62, 0

ANONYMOUS_ONLY_SHARE = 0.10
BOTH_IDS_SHARE = 0.01  # rows carrying customer_id and anonymous_id tie the two together
VISITOR_SHARE = 0.4  # of anonymous-only rows: visitors who never identify
BAD_ROW_SHARE = 1e-4

EVENTS: dict[str, float] = {
    "page_view": 0.36,
    "product_view": 0.20,
    "app_open": 0.10,
    "search": 0.09,
    "email_sent": 0.09,
    "add_to_cart": 0.06,
    "email_opened": 0.045,
    "checkout_started": 0.025,
    "order_completed": 0.018,
    "email_clicked": 0.012,
}
EVENTS_WITH_CATEGORY = (
    "product_view",
    "search",
    "add_to_cart",
    "checkout_started",
    "order_completed",
)
EVENTS_WITH_PRICE = ("product_view", "add_to_cart")
CATEGORIES: dict[str, float] = {
    "apparel": 0.22,
    "shoes": 0.14,
    "electronics": 0.12,
    "home": 0.11,
    "beauty": 0.09,
    "sports": 0.08,
    "toys": 0.07,
    "books": 0.06,
    "grocery": 0.05,
    "garden": 0.03,
    "jewelry": 0.02,
    "pets": 0.01,
}
COUNTRIES: dict[str, float] = {
    "US": 0.34,
    "GB": 0.10,
    "DE": 0.08,
    "FR": 0.07,
    "CA": 0.05,
    "AU": 0.04,
    "BR": 0.04,
    "IN": 0.04,
    "NL": 0.03,
    "ES": 0.03,
    "IT": 0.03,
    "JP": 0.03,
    "SE": 0.02,
    "MX": 0.02,
    "PL": 0.02,
    "BE": 0.01,
    "CH": 0.01,
    "IE": 0.01,
    "DK": 0.01,
    "NO": 0.01,
    "AT": 0.01,
}
EMAIL_DOMAINS: dict[str, float] = {
    "gmail.com": 0.45,
    "yahoo.com": 0.12,
    "outlook.com": 0.10,
    "hotmail.com": 0.08,
    "icloud.com": 0.08,
    "gmx.de": 0.04,
    "example.com": 0.13,
}
DEVICE_OS: dict[str, float] = {
    "android": 0.40,
    "ios": 0.35,
    "windows": 0.12,
    "macos": 0.10,
    "linux": 0.03,
}
PLANS: dict[str, float] = {"free": 0.60, "basic": 0.25, "pro": 0.12, "enterprise": 0.03}
BAD_TIMESTAMPS = ("not-a-time", "2025-02-30T25:61:00Z", "yesterday")
BAD_REVENUES = ("abc", "12.34.56", "1O.00")  # as many as BAD_TIMESTAMPS

TIMESTAMP_UTC = pa.timestamp("us", tz="UTC")
REVENUE_TYPE = pa.decimal128(12, 2)
CUSTOMER_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("email", pa.string()),
        ("country", pa.string()),
        ("created_at", TIMESTAMP_UTC),
        ("email_consent", pa.bool_()),
        ("device_os", pa.string()),
        ("loyalty_points", pa.int64()),
        ("plan", pa.string()),
    ]
)
EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event", pa.string()),
        ("timestamp", TIMESTAMP_UTC),
        ("customer_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("revenue", REVENUE_TYPE),
        ("category", pa.string()),
        ("channel", pa.string()),
        ("price", pa.float64()),
    ]
)

# A part of a fixed-width string: literal bytes, or (values, digits, base).
Part = bytes | tuple[np.ndarray, int, int]
_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint16)
_DECIMAL_PAIRS = np.frombuffer(b"".join(b"%02d" % i for i in range(100)), dtype=np.uint16)


# ---------------------------------------------------------------- vectorised building blocks


def _rng(seed: int, stream: int, chunk: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, chunk]))


def _pick(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    """Indices into `weights`, drawn with the given (skewed) probabilities."""
    cdf = np.cumsum(list(weights.values()))
    idx = np.searchsorted(cdf / cdf[-1], rng.random(n), side="right")
    return np.minimum(idx, len(cdf) - 1)


def _sample_cdf(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """Indices drawn from a large cdf (one entry per customer)."""
    # Searching in sorted order keeps the big cdf in cache: 3x faster than random order.
    u = rng.random(n)
    order = np.argsort(u)
    idx = np.empty(n, dtype=np.int64)
    idx[order] = np.searchsorted(cdf, u[order], side="right")
    return np.minimum(idx, len(cdf) - 1)


def _labels(names: Sequence[str], idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(list(names), pa.string()).take(pa.array(idx, pa.int32(), mask=mask))


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    if valid is None or valid.all():
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int((~valid).sum())


def _render(parts: Sequence[Part], n: int, valid: np.ndarray | None = None) -> pa.Array:
    """Build n fixed-width strings from literals and zero-padded numbers, without Python loops."""
    widths = [len(p) if isinstance(p, bytes) else p[1] for p in parts]
    out = np.empty((n, sum(widths)), dtype=np.uint8)
    col = 0
    for part, width in zip(parts, widths, strict=True):
        if isinstance(part, bytes):
            out[:, col : col + width] = np.frombuffer(part, dtype=np.uint8)
        else:
            _write_digits(out[:, col : col + width], part[0], part[2])
        col += width
    return _strings_from_matrix(out, valid)


def _write_digits(target: np.ndarray, values: np.ndarray, base: int) -> None:
    rest = values.astype(np.uint64)
    width = target.shape[1]
    if base == 16 and width == 16:  # two hex digits per byte: uint64 division is ~10x slower
        big_endian = rest.astype(">u8").view(np.uint8).reshape(-1, 8)
        target[:] = _HEX_PAIRS[big_endian].view(np.uint8).reshape(-1, 16)
        return
    if base == 10:  # two digits per division
        for k in range(width, 1, -2):
            rest, pair = np.divmod(rest, np.uint64(100))
            target[:, k - 2 : k] = _DECIMAL_PAIRS[pair].view(np.uint8).reshape(-1, 2)
        if width % 2:
            target[:, 0] = _DIGITS[rest % np.uint64(10)]
        return
    for k in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, np.uint64(base))
        target[:, k] = _DIGITS[digit]


def _strings_from_matrix(chars: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    n, width = chars.shape
    lengths = np.full(n, width, dtype=np.int32) if valid is None else np.where(valid, width, 0)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = chars if valid is None else chars[valid]
    bitmap, nulls = _validity(valid)
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))]
    return pa.Array.from_buffers(pa.string(), n, buffers, nulls)


def _salt(kind: int, seed: int) -> int:
    return kind + (seed % (1 << 22) << 40)


def _mix64(values: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64, so distinct inputs give distinct ids."""
    z = values.astype(np.uint64) + np.uint64(salt)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) from days since 1970-01-01 (H. Hinnant)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _iso_utc(us: np.ndarray, fraction: bool) -> pa.Array:
    """ISO 8601 UTC text ('2025-03-04T10:11:12.123456Z'); pc.strftime is ~20x slower."""
    days, rest = np.divmod(us, US_PER_DAY)
    year, month, day = _civil_from_days(days)
    seconds, micros = np.divmod(rest, US_PER_SECOND)
    hours, seconds = np.divmod(seconds, 3600)
    minutes, seconds = np.divmod(seconds, 60)
    parts: list[Part] = [(year, 4, 10), b"-", (month, 2, 10), b"-", (day, 2, 10), b"T"]
    parts += [(hours, 2, 10), b":", (minutes, 2, 10), b":", (seconds, 2, 10)]
    parts += [b".", (micros, 6, 10), b"Z"] if fraction else [b"Z"]
    return _render(parts, len(us))


def _decimal_cents(cents: np.ndarray, valid: np.ndarray) -> pa.Array:
    """decimal(12,2) straight from integer cents: money never passes through a float."""
    words = np.zeros((len(cents), 2), dtype=np.int64)
    words[:, 0] = np.where(valid, cents, 0)
    bitmap, nulls = _validity(valid)
    return pa.Array.from_buffers(REVENUE_TYPE, len(cents), [bitmap, pa.py_buffer(words)], nulls)


def _timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(us, TIMESTAMP_UTC)


def _id_width(count: int) -> int:
    return max(7, len(str(count)))


# ---------------------------------------------------------------- the population


@dataclass(frozen=True)
class Population:
    customers: int
    customer_cdf: np.ndarray  # lognormal activity: a few customers produce most events
    visitor_cdf: np.ndarray  # anonymous visitors who never identify

    @classmethod
    def build(cls, customers: int, seed: int) -> Population:
        rng = _rng(seed, STREAM_ACTIVITY, 0)
        return cls(
            customers,
            _lognormal_cdf(rng, customers, 1.5),
            _lognormal_cdf(rng, max(customers // 2, 1), 1.0),
        )


def _lognormal_cdf(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    cdf = np.cumsum(rng.lognormal(0.0, sigma, n))
    return cdf / cdf[-1]


def _customer_ids(pop: Population, index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Customer index i has id "C" + zero-padded i + 1 ("C0000001")."""
    return _render([b"C", (index + 1, _id_width(pop.customers), 10)], len(index), valid)


def _anonymous_ids(index: np.ndarray, valid: np.ndarray, seed: int) -> pa.Array:
    """Customer i owns anonymous id index i; visitors use indices from `customers` upward."""
    mixed = _mix64(index, _salt(SALT_ANONYMOUS, seed))
    return _render([b"anon_", (mixed, 16, 16)], len(index), valid)


# ---------------------------------------------------------------- customers


def customer_chunk(pop: Population, seed: int, chunk: int, start: int, n: int) -> pa.Table:
    rng = _rng(seed, STREAM_CUSTOMERS, chunk)
    number = np.arange(start + 1, start + n + 1)
    local = _render([b"user", (number, _id_width(pop.customers), 10)], n)  # unique per customer
    domain = _labels(list(EMAIL_DOMAINS), _pick(rng, EMAIL_DOMAINS, n))
    email = pc.binary_join_element_wise(local, domain, "@")
    email = pc.if_else(pa.array(rng.random(n) < 0.02), pa.scalar(None, pa.string()), email)
    created = EVENTS_END_US - rng.integers(1, CUSTOMERS_SPAN_US // US_PER_SECOND, n) * US_PER_SECOND
    points = np.where(rng.random(n) < 0.4, 0, rng.lognormal(5.0, 1.2, n).astype(np.int64))
    columns = [
        _customer_ids(pop, np.arange(start, start + n)),
        email,
        _labels(list(COUNTRIES), _pick(rng, COUNTRIES, n)),
        _timestamps(created),
        pa.array(rng.random(n) < 0.6),
        _labels(list(DEVICE_OS), _pick(rng, DEVICE_OS, n), rng.random(n) >= 0.15),
        pa.array(points, pa.int64()),
        _labels(list(PLANS), _pick(rng, PLANS, n)),
    ]
    return pa.Table.from_arrays(columns, schema=CUSTOMER_SCHEMA)


def customers_as_csv(table: pa.Table) -> pa.Table:
    created = table.column("created_at").combine_chunks().cast(pa.int64()).to_numpy()
    index = table.schema.get_field_index("created_at")
    return table.set_column(index, "created_at", _iso_utc(created, fraction=False))


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class EventChunk:
    table: pa.Table
    bad_timestamp: np.ndarray  # rows whose CSV timestamp is made unparsable
    bad_revenue: np.ndarray  # rows whose CSV revenue is made non-numeric
    bad_choice: np.ndarray  # which bad literal each row gets


def event_chunk(
    pop: Population, seed: int, chunk: int, start: int, n: int, total: int
) -> EventChunk:
    rng = _rng(seed, STREAM_EVENTS, chunk)
    rows = np.arange(start, start + n, dtype=np.int64)
    us = _event_times(rng, rows, total)
    kind = _pick(rng, EVENTS, n)
    customer, anonymous, has_customer, has_anonymous = _identities(rng, pop, n)
    columns = [
        _render([b"evt_", (_mix64(rows, _salt(SALT_EVENT_ID, seed)), 16, 16)], n),
        _labels(list(EVENTS), kind),
        _timestamps(us),
        _customer_ids(pop, customer, has_customer),
        _anonymous_ids(anonymous, has_anonymous, seed),
        *_properties(rng, kind, n),
    ]
    table = pa.Table.from_arrays(columns, schema=EVENT_SCHEMA)
    bad = rng.random(n) < BAD_ROW_SHARE
    bad_timestamp = bad & (rng.random(n) < 0.5)
    choice = rng.integers(0, len(BAD_TIMESTAMPS), n)
    return EventChunk(table, bad_timestamp, bad & ~bad_timestamp, choice)


def _event_times(rng: np.random.Generator, rows: np.ndarray, total: int) -> np.ndarray:
    """Microseconds in arrival order: row i sits at quantile i/total of a growing traffic curve,
    less a small delivery delay (a few late arrivals hours behind) so order is only rough."""
    q = (rows + rng.random(len(rows))) / total
    g = TRAFFIC_GROWTH
    x = (np.sqrt(1.0 + 2.0 * g * q * (1.0 + g / 2.0)) - 1.0) / g  # inverse CDF of rate 1 + g*x
    delay = rng.exponential(np.where(rng.random(len(rows)) < 0.01, 3600.0, 5.0)) * US_PER_SECOND
    start = EVENTS_END_US - EVENTS_SPAN_US
    return np.maximum(start + (x * EVENTS_SPAN_US).astype(np.int64) - delay.astype(np.int64), start)


def _identities(
    rng: np.random.Generator, pop: Population, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    customer = _sample_cdf(rng, pop.customer_cdf, n)
    who = rng.random(n)
    anonymous_only = who < ANONYMOUS_ONLY_SHARE
    both = (who >= ANONYMOUS_ONLY_SHARE) & (who < ANONYMOUS_ONLY_SHARE + BOTH_IDS_SHARE)
    visitor = anonymous_only & (rng.random(n) < VISITOR_SHARE)
    anonymous = customer.copy()
    anonymous[visitor] = pop.customers + _sample_cdf(rng, pop.visitor_cdf, int(visitor.sum()))
    return customer, anonymous, ~anonymous_only, anonymous_only | both


def _properties(rng: np.random.Generator, kind: np.ndarray, n: int) -> list[pa.Array]:
    names = list(EVENTS)
    is_order = kind == names.index("order_completed")
    cents = np.maximum(np.rint(rng.lognormal(np.log(5500.0), 0.7, n)), 99).astype(np.int64)
    has_category = np.isin(kind, [names.index(e) for e in EVENTS_WITH_CATEGORY])
    has_category &= rng.random(n) >= 0.05
    category = _labels(list(CATEGORIES), _pick(rng, CATEGORIES, n), has_category)
    has_price = np.isin(kind, [names.index(e) for e in EVENTS_WITH_PRICE])
    price = np.round(rng.lognormal(np.log(35.0), 0.9, n), 2)
    return [
        _decimal_cents(cents, is_order),
        category,
        _labels(["web", "app", "email"], _channel(rng, kind, n)),
        pa.array(price, pa.float64(), mask=~has_price),
    ]


def _channel(rng: np.random.Generator, kind: np.ndarray, n: int) -> np.ndarray:
    names = list(EVENTS)
    emails = [names.index(e) for e in names if e.startswith("email_")]
    channel = np.where(rng.random(n) < 0.35, 1, 0)
    channel[kind == names.index("app_open")] = 1
    channel[np.isin(kind, emails)] = 2
    return channel


def events_as_csv(chunk: EventChunk) -> pa.Table:
    """CSV text for timestamp and revenue, with the chunk's deliberately bad rows spoiled."""
    table = chunk.table
    us = table.column("timestamp").combine_chunks().cast(pa.int64()).to_numpy()
    text = _spoil(
        _iso_utc(us, fraction=True), chunk.bad_timestamp, chunk.bad_choice, BAD_TIMESTAMPS
    )
    revenue = table.column("revenue").combine_chunks().cast(pa.string())
    revenue = _spoil(revenue, chunk.bad_revenue, chunk.bad_choice, BAD_REVENUES)
    table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp", text)
    return table.set_column(table.schema.get_field_index("revenue"), "revenue", revenue)


def _spoil(values: pa.Array, where: np.ndarray, choice: np.ndarray, bad: Sequence[str]) -> pa.Array:
    if not where.any():
        return values
    return pc.if_else(pa.array(where), _labels(bad, choice), values)


def bad_rows(chunk: EventChunk, start: int) -> pa.Table:
    """The spoiled rows: CSV line number (header is line 1), event_id and the spoiled column."""
    rows = np.flatnonzero(chunk.bad_timestamp | chunk.bad_revenue)
    column = np.where(chunk.bad_timestamp[rows], "timestamp", "revenue")
    return pa.table(
        {
            "line": pa.array(start + rows + 2, pa.int64()),
            "event_id": chunk.table.column("event_id").take(pa.array(rows)),
            "column": pa.array(column.tolist(), pa.string()),
        }
    )


# ---------------------------------------------------------------- writing


class TableSink:
    """Parquet and/or CSV writers for one table; files appear under their name only when whole.

    Writing runs on a worker thread (pyarrow releases the GIL) while the next chunk is
    generated; at most one chunk waits, so memory stays at about two chunks.
    """

    def __init__(self, out: Path, name: str, schema: pa.Schema, formats: Sequence[str]) -> None:
        self.paths = {fmt: out / f"{name}.{fmt}" for fmt in formats}
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self._csv_file: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: Future[None] | None = None
        if "parquet" in self.paths:
            self._parquet = pq.ParquetWriter(_partial(self.paths["parquet"]), schema)
        if "csv" in self.paths:
            self._csv_file = open(_partial(self.paths["csv"]), "wb")  # noqa: SIM115
            self._csv_file.write((",".join(schema.names) + "\n").encode())

    def write(self, table: pa.Table, as_csv: Callable[[], pa.Table]) -> None:
        csv_table = as_csv() if self._csv_file is not None else None
        self._wait()
        self._pending = self._pool.submit(self._write, table, csv_table)

    def _write(self, table: pa.Table, csv_table: pa.Table | None) -> None:
        if self._parquet is not None:
            self._parquet.write_table(table, row_group_size=CHUNK_ROWS)
        if csv_table is not None:
            if self._csv is None:
                options = pacsv.WriteOptions(include_header=False, quoting_style="none")
                self._csv = pacsv.CSVWriter(self._csv_file, csv_table.schema, write_options=options)
            self._csv.write_table(csv_table)

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def close(self) -> dict[str, int]:
        self._wait()
        self._pool.shutdown()
        for writer in (self._parquet, self._csv, self._csv_file):
            if writer is not None:
                writer.close()
        for path in self.paths.values():
            os.replace(_partial(path), path)
        return {path.name: path.stat().st_size for path in self.paths.values()}


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _chunks(total: int) -> Iterator[tuple[int, int, int]]:
    for chunk, start in enumerate(range(0, total, CHUNK_ROWS)):
        yield chunk, start, min(CHUNK_ROWS, total - start)


def _progress(label: str, chunk: int, start: int, n: int, total: int, began: float) -> None:
    done = start + n
    print(
        f"{label}: chunk {chunk + 1}/{-(-total // CHUNK_ROWS)}, {done:,}/{total:,} rows "
        f"({100 * done / total:.0f} %), {time.perf_counter() - began:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def write_customers(
    pop: Population, seed: int, out: Path, formats: Sequence[str]
) -> dict[str, int]:
    sink = TableSink(out, "customers", CUSTOMER_SCHEMA, formats)
    began = time.perf_counter()
    for chunk, start, n in _chunks(pop.customers):
        table = customer_chunk(pop, seed, chunk, start, n)
        sink.write(table, lambda t=table: customers_as_csv(t))
        _progress("customers", chunk, start, n, pop.customers, began)
    return sink.close()


def write_events(
    pop: Population, seed: int, total: int, out: Path, formats: Sequence[str]
) -> tuple[dict[str, int], pa.Table]:
    sink = TableSink(out, "events", EVENT_SCHEMA, formats)
    rejects: list[pa.Table] = []
    began = time.perf_counter()
    for chunk, start, n in _chunks(total):
        data = event_chunk(pop, seed, chunk, start, n, total)
        sink.write(data.table, lambda d=data: events_as_csv(d))
        rejects.append(bad_rows(data, start))
        _progress("events", chunk, start, n, total, began)
    sizes = sink.close()
    empty = pa.schema([("line", pa.int64()), ("event_id", pa.string()), ("column", pa.string())])
    return sizes, pa.concat_tables(rejects) if rejects else empty.empty_table()


def write_bad_rows(bad: pa.Table, out: Path) -> dict[str, int]:
    path = out / "events_bad_rows.csv"
    with open(path, "wb") as sink:
        sink.write((",".join(bad.schema.names) + "\n").encode())
        pacsv.write_csv(bad, sink, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return {path.name: path.stat().st_size}


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")


# ---------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/data"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet,csv")
    args = parser.parse_args(argv)
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not args.formats or set(args.formats) - {"parquet", "csv"}:
        parser.error("--formats takes parquet and/or csv")
    if args.customers < 1 or args.events < 0 or args.seed < 0:
        parser.error("--customers must be >= 1, --events and --seed >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "manifest.json").unlink(missing_ok=True)  # present only for a finished set
    pop = Population.build(args.customers, args.seed)
    files = write_customers(pop, args.seed, args.out, args.formats)
    event_files, bad = write_events(pop, args.seed, args.events, args.out, args.formats)
    files |= event_files
    csv_bad = bad.num_rows if "csv" in args.formats else 0
    if "csv" in args.formats:
        files |= write_bad_rows(bad, args.out)
    seconds = round(time.perf_counter() - began, 1)
    write_manifest(args.out, _manifest(args, bad, csv_bad, files, seconds))
    print(
        f"done in {seconds} s: {csv_bad} bad CSV event rows, files in {args.out}", file=sys.stderr
    )
    return 0


def _manifest(
    args: argparse.Namespace, bad: pa.Table, csv_bad: int, files: dict[str, int], seconds: float
) -> dict[str, Any]:
    by_column = pc.value_counts(bad.column("column")).to_pylist() if csv_bad else []
    return {
        "generator": "bench/generate.py",
        "seed": args.seed,
        "formats": args.formats,
        "customers": {"rows": args.customers},
        "events": {
            "rows": args.events,
            "first_timestamp_not_before": _iso(EVENTS_END_US - EVENTS_SPAN_US),
            "timestamps_before": _iso(EVENTS_END_US),
            "csv_bad_rows": csv_bad,
            "csv_bad_rows_by_column": {d["values"]: d["counts"] for d in by_column},
            "csv_bad_rows_file": "events_bad_rows.csv" if "csv" in args.formats else None,
            "parquet_bad_rows": 0,
        },
        "files": files,
        "chunk_rows": CHUNK_ROWS,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generation_seconds": seconds,
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
        },
    }


def _iso(us: int) -> str:
    return dt.datetime.fromtimestamp(us / US_PER_SECOND, dt.UTC).isoformat().replace("+00:00", "Z")


if __name__ == "__main__":
    sys.exit(main())
