"""The answer room: the evidence sentences quoted first, the prompt with numbered sources, the
streamed answer with citations, and every answer sentence checked against what it cites."""
