"""The one error hierarchy of segmint.

Every error a user can cause is a :class:`SegmintError`; the CLI prints its message on one
line and exits 2. Subclasses also inherit the builtin a caller would expect.
"""

from __future__ import annotations


class SegmintError(Exception):
    """Base class of every error segmint raises on purpose."""


class WorkspaceError(SegmintError):
    """The workspace folder is missing, not a workspace, or its config is invalid."""


class WorkspaceBusyError(WorkspaceError):
    """Another process holds the workspace's database (DuckDB allows one writer)."""


class StoreFullError(WorkspaceError, OSError):
    """The disk filled up during a write; the transaction was rolled back."""


class ConfigError(WorkspaceError, ValueError):
    """``segmint.toml`` holds a value of the wrong type or out of range."""


class IngestError(SegmintError, ValueError):
    """A whole load failed (unknown format, missing required column, unreadable file).

    Bad *rows* never raise: they go to the rejects file.
    """


class ArgumentError(SegmintError, ValueError):
    """An argument of a command or API call is out of its range (``--recent -1``)."""


class NotFoundError(SegmintError, LookupError):
    """A named thing (customer, segment) does not exist."""


class RuleError(SegmintError, ValueError):
    """A rule or segment definition is invalid; raised before any query runs.

    ``path`` names the node, e.g. ``rule.and[2].window.last_days``.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.detail = message


class ModelError(SegmintError, ValueError):
    """A CLV model cannot be fitted (too little data) or did not converge."""
