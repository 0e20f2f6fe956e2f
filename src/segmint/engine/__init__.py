"""The engine layer, at the bottom of segmint (docs/architecture.md).

What differs between the engines a rule or a trait runs on lives here and nowhere above:
the dialects (:mod:`segmint.engine.dialects`), the stored tables as unbound Ibis tables
(:mod:`segmint.engine.tables`), the instants of a query (:mod:`segmint.engine.clock`),
SQL rendering (:mod:`segmint.engine.render`) and the DuckDB builtins the compiler calls
(:mod:`segmint.engine.duckdb_functions`). This package imports nothing else of segmint
but :mod:`segmint.errors`.
"""
