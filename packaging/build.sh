#!/usr/bin/env bash
# Builds the offline installer: dist/MedSearch (PyInstaller onedir) packed with install.sh into
# dist/medsearch-offline-installer.tar.gz. Needs the project's .venv (scripts/install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install -q "pyinstaller>=6.10"
.venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
  packaging/medsearch.spec
cp packaging/install_offline.sh dist/MedSearch/install.sh
cp resources/icons/medsearch.svg dist/MedSearch/medsearch.svg
tar -C dist -czf dist/medsearch-offline-installer.tar.gz MedSearch
echo "built dist/medsearch-offline-installer.tar.gz ($(du -h dist/medsearch-offline-installer.tar.gz | cut -f1))"
# Smoke test of the frozen app, with no network namespace when unshare is available.
run=(dist/MedSearch/medsearch selftest)
if command -v unshare >/dev/null && unshare -n true 2>/dev/null; then run=(unshare -n "${run[@]}"); fi
MEDSEARCH_HOME="$(mktemp -d)" QT_QPA_PLATFORM=offscreen "${run[@]}"
