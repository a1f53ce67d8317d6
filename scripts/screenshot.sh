#!/usr/bin/env bash
# Takes the README screenshots under a virtual X screen (Debian's xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v xvfb-run >/dev/null || { apt-get update -qq && apt-get install -y -qq xvfb xauth; }
xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot.py docs
