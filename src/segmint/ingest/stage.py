"""Staging: one pass over the input that converts, validates and keeps rejected records.

The staged table ``_stage`` has one row per parsed input record with converted values and a
``_reason`` (NULL when the row is good). Rejected rows also carry ``_raw``, the input record
as JSON, so the rejects file can show the row as it came.
"""

from __future__ import annotations

from segmint.ingest.context import LoadContext
from segmint.ingest.sources import Source, raw_json
from segmint.ingest.types import SourceColumn, inference_aggregates, pick_type


def infer_types(ctx: LoadContext, columns: list[SourceColumn]) -> dict[str, str | None]:
    """Infer the logical type of each column from its values (one scan of the input)."""
    if not columns:
        return {}
    aggs = [a for i, col in enumerate(columns) for a in inference_aggregates(col, i)]
    cursor = ctx.con.execute(f"SELECT {', '.join(aggs)} FROM _src")
    row = cursor.fetchone()
    names = [d[0] for d in cursor.description]
    stats = dict(zip(names, row or (), strict=True))
    return {col.name: pick_type(col, i, stats) for i, col in enumerate(columns)}


def reason_sql(checks: list[str]) -> str:
    """Combine ``CASE WHEN ... THEN 'why' END`` checks into one nullable reason."""
    if not checks:
        return "CAST(NULL AS VARCHAR)"
    return f"NULLIF(concat_ws('; ', {', '.join(checks)}), '')"


def create_stage(ctx: LoadContext, source: Source, selects: list[str], checks: list[str]) -> None:
    """Materialise ``_stage`` from ``_src`` with the given converted columns and checks."""
    # Later select items refer to earlier aliases (DuckDB allows it), so each conversion is
    # written once and both the value and its check use it.
    items = ["_record", *selects, f"{reason_sql(checks)} AS _reason"]
    items.append(f"CASE WHEN _reason IS NOT NULL THEN {raw_json(source)} END AS _raw")
    ctx.run(
        f"reading and validating {source.label}",
        f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT {', '.join(items)} FROM _src",
    )


def missing_check(col: SourceColumn | None, name: str) -> str:
    """A check that rejects rows without a value for a required column."""
    if col is None:
        return f"'missing {name}'"
    return f"CASE WHEN NOT {col.present()} THEN 'missing {name}' END"


def convert_check(alias: str, col: SourceColumn, message_sql: str) -> str:
    """A check that rejects rows whose present value did not convert (``alias`` is NULL)."""
    return f"CASE WHEN {col.present()} AND {alias} IS NULL THEN {message_sql} END"
