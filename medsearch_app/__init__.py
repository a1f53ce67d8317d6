"""MedSearch: offline clinical document assistant."""

# First, before anything can import a model library: network look-ups and telemetry off
# (onnxruntime's included). Every entry point imports this package, so this is the one place.
from .core.system import offline as _offline  # noqa: F401

__version__ = "0.1.0"
