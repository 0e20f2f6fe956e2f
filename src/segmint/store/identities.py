"""Identity resolution: turning customer ids, emails and anonymous ids into profiles.

All steps are set-based SQL over the staged rows of one load, so the result does not depend
on row order inside a file: an anonymous id tied to a customer anywhere in a file sends all
of that file's anonymous events for it to the customer. Rules (DESIGN section 3):

- a ``customer_id`` nobody has seen creates a bare profile;
- a row carrying ``customer_id`` and ``anonymous_id`` (or ``email``) *ties* that identifier
  to the customer. If the identifier already belongs to an anonymous profile (one with no
  ``customer_id``), that profile merges into the customer's: its events, identifiers and
  missing attributes follow, and the merge is recorded in ``identity_merges``. An identifier
  already tied to another known customer stays with it (first tie wins): two known
  customers are never merged;
- an event with only an ``anonymous_id`` or only an ``email`` attaches to the profile tied
  to it, else to a new profile without ``customer_id``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segmint.store.loads import LoadInProgress

if TYPE_CHECKING:
    import duckdb

# Key kinds of staged event rows: which identifier decides the profile.
KEY_CUSTOMER, KEY_ANONYMOUS, KEY_EMAIL = 0, 1, 2
IDENTITY_KINDS = {KEY_ANONYMOUS: "anonymous_id", KEY_EMAIL: "email"}


def new_pids(con: duckdb.DuckDBPyConnection, n: int) -> int:
    """Reserve ``n`` profile ids; returns the first. Ids are never reused after a merge."""
    row = con.execute("SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'next_pid'").fetchone()
    first = int(row[0]) if row else 0
    con.execute("UPDATE meta SET value = CAST(? AS VARCHAR) WHERE key = 'next_pid'", [first + n])
    return first


def _count(ctx: LoadInProgress, sql: str) -> int:
    row = ctx.con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def create_customers(ctx: LoadInProgress, ids_sql: str) -> int:
    """Create bare profiles for the customer ids in ``ids_sql`` that no profile has yet."""
    ctx.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _new_ids AS SELECT DISTINCT customer_id FROM ({ids_sql}) "
        "WHERE customer_id IS NOT NULL AND customer_id NOT IN "
        "(SELECT customer_id FROM profiles WHERE customer_id IS NOT NULL)"
    )
    n = _count(ctx, "SELECT count(*) FROM _new_ids")
    if n:
        first = new_pids(ctx.con, n)
        ctx.con.execute(
            "INSERT INTO profiles (pid, customer_id, updated_at) SELECT "
            f"{first} - 1 + row_number() OVER (ORDER BY customer_id), customer_id, ? "
            "FROM _new_ids",
            [ctx.started_at],
        )
    return n


def apply_ties(ctx: LoadInProgress, kind: str, ties_sql: str) -> int:
    """Tie identifiers to customers; ``ties_sql`` yields ``(value, customer_id, rank)``.

    The lowest ``rank`` wins when one identifier is tied to several customers in a load.
    Returns the number of merges done.
    """
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _ties AS SELECT t.value, p.pid FROM "
        f"(SELECT value, arg_min(customer_id, rank) AS customer_id FROM ({ties_sql}) "
        "WHERE value IS NOT NULL GROUP BY value) t "
        "JOIN profiles p ON p.customer_id = t.customer_id"
    )
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE _merges AS SELECT DISTINCT ON (i.pid) "
        f"i.pid AS merged_pid, t.pid AS into_pid, '{kind}' AS via_kind, t.value AS via_value "
        "FROM _ties t JOIN identities i ON i.kind = ? AND i.value = t.value "
        "JOIN profiles a ON a.pid = i.pid "
        "WHERE a.customer_id IS NULL AND i.pid <> t.pid ORDER BY i.pid, t.value",
        [kind],
    )
    ctx.con.execute(
        "INSERT INTO identities SELECT ?, value, pid, ? FROM _ties WHERE value NOT IN "
        "(SELECT value FROM identities WHERE kind = ?)",
        [kind, ctx.load_id, kind],
    )
    return merge_profiles(ctx)


def merge_profiles(ctx: LoadInProgress) -> int:
    """Merge every profile of temp table ``_merges`` into its target; record each merge."""
    n = _count(ctx, "SELECT count(*) FROM _merges")
    if not n:
        return 0
    con = ctx.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _moved AS SELECT m.merged_pid, count(e.pid) AS n "
        "FROM _merges m LEFT JOIN events e ON e.pid = m.merged_pid GROUP BY m.merged_pid"
    )
    con.execute("UPDATE events SET pid = m.into_pid FROM _merges m WHERE events.pid = m.merged_pid")
    con.execute("UPDATE orders SET pid = m.into_pid FROM _merges m WHERE orders.pid = m.merged_pid")
    con.execute(
        "UPDATE identities SET pid = m.into_pid FROM _merges m WHERE identities.pid = m.merged_pid"
    )
    _fill_from_merged(ctx)
    con.execute("DELETE FROM profiles WHERE pid IN (SELECT merged_pid FROM _merges)")
    con.execute(
        "INSERT INTO identity_merges SELECT m.merged_pid, m.into_pid, m.via_kind, m.via_value, "
        "v.n, ?, ? FROM _merges m JOIN _moved v USING (merged_pid)",
        [ctx.load_id, ctx.started_at],
    )
    return n


def _fill_from_merged(ctx: LoadInProgress) -> None:
    """The surviving profile keeps its values and takes the merged one's where it has none;
    several profiles merging into one in a load are reduced to one row first (earliest
    and latest event over all of them; otherwise the lowest pid's value), as an UPDATE
    with several source rows for a target keeps an arbitrary one."""
    columns = [
        name
        for (name,) in ctx.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'profiles' "
            "AND column_name NOT IN ('pid', 'customer_id', 'updated_at') ORDER BY column_index"
        ).fetchall()
    ]
    fills = []
    reduced = []
    for name in columns:
        col = '"' + name + '"'
        if name == "first_event_at":
            reduced.append(f"min(a.{col}) AS {col}")
        elif name == "last_event_at":
            reduced.append(f"max(a.{col}) AS {col}")
        else:
            reduced.append(f"arg_min(a.{col}, a.pid) FILTER (WHERE a.{col} IS NOT NULL) AS {col}")
        if name == "first_event_at":
            fills.append(f"{col} = least(coalesce(p.{col}, s.{col}), coalesce(s.{col}, p.{col}))")
        elif name == "last_event_at":
            fills.append(
                f"{col} = greatest(coalesce(p.{col}, s.{col}), coalesce(s.{col}, p.{col}))"
            )
        else:
            fills.append(f"{col} = coalesce(p.{col}, s.{col})")
    ctx.con.execute(
        f"UPDATE profiles AS p SET {', '.join(fills)} FROM "
        f"(SELECT m.into_pid, {', '.join(reduced)} FROM _merges m "
        "JOIN profiles a ON a.pid = m.merged_pid GROUP BY m.into_pid) s "
        "WHERE p.pid = s.into_pid"
    )


def create_unknown(ctx: LoadInProgress, key_kind: int, keys_sql: str) -> int:
    """New profiles (no customer_id) for identifiers in ``keys_sql`` that nobody holds yet."""
    kind = IDENTITY_KINDS[key_kind]
    ctx.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _unknown AS SELECT DISTINCT k FROM ({keys_sql}) "
        "WHERE k IS NOT NULL AND k NOT IN (SELECT value FROM identities WHERE kind = ?)",
        [kind],
    )
    n = _count(ctx, "SELECT count(*) FROM _unknown")
    if not n:
        return 0
    first = new_pids(ctx.con, n)
    ctx.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _unknown_ids AS SELECT k, {first} - 1 + "
        "row_number() OVER (ORDER BY k) AS pid FROM _unknown"
    )
    email = "k" if key_kind == KEY_EMAIL else "NULL"
    ctx.con.execute(
        f"INSERT INTO profiles (pid, email, updated_at) SELECT pid, {email}, ? FROM _unknown_ids",
        [ctx.started_at],
    )
    ctx.con.execute(
        "INSERT INTO identities SELECT ?, k, pid, ? FROM _unknown_ids", [kind, ctx.load_id]
    )
    return n
