#!/usr/bin/env bash
# Make sure promtool and the Prometheus server (for the live checks) and amtool are installed.
# Source: Debian's `prometheus` package (promtool, prometheus) and `prometheus-alertmanager` (amtool).
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 \
    && command -v amtool >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "promtool, prometheus or amtool is missing. Install Debian's packages as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends prometheus prometheus-alertmanager" >&2
  exit 1
fi

echo "installing promtool, prometheus and amtool (Debian packages)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
for tool in promtool prometheus amtool; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool still missing after apt-get install" >&2; exit 1; }
done
promtool --version | head -n 1 >&2
