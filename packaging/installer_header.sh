#!/bin/sh
# MedSearch offline installer for Linux: this shell header, then a gzip'd tar of the frozen app.
# Built by packaging/build.sh, which fills in the @...@ fields. See packaging/README.md.
set -eu
VERSION="@VERSION@"
PAYLOAD_SHA256="@PAYLOAD_SHA256@"
PAYLOAD_BYTES="@PAYLOAD_BYTES@"
UNPACKED_MB="@UNPACKED_MB@"
ME="$0"

usage() {
  cat <<EOF
MedSearch $VERSION offline installer (no network needed).

Install:    sh $(basename "$ME") [--prefix DIR] [--no-menu] [--no-selftest]
Uninstall:  sh $(basename "$ME") --uninstall [--prefix DIR] [--purge]
            (or: DIR/uninstall.sh [--purge])
Check:      sh $(basename "$ME") --check      verify the installer is intact, install nothing

  --prefix DIR   where the app goes. Default: /opt/medsearch as root (every user gets the
                 menu entry and /usr/local/bin/medsearch), ~/.local/opt/medsearch otherwise
                 (menu entry and ~/.local/bin/medsearch for this user only).
  --bin-dir DIR  where the `medsearch` command link goes (default above).
  --menu-dir DIR where the menu entry medsearch.desktop goes (default: the applications folder
                 of /usr/share as root, of ~/.local/share otherwise).
  --no-menu      no menu entry and no command link, only the folder.
  --no-selftest  skip the check run after installing (model, embedder, index, PDF, window).
  --uninstall    remove what this installer installed. The user's library, history and models
                 folder are kept unless --purge is given too.
  --purge        with --uninstall: also delete the data of the user running it
                 (medsearch delete-data --yes --models).

Needs about $UNPACKED_MB MB of disk under the prefix, and sh, tar, gzip, awk and sha256sum.
EOF
}

die() { echo "medsearch installer: $*" >&2; exit 1; }

prefix="" ; bin_dir="" ; menu_dir="" ; mode=install ; menu=1 ; selftest=1 ; purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a folder"; bin_dir="$2"; shift 2 ;;
    --menu-dir) [ $# -ge 2 ] || die "--menu-dir needs a folder"; menu_dir="$2"; shift 2 ;;
    --uninstall) mode=uninstall; shift ;;
    --purge) purge=1; shift ;;
    --check) mode=check; shift ;;
    --no-menu) menu=0; shift ;;
    --no-selftest) selftest=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

if [ "$(id -u)" = 0 ]; then
  default_prefix=/opt/medsearch; bindir=/usr/local/bin; appdir=/usr/share/applications
else
  default_prefix="$HOME/.local/opt/medsearch"; bindir="$HOME/.local/bin"
  appdir="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
fi
prefix="${prefix:-$default_prefix}"
bindir="${bin_dir:-$bindir}"
appdir="${menu_dir:-$appdir}"
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
prefix="${prefix%/}"
[ -n "$prefix" ] && [ "$prefix" != / ] || die "refusing to use / as the prefix"

payload() {  # the archive after the header line that marks it
  line=$(awk '/^__MEDSEARCH_PAYLOAD_BELOW__$/ { print NR + 1; exit }' "$ME")
  tail -n +"$line" "$ME"
}

verify() {
  echo "checking the installer ($((PAYLOAD_BYTES / 1048576)) MB)..."
  sum=$(payload | sha256sum | cut -d' ' -f1)
  [ "$sum" = "$PAYLOAD_SHA256" ] || die "the installer file is damaged (checksum mismatch): copy it again"
}

uninstall() {
  [ -x "$prefix/uninstall.sh" ] && [ -f "$prefix/.medsearch-install" ] \
    || die "no MedSearch installed by this installer in $prefix"
  if [ "$purge" = 1 ]; then exec "$prefix/uninstall.sh" --purge; else exec "$prefix/uninstall.sh"; fi
}

install_app() {
  verify
  parent=$(dirname "$prefix")
  mkdir -p "$parent" || die "cannot create $parent"
  need_kb=$((UNPACKED_MB * 1024))
  free_kb=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
  [ "$free_kb" -ge "$need_kb" ] || die "not enough disk in $parent: $((free_kb / 1024)) MB free, $UNPACKED_MB MB needed"
  # Unpack beside the prefix, then rename: an interrupted install leaves no app that starts,
  # only a .partial folder that the next run removes.
  staging="$prefix.partial"
  rm -rf "$staging"
  trap 'rm -rf "$staging"; echo "install interrupted: nothing was installed" >&2; exit 1' INT TERM HUP
  mkdir -p "$staging"
  echo "unpacking into $prefix..."
  payload | tar -xzf - -C "$staging" || { rm -rf "$staging"; die "unpacking failed (disk full?)"; }
  [ -x "$staging/MedSearch/medsearch" ] || { rm -rf "$staging"; die "the installer holds no app"; }
  {
    echo "# MedSearch $VERSION installed $(date -u +%Y-%m-%dT%H:%M:%SZ); files outside the prefix:"
    if [ "$menu" = 1 ]; then echo "$bindir/medsearch"; echo "$appdir/medsearch.desktop"; fi
  } > "$staging/MedSearch/.medsearch-install"
  if [ -e "$prefix" ]; then
    [ -f "$prefix/.medsearch-install" ] || { rm -rf "$staging"; die "$prefix exists and is not a MedSearch install: choose another --prefix"; }
    # An upgrade keeps the model packs IT put in the models folder; the models this version
    # ships (the answer model, README.txt) are the new ones.
    if [ -d "$prefix/models" ]; then
      mkdir -p "$staging/MedSearch/models"
      for f in "$prefix/models"/* "$prefix/models"/.[!.]*; do
        [ -e "$f" ] || continue
        [ -e "$staging/MedSearch/models/$(basename "$f")" ] || mv "$f" "$staging/MedSearch/models/"
      done
    fi
    mv "$prefix" "$prefix.old"
  fi
  mv "$staging/MedSearch" "$prefix"
  rm -rf "$staging" "$prefix.old"
  trap - INT TERM HUP
  if [ "$menu" = 1 ]; then
    mkdir -p "$bindir" "$appdir"
    ln -sf "$prefix/medsearch" "$bindir/medsearch"
    cat > "$appdir/medsearch.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=MedSearch
Comment=Offline clinical document assistant
Exec=$prefix/medsearch
Icon=$prefix/medsearch.svg
Terminal=false
Categories=Office;Science;MedicalSoftware;
EOF
  fi
  echo "MedSearch $VERSION installed in $prefix"
  [ "$menu" = 1 ] && echo "start it from the menu, or with: $bindir/medsearch"
  if [ "$selftest" = 1 ]; then
    echo "running the self-test (model, embedder, index, PDF, memory gauges, window)..."
    scratch=$(mktemp -d)
    if QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" MEDSEARCH_HOME="$scratch" \
        "$prefix/medsearch" selftest; then
      rm -rf "$scratch"
      echo "self-test passed"
    else
      rm -rf "$scratch"
      echo "self-test FAILED: run '$prefix/medsearch selftest' and see packaging/README.md" >&2
      exit 2
    fi
  fi
}

case "$mode" in
  check) verify; echo "installer intact (MedSearch $VERSION)" ;;
  uninstall) uninstall ;;
  install) install_app ;;
esac
exit 0
__MEDSEARCH_PAYLOAD_BELOW__
