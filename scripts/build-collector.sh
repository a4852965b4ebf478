#!/usr/bin/env bash
# Build (or reuse) the KFM OpenTelemetry Collector with the OpenTelemetry Collector Builder,
# from the manifest the generator writes (out/otel/builder-config.yaml: exactly the components
# the configs use, one pinned release). The binary is cached outside the repository, keyed by
# the manifest's hash; the last line printed is its path.
set -euo pipefail
cd "$(dirname "$0")/.."

manifest=out/otel/builder-config.yaml
[ -f "$manifest" ] || { echo "missing $manifest: run make render first" >&2; exit 1; }
if ! command -v go >/dev/null 2>&1; then
  echo "Go is missing: the collector is built with the OpenTelemetry Collector Builder (go install)." >&2
  echo "Install Go (Debian: apt-get install golang) and run make test again." >&2
  exit 1
fi

version=$(sed -n 's/^  version: \([0-9.]*\)-kfm$/\1/p' "$manifest")
[ -n "$version" ] || { echo "no collector version in $manifest" >&2; exit 1; }
cache=${KFM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kfm-observability}
key=$(grep -v '^#' "$manifest" | sha256sum | cut -c1-16)
binary="$cache/otelcol-v$version-$key/kfm-otelcol"
if [ -x "$binary" ]; then
  # What it was built from, so a render of other definitions can find a binary that holds its components.
  [ -f "$(dirname "$binary")/builder-config.yaml" ] || cp "$manifest" "$(dirname "$binary")/builder-config.yaml"
  echo "$binary"
  exit 0
fi

builder="$cache/builder-v$version/builder"
if [ ! -x "$builder" ]; then
  echo "installing the OpenTelemetry Collector Builder v$version..." >&2
  GOBIN="$cache/builder-v$version" go install "go.opentelemetry.io/collector/cmd/builder@v$version" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s#^  output_path: .*#  output_path: $work/dist#" "$manifest" > "$work/builder-config.yaml"
echo "building kfm-otelcol v$version (first build takes minutes; later ones reuse $cache)..." >&2
start=$(date +%s)
"$builder" --config="$work/builder-config.yaml" >"$work/build.log" 2>&1 || {
  tail -n 40 "$work/build.log" >&2
  echo "collector build failed (log above)" >&2
  exit 1
}
mkdir -p "$(dirname "$binary")"
cp "$work/dist/kfm-otelcol" "$binary.tmp"
cp "$manifest" "$(dirname "$binary")/builder-config.yaml"
mv "$binary.tmp" "$binary"
echo "built in $(( $(date +%s) - start ))s" >&2
echo "$binary"
