#!/usr/bin/env bash
# Build (or reuse) Thanos at one pinned version from the Go module proxy, cached outside the
# repository keyed by that version; the last line printed is the path of the binary.
# Thanos' go.mod has replace directives, so `go install module@version` refuses it: the module
# source is downloaded, copied somewhere writable and built there. Thanos 0.42 needs a newer Go
# than Debian's; GOTOOLCHAIN fetches that toolchain through the module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${KFM_THANOS_VERSION:-0.42.5}
toolchain=${KFM_THANOS_GOTOOLCHAIN:-go1.26.10}
cache=${KFM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kfm-observability}
folder="$cache/thanos-v$version"
if [ -x "$folder/thanos" ]; then
  echo "$folder/thanos"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go is missing: Thanos $version is built from its module source through the module proxy." >&2
  echo "Install Go (Debian: apt-get install golang) and run make test again." >&2
  exit 1
fi

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
echo "building thanos $version with $toolchain (the first build takes minutes)..." >&2
start=$(date +%s)
export GOTOOLCHAIN=$toolchain GOFLAGS=-mod=mod
# `go mod download -json` names the folder of the module's source in the module cache.
(cd "$work" && go mod download -json "github.com/thanos-io/thanos@v$version") >"$work/download.json" 2>"$work/download.log" || {
  echo "downloading thanos $version failed:" >&2
  tail -n 40 "$work/download.log" >&2
  exit 1
}
source_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$work/download.json")
[ -d "$source_dir" ] || { echo "the module cache has no source for thanos $version" >&2; cat "$work/download.json" >&2; exit 1; }
cp -r "$source_dir" "$work/src"
chmod -R u+w "$work/src"
# Build with the tags of its release builds (.promu.yml: netgo, slicelabels): without slicelabels,
# Query panics decoding the label sets its stores announce.
tags=$(sed -n '/^  tags:/,/^  [a-z]/s/^      - \(.*\)$/\1/p' "$work/src/.promu.yml" | paste -sd, -)
[ -n "$tags" ] || { echo "no build tags found in thanos' .promu.yml" >&2; exit 1; }
package=github.com/prometheus/common/version
(cd "$work/src" && go build -tags "$tags" -o "$work/thanos" \
  -ldflags "-X $package.Version=$version -X $package.Revision=v$version -X $package.Branch=v$version" \
  ./cmd/thanos) >"$work/build.log" 2>&1 || {
  echo "building thanos $version failed:" >&2
  tail -n 40 "$work/build.log" >&2
  exit 1
}
"$work/thanos" --version 2>&1 | grep -q "version $version" || {
  echo "the built thanos does not say version $version:" >&2
  "$work/thanos" --version >&2
  exit 1
}
mkdir -p "$folder"
cp "$work/thanos" "$folder/.thanos.partial" && mv "$folder/.thanos.partial" "$folder/thanos"
echo "built thanos $version in $(( $(date +%s) - start ))s" >&2
echo "$folder/thanos"
