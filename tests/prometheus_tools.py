"""Where the real Prometheus tools come from, in one place (tests, the fuzz harness and the benches).

- promtool 2.x: Debian's package (`PROMTOOL`, or `promtool` on PATH).
- promtool 3.x and the 3.x server: built at the pinned version by scripts/build-prometheus3.sh,
  cached by version (`PROMTOOL3` / `PROMETHEUS` override them).

The live tests (dashboards, scenarios, backfill) and the eval-cost bench run on the 3.x server;
`PROMETHEUS=/usr/bin/prometheus` runs them on 2.x instead. Nothing here depends on pytest: a
missing tool comes back as (None, why) and each caller fails with that message.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "scripts" / "build-prometheus3.sh"

PROMTOOL_HELP = ("promtool is not installed: run `make test` (it runs scripts/install-prometheus-tools.sh) "
                 "or `apt-get install prometheus`")
BUILD_HELP = ("scripts/build-prometheus3.sh builds it with go install from the Go module proxy "
              "(`make prometheus3`; Debian: apt-get install golang)")


def pinned_prometheus3() -> str:
    """The 3.x version the project pins (scripts/build-prometheus3.sh owns it; KFM_PROMETHEUS3_VERSION overrides)."""
    found = re.search(r"KFM_PROMETHEUS3_VERSION:-([0-9.]+)", BUILD_SCRIPT.read_text())
    assert found, f"{BUILD_SCRIPT} no longer names its pinned version"
    return os.environ.get("KFM_PROMETHEUS3_VERSION") or found.group(1)


def find_promtool2() -> tuple[str | None, str]:
    """Debian's promtool (2.x), or why not."""
    path = os.environ.get("PROMTOOL") or shutil.which("promtool")
    return (path, "") if path else (None, PROMTOOL_HELP)


def find_prometheus2() -> tuple[str | None, str]:
    """Debian's Prometheus 2.x server (`PROMETHEUS2`, or `prometheus` on PATH), or why not."""
    path = os.environ.get("PROMETHEUS2") or shutil.which("prometheus")
    return (path, "") if path else (None, PROMTOOL_HELP.replace("promtool is", "the prometheus server is"))


def build_prometheus3(tool: str) -> tuple[str | None, str]:
    """The pinned 3.x `promtool` or `prometheus` (built once, then cached), or why not."""
    override = os.environ.get("PROMTOOL3" if tool == "promtool" else "PROMETHEUS")
    if override:
        return (override, "") if os.access(override, os.X_OK) else (None, f"{override} is not executable")
    result = subprocess.run([str(BUILD_SCRIPT), tool], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        return None, f"Prometheus 3's {tool} could not be built ({BUILD_HELP}):\n{result.stderr[-3000:]}"
    path = Path(lines[-1]) / tool
    if not os.access(path, os.X_OK):
        return None, f"{path} is missing after the build ({BUILD_HELP})"
    return str(path), ""


def version_of(binary: str) -> str:
    """'3.16.0' from `binary --version` (promtool and prometheus print the same first line)."""
    result = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    found = re.search(r"version (\S+)", result.stdout + result.stderr)
    return found.group(1) if found else "?"
