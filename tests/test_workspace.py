from __future__ import annotations

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
