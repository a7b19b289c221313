"""Data overview: what data did we get, how much of it is usable, and the shape of the business.

The worked example of an analysis package (docs/developing.md walks through it).
"""
