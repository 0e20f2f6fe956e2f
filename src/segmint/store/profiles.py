"""The profiles table: the reads that segment reports and quality checks need (who can be
contacted, the stored attributes worth comparing), and a customers load's attribute updates.

The count of contactable customers is an Ibis expression. The attributes are read with
SQL built from the ``attributes`` catalog (each column quoted as an identifier) straight
into a pandas frame, so their dtypes are DuckDB's as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from segmint.engine.sqltext import quote_ident
from segmint.store.loads import LoadInProgress

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    import pandas as pd


def contacts_table() -> ir.Table:
    """The profile columns that say whether a customer can be reached."""
    import ibis

    schema = {
        "pid": "int64",
        "customer_id": "string",
        "email": "string",
        "email_consent": "boolean",
        "phone": "string",
        "sms_consent": "boolean",
    }
    return ibis.table(schema, name="profiles")


def reachable(profiles: ir.Table) -> ir.BooleanColumn:
    return (profiles.email.notnull() & profiles.email_consent) | (
        profiles.phone.notnull() & profiles.sms_consent
    )


def contactable_customers(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Known customers (with a ``customer_id``) that can be reached by email or SMS, and
    all known customers."""
    from segmint.engine.duckdb import DuckDBEngine

    profiles = contacts_table()
    known: ir.Table = profiles.filter(profiles.customer_id.notnull())
    expr = known.aggregate(reachable=known.count(where=reachable(known)), everyone=known.count())
    row = DuckDBEngine(con).to_arrow(expr).to_pylist()[0]
    return int(row["reachable"]), int(row["everyone"])


def comparable_attributes(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The stored attributes of a plain type (string, bool, integer, float), as
    ``(name, column)``: builtin ones first, then by name."""
    rows = con.execute(
        "SELECT name, column_name, type FROM attributes WHERE type IN "
        "('string', 'bool', 'integer', 'float') ORDER BY builtin DESC, name"
    ).fetchall()
    return [(name, column) for name, column, _ in rows]


def attribute_frame(
    con: duckdb.DuckDBPyConnection, attributes: list[tuple[str, str]]
) -> pd.DataFrame:
    """``customer_id`` and the ``(name, column)`` attributes, named by name, of every known
    customer."""
    select = ", ".join(f"{quote_ident(c)} AS {quote_ident(n)}" for n, c in attributes)
    return con.execute(
        f"SELECT customer_id{', ' + select if select else ''} FROM profiles "
        "WHERE customer_id IS NOT NULL"
    ).df()


def count_known(con: duckdb.DuckDBPyConnection, ids_sql: str) -> int:
    """How many of the customer ids ``ids_sql`` yields already have a profile."""
    row = con.execute(
        f"SELECT count(*) FROM ({ids_sql}) x(customer_id) WHERE customer_id IN "
        "(SELECT customer_id FROM profiles WHERE customer_id IS NOT NULL)"
    ).fetchone()
    return int(row[0]) if row else 0


def set_attributes(ctx: LoadInProgress, table: str, columns: Sequence[str]) -> None:
    """Set attribute columns from the load's temp ``table`` (``customer_id``, then ``v0``,
    ``v1``, ... for ``columns``); a missing value keeps the stored one."""
    sets = [
        f"{quote_ident(column)} = coalesce(c.v{i}, p.{quote_ident(column)})"
        for i, column in enumerate(columns)
    ]
    ctx.con.execute(
        f"UPDATE profiles AS p SET {', '.join([*sets, 'updated_at = ?'])} "
        f"FROM {quote_ident(table)} c WHERE p.customer_id = c.customer_id",
        [ctx.started_at],
    )


def search(con: duckdb.DuckDBPyConnection, text: str, limit: int) -> list[dict[str, Any]]:
    """Known customers whose id or email starts with ``text``, or whose first or last
    name contains it (case-insensitive), by customer_id; at most ``limit``."""
    cursor = con.execute(
        "SELECT customer_id, email, first_name, last_name, country, last_event_at "
        "FROM profiles WHERE customer_id IS NOT NULL AND ("
        "starts_with(lower(customer_id), $t) OR starts_with(lower(email), $t) "
        "OR contains(lower(concat_ws(' ', first_name, last_name)), $t)) "
        "ORDER BY customer_id LIMIT $n",
        {"t": text.lower(), "n": limit},
    )
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def top_values(con: duckdb.DuckDBPyConnection, column: str, limit: int) -> list[tuple[Any, int]]:
    """The most common values of a stored attribute column among known customers, with how
    many have each (the builder's suggestions), most common first."""
    rows = con.execute(
        f"SELECT v, count(*) AS n FROM (SELECT {quote_ident(column)} AS v FROM profiles "
        "WHERE customer_id IS NOT NULL) WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v "
        "LIMIT ?",
        [limit],
    ).fetchall()
    return [(v, int(n)) for v, n in rows]


def top_property_values(
    con: duckdb.DuckDBPyConnection, prop: str, limit: int, sample: int = 200_000
) -> list[tuple[Any, int]]:
    """The most common values of an event property (as text) in a sample of about
    ``sample`` events (whole row groups, so a large table is read in part), with how many
    sampled events have each, most common first."""
    total = con.execute("SELECT count(*) FROM events").fetchone()
    rows_now = int(total[0]) if total else 0
    percent = 100.0 if rows_now <= sample else max(0.01, 100.0 * sample / rows_now)
    rows = con.execute(
        "SELECT v, count(*) AS n FROM (SELECT json_extract_string(properties, ?) AS v "
        f"FROM events TABLESAMPLE {percent:.4f}% (system)) WHERE v IS NOT NULL "
        "GROUP BY v ORDER BY n DESC, v LIMIT ?",
        [f"$.{prop}", limit],
    ).fetchall()
    return [(v, int(n)) for v, n in rows]
