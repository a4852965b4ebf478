#!/usr/bin/env bash
# Build (or reuse) Prometheus 3's promtool and server from the Go module proxy at one pinned
# version, cached outside the repository keyed by that version; the last line printed is the
# folder holding both binaries. Prometheus 3.x is tagged v0.3XX.Y as a Go module (3.16.0 = v0.316.0).
set -euo pipefail
cd "$(dirname "$0")/.."

version=${KFM_PROMETHEUS3_VERSION:-3.16.0}
IFS=. read -r major minor patch <<<"$version"
[ "$major" = 3 ] || { echo "KFM_PROMETHEUS3_VERSION=$version is not a 3.x release" >&2; exit 1; }
module_version=$(printf 'v0.3%02d.%d' "$minor" "$patch")

cache=${KFM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kfm-observability}
folder="$cache/prometheus-v$version"
if [ -x "$folder/promtool" ] && [ -x "$folder/prometheus" ]; then
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
echo "building promtool and prometheus $version ($module_version; the first build takes minutes)..." >&2
start=$(date +%s)
for tool in promtool prometheus; do
  # go install sets no version: stamp it where `--version` and the build info read it.
  GOBIN="$work/bin" go install -ldflags "-X github.com/prometheus/common/version.Version=$version" \
    "github.com/prometheus/prometheus/cmd/$tool@$module_version" >"$work/$tool.log" 2>&1 || {
    echo "building $tool $version failed:" >&2
    tail -n 40 "$work/$tool.log" >&2
    exit 1
  }
done
"$work/bin/promtool" --version 2>&1 | grep -q "version $version" || {
  echo "the built promtool does not say version $version:" >&2
  "$work/bin/promtool" --version >&2
  exit 1
}
mkdir -p "$folder.partial"
mv "$work/bin/promtool" "$work/bin/prometheus" "$folder.partial/"
rm -rf "$folder" && mv "$folder.partial" "$folder"
echo "built Prometheus $version in $(( $(date +%s) - start ))s" >&2
echo "$folder"
