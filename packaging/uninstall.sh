#!/bin/sh
# Removes the MedSearch installed in this folder: the folder itself, and the command link and menu
# entry the installer listed in .medsearch-install. The user's library, history and models folder
# are kept unless --purge is given (then `medsearch delete-data --yes --models` runs first).
set -eu
prefix=$(cd "$(dirname "$0")" && pwd)
manifest="$prefix/.medsearch-install"
purge=0
for a in "$@"; do
  case "$a" in
    --purge) purge=1 ;;
    -h|--help) echo "usage: $0 [--purge]"; exit 0 ;;
    *) echo "unknown option: $a (usage: $0 [--purge])" >&2; exit 1 ;;
  esac
done
[ -f "$manifest" ] || { echo "$prefix was not installed by the MedSearch installer" >&2; exit 1; }
if [ "$purge" = 1 ]; then
  "$prefix/medsearch" delete-data --yes --models || echo "could not delete the user's data" >&2
fi
while IFS= read -r f; do
  case "$f" in ''|'#'*) continue ;; esac
  # Only what points into this install: a link or menu entry of another install stays.
  if [ -L "$f" ] && [ "$(readlink "$f")" = "$prefix/medsearch" ]; then rm -f "$f"; echo "removed $f"
  elif [ -f "$f" ] && grep -q "^Exec=$prefix/medsearch\$" "$f"; then rm -f "$f"; echo "removed $f"
  fi
done < "$manifest"
cd /
rm -rf "$prefix"
echo "removed $prefix"
[ "$purge" = 1 ] || echo "your library and settings were kept (uninstall with --purge to delete them)"
