"""segmint: a customer segmentation engine on your own data.

>>> import segmint
>>> callable(segmint.open)
True
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from segmint.errors import IngestError, NotFoundError, SegmintError, WorkspaceError
from segmint.workspace import Workspace, init, open, open_writing_if_free

if TYPE_CHECKING:
    from segmint.console import Progress
    from segmint.demo.tour import DemoReport

__version__ = "0.1.0"


def build_demo(
    path: str | os.PathLike[str],
    customers: int = 5000,
    seed: int = 0,
    progress: Progress | None = None,
    force: bool = False,
) -> DemoReport:
    """Create a workspace at ``path`` holding a synthetic shop of ``customers`` (same
    ``seed``, same shop), ingest it, save and refresh the tour's segments, cluster it, and
    return what the tour found; ``force`` replaces an earlier demo workspace there.

    The demo is a user of the façade (segmint/demo/), so it is offered here, above both.

    >>> import tempfile, segmint
    >>> report = segmint.build_demo(tempfile.mkdtemp() + "/shop", customers=100)  # doctest: +SKIP
    >>> report.stats["customers"] >= 100  # doctest: +SKIP
    True
    """
    from segmint.demo.tour import build_demo as build

    return build(path, customers, seed, progress, force=force)


__all__ = [
    "IngestError",
    "NotFoundError",
    "SegmintError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "build_demo",
    "init",
    "open",
    "open_writing_if_free",
]
