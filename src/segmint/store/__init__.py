"""The store: the workspace's DuckDB file, its schema and connection settings."""
