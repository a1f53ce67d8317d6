#!/usr/bin/env bash
# CI's proof of the offline installer (called by .ci/run after packaging/build.sh):
# install the built .run into a temporary prefix with no network, run the installed selftest
# (--json, every check by name), open the installed app's window offscreen on its demo library
# and close it, uninstall, and check that nothing is left. Any failure fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-$(ls dist/medsearch-*-linux-x86_64.run | head -1)}
work=$(mktemp -d)
prefix=$work/opt/medsearch bin=$work/bin menu=$work/applications home=$work/home
mkdir -p "$home" "$work/user"
# An empty home for the user: afterwards nothing may lie there (the data folder is $home).
export HOME=$work/user
# Each run of the installed app under strace: any internet connect/bind/send fails CI, the
# library that made it named (scripts/netwatch.py). The user's environment asks for telemetry.
export ORT_DISABLE_TELEMETRY=0
watch=(.venv/bin/python scripts/netwatch.py --)
if unshare -n true 2>/dev/null; then
  isolate=(unshare -n); how="a network namespace with no interfaces (unshare -n)"
elif unshare -rn true 2>/dev/null; then
  isolate=(unshare -rn); how="a user and network namespace with no interfaces (unshare -rn)"
else
  isolate=(); how="NO namespace (unshare is not allowed here): the suite's socket-blocking test (tests/ui/test_no_network.py) stands in"
fi
echo "install check of $(basename "$run") ($(du -m "$run" | cut -f1) MB) in $how"
export MEDSEARCH_HOME=$home QT_QPA_PLATFORM=offscreen
t=$(date +%s)
"${watch[@]}" "${isolate[@]}" sh "$run" --prefix "$prefix" --bin-dir "$bin" --menu-dir "$menu"
echo "installed (with its self-test) in $(( $(date +%s) - t )) s: $(du -sm "$prefix" | cut -f1) MB"
test -L "$bin/medsearch" && grep -q "^Exec=$prefix/medsearch$" "$menu/medsearch.desktop"
# Without torch: no libtorch installed, and the install less its GGUF models at most 620 MB
# (1,232 MB with torch).
if find "$prefix" -name 'libtorch*' | grep -q .; then echo "libtorch in the install" >&2; exit 1; fi
gguf_mb=$(find "$prefix" -name '*.gguf' -printf '%s\n' | awk '{s += $1} END {printf "%d", s / 1048576}')
rest_mb=$(( $(du -sm "$prefix" | cut -f1) - gguf_mb ))
echo "installed less its GGUF files ($gguf_mb MB): $rest_mb MB (at most 620)"
test "$rest_mb" -le 620

"${watch[@]}" "${isolate[@]}" "$prefix/medsearch" selftest --json > "$work/selftest.json"
.venv/bin/python - "$work/selftest.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
names = {c["name"] for c in doc["checks"]}
need = {"embedder onnx-int8", "embedder onnx-fp32", "embedder fp32", "embedder int8",
        "vector index round trip", "PDF extraction", "GGUF generation", "answer model",
        "word frequencies (the support gate)", "drug names (the support gate)",
        "memory and GPU gauges", "comparison report chart", "window"}
assert doc["ok"] and need <= names, doc
detail = {c["name"]: c["detail"] for c in doc["checks"]}
# no torch in the installed app: the ONNX embedder comes from the shipped graph, and the torch
# precisions are reported as needing the developer install
assert "shipped graph quantized" in detail["embedder onnx-int8"], detail
assert all(detail[f"embedder {p}"].startswith("not in this install") for p in ("fp32", "int8")), detail
print("installed selftest --json:", ", ".join(f"{c['name']} {c['ms'] / 1000:.1f} s"
                                              for c in doc["checks"]))
PY
# A model pack dropped into the installed models folder is found by the installed app.
cp "$(find "$prefix" -name 'SmolLM2-135M-Instruct.Q4_1.gguf' | head -1)" "$prefix/models/pack-test.gguf"
"${isolate[@]}" "$prefix/medsearch" models --json | grep -q "$prefix/models/pack-test.gguf"
echo "the installed app lists a GGUF dropped into $prefix/models"

# The window for 45 s with one question asked (onnxruntime's uploader, when it was on, fired
# within 30 s of the window opening).
"${watch[@]}" "${isolate[@]}" timeout 600 "$prefix/medsearch" gui --quit-after 45 \
  --ask "What CURB-65 score means a patient with pneumonia should be admitted?" 2> "$work/gui.err" \
  || { cat "$work/gui.err" >&2; exit 1; }
cat "$work/gui.err" >&2
# the question was answered in the window, from the demo library it had indexed
grep "answered in" "$work/gui.err" | grep -v -q "do not support"
test -f "$home/library.sqlite3"  # the window opened its library (the demo) in the data folder
# The window's embedder came from the shipped ONNX graph (no export step, no torch), and it finds
# the same top 5 for the demo questions as the developer install's onnx-int8 on the same files.
grep -q '"shipped"' "$home"/embedders/*/embedder.json
.venv/bin/python -c "from medsearch_app.demo import DEMO_QUESTIONS as q; print(*q, sep='\n')" > "$work/q.txt"
"${watch[@]}" "${isolate[@]}" "$prefix/medsearch" search --queries "$work/q.txt" -k 5 --json > "$work/installed.json"
MEDSEARCH_HOME=$work/devhome .venv/bin/medsearch index -q "$home/demo"
MEDSEARCH_HOME=$work/devhome .venv/bin/medsearch search --queries "$work/q.txt" -k 5 --json > "$work/dev.json"
.venv/bin/python - "$work/installed.json" "$work/dev.json" <<'PY'
import json, sys
top = [[[(h["path"], h["page"], h["text"]) for h in r["hits"]] for r in json.load(open(f))["results"]]
       for f in sys.argv[1:]]
assert len(top[0]) == 6 and all(len(t) == 5 for t in top[0]), top[0]
assert top[0] == top[1], "the installed app's top 5 differ from the developer install's"
print("the installed app's top 5 for the 6 demo questions are the developer install's onnx-int8 ones")
PY
outside=$(find "$HOME" -mindepth 1 -type f 2>/dev/null || true)
if [ -n "$outside" ]; then echo "written outside the data folder: $outside" >&2; exit 1; fi
echo "the installed app made no internet connection and wrote nothing outside its data folder"

"${isolate[@]}" sh "$run" --uninstall --prefix "$prefix"
left=$(find "$work/opt" "$bin" "$menu" -mindepth 1 2>/dev/null || true)
if [ -n "$left" ]; then echo "left behind after uninstall: $left" >&2; exit 1; fi
test -f "$home/library.sqlite3"  # the user's library is kept
rm -rf "$work"
echo "install check passed: install, selftest, window, uninstall, nothing left"
