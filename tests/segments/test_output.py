"""Results as Arrow, pandas or polars: a library that is not installed is a clear error."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import segmint
from segmint.errors import SegmintError
from tests.conftest import write_csv

AS_OF = "2026-03-01T00:00:00Z"

CALLS: dict[str, Callable[[segmint.Workspace, str], Any]] = {
    "members": lambda ws, out: ws.members('plan = "pro"', as_of=AS_OF, output=out),
    "traits": lambda ws, out: ws.traits(as_of=AS_OF, output=out),
    "history": lambda ws, out: ws.history("pros", output=out),
}


@pytest.fixture
def shop(ws: segmint.Workspace, files: Path) -> segmint.Workspace:
    ws.ingest("customers", write_csv(files / "c.csv", "customer_id,plan\nC1,pro\nC2,free"))
    ws.add_segment("pros", 'plan = "pro"')
    ws.refresh(as_of=AS_OF)
    return ws


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("library", ["polars", "pandas"])
def test_output_from_a_missing_library_names_what_to_install(
    shop: segmint.Workspace, monkeypatch: pytest.MonkeyPatch, call: str, library: str
) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # makes `import library` fail
    with pytest.raises(SegmintError) as caught:
        CALLS[call](shop, library)
    assert str(caught.value) == (
        f'output="{library}" needs {library}, which is not installed: '
        f'pip install {library} (or use output="arrow")'
    )
    assert CALLS[call](shop, "arrow").num_rows >= 1  # Arrow needs neither


@pytest.mark.parametrize("call", sorted(CALLS))
def test_polars_output_when_polars_is_installed(shop: segmint.Workspace, call: str) -> None:
    pl = pytest.importorskip("polars")
    frame = CALLS[call](shop, "polars")
    assert isinstance(frame, pl.DataFrame) and frame["customer_id"][0] == "C1"


def test_a_missing_library_is_reported_before_any_work(
    shop: segmint.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)
    # The output is checked first: no traits computed, no segment looked up.
    with pytest.raises(SegmintError, match="needs polars"):
        shop.history("no-such-segment", output="polars")
    with pytest.raises(SegmintError, match="needs polars"):
        shop.traits(as_of="not a time", output="polars")


def test_history_names_since_in_its_errors(shop: segmint.Workspace) -> None:
    with pytest.raises(SegmintError, match=r"^since: expected an ISO 8601"):
        shop.history("pros", since="last week")
