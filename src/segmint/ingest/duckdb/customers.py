"""Loading customers: validation, typed custom attributes, upsert, email and anonymous id
identities."""

from __future__ import annotations

from segmint.errors import IngestError
from segmint.ingest.duckdb.catalog import (
    Target,
    add_attribute,
    attribute_catalog,
    conflict_reason,
    resolve,
    widen_attribute,
)
from segmint.ingest.duckdb.context import LoadContext
from segmint.ingest.duckdb.sources import Source
from segmint.ingest.duckdb.stage import (
    Check,
    convert_check,
    create_stage,
    infer_types,
    json_text_checks,
    missing_check,
    range_check,
    require_scalar_column,
)
from segmint.ingest.duckdb.types import SourceColumn, cast_expr
from segmint.store import profiles
from segmint.store.identities import apply_ties, create_customers
from segmint.store.schema import BUILTIN_ATTRIBUTES

_COUNTRY_CHECK = (
    "s_v{i} IS NOT NULL AND NOT regexp_full_match(s_v{i}, '[A-Z]{{2}}')",
    "'country: expected an ISO 3166 alpha-2 code such as \"US\", got \"' || s_v{i} || '\"'",
)


# Columns that identify the customer and are stored as identities, not attributes.
_IDENTIFIER_COLUMNS = ("customer_id", "anonymous_id")


def load_customers(ctx: LoadContext, source: Source) -> dict[str, int]:
    """Stage, validate and upsert customers; returns counts for the load summary."""
    cid = source.column("customer_id")
    if cid is None:
        raise IngestError(
            f"{source.label}: missing required column 'customer_id' "
            f"(columns: {', '.join(source.names) or 'none'})"
        )
    require_scalar_column(source.label, cid, "customer_id")
    require_scalar_column(source.label, source.column("email"), "email")
    anon = source.column("anonymous_id")
    require_scalar_column(source.label, anon, "anonymous_id")
    targets = _targets(ctx, source)
    selects = [f"{cid.clean()} AS s_customer_id"]
    if anon is not None:
        # An identifier, not an attribute: trimmed, and an empty cell is missing, as in
        # an events file.
        selects.append(f"{anon.clean()} AS s_anonymous_id")
    checks: list[Check] = [missing_check(cid, "customer_id")]
    checks += json_text_checks(cid, "customer_id", integers=True)
    checks += json_text_checks(source.column("email"), "email", integers=False)
    checks += json_text_checks(anon, "anonymous_id", integers=True)
    for i, (col, target) in enumerate(targets):
        value = cast_expr(col, target.logical, ctx.config.ingest.money_scale)
        if target.name == "country":
            value = f"upper(trim({value}))"
            checks.append((_COUNTRY_CHECK[0].format(i=i), _COUNTRY_CHECK[1].format(i=i)))
        selects.append(f"{value} AS s_v{i}")
        checks.append(convert_check(f"s_v{i}", col, conflict_reason(target, col.text())))
        if target.logical == "timestamp":
            checks.append(range_check(ctx, f"s_v{i}", target.name, col.text()))
    create_stage(ctx, source, selects, checks)
    ctx.progress.phase("updating profiles")
    created, updated = _upsert(ctx, targets)
    # Anonymous ids first, then emails: the order of an events load (events.py _resolve).
    merges = _tie_anonymous_ids(ctx) if anon is not None else 0
    merges += _tie_emails(ctx, targets)
    parsed, rejected = ctx.con.execute(
        "SELECT count(*), count(_reason) FROM _stage"
    ).fetchone() or (0, 0)
    return {
        "profiles_created": created,
        "profiles_updated": updated,
        "merges": merges,
        "parsed": parsed,
        "rejected_rows": rejected,
    }


def _targets(ctx: LoadContext, source: Source) -> list[tuple[SourceColumn, Target]]:
    catalog = attribute_catalog(ctx)
    others = [c for c in source.columns if c.name not in _IDENTIFIER_COLUMNS]
    custom = [c for c in others if c.name not in BUILTIN_ATTRIBUTES]
    computed = [c.name for c in custom if c.name in ctx.reserved]
    if computed:
        raise IngestError(
            f"{source.label}: column {computed[0]!r} has the name of a computed trait, "
            "which segmint computes itself; rename the column"
        )
    inferred = infer_types(ctx, custom)
    targets = []
    for col in others:
        if col.name in BUILTIN_ATTRIBUTES:
            targets.append((col, Target(col.name, col.name, BUILTIN_ATTRIBUTES[col.name], True)))
            continue
        known = catalog.get(col.name)
        logical, widen = resolve(known[1] if known else None, inferred[col.name])
        if logical is None:
            ctx.warnings.append(
                f"column {col.name!r} has no values; not added until a load brings one"
            )
            continue
        if known is None:
            column = add_attribute(ctx, col.name, logical)
        else:
            column = known[0]
            if widen:
                widen_attribute(ctx, col.name, column, logical)
        targets.append((col, Target(col.name, column, logical, known is not None)))
    return targets


def _upsert(ctx: LoadContext, targets: list[tuple[SourceColumn, Target]]) -> tuple[int, int]:
    # Several rows for one customer in a file: the last given value of each field wins.
    # arg_max skips a NULL ordering value, which skips the missing values; written as a
    # FILTER, 1,000 columns of 2,000 customers took 25 s to aggregate instead of 1 s.
    latest = [
        f"arg_max(s_v{i}, CASE WHEN s_v{i} IS NOT NULL THEN _record END) AS v{i}"
        for i in range(len(targets))
    ]
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _cust AS SELECT s_customer_id AS customer_id"
        f"{''.join(', ' + x for x in latest)} FROM _stage WHERE _reason IS NULL "
        "GROUP BY s_customer_id"
    )
    existing = profiles.count_known(ctx.con, "SELECT customer_id FROM _cust")
    created = create_customers(ctx, "SELECT customer_id FROM _cust")
    profiles.set_attributes(ctx, "_cust", [t.column for _, t in targets])
    return created, existing


def _tie_emails(ctx: LoadContext, targets: list[tuple[SourceColumn, Target]]) -> int:
    index = next((i for i, (_, t) in enumerate(targets) if t.name == "email"), None)
    if index is None:
        return 0
    return apply_ties(
        ctx,
        "email",
        f"SELECT lower(trim(s_v{index})) AS value, s_customer_id AS customer_id, _record AS rank "
        f"FROM _stage WHERE _reason IS NULL AND s_v{index} IS NOT NULL",
    )


def _tie_anonymous_ids(ctx: LoadContext) -> int:
    """Tie each row's anonymous id to its customer, as an events row carrying both does (an
    identify or alias call): an anonymous profile holding the id merges into the customer's,
    an id already tied to another known customer stays with it. The first row wins when a
    file ties one id to several customers."""
    return apply_ties(
        ctx,
        "anonymous_id",
        "SELECT s_anonymous_id AS value, s_customer_id AS customer_id, _record AS rank "
        "FROM _stage WHERE _reason IS NULL AND s_anonymous_id IS NOT NULL",
    )
