"""Shared fixtures: a fresh real workspace per test and helpers to write input files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import segmint


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


def rows(ws: segmint.Workspace, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return ws.con.execute(sql, params or []).fetchall()
