"""The library room: the user's documents read (PDFs in a guarded child process, notes), cut into
passages, and stored — SQLite metadata and keyword index (with what a keyword query asks beside
the question's words), one hnswlib vector index per embedder —
with the check that the two agree. Imports the embedding room (to embed passages), never retrieval
or answering."""
