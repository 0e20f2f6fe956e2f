"""Reads and writes of the living segments' tables: refreshes, runs, versions, members,
changes and retirement (store/schema.py, ``SEGMENT_DDL``).

Simple reads are Ibis expressions on unbound tables, run through the DuckDB engine. The
rest is parameterized SQL (values as ``?``; segment names, the only values written into
a statement, as escaped literals; result columns checked to be ``s<n>``), because Ibis
cannot say it or says it at a cost:

- the refresh's scratch tables (``_eval``, ``_one``, ``_new``, ``_diff``, ``_entered``,
  ``_exited``) are temporary tables, and the evaluation of a level is a template the
  compiler already rendered (``Evaluator.many_template``) run into one of them;
- the writes (INSERT ... SELECT from a scratch table, DELETE ... USING) are not Ibis
  expressions, and they must stay the statements the kill tests cover;
- a segment's last run is DuckDB's ``arg_max`` over a struct, ordered by a struct
  (as_of, then refresh_id), which Ibis has no form for;
- reads that return instants (``as_of``, ``started_at``) use ``fetchall``, which gives
  them in the connection's time zone as before (Arrow would give UTC);
- the member counts of a level and the pairs of overlapping segments read the segment
  names as a literal list, so DuckDB plans them as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from segmint.engine.sqltext import quote_str

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa

    from segmint.engine.base import Params
    from segmint.engine.duckdb import DuckDBEngine

# The result columns of an evaluation (``s0``, ``s1``, ...), checked before they are put
# into SQL; segment names go in as escaped string literals.
_COLUMN = re.compile(r"s[0-9]+")
_SCRATCH = frozenset({"_eval", "_one"})


def _names(values: Iterable[str]) -> str:
    return ", ".join(quote_str(v) for v in values)


def _column(value: str) -> str:
    if not _COLUMN.fullmatch(value):
        raise ValueError(f"not an evaluation column: {value!r}")
    return value


def _run(con: duckdb.DuckDBPyConnection, expr: ir.Table) -> list[dict[str, Any]]:
    from segmint.engine.duckdb import DuckDBEngine

    return list(DuckDBEngine(con).to_arrow(expr).to_pylist())


def _segment_state() -> ir.Table:
    import ibis

    return ibis.table({"name": "string", "retired_at": "timestamp('UTC')"}, name="segment_state")


def _segment_versions() -> ir.Table:
    import ibis

    return ibis.table({"name": "string", "version": "int32"}, name="segment_versions")


# Reads ----------------------------------------------------------------------------------


def retired_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The segments retired with ``segment retire``."""
    state = _segment_state()
    expr = state.filter(state.retired_at.notnull()).select("name")
    return {row["name"] for row in _run(con, expr)}


def next_refresh_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next refresh gets: one more than the last."""
    row = con.execute("SELECT coalesce(max(refresh_id), 0) + 1 FROM refreshes").fetchone()
    return int(row[0]) if row else 1


def latest_ok_as_of(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Per segment, the latest as_of at which it was refreshed without failing."""
    rows = con.execute(
        "SELECT name, max(as_of) FROM segment_runs WHERE status = 'ok' GROUP BY name"
    ).fetchall()
    return dict(rows)


def has_history(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether ``name`` has a stored definition version (it was refreshed once)."""
    versions = _segment_versions()
    expr = versions.filter(versions.name == name).select("version").limit(1)
    return bool(_run(con, expr))


def last_runs(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per segment, its run at the latest as_of (the last refresh at that as_of): its
    ``status``, ``size``, ``as_of`` and ``error``."""
    rows = con.execute(
        "SELECT name, arg_max({'status': status, 'size': size, 'as_of': as_of, "
        "'error': error}, {'a': as_of, 'r': refresh_id}) FROM segment_runs GROUP BY name"
    ).fetchall()
    return {name: run for name, run in rows}


def last_good_runs(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[dict[str, Any], int]]:
    """Per segment refreshed without failing: its last good run (``as_of``, ``size``,
    ``entered``, ``exited``, and ``at``, when that refresh ended) and its number of good
    runs."""
    rows = con.execute(
        """
        SELECT r.name,
               arg_max({'as_of': r.as_of, 'size': r.size, 'entered': r.entered,
                        'exited': r.exited,
                        'at': f.started_at + to_microseconds(CAST(f.seconds * 1e6 AS BIGINT))},
                       {'a': r.as_of, 'r': r.refresh_id}) AS run,
               count(*) AS runs
        FROM segment_runs r JOIN refreshes f USING (refresh_id)
        WHERE r.status = 'ok'
        GROUP BY r.name
        """
    ).fetchall()
    return {name: (run, runs) for name, run, runs in rows}


def size_trend(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[datetime, int]]:
    """The size of ``name`` at each as_of it was refreshed at (the last refresh there)."""
    rows = con.execute(
        "SELECT as_of, arg_max(size, refresh_id) FROM segment_runs "
        "WHERE name = ? AND status = 'ok' GROUP BY as_of ORDER BY as_of",
        [name],
    ).fetchall()
    return [(when, int(size)) for when, size in rows]


def version_dates(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[int, datetime]]:
    """Each definition version of ``name`` and the as_of of the refresh that first saw it."""
    rows = con.execute(
        "SELECT v.version, f.as_of FROM segment_versions v JOIN refreshes f "
        "ON f.refresh_id = v.first_refresh_id WHERE v.name = ? ORDER BY v.version",
        [name],
    ).fetchall()
    return [(int(v), when) for v, when in rows]


def member_counts(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> dict[str, int]:
    """The number of stored members of each of ``names`` (0 for a segment without any)."""
    import ibis

    if not names:
        return {}
    members = ibis.table({"name": "string", "pid": "int64"}, name="segment_members")
    chosen = members.filter(members.name.isin(list(names)))
    expr = chosen.group_by("name").aggregate(n=chosen.count())
    found = {row["name"]: int(row["n"]) for row in _run(con, expr)}
    return {n: found.get(n, 0) for n in names}


def shared_members(
    con: duckdb.DuckDBPyConnection, names: Sequence[str]
) -> dict[tuple[str, str], int]:
    """For each pair ``(a, b)`` of ``names`` with ``a < b`` that share stored members,
    how many they share."""
    listed = _names(names) or "NULL"
    rows = con.execute(
        "SELECT a.name, b.name, count(*) FROM segment_members a JOIN segment_members b "
        f"ON a.pid = b.pid AND a.name < b.name WHERE a.name IN ({listed}) "
        f"AND b.name IN ({listed}) GROUP BY ALL"
    ).fetchall()
    return {(a, b): int(n) for a, b, n in rows}


def reachable_members(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Stored members of ``name`` with an email and email consent or a phone and SMS
    consent."""
    import ibis

    members = ibis.table({"name": "string", "pid": "int64"}, name="segment_members")
    from segmint.store.profiles import contacts_table, reachable

    profiles = contacts_table()
    joined = members.filter(members.name == name).join(profiles, "pid")
    reached = joined.filter(reachable(joined))
    rows = _run(con, reached.aggregate(n=reached.count()))
    return int(rows[0]["n"]) if rows else 0


def member_customer_ids(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """The customer ids of the stored members of ``name``."""
    import ibis

    from segmint.store.profiles import contacts_table

    members = ibis.table({"name": "string", "pid": "int64"}, name="segment_members")
    joined = members.filter(members.name == name).join(contacts_table(), "pid")
    return {row["customer_id"] for row in _run(con, joined.select("customer_id"))}


def current_member_refreshes(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Per segment refreshed without failing, the refresh that holds its current members
    (its last good one: history only moves forward)."""
    rows = con.execute(
        "SELECT name, max(refresh_id) FROM segment_runs WHERE status = 'ok' GROUP BY name"
    ).fetchall()
    return {name: int(refresh) for name, refresh in rows}


def refresh_ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Every recorded refresh."""
    return [int(r) for (r,) in con.execute("SELECT refresh_id FROM refreshes").fetchall()]


@dataclass
class LocalMembers:
    """The stored members of saved segments in the workspace's own store (the same reads
    as store/source_segments.py ``SourceMembers`` has on a source)."""

    con: duckdb.DuckDBPyConnection

    def counts(self, names: Sequence[str]) -> dict[str, int]:
        return member_counts(self.con, names)

    def shared(self, names: Sequence[str]) -> dict[tuple[str, str], int]:
        return shared_members(self.con, names)

    def customer_ids(self, name: str) -> set[str]:
        return member_customer_ids(self.con, name)

    def reachable(self, name: str) -> int:
        return reachable_members(self.con, name)

    def contactable(self) -> tuple[int, int]:
        from segmint.store.profiles import contactable_customers

        return contactable_customers(self.con)

    def attribute_frame(self, attributes: list[tuple[str, str]]) -> pd.DataFrame:
        from segmint.store.profiles import attribute_frame

        return attribute_frame(self.con, attributes)

    def changes(self, name: str, since: datetime | None) -> pa.Table:
        from segmint.store.segment_history import changes

        return changes(self.con, name, since)


# The refresh: scratch tables and writes --------------------------------------------------


def evaluate_into(engine: DuckDBEngine, into: str, sql: str, params: Params) -> None:
    """Run the evaluation query ``sql`` (pid and one boolean column per segment) into the
    temporary table ``into`` (``_eval`` for a level, ``_one`` for a segment alone)."""
    if into not in _SCRATCH:
        raise ValueError(f"not an evaluation table: {into!r}")
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS {sql}", params)


def flags_by_customer(engine: DuckDBEngine, sql: str, params: Params) -> pa.Table:
    """The evaluation query ``sql`` (pid and one boolean column per rule) with each pid's
    ``customer_id`` in its place, ordered by ``customer_id`` (Evaluator.flags)."""
    return engine.to_arrow(
        "SELECT p.customer_id, e.* EXCLUDE (pid) FROM profiles p "
        f"JOIN ({sql}) e USING (pid) ORDER BY p.customer_id",
        params,
    )


def start_isolated_evaluation(con: duckdb.DuckDBPyConnection) -> None:
    """An ``_eval`` of every pid and no segment yet, for segments evaluated one by one."""
    con.execute("CREATE OR REPLACE TEMP TABLE _eval AS SELECT pid FROM profiles")


def add_isolated_result(con: duckdb.DuckDBPyConnection, column: str) -> None:
    """Add the segment evaluated alone into ``_one`` to ``_eval`` as ``column``."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _eval AS SELECT e.*, "
        f"coalesce(o.s0, false) AS {_column(column)} FROM _eval e LEFT JOIN _one o USING (pid)"
    )


@dataclass(frozen=True)
class MemberChanges:
    """One segment's result in one refresh: its size, who entered and who exited."""

    size: int
    entered: int
    exited: int


def store_members(
    con: duckdb.DuckDBPyConnection,
    columns: dict[str, str],
    as_of: datetime,
    refresh_id: int,
    touched: bool = False,
) -> dict[str, MemberChanges]:
    """Diff the evaluated segments (``columns``: segment -> its column of ``_eval``) with
    their stored members: record the entries and exits of refresh ``refresh_id`` and
    apply them to the stored members. With ``touched`` (a live update, segments/live.py)
    ``_eval`` holds only the profiles of ``_touched`` and only their membership is
    compared; the sizes are then those of the whole stored segments."""
    names_sql = _names(columns)
    union = " UNION ALL ".join(
        f"SELECT {quote_str(n)} AS name, pid FROM _eval WHERE {_column(c)}"
        for n, c in columns.items()
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _new AS {union}")
    first = not touched and (
        con.execute(f"SELECT 1 FROM segment_members WHERE name IN ({names_sql}) LIMIT 1").fetchone()
        is None
    )
    # On a first refresh of these segments nothing is stored: every member enters.
    entered, exited = ("_new", None) if first else _diff(con, names_sql, touched)
    for source, change in ((entered, "entered"), (exited, "exited")):
        if source is not None:
            con.execute(
                f"INSERT INTO segment_changes SELECT name, pid, '{change}', ?, ? FROM {source}",
                [as_of, refresh_id],
            )
    if exited is not None:
        con.execute(
            f"DELETE FROM segment_members m USING {exited} x "
            "WHERE m.name = x.name AND m.pid = x.pid"
        )
    con.execute(f"INSERT INTO segment_members SELECT name, pid FROM {entered}")
    return _changes(con, names_sql, refresh_id, touched)


def _diff(con: duckdb.DuckDBPyConnection, names_sql: str, touched: bool) -> tuple[str, str]:
    """``_entered`` and ``_exited``: one full join of the new members with the stored ones
    (of the ``_touched`` profiles only, with ``touched``) gives both directions."""
    within = " AND pid IN (SELECT pid FROM _touched)" if touched else ""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _diff AS SELECT coalesce(n.name, m.name) AS name, "
        "coalesce(n.pid, m.pid) AS pid, m.pid IS NULL AS entered FROM _new n FULL JOIN "
        f"(SELECT name, pid FROM segment_members WHERE name IN ({names_sql}){within}) m "
        "ON n.name = m.name AND n.pid = m.pid WHERE n.pid IS NULL OR m.pid IS NULL"
    )
    for table, test in (("_entered", "entered"), ("_exited", "NOT entered")):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT name, pid FROM _diff WHERE {test}"
        )
    return "_entered", "_exited"


def _changes(
    con: duckdb.DuckDBPyConnection, names_sql: str, refresh_id: int, touched: bool = False
) -> dict[str, MemberChanges]:
    moved = (
        "SELECT name, count(*) FILTER (WHERE change = 'entered') AS e, "
        "count(*) FILTER (WHERE change = 'exited') AS x FROM segment_changes "
        f"WHERE refresh_id = ? AND name IN ({names_sql}) GROUP BY name"
    )
    members = (
        f"(SELECT name FROM segment_members WHERE name IN ({names_sql}))" if touched else "_new"
    )
    rows = con.execute(
        "SELECT k.name, coalesce(n.size, 0), coalesce(c.e, 0), coalesce(c.x, 0) FROM "
        f"(SELECT unnest([{names_sql}]) AS name) k "
        f"LEFT JOIN (SELECT name, count(*) AS size FROM {members} GROUP BY name) n "
        f"USING (name) LEFT JOIN ({moved}) c USING (name)",
        [refresh_id],
    ).fetchall()
    return {name: MemberChanges(size, came, left) for name, size, came, left in rows}


def known_version(con: duckdb.DuckDBPyConnection, name: str, fingerprint: str) -> int | None:
    """The latest stored definition version of ``name`` whose rule has ``fingerprint``
    (None when no refresh has seen that rule)."""
    row = con.execute(
        "SELECT max(version) FROM segment_versions WHERE name = ? AND fingerprint = ?",
        [name, fingerprint],
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def definition_version(
    con: duckdb.DuckDBPyConnection, name: str, fingerprint: str, rule: str, refresh_id: int
) -> int:
    """The definition version of ``name`` whose rule has ``fingerprint``: the last stored
    one if it matches, else a new one stored now with its ``rule`` (JSON text)."""
    row = con.execute(
        "SELECT version, fingerprint FROM segment_versions WHERE name = ? "
        "ORDER BY version DESC LIMIT 1",
        [name],
    ).fetchone()
    if row is not None and row[1] == fingerprint:
        return int(row[0])
    version = 1 if row is None else int(row[0]) + 1
    con.execute(
        "INSERT INTO segment_versions VALUES (?, ?, ?, ?, ?, ?)",
        [name, version, fingerprint, rule, refresh_id, datetime.now(UTC)],
    )
    return version


class Run(Protocol):
    """What is stored of one segment's run (segments/refresh.py ``SegmentRun``)."""

    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def size(self) -> int | None: ...
    @property
    def entered(self) -> int | None: ...
    @property
    def exited(self) -> int | None: ...
    @property
    def version(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...


def record_refresh(
    con: duckdb.DuckDBPyConnection,
    refresh_id: int,
    as_of: datetime,
    started_at: datetime,
    seconds: float,
    runs: Sequence[Run],
) -> None:
    """Store refresh ``refresh_id`` and the run of each of its segments."""
    failed = sum(r.status != "ok" for r in runs)
    con.execute(
        "INSERT INTO refreshes VALUES (?, ?, ?, ?, ?, ?)",
        [refresh_id, as_of, started_at, seconds, len(runs), failed],
    )
    con.executemany(
        "INSERT INTO segment_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [refresh_id, r.name, r.version, as_of, r.status, r.error, r.size, r.entered, r.exited]
            for r in runs
        ],
    )


def mark_touched(
    con: duckdb.DuckDBPyConnection,
    customer_ids: list[str],
    anonymous_ids: list[str],
    load_ids: list[int],
) -> int:
    """``_touched``: the profiles a batch of tracking messages changed (a live update,
    segments/live.py): those of its customer ids and anonymous ids now, and both sides
    of the merges its loads made (a merged-away profile leaves its segments). How many."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS "
        "SELECT pid FROM profiles WHERE customer_id IN (SELECT unnest($customers)) UNION "
        "SELECT pid FROM identities WHERE kind = 'anonymous_id' "
        "AND value IN (SELECT unnest($anonymous)) UNION "
        "SELECT merged_pid FROM identity_merges WHERE load_id IN (SELECT unnest($loads)) UNION "
        "SELECT into_pid FROM identity_merges WHERE load_id IN (SELECT unnest($loads))",
        {
            "customers": customer_ids or [""],
            "anonymous": anonymous_ids or [""],
            "loads": load_ids or [-1],
        },
    )
    found = con.execute("SELECT count(*) FROM _touched").fetchone()
    return int(found[0]) if found else 0


def only_touched(sql: str) -> str:
    """An evaluation query (pid and one boolean per segment) kept to ``_touched``."""
    return f"SELECT * FROM ({sql}) WHERE pid IN (SELECT pid FROM _touched)"


def memberships(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every stored member: (pid, name), by pid (the server's look-up index)."""
    table: pa.Table = (
        con.execute("SELECT pid, name FROM segment_members ORDER BY pid, name").arrow().read_all()
    )
    return table


def changes_after(con: duckdb.DuckDBPyConnection, refresh_id: int) -> pa.Table:
    """The entries and exits of refreshes after ``refresh_id``: (refresh_id, name, pid,
    change), oldest first (the look-up index catches up with them)."""
    table: pa.Table = (
        con.execute(
            "SELECT refresh_id, name, pid, change FROM segment_changes WHERE refresh_id > ? "
            "ORDER BY refresh_id, change DESC",
            [refresh_id],
        )
        .arrow()
        .read_all()
    )
    return table


def last_refresh_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(max(refresh_id), 0) FROM segment_changes").fetchone()
    return int(row[0]) if row else 0


def profile_keys(
    con: duckdb.DuckDBPyConnection,
    customer_ids: list[str] | None = None,
    anonymous_ids: list[str] | None = None,
) -> pa.Table:
    """The ids a profile is looked up by: (kind, value, pid) with kind ``customer_id``,
    ``email`` or ``anonymous_id``; everyone's, or only the profiles of the given ids."""
    if customer_ids is None and anonymous_ids is None:
        chosen = "true"
        params: dict[str, Any] = {}
    else:
        chosen = (
            "pid IN (SELECT pid FROM profiles WHERE customer_id IN (SELECT unnest($c)) UNION "
            "SELECT pid FROM identities WHERE kind = 'anonymous_id' "
            "AND value IN (SELECT unnest($a)))"
        )
        params = {"c": customer_ids or [""], "a": anonymous_ids or [""]}
    table: pa.Table = (
        con.execute(
            "SELECT 'customer_id' AS kind, customer_id AS value, pid FROM profiles "
            f"WHERE customer_id IS NOT NULL AND {chosen} UNION ALL "
            f"SELECT kind, value, pid FROM identities WHERE {chosen}",
            params,
        )
        .arrow()
        .read_all()
    )
    return table
