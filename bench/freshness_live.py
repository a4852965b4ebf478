"""10,000 datasets on one real Prometheus: the freshness rules of one SLO over 10,000 datasets, loaded
into the pinned Prometheus 3 server on 127.0.0.1, with 10,000 last-success gauges scraped from a local
exporter. Reports evaluation failures and each rule group's last duration against its interval
(`prometheus_rule_group_last_duration_seconds`, `prometheus_rule_group_interval_seconds`).

Groups and scrapes run every 15s here (the rendered expressions are untouched; the tiles' 5m and the
budget group's 4m intervals are shortened the same way), so a few evaluations happen within a minute. The
verdict is against each group's production interval (its own, or the global 1m); the share of the 15s
it ran at here is printed beside it.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from freshness_scale import freshness_slo  # noqa: E402
from live_prometheus import free_port, stop_process, wait_ready  # noqa: E402
from prometheus_tools import build_prometheus3  # noqa: E402

from generator import conventions as c  # noqa: E402
from generator.model.durations import parse_duration  # noqa: E402
from generator.prometheus.rules import slo_groups  # noqa: E402
from generator.writer import yamlout  # noqa: E402

INTERVAL = "15s"
PRODUCTION_INTERVAL = "1m"   # the global evaluation interval the alerting groups run at


def serve_metrics(exposition: Callable[[], bytes]) -> tuple[ThreadingHTTPServer, int]:
    """A /metrics endpoint on a free 127.0.0.1 port, served from a background thread: each scrape gets
    `exposition()` (the text exposition format)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = exposition()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


def exporter(count: int) -> tuple[ThreadingHTTPServer, int]:
    """Serves `count` last-success gauges, every dataset refreshed a minute ago."""
    def exposition() -> bytes:
        now = time.time() - 60
        return "".join(f'{c.DATASET_LAST_SUCCESS}{{dataset="dataset-{i:04d}"}} {now:.3f}\n'
                       for i in range(count)).encode()
    return serve_metrics(exposition)


def _query(port: int, expr: str) -> float:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=30) as response:
        result = json.load(response)["data"]["result"]
    return float(result[0]["value"][1]) if result else float("nan")


def metric_values(text: str, name: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        match = re.match(rf'{name}\{{(.*)\}} (\S+)$', line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=75, help="how long the server evaluates before the reading")
    args = parser.parse_args()
    binary, why = build_prometheus3("prometheus")
    if not binary:
        print(why, file=sys.stderr)
        return 1
    slo = freshness_slo(args.datasets)
    groups = slo_groups(slo)[0]
    # what each group runs at in production: its own interval, or the global 1m
    rendered = {g["name"]: parse_duration(g.get("interval", PRODUCTION_INTERVAL)) for g in groups}
    groups = [{**g, "interval": INTERVAL} if "interval" in g else g for g in groups]
    server, port = exporter(args.datasets)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "rules.yaml").write_text(yamlout.dump({"groups": groups}))
        (base / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": INTERVAL, "evaluation_interval": INTERVAL},
            "rule_files": [str(base / "rules.yaml")],
            "scrape_configs": [{"job_name": "pipelines", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}]}))
        web = free_port()
        log = base / "prometheus.log"
        with open(log, "w") as out:
            process = subprocess.Popen([binary, f"--config.file={base / 'prometheus.yml'}",
                                        f"--storage.tsdb.path={base / 'data'}", f"--web.listen-address=127.0.0.1:{web}"],
                                       stdout=out, stderr=subprocess.STDOUT)
            try:
                wait_ready(f"http://127.0.0.1:{web}", process, log, timeout=60)
                time.sleep(args.seconds)
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/metrics", timeout=30) as response:
                    text = response.read().decode()
                stale = _query(web, f"count({c.DATASET_STALE}) or vector(0)"), _query(web, f"sum({c.DATASET_STALE})")
            finally:
                stop_process(process)
                server.shutdown()
    failures = sum(metric_values(text, "prometheus_rule_evaluation_failures_total").values())
    evaluations = sum(metric_values(text, "prometheus_rule_evaluations_total").values())
    durations = metric_values(text, "prometheus_rule_group_last_duration_seconds")
    intervals = metric_values(text, "prometheus_rule_group_interval_seconds")
    print(f"{args.datasets} datasets, {len(groups)} groups, {sum(len(g['rules']) for g in groups)} rules; "
          f"rule evaluations {evaluations:.0f}, failures {failures:.0f}; datasets with a staleness series "
          f"{stale[0]:.0f}, of them stale {stale[1]:.0f}")
    print(f"{'group':<50} {'last duration s':>15} {'here s':>7} {'share':>7} {'production s':>12} {'share':>7}")
    worst = worst_here = 0.0
    for key in sorted(durations):
        name = re.search(r'rule_group="[^"]*;([^"]+)"', key)
        group = name.group(1) if name else key
        here = durations[key] / intervals.get(key, float("nan"))
        share = durations[key] / rendered[group]
        worst, worst_here = max(worst, share), max(worst_here, here)
        print(f"{group:<50} {durations[key]:>15.4f} {intervals.get(key, 0):>7.0f} {here:>7.2%} "
              f"{rendered[group]:>12} {share:>7.2%}")
    print(f"\nworst group: {worst:.2%} of its production interval (target: under 10%), {worst_here:.2%} of the "
          f"{INTERVAL} it ran at here; evaluation failures: {failures:.0f}")
    return 0 if failures == 0 and worst < 0.10 and stale == (args.datasets, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
