"""Run the real promtool, several files at once (the machines have 2 cores)."""
from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def run(promtool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def run_tests_concurrently(promtool: str, files: list[Path]) -> dict[Path, subprocess.CompletedProcess]:
    workers = max(1, min(len(files), os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda f: run(promtool, "test", "rules", f.name, cwd=f.parent), files)
        return dict(zip(files, results))
