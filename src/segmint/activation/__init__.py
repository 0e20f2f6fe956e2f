"""Activation: getting segment members out to where they are used. Today member lists
written to files (``files.py``) and the hashed customer lists of Meta and Google
(``audiences.py``); exports, webhooks and campaigns will live here too."""
