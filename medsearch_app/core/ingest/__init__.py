"""Reading documents: PDFs (in a guarded child process), notes, chunking, library changes."""
