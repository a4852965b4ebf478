"""Side by side with Sloth (the peer): the same event SLOs, compiled by both, in one run.

For N availability SLOs (one per route), prints the rules each tool writes,
how many of them read raw series (the expensive kind: every one re-reads the
source counters over its window), the longest raw window, and
`promtool check rules` time on each output. Sloth is installed with
`go install github.com/slok/sloth/cmd/sloth@v0.16.0` into the bench cache
(scripts/install-sloth.sh); this is a benchmark, not part of `make test`.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import conventions as c  # noqa: E402
from generator.writer import yamlout  # noqa: E402
from generator.prometheus.rules import slo_groups  # noqa: E402
from generator.model.kinds.events_ratio import EventsRatio  # noqa: E402
from generator.model.slo import SLO  # noqa: E402

SIZES = (10, 100)
METRIC = c.HTTP_SERVER_DURATION + "_count"
RAW = re.compile(r"\b(" + "|".join(map(re.escape, [METRIC])) + r")\b.*?\[(\w+)\]")


def ours(count: int) -> str:
    groups = []
    for i in range(count):
        route = f"/v1/route-{i:04d}"
        slo = SLO(name=f"route-{i:04d}-availability", service="governed-api", owner="governance",
                  description="d", objective=0.999, runbook="https://r",
                  sli=EventsRatio(total=f'{METRIC}{{http_route="{route}"}}',
                                  bad=f'{METRIC}{{http_route="{route}", http_response_status_code=~"5.."}}'))
        groups += slo_groups(slo)[0]
    return yamlout.dump({"groups": groups})


def sloth_spec(count: int) -> str:
    slos = []
    for i in range(count):
        route = f"/v1/route-{i:04d}"
        slos.append({
            "name": f"route-{i:04d}-availability", "objective": 99.9, "description": "d",
            "sli": {"events": {
                "error_query": f'sum(rate({METRIC}{{http_route="{route}",http_response_status_code=~"5.."}}[{{{{.window}}}}]))',
                "total_query": f'sum(rate({METRIC}{{http_route="{route}"}}[{{{{.window}}}}]))'}},
            "alerting": {"name": f"Route{i:04d}Availability", "page_alert": {"labels": {"severity": "page"}},
                         "ticket_alert": {"labels": {"severity": "ticket"}}},
        })
    return yaml.safe_dump({"version": "prometheus/v1", "service": "governed-api", "slos": slos})


def stats(rules_text: str) -> tuple[int, int, int, str]:
    rules = [r for g in yaml.safe_load(rules_text)["groups"] for r in g["rules"]]
    raw = [RAW.findall(r["expr"]) for r in rules if "record" in r]
    raw = [found for found in raw if found]
    windows = {w for found in raw for _, w in found}
    longest = max(windows, key=_seconds) if windows else "-"
    return len(rules), sum(1 for r in rules if "alert" in r), len(raw), longest


def _seconds(window: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhdw])", window))


def check_time(promtool: str, text: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.yaml"
        path.write_text(text)
        start = time.perf_counter()
        result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(result.stdout + result.stderr)
        return time.perf_counter() - start


def main() -> int:
    sloth = shutil.which("sloth") or str(Path.home() / ".cache/kfm-observability/sloth-v0.16.0/sloth")
    promtool = shutil.which("promtool")
    if not Path(sloth).exists() or not promtool:
        print("needs sloth (scripts/install-sloth.sh) and promtool (make test)", file=sys.stderr)
        return 1
    print(f"{'SLOs':>5} {'tool':>6} {'rules':>6} {'alerts':>6} {'raw-scan rules':>14} {'longest raw window':>18} "
          f"{'check s':>8}")
    for count in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            spec, out = Path(folder) / "spec.yaml", Path(folder) / "sloth.yaml"
            spec.write_text(sloth_spec(count))
            result = subprocess.run([sloth, "generate", "-i", str(spec), "-o", str(out)], capture_output=True,
                                    text=True)
            if result.returncode != 0:
                print(result.stderr, file=sys.stderr)
                return 1
            theirs = out.read_text()
        for tool, text in (("kfm", ours(count)), ("sloth", theirs)):
            rules, alerts, raw, longest = stats(text)
            print(f"{count:>5} {tool:>6} {rules:>6} {alerts:>6} {raw:>14} {longest:>18} "
                  f"{check_time(promtool, text):>8.3f}")
    print("\nraw-scan rules re-read the source counters over their window at every evaluation; kfm reads them"
          "\nonly over 5m and stages every longer window (and the 30d period, traffic-weighted) on recordings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
