#!/usr/bin/env bash
# Installs MedSearch from the unpacked offline installer folder; no network needed.
# Usage (as root for all users, or as a user for ~/.local): bash install.sh [PREFIX]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ "$(id -u)" = 0 ]; then PREFIX="${1:-/opt/medsearch}"; APPS=/usr/share/applications; BIN=/usr/local/bin
else PREFIX="${1:-$HOME/.local/opt/medsearch}"; APPS="$HOME/.local/share/applications"; BIN="$HOME/.local/bin"; fi
mkdir -p "$PREFIX" "$APPS" "$BIN"
cp -a "$HERE/." "$PREFIX/"
ln -sf "$PREFIX/medsearch" "$BIN/medsearch"
cat > "$APPS/medsearch.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=MedSearch
Comment=Offline clinical document assistant
Exec=$PREFIX/medsearch
Icon=$PREFIX/medsearch.svg
Categories=Office;Science;MedicalSoftware;
DESKTOP
echo "MedSearch installed in $PREFIX; start it from the menu or with: medsearch"
"$PREFIX/medsearch" selftest >/dev/null && echo "selftest passed" || echo "selftest FAILED: run '$PREFIX/medsearch selftest'"
