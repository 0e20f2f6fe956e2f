"""Evaluating a rule on the workspace: resolve, validate, compile, run.

Queries are compiled with ``ibis.to_sql`` and run through the workspace's own DuckDB
connection, which is faster to start than an Ibis backend (shared/STACK.md) and sees the
same transaction.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from segmint.engine.dialects import DIALECTS
from segmint.engine.render import render_sql
from segmint.errors import ArgumentError, DependencyError, ModelError
from segmint.hints import suggest
from segmint.rules.catalog import Catalog, read_catalog
from segmint.rules.coerce import as_rule
from segmint.rules.model import RuleNode
from segmint.rules.validate import validate

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    import pyarrow as pa

    from segmint.engine.base import Engine
    from segmint.engine.clock import Clock
    from segmint.rules.increments import LeafSpec
    from segmint.store.source_state import SourceState
    from segmint.traits.expressions import TraitSettings
    from segmint.traits.models import ClvFit

OUTPUTS = ("arrow", "pandas", "polars")
# Members may also come as a stream of Arrow batches (Evaluator.members).
STREAM = "batches"
TEMPLATE_CACHE_SIZE = 256
# Compiled rules by (rule, catalog fingerprint, columns), most recently used last.
_TEMPLATES: OrderedDict[tuple[Any, ...], tuple[str, dict[str, int]]] = OrderedDict()


def check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise ArgumentError(
            f"output: expected one of {', '.join(OUTPUTS)}, got {output!r}", location="output"
        )
    if output != "arrow":
        _require(output)


def convert_output(table: Any, output: str) -> Any:
    """An Arrow table as ``output``: arrow, pandas or polars."""
    check_output(output)
    if output == "arrow":
        return table
    if output == "pandas":
        return table.to_pandas()
    import polars as pl

    return pl.from_arrow(table)


def _require(library: str) -> None:
    """A clear error when the library an ``output`` needs is not installed (polars is not a
    dependency of segmint; pandas is, but may be missing in a trimmed environment)."""
    import importlib

    try:
        importlib.import_module(library)
    except ImportError:
        raise DependencyError(
            f'output="{library}" needs {library}, which is not installed: '
            f'pip install {library} (or use output="arrow")',
            location="output",
        ) from None


def parse_as_of(value: datetime | date | str | None, what: str = "as_of") -> datetime:
    """``as_of`` (or any instant a user gives: ``--since``, ``--from``) as a UTC datetime.

    None is now. A bare ISO date (``1998-06-30``, a ``date``) is 00:00 UTC that day; an
    instant must carry an offset (``Z``, ``+02:00``): a naive one is an error. The result
    must lie in the supported range (rules/model.py, ``MIN_INSTANT``). Every front-end
    parses with this one function, naming the option in ``what`` (``--as-of``), and each
    error echoes the input as it was given.

    >>> parse_as_of("1998-06-30").isoformat()
    '1998-06-30T00:00:00+00:00'
    """
    from segmint.rules.model import in_range

    if value is None:
        return datetime.now(UTC)
    if isinstance(value, str):
        shown = repr(value)
        value = _instant_from_text(value, what)
    elif isinstance(value, datetime):
        shown = value.isoformat()
        if value.tzinfo is None or value.utcoffset() is None:
            raise ArgumentError(
                f"{what}: needs a time zone (e.g. 2026-01-31T00:00:00Z), got naive {shown}", what
            )
    else:
        shown = value.isoformat()
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return in_range(value, shown)
    except ValueError as exc:
        raise ArgumentError(f"{what}: {exc}", what) from None


def _instant_from_text(text: str, what: str) -> datetime:
    """A bare date (00:00 UTC) or an instant with an offset, as written by a user."""
    bad = ArgumentError(
        f"{what}: expected an ISO 8601 date or instant with an offset, got {text!r}", what
    )
    stripped = text.strip()
    try:
        day = date.fromisoformat(stripped)
    except ValueError:
        pass
    else:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        raise bad from None
    if parsed.utcoffset() is None:
        raise bad
    return parsed


# The key columns of :meth:`Evaluator.member_set`.
SET_KEYS = ("customer_id", "pid")


class Evaluator:
    """Rules on one workspace connection, with its catalog and saved segments."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        segments: Mapping[str, RuleNode],
        traits: TraitSettings | None = None,
        source: Engine | None = None,
        state: SourceState | None = None,
    ) -> None:
        from segmint.engine.duckdb import DuckDBEngine

        self.con = con
        # Queries run through the engine, which passes as_of and the CLV fit as parameters;
        # on a source-mode workspace (store/source.py) the engine is the source's, and
        # ``con`` keeps the catalog and the saved state.
        self.source = source
        # On a source, segmint's own tables there (the CLV predictions).
        self.state = state
        self.engine = DuckDBEngine(con)
        self.catalog: Catalog = read_catalog(con, segments, traits)
        # The CLV fit of each as_of this evaluator ran a rule on (a refresh runs many).
        self._fits: dict[datetime, ClvFit] = {}

    def prepare(self, rule: Any, name: str | None = None) -> RuleNode:
        """The validated tree of a tree, dict or text."""
        tree = as_rule(rule)
        validate(tree, self.catalog, name=name)
        return tree

    def expression(self, rule: Any, as_of: datetime | str | None) -> ir.Table:
        """The Ibis expression of a rule's members at ``as_of`` (instants as literals)."""
        from segmint.rules.compile import compile_rule

        return compile_rule(self.prepare(rule), self.catalog, parse_as_of(as_of))

    def count(self, rule: Any, as_of: datetime | str | None = None) -> int:
        if self.source is not None:
            table = self.run_on_source(rule, as_of, ())
            return int(table.column(0)[0].as_py()) if table.num_rows else 0
        found = self.run(rule, as_of, ()).fetchone()
        return int(found[0]) if found else 0

    def members(
        self,
        rule: Any,
        as_of: datetime | str | None = None,
        output: str = "arrow",
        columns: list[str] | None = None,
    ) -> Any:
        """The members of ``rule``: an Arrow table, pandas or polars frame, or with
        ``output="batches"`` a ``pyarrow.RecordBatchReader`` that yields them a batch at a
        time (a server-side cursor on PostgreSQL, DuckDB's own stream), for member lists
        too large to hold at once."""
        wanted = ("customer_id", *(columns or []))
        if output == STREAM:
            if self.source is not None:
                return _reader(self.source.batches(self.source_query(rule, as_of, wanted)))
            return self.run(rule, as_of, wanted).arrow()
        check_output(output)
        if self.source is not None:
            return convert_output(self.run_on_source(rule, as_of, wanted), output)
        result = self.run(rule, as_of, wanted).arrow().read_all()
        return convert_output(result, output)

    def members_into(self, rule: Any, as_of: datetime | str | None, columns: list[str]) -> None:
        """The members of ``rule`` with ``columns`` (attributes and traits) into the
        workspace's scratch table of exports (store/exports.py ``_export_raw``): on DuckDB
        as one statement; from a source streamed into it batch by batch."""
        from segmint.store.exports import stage_query, stage_stream

        wanted = ("customer_id", *columns)
        if self.source is not None:
            query = self.source_query(rule, as_of, wanted)
            stage_stream(self.con, _reader(self.source.batches(query)))
            return
        stage_query(self.engine, *self.query(rule, as_of, wanted))

    def table_members_into(
        self, members: ir.Table, as_of: datetime | str | None, columns: list[str]
    ) -> None:
        """The customers of ``members`` (a table of ``pid`` of the workspace's own store,
        a campaign's treatment group) with ``columns`` as at ``as_of`` into the scratch
        table of exports, like :meth:`members_into`."""
        from segmint.engine.clock import Clock
        from segmint.rules.model import And
        from segmint.store.exports import stage_query

        when = parse_as_of(as_of)
        self.prepare_traits(And.model_validate({"and": []}), ("customer_id", *columns), when)
        clock = Clock(when)
        clv = self.source_fit(when) if self.source is not None else None
        if clv is None and when in self._fits:
            clock.clv_table, clock.clv_fit = self._fits[when].table, self._fits[when].fit_id
        expr = self.with_columns(members, list(columns), clock)
        stage_query(self.engine, self.engine.sql(expr), {})

    def run_on_source(
        self, rule: Any, as_of: datetime | str | None, columns: tuple[str, ...]
    ) -> pa.Table:
        """Run a rule on the source engine: compiled with its instants as literals (the
        source takes no parameters) for the engine's dialect, refused first with the node
        path when it uses what the engine lacks. Its count when ``columns`` is empty."""
        assert self.source is not None
        return self.source.to_arrow(self.source_query(rule, as_of, columns))

    def source_query(
        self, rule: Any, as_of: datetime | str | None, columns: tuple[str, ...]
    ) -> ir.Expr:
        """The expression :meth:`run_on_source` runs."""
        from segmint.engine.clock import Clock
        from segmint.rules.compile import compile_rule, inline_segments

        assert self.source is not None
        when = parse_as_of(as_of)
        prepared = self.prepare(rule)
        # A rule or column on the CLV traits reads the fit at ``when`` (found or fitted
        # here, its predictions on the source), and no other.
        self.prepare_traits(prepared, columns, when)
        clv = self.source_fit(when)
        tree = inline_segments(prepared, self.catalog)
        members = compile_rule(tree, self.catalog, when, self.source.name, clv)
        if not columns:
            return members.count()
        clock = Clock(when)
        if clv is not None:
            clock.clv_table, clock.clv_fit = clv
        return self.with_columns(members, list(columns[1:]), clock)

    def source_fit(self, when: datetime) -> tuple[str, int] | None:
        """The table and id of the CLV fit at ``when`` found by :meth:`prepare_traits`
        (None when no rule at ``when`` needed one)."""
        found = self._fits.get(when)
        return None if found is None else (found.table, found.fit_id)

    def flags(self, rules: list[Any], as_of: datetime | str | None = None) -> Any:
        """``customer_id`` and one boolean ``s0``, ``s1``, ... per rule for everyone at
        ``as_of``, ordered by ``customer_id`` (an Arrow table). The rules run as one query
        that shares event scans and traits, as a refresh does."""
        from segmint.rules.compile import inline_segments

        when = parse_as_of(as_of)
        trees = [self.prepare(rule) for rule in rules]
        for tree in trees:
            self.prepare_traits(tree, (), when)
        sql, variables = self.many_template([inline_segments(t, self.catalog) for t in trees], when)
        from segmint.store.segments import flags_by_customer

        return flags_by_customer(self.engine, sql, self.clock_params(variables, when))

    def run(
        self, rule: Any, as_of: datetime | str | None, columns: tuple[str, ...]
    ) -> duckdb.DuckDBPyConnection:
        """Run a rule on DuckDB: its count when ``columns`` is empty, else its members.

        The SQL of a rule does not depend on as_of (instants relative to as_of are DuckDB
        variables set here), so it is compiled once per rule and catalog and reused: Ibis
        takes 15-70 ms to compile a rule, as long as DuckDB takes to run a small one.
        """
        return self.engine.execute(*self.query(rule, as_of, columns))

    def query(
        self, rule: Any, as_of: datetime | str | None, columns: tuple[str, ...]
    ) -> tuple[str, dict[str, object]]:
        """The DuckDB SQL of :meth:`run` and its parameters, for a statement that uses the
        members in a larger one (staging an export)."""
        when = parse_as_of(as_of)
        tree = self.prepare(rule)
        self.prepare_traits(tree, columns, when)
        sql, variables = self.template(tree, columns, when)
        return sql, self.clock_params(variables, when)

    def member_set(
        self,
        rule: Any,
        as_of: datetime | str | None,
        key: str = "customer_id",
        prefix: str = "segmint_",
    ) -> tuple[str, dict[str, object]]:
        """The DuckDB SQL of the members' ``key`` (``customer_id``, or the store's own
        ``pid``), in no order, and its parameters: for a statement that counts or joins
        the members as a set (a campaign's audience, a backtest), where sorting them as
        :meth:`members` does would be wasted. Rules at another as_of in the same
        statement take another variable ``prefix`` (engine/clock.py)."""
        from segmint.engine.clock import CLV_FIT_VARIABLE

        if key not in SET_KEYS:
            raise ValueError(f"member_set: key is one of {SET_KEYS}, got {key!r}")
        when = parse_as_of(as_of)
        tree = self.prepare(rule)
        self.prepare_traits(tree, (), when)
        sql, variables = self.template(tree, (key,), when, ordered=False, prefix=prefix)
        params = self.clock_params(variables, when)
        if prefix != "segmint_":
            # The CLV fit has one variable: only the default prefix may read it.
            if CLV_FIT_VARIABLE in sql:
                raise ValueError("member_set: a rule on CLV traits takes the default prefix")
            del params[CLV_FIT_VARIABLE]
        return sql, params

    def prepare_traits(self, tree: RuleNode, columns: tuple[str, ...], when: datetime) -> None:
        """Find (or fit and store) the CLV fit at ``when`` if the rule or the columns use
        its traits; a rule that needs a model that cannot be fitted is an error."""
        from segmint.rules.compile import inline_segments, used_attributes
        from segmint.traits.definitions import MODEL_TRAITS
        from segmint.traits.expressions import needs_models

        in_rule = used_attributes(inline_segments(tree, self.catalog))
        self.check_trait_events(in_rule)
        used = in_rule | set(columns)
        if not needs_models(used):
            return
        # One evaluator checks many rules at one as_of (a refresh): look the fit up once.
        models = self.fit_at(when).models
        # churn_risk falls back to recency alone; the others have no value without models.
        needs_bgnbd = used & (MODEL_TRAITS - {"churn_risk"})
        needs_both = used & {"predicted_clv_365d", "value_tier"}
        if (needs_bgnbd and models.bgnbd is None) or (needs_both and models.gamma_gamma is None):
            names = sorted(needs_bgnbd)
            verb = "needs" if len(names) == 1 else "need"
            raise ModelError(
                f"{', '.join(names)} {verb} the CLV models, which cannot be fitted {models.problem}"
            )

    def fit_at(self, when: datetime, store: bool = False) -> ClvFit:
        """The CLV fit at ``when``, found or fitted once per evaluator; with ``store`` a
        fit that is not stored is stored (when the workspace is open for writing)."""
        from segmint.traits.models import ensure_predictions

        found = self._fits.get(when)
        if found is None or (store and not found.stored):
            settings = self.catalog.traits
            if self.state is not None:
                from segmint.traits.source_clv import ensure_source_predictions

                found = ensure_source_predictions(self.con, self.state, when, settings, store)
            else:
                found = ensure_predictions(self.con, when, settings, store)
            self._fits[when] = found
        return found

    def check_trait_events(self, used: set[str]) -> None:
        """A rate over events that were never loaded has no value for anyone: a rule on it
        would select nobody (and its negation everyone) without saying why. Like a model
        that cannot be fitted, that is an error when the rule is evaluated (docs/rules.md);
        saving such a rule is allowed, as the events may be loaded later."""
        c = self.catalog.traits.traits
        for trait in sorted(used & {"email_open_rate_90d", "email_click_rate_90d"}):
            if c.email_sent_event not in self.catalog.events:
                raise ModelError(
                    f"{trait} counts {c.email_sent_event!r} events, and none have been "
                    "loaded, so it has no value for anyone; load them, or name your event in "
                    "[traits] email_sent_event"
                )

    def clv_table(self, when: datetime | None) -> str:
        """The table that holds the CLV fit at ``when`` (the stored one when none is
        known: a query that needs a fit has one, :meth:`prepare_traits`)."""
        from segmint.traits.expressions import STORED_TABLE

        found = self._fits.get(when) if when is not None else None
        return STORED_TABLE if found is None else found.table

    def template(
        self,
        tree: RuleNode,
        columns: tuple[str, ...],
        when: datetime | None = None,
        ordered: bool = True,
        prefix: str = "segmint_",
    ) -> tuple[str, dict[str, int]]:
        """The SQL of a rule's count (no ``columns``) or members with ``columns``, ordered
        by ``customer_id``; with ``ordered`` false, one key column (SET_KEYS) in no order."""
        from segmint.engine.clock import Clock
        from segmint.rules.compile import compile_template, inline_segments

        inlined = inline_segments(tree, self.catalog)
        clv_table = self.clv_table(when)

        def build() -> tuple[Any, dict[str, int]]:
            members, variables = compile_template(inlined, self.catalog, clv_table, prefix)
            if not columns:
                return members.count(), variables
            if not ordered:
                (key,) = columns
                return members.select(key), variables
            clock = Clock(datetime.now(UTC), use_variables=True, clv_table=clv_table)
            expr = self.with_columns(members, list(columns[1:]), clock)
            return expr, {**variables, **clock.variables}

        key = (
            inlined.model_dump_json(by_alias=True),
            self.fingerprint(),
            columns,
            clv_table,
            ordered,
            prefix,
        )
        return _cached(key, build)

    def many_template(
        self, rules: list[RuleNode], when: datetime | None = None
    ) -> tuple[str, dict[str, int]]:
        """The SQL of several (inlined) rules at once (``pid``, ``s0``, ``s1``, ...) for
        any as_of, compiled once per process for the same rules and catalog: a refresh
        every hour or a backfill over many dates compiles its shared query once."""
        from segmint.rules.compile import compile_many_template

        clv_table = self.clv_table(when)
        key = (
            "many",
            tuple(rule.model_dump_json(by_alias=True) for rule in rules),
            self.fingerprint(),
            clv_table,
        )
        return _cached(key, lambda: compile_many_template(rules, self.catalog, clv_table))

    def state_template(
        self, rules: list[RuleNode], keys: dict[Any, str], only_touched: bool
    ) -> tuple[str, dict[str, int]]:
        """:meth:`many_template` reading the event conditions from the kept measures of
        incremental refresh (rules/increments.py), for everyone or only ``_touched``."""
        from segmint.rules.increments import compile_state_template

        key = (
            "state",
            tuple(rule.model_dump_json(by_alias=True) for rule in rules),
            tuple(sorted(keys.values())),
            only_touched,
            self.fingerprint(),
        )
        return _cached(key, lambda: compile_state_template(rules, self.catalog, keys, only_touched))

    def leaf_group_template(self, specs: list[LeafSpec]) -> tuple[str, dict[str, int]]:
        """The SQL of several kept leaves on one event computed afresh in one scan, for any
        as_of (rules/increments.py ``rebuild_group_template``)."""
        from segmint.rules.increments import rebuild_group_template

        key = ("leaves", tuple(s.key for s in specs), self.fingerprint())
        return _cached(key, lambda: rebuild_group_template(specs, self.catalog))

    def leaf_template(self, spec: LeafSpec, slice_count: int) -> tuple[str, dict[str, int]]:
        """The SQL of the change of a kept leaf's measures from an earlier base, for any
        as_of (rules/increments.py ``delta_template``): the variables of both as_ofs (the
        earlier one's start with ``BEFORE_PREFIX``)."""
        from segmint.rules.increments import delta_template

        def build() -> tuple[Any, dict[str, int]]:
            expr, at, before = delta_template(spec, self.catalog, slice_count)
            return expr, {**at, **before}

        key = ("leaf", spec.key, slice_count, self.fingerprint())
        return _cached(key, build)

    def clock_params(self, variables: dict[str, int], when: datetime) -> dict[str, object]:
        """The parameters of a compiled template at ``when``: each instant relative to
        as_of, and the id of the CLV fit at ``when`` (None when there is none: no other
        as_of's fit is ever read)."""
        from segmint.engine.clock import CLV_FIT_VARIABLE

        params: dict[str, object] = {
            name: when - timedelta(days=days) for name, days in variables.items()
        }
        found = self._fits.get(when)
        params[CLV_FIT_VARIABLE] = None if found is None else found.fit_id
        return params

    def fingerprint(self) -> tuple[Any, ...]:
        """What a compiled rule depends on besides the rule: attribute columns and types,
        property types."""
        c = self.catalog
        return (
            tuple(sorted((n, i.column, i.type) for n, i in c.attributes.items())),
            tuple(sorted(c.properties.items())),
            tuple(sorted(c.property_columns.items())),
            repr(c.traits),
        )

    def with_columns(
        self, members: ir.Table, columns: list[str], clock: Clock | None = None
    ) -> ir.Table:
        """``customer_id`` then the requested attributes, ordered by ``customer_id``."""
        from segmint.engine.tables import profiles_table

        attributes = self.catalog.attributes
        unknown = [c for c in columns if c not in attributes]
        if unknown:
            hint = suggest(unknown[0], attributes)
            raise ArgumentError(f"columns: unknown attribute {unknown[0]!r}{hint}", "columns")
        wanted = [c for c in columns if c != "customer_id"]
        if not wanted:
            return members.select("customer_id").order_by("customer_id")
        profiles = profiles_table(self.catalog.stored_columns())
        traits = [c for c in wanted if attributes[c].trait]
        if traits:
            from segmint.traits.expressions import with_traits

            assert clock is not None, "trait columns need the query's clock"
            profiles = with_traits(
                profiles, traits, clock, self.catalog.traits, (self.source or self.engine).backend
            )
        joined = members.select("pid").join(profiles, "pid")
        picked = {name: joined[attributes[name].column] for name in wanted}
        return joined.select(joined.customer_id, **picked).order_by("customer_id")

    def sql(self, rule: Any, as_of: datetime | str | None = None, dialect: str = "duckdb") -> str:
        if dialect not in DIALECTS:
            hint = suggest(dialect, DIALECTS)
            raise ArgumentError(
                f"dialect: expected one of {', '.join(DIALECTS)}, got {dialect!r}{hint}",
                "dialect",
            )
        from segmint.rules.compile import compile_rule, inline_segments, used_attributes
        from segmint.traits.expressions import needs_models

        when = parse_as_of(as_of)
        tree = self.prepare(rule)
        clv = None
        if needs_models(used_attributes(inline_segments(tree, self.catalog))):
            # The SQL names the fit at as_of; one that could not be fitted selects nobody
            # (an error only where the rule is run: prepare_traits).
            found = self.fit_at(when, store=True)
            clv = (found.table, found.fit_id)
            if self.state is not None and found.stored:
                from segmint.store.source_clv import printed_table

                # Not the session's view of the fit: its table, where one can name it.
                clv = (printed_table(self.state, dialect) or found.table, found.fit_id)
        expr = compile_rule(tree, self.catalog, when, dialect, clv)
        return render_sql(expr.select("customer_id"), dialect)

    def unstored_fit(self, rule: Any, as_of: datetime | str | None) -> bool:
        """Whether ``rule`` at ``as_of`` uses the CLV traits and their fit for the current
        data is not stored in the workspace (its SQL then cannot run there as printed)."""
        from segmint.rules.compile import inline_segments, used_attributes
        from segmint.traits.expressions import needs_models
        from segmint.traits.models import stored_fit

        used = used_attributes(inline_segments(self.prepare(rule), self.catalog))
        when = parse_as_of(as_of)
        if not needs_models(used):
            return False
        if self.state is not None:
            from segmint.traits.source_clv import stored_source_fit

            return stored_source_fit(self.con, self.state, when, self.catalog.traits) is None
        return stored_fit(self.con, when, self.catalog.traits) is None


def _reader(batches: Iterator[pa.RecordBatch]) -> pa.RecordBatchReader:
    """A reader over an engine's ``batches``, its schema taken from the first (an engine
    yields at least one, empty when the result is)."""
    import itertools

    import pyarrow as pa

    first = next(batches)
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))


def _cached(
    key: tuple[Any, ...], build: Callable[[], tuple[Any, dict[str, int]]]
) -> tuple[str, dict[str, int]]:
    """The SQL and variables of a compiled template: from the cache, or built, rendered and
    kept (the least recently used go first)."""
    found = _TEMPLATES.get(key)
    if found is not None:
        _TEMPLATES.move_to_end(key)
        return found
    expr, variables = build()
    found = render_sql(expr, pretty=False), variables
    _TEMPLATES[key] = found
    if len(_TEMPLATES) > TEMPLATE_CACHE_SIZE:
        _TEMPLATES.popitem(last=False)
    return found
