"""Writing names and values into SQL text, for the few statements that are SQL text
(the store's writes, the ingest's DuckDB fast paths)."""

from __future__ import annotations

import re

# Names an engine writes into its own statements (tables, variables): plain identifiers.
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def plain_name(name: str) -> str:
    """``name`` when it is a plain identifier, else a ValueError (never SQL text).

    >>> plain_name("events")
    'events'
    """
    if not _PLAIN_NAME.fullmatch(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (any characters allowed).

    >>> print(quote_ident('a"b'))
    "a""b"
    """
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    """Quote an SQL string literal.

    >>> print(quote_str("it's"))
    'it''s'
    """
    return "'" + value.replace("'", "''") + "'"
