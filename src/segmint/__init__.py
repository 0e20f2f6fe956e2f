"""segmint: a customer segmentation engine on your own data.

>>> import segmint
>>> callable(segmint.open)
True
"""

from __future__ import annotations

from segmint.errors import IngestError, NotFoundError, SegmintError, WorkspaceError
from segmint.workspace import Workspace, build_demo, init, open, open_writing_if_free

__version__ = "0.1.0"
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
