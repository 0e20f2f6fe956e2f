"""Instants of a query, computed in Python in UTC (shared/STACK.md: interval arithmetic
in SQL follows the session's calendar and moves across DST changes).

A :class:`Clock` writes each instant as a literal (printed SQL, every engine) or as a
named parameter set before the query runs (DuckDB execution), so one compiled query
serves every as_of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

DAY = timedelta(days=1)


def instant(value: datetime) -> ir.TimestampScalar:
    import ibis

    return ibis.literal(value.astimezone(UTC), type="timestamp('UTC')")


@dataclass(frozen=True)
class Bound:
    """An instant a query compares with: ``days`` before as_of, or an absolute ``at``."""

    days: int | None = None
    at: datetime | None = None


AS_OF = Bound(days=0)
CLV_FIT_VARIABLE = "segmint_clv_fit"


@dataclass
class Clock:
    """Writes the instants of a query. In literal mode (``segment sql``, every engine) each
    is a UTC literal computed from ``as_of``. In variable mode (DuckDB execution) an
    instant relative to as_of is a DuckDB variable, so the SQL does not depend on as_of
    and one compiled query serves every as_of; :attr:`variables` says which to set.
    Either way the arithmetic happens in Python, in UTC (shared/STACK.md)."""

    as_of: datetime
    use_variables: bool = False
    variables: dict[str, int] = field(default_factory=dict)
    # The CLV fit at as_of (traits/models.py): its table, and its id when written as a
    # literal; in variable mode the id is the DuckDB variable CLV_FIT_VARIABLE.
    clv_table: str = "clv_predictions"
    clv_fit: int | None = None
    # What the variables' names start with: a statement that reads two instants (a
    # backtest's as_of and the end of its window) gives the second another prefix.
    prefix: str = "segmint_"

    def clv_fit_id(self) -> ir.IntegerValue:
        """The id of the CLV fit at as_of, for the rows of ``clv_table`` to read."""
        import ibis

        if self.use_variables:
            from segmint.engine.duckdb_functions import getvariable_int

            return getvariable_int(CLV_FIT_VARIABLE)
        if self.clv_fit is None:
            raise AssertionError("a query with CLV traits needs the fit at its as_of")
        return ibis.literal(self.clv_fit, "int32")

    def ago(self, days: int) -> ir.TimestampValue:
        """The instant ``days`` days before as_of."""
        if not self.use_variables:
            return instant(self.as_of - days * DAY)
        from segmint.engine.duckdb_functions import getvariable

        name = f"{self.prefix}as_of_minus_{days}d"
        self.variables[name] = days
        return getvariable(name)

    def write(self, bound: Bound) -> ir.TimestampValue:
        if bound.at is not None:
            return instant(bound.at)
        assert bound.days is not None
        return self.ago(bound.days)

    def before_as_of(self, bound: Bound) -> bool:
        """Whether ``bound`` is known, when compiling, not to be after as_of."""
        return bound.days is not None or (
            not self.use_variables and self.value(bound) <= self.as_of
        )

    def value(self, bound: Bound) -> datetime:
        return bound.at if bound.at is not None else self.as_of - (bound.days or 0) * DAY

    def earliest(self, bounds: list[Bound]) -> ir.TimestampValue:
        import ibis

        if not self.use_variables:
            return instant(min(self.value(b) for b in bounds))
        if all(b.days is not None for b in bounds):
            return self.ago(max(b.days or 0 for b in bounds))
        return ibis.least(*[self.write(b) for b in bounds])

    def latest(self, bounds: list[Bound]) -> ir.TimestampValue:
        """The latest of ``bounds``, but never after as_of."""
        import ibis

        if not self.use_variables:
            return instant(min(max(self.value(b) for b in bounds), self.as_of))
        if all(b.days is not None for b in bounds):  # relative bounds never pass as_of
            return self.ago(min(b.days or 0 for b in bounds))
        written = [self.write(b) for b in bounds]
        highest = ibis.greatest(*written) if len(written) > 1 else written[0]
        return ibis.least(highest, self.ago(0))
