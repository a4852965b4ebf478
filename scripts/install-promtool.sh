#!/usr/bin/env bash
# Make sure promtool and the Prometheus server (for the live checks) are installed.
# Source: Debian's `prometheus` package, which ships both binaries.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "promtool or prometheus is missing. Install Debian's prometheus package as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends prometheus" >&2
  exit 1
fi

echo "installing promtool (Debian package prometheus)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
for tool in promtool prometheus; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool still missing after apt-get install prometheus" >&2; exit 1; }
done
promtool --version | head -n 1 >&2
