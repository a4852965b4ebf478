#!/usr/bin/env bash
# Build (or reuse) Prometheus 3's promtool (and, when asked, the server) from the Go module proxy at
# one pinned version, cached outside the repository keyed by that version; the last line printed is
# the folder holding the binaries. Prometheus 3.x is tagged v0.3XX.Y as a Go module (3.16.0 =
# v0.316.0). Usage: build-prometheus3.sh [promtool] [prometheus]   (default: promtool)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${KFM_PROMETHEUS3_VERSION:-3.16.0}
IFS=. read -r major minor patch <<<"$version"
[ "$major" = 3 ] || { echo "KFM_PROMETHEUS3_VERSION=$version is not a 3.x release" >&2; exit 1; }
module_version=$(printf 'v0.3%02d.%d' "$minor" "$patch")

cache=${KFM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kfm-observability}
folder="$cache/prometheus-v$version"
tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(promtool)
missing=()
for tool in "${tools[@]}"; do
  case "$tool" in promtool|prometheus) ;; *) echo "unknown tool $tool (promtool or prometheus)" >&2; exit 2 ;; esac
  [ -x "$folder/$tool" ] || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "$folder"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go is missing: Prometheus $version is built with go install from the module proxy." >&2
  echo "Install Go (Debian: apt-get install golang) and run make test again." >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building ${missing[*]} $version ($module_version; the first build takes minutes)..." >&2
start=$(date +%s)
for tool in "${missing[@]}"; do
  # go install sets no version: stamp it where `--version` and the build info read it.
  GOBIN="$work/bin" go install -ldflags "-X github.com/prometheus/common/version.Version=$version" \
    "github.com/prometheus/prometheus/cmd/$tool@$module_version" >"$work/$tool.log" 2>&1 || {
    echo "building $tool $version failed:" >&2
    tail -n 40 "$work/$tool.log" >&2
    exit 1
  }
done
for tool in "${missing[@]}"; do
  "$work/bin/$tool" --version 2>&1 | grep -q "version $version" || {
    echo "the built $tool does not say version $version:" >&2
    "$work/bin/$tool" --version >&2
    exit 1
  }
done
mkdir -p "$folder"
for tool in "${missing[@]}"; do  # a rename within one filesystem: never a half-written binary
  cp "$work/bin/$tool" "$folder/.$tool.partial" && mv "$folder/.$tool.partial" "$folder/$tool"
done
echo "built ${missing[*]} $version in $(( $(date +%s) - start ))s" >&2
echo "$folder"
