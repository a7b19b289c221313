"""csresearch: a customer-success research workbook for subscription businesses.

The notebooks in ``notebooks/`` narrate; this package computes. Start with
:func:`csresearch.data.open_dataset` to load and validate the contract tables.
"""

__version__ = "0.1.0"
