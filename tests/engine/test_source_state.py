"""segmint's versioned tables on a source (store/source_state.py), on PostgreSQL and Spark:
a version is written whole, read by number, replaced by a rewrite and dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from segmint.store.source_state import SourceState
from tests.engines import drop

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=pytest.mark.spark),
    ]
)
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SourceState]:
    if request.param == "postgres":
        from segmint.engine.postgres import connect

        pg = connect(request.getfixturevalue("postgres_url"))
        schema = f"s{abs(hash(str(tmp_path))) % 10**8}"
        yield SourceState(pg, schema, "")
        drop(pg, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        pg.con.close()
    else:
        from segmint.engine.spark import SparkEngine

        yield SourceState(SparkEngine(request.getfixturevalue("spark")), "", str(tmp_path))


def _members(state: SourceState, versions: list[int]) -> list[tuple[Any, ...]]:
    rows = state.engine.to_arrow(
        f"SELECT name, pid, v FROM {state.rows('segment_members', versions)} r"
    ).to_pylist()
    return sorted((r["name"], r["pid"], r["v"]) for r in rows)


def _values(names: list[tuple[str, str]]) -> str:
    return " UNION ALL ".join(f"SELECT '{n}' AS name, '{p}' AS pid" for n, p in names)


def test_versions_are_written_read_replaced_and_dropped(state: SourceState) -> None:
    assert _members(state, []) == []
    assert state.versions("segment_members") == set()
    state.write("segment_members", 1, _values([("a", "1"), ("a", "2")]))
    state.write("segment_members", 2, _values([("a", "2"), ("b", "3")]))
    assert _members(state, [1]) == [("a", "1", 1), ("a", "2", 1)]
    assert _members(state, [1, 2]) == [("a", "1", 1), ("a", "2", 1), ("a", "2", 2), ("b", "3", 2)]
    # A rewrite of a version (an attempt that was never committed) replaces it whole.
    state.write("segment_members", 2, _values([("c", "9")]))
    assert _members(state, [2]) == [("c", "9", 2)]
    assert state.versions("segment_members") == {1, 2}
    state.drop("segment_members", [1])
    assert state.versions("segment_members") == {2}
    assert _members(state, [2]) == [("c", "9", 2)]


def test_an_empty_version_reads_as_no_rows(state: SourceState) -> None:
    state.write("segment_members", 5, "SELECT 'a' AS name, 'x' AS pid WHERE 1 = 0")
    assert _members(state, [5]) == []


def test_an_unknown_table_is_refused(state: SourceState) -> None:
    with pytest.raises(ValueError, match="not a source-state table"):
        state.write("profiles", 1, "SELECT 1")


def test_a_view_shows_the_chosen_versions(state: SourceState) -> None:
    state.write("segment_members", 1, _values([("a", "1")]))
    state.write("segment_members", 2, _values([("b", "2")]))
    state.attach("segment_members", [2], "_chosen_members")
    rows = state.engine.to_arrow("SELECT name, pid FROM _chosen_members").to_pylist()
    assert rows == [{"name": "b", "pid": "2"}]
