"""Backfill planning: the past dates a backfill refreshes at, and the step between them.

The messages name the command-line options (``--from``, ``--to``, ``--every``), which the
façade's ``start``, ``end`` and ``every`` stand for.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from segmint.errors import ArgumentError

DURATION = re.compile(r"(\d+)([smhdw])")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# The longest --every: a schedule or a backfill step of a year at most (longer ones are
# typos, and time arithmetic on them overflows).
MAX_EVERY = timedelta(days=366)
# The most refreshes one --backfill runs (a year of hours is 8,784).
MAX_BACKFILL = 10_000


def parse_duration(text: str) -> timedelta:
    """``1h``, ``30m``, ``7d``, ``1d12h``: a positive duration of at most a year.

    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    """
    parts = DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ArgumentError(
            f"--every: expected a duration like 1h, 30m, 7d or 1d12h, got {_shown(text)}",
            "--every",
        )
    longest = MAX_EVERY.total_seconds()
    # Each part is checked before the sum, so a number of any length never gets converted.
    if any(len(n.lstrip("0")) > 12 or int(n) * UNITS[u] > longest for n, u in parts):
        raise ArgumentError(
            f"--every: must be at most {MAX_EVERY.days}d, got {_shown(text)}", "--every"
        )
    seconds = sum(int(n) * UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ArgumentError(f"--every: must be longer than 0, got {_shown(text)}", "--every")
    if seconds > longest:
        raise ArgumentError(
            f"--every: must be at most {MAX_EVERY.days}d, got {_shown(text)}", "--every"
        )
    return timedelta(seconds=seconds)


def _shown(text: str) -> str:
    """A user's text in a message: quoted, and cut short."""
    return repr(text) if len(text) <= 40 else repr(text[:37]) + "..."


def plan_backfill(
    start: datetime | str, end: datetime | str, every: timedelta | str = "7d"
) -> list[datetime]:
    """``start``, ``start + every``, ... up to ``end`` (dates or instants, as ``as_of``):
    at most :data:`MAX_BACKFILL` dates.

    >>> [d.day for d in plan_backfill("2026-01-01", "2026-01-15")]
    [1, 8, 15]
    """
    from segmint.segments.query import parse_as_of

    first, last = parse_as_of(start, "--from"), parse_as_of(end, "--to")
    step = parse_duration(every) if isinstance(every, str) else every
    if last < first:
        raise ArgumentError(f"--to ({_text(end)}) is before --from ({_text(start)})", "--to")
    return backfill_dates(first, last, step)


def _text(value: datetime | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def backfill_dates(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """``start``, ``start + step``, ... up to ``end``: at most :data:`MAX_BACKFILL`."""
    count = (end - start) // step + 1
    if count > MAX_BACKFILL:
        raise ArgumentError(
            f"--backfill: {count:,} refreshes from --from to --to at --every "
            f"{_duration_text(step)}; at most {MAX_BACKFILL:,} (use a longer --every or a "
            "shorter range)",
            "--backfill",
        )
    return [start + i * step for i in range(count)]


def _duration_text(step: timedelta) -> str:
    seconds = int(step.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"
