"""A real ``segmint serve`` process on 127.0.0.1 for the server's tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import segmint


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server: its URL, the workspace it serves and keys of each scope."""

    root: Path
    url: str
    keys: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, scope: str | None = "write") -> httpx.Client:
        auth = (self.keys[scope], "") if scope else None
        return httpx.Client(base_url=self.url, auth=auth, timeout=30)

    def status(self) -> dict[str, Any]:
        with self.client("read") as http:
            found: dict[str, Any] = http.get("/v1/status").raise_for_status().json()
            return found

    def wait_applied(self, acknowledged: int | None = None, timeout: float = 60) -> None:
        """Until everything acknowledged (at least ``acknowledged`` messages) is applied."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.status()
            if found["backlog_bytes"] == 0 and (
                acknowledged is None or found["applied"] >= acknowledged
            ):
                return
            time.sleep(0.05)
        raise AssertionError(f"not applied within {timeout} s: {self.status()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=60)


def make_keys(root: Path) -> dict[str, str]:
    with segmint.open(root) as ws:
        return {scope: ws.create_key(f"test-{scope}", scope).key or "" for scope in SCOPES}


SCOPES = ("read", "write", "admin")


def start_server(root: Path, keys: dict[str, str], timeout: float = 60) -> Server:
    port = free_port()
    log = root.parent / f"server-{port}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "segmint", "-w", str(root), "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = Server(root, f"http://127.0.0.1:{port}", keys, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"server did not start: {log.read_text()}")


@contextlib.contextmanager
def serving(root: Path) -> Iterator[Server]:
    """The workspace at ``root`` with a read, a write and an admin key, served until the
    block ends (killed then if a test did not stop it)."""
    server = start_server(root, make_keys(root))
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    """A fresh workspace, served."""
    root = tmp_path / "ws"
    segmint.init(root).close()
    with serving(root) as server:
        yield server
