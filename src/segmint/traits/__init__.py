"""Computed customer traits (DESIGN section 5)."""
