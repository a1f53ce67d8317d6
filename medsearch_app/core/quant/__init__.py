"""The quantization room: building a ladder of GGUF levels with llama.cpp's quantizer, the
KL-divergence measure, comparing levels side by side (compare/), and recommending one."""
