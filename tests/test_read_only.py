"""Several readers, one writer: commands that only read open the workspace read-only (as
``segmint.open(path, read_only=True)`` does for notebooks), so they work beside each other;
a writer is refused while anyone reads, and a reader while someone writes, in one line."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import pytest

import segmint
from segmint.errors import WorkspaceBusyError
from tests.conftest import holding, run_cli, write_csv
from tests.faults.harness import run, snapshot

RULE = "did page_view in last 400 days"
AS_OF = "2026-06-01T00:00:00Z"


@pytest.fixture
def shop(ws_dir: Path, files: Path) -> Path:
    with segmint.open(ws_dir) as ws:
        ws.ingest(
            "events",
            write_csv(
                files / "e.csv",
                "event,timestamp,customer_id\npage_view,2026-01-01T00:00:00Z,C1\n"
                "page_view,2026-02-01T00:00:00Z,C2",
            ),
        )
        ws.add_segment("viewers", RULE)
    return ws_dir


def holder(root: Path, read_only: bool) -> AbstractContextManager[int]:
    """Another process with the workspace open (and its connection made) until the end."""
    code = (
        "import segmint, sys; ws = segmint.open(sys.argv[1], read_only=sys.argv[2] == '1'); ws._db"
    )
    return holding(code, str(root), "1" if read_only else "0")


def test_commands_that_read_work_beside_a_reader(shop: Path) -> None:
    with holder(shop, read_only=True):
        assert run_cli(shop, "segment", "count", "--rule", RULE, "--as-of", AS_OF).stdout == "2\n"
        for args in (["segment", "list"], ["customer", "show", "C1"], ["traits"], ["review"]):
            done = run_cli(shop, *args)
            assert done.returncode == 0, (args, done.stderr)
        with segmint.open(shop, read_only=True) as ws:  # and a notebook beside them
            assert ws.count(RULE, as_of=AS_OF) == 2


def test_a_writer_is_refused_while_someone_reads(shop: Path) -> None:
    with holder(shop, read_only=True):
        done = run_cli(shop, "refresh", "--as-of", AS_OF)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {(shop / 'segmint.duckdb').resolve()} is open for reading by another process "
        "(a notebook or a command that reads); close it, then write\n"
    )


def test_a_reader_is_refused_while_someone_writes(shop: Path) -> None:
    with holder(shop, read_only=False) as pid:
        done = run_cli(shop, "segment", "count", "--rule", RULE)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"is in use by process {pid}; wait for it to finish" in done.stderr


def test_a_read_only_workspace_refuses_writes_in_one_line(shop: Path, files: Path) -> None:
    with segmint.open(shop, read_only=True) as ws:
        before = ws.stats()
        with pytest.raises(segmint.WorkspaceError, match=r"open read-only; the refresh writes"):
            ws.refresh(as_of=AS_OF)
        with pytest.raises(segmint.WorkspaceError, match=r"open read-only; the load of e\.csv"):
            ws.ingest("events", files / "e.csv")
        assert ws.stats() == before


def test_one_process_cannot_mix_read_only_and_writing(shop: Path) -> None:
    with segmint.open(shop, read_only=True) as reader:
        reader.stats()
        with pytest.raises(segmint.WorkspaceError, match="already open read-only"):
            segmint.open(shop).stats()
    with segmint.open(shop) as writer:  # once the reader is closed
        assert writer.stats()["events"] == 2


def test_a_read_only_open_recovers_a_killed_write_first(shop: Path, files: Path) -> None:
    before = snapshot(shop)
    more = write_csv(files / "m.csv", "event,timestamp,customer_id\napp_open,2026-03-01,C3")
    assert run(shop, "ingest", "events", str(more), kill_at="ingest:after-commit").killed
    assert (shop / "segmint.duckdb.commit").exists()
    with segmint.open(shop, read_only=True) as ws:
        assert ws.stats()["events"] == 2
    assert not (shop / "segmint.duckdb.commit").exists()
    assert snapshot(shop) == before


def test_busy_errors_are_workspace_errors(shop: Path) -> None:
    with holder(shop, read_only=False), pytest.raises(WorkspaceBusyError):
        segmint.open(shop, read_only=True).stats()
