"""Opening the workspace's DuckDB file with the session settings segmint relies on, and
the commit marker that makes every write whole under a kill (docs/crash-safety.md).

Settings go to DuckDB as a configuration mapping, never pasted into SQL, so neither a value
in ``segmint.toml`` nor a path with a quote in it can change what runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.config import StoreConfig
from segmint.errors import StoreFullError, WorkspaceBusyError, WorkspaceError

if TYPE_CHECKING:
    import duckdb

DB_FILE = "segmint.duckdb"
LOCK_FILE = "segmint.lock"
# The note a running ``segmint serve`` leaves in its workspace (server/app.py): its pid and
# URL, for the message of a command that finds the workspace taken.
SERVER_NOTE = "server.json"
# Present while a write transaction is between its start and its checkpoint.
MARKER_FILE = "segmint.duckdb.commit"


@dataclass
class _Held:
    """This process's hold on one workspace: the lock's file descriptor and how many
    connections share it (DuckDB lets one process connect to a file several times)."""

    fd: int
    users: int
    marker: Path
    read_only: bool


_HELD: dict[Path, _Held] = {}
_BY_CONNECTION: dict[int, Path] = {}


def connect(
    root: Path, settings: StoreConfig, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Connect to ``root/segmint.duckdb`` in UTC with the configured memory limit.

    The first connection of a process takes the workspace lock (``segmint.lock``):
    exclusive to write, shared to read (several readers may work together; a writer waits
    for none of them and is refused while one reads). When a commit marker says that a
    write was cut off, it first drops what that write left in the write-ahead log, so the
    database opens as it was before it.
    """
    import duckdb

    path = (root / DB_FILE).resolve()
    if read_only and not path.is_file():
        raise WorkspaceError(f"{path} does not exist; create the workspace with segmint init")
    _hold(path, read_only)
    config: dict[str, Any] = {
        "memory_limit": settings.memory_limit,
        "temp_directory": str(root / "tmp"),
    }
    if settings.threads:
        config["threads"] = settings.threads
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.Error as exc:
        _let_go(path)
        raise open_error(path, exc) from exc
    _BY_CONNECTION[id(con)] = path
    # Naive timestamps in input mean UTC (DESIGN section 3); the session zone decides that.
    # (TimeZone belongs to the ICU extension, which cannot be set before it loads.)
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB never prints its own bar; progress tracking is switched on only while a
    # visible progress bar polls it (ingest/duckdb/context.py), as tracking costs ~10 %.
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET progress_bar_time = 0")
    return con


def is_read_only(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` was opened read-only by :func:`connect`."""
    path = _BY_CONNECTION.get(id(con))
    return path is not None and path in _HELD and _HELD[path].read_only


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Close a connection from :func:`connect` and let go of the workspace lock when it
    was the process's last one."""
    path = _BY_CONNECTION.pop(id(con), None)
    con.close()
    if path is not None:
        _let_go(path)


def marker_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The commit marker of the workspace ``con`` belongs to (None for other connections)."""
    path = _BY_CONNECTION.get(id(con))
    return _HELD[path].marker if path is not None and path in _HELD else None


def _hold(path: Path, read_only: bool) -> None:
    held = _HELD.get(path)
    if held is not None:
        if held.read_only != read_only:
            mode = "read-only" if held.read_only else "for writing"
            raise WorkspaceError(
                f"{path} is already open {mode} in this process; close that workspace "
                "before opening it the other way"
            )
        held.users += 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.parent / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    marker = path.with_name(MARKER_FILE)
    try:
        _lock(fd, path, exclusive=not read_only or marker.exists())
        _recover(path, marker)
        if read_only:
            fcntl.flock(fd, fcntl.LOCK_SH)  # recovered (if need be): now share it
    except BaseException:
        os.close(fd)
        raise
    _HELD[path] = _Held(fd, 1, marker, read_only)


def _lock(fd: int, path: Path, exclusive: bool) -> None:
    """Take the workspace lock without waiting; the error says who holds it."""
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        try:  # only readers hold it when a shared lock is still possible
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            readers = True
        except BlockingIOError:
            readers = False
        server = serving(path.parent, holder)
        if server is not None:
            message = (
                f"a segmint server (process {holder}) owns this workspace and serves it at "
                f"{server}: use its HTTP API ({server}/docs), or stop it first"
            )
        elif readers:
            message = (
                f"{path} is open for reading by another process (a notebook or a command "
                "that reads); close it, then write"
            )
        else:
            by = f"process {holder}" if holder.isdigit() else "another process"
            message = (
                f"{path} is in use by {by}; wait for it to finish (only one segmint "
                "command can write to a workspace at a time)"
            )
        raise WorkspaceBusyError(message) from None
    if exclusive:
        # The writer's pid, for the message above (the lock itself is the flock).
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)


def serving(folder: Path, holder: str) -> str | None:
    """The URL of the ``segmint serve`` process ``holder`` that holds the workspace in
    ``folder`` (its note, ``SERVER_NOTE``), or None when it is no server."""
    import json

    try:
        note = json.loads((folder / SERVER_NOTE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(note, dict) or str(note.get("pid")) != holder.strip():
        return None
    url = note.get("url")
    return url if isinstance(url, str) else None


def _let_go(path: Path) -> None:
    held = _HELD.get(path)
    if held is None:
        return
    held.users -= 1
    if held.users == 0:
        del _HELD[path]
        os.close(held.fd)  # closing the descriptor releases the flock


def _recover(path: Path, marker: Path) -> None:
    """A marker left behind means a write was cut off between its start and its
    checkpoint: whatever it put in the write-ahead log (nothing, part of its commit, or
    all of it) is dropped, which leaves the database file as it was before that write.
    DuckDB 1.5 may replay part of a commit cut off mid-way, so it must never see that log."""
    if not marker.exists():
        return
    for log in path.parent.glob(path.name + ".wal*"):
        log.unlink()
    marker.unlink()
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make the creation, renaming or removal of files in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def wal_is_empty(path: Path) -> bool:
    """Whether the write-ahead log of the database at ``path`` holds nothing."""
    with contextlib.suppress(FileNotFoundError):
        return (path.parent / (path.name + ".wal")).stat().st_size == 0
    return True


def open_error(path: Path, exc: Exception) -> WorkspaceError:
    """What to tell a user whose workspace database cannot be opened."""
    text = str(exc)
    if "Could not set lock" in text:
        holder = text.split("(PID ", 1)[1].split(")", 1)[0] if "(PID " in text else None
        by = f"process {holder}" if holder and holder.isdigit() else "another process"
        return WorkspaceBusyError(
            f"{path} is in use by {by}; wait for it to finish (only one segmint command "
            "can write to a workspace at a time)"
        )
    if "No space left on device" in text:
        return StoreFullError(f"no space left on device to open {path}; the workspace is unchanged")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return WorkspaceError(
        f"{path} cannot be opened as a DuckDB database ({first}); it is damaged or not a "
        "segmint workspace file: restore it from a backup"
    )
