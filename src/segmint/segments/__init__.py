"""Saved segments and their evaluation."""
