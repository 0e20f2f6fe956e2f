"""Write transactions: every write path begins, commits and rolls back through here.

One place decides what a failed write tells the user (a full disk says so, and that the
workspace is unchanged) and where the crash-safety tests may kill the process
(``kill_point``): just before COMMIT and just after it. Kills inside COMMIT are the tests'
business (they watch the write-ahead log); docs/crash-safety.md says what holds and why.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING

from segmint.errors import StoreFullError

if TYPE_CHECKING:
    import duckdb

# Fault injection for tests/faults: the process kills itself with SIGKILL at the named point.
KILL_AT_ENV = "SEGMINT_KILL_AT"


def kill_point(name: str) -> None:
    """SIGKILL this process when ``$SEGMINT_KILL_AT`` names this point (tests only)."""
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, what: str, doing: str | None = None
) -> Iterator[None]:
    """Run the body in one transaction named ``what`` (e.g. ``ingest``, the prefix of its
    kill points); roll back on any exception, and turn a full disk into
    :class:`StoreFullError` saying what was being done (``doing``, default ``what``)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        kill_point(f"{what}:before-commit")
        con.execute("COMMIT")
    except BaseException as exc:
        rollback(con)
        if is_disk_full(exc):
            raise disk_full(doing or what) from exc
        raise
    kill_point(f"{what}:after-commit")


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
