"""The ``segmint`` command line. Thin: every command calls the Workspace façade."""

from __future__ import annotations

import sys

from segmint.cli import cluster as _cluster  # noqa: F401  (registers `cluster`)
from segmint.cli import living as _living  # noqa: F401  (registers `refresh`, history, ...)
from segmint.cli import segment as _segment  # noqa: F401  (registers `segment`)
from segmint.cli import traits as _traits  # noqa: F401  (registers `traits`, `models`)
from segmint.cli.app import app


def main() -> None:
    """Entry point of the ``segmint`` console script."""
    sys.exit(app())
