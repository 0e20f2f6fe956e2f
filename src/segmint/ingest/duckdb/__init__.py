"""The DuckDB load pipeline: readers, staging with TRY_CAST validation, and the set-based
steps that turn staged rows into events, orders, rates and profiles.

This package is DuckDB-only on purpose, and the one place outside ``engine/`` and
``store/`` where SQL text is written (tests/test_architecture.py checks it). It earns its
place by speed: DuckDB reads CSV, Parquet and JSON Lines itself, validates every value in
one scan with ``TRY_CAST`` and writes 50M events in one statement, where going through Ibis
and Arrow row batches would read and copy everything twice. Other engines (PostgreSQL,
Spark) segment data where it already lives and do not load files through segmint, so
nothing above this package depends on it being DuckDB. Identity resolution, the type
catalogs and the loads ledger are segmint's own tables and are written through
``store/identities.py``, ``store/catalog.py`` and ``store/loads.py``.
"""
