"""The tracking journal: messages the HTTP server acknowledged, on disk before the
acknowledgement, until the store has them (docs/server.md, "Durable acknowledgement").

A folder ``journal/`` in the workspace holds numbered segment files of JSON Lines (one
message a line) and ``applied``, the position up to which the store has applied them.
The server appends a group of messages with one ``write`` and one ``fsync`` and answers
2xx only after both; a separate thread reads from the applied position, loads what it
read, then moves the position forward (written to a temporary file, synced, renamed).

A process killed mid-append leaves at most a torn last line that was never acknowledged:
opening the journal cuts it off. A process killed after a batch landed in the store but
before the position moved replays that batch: loading the same messages again changes
nothing (events are skipped by their ``event_id``, the message id; customers are upserts).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from segmint.store.db import sync_folder

FOLDER = "journal"
APPLIED = "applied"
SUFFIX = ".jsonl"
# A new segment file starts past this size; files wholly applied are removed.
SEGMENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, order=True)
class Position:
    """A place in the journal: segment file number and byte offset in it."""

    segment: int
    offset: int


class Journal:
    """Appends (one writer thread) and reads (one applier thread) of the journal."""

    def __init__(self, root: Path, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.folder = root / FOLDER
        self.folder.mkdir(exist_ok=True)
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        numbers = self._numbers()
        self._segment = numbers[-1] if numbers else 1
        path = self._path(self._segment)
        _cut_torn_tail(path)
        self._file = path.open("ab")
        self._size = self._file.tell()
        sync_folder(self.folder)
        # Bytes in segments before the current one that are not applied yet.
        self._applied = self._read_applied()

    # -- writing ------------------------------------------------------------------------

    def append(self, lines: list[bytes]) -> Position:
        """Write ``lines`` (each a JSON object ending in a newline) and make them durable;
        returns the position after them."""
        data = b"".join(lines)
        with self._lock:
            if self._size and self._size + len(data) > self.segment_bytes:
                self._rotate()
            self._file.write(data)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._size += len(data)
            return Position(self._segment, self._size)

    def _rotate(self) -> None:
        self._file.close()
        self._segment += 1
        self._file = self._path(self._segment).open("ab")
        self._size = 0
        sync_folder(self.folder)

    def end(self) -> Position:
        with self._lock:
            return Position(self._segment, self._size)

    # -- reading ------------------------------------------------------------------------

    def applied(self) -> Position:
        return self._applied

    def read(self, start: Position, max_lines: int) -> tuple[list[bytes], Position]:
        """Up to ``max_lines`` whole lines from ``start``, and the position after them
        (moving on to the next segment file at the end of one)."""
        end = self.end()
        position = start
        lines: list[bytes] = []
        while len(lines) < max_lines and position < end:
            path = self._path(position.segment)
            limit = end.offset if position.segment == end.segment else None
            with path.open("rb") as f:
                f.seek(position.offset)
                offset = position.offset
                while len(lines) < max_lines and (limit is None or offset < limit):
                    line = f.readline()
                    if not line.endswith(b"\n"):
                        break  # the end of what was written (a write in progress)
                    lines.append(line)
                    offset += len(line)
            if limit is None and len(lines) < max_lines:
                position = Position(position.segment + 1, 0)
            else:
                position = Position(position.segment, offset)
                break
        return lines, position

    def backlog(self) -> int:
        """Bytes acknowledged but not applied yet."""
        end, applied = self.end(), self._applied
        if end.segment == applied.segment:
            return end.offset - applied.offset
        total = end.offset + self._size_of(applied.segment) - applied.offset
        for number in range(applied.segment + 1, end.segment):
            total += self._size_of(number)
        return total

    def mark_applied(self, position: Position) -> None:
        """Record that the store has everything before ``position``; remove segment files
        wholly before it."""
        tmp = self.folder / (APPLIED + ".tmp")
        with tmp.open("w") as f:
            json.dump({"segment": position.segment, "offset": position.offset}, f)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.folder / APPLIED)
        sync_folder(self.folder)
        self._applied = position
        for number in self._numbers():
            if number < position.segment:
                self._path(number).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._file.close()

    # -- files --------------------------------------------------------------------------

    def _path(self, number: int) -> Path:
        return self.folder / f"{number:08d}{SUFFIX}"

    def _numbers(self) -> list[int]:
        return sorted(int(p.stem) for p in self.folder.glob(f"*{SUFFIX}") if p.stem.isdigit())

    def _size_of(self, number: int) -> int:
        try:
            return self._path(number).stat().st_size
        except FileNotFoundError:
            return 0

    def _read_applied(self) -> Position:
        path = self.folder / APPLIED
        if not path.exists():
            numbers = self._numbers()
            return Position(numbers[0] if numbers else self._segment, 0)
        found = json.loads(path.read_text())
        return Position(int(found["segment"]), int(found["offset"]))


def _cut_torn_tail(path: Path) -> None:
    """Cut a last line without its newline: a write killed part-way, never acknowledged."""
    if not path.exists():
        return
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("r+b") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        # Find the last newline, reading backwards a block at a time.
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - 65536)
            f.seek(start)
            block = f.read(end - start)
            at = block.rfind(b"\n")
            if at >= 0:
                keep = start + at + 1
                break
            end = start
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
