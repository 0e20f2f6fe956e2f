from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import segmint
from tests.conftest import write_csv


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "segmint", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from segmint.cli.app import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "names = ('duckdb', 'pandas', 'ibis', 'pyarrow', 'numpy', 'scipy')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in done.stdout


def test_init_ingest_and_customer_show_through_the_env_workspace(tmp_path: Path) -> None:
    env = {**__import__("os").environ, "SEGMINT_WORKSPACE": str(tmp_path / "ws")}
    assert cli("init", str(tmp_path / "ws")).returncode == 0
    write_csv(tmp_path / "c.csv", "customer_id,email,plan\nC1,ada@example.com,pro")
    write_csv(
        tmp_path / "e.csv",
        "event_id,event,timestamp,customer_id,category\nE1,product_view,2024-05-01T10:00:00Z,C1,shoes",
    )
    assert cli("ingest", "customers", str(tmp_path / "c.csv"), env=env).returncode == 0
    done = cli("ingest", "events", str(tmp_path / "e.csv"), env=env)
    assert done.stdout.strip() == "e.csv: 1 row read, 1 accepted, 0 rejected"
    assert done.stderr == ""  # no progress bar on a pipe
    shown = cli("customer", "show", "ada@example.com", "--json", env=env)
    view = json.loads(shown.stdout)
    assert view["customer_id"] == "C1"
    assert view["attributes"]["plan"] == "pro"
    assert view["event_counts"] == {"product_view": 1}
    assert view["recent_events"][0]["properties"] == {"category": "shoes"}
    text = cli("customer", "show", "C1", env=env).stdout
    assert "ada@example.com" in text and "product_view" in text


def test_unknown_customer_is_a_one_line_error(tmp_path: Path) -> None:
    segmint.init(tmp_path / "ws").close()
    done = cli("-w", str(tmp_path / "ws"), "customer", "show", "nobody")
    assert done.returncode == 2
    assert done.stderr == "error: no customer with customer id, email or anonymous id 'nobody'\n"
