"""Tool speed, side by side with Sloth in one run.

- rules of N availability SLOs: kfm's rule generation in-process (the SLOs' groups dumped to YAML)
  against a whole `sloth generate` process on the same SLOs (bench/sloth_side_by_side.py's specs);
- a full `render` (rules, generated tests, dashboards, runbooks, overlays, and the real tools'
  verify step before the write) of the project with N more SLOs, as a user runs it;
- `make render` of the project itself.

Each figure is the median of --repeats runs; the full render's runs are printed too (its time
varies by seconds with what the file system is doing: creating 7,000 files right after a large
tree was deleted is slow, so each run waits for the last one's project to be deleted: `settle`). Sloth v0.16.0 comes from
scripts/install-sloth.sh.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sloth_side_by_side import METRIC, ours, sloth_spec  # noqa: E402

from generator.prometheus.rules import slo_groups  # noqa: E402
from generator.writer import yamlout  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")


def _median_time(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sloth_generate_time(sloth: str, count: int, repeats: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        spec, out = Path(folder) / "spec.yaml", Path(folder) / "sloth.yaml"
        spec.write_text(sloth_spec(count))

        def run() -> None:
            subprocess.run([sloth, "generate", "-i", str(spec), "-o", str(out)], check=True, capture_output=True)
        return _median_time(run, repeats)


def extra_slos(count: int, objectives: int) -> str:
    """A definitions file of `count` availability SLOs, one per route, over `objectives` distinct objectives."""
    lines = ["from generator import SLO, EventsRatio", "", f"METRIC = {METRIC!r}", "SLOS = ["]
    for i in range(count):
        route = f"/v1/route-{i:04d}"
        objective = ("0.999", "0.995", "0.99", "0.9995", "0.998")[i % objectives]
        lines.append(
            f"    SLO(name='route-{i:04d}-availability', service='governed-api', owner='governance', "
            f"description='Route {route} answers without a server error.', objective={objective}, "
            f"runbook='- Check the route.\\n', "
            f"sli=EventsRatio(total=METRIC + '{{http_route=\"{route}\"}}', "
            f"bad=METRIC + '{{http_route=\"{route}\", http_response_status_code=~\"5..\"}}')),")
    return "\n".join(lines + ["]", ""])


def render_time(count: int, objectives: int) -> tuple[float, int]:
    """Seconds of `python -m generator render` on a copy of the project with `count` more SLOs; files."""
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        for name in ("slo", "alerts", "dashboards", "telemetry"):
            shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        (project / "slo" / "bench_routes.py").write_text(extra_slos(count, objectives))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        result = subprocess.run([PYTHON, "-m", "generator", "render", "--root", str(project)], env=env,
                                capture_output=True, text=True)
        took = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(result.stdout[-2000:] + result.stderr[-2000:])
        return took, sum(1 for p in (project / "out").rglob("*") if p.is_file())


SETTLE_SECONDS = 15


def settle() -> None:
    """Let the file system finish deleting the last run's project (127 MB in 7,177 files) before the next
    run: run back to back, the next render pays for it (13.2, 14.9, 16.6, 16.1, 16.0 s in one series;
    13.7, 13.5, 13.8, 14.3 s with this pause, on the same host minutes later)."""
    os.sync()
    time.sleep(SETTLE_SECONDS)


def project_render_time(repeats: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run() -> None:
        subprocess.run([PYTHON, "-m", "generator", "render"], cwd=ROOT, env=env, check=True, capture_output=True)
    return _median_time(run, repeats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--objectives", type=int, default=5, help="distinct objectives among the extra SLOs")
    args = parser.parse_args()
    sloth = shutil.which("sloth") or str(Path.home() / ".cache/kfm-observability/sloth-v0.16.0/sloth")
    if not Path(sloth).exists():
        print("needs sloth: scripts/install-sloth.sh", file=sys.stderr)
        return 1
    n = args.slos

    def kfm_rules_once() -> None:
        slo_groups.cache_clear()   # every run computes from scratch, as one generator process does
        yamlout.cache_clear()
        ours(n)
    kfm_rules = _median_time(kfm_rules_once, args.repeats)
    sloth_rules = sloth_generate_time(sloth, n, args.repeats)
    renders = []
    for _ in range(args.repeats):
        renders.append(render_time(n, args.objectives))
        settle()
    full, files = statistics.median([took for took, _ in renders]), renders[0][1]
    own = project_render_time(args.repeats)
    print(f"{'measure':<58} {'kfm s':>8} {'sloth s':>8} {'kfm/sloth':>9}")
    print(f"{f'rules of {n} availability SLOs (kfm in-process, sloth generate)':<58} "
          f"{kfm_rules:>8.2f} {sloth_rules:>8.2f} {kfm_rules / sloth_rules:>9.2f}")
    print(f"{f'full render, project + {n} SLOs ({args.objectives} objectives, {files} files)':<58} "
          f"{full:>8.2f} {'-':>8} {'-':>9}")
    print(f"{'  (each run: ' + ', '.join(f'{took:.2f}' for took, _ in renders) + ')':<58}")
    print(f"{'make render of the project':<58} {own:>8.2f} {'-':>8} {'-':>9}")
    print("\ntargets (issue 14): rules <= 1.5x sloth generate; full render of 1,000 SLOs < 15 s; make render < 3 s."
          "\nThe full render includes the generated promtool tests of every SLO and the verify step (promtool"
          "\ncheck rules and the collector's validate on the rendered text) that precedes every write.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
