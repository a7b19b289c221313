"""The kernel side of a report: the session a notebook opens (settings, data, outputs) and the
display helpers that show generated words and tables."""
