#!/usr/bin/env bash
# Install (or reuse) kubeconform, the Kubernetes manifest validator, built with `go install` from
# the Go module proxy and cached outside the repository, keyed by version. The last line printed
# is the binary's path. `--path` prints that path without installing anything.
# The tests validate against the schemas committed in schemas/ only (scripts/extract-schemas.py).
set -euo pipefail

version=v0.8.0
cache=${KFM_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/kfm-observability}/kubeconform-$version
binary="$cache/kubeconform"

if [ "${1:-}" = "--path" ]; then
  echo "$binary"
  exit 0
fi
if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "Go is missing: kubeconform $version is installed with" >&2
  echo "  go install github.com/yannh/kubeconform/cmd/kubeconform@$version" >&2
  echo "Install Go (Debian: apt-get install golang) and run make test again." >&2
  exit 1
fi

echo "installing kubeconform $version (go install)..." >&2
mkdir -p "$(dirname "$cache")"
work=$(mktemp -d "$(dirname "$cache")/.kubeconform-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
# Outside any module (GOWORK off) so that nothing in the working directory changes the build.
(cd "$work" && GOWORK=off GOBIN="$work/bin" go install "github.com/yannh/kubeconform/cmd/kubeconform@$version") >&2 || {
  echo "go install github.com/yannh/kubeconform/cmd/kubeconform@$version failed (output above)" >&2
  exit 1
}
"$work/bin/kubeconform" -v >/dev/null 2>&1 || { echo "the installed kubeconform does not run" >&2; exit 1; }
mkdir -p "$cache"
mv "$work/bin/kubeconform" "$binary.tmp"
mv "$binary.tmp" "$binary"
echo "installed in $(( $(date +%s) - start ))s" >&2
echo "$binary"
