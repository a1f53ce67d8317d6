"""The retrieval room: dense, keyword and hybrid search over the library, and the support gate
that decides, before any model is asked, whether the library holds the question's specific words."""
