"""Customer search (``ws.search_customers``, ``segmint customer search``, ``GET
/v1/customers?q=``): by the start of an id or email, or part of a name, case-insensitive,
against an independent filter of the same customers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

import segmint
from segmint.errors import ArgumentError
from tests.conftest import run_cli
from tests.server.conftest import make_keys, start_server

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", None]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", None]


def _people(n: int = 200) -> list[dict[str, str | None]]:
    rng = random.Random(3)
    return [
        {"customer_id": f"C{i:04d}", "email": f"user{i}@Example.com" if i % 7 else None,
         "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST)}
        for i in range(n)
    ]  # fmt: skip


def _expected(people: list[dict[str, str | None]], text: str, limit: int) -> list[str]:
    t = text.lower()
    found = [
        p["customer_id"]
        for p in people
        if str(p["customer_id"]).lower().startswith(t)
        or (p["email"] or "").lower().startswith(t)
        or t in " ".join(x for x in (p["first_name"], p["last_name"]) if x).lower()
    ]
    return sorted(found, key=str)[:limit]


def test_search_matches_an_independent_filter_from_python_cli_and_http(tmp_path: Path) -> None:
    people = _people()
    ws = segmint.init(tmp_path / "ws")
    ws.ingest("customers", pa.Table.from_pylist(people))
    for text, limit in [("c00", 20), ("USER1", 1000), ("ove", 50), ("a h", 50), ("zzz", 5)]:
        got = [c["customer_id"] for c in ws.search_customers(text, limit)]
        assert got == _expected(people, text, limit), text
    with pytest.raises(ArgumentError, match="limit"):
        ws.search_customers("c", 0)
    with pytest.raises(ArgumentError):
        ws.search_customers("  ")
    ws.close()

    done = run_cli(tmp_path / "ws", "customer", "search", "lovel", "--json", "--limit", "500")
    assert done.returncode == 0, done.stderr
    assert [c["customer_id"] for c in json.loads(done.stdout)] == _expected(people, "lovel", 500)
    bad = run_cli(tmp_path / "ws", "customer", "search", "c", "--limit", "0")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1

    keys = make_keys(tmp_path / "ws")
    server = start_server(tmp_path / "ws", keys)
    try:
        with httpx.Client(base_url=server.url, auth=(keys["read"], "")) as http:
            found = http.get("/v1/customers", params={"q": "hop", "limit": 500})
            assert found.status_code == 200
            got = [c["customer_id"] for c in found.json()]
            assert got == _expected(people, "hop", 500)
            assert http.get("/v1/customers", params={"q": ""}).status_code == 422
    finally:
        server.stop()
