"""What segment and cluster work needs from a workspace, and nothing more.

The façade (workspace.py) builds a :class:`SegmentContext` for each call; the subsystems
below it (refresh, quality and review, reports, listings, cluster runs) take this instead
of the ``Workspace``, so no layer below the façade knows it (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from segmint.config import Config
    from segmint.segments.query import Evaluator
    from segmint.segments.registry import Registry
    from segmint.store.segments import LocalMembers
    from segmint.store.source_segments import SourceMembers
    from segmint.store.source_state import SourceState

# The attributes that say whether a customer can be reached (store/profiles.py).
CONTACT_COLUMNS = frozenset({"email", "email_consent", "phone", "sms_consent"})


@dataclass(frozen=True)
class SegmentContext:
    """The workspace's connection and configuration, its saved segment files, a way to
    get an evaluator of rules (with the catalog as it is now), the computed traits of
    everyone at an as_of and, on a source, segmint's tables there."""

    con: duckdb.DuckDBPyConnection
    config: Config
    segments: Registry
    evaluator: Callable[[], Evaluator]
    traits: Callable[[datetime], pa.Table]
    # On a source-mode workspace: segmint's own tables on the source (None otherwise).
    source_state: Callable[[], SourceState] | None = None

    def members(self) -> LocalMembers | SourceMembers:
        """The saved segments' stored members: in the workspace's store, or on the source
        (each segment's current version there, as this store records it)."""
        from segmint.store import segments as store

        if self.source_state is None:
            return store.LocalMembers(self.con)
        from segmint.store.source_segments import SourceMembers

        contact = {
            name: info.column
            for name, info in self.evaluator().catalog.attributes.items()
            if name in CONTACT_COLUMNS and not info.trait
        }
        return SourceMembers(
            self.source_state(),
            store.current_member_refreshes(self.con),
            store.refresh_ids(self.con),
            contact,
        )
