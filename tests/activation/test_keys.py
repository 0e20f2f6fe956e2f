"""API keys of the HTTP server: made, listed, revoked and looked up through the façade and
the CLI; only a hash is stored, and bad names, scopes and duplicates are the right errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import segmint
from segmint.activation.keys import SCOPES, allows
from segmint.errors import ArgumentError, ConflictError, NotFoundError, WorkspaceError
from segmint.store.db import DB_FILE
from tests.conftest import db, run_cli


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[segmint.Workspace]:
    with segmint.init(tmp_path / "ws") as workspace:
        yield workspace


def test_a_key_is_shown_once_and_looked_up_by_its_scope(ws: segmint.Workspace) -> None:
    made = ws.create_key("tracker")
    assert made.scope == "write" and made.key is not None
    assert made.key.startswith("sk_") and len(made.key) == 3 + 43
    assert made.prefix == made.key[:10]
    assert made.key not in repr(made)
    assert ws.key_scope(made.key) == "write"
    assert ws.key_scope(made.key + "x") is None
    assert ws.key_scope("") is None
    listed = ws.keys()
    assert [(k.name, k.scope, k.prefix, k.key, k.revoked_at) for k in listed] == [
        ("tracker", "write", made.prefix, None, None)
    ]
    assert listed[0].created_at == made.created_at


def test_two_keys_never_share_a_secret(ws: segmint.Workspace) -> None:
    first, second = ws.create_key("one", "read"), ws.create_key("two", "admin")
    assert first.key != second.key
    assert (ws.key_scope(first.key or ""), ws.key_scope(second.key or "")) == ("read", "admin")
    listed = ws.keys()
    assert [k.name for k in listed] == ["one", "two"]


def test_only_the_hash_is_stored(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with segmint.init(root) as ws:
        made = ws.create_key("tracker", "admin")
        key = made.key or ""
        con = db(ws)
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                assert not any(key in str(value) for value in row), table
        stored = con.execute("SELECT key_hash, prefix FROM api_keys").fetchall()
    assert stored == [(hashlib.sha256(key.encode()).hexdigest(), key[:10])]
    assert key.encode() not in (root / DB_FILE).read_bytes()


def test_a_revoked_key_stops_working_and_stays_listed(ws: segmint.Workspace) -> None:
    made = ws.create_key("tracker", "admin")
    ws.revoke_key("tracker")
    assert ws.key_scope(made.key or "") is None
    (listed,) = ws.keys()
    assert listed.revoked_at is not None and listed.revoked_at >= listed.created_at
    # The name is free again; the old key stays revoked.
    again = ws.create_key("tracker", "read")
    assert (ws.key_scope(again.key or ""), ws.key_scope(made.key or "")) == ("read", None)
    listed = ws.keys()
    assert [k.revoked_at is None for k in listed] == [False, True]


def test_revoking_an_unknown_key_suggests_a_name(ws: segmint.Workspace) -> None:
    ws.create_key("tracker")
    with pytest.raises(NotFoundError, match="no active API key 'trackr'; did you mean 'tracker'"):
        ws.revoke_key("trackr")
    ws.revoke_key("tracker")
    with pytest.raises(NotFoundError, match="no active API key 'tracker' \\(see"):
        ws.revoke_key("tracker")


@pytest.mark.parametrize("name", ["", "Tracker", "-x", "a b", "a" * 64, "ключ", "a/b"])
def test_a_bad_name_is_an_argument_error(ws: segmint.Workspace, name: str) -> None:
    with pytest.raises(ArgumentError, match="key name: lower-case letters"):
        ws.create_key(name)
    assert ws.keys() == []


@pytest.mark.parametrize("scope", ["owner", "", "WRITE", "read,write"])
def test_a_bad_scope_lists_the_scopes(ws: segmint.Workspace, scope: str) -> None:
    with pytest.raises(ArgumentError, match="--scope: one of read, write, admin"):
        ws.create_key("tracker", scope)
    assert ws.keys() == []


def test_a_second_active_key_of_a_name_is_a_conflict(ws: segmint.Workspace) -> None:
    made = ws.create_key("tracker")
    with pytest.raises(ConflictError, match="an API key 'tracker' already exists"):
        ws.create_key("tracker", "admin")
    listed = ws.keys()
    assert [k.scope for k in listed] == ["write"]
    assert ws.key_scope(made.key or "") == "write"


def test_keys_are_written_only_when_open_for_writing(tmp_path: Path) -> None:
    segmint.init(tmp_path / "ws").close()
    with segmint.open(tmp_path / "ws", read_only=True) as ws:
        with pytest.raises(WorkspaceError, match="read-only"):
            ws.create_key("tracker")
        assert ws.keys() == []


def test_scopes_are_ordered() -> None:
    assert SCOPES == ("read", "write", "admin")
    granted = {(s, n) for s in SCOPES for n in SCOPES if allows(s, n)}
    assert granted == {
        ("read", "read"),
        ("write", "read"),
        ("write", "write"),
        ("admin", "read"),
        ("admin", "write"),
        ("admin", "admin"),
    }
    with pytest.raises(ArgumentError):
        allows("root", "read")


def test_the_keys_commands(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    segmint.init(root).close()
    made = run_cli(root, "keys", "create", "tracker")
    assert made.returncode == 0, made.stderr
    key, note = made.stdout.splitlines()
    assert key.startswith("sk_") and "will not be shown again" in note
    assert run_cli(root, "keys", "create", "dash", "--scope", "read").returncode == 0

    shown = run_cli(root, "keys", "list")
    assert shown.returncode == 0 and "tracker" in shown.stdout and key[:10] in shown.stdout
    assert key not in shown.stdout
    listed = json.loads(run_cli(root, "keys", "list", "--json").stdout)
    assert [(k["name"], k["scope"], k["revoked_at"]) for k in listed] == [
        ("tracker", "write", None),
        ("dash", "read", None),
    ]
    assert all("key" not in k and k["prefix"] for k in listed)

    revoked = run_cli(root, "keys", "revoke", "tracker")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    listed = json.loads(run_cli(root, "keys", "list", "--json").stdout)
    assert listed[0]["revoked_at"] is not None
    with segmint.open(root, read_only=True) as ws:
        assert ws.key_scope(key) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "Bad Name"], "error: key name: lower-case letters"),
        (["keys", "create", "x", "--scope", "root"], "error: --scope: one of read, write, admin"),
        (["keys", "revoke", "nobody"], "error: no active API key 'nobody'"),
    ],
)
def test_bad_keys_commands_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    root = tmp_path / "ws"
    segmint.init(root).close()
    done = run_cli(root, *args)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(message), done.stderr
    assert done.stdout == ""


def test_a_duplicate_key_command_exits_2(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    segmint.init(root).close()
    assert run_cli(root, "keys", "create", "tracker").returncode == 0
    done = run_cli(root, "keys", "create", "tracker")
    assert done.returncode == 2 and "already exists" in done.stderr
    assert "sk_" not in done.stdout
