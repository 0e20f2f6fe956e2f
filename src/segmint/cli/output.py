"""Terminal output for the CLI: errors on one line, rich progress only on a terminal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID


def stderr_console() -> Console:
    """A rich console on stderr (progress and messages never mix with data on stdout)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """Print ``error: message`` to stderr: one line, plus the source line and a caret
    when the message points into text (rule syntax errors)."""
    text = message.strip() or "unknown error"
    print(f"error: {text}", file=sys.stderr)


def internal_error(exc: BaseException) -> None:
    """Report an exception that is not a :class:`SegmintError`: a bug in segmint, not a
    mistake of the user, so it says so and how to get the traceback for a report."""
    what = f"{type(exc).__name__}: {exc}".splitlines()[0]
    print(
        f"error: internal error ({what}); this is a bug in segmint: please report it with "
        "the traceback that the same command shows with --debug",
        file=sys.stderr,
    )


class TerminalProgress:
    """A :class:`segmint.console.Progress` drawing a rich progress bar on a terminal."""

    def __init__(self) -> None:
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    def _ensure(self) -> RichProgress:
        if self._bar is None:
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=stderr_console(),
                transient=True,
            )
            self._bar.start()
        return self._bar

    def phase(self, name: str, total: float | None = None) -> None:
        bar = self._ensure()
        if self._task is not None:
            bar.remove_task(self._task)
        self._task = bar.add_task(name, total=total)

    def advance(self, completed: float) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=completed)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._task = None


def progress_for_stderr() -> Any:
    """A terminal progress bar when stderr is a terminal, else the silent default."""
    from segmint.console import SilentProgress

    return TerminalProgress() if sys.stderr.isatty() else SilentProgress()
