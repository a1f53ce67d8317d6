"""Core: plain Python, never imports Qt.

Rooms and a few loose modules, each importing only those after it (import-linter's layers
contract in pyproject.toml): selftest → quant → evaluation → engine → answer → retrieval →
library → embedding | llm → text → settings → system → types | errors. `engine` owns one
session's parts; `selftest` exercises every room on this machine; `settings`, `types` (events and
values) and `errors` (the error family) are shared by all.
"""
