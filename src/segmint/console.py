"""Progress reporting without printing: the core reports, front-ends decide how to show it.

The core calls a :class:`Progress`; the CLI passes one backed by rich on a terminal and the
silent default everywhere else (pipes, notebooks, the server).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives the phases and progress of long work."""

    def phase(self, name: str, total: float | None = None) -> None:
        """A new phase starts; ``total`` is its size when known (else a spinner)."""

    def advance(self, completed: float) -> None:
        """The current phase has reached ``completed`` (same unit as ``total``)."""

    def done(self) -> None:
        """All work is finished."""


class SilentProgress:
    """The default: reports nothing."""

    def phase(self, name: str, total: float | None = None) -> None:
        return None

    def advance(self, completed: float) -> None:
        return None

    def done(self) -> None:
        return None
