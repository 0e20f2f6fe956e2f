"""Writing names and values into SQL text, for the few statements that are SQL text
(the store's writes, the ingest's DuckDB fast paths)."""

from __future__ import annotations


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
