"""``segmint serve``: the HTTP server on a workspace (docs/server.md)."""
