#!/usr/bin/env bash
# pack_run.sh FOLDER OUT VERSION: packs FOLDER (the frozen app, named MedSearch) behind
# installer_header.sh into the self-installing file OUT. Used by build.sh and by the installer's
# tests (tests/core/test_installer.py), which pack a small stand-in folder the same way.
set -euo pipefail
folder=$1 out=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
[ "$(basename "$folder")" = MedSearch ] || { echo "the folder must be named MedSearch" >&2; exit 1; }
payload=$(mktemp)
trap 'rm -f "$payload"' EXIT
unpacked_mb=$(( $(du -sm "$folder" | cut -f1) + 1 ))
tar -C "$(dirname "$folder")" -cf - MedSearch | gzip -6 > "$payload"
sha=$(sha256sum "$payload" | cut -d' ' -f1)
bytes=$(stat -c %s "$payload")
sed -e "s|@VERSION@|$version|" -e "s|@PAYLOAD_SHA256@|$sha|" -e "s|@PAYLOAD_BYTES@|$bytes|" \
    -e "s|@UNPACKED_MB@|$unpacked_mb|" "$here/installer_header.sh" > "$out.tmp"
cat "$payload" >> "$out.tmp"
chmod 755 "$out.tmp"
mv "$out.tmp" "$out"
