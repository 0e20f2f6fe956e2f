"""Words for error messages, at the bottom of segmint so every layer can use them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(word: str, options: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``options``, or nothing.

    >>> suggest("stroe", ["store", "ingest"])
    "; did you mean 'store'?"
    >>> suggest("zzz", ["store"])
    ''
    """
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
