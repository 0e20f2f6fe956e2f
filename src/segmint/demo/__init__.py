"""The demo: a synthetic shop ingested through the public path, and a tour of it."""
