"""The one error hierarchy of segmint.

Every error a user can cause is a :class:`SegmintError`; the CLI prints its message on one
line and exits 2 (an exception of any other class is a bug in segmint: the CLI says so and
exits 1). Subclasses also inherit the builtin a caller would expect::

    SegmintError                      error
    ├── ValidationError (ValueError)  validation    a value, argument or input is invalid
    │   ├── ArgumentError             argument      a command option or API argument
    │   ├── RuleError                 rule          a rule or segment definition
    │   └── ConfigError               config        segmint.toml (also a WorkspaceError)
    ├── NotFoundError (LookupError)   not_found     a named thing does not exist
    ├── ConflictError                 conflict      a named thing already exists
    ├── BackendError (NotImplemented) backend       a feature the engine does not support
    ├── QueryError                    query         the engine failed running a query
    ├── DependencyError (ImportError) dependency    an optional library is not installed
    ├── WorkspaceError                workspace     missing or not a workspace
    │   ├── WorkspaceBusyError        workspace_busy
    │   └── StoreFullError (OSError)  store_full
    ├── IngestError (ValueError)      ingest        a whole load failed
    └── ModelError (ValueError)       model         a CLV model cannot be fitted

Every error has a ``location``: where the problem is, or None. It is a node path
(``rule.and[2].window``), a file and line (``segments/x.yaml:3``) or a parameter
(``--as-of``, ``as_of``). :meth:`SegmintError.to_dict` gives what an HTTP API returns.

>>> ArgumentError("--top: must be at least 1, got 0", location="--top").to_dict()
{'error': 'argument', 'message': '--top: must be at least 1, got 0', 'location': '--top'}
"""

from __future__ import annotations

import re
from typing import ClassVar


class SegmintError(Exception):
    """Base class of every error segmint raises on purpose.

    ``message`` is the whole one-line text a user sees; ``location`` names where the
    problem is for a program (None when there is no one place).
    """

    kind: ClassVar[str] = "error"

    def __init__(self, message: str = "", location: str | None = None) -> None:
        super().__init__(message)
        self.location = location

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" not in cls.__dict__:  # NotFoundError -> not_found
            name = cls.__name__.removesuffix("Error")
            cls.kind = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()

    def to_dict(self) -> dict[str, str | None]:
        """``{error, message, location}``: the body of an HTTP API's 4xx answer."""
        return {"error": self.kind, "message": str(self), "location": self.location}


class ValidationError(SegmintError, ValueError):
    """A value, argument or input fails validation; raised before anything is changed."""


class ArgumentError(ValidationError):
    """An argument of a command or API call is out of its range (``--recent -1``);
    ``location`` names the option or parameter."""


class RuleError(ValidationError):
    """A rule or segment definition is invalid; raised before any query runs.

    ``path`` names the node, e.g. ``rule.and[2].window.last_days``, and starts the
    message; it is also the ``location`` unless a more precise one is given (a file and
    line for a file that does not parse).
    """

    def __init__(self, path: str, message: str, location: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message, location or path or None)
        self.path = path
        self.detail = message


class NotFoundError(SegmintError, LookupError):
    """A named thing (customer, segment, file, run) does not exist."""


class ConflictError(SegmintError):
    """A named thing already exists (a saved segment without ``replace``, a cluster name),
    or is still in use (a segment that other segments refer to)."""


class BackendError(SegmintError, NotImplementedError):
    """A feature the engine does not support; names the node and the engine.

    >>> str(BackendError("rule.and[2].window", "postgres", "a sliding window"))
    'rule.and[2].window: a sliding window is not supported on postgres'
    """

    def __init__(self, path: str, engine: str, feature: str) -> None:
        message = f"{feature} is not supported on {engine}"
        super().__init__(f"{path}: {message}" if path else message, path or None)
        self.path = path
        self.engine = engine


class QueryError(SegmintError):
    """The engine failed while running a valid query (a value the data cannot be cast to,
    no memory left); what the query was writing was rolled back."""


class DependencyError(SegmintError, ImportError):
    """A feature needs an optional library that is not installed (matplotlib, polars)."""


class WorkspaceError(SegmintError):
    """The workspace folder is missing, not a workspace, or its config is invalid."""


class WorkspaceBusyError(WorkspaceError):
    """Another process holds the workspace's database (DuckDB allows one writer)."""


class StoreFullError(WorkspaceError, OSError):
    """The disk filled up during a write; the transaction was rolled back."""


class ConfigError(WorkspaceError, ValidationError):
    """``segmint.toml`` holds a value of the wrong type or out of range."""


class IngestError(SegmintError, ValueError):
    """A whole load failed (unknown format, missing required column, unreadable file).

    Bad *rows* never raise: they go to the rejects file.
    """


class ModelError(SegmintError, ValueError):
    """A model (CLV, clustering) cannot be fitted (too little data) or did not converge."""
