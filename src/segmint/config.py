"""Workspace configuration: ``segmint.toml`` with documented defaults.

The file is written once by ``segmint init`` with every default spelled out, so users can
see and edit what is in force. Unknown keys are an error, so a typo cannot be ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from segmint.errors import ConfigError

CONFIG_FILE = "segmint.toml"
_T = TypeVar("_T")


@dataclass(frozen=True)
class StoreConfig:
    """How the embedded DuckDB store runs."""

    # DuckDB spills to disk past this; keeps a 50M-event load under ~4 GB RSS on a small box.
    memory_limit: str = "3GB"
    threads: int = 0  # 0 = one per core


@dataclass(frozen=True)
class IngestConfig:
    """Ingestion settings."""

    # Events that count as purchases; orders are stored as the first of these.
    purchase_events: tuple[str, ...] = ("order_completed",)
    # Rows with more decimal places than this in `revenue`/`total` are rejected, not rounded.
    money_scale: int = 4


@dataclass(frozen=True)
class Config:
    """The whole ``segmint.toml``."""

    store: StoreConfig = field(default_factory=StoreConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)

    @property
    def order_event(self) -> str:
        """The event name orders are stored under."""
        return self.ingest.purchase_events[0]


def default_toml() -> str:
    """The text ``segmint init`` writes: every setting with its default and meaning."""
    return """\
# segmint workspace configuration. Every value below is the default; edit to change.

[store]
# DuckDB memory limit; work past it spills to the workspace's tmp/ folder.
memory_limit = "3GB"
# Worker threads for DuckDB; 0 means one per CPU core.
threads = 0

[ingest]
# Events that count as purchases. Orders (`segmint ingest orders`) are stored as events
# named after the first entry.
purchase_events = ["order_completed"]
# Money (revenue, total) is stored exactly as DECIMAL(18, money_scale); a value with more
# decimal places than this is rejected rather than rounded.
money_scale = 4
"""


def load_config(path: Path) -> Config:
    """Read ``segmint.toml``; missing keys take their defaults, unknown keys are an error."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return Config(
        store=_section(path, raw, "store", StoreConfig),
        ingest=_section(path, raw, "ingest", IngestConfig),
    )


def _section(path: Path, raw: dict[str, Any], name: str, cls: type[_T]) -> _T:
    values = raw.get(name, {})
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    for key in values:
        if key not in known:
            raise ConfigError(f"{path}: [{name}] has unknown key {key!r}; known: {sorted(known)}")
    kwargs = {k: _coerce(path, name, k, v, known[k].default) for k, v in values.items()}
    return cls(**kwargs)


def _coerce(path: Path, section: str, key: str, value: Any, default: Any) -> Any:
    where = f"{path}: [{section}] {key}"
    if isinstance(default, tuple):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a non-empty list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, bool) or not isinstance(value, type(default)):
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}")
    if isinstance(default, int) and value < 0:
        raise ConfigError(f"{where}: must be >= 0, got {value}")
    return value
