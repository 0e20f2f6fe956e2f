from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import segmint
from segmint.config import load_config
from segmint.errors import ConfigError, WorkspaceError
from segmint.workspace import find_root


def test_init_creates_config_database_and_rejects_folder(tmp_path: Path) -> None:
    ws = segmint.init(tmp_path / "shop")
    ws.close()
    assert (tmp_path / "shop" / "segmint.duckdb").is_file()
    assert (tmp_path / "shop" / "rejects").is_dir()
    config = tomllib.loads((tmp_path / "shop" / "segmint.toml").read_text())
    assert config["ingest"]["purchase_events"] == ["order_completed"]
    assert config["store"]["memory_limit"] == "3GB"


def test_init_refuses_an_existing_workspace(tmp_path: Path) -> None:
    segmint.init(tmp_path / "shop").close()
    with pytest.raises(WorkspaceError, match="already a segmint workspace"):
        segmint.init(tmp_path / "shop")


def test_opening_a_plain_folder_says_how_to_create_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"not a segmint workspace.*segmint init"):
        segmint.open(tmp_path)


def test_workspace_is_found_from_argument_then_env_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEGMINT_WORKSPACE", raising=False)
    assert find_root() == tmp_path
    monkeypatch.setenv("SEGMINT_WORKSPACE", "/env/ws")
    assert find_root() == Path("/env/ws")
    assert find_root("explicit") == Path("explicit")


def test_config_rejects_unknown_keys_and_wrong_types(tmp_path: Path) -> None:
    path = tmp_path / "segmint.toml"
    path.write_text('[store]\nmemroy_limit = "1GB"\n')
    with pytest.raises(ConfigError, match="unknown key 'memroy_limit'"):
        load_config(path)
    path.write_text("[ingest]\nmoney_scale = 'two'\n")
    with pytest.raises(ConfigError, match="money_scale: expected int"):
        load_config(path)
    path.write_text('[ingest]\npurchase_events = ["purchase", "order_completed"]\n')
    assert load_config(path).order_event == "purchase"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[stroe]\nmemory_limit = "1GB"\n',
            "unknown section [stroe]; did you mean 'store'? (known: store, ingest, money, "
            "purchases, traits,",
        ),
        (
            "[lifecycel]\nat_risk_days = 30\n",
            "unknown section [lifecycel]; did you mean 'lifecycle'?",
        ),
        ("[zzz]\nx = 1\n", "unknown section [zzz] (known: store,"),
        (
            '[store]\nmemroy_limit = "1GB"\n',
            "unknown key 'memroy_limit'; did you mean 'memory_limit'?",
        ),
        (
            "[quality]\nmin_sise = 5\n",
            "[quality] has unknown key 'min_sise'; did you mean 'min_size'?",
        ),
    ],
)
def test_a_misspelt_section_or_key_is_an_error_naming_the_closest_known_one(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "segmint.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert expected in message and str(path) in message and "\n" not in message, message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('store = "3GB"\n', "[store] must be a section (a table of settings), got '3GB'"),
        (
            "[store.memory_limit]\nsize = 3\n",
            "[store] memory_limit: expected a single value, got a table",
        ),
        (
            "[ingest]\npurchase_events = {first = 'buy'}\n",
            "[ingest] purchase_events: expected a single",
        ),
        (
            "[ingest]\npurchase_events = 'buy'\n",
            "purchase_events: expected a non-empty list of str",
        ),
    ],
)
def test_a_table_where_a_value_belongs_or_the_reverse_is_an_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "segmint.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(path)


def test_a_misspelt_section_stops_the_cli_with_one_line_and_exit_2(tmp_path: Path) -> None:
    segmint.init(tmp_path / "ws").close()
    config = tmp_path / "ws" / "segmint.toml"
    config.write_text(config.read_text() + '\n[purchses]\nevents = ["buy"]\n')
    done = subprocess.run(
        [sys.executable, "-m", "segmint", "-w", str(tmp_path / "ws"), "segment", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {config}: unknown section [purchses]")
    assert done.stderr.count("\n") == 1, done.stderr
