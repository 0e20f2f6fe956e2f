"""Segment rules: the typed tree, its text form, validation and the compiler."""
