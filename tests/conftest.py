"""Shared fixtures: a fresh real workspace per test and helpers to write input files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import segmint

if TYPE_CHECKING:
    import duckdb

# The real engines (a throwaway PostgreSQL, one Spark session) and the parametrized
# ``engine`` fixture: tests/engines.py, docs/engines.md.
pytest_plugins = ["tests.engines"]


@pytest.fixture
def ws(tmp_path: Path) -> Iterable[segmint.Workspace]:
    workspace = segmint.init(tmp_path / "ws")
    yield workspace
    workspace.close()


@pytest.fixture
def ws_dir(tmp_path: Path) -> Path:
    """A fresh workspace folder, closed (for tests that drive the real CLI)."""
    segmint.init(tmp_path / "ws").close()
    return tmp_path / "ws"


def run_cli(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real ``segmint`` command on the workspace at ``root``."""
    cmd = [sys.executable, "-m", "segmint", "--workspace", str(root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def write_csv(path: Path, text: str) -> Path:
    """Write CSV text (leading indentation and blank edges removed)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> Path:
    """Write JSON Lines; a str row is written as-is (for deliberately bad lines)."""
    out = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def db(ws: segmint.Workspace) -> duckdb.DuckDBPyConnection:
    """The workspace's DuckDB connection. Tests read the store directly (and write it, to
    set up a broken or old store); segmint itself has no public connection, its callers go
    through the façade."""
    return ws._db


def rows(ws: segmint.Workspace, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return db(ws).execute(sql, params or []).fetchall()


def rejects_of(stdout: str) -> list[dict[str, Any]]:
    """The rows of the rejects file a ``segmint ingest`` run printed the path of."""
    line = next(x for x in stdout.splitlines() if x.startswith("rejected rows and reasons: "))
    path = Path(line.split(": ", 1)[1])
    if path.suffix == ".jsonl":
        return [json.loads(x) for x in path.read_text().splitlines()]
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@contextmanager
def holding(code: str, *args: str) -> Iterator[int]:
    """Another Python process that runs ``code`` (which opens something and holds it) until
    the end of the block; yields its pid once ``code`` has run."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code + "; print('ok', flush=True); sys.stdin.read()", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ok"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()
