#!/usr/bin/env bash
# Install Sloth v0.16.0 (the peer the benchmark compares with) into the bench cache.
set -euo pipefail
cache=${KFM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kfm-observability}/sloth-v0.16.0
if [ ! -x "$cache/sloth" ]; then
  command -v go >/dev/null || { echo "Go is needed to install Sloth" >&2; exit 1; }
  GOBIN="$cache" go install github.com/slok/sloth/cmd/sloth@v0.16.0 >&2
fi
echo "$cache/sloth"
