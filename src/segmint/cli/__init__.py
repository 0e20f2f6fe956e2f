"""The ``segmint`` command line. Thin: every command calls the Workspace façade."""

from __future__ import annotations

import sys

from segmint.cli import activation as _activation  # noqa: F401  (registers `export`, `suppress`)
from segmint.cli import campaigns as _campaigns  # noqa: F401  (registers `campaign`)
from segmint.cli import cluster as _cluster  # noqa: F401  (registers `cluster`)
from segmint.cli import keys as _keys  # noqa: F401  (registers `keys`)
from segmint.cli import living as _living  # noqa: F401  (registers `refresh`, history, ...)
from segmint.cli import segment as _segment  # noqa: F401  (registers `segment`)
from segmint.cli import serve as _serve  # noqa: F401  (registers `serve`)
from segmint.cli import traits as _traits  # noqa: F401  (registers `traits`, `models`)
from segmint.cli import webhooks as _webhooks  # noqa: F401  (registers `webhooks`)
from segmint.cli.app import app


def main() -> None:
    """Entry point of the ``segmint`` console script."""
    try:
        sys.exit(app())
    except Exception as exc:  # raised outside run(): reported the way run() reports it
        from segmint.cli.app import STATE
        from segmint.cli.output import error, internal_error
        from segmint.errors import SegmintError

        if STATE.debug:
            raise
        if isinstance(exc, SegmintError):
            error(str(exc))
            sys.exit(2)
        internal_error(exc)
        sys.exit(1)
