"""SQL text of an Ibis expression for one engine's dialect."""

from __future__ import annotations

from typing import Any

from segmint.engine.dialects import BACKENDS


def render_sql(expr: Any, backend: str = "duckdb", pretty: bool = True) -> str:
    """The SQL of an Ibis expression for one of :data:`DIALECTS` (pretty for people;
    one line, which is several milliseconds faster to print, for running)."""
    import ibis

    dialect = BACKENDS[backend].dialect
    if dialect == "pyspark":
        _register_pyspark_options()
    return str(ibis.to_sql(expr, dialect=dialect, pretty=pretty))


def _register_pyspark_options() -> None:
    """Compiling for PySpark without pyspark installed needs its options registered
    (shared/STACK.md: ibis registers them only when the backend loads)."""
    from ibis import options
    from ibis.config import Config

    if getattr(options, "pyspark", None) is None:

        class PySparkOptions(Config):  # type: ignore[misc]
            treat_nan_as_null: bool = False

        options.pyspark = PySparkOptions()
