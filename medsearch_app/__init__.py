"""MedSearch: offline clinical document assistant."""

__version__ = "0.1.0"
