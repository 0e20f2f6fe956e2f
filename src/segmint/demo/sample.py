"""A tiny workspace for examples and quick tries: four customers, ten orders."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segmint.workspace import Workspace


def sample_workspace() -> Workspace:
    """A new workspace in a temporary folder holding the orders of customers C1..C4 in
    2025: C1 bought once, C2 twice, C3 three times and C4 four times (10, 20, 30, 40 each).

    >>> ws = sample_workspace()
    >>> ws.count("orders_count >= 3", as_of="2026-01-01")
    2
    """
    import tempfile
    from datetime import UTC, datetime

    import pyarrow

    from segmint.workspace import init

    orders = [(c, n) for c in range(1, 5) for n in range(c)]
    ws = init(tempfile.mkdtemp(prefix="segmint-") + "/shop")
    ws.ingest(
        "orders",
        pyarrow.table(
            {
                "order_id": [f"O{c}-{n}" for c, n in orders],
                "customer_id": [f"C{c}" for c, _ in orders],
                "ordered_at": [datetime(2025, 1 + 3 * n, c, tzinfo=UTC) for c, n in orders],
                "total": [10.0 * c for c, _ in orders],
            }
        ),
    )
    return ws
