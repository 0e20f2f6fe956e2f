"""Hostile configuration and paths: every value of ``segmint.toml`` is checked against its
type and range and reaches DuckDB as data, never as SQL; workspace paths with quotes and
other odd characters work; a damaged database file is one clear error."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

import segmint
from segmint import workspace
from segmint.config import Config, WebhookConfig
from segmint.errors import ConfigError
from tests.conftest import holding, write_csv

INJECTION = "3GB'; COPY (SELECT 'pwned') TO 'pwned.txt'; --"
STRINGS = [INJECTION, "a\u0000b", "", "x" * 300, "two\nlines"]
INTS = [-1, 2**40, "1", True, 1.5]
FLOATS = [float("nan"), float("inf"), -1.0, "0.5", 2.0]
LISTS = [[], "order_completed", [1, "a"], [True]]
RULE = "did page_view at least 1 times in last 400 days"


def toml_value(value: Any) -> str:
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return json.dumps(value)  # JSON strings, numbers, booleans and arrays are valid TOML


def hostile_settings() -> list[tuple[str, str, Any]]:
    out = []
    for section in dataclasses.fields(Config):
        # [[webhooks]] is an array of tables of WebhookConfig; the others are sections.
        kind = WebhookConfig if section.name == "webhooks" else section.default_factory()  # type: ignore[misc]
        for key in dataclasses.fields(kind):
            default = key.default
            pool = (
                LISTS if isinstance(default, tuple)
                else INTS if isinstance(default, int)
                else FLOATS if isinstance(default, float)
                else STRINGS
            )  # fmt: skip
            out += [(section.name, key.name, value) for value in pool]
    return out


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "ws"
    with segmint.init(root) as ws:
        csv = write_csv(
            root.parent / "e.csv",
            "event,timestamp,customer_id\npage_view,2026-01-01T00:00:00Z,C1\n"
            "order_completed,2026-01-02T00:00:00Z,C1",
        )
        ws.ingest("events", csv)
    return root


def with_setting(root: Path, section: str, key: str, value: Any) -> None:
    if section == "webhooks":
        # A valid endpoint with the one key replaced.
        valid = {
            "url": "http://127.0.0.1:9/hook",
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }
        valid[key] = value
        lines = "".join(f"{k} = {toml_value(v)}\n" for k, v in valid.items())
        (root / "segmint.toml").write_text(f"[[webhooks]]\n{lines}")
        return
    (root / "segmint.toml").write_text(f"[{section}]\n{key} = {toml_value(value)}\n")


def test_every_setting_with_hostile_values_is_refused_or_harmless(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shop.parent)
    original = (shop / "segmint.toml").read_text()
    refused = 0
    cases = hostile_settings()
    try:
        for section, key, value in cases:
            with_setting(shop, section, key, value)
            try:
                with segmint.open(shop) as ws:
                    ws.count(RULE, as_of="2026-06-01T00:00:00Z")
            except ConfigError as exc:
                refused += 1
                text = str(exc)
                assert "\n" not in text and f"[{section}]" in text and key in text, text
            assert not list(shop.parent.rglob("pwned*")), (section, key, value)
    finally:
        (shop / "segmint.toml").write_text(original)
    # Only the event-name strings (any text is a name) and some numbers in range pass.
    assert refused >= len(cases) * 0.7, f"only {refused} of {len(cases)} refused"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (INJECTION, "[store] memory_limit: expected a size like"),
        ("3XB", "[store] memory_limit: expected a size like"),
        ("0GB", "[store] memory_limit: expected a size like"),
    ],
)
def test_a_bad_memory_limit_is_one_line_through_the_cli(
    shop: Path, value: str, expected: str
) -> None:
    original = (shop / "segmint.toml").read_text()
    with_setting(shop, "store", "memory_limit", value)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "segmint", "-w", str(shop), "segment", "count", "--rule", RULE],
            capture_output=True,
            text=True,
            cwd=shop.parent,
            timeout=60,
            check=False,
        )
    finally:
        (shop / "segmint.toml").write_text(original)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and expected in done.stderr, done.stderr
    assert not list(shop.parent.rglob("pwned*"))


@pytest.mark.parametrize("name", ["it's", 'say "hi"', "a;b --c", "tab\there", "ünï cødé", "$HOME"])
def test_odd_workspace_paths_work_end_to_end(tmp_path: Path, name: str) -> None:
    root = tmp_path / name / "ws"
    csv = write_csv(
        tmp_path / "e.csv",
        "event,timestamp,customer_id\npage_view,2026-01-01T00:00:00Z,C1\nx,not-a-time,C2",
    )
    with segmint.init(root) as ws:
        result = ws.ingest("events", csv)
        assert (result.accepted, result.rejected) == (1, 1)
        assert result.rejects_file is not None and result.rejects_file.is_file()
        ws.add_segment("viewers", RULE)
        assert ws.refresh(as_of="2026-06-01T00:00:00Z").runs[0].size == 1
        ws.optimize(force=True)
        assert ws.count(RULE, as_of="2026-06-01T00:00:00Z") == 1


def test_a_failed_init_leaves_nothing_half_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(root: Path, config: Config) -> None:
        (root / "segmint.duckdb").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workspace, "_create_store", fail)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("mine")
    with pytest.raises(OSError, match="No space left"):
        segmint.init(tmp_path / "ws")
    assert [p.name for p in (tmp_path / "ws").iterdir()] == ["notes.txt"]
    with pytest.raises(OSError, match="No space left"):
        segmint.init(tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_init_refuses_a_folder_holding_a_database_without_config(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "segmint.duckdb").write_bytes(b"someone's data")
    with pytest.raises(segmint.WorkspaceError, match=r"already holds a segmint\.duckdb"):
        segmint.init(tmp_path / "ws")
    assert (tmp_path / "ws" / "segmint.duckdb").read_bytes() == b"someone's data"


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "segmint", "-w", str(root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "empty"])
def test_a_damaged_database_file_is_one_clear_error(tmp_path: Path, damage: str) -> None:
    root = tmp_path / "ws"
    segmint.init(root).close()
    db = root / "segmint.duckdb"
    if damage == "garbage":
        db.write_bytes(b"not a database at all " * 500)
    elif damage == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    elif damage == "foreign":
        db.unlink()
        duckdb.connect(str(db)).execute("CREATE TABLE t (x INTEGER)").close()
    else:
        db.write_bytes(b"")
    done = _cli(root, "segment", "count", "--rule", RULE)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert "segmint.duckdb" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("holder", ["segmint", "duckdb"])
def test_a_second_process_is_told_the_workspace_is_busy(shop: Path, holder: str) -> None:
    opener = (
        "import segmint, sys; ws = segmint.open(sys.argv[1]); ws._db"
        if holder == "segmint"
        else "import duckdb, sys; c = duckdb.connect(sys.argv[1] + '/segmint.duckdb')"
    )
    with holding(opener, str(shop)) as pid:
        done = _cli(shop, "segment", "count", "--rule", RULE)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert f"is in use by process {pid}" in done.stderr


def test_one_process_may_open_a_workspace_twice(shop: Path) -> None:
    with segmint.open(shop) as first, segmint.open(shop) as second:
        assert first.count(RULE, as_of="2026-06-01T00:00:00Z") == 1
        assert second.count(RULE, as_of="2026-06-01T00:00:00Z") == 1
    with segmint.open(shop) as again:  # the lock was let go with the last one
        assert again.stats()["events"] == 2
