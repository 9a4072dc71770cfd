"""runloom: a visual workflow builder that compiles graphs to Python Temporal code."""

__version__ = "0.1.0"
