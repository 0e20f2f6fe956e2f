"""Identity: who a customer is across ids, emails and anonymous visits; the single
customer view (``view.py``)."""
