"""The tracking journal (store/journal.py): appends are whole lines, a torn tail is cut,
reading stops at what was written and crosses segment files, the applied position
survives a reopen, and wholly applied files are removed."""

from __future__ import annotations

import json
from pathlib import Path

from segmint.store.journal import Journal, Position


def _lines(start: int, n: int) -> list[bytes]:
    return [json.dumps({"n": i}).encode() + b"\n" for i in range(start, start + n)]


def _numbers(lines: list[bytes]) -> list[int]:
    return [json.loads(line)["n"] for line in lines]


def test_reads_what_was_appended_in_order_across_segment_files(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=200)
    for start in range(0, 60, 6):
        journal.append(_lines(start, 6))
    assert len(list((tmp_path / "journal").glob("*.jsonl"))) > 2
    got: list[int] = []
    position = journal.applied()
    while True:
        lines, position = journal.read(position, 7)
        if not lines and position == journal.end():
            break
        got += _numbers(lines)
    assert got == list(range(60))
    assert journal.backlog() > 0
    journal.mark_applied(position)
    assert journal.backlog() == 0
    # Files wholly before the applied position are gone; the current one stays.
    assert len(list((tmp_path / "journal").glob("*.jsonl"))) == 1
    journal.close()


def test_a_torn_last_line_is_cut_and_the_applied_position_survives(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(_lines(0, 3))
    lines, after_two = journal.read(journal.applied(), 2)
    journal.mark_applied(after_two)
    journal.close()
    segment = next((tmp_path / "journal").glob("*.jsonl"))
    with segment.open("ab") as f:
        f.write(b'{"n": 99, "cut": "mid-wr')  # a write killed part-way: never acknowledged
    again = Journal(tmp_path)
    assert again.applied() == after_two
    lines, end = again.read(again.applied(), 10)
    assert _numbers(lines) == [2]
    assert not segment.read_bytes().endswith(b"mid-wr")
    again.append(_lines(3, 1))
    lines, _ = again.read(end, 10)
    assert _numbers(lines) == [3]
    again.close()


def test_positions_order_by_file_then_offset() -> None:
    assert Position(1, 500) < Position(2, 0) < Position(2, 1)
