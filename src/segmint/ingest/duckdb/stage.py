"""Staging: one pass over the input that converts, validates and keeps rejected records.

The staged table ``_stage`` has one row per parsed input record with converted values and a
``_reason`` (NULL when the row is good). Rejected rows also carry ``_raw``, the input record
as JSON, so the rejects file can show the row as it came.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from segmint.engine.sqltext import quote_str
from segmint.errors import IngestError
from segmint.ingest.duckdb.context import LoadContext
from segmint.ingest.duckdb.sources import Source, raw_json, repair_unterminated_quote
from segmint.ingest.duckdb.types import (
    SourceColumn,
    cast_expr,
    inference_aggregates,
    pick_type,
    typed_logical,
)

_SAMPLE_ROWS = 10_000
# A wide file samples fewer rows (at least 1,000): a sample costs rows x columns.
_SAMPLE_VALUES = 1_000_000
_T = TypeVar("_T")


def infer_types(ctx: LoadContext, columns: list[SourceColumn]) -> dict[str, str | None]:
    """Infer the logical type of each column from all of its values.

    Testing every value against every type costs several casts per value, so text columns
    get a candidate type from a sample first (:func:`sample_types`), checked on the whole
    column with one cast per value; only a column that fails is inferred from all values.
    """
    sampled, to_verify = sample_types(ctx, columns)
    if not to_verify:
        return sampled
    wrong = scanning(ctx, lambda: _failed_guesses(ctx, to_verify, sampled))
    failed = [c for c in to_verify if c.name in wrong]
    return sampled | (scanning(ctx, lambda: _infer(ctx, failed, sample=False)) if failed else {})


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
        scanning(ctx, lambda: _take_sample(ctx, len(text)))
        types |= _infer(ctx, text, sample=True)
    unknown = [c for c in text if types[c.name] is None]
    if other or unknown:
        types |= scanning(ctx, lambda: _infer(ctx, other + unknown, sample=False))
    guessed = [c for c in text if c not in unknown and types[c.name] != "string"]
    return types, guessed


def scanning(ctx: LoadContext, scan: Callable[[], _T]) -> _T:
    """Run ``scan``, a statement that reads the whole input (or its start); when it met a
    CSV line whose quote is never closed, that line is set aside and the scan runs again."""
    result = scan()
    while repair_unterminated_quote(ctx.con, ctx.scratch):
        result = scan()
    return result


def _take_sample(ctx: LoadContext, width: int) -> None:
    # Text columns come from a CSV file. All columns are kept: a scan of some columns only
    # that meets a line with bad bytes fails in DuckDB 1.5.6 with an internal error.
    rows = max(1_000, min(_SAMPLE_ROWS, _SAMPLE_VALUES // max(width, 1)))
    ctx.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _sample AS SELECT * FROM _src_unnumbered LIMIT {rows}"
    )


def _infer(ctx: LoadContext, columns: list[SourceColumn], sample: bool) -> dict[str, str | None]:
    """Logical types from the values of the sample or of the whole input.

    Text and JSON values are unpivoted to (column, value) rows and grouped by column, so
    one query holds five aggregates whatever the width: five per column in one select
    grew faster than the square of the width (500 columns of one row: over 25 s, 3.4 GB).
    """
    types: dict[str, str | None] = {}
    for kind in ("text", "json"):
        group = [c for c in columns if c.kind == kind]
        if group:
            types |= _infer_values(ctx, group, kind, sample)
    typed = [c for c in columns if c.kind == "typed"]
    if typed:
        counts = ", ".join(f"count({c.sql})" for c in typed)
        row = ctx.con.execute(f"SELECT {counts} FROM _src").fetchone() or ()
        for col, n in zip(typed, row, strict=True):
            types[col.name] = typed_logical(col.duck_type) if n else None
    return types


def infer_json(
    ctx: LoadContext, relation: str, columns: list[SourceColumn]
) -> dict[str, str | None]:
    """Logical types of the JSON ``columns`` of the select ``relation`` (see :func:`_infer`)."""
    if not columns:
        return {}
    listed = ", ".join(c.sql for c in columns)
    unpivot = f"UNPIVOT (SELECT {listed} FROM ({relation})) ON {listed} INTO NAME k VALUE v"
    return _infer_unpivoted(ctx, columns, "json", unpivot)


def _infer_values(
    ctx: LoadContext, columns: list[SourceColumn], kind: str, sample: bool
) -> dict[str, str | None]:
    return _infer_unpivoted(ctx, columns, kind, _unpivot(columns, kind, sample))


def _infer_unpivoted(
    ctx: LoadContext, columns: list[SourceColumn], kind: str, unpivot: str
) -> dict[str, str | None]:
    value = SourceColumn("v", "v", "json" if kind == "json" else "text")
    aggregates = ", ".join(inference_aggregates(value, 0))
    cursor = ctx.con.execute(f"SELECT k, {aggregates} FROM ({unpivot}) GROUP BY k")
    names = [d[0] for d in cursor.description]
    found = {
        str(row[0]): pick_type(value, 0, dict(zip(names, row, strict=True)))
        for row in cursor.fetchall()
    }
    return {c.name: found.get(c.name) for c in columns}


def _unpivot(columns: list[SourceColumn], kind: str, sample: bool) -> str:
    """SQL for rows (k: column name, v: value) of ``columns``; a NULL value has no row."""
    listed = ", ".join(c.sql for c in columns)
    if kind == "json":
        return f"UNPIVOT (SELECT {listed} FROM _src) ON {listed} INTO NAME k VALUE v"
    if sample:
        return f"UNPIVOT (SELECT {listed} FROM _sample) ON {listed} INTO NAME k VALUE v"
    # A scan of the CSV file reads every column (see _take_sample).
    names = ", ".join(quote_str(c.name) for c in columns)
    return (
        "SELECT * FROM (UNPIVOT (SELECT * FROM _src_unnumbered) ON COLUMNS(*) "
        f"INTO NAME k VALUE v) WHERE k IN ({names})"
    )


def _failed_guesses(
    ctx: LoadContext, columns: list[SourceColumn], guesses: dict[str, str | None]
) -> set[str]:
    """The text columns with a value that does not convert to the sample's guess: one scan,
    one cast per value (chosen by the column's guess, not one expression per column)."""
    value = SourceColumn("v", "v", "text")
    logicals = sorted({str(guesses[c.name]) for c in columns})
    cases = " ".join(f"WHEN {quote_str(t)} THEN ({cast_expr(value, t)}) IS NULL" for t in logicals)
    pairs = ", ".join(f"({quote_str(c.name)}, {quote_str(str(guesses[c.name]))})" for c in columns)
    rows = ctx.con.execute(
        f"SELECT DISTINCT u.k FROM ({_unpivot(columns, 'text', sample=False)}) u "
        f"JOIN (VALUES {pairs}) g(k, logical) ON g.k = u.k "
        f"WHERE {value.present()} AND CASE g.logical {cases} END"
    ).fetchall()
    return {str(k) for (k,) in rows}


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
    with ctx.planning(len(selects) + len(checks)):
        _run_stage(ctx, source, query, materialize, to_file, unnumbered)
    if not to_file and not materialize:
        # The same rows without the checks, for the scans after the first (settle_stage).
        ctx.con.execute(
            f"CREATE OR REPLACE TEMP VIEW _converted AS SELECT {', '.join(names[:-2])} "
            f"FROM ({converted})"
        )


def _run_stage(
    ctx: LoadContext, source: Source, query: str, materialize: bool, to_file: bool, unnumbered: bool
) -> None:
    if to_file:
        scanning(ctx, lambda: _stage_to_file(ctx, source, query, number_rows=unnumbered))
    elif materialize:
        # A temporary table: a table in the database file compressed on write and made the
        # 5M-row CSV load 2x slower.
        _drop_stage(ctx)
        scanning(
            ctx,
            lambda: ctx.run(
                f"reading and validating {source.label}",
                f"CREATE OR REPLACE TEMP TABLE _stage AS {query}",
            ),
        )
    else:
        _drop_stage(ctx)
        ctx.con.execute(f"CREATE TEMP VIEW _stage AS {query}")


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


def instant_bounds(ctx: LoadContext) -> tuple[datetime, datetime]:
    """The instants a timestamp in this load may lie between ([ingest] earliest and
    latest_days_ahead, counted from the load's start)."""
    start = date.fromisoformat(ctx.config.ingest.earliest)
    ahead = timedelta(days=ctx.config.ingest.latest_days_ahead)
    return datetime(start.year, start.month, start.day, tzinfo=UTC), ctx.started_at + ahead


def range_check(ctx: LoadContext, alias: str, name: str, got_sql: str) -> Check:
    """A check that rejects rows whose timestamp ``alias`` lies outside
    :func:`instant_bounds`: a year 0001 or 9999 is a placeholder, not an instant."""
    first, last = instant_bounds(ctx)
    low, high = (f"CAST({quote_str(t.isoformat())} AS TIMESTAMPTZ)" for t in (first, last))
    why = (
        f"{name}: outside the accepted range {first:%Y-%m-%d}..{last:%Y-%m-%dT%H:%M:%SZ} "
        '(segmint.toml [ingest] earliest, latest_days_ahead), got "'
    )
    return (
        f"{alias} NOT BETWEEN {low} AND {high}",
        f"{quote_str(why)} || left({got_sql}, 60) || '\"'",
    )


def convert_check(alias: str, col: SourceColumn, message_sql: str) -> Check:
    """A check that rejects rows whose present value did not convert (``alias`` is NULL)."""
    return (f"{col.present()} AND {alias} IS NULL", message_sql)


_JSON_KIND_NAMES = (
    "CASE json_type({v}) WHEN 'ARRAY' THEN 'an array' WHEN 'OBJECT' THEN 'an object' "
    "WHEN 'BOOLEAN' THEN 'a boolean' ELSE 'a number' END"
)


def json_text_checks(col: SourceColumn | None, name: str, integers: bool) -> list[Check]:
    """For a JSON Lines value that names something (an event, an id, an email): a check that
    rejects anything but a string, or with ``integers`` a string or an integer. Read as text,
    ``["page_view"]`` was the event name ``["page_view"]``."""
    if col is None or col.kind != "json":
        return []
    allowed = "('VARCHAR', 'BIGINT', 'UBIGINT')" if integers else "('VARCHAR')"
    expected = "a string or an integer" if integers else "a string"
    got = _JSON_KIND_NAMES.format(v=col.sql)
    return [
        (
            f"{col.present()} AND json_type({col.sql}) NOT IN {allowed}",
            f"'{name}: expected {expected}, got ' || {got} || ': ' || "
            f"left(CAST({col.sql} AS VARCHAR), 60)",
        )
    ]


def require_scalar_column(label: str, col: SourceColumn | None, name: str) -> None:
    """Refuse a typed input (Parquet, Arrow) whose column ``name``, one that names something
    (an event, an id, an email), is a list, struct or map column: no value of it is a name.
    (A number column is read as text, as before: an all-null pandas column arrives as one.)"""
    if col is None or col.kind != "typed":
        return
    if col.duck_type.endswith("]") or col.duck_type.startswith(("STRUCT", "MAP", "UNION")):
        raise IngestError(f"{label}: column {name!r} is {col.duck_type}; expected text")
