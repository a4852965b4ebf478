"""Rule-manager cost of the same SLOs, kfm vs Sloth, on two real Prometheus servers over live traffic.

A cross-check of bench/eval_cost.py on the real rule manager. eval_cost.py sends every rule
expression to the query API at the end of a month of history; that leaves out what the rule manager
pays per rule besides the query: appending the results to the TSDB head, staleness tracking of the
series a rule stops writing, alert state. Here:

1. Live synthetic traffic: one HTTP exporter per pod (`--pods P` targets on 127.0.0.1, served from
   this process) exposes `http_server_request_duration_seconds_count` for every route
   `/v1/route-NNNN` and status 200 / 404 / 500. The counters are a function of the wall clock:
   each route has its own steady request rate, 2% of it 404s and 0.05% of it 500s (half the 99.9%
   objective's budget, so no burn alert fires).
2. Two Prometheus 3 servers at the same time, scraping the same exporters every 15s: one loads
   kfm's rule groups for N availability SLOs (bench/sloth_side_by_side.py `ours`), the other Sloth
   v0.16.0's for the same SLOs (`sloth generate` on `sloth_spec`). Global evaluation interval 1m;
   kfm's budget groups keep their own 2m. The rule manager evaluates at the wall clock.
3. After a warm-up, every group's `prometheus_rule_group_last_duration_seconds` is sampled every
   15s for `--minutes M`, one value kept per evaluation (keyed by
   `prometheus_rule_group_last_evaluation_timestamp_seconds`); the median per group times its runs
   per hour (3600 / `prometheus_rule_group_interval_seconds`), summed over groups, is the
   rule-manager seconds per hour. Cross-checks over the same span: the growth of
   `prometheus_rule_group_duration_seconds_sum` (every evaluation of every group, no median) and of
   `process_cpu_seconds_total` (the whole server, including the same scraping on both), both per
   hour. A rule evaluation failure, a missed iteration, a group evaluated fewer than 3 times, a
   target down or a recording with no series fails the run.

What this does NOT measure: the traffic is only minutes old, so the 30d period and the 1d / 3d
windows read minutes of data, not a month. It measures the rule manager's per-rule overhead and the
cost of the short windows; the month-long reads are eval_cost.py's job. Both servers share the
machine (and its other load), so durations are wall time under the same contention.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Iterable

import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, ROOT / "tests", BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from eval_cost import SLO_NAME, ratio, sloth_rules, table  # noqa: E402
from generator.model.durations import parse_duration  # noqa: E402
from freshness_live import serve_metrics  # noqa: E402
from prometheus_tools import build_prometheus3, version_of  # noqa: E402
from sloth_side_by_side import METRIC, ours  # noqa: E402
from tsdb_backfill import PrometheusOnData  # noqa: E402

SCRAPE_INTERVAL = "15s"
EVAL_INTERVAL = "1m"
SAMPLE_EVERY = 15            # seconds between readings of the servers' /metrics
MIN_EVALUATIONS = 3          # per group within the measured span, or the run fails
STATUS_SHARES = {"200": 0.9795, "404": 0.02, "500": 0.0005}  # 500 is both tools' bad event (=~"5..")
RECORDED = {"kfm": "kfm_slo:error_ratio:5m", "sloth": "slo:sli_error:ratio_rate5m"}  # one series per SLO


# ---------------------------------------------------------------- live traffic


class Traffic:
    """Request counters of every route and status as a function of the wall clock (steady rates)."""

    def __init__(self, routes: int):
        self.routes = routes
        self.started = time.time()

    @staticmethod
    def requests_per_second(route: int) -> float:
        return 2.0 + route % 7  # 2 to 8 requests a second per pod, route by route

    def exposition(self) -> bytes:
        elapsed = time.time() - self.started
        lines = [f"# TYPE {METRIC} counter\n"]
        for route in range(self.routes):
            total = self.requests_per_second(route) * elapsed
            for status, share in STATUS_SHARES.items():
                lines.append(f'{METRIC}{{http_route="/v1/route-{route:04d}",http_response_status_code="{status}"}} '
                             f"{total * share:.3f}\n")
        return "".join(lines).encode()


def start_exporter(traffic: Traffic) -> ThreadingHTTPServer:
    """One pod's /metrics on a free 127.0.0.1 port, served from a background thread."""
    return serve_metrics(traffic.exposition)[0]


# ---------------------------------------------------------------- readings


SAMPLE_LINE = re.compile(r"^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$", re.M)
RULE_GROUP = re.compile(r'rule_group="[^";]*;([^"]+)"')


class Metrics:
    """One reading of a server's /metrics: values by name, and by rule group for the per-group ones."""

    def __init__(self, text: str, at: float):
        self.at = at
        self.values: dict[str, dict[str, float]] = {}
        for name, labels, value in SAMPLE_LINE.findall(text):
            group = RULE_GROUP.search(labels or "")
            key = group.group(1) if group else (labels or "")
            self.values.setdefault(name, {})[key] = float(value)

    def total(self, name: str) -> float:
        return sum(self.values.get(name, {}).values())

    def by_group(self, name: str) -> dict[str, float]:
        return self.values.get(name, {})


# ---------------------------------------------------------------- servers


class ScrapingPrometheus(PrometheusOnData):
    """PrometheusOnData (tests/tsdb_backfill.py) on a fresh data directory, with rules and scrape targets."""

    def __init__(self, folder: Path, rule_file: Path, targets: list[str]):
        folder.mkdir(parents=True)
        super().__init__(folder, folder / "data")
        (folder / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": EVAL_INTERVAL},
            "rule_files": [str(rule_file)],
            "scrape_configs": [{"job_name": "governed-api", "static_configs": [{"targets": targets}]}]}))

    def metrics(self) -> Metrics:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=30) as response:
            return Metrics(response.read().decode(), time.time())

    def instant(self, expr: str) -> list[dict]:
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)["data"]["result"]


# ---------------------------------------------------------------- measurement


@dataclass
class Group:
    """One rule group of one server: each evaluation's duration, keyed by its evaluation timestamp."""

    name: str
    rules: int
    interval: float = 0.0
    durations: dict[float, float] = field(default_factory=dict)
    samples: dict[float, float] = field(default_factory=dict)   # samples written by that evaluation

    def record(self, reading: Metrics, since: float) -> None:
        evaluated = reading.by_group("prometheus_rule_group_last_evaluation_timestamp_seconds").get(self.name, 0)
        self.interval = reading.by_group("prometheus_rule_group_interval_seconds").get(self.name, 0.0)
        if evaluated >= since:
            self.durations[evaluated] = reading.by_group("prometheus_rule_group_last_duration_seconds")[self.name]
            self.samples[evaluated] = reading.by_group("prometheus_rule_group_last_evaluation_samples")[self.name]

    @property
    def median(self) -> float:
        return statistics.median(self.durations.values())

    @property
    def runs_per_hour(self) -> float:
        return 3600 / self.interval

    @property
    def written(self) -> float:
        return statistics.median(self.samples.values())


@dataclass
class Run:
    """What one server did over the measured span."""

    tool: str
    groups: list[Group]
    first: Metrics | None = None
    last: Metrics | None = None

    def per_hour(self, counter: str) -> float:
        assert self.first and self.last
        return (self.last.total(counter) - self.first.total(counter)) * 3600 / (self.last.at - self.first.at)

    @property
    def rule_manager_per_hour(self) -> float:
        return sum(g.median * g.runs_per_hour for g in self.groups)

    @property
    def written_per_hour(self) -> float:
        return sum(g.written * g.runs_per_hour for g in self.groups)


def groups_of(rules_text: str) -> list[Group]:
    return [Group(g["name"], len(g["rules"])) for g in yaml.safe_load(rules_text)["groups"]]


def observe(servers: dict[str, ScrapingPrometheus], runs: dict[str, Run], warmup: float, minutes: float) -> None:
    """Wait out the warm-up, then read every server every SAMPLE_EVERY seconds for `minutes`."""
    time.sleep(warmup)
    since = time.time()
    for tool, server in servers.items():
        runs[tool].first = server.metrics()
    deadline = since + minutes * 60
    while True:
        for tool, server in servers.items():
            reading = server.metrics()
            runs[tool].last = reading
            for group in runs[tool].groups:
                group.record(reading, since)
        if time.time() >= deadline:
            return
        time.sleep(min(SAMPLE_EVERY, max(0.0, deadline - time.time())))


# ---------------------------------------------------------------- checks


def problems(server: ScrapingPrometheus, run: Run, slos: int, pods: int) -> list[str]:
    """Why the run does not count: failures, missed iterations, too few evaluations, missing data."""
    assert run.last
    found = []
    failures = run.last.total("prometheus_rule_evaluation_failures_total")
    if failures:
        found.append(f"{run.tool}: {failures:.0f} rule evaluation failures")
    missed = run.last.total("prometheus_rule_group_iterations_missed_total")
    if missed:
        found.append(f"{run.tool}: {missed:.0f} missed group iterations")
    found += [f"{run.tool}: {g.name} evaluated {len(g.durations)} times in the measured span"
              for g in run.groups if len(g.durations) < MIN_EVALUATIONS]
    up = sum(float(r["value"][1]) for r in server.instant("up"))
    if up != pods:
        found.append(f"{run.tool}: {up:.0f} of {pods} targets up")
    series = len(server.instant(RECORDED[run.tool]))
    if series != slos:
        found.append(f"{run.tool}: {RECORDED[run.tool]} has {series} series, expected {slos}")
    return found


# ---------------------------------------------------------------- report


def kind_rows(run: Run) -> list[list[str]]:
    """The same group of every SLO (the SLO's name replaced by <slo>) added up, one row per kind."""
    kinds: dict[str, list[Group]] = {}
    for group in run.groups:
        kinds.setdefault(SLO_NAME.sub("<slo>", group.name), []).append(group)
    rows = []
    for name, groups in kinds.items():
        median_ms = sum(g.median for g in groups) * 1000
        per_hour = groups[0].runs_per_hour
        rows.append([run.tool, f"`{name}` x{len(groups)}", f"{groups[0].interval:g}s",
                     str(sum(g.rules for g in groups)), str(min(len(g.durations) for g in groups)),
                     f"{median_ms:.2f}", f"{per_hour:g}", f"{median_ms * per_hour / 1000:.3f}",
                     f"{sum(g.written for g in groups):,.0f}"])
    return rows


def report(runs: dict[str, Run], args: argparse.Namespace, binary: str) -> None:
    kfm, sloth = runs["kfm"], runs["sloth"]
    assert kfm.first and kfm.last
    span = (kfm.last.at - kfm.first.at) / 60
    print(f"# Rule-manager cost over live traffic: {args.slos} availability SLOs, {args.pods} pods x "
          f"{len(STATUS_SHARES)} statuses per route\n")
    print(f"Prometheus {version_of(binary)}, two servers at once, both scraping the same {args.pods} exporters "
          f"every {SCRAPE_INTERVAL}; global evaluation interval {EVAL_INTERVAL} (kfm's tiles and budget groups keep their own, 5m and 4m); "
          f"{args.warmup_minutes:g} min warm-up, then {span:.1f} min measured, /metrics read every "
          f"{SAMPLE_EVERY}s, one `prometheus_rule_group_last_duration_seconds` kept per evaluation. "
          f"The traffic is only minutes old: the 30d, 3d and 1d windows read minutes of data, so this is "
          f"the rule manager's per-rule overhead (writing results, staleness) and the short windows' cost, "
          f"not the month-long reads (`bench/eval_cost.py`).\n")
    header = ["tool", "group (x SLOs)", "interval", "rules", "evaluations measured (fewest of the groups)", "median ms / evaluation",
              "runs / h", "rule-manager s / h", "samples written / evaluation"]
    print(table(kind_rows(kfm) + kind_rows(sloth), header))

    lines = [
        ("rules (recording + alerting)", lambda r: sum(g.rules for g in r.groups), "{:,.0f}"),
        ("groups", lambda r: len(r.groups), "{:,.0f}"),
        ("evaluations measured (all groups)", lambda r: sum(len(g.durations) for g in r.groups), "{:,.0f}"),
        ("**rule-manager s / h** (median last duration x runs / h, summed over groups)",
         lambda r: r.rule_manager_per_hour, "{:.3f}"),
        ("rule-manager s / h, every evaluation (growth of `prometheus_rule_group_duration_seconds_sum`)",
         lambda r: r.per_hour("prometheus_rule_group_duration_seconds_sum"), "{:.3f}"),
        ("samples written / h (median per evaluation x runs / h)", lambda r: r.written_per_hour, "{:,.0f}"),
        ("process CPU-s / h (`process_cpu_seconds_total`, whole server, same scraping on both)",
         lambda r: r.per_hour("process_cpu_seconds_total"), "{:.1f}"),
        ("rule evaluation failures", lambda r: r.last.total("prometheus_rule_evaluation_failures_total"), "{:.0f}"),
    ]
    summary = []
    for label, what, fmt in lines:
        k, s = what(kfm), what(sloth)
        summary.append([label, fmt.format(k), fmt.format(s), ratio(k, s)])
    print()
    print(table(summary, ["", "kfm", "Sloth", "kfm / Sloth"]).replace("| --- | --- |", "| --- | ---: |", 1))


# ---------------------------------------------------------------- main


def stop_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C does: through the finally blocks that stop every server."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def measured_minutes(rule_texts: Iterable[str]) -> float:
    """Minutes for MIN_EVALUATIONS evaluations of the slowest group of any rule file, plus one."""
    slowest = max(parse_duration(group.get("interval", "1m")) for text in rule_texts
                  for group in yaml.safe_load(text)["groups"])
    return MIN_EVALUATIONS * slowest / 60 + 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=10, help="availability SLOs, one per route (default 10)")
    parser.add_argument("--pods", type=int, default=5, help="scrape targets, each serving every route (default 5)")
    parser.add_argument("--minutes", type=float, default=None,
                        help=f"measured minutes, after the warm-up (default: long enough for {MIN_EVALUATIONS} "
                             "evaluations of the slowest group, plus one minute: 16 with kfm's 5m tiles)")
    parser.add_argument("--warmup-minutes", type=float, default=2,
                        help="minutes of scraping and evaluation before the measurement starts (default 2)")
    args = parser.parse_args()
    stop_on_sigterm()
    binary, why = build_prometheus3("prometheus")
    if not binary:
        print(f"needs Prometheus 3's server (make prometheus3): {why}", file=sys.stderr)
        return 1
    os.environ["PROMETHEUS"] = binary  # the server PrometheusOnData starts
    exporters: list[ThreadingHTTPServer] = []
    servers: dict[str, ScrapingPrometheus] = {}
    with tempfile.TemporaryDirectory(prefix="kfm-rule-manager-") as work:
        folder = Path(work)
        texts = {"kfm": ours(args.slos), "sloth": sloth_rules(args.slos, folder)}  # fails closed without Sloth
        runs = {tool: Run(tool, groups_of(text)) for tool, text in texts.items()}
        try:
            traffic = Traffic(args.slos)
            exporters = [start_exporter(traffic) for _ in range(args.pods)]
            targets = [f"127.0.0.1:{e.server_address[1]}" for e in exporters]
            for tool, text in texts.items():
                rule_file = folder / f"{tool}.rules.yaml"
                rule_file.write_text(text)
                servers[tool] = ScrapingPrometheus(folder / f"server-{tool}", rule_file, targets)
                servers[tool].start()
            observe(servers, runs, args.warmup_minutes * 60, args.minutes or measured_minutes(texts.values()))
            found = [p for tool, server in servers.items() for p in problems(server, runs[tool], args.slos, args.pods)]
        finally:
            for server in servers.values():
                server.stop()
            for exporter in exporters:
                exporter.shutdown()
                exporter.server_close()
    if found:
        print("the run does not count:\n" + "\n".join(found), file=sys.stderr)
        return 1
    report(runs, args, binary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
