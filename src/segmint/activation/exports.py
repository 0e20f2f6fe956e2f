"""Exports of a saved segment: files (CSV, Parquet, JSON Lines), Klaviyo and Mailchimp
list imports, Meta and Google customer lists; full, or only what changed since the pair's
last export (docs/activation.md).

One export, start to end:

1. the segment's members at as_of with the columns the destination needs are staged in
   the workspace's DuckDB (``Evaluator.members_into``: one statement on the embedded
   store, a stream of batches from a source engine);
2. consent and suppression are checked in one query, each member left out with the first
   reason that applies (an Ibis expression, ``_checks``); the counts per reason are the
   export's report;
3. the rows are laid out for the destination (Ibis: activation/audiences.py normalises
   and hashes for Meta and Google), then fingerprinted, diffed with what the pair was last
   sent when ``delta``, and written by DuckDB's ``COPY`` (store/exports.py);
4. once the files are in place, the ledger records the export and what the pair has now
   been sent, in one transaction. A crash before that commit leaves the ledger as it was,
   so the next delta sends the same changes again: at least once, never lost.

No Python runs per row.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.errors import ArgumentError
from segmint.hints import suggest

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.config import ActivationConfig
    from segmint.console import Progress
    from segmint.segments.context import SegmentContext

FILES = ("csv", "parquet", "jsonl")
EMAIL = ("klaviyo", "mailchimp")
ADS = ("meta", "google")
DESTINATIONS = (*FILES, *EMAIL, *ADS)
# The smallest audience each platform accepts as a lookalike source / seed list.
AUDIENCE_MINIMUM = {"meta": 100, "google": 1000}
PLATFORM = {"meta": "Meta (a lookalike source)", "google": "Google (a lookalike seed list)"}
# A file export's columns when none are asked for (those the workspace has).
DEFAULT_COLUMNS = ("email", "first_name", "last_name", "country")
# Profile attributes read for the platforms, and their names in activation/audiences.py.
CONTACT = {
    "email": "email",
    "phone": "phone",
    "first_name": "first_name",
    "last_name": "last_name",
    "postal_code": "zip",
    "city": "city",
    "region": "state",
    "country": "country",
}
KLAVIYO_COLUMNS = (
    "Email",
    "Phone Number",
    "First Name",
    "Last Name",
    "Email Marketing Consent",
    "SMS Marketing Consent",
)
MAILCHIMP_COLUMNS = ("Email Address", "First Name", "Last Name", "Tags")
# The normalised identifiers each platform reads (activation/audiences.py).
NORMALISED_FOR = {
    "mailchimp": ("n_email",),
    "klaviyo": ("n_email", "n_e164"),
    "meta": ("n_email", "n_e164", "n_fn", "n_ln", "n_meta_zip", "n_ct", "n_st", "n_country"),
    "google": ("n_email", "n_e164", "n_fn", "n_ln", "n_zip", "n_country"),
}
# The column of a delta file that says "add" or "remove".
CHANGE = "change"
_TRUE = ("true", "t", "yes", "y", "1")


@dataclass(frozen=True)
class ExportResult:
    """One export: who was in the segment, how many rows were written, who was left out and
    why, and where the files are."""

    export_id: int
    segment: str
    destination: str
    as_of: datetime
    version: int | None
    delta: bool
    members: int
    exported: int
    added: int
    removed: int
    left_out: dict[str, int]
    file: Path
    remove_file: Path | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "segment": self.segment,
            "destination": self.destination,
            "as_of": self.as_of.isoformat(),
            "version": self.version,
            "delta": self.delta,
            "members": self.members,
            "exported": self.exported,
            "added": self.added,
            "removed": self.removed,
            "left_out": self.left_out,
            "file": str(self.file),
            "remove_file": None if self.remove_file is None else str(self.remove_file),
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class _Plan:
    """What one destination reads and writes."""

    destination: str
    raw: list[str]  # attributes staged with customer_id
    columns: list[str]  # the file's columns
    removal: list[str]  # the cells that take a person out again
    change: str | None  # the add/remove column of a delta file (None: none)
    removal_cells: dict[str, str]  # fixed cells of removal rows (a Mailchimp tag)
    separate_removes: bool  # removes in their own .remove file (Meta, Google)


def check_destination(to: str) -> None:
    if to not in DESTINATIONS:
        raise ArgumentError(
            f"--to: expected one of {', '.join(DESTINATIONS)}, got {to!r}"
            f"{suggest(to, DESTINATIONS)}",
            "--to",
        )


def extension(to: str) -> str:
    """The file name extension of a destination's files."""
    return to if to in ("parquet", "jsonl") else "csv"


def remove_path(out: Path) -> Path:
    """Where the removals of a Meta or Google delta go: ``list.csv`` -> ``list.remove.csv``."""
    return out.with_name(f"{out.stem}.remove{out.suffix}")


def export(
    ctx: SegmentContext,
    segment: str,
    to: str,
    out: Path,
    as_of: datetime | str | None = None,
    delta: bool = False,
    columns: Sequence[str] | None = None,
    value: str | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Export the saved segment ``segment`` to destination ``to`` as the file ``out``.

    ``as_of`` defaults to the segment's last successful refresh (the audience a refresh
    found), or now when it was never refreshed."""
    from segmint.segments.query import parse_as_of
    from segmint.segments.refresh import fingerprint, retired_names
    from segmint.store.segments import known_version, latest_ok_as_of

    check_destination(to)
    rule = ctx.segments.rules()[segment]
    if segment in retired_names(ctx):
        raise ArgumentError(f"segment {segment!r} is retired; it is not exported", "segment")
    found = latest_ok_as_of(ctx.con).get(segment) if as_of is None else None
    when = parse_as_of(as_of if found is None else found)
    version = known_version(ctx.con, segment, fingerprint(rule))
    evaluator = ctx.evaluator()

    def stage(columns: list[str]) -> None:
        evaluator.members_into(rule, when, columns)

    audience = _Audience(segment, segment, when, version, fingerprint(rule), stage)
    return _export(ctx, audience, to, out, delta, columns, value, progress)


@dataclass(frozen=True)
class _Audience:
    """Who an export writes: its name in the ledger, the tag of a Mailchimp list, the
    as_of, the definition's version and fingerprint, and how its members are staged."""

    key: str
    tag: str
    when: datetime
    version: int | None
    fingerprint: str
    stage: Callable[[list[str]], None]


def export_campaign(
    ctx: SegmentContext,
    campaign: str,
    to: str,
    out: Path,
    delta: bool = False,
    columns: Sequence[str] | None = None,
    value: str | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Export the treatment group of ``campaign`` (never its holdout) to ``to``; its
    ledger key is ``campaign:<name>``, its traits are as of the campaign's start."""
    from segmint.activation.campaigns import get, treatment_members

    check_destination(to)
    found = get(ctx, campaign)
    evaluator = ctx.evaluator()

    def stage(columns: list[str]) -> None:
        evaluator.table_members_into(treatment_members(campaign), found.starts_at, columns)

    key = f"campaign:{campaign}"
    audience = _Audience(key, campaign, found.starts_at, None, key, stage)
    return _export(ctx, audience, to, out, delta, columns, value, progress)


def _export(
    ctx: SegmentContext,
    audience: _Audience,
    to: str,
    out: Path,
    delta: bool,
    columns: Sequence[str] | None,
    value: str | None,
    progress: Progress | None,
) -> ExportResult:
    """The export itself, whoever the audience is (the module's docstring)."""
    from segmint.console import SilentProgress
    from segmint.store import exports as store
    from segmint.store.txn import kill_point, transaction

    progress = progress or SilentProgress()
    started = time.perf_counter()
    evaluator = ctx.evaluator()
    key = audience.key
    plan = _plan(ctx, evaluator.catalog.attributes, audience.tag, to, columns, value)
    con = ctx.con
    try:
        progress.phase(f"selecting the members of {key}")
        audience.stage(plan.raw)
        left_out, exported = _lay_out(ctx, plan, audience.tag, value)
        progress.phase(f"writing {out.name}")
        added, removed, removes_file = _write(con, plan, key, out, delta, exported)
        kill_point("export:files-written")
        with transaction(con, "export", "the export ledger"):
            export_id = store.next_export_id(con)
            entry = {
                "export_id": export_id,
                "segment": key,
                "destination": to,
                "exported_at": datetime.now(UTC),
                "as_of": audience.when,
                "version": audience.version,
                "fingerprint": audience.fingerprint,
                "delta": delta,
                "members": exported + sum(left_out.values()),
                "exported": exported,
                "added": added,
                "removed": removed,
                "left_out": left_out,
                "file": str(out),
                "remove_file": None if removes_file is None else str(removes_file),
            }
            store.record(con, entry)
    finally:
        store.drop_scratch(con)
        progress.done()
    return ExportResult(
        export_id,
        key,
        to,
        audience.when,
        audience.version,
        delta,
        exported + sum(left_out.values()),
        exported,
        added,
        removed,
        left_out,
        out,
        removes_file,
        _warnings(to, exported),
        time.perf_counter() - started,
    )


def _lay_out(
    ctx: SegmentContext, plan: _Plan, segment: str, value: str | None
) -> tuple[dict[str, int], int]:
    """The staged members checked (``_export_checked``) and laid out with fingerprints
    (``_export_rows``): who was left out, per reason, and how many rows there are."""
    from segmint.engine.duckdb import DuckDBEngine
    from segmint.store import exports as store

    con = ctx.con
    engine = DuckDBEngine(con)
    normal = _normalise(con, _table(con, store.RAW), plan.destination)
    engine.create_table(store.CHECKED, _checks(normal, plan.destination, ctx), temporary=True)
    left_out = store.left_out(con)
    checked = _table(con, store.CHECKED)
    layout = _layout(checked, plan, segment, value, ctx.config.activation)
    if plan.destination in ADS:
        # Stored first: the fingerprint and the removal form read the hashed cells again,
        # and DuckDB would hash them again.
        engine.create_table(store.OUT, layout, temporary=True)
        return left_out, store.fingerprint_rows(con, plan.columns, plan.removal)
    return left_out, store.fingerprint_rows(con, plan.columns, plan.removal, engine.sql(layout))


def _write(
    con: Any, plan: _Plan, segment: str, out: Path, delta: bool, exported: int
) -> tuple[int, int, Path | None]:
    """The file (and for a Meta or Google delta the removals file): adds, removes and the
    removals file."""
    from segmint.store import exports as store

    fmt = extension(plan.destination)
    if not delta:
        store.write_file(con, store.full_query(plan.columns), fmt, out)
        return exported, 0, None
    added, removed = store.delta(con, segment, plan.destination)
    if not plan.separate_removes:
        query = store.changes_query(plan.columns, plan.removal, plan.change, plan.removal_cells)
        store.write_file(con, query, fmt, out)
        return added, removed, None
    store.write_file(con, store.adds_query(plan.columns), fmt, out)
    removes_file = remove_path(out)
    store.write_file(con, store.removes_query(plan.removal), fmt, removes_file)
    return added, removed, removes_file


def _warnings(to: str, exported: int) -> list[str]:
    minimum = AUDIENCE_MINIMUM.get(to)
    if minimum is None or exported >= minimum:
        return []
    return [
        f"the audience has {exported} people; {PLATFORM[to]} needs at least {minimum:,}, so "
        "the platform may refuse it or match too few"
    ]


def _plan(
    ctx: SegmentContext,
    attributes: Mapping[str, Any],
    segment: str,
    to: str,
    columns: Sequence[str] | None,
    value: str | None,
) -> _Plan:
    """The attributes to stage and the file's layout for ``to``; unknown or misplaced
    options are errors before any query runs."""
    consent = ctx.config.activation
    if columns and to not in FILES:
        raise ArgumentError(
            f"--columns applies to {', '.join(FILES)}; {to} files have the platform's own columns",
            "--columns",
        )
    if value is not None:
        if to not in ADS:
            raise ArgumentError(
                "--value adds a value column to a meta or google audience", "--value"
            )
        info = attributes.get(value)
        if info is None or info.type not in ("integer", "float"):
            numeric = sorted(n for n, i in attributes.items() if i.type in ("integer", "float"))
            hint = suggest(value, numeric) if info is None else f" (it is {info.type})"
            raise ArgumentError(
                f"--value: expected a numeric attribute or trait, got {value!r}{hint}", "--value"
            )

    def having(names: Iterable[str]) -> list[str]:
        return [n for n in names if n in attributes]

    def require(name: str, what: str) -> str:
        if name not in attributes:
            raise ArgumentError(
                f"--to {to} needs {what} consent, read from the attribute {name!r}, which this "
                f"workspace does not have: load it with the customers (true/false), or name "
                f"the attribute in segmint.toml [activation]",
                "--to",
            )
        return name

    if to in FILES:
        wanted = list(columns) if columns else having(DEFAULT_COLUMNS)
        unknown = [c for c in wanted if c not in attributes]
        if unknown:
            raise ArgumentError(
                f"--columns: unknown attribute {unknown[0]!r}{suggest(unknown[0], attributes)}",
                "--columns",
            )
        wanted = [c for c in dict.fromkeys(wanted) if c != "customer_id"]
        return _Plan(
            to,
            list(dict.fromkeys([*wanted, *having(("email",))])),
            ["customer_id", *wanted],
            ["customer_id"],
            CHANGE,
            {},
            False,
        )
    contact = having(CONTACT)
    if to == "klaviyo":
        raw = [*contact, require(consent.email_consent, "email")]
        raw.append(require(consent.sms_consent, "SMS"))
        return _Plan(to, raw, list(KLAVIYO_COLUMNS), ["Email", "Phone Number"], CHANGE, {}, False)
    if to == "mailchimp":
        raw = [*contact, require(consent.email_consent, "email")]
        tag = {"Tags": f"{segment}-removed"}
        return _Plan(to, raw, list(MAILCHIMP_COLUMNS), ["Email Address"], None, tag, False)
    from segmint.activation.audiences import GOOGLE_COLUMNS, META_COLUMNS

    raw = [*contact, require(consent.ads_consent, "ads")]
    if value is not None:
        raw.append(value)
    names = list(META_COLUMNS if to == "meta" else GOOGLE_COLUMNS)
    laid = [*names, "value"] if value is not None else names
    return _Plan(to, list(dict.fromkeys(raw)), laid, names, None, {}, True)


def _table(con: Any, name: str) -> ir.Table:
    """A scratch table of the export as an unbound Ibis table."""
    import ibis

    from segmint.store.exports import columns_of

    return ibis.table(ibis.Schema.from_pyarrow(columns_of(con, name)), name=name)


def _text(table: ir.Table, name: str) -> ir.StringValue:
    """A column as text; NULL when the export did not stage it (the workspace lacks it)."""
    import ibis

    if name not in table.columns:
        missing: ir.StringValue = ibis.null().cast("string")
        return missing
    value: ir.StringValue = table[name].cast("string")
    return value


def _consented(table: ir.Table, name: str) -> ir.BooleanValue:
    """Whether consent attribute ``name`` says yes: true, or a text of yes/true/1."""
    column = table[name]
    if column.type().is_boolean():
        result: ir.BooleanValue = column.fill_null(False)
        return result
    text = column.cast("string").strip().lower()
    found: ir.BooleanValue = text.isin(_TRUE).fill_null(False)
    return found


def normal_email(text: str) -> str:
    """An email as the suppression list and the checks compare it: no white space, lower
    case (activation/audiences.py ``email``)."""
    return re.sub(r"\s", "", text).lower()


def _normalise(con: Any, raw: ir.Table, to: str) -> ir.Table:
    """The staged members with their identifiers normalised (activation/audiences.py),
    in two stored steps for the platforms (``audiences.fields`` says why); for files,
    only the email the suppression list is matched on."""
    from segmint.activation import audiences as a
    from segmint.engine.duckdb import DuckDBEngine
    from segmint.store.exports import NORM

    if to in FILES:
        return raw.mutate(n_email=a.email(_text(raw, "email")))
    names = {field: column for column, field in CONTACT.items()}
    staged = a.primitives(raw, names=names, wanted=NORMALISED_FOR[to])
    DuckDBEngine(con).create_table(NORM, staged, temporary=True)
    return a.fields(_table(con, NORM))


def _checks(table: ir.Table, to: str, ctx: SegmentContext) -> ir.Table:
    """``table`` (normalised) with ``reason``: why the member is left out (NULL when
    exported). The first that applies: suppressed, then the destination's consent and
    contact checks."""
    import ibis

    consent = ctx.config.activation
    suppressions = ibis.table({"kind": "string", "value": "string"}, name="suppressions")
    emails = suppressions.filter(suppressions.kind == "email").value
    ids = suppressions.filter(suppressions.kind == "customer_id").value
    t = table
    suppressed = t.customer_id.cast("string").isin(ids) | t.n_email.isin(emails).fill_null(False)
    cases: list[tuple[ir.BooleanValue, str]] = [(suppressed, "suppressed")]
    if to in FILES:
        pass
    elif to == "mailchimp":
        cases += [
            (t.n_email.isnull(), "no email"),
            (~_consented(t, consent.email_consent), "no email consent"),
        ]
    elif to == "klaviyo":
        email_ok = t.n_email.notnull() & _consented(t, consent.email_consent)
        sms_ok = t.n_e164.notnull() & _consented(t, consent.sms_consent)
        cases += [
            (t.n_email.isnull() & t.n_e164.isnull(), "no email or phone"),
            (~email_ok & ~sms_ok, "no email or SMS consent"),
        ]
    else:
        names = t.n_fn.notnull() & t.n_ln.notnull()
        if to == "google":
            # Google matches on an email, a phone, or a full name with country and zip.
            names = names & t.n_country.notnull() & t.n_zip.notnull()
        cases += [
            (~_consented(t, consent.ads_consent), "no ads consent"),
            (t.n_email.isnull() & t.n_e164.isnull() & ~names, "no identifier to match"),
        ]
    reason = ibis.cases(*cases, else_=ibis.null().cast("string"))
    return t.mutate(reason=reason)


def _layout(
    checked: ir.Table, plan: _Plan, segment: str, value: str | None, consent: ActivationConfig
) -> ir.Table:
    """The exported members laid out for the destination: ``_customer_id`` and the
    destination's columns."""
    import ibis

    from segmint.activation import audiences as a
    from segmint.store.exports import CUSTOMER

    ok = checked.filter(checked.reason.isnull())
    key = {CUSTOMER: ok.customer_id.cast("string")}
    to = plan.destination
    if to in FILES:
        cells = {c: ok[c] for c in plan.columns}
        return ok.select(**key, **cells)
    if to in EMAIL:
        first = _text(ok, "first_name").strip().nullif("")
        last = _text(ok, "last_name").strip().nullif("")
        email = _text(ok, "email").strip().nullif("")
        if to == "mailchimp":
            return ok.select(
                **key,
                **{
                    "Email Address": email,
                    "First Name": first,
                    "Last Name": last,
                    "Tags": ibis.literal(segment),
                },
            )
        email_ok = ok.n_email.notnull() & _consented(ok, consent.email_consent)
        sms_ok = ok.n_e164.notnull() & _consented(ok, consent.sms_consent)
        null = ibis.null().cast("string")
        return ok.select(
            **key,
            **{
                "Email": ibis.ifelse(email_ok, email, null),
                "Phone Number": ibis.ifelse(sms_ok, "+" + ok.n_e164, null),
                "First Name": first,
                "Last Name": last,
                "Email Marketing Consent": ibis.ifelse(email_ok, "TRUE", "FALSE"),
                "SMS Marketing Consent": ibis.ifelse(sms_ok, "TRUE", "FALSE"),
            },
        )
    keep = [CUSTOMER]
    if value is not None:
        worth = ibis.greatest(ok[value].cast("float64").fill_null(0.0), 0.0).round(2)
        ok = ok.mutate(value=worth)
        keep.append("value")
    ok = ok.mutate(**key)
    layout = a.meta_layout if to == "meta" else a.google_layout
    return layout(ok, keep=keep)
