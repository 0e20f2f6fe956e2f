"""Ingestion: reading files and tables, validation, rejects, identity resolution."""
