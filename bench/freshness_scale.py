"""Freshness at scale: what 10, 100, 1,000 and 10,000 datasets cost in rules.

For each catalogue size, renders one freshness SLO (rules and generated
tests) and reports, measured side by side in this one run:
  - render time (median of several runs, every cache cleared before each),
  - recording rules that scan raw series, constant rules, staged rules, alerts,
  - its PrometheusRule objects and the largest one's size (Kubernetes refuses an object over 1 MiB),
  - `promtool check rules` time on the rendered rule file (the real parser).
The "per-dataset SLOs" column is arithmetic, not a measurement: the rule count
if every dataset were its own SLO (no sharing by dataset).
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.writer import yamlout  # noqa: E402
from generator.prometheus.rules import slo_groups  # noqa: E402
from generator.model.kinds.freshness import DatasetMaxAge, Freshness  # noqa: E402
from generator.model.slo import SLO  # noqa: E402
from generator.prometheus.testgen import test_file, test_subject  # noqa: E402
from generator.prometheus.backend import _units  # noqa: E402
from generator.kubernetes import gitops  # noqa: E402
from generator.kubernetes.backend import _parts  # noqa: E402
from generator.model.kinds.events import simulated_scenario  # noqa: E402

SIZES = (10, 100, 1000, 10000)
CADENCES = (("hourly", "2h"), ("daily", "26h"), ("weekly", "8d"))
REPEATS = 5


def freshness_slo(count: int) -> SLO:
    datasets = tuple(DatasetMaxAge(f"dataset-{i:04d}", CADENCES[i % 3][1], CADENCES[i % 3][0])
                     for i in range(count))
    return SLO(name="dataset-freshness", service="data-pipelines", owner="data-platform",
               description="Datasets stay fresher than their maximum age.", objective=0.99,
               sli=Freshness(datasets=datasets), runbook="https://runbooks.kfm.example/slo/dataset-freshness")


def render_once(slo: SLO) -> tuple[str, str]:
    """The SLO's rule file and its generated tests, from scratch (as one generator process does)."""
    slo_groups.cache_clear()
    simulated_scenario.cache_clear()
    groups, _ = slo_groups(slo)
    rules = yamlout.dump({"groups": groups})
    subject, _ = test_subject(slo)
    tests, _ = test_file("rules.yaml", subject)
    return rules, yamlout.dump(tests)


def rule_objects(slo: SLO) -> list[int]:
    """Bytes of each PrometheusRule object the Kubernetes backend writes for the SLO's service."""
    return [len(yamlout.dump(gitops.prometheus_rule("kfm-slo-x", slo.service, groups, "0" * 64)))
            for groups in _parts(_units(slo))]


def main() -> int:
    promtool = shutil.which("promtool")
    if not promtool:
        print("promtool is missing: run `make test` once, or apt-get install prometheus", file=sys.stderr)
        return 1
    one = freshness_slo(1)
    _, single = slo_groups(one)
    per_dataset_rules = single.raw + single.constant + single.staged + single.alerts
    print(f"{'datasets':>8} {'render s':>9} {'raw-scan':>8} {'constant':>8} {'staged':>6} {'alerts':>6} "
          f"{'total':>6} {'groups':>6} {'objects':>7} {'largest MiB':>11} {'check s':>8} {'per-dataset SLOs':>16}")
    for size in SIZES:
        slo = freshness_slo(size)
        timings = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            rules, _ = render_once(slo)
            timings.append(time.perf_counter() - start)
        _, counts = slo_groups(slo)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "rules.yaml"
            path.write_text(rules)
            start = time.perf_counter()
            result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
            check = time.perf_counter() - start
            if result.returncode != 0:
                print(result.stdout + result.stderr, file=sys.stderr)
                return 1
        total = counts.raw + counts.constant + counts.staged + counts.alerts
        objects = rule_objects(slo)
        print(f"{size:>8} {statistics.median(timings):>9.3f} {counts.raw:>8} {counts.constant:>8} "
              f"{counts.staged:>6} {counts.alerts:>6} {total:>6} {len(slo_groups(slo)[0]):>6} {len(objects):>7} "
              f"{max(objects) / 1048576:>11.3f} {check:>8.3f} {per_dataset_rules * size:>16}")
    print("\nraw-scan: recording rules that read raw series (the expensive kind); constant: vector() "
          "rules (one max age per dataset, objective, budget);\nstaged: rules on recordings only; "
          "per-dataset SLOs: rules if each dataset were its own SLO (computed, not measured).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
