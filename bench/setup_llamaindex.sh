#!/usr/bin/env bash
# Makes bench/.venv-llamaindex: LlamaIndex with its default file readers and the Hugging Face
# embedding, for bench/bench_indexing.py --vs-llamaindex. Not needed by the app or its tests.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
[ -x .venv-llamaindex/bin/python ] || "$PY" -m venv .venv-llamaindex
.venv-llamaindex/bin/python -m pip install -q --upgrade pip
.venv-llamaindex/bin/python -m pip install -q "torch==2.13.0"
.venv-llamaindex/bin/python -m pip install -q -r requirements.txt
.venv-llamaindex/bin/python -c "import llama_index.core, llama_index.embeddings.huggingface; print('[llamaindex] ready:', llama_index.core.__version__)"
