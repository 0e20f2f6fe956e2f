"""The saved segments as listed: each definition (or its file's error), sizes, states."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from segmint.segments.refresh import SegmentState
    from segmint.segments.registry import SegmentDefinition


@dataclass(frozen=True)
class BrokenFile:
    """A segment file that cannot be read, listed with its error."""

    name: str
    error: str


@dataclass(frozen=True)
class SegmentListing:
    """Every saved segment by name (a :class:`BrokenFile` where the file cannot be read);
    ``sizes`` counted now at ``as_of`` when asked for (None where a rule fails), else None;
    ``states`` the last refresh of every segment with a file or a history."""

    segments: list[SegmentDefinition | BrokenFile]
    sizes: dict[str, int | None] | None
    states: dict[str, SegmentState]
    as_of: datetime | None = None
