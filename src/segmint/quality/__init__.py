"""Segment quality: the named checks, the overlap matrix and the review (``checks.py``),
and the report of ``segment show``, which includes the checks (``report.py``)."""
