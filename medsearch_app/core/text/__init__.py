"""The text room: rules about English and clinical words shared by search, the support gate, the
sentence check and the window — a question's content words, specific terms (drugs, tests,
abbreviations), everyday words for clinical ones, yes/no questions, finding a passage again.
Pure functions; imports nothing else of the core."""
