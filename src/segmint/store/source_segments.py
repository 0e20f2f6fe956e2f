"""The living segments of a source-mode workspace, in the source's engine: a refresh's
evaluation, its members and its entries and exits (store/source_state.py versions), and
the reads of them (sizes, overlaps, reach, history).

A refresh ``R`` evaluates each level of segments into a temporary table of the session
(``pid`` and one boolean per segment), gathers its members into ``_new_<level>``, and
when every level is done writes version ``R`` of ``segment_members`` (who is in each
refreshed segment) and of ``segment_changes`` (the diff with each segment's current
members: one full join gives both directions). The workspace's DuckDB file records the
refresh afterwards, and that record is what makes version ``R`` the current members of
those segments (``current_members`` below takes the pointers from it).

Segment names go into the SQL as literals; they are checked by the registry
(``[a-z0-9][a-z0-9_-]*``) and quoted here. Evaluation columns are checked to be ``s<n>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from segmint.engine.sqltext import plain_name, quote_str
from segmint.store.source import instant
from segmint.store.txn import kill_point

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from segmint.store.source_state import SourceState

_COLUMN = re.compile(r"s[0-9]+")


def _column(value: str) -> str:
    if not _COLUMN.fullmatch(value):
        raise ValueError(f"not an evaluation column: {value!r}")
    return value


# The refresh ----------------------------------------------------------------------------


def start_refresh(state: SourceState) -> None:
    """Drop the session's ``segment_members`` view of an earlier refresh (PostgreSQL
    refuses to replace the tables a view reads)."""
    where = "pg_temp." if state.engine.name == "postgres" else ""
    state.engine.run(f"DROP VIEW IF EXISTS {where}segment_members")


def evaluate_into(state: SourceState, table: str, query: Any) -> None:
    """Run an evaluation (an Ibis expression: ``pid`` and ``s0``, ``s1``, ...) into the
    session's temporary table ``table``."""
    state.engine.create_table(plain_name(table), query, temporary=True)


def gather_level(state: SourceState, level: int, columns: Mapping[str, tuple[str, str]]) -> None:
    """``_new_<level>``: the members of each segment of a level (``columns``: segment ->
    (its evaluation table, its column)), as ``name`` and ``pid``."""
    parts = [
        f"SELECT {quote_str(name)} AS name, pid FROM {plain_name(table)} WHERE {_column(column)}"
        for name, (table, column) in columns.items()
    ]
    union = " UNION ALL ".join(parts) or "SELECT 'none' AS name, 'none' AS pid WHERE 1 = 0"
    state.engine.create_table(f"_new_{int(level)}", union, temporary=True)


def _new_members(levels: int) -> str:
    return " UNION ALL ".join(f"SELECT name, pid FROM _new_{i}" for i in range(levels))


def show_new_members(state: SourceState, levels: int) -> None:
    """The session's ``segment_members`` view: the members found so far in this refresh,
    which the next level's references read (rules/compile.py, ``Compiler.many``)."""
    state.engine.run(f"CREATE OR REPLACE TEMP VIEW segment_members AS {_new_members(levels)}")


@dataclass(frozen=True)
class SourceChanges:
    """One segment's result in one refresh on a source."""

    size: int
    entered: int
    exited: int


def write_refresh(
    state: SourceState,
    refresh_id: int,
    levels: int,
    names: Sequence[str],
    current: Mapping[str, int],
    as_of: datetime,
) -> dict[str, SourceChanges]:
    """Write version ``refresh_id`` of the members and of the entries and exits of
    ``names`` (gathered in ``levels`` levels), diffed with their ``current`` members
    (segment -> the refresh that holds them), and count them."""
    state.write("segment_members", refresh_id, _new_members(levels))
    kill_point("refresh:source-members-written")
    new = state.rows("segment_members", [refresh_id])
    old = _members_of(state, {n: v for n, v in current.items() if n in names})
    diff = (
        "SELECT coalesce(n.name, m.name) AS name, coalesce(n.pid, m.pid) AS pid, "
        "CASE WHEN m.pid IS NULL THEN 'entered' ELSE 'exited' END AS change, "
        f"{instant(state.engine.name, as_of)} AS as_of FROM {new} n FULL JOIN {old} m "
        "ON n.name = m.name AND n.pid = m.pid WHERE n.pid IS NULL OR m.pid IS NULL"
    )
    state.write("segment_changes", refresh_id, diff)
    sizes = state.engine.to_arrow(f"SELECT name, count(*) AS n FROM {new} s GROUP BY name")
    moved = state.engine.to_arrow(
        "SELECT name, change, count(*) AS n FROM "
        f"{state.rows('segment_changes', [refresh_id])} c GROUP BY name, change"
    )
    size = {r["name"]: int(r["n"]) for r in sizes.to_pylist()}
    counts = {(r["name"], r["change"]): int(r["n"]) for r in moved.to_pylist()}
    return {
        n: SourceChanges(
            size.get(n, 0), counts.get((n, "entered"), 0), counts.get((n, "exited"), 0)
        )
        for n in names
    }


def refresh_changes(state: SourceState, refresh_id: int) -> pa.Table:
    """The entries and exits of refresh ``refresh_id`` (``name``, ``customer_id``,
    ``change``, ``refresh_id``), for the webhook outbox (store/webhooks.py)."""
    changes = state.rows("segment_changes", [refresh_id])
    return state.engine.to_arrow(
        f"SELECT c.name, c.pid AS customer_id, c.change, c.v AS refresh_id FROM {changes} c"
    )


def _members_of(state: SourceState, pointers: Mapping[str, int]) -> str:
    """SQL a FROM clause reads: ``name`` and ``pid`` of each segment's members in the
    version ``pointers`` names for it (no rows without pointers)."""
    if not pointers:
        return "(SELECT name, pid FROM " + state.rows("segment_members", []) + " r)"
    chosen = " OR ".join(
        f"(r.name = {quote_str(n)} AND r.v = {int(v)})" for n, v in sorted(pointers.items())
    )
    rows = state.rows("segment_members", set(pointers.values()))
    return f"(SELECT r.name, r.pid FROM {rows} r WHERE {chosen})"


def drop_unused(state: SourceState, current: Mapping[str, int]) -> None:
    """Drop the member versions no segment's current members are in (older refreshes,
    and what a refresh killed before its commit left)."""
    state.drop("segment_members", state.versions("segment_members") - set(current.values()))


# Reads --------------------------------------------------------------------------------


@dataclass
class SourceMembers:
    """The stored members of saved segments on a source: each segment's current version
    (``current``: segment -> refresh id, from the workspace's record of its refreshes)."""

    state: SourceState
    current: Mapping[str, int]
    # Every refresh the workspace recorded (the versions of the history that count).
    refreshes: Sequence[int] = ()
    # The customers columns that say whether a customer can be reached, when the source
    # has them (email, email_consent, phone, sms_consent), else None.
    contact: Mapping[str, str] | None = None

    def _of(self, names: Sequence[str]) -> str:
        return _members_of(self.state, {n: v for n, v in self.current.items() if n in names})

    def counts(self, names: Sequence[str]) -> dict[str, int]:
        if not names:
            return {}
        rows = self.state.engine.to_arrow(
            f"SELECT name, count(*) AS n FROM {self._of(names)} m GROUP BY name"
        ).to_pylist()
        found = {r["name"]: int(r["n"]) for r in rows}
        return {n: found.get(n, 0) for n in names}

    def shared(self, names: Sequence[str]) -> dict[tuple[str, str], int]:
        members = self._of(names)
        rows = self.state.engine.to_arrow(
            f"SELECT a.name AS a, b.name AS b, count(*) AS n FROM {members} a JOIN {members} b "
            "ON a.pid = b.pid AND a.name < b.name GROUP BY a.name, b.name"
        ).to_pylist()
        return {(r["a"], r["b"]): int(r["n"]) for r in rows}

    def customer_ids(self, name: str) -> set[str]:
        rows = self.state.engine.to_arrow(f"SELECT pid FROM {self._of([name])} m")
        return {str(v) for v in rows.column(0).to_pylist()}

    def _reachable_test(self, alias: str) -> str | None:
        """An email with email consent or a phone with SMS consent, from the columns the
        source has (None when it has neither pair)."""
        c, q = self.contact or {}, _quoter(self.state)
        tests = [
            f"({alias}.{q(c[address])} IS NOT NULL AND {alias}.{q(c[consent])})"
            for address, consent in (("email", "email_consent"), ("phone", "sms_consent"))
            if address in c and consent in c
        ]
        return f"({' OR '.join(tests)})" if tests else None

    def reachable(self, name: str) -> int:
        test = self._reachable_test("p")
        if test is None:
            return 0
        return int(
            self.state.engine.scalar(
                f"SELECT count(*) FROM {self._of([name])} m JOIN profiles p ON p.pid = m.pid "
                f"WHERE {test}"
            )
            or 0
        )

    def contactable(self) -> tuple[int, int]:
        test = self._reachable_test("p") or "(1 = 0)"
        row = self.state.engine.to_arrow(
            f"SELECT count(CASE WHEN {test} THEN 1 END) AS r, count(*) AS n FROM profiles p"
        ).to_pylist()[0]
        return int(row["r"] or 0), int(row["n"] or 0)

    def attribute_frame(self, attributes: list[tuple[str, str]]) -> pd.DataFrame:
        q = _quoter(self.state)
        select = "".join(f", {q(c)} AS {q(n)}" for n, c in attributes)
        table = self.state.engine.to_arrow(f"SELECT customer_id{select} FROM profiles")
        return table.to_pandas()

    def changes(self, name: str, since: datetime | None) -> pa.Table:
        """Every entry and exit of ``name`` in the recorded refreshes (since ``since``):
        ``customer_id``, ``change``, ``as_of``, oldest first."""
        import pyarrow as pa

        after = "" if since is None else f" AND c.as_of >= {instant(self.state.engine.name, since)}"
        changes = self.state.rows("segment_changes", self.refreshes)
        table = self.state.engine.to_arrow(
            f"SELECT c.pid AS customer_id, c.change, c.as_of FROM {changes} c "
            f"WHERE c.name = {quote_str(name)}{after} ORDER BY c.as_of, c.change, c.pid"
        )
        schema = pa.schema(
            [
                ("customer_id", pa.string()),
                ("change", pa.string()),
                ("as_of", pa.timestamp("us", tz="UTC")),
            ]
        )
        return table.cast(schema)


def _quoter(state: SourceState) -> Any:
    mark = "`" if state.engine.name == "spark" else '"'
    return lambda name: mark + plain_name(name) + mark
