"""API keys of the HTTP server (docs/server.md, "API keys"): a client sends its key as the
user name of HTTP Basic authentication, and the key's scope says what it may do.

A key is ``sk_`` and 32 random bytes (URL-safe base64), shown once when it is made; the
store keeps only its SHA-256 and its first characters, to tell keys apart in a listing
(store/keys.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from segmint.errors import ArgumentError, ConflictError, NotFoundError

if TYPE_CHECKING:
    import duckdb

# Ordered: each scope allows what the ones before it allow.
SCOPES = ("read", "write", "admin")
SCOPE_MEANINGS = {
    "read": "look-ups and the GET routes",
    "write": "read, plus the tracking API and every other write",
    "admin": "everything, managing API keys too",
}
PREFIX = "sk_"
# How much of a key a listing shows: "sk_" and 7 of its 43 random characters, enough to
# tell keys apart and far too little to guess the rest.
SHOWN = 10
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


@dataclass(frozen=True)
class ApiKey:
    """A key as stored; ``key`` is the secret itself, set only on the key just made (it is
    not stored, so it cannot be shown again)."""

    name: str
    scope: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    # Kept out of the repr, so that logging a key object does not log the secret.
    key: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "scope": self.scope,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }
        if self.key is not None:
            found["key"] = self.key
        return found


def allows(scope: str, needed: str) -> bool:
    """Whether a key of ``scope`` may do what needs scope ``needed``.

    >>> allows("admin", "write"), allows("write", "write"), allows("read", "write")
    (True, True, False)
    """
    return SCOPES.index(check_scope(scope)) >= SCOPES.index(check_scope(needed))


def check_scope(scope: str) -> str:
    """``scope`` if it is one of :data:`SCOPES`, else an :class:`ArgumentError` listing them.

    >>> check_scope("owner")
    Traceback (most recent call last):
    ...
    segmint.errors.ArgumentError: --scope: one of read, write, admin, got 'owner'
    """
    if scope not in SCOPES:
        raise ArgumentError(f"--scope: one of {', '.join(SCOPES)}, got {scope!r}", "--scope")
    return scope


def check_name(name: str) -> str:
    """``name`` if it is a key name: lower-case letters, digits, '-' and '_'."""
    if not _NAME.fullmatch(name):
        raise ArgumentError(
            f"key name: lower-case letters, digits, '-' and '_' (at most 63), got {name!r}",
            "name",
        )
    return name


def hash_of(key: str) -> str:
    """The SHA-256 hex digest that is stored instead of ``key``.

    A fast, unsalted hash is right here, unlike for passwords: passwords are short and
    guessable, so their hashes need salt and a slow function against trying candidates. A
    key is 256 random bits; nobody can enumerate candidates, so a slow hash would protect
    nothing and only slow every request, and without salt the server finds a key by its
    hash with one look-up.

    >>> len(hash_of("sk_example")), hash_of("sk_example") == hash_of("sk_example")
    (64, True)
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create(con: duckdb.DuckDBPyConnection, name: str, scope: str = "write") -> ApiKey:
    """Make key ``name`` of ``scope``, store its hash and return it with the secret."""
    from segmint.store import keys as store
    from segmint.store.txn import transaction

    check_name(name)
    check_scope(scope)
    key = PREFIX + secrets.token_urlsafe(32)
    made = ApiKey(name, scope, key[:SHOWN], datetime.now(UTC), key=key)
    with transaction(con, "keys", "the API key"):
        if store.is_active(con, name):
            raise ConflictError(
                f"an API key {name!r} already exists; revoke it first "
                f"(segmint keys revoke {name}) or pick another name",
                "name",
            )
        store.create(con, name, scope, hash_of(key), made.prefix, made.created_at)
    return made


def listed(con: duckdb.DuckDBPyConnection) -> list[ApiKey]:
    """Every key, revoked ones too, oldest first; none carries its secret."""
    from segmint.store import keys as store

    return [ApiKey(**entry) for entry in store.listed(con)]


def revoke(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Revoke the active key ``name``; it stops working at once and stays listed."""
    from segmint.hints import suggest
    from segmint.store import keys as store
    from segmint.store.txn import transaction

    with transaction(con, "keys", "the API key"):
        if not store.revoke(con, name, datetime.now(UTC)):
            raise NotFoundError(
                f"no active API key {name!r}{suggest(name, store.active_names(con))} "
                "(see: segmint keys list)",
                "name",
            )


def scope_of(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """The scope of ``key`` if it is an active key, else None."""
    from segmint.store import keys as store

    return store.scope_of(con, hash_of(key))
