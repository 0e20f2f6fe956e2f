"""The personalisation look-up (docs/server.md, "Look-ups"): ``GET
/v1/profiles/{id}/segments`` and ``/traits`` answered from memory.

The index maps each id a profile is looked up by (its customer id, ``email:...``,
``anonymous:...``) to the profile, and each profile to the segments it is in. It is built
from the store when the server starts (``Workspace.profile_keys`` and ``memberships``)
and kept current by the server: after each micro-batch it takes the ids of that batch's
profiles (new customers, ties, merges), and after each live update or refresh the entries
and exits it recorded (``memberships(after=...)``), so a look-up never touches the store
and never waits for it. Traits are a table of everyone's computed traits at the last
refresh of the server's sweep, read by row.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from segmint.workspace import Workspace

PREFIXES = {"email:": "email", "anonymous:": "anonymous_id"}


class LookupIndex:
    """Ids to profiles, profiles to segments (and traits), in memory."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], int] = {}
        self._customer: dict[int, str] = {}
        self._segments: dict[int, tuple[str, ...]] = {}
        self._last_refresh = 0
        # Everyone's traits as the sweep computed them (Arrow, read a row at a time: a
        # million Python dicts would hold the interpreter for seconds) and each
        # customer's row in it.
        self._traits: pa.Table | None = None
        self._trait_rows: dict[str, int] = {}
        self._traits_as_of: str | None = None
        # Readers take no lock (a dict read sees the old or the new value); writers, the
        # server's threads, take this one.
        self._write = threading.Lock()

    # -- reading (request handlers) -----------------------------------------------------

    def find(self, key: str) -> int | None:
        for prefix, kind in PREFIXES.items():
            if key.startswith(prefix):
                value = key[len(prefix) :]
                return self._keys.get((kind, value.lower() if kind == "email" else value))
        return self._keys.get(("customer_id", key))

    def segments(self, pid: int) -> tuple[str, ...]:
        return self._segments.get(pid, ())

    def customer_id(self, pid: int) -> str | None:
        return self._customer.get(pid)

    def traits(self, customer_id: str) -> dict[str, Any] | None:
        table, row = self._traits, self._trait_rows.get(customer_id)
        if table is None or row is None:
            return None
        found: dict[str, Any] = table.slice(row, 1).to_pylist()[0]
        found.pop("customer_id", None)
        return found

    @property
    def traits_as_of(self) -> str | None:
        return self._traits_as_of

    # -- writing (the server's threads, with the store lock held) -----------------------

    def load(self, ws: Workspace) -> None:
        """Everything, from the store."""
        keys = ws.profile_keys()
        members = ws.memberships()
        with self._write:
            self._keys.clear()
            self._customer.clear()
            self._add_keys(keys)
            grouped: dict[int, list[str]] = {}
            for pid, name in zip(
                members.column("pid").to_pylist(), members.column("name").to_pylist(), strict=True
            ):
                grouped.setdefault(pid, []).append(name)
            self._segments = {pid: tuple(names) for pid, names in grouped.items()}
            self._last_refresh = self._latest(ws)

    def add_profiles(
        self, ws: Workspace, customer_ids: list[str], anonymous_ids: list[str]
    ) -> None:
        """The ids of the profiles of a micro-batch (new ones, ties, merges)."""
        keys = ws.profile_keys(customer_ids, anonymous_ids)
        with self._write:
            self._add_keys(keys)

    def catch_up(self, ws: Workspace) -> int:
        """Apply the entries and exits recorded since the last look; how many."""
        changes = ws.memberships(after=self._last_refresh)
        if not changes.num_rows:
            return 0
        with self._write:
            for refresh_id, name, pid, change in zip(
                *(changes.column(c).to_pylist() for c in ("refresh_id", "name", "pid", "change")),
                strict=True,
            ):
                now = set(self._segments.get(pid, ()))
                if change == "entered":
                    now.add(name)
                else:
                    now.discard(name)
                if now:
                    self._segments[pid] = tuple(sorted(now))
                else:
                    self._segments.pop(pid, None)
                self._last_refresh = max(self._last_refresh, int(refresh_id))
        return int(changes.num_rows)

    def load_traits(self, table: pa.Table, as_of: str) -> None:
        ids = table.column("customer_id").to_pylist()
        rows = dict(zip(ids, range(len(ids)), strict=True))
        with self._write:
            self._traits, self._trait_rows = table, rows
            self._traits_as_of = as_of

    def _add_keys(self, keys: pa.Table) -> None:
        for kind, value, pid in zip(
            *(keys.column(c).to_pylist() for c in ("kind", "value", "pid")), strict=True
        ):
            self._keys[(kind, value)] = pid
            if kind == "customer_id":
                self._customer[pid] = value

    @staticmethod
    def _latest(ws: Workspace) -> int:
        changes = ws.memberships(after=0)
        ids: Iterable[int] = changes.column("refresh_id").to_pylist()
        return max(ids, default=0)
