"""Staging: one pass over the input that converts, validates and keeps rejected records.

The staged table ``_stage`` has one row per parsed input record with converted values and a
``_reason`` (NULL when the row is good). Rejected rows also carry ``_raw``, the input record
as JSON, so the rejects file can show the row as it came.
"""

from __future__ import annotations

from segmint.ingest.context import LoadContext
from segmint.ingest.sources import Source, raw_json
from segmint.ingest.types import (
    SourceColumn,
    cast_expr,
    inference_aggregates,
    pick_type,
    quote_str,
    typed_logical,
)

_SAMPLE_ROWS = 10_000


def infer_types(ctx: LoadContext, columns: list[SourceColumn]) -> dict[str, str | None]:
    """Infer the logical type of each column from all of its values.

    Testing every value against every type costs several casts per value, so text columns
    get a candidate type from a sample first (:func:`sample_types`), checked on the whole
    column with one cast per value; only a column that fails is inferred from all values.
    """
    sampled, to_verify = sample_types(ctx, columns)
    if not to_verify:
        return sampled
    bad = ", ".join(
        f"count(*) FILTER (WHERE {c.present()} AND ({cast_expr(c, str(sampled[c.name]))}) "
        f"IS NULL) AS b{i}"
        for i, c in enumerate(to_verify)
    )
    row = ctx.con.execute(f"SELECT {bad} FROM _src").fetchone() or ()
    failed = [c for c, n in zip(to_verify, row, strict=True) if n]
    return sampled | (_infer(ctx, failed, "_src") if failed else {})


def sample_types(
    ctx: LoadContext, columns: list[SourceColumn], scan_typed: bool = True
) -> tuple[dict[str, str | None], list[SourceColumn]]:
    """Types of text columns guessed from a sample (exact for other kinds), and the text
    columns whose guess must still hold for every value (all but strings and unknowns).

    A typed column without any value has no type (None); with ``scan_typed`` False its
    type is taken from the schema without that scan, for callers that count values later.
    """
    text = [c for c in columns if c.kind == "text"]
    typed = [] if scan_typed else [c for c in columns if c.kind == "typed"]
    other = [c for c in columns if c.kind != "text" and c not in typed]
    types: dict[str, str | None] = {c.name: typed_logical(c.duck_type) for c in typed}
    if text:
        types |= _infer(ctx, text, f"(SELECT * FROM _src LIMIT {_SAMPLE_ROWS})")
    unknown = [c for c in text if types[c.name] is None]
    if other or unknown:
        types |= _infer(ctx, other + unknown, "_src")
    guessed = [c for c in text if c not in unknown and types[c.name] != "string"]
    return types, guessed


def _infer(ctx: LoadContext, columns: list[SourceColumn], table: str) -> dict[str, str | None]:
    aggs = [a for i, col in enumerate(columns) for a in inference_aggregates(col, i)]
    cursor = ctx.con.execute(f"SELECT {', '.join(aggs)} FROM {table}")
    row = cursor.fetchone()
    names = [d[0] for d in cursor.description]
    stats = dict(zip(names, row or (), strict=True))
    return {col.name: pick_type(col, i, stats) for i, col in enumerate(columns)}


# A check is (condition that makes a row bad, SQL for the message saying why).
Check = tuple[str, str]


def reason_sql(checks: list[Check]) -> str:
    """One nullable reason: NULL for a good row, the failed checks' messages otherwise.

    Good rows pay one boolean OR; the messages are built only for bad rows.
    """
    if not checks:
        return "CAST(NULL AS VARCHAR)"
    conditions = [f"coalesce({cond}, false)" for cond, _ in checks]
    messages = ", ".join(
        f"CASE WHEN {c} THEN {m} END" for c, (_, m) in zip(conditions, checks, strict=True)
    )
    return f"CASE WHEN {' OR '.join(conditions)} THEN concat_ws('; ', {messages}) END"


def create_stage(
    ctx: LoadContext,
    source: Source,
    selects: list[str],
    checks: list[Check],
    materialize: bool = True,
    to_file: bool = False,
) -> None:
    """``_stage``: ``_src`` with the converted columns and checks, as a table or a view."""
    # Three nested selects: conversions, then checks on them, then the raw row of rejects.
    # DuckDB inlines a select-list alias wherever it is used, so one flat select repeated
    # every cast once per check that mentions it (5x slower on 5M CSV rows).
    # A CSV staged to a file is read unnumbered; its records are numbered by file order.
    # Only a staged view has unchecked rows to settle on; never a view left by an earlier stage.
    ctx.con.execute("DROP VIEW IF EXISTS _converted")
    unnumbered = to_file and source.format == "csv"
    names = ["_record", *(item.rsplit(" AS ", 1)[1] for item in selects), "_reason", "_raw"]
    names = names[1:] if unnumbered else names
    converted = f"SELECT *, {', '.join(selects)} FROM {'_src_unnumbered' if unnumbered else '_src'}"
    checked = f"SELECT *, {reason_sql(checks)} AS _reason FROM ({converted})"
    raw = f"CASE WHEN _reason IS NOT NULL THEN {raw_json(source)} END AS _raw"
    query = f"SELECT {', '.join(names[:-1])}, {raw} FROM ({checked})"
    if to_file:
        _stage_to_file(ctx, source, query, number_rows=unnumbered)
    elif materialize:
        # A temporary table: a table in the database file compressed on write and made the
        # 5M-row CSV load 2x slower.
        _drop_stage(ctx)
        ctx.run(
            f"reading and validating {source.label}",
            f"CREATE OR REPLACE TEMP TABLE _stage AS {query}",
        )
    else:
        _drop_stage(ctx)
        ctx.con.execute(f"CREATE TEMP VIEW _stage AS {query}")
        # The same rows without the checks, for the scans after the first (settle_stage).
        ctx.con.execute(
            f"CREATE OR REPLACE TEMP VIEW _converted AS SELECT {', '.join(names[:-2])} "
            f"FROM ({converted})"
        )


def settle_stage(ctx: LoadContext, rejected: int) -> None:
    """Spare the later scans of a staged view the checks, once the first scan counted them.

    A view evaluates every check on every scan, and the steps after the counts (repeats,
    identities, the insert) each scan the input again: on 50M typed rows that was 2-3 s a
    scan. With no rejected row, ``_stage`` becomes the converted rows with a NULL reason;
    otherwise the rejected records are kept in ``_invalid`` (one more scan) and joined back
    by record number. Staged tables and files keep their stored reasons.
    """
    row = ctx.con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = '_converted' "
        "AND table_catalog = 'temp'"
    ).fetchone()
    if row is None:
        return
    if rejected:
        ctx.con.execute(
            "CREATE OR REPLACE TEMP TABLE _invalid AS "
            "SELECT _record, _reason, _raw FROM _stage WHERE _reason IS NOT NULL"
        )
        view = (
            "SELECT c.*, i._reason, i._raw FROM _converted c "
            "LEFT JOIN _invalid i ON i._record = c._record"
        )
    else:
        view = (
            "SELECT *, CAST(NULL AS VARCHAR) AS _reason, CAST(NULL AS VARCHAR) AS _raw "
            "FROM _converted"
        )
    _drop_stage(ctx)
    ctx.con.execute(f"CREATE TEMP VIEW _stage AS {view}")


def _stage_to_file(ctx: LoadContext, source: Source, query: str, number_rows: bool) -> None:
    """Write the stage to a scratch Parquet file and read it through a view.

    For large text inputs: the file is compressed and each later scan reads only the
    columns it needs, where temporary tables of 50M rows spilled to disk uncompressed
    (5x the hand-written load, against about 2x this way on 5M rows).
    """
    ctx.scratch.mkdir(parents=True, exist_ok=True)
    path = ctx.scratch / f"stage-{len(list(ctx.scratch.iterdir()))}.parquet"
    ctx.run(
        f"reading and validating {source.label}",
        f"COPY ({query}) TO {quote_str(str(path))} (FORMAT PARQUET)",
    )
    _drop_stage(ctx)
    scan = f"read_parquet({quote_str(str(path))}, file_row_number = true)"
    if number_rows:
        # COPY keeps input order (preserve_insertion_order), so row n of the file is
        # record n of the input: the numbers row_number() OVER () gives on the scan.
        ctx.con.execute(
            "CREATE TEMP VIEW _stage AS SELECT * EXCLUDE (file_row_number), "
            f"file_row_number + 1 AS _record FROM {scan}"
        )
    else:
        ctx.con.execute(
            f"CREATE TEMP VIEW _stage AS SELECT * EXCLUDE (file_row_number) FROM {scan}"
        )


def _drop_stage(ctx: LoadContext) -> None:
    # DuckDB refuses DROP VIEW on a table and the reverse, and a load may stage twice.
    row = ctx.con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = '_stage' "
        "AND table_catalog = 'temp'"
    ).fetchone()
    if row is not None:
        ctx.con.execute(f"DROP {'VIEW' if row[0] == 'VIEW' else 'TABLE'} _stage")


def missing_check(col: SourceColumn | None, name: str) -> Check:
    """A check that rejects rows without a value for a required column."""
    return ("true" if col is None else f"NOT {col.present()}", f"'missing {name}'")


def convert_check(alias: str, col: SourceColumn, message_sql: str) -> Check:
    """A check that rejects rows whose present value did not convert (``alias`` is NULL)."""
    return (f"{col.present()} AND {alias} IS NULL", message_sql)
