"""A stable pseudo-random order of customers in the engine: ``md5`` of a seed and the id.

PostgreSQL, Spark and DuckDB all have ``md5(text)`` returning 32 lower-case hex digits,
so the order (and a sample taken as its first N rows) is the same on every engine and in
every run for the same seed and ids, without shipping the ids out to draw them.

Imported only when such an order is built, without postponed annotations, because Ibis
reads these type hints at runtime (as in engine/postgres_functions.py).
"""

import ibis
import ibis.expr.types as ir


@ibis.udf.scalar.builtin(name="md5")  # type: ignore[untyped-decorator]
def md5(value: str) -> str:  # type: ignore[empty-body]
    """The MD5 digest of ``value`` as 32 hex digits."""


def seeded_order(ids: ir.StringValue, seed: int) -> ir.StringValue:
    """A sort key that shuffles ``ids`` by ``seed``: md5 of ``"SEED:ID"``."""
    key: ir.StringValue = md5(ibis.literal(f"{int(seed)}:") + ids)
    return key
