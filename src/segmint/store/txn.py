"""Write transactions: every write path begins, commits and rolls back through here.

One place keeps the commit marker that makes a write whole under a kill, decides what a
failed write tells the user (a full disk says so, and that the workspace is unchanged) and
where the crash-safety tests may kill the process (``kill_point``): before COMMIT, after
it, and after the checkpoint. Kills inside COMMIT are the tests' business (they watch the
write-ahead log); docs/crash-safety.md says what holds and why.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from segmint.errors import StoreFullError, WorkspaceError
from segmint.store.db import DB_FILE, is_read_only, marker_of, sync_folder, wal_is_empty

if TYPE_CHECKING:
    import duckdb

# Fault injection for tests/faults: the process kills itself with SIGKILL at the named point.
KILL_AT_ENV = "SEGMINT_KILL_AT"


def kill_point(name: str) -> None:
    """SIGKILL this process when ``$SEGMINT_KILL_AT`` names this point (tests only)."""
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class InterruptedAfterCommit(KeyboardInterrupt):
    """Ctrl-C came while a write was committing; it was let finish, and is kept."""


@contextlib.contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, what: str, doing: str | None = None
) -> Iterator[None]:
    """Run the body in one transaction named ``what`` (e.g. ``ingest``, the prefix of its
    kill points); roll back on any exception, and turn a full disk into
    :class:`StoreFullError` saying what was being done (``doing``, default ``what``).

    Around it, the commit marker (store/db.py): the log is checkpointed empty, the marker
    written, the transaction committed and checkpointed, the marker removed. A process
    killed anywhere in between leaves the marker, and the next open drops the log. Ctrl-C
    during the commit is held back until it is done, then raised as
    :class:`InterruptedAfterCommit`."""
    if is_read_only(con):
        raise WorkspaceError(
            f"this workspace is open read-only; {doing or what} writes to it: open it for "
            "writing (segmint.open(path) without read_only=True)"
        )
    marker = marker_of(con)
    try:
        if marker is not None:
            con.execute("CHECKPOINT")
            _write_marker(marker, what)
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            kill_point(f"{what}:before-commit")
        except BaseException:
            rollback(con)
            raise
        with _held_back_interrupts() as interrupted:
            _commit(con, what, marker)
    except BaseException as exc:
        # A failed write leaves the log empty (DuckDB rolls back a COMMIT it could not
        # write); if it does not, the marker stays and the next open drops the log.
        if marker is not None and wal_is_empty(marker.with_name(DB_FILE)):
            _remove_marker(marker)
        if is_disk_full(exc):
            raise disk_full(doing or what) from exc
        if _is_interrupt(exc):
            raise KeyboardInterrupt from exc
        raise
    if interrupted:
        raise InterruptedAfterCommit


def _commit(con: duckdb.DuckDBPyConnection, what: str, marker: Path | None) -> None:
    try:
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    kill_point(f"{what}:after-commit")
    if marker is not None:
        con.execute("CHECKPOINT")
        kill_point(f"{what}:after-checkpoint")
        _remove_marker(marker)


@contextlib.contextmanager
def _held_back_interrupts() -> Iterator[list[int]]:
    """Note SIGINT instead of raising it (main thread only; elsewhere no SIGINT arrives)."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def _is_interrupt(exc: BaseException) -> bool:
    import duckdb

    return isinstance(exc, duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and "Query interrupted" in str(exc)
    )


def _write_marker(marker: Path, what: str) -> None:
    with marker.open("w", encoding="utf-8") as fh:
        fh.write(f"{what} {os.getpid()}\n")
        fh.flush()
        os.fsync(fh.fileno())
    sync_folder(marker.parent)


def _remove_marker(marker: Path) -> None:
    marker.unlink(missing_ok=True)
    sync_folder(marker.parent)


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is open (a failed COMMIT has already rolled back)."""
    import duckdb

    with contextlib.suppress(duckdb.Error):
        con.execute("ROLLBACK")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a write that found no space left on the device."""
    if isinstance(exc, OSError) and exc.errno == 28:
        return True
    return "No space left on device" in str(exc)


def disk_full(what: str) -> StoreFullError:
    """The error for a write that ran out of disk space and was rolled back."""
    return StoreFullError(
        f"no space left on device during {what}; nothing was written and the workspace is "
        "unchanged (free some disk space and run it again)"
    )
