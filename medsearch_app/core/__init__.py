"""Core: plain Python, never imports Qt.

Rooms, each importing only those listed after it (checked by import-linter, pyproject.toml):
quant → evaluation → engine → answer → retrieval → library → embedding | llm → text.
Loose, shared by all: types (events and values), errors (the error family), settings.
`engine` owns one session's parts; `selftest` exercises every room on this machine.
"""
