"""Exchange rates into the base currency: ``segmint ingest rates FILE``.

A rates file has the columns ``currency`` (ISO 4217), ``rate`` (base-currency units for
one unit of that currency, so with base EUR a USD rate of 0.92 makes 100 USD 92 EUR) and
``valid_from`` (an ISO 8601 instant; a bare date is 00:00 UTC). A rate holds from its
valid_from until the next rate of that currency. A row for a (currency, valid_from)
already stored with another rate corrects it; every stored order in that currency is
then converted again (store/orders.py ``reconvert``), so revenue always follows the rates
as loaded.
"""

from __future__ import annotations

from segmint.engine.sqltext import quote_str
from segmint.errors import IngestError
from segmint.ingest.duckdb.context import LoadContext
from segmint.ingest.duckdb.orders import RATE_SCALE, check_currency
from segmint.ingest.duckdb.sources import Source
from segmint.ingest.duckdb.stage import (
    Check,
    convert_check,
    create_stage,
    json_text_checks,
    missing_check,
    range_check,
    require_scalar_column,
)
from segmint.ingest.duckdb.types import cast_expr
from segmint.store.orders import reconvert, store_rates

REQUIRED = ("currency", "rate", "valid_from")


def load_rates(ctx: LoadContext, source: Source) -> dict[str, int]:
    """Stage, validate and store exchange rates; returns counts for the load summary."""
    missing = [name for name in REQUIRED if source.column(name) is None]
    if missing:
        raise IngestError(
            f"{source.label}: missing required column {', '.join(map(repr, missing))} "
            f"(a rates file has currency, rate, valid_from; columns: "
            f"{', '.join(source.names) or 'none'})"
        )
    extra = [name for name in source.names if name not in REQUIRED]
    if extra:
        raise IngestError(
            f"{source.label}: unexpected column {', '.join(map(repr, extra))} "
            "(a rates file has exactly currency, rate, valid_from)"
        )
    for name in ("currency", "valid_from"):
        require_scalar_column(source.label, source.column(name), name)
    base = check_currency(ctx)
    currency, rate, valid_from = (source.column(n) for n in REQUIRED)
    assert currency is not None and rate is not None and valid_from is not None
    selects = [
        f"upper({currency.clean()}) AS s_currency",
        f"{cast_expr(rate, 'money', RATE_SCALE)} AS s_rate",
        f"{cast_expr(valid_from, 'timestamp')} AS s_from",
    ]
    checks: list[Check] = [
        missing_check(currency, "currency"),
        *json_text_checks(currency, "currency", integers=False),
        (
            "NOT regexp_full_match(s_currency, '[A-Z]{3}')",
            '\'currency: expected an ISO 4217 code such as "USD", got "\' || '
            f"left({currency.text()}, 60) || '\"'",
        ),
        (
            f"s_currency = {quote_str(base)}",
            quote_str(
                f"currency: {base} is the base currency ([money] currency); it needs no rate"
            ),
        ),
        missing_check(rate, "rate"),
        convert_check(
            "s_rate",
            rate,
            f"'rate: expected a positive number with at most {RATE_SCALE} decimals, got \"' || "
            f"left({rate.text()}, 60) || '\"'",
        ),
        ("s_rate <= 0", "'rate: must be positive, got ' || s_rate"),
        missing_check(valid_from, "valid_from"),
        convert_check(
            "s_from",
            valid_from,
            f"'valid_from: not an ISO 8601 date or timestamp: \"' || "
            f"left({valid_from.text()}, 60) || '\"'",
        ),
        range_check(ctx, "s_from", "valid_from", valid_from.text()),
    ]
    create_stage(ctx, source, selects, checks)
    # Two rows for one currency and instant in one file: the first is kept, the second is
    # rejected (which was meant cannot be told).
    ctx.con.execute(
        "INSERT INTO _extra_rejects SELECT _record, 'duplicate rate for ' || s_currency || "
        "' from ' || strftime(s_from, '%Y-%m-%dT%H:%M:%SZ') || ' (first given by record ' || "
        "first || ' of this file)', CAST(json_object('currency', s_currency, 'rate', s_rate, "
        "'valid_from', s_from) AS VARCHAR) FROM (SELECT *, min(_record) OVER "
        "(PARTITION BY s_currency, s_from) AS first FROM _stage WHERE _reason IS NULL) "
        "WHERE _record <> first"
    )
    new, changed, same = store_rates(
        ctx.con,
        "SELECT s_currency, s_from, s_rate FROM _stage WHERE _reason IS NULL "
        "AND _record NOT IN (SELECT _record FROM _extra_rejects)",
        ctx.load_id,
    )
    ctx.progress.phase("converting stored orders")
    again = reconvert(ctx.con, base, ctx.config.order_event) if new + changed else 0
    parsed, rejected = ctx.con.execute(
        "SELECT count(*), count(_reason) FROM _stage"
    ).fetchone() or (0, 0)
    return {
        "inserted": new + changed,
        "updated": changed,
        "duplicates": same,
        "reconverted": again,
        "parsed": parsed,
        "rejected_rows": rejected + ctx.count("SELECT count(*) FROM _extra_rejects"),
    }
