"""matplotlib, an optional extra, loaded only by the commands that draw."""

from __future__ import annotations

from typing import Any

from segmint.errors import DependencyError


def pyplot(option: str) -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend; a clear error naming
    ``option`` when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise DependencyError(
            f"{option} needs matplotlib: pip install 'segmint[plot]' (or pip install matplotlib)",
            option,
        ) from None
    return plt
