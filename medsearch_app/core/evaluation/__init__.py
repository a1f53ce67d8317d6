"""The evaluation room: retrieval quality (recall@k, page location) and answer quality on labelled
question sets, through the same engine the window uses."""
