"""Activation: getting segment members out to where they are used. Today member lists
written to files (``files.py``); exports to platforms, webhooks and campaigns will live
here too."""
