"""Core: plain Python, never imports Qt."""
