"""The embedding room: sentence embedders at each precision (sentence-transformers fp32/int8 with
torch, ONNX Runtime fp32/int8 without), one abstract `Embedder.embed_batch`. Knows nothing of the
library or the answer model."""
