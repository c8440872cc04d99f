#!/bin/sh
# Prints the Debian packages holding the shared libraries BINARY links (ldd), one a line, sorted:
# what the runtime stage of deploy/docker/Dockerfile installs, so the image follows the build's
# real dependencies on amd64 and arm64 alike. Debian 12 merged /lib into /usr/lib while dpkg
# still knows many files by their old path, so both spellings are asked (in one dpkg call: each
# call reads the whole package database). Exit 1 naming a library no package holds.
set -eu
[ $# -eq 1 ] || { echo "usage: runtime-packages.sh BINARY" >&2; exit 2; }
libs=$(ldd "$1" | awk '$3 ~ /^\// { print $3 }')
spellings=""
for lib in $libs; do spellings="$spellings $lib /usr$lib ${lib#/usr}"; done
# "pkg:arch: /path" per spelling dpkg knows; the unknown ones only make it exit non-zero.
db=$(dpkg -S $spellings 2>/dev/null || true)
pkgs=""
for lib in $libs; do
  found=$(printf '%s\n' "$db" | awk -v a="$lib" -v b="/usr$lib" -v c="${lib#/usr}" \
    '$NF == a || $NF == b || $NF == c { sub(/:.*/, "", $1); print $1; exit }')
  [ -n "$found" ] || { echo "runtime-packages.sh: no Debian package holds $lib" >&2; exit 1; }
  pkgs="$pkgs $found"
done
printf '%s\n' $pkgs | sort -u
